"""Collect returned workbooks into ``findings.csv``: validate every cell, lose nothing.

``collect(audit_dir, paths)`` (SPEC 5.2, docs/architecture.md "findings.csv"):

1. Files and folders are expanded to ``.xlsx`` files (Excel's ``~$`` lock files are skipped).
   A file already accepted (same SHA-256) is a no-op.
2. Each file is opened safely (:mod:`audit_kit.xlsx_safety`: size, zip and XML bombs,
   decryption), read with fastexcel, and checked against the audit folder's own record of the
   workbook (``workbooks/<id>.json``) and ``sample.csv`` -- never against the returned file's
   claims: the workbook belongs to this audit; every unit row is present once and no row is
   added (rows may be re-sorted); original data is unchanged (SHA-256 per row, the changed cell
   named); status values, codes (:mod:`audit_kit.codes`), amounts, categories, dates and coder
   responses are valid. Drop-down validations are not trusted: Excel does not apply them to
   pasted values.
3. Problems of *all* files are reported together in one :class:`WorkbookError`; if any file has
   a problem, nothing from any file of the run is accepted (the good files can be collected alone
   or with the fixed ones), and the audit folder is unchanged.
4. Accepted returns are merged: per unit, a newer return from the same auditor supersedes the
   older one (the event log lists each superseded unit); a unit re-issued in a later batch of
   workbooks takes the later auditor's findings; two auditors' findings for one unit are otherwise
   a conflict, except the planned double-review units, whose second review goes to
   ``double_review.csv``.
5. The returned files (``returned/<sha256>.xlsx``, as received, never overwritten),
   ``findings.csv`` and ``double_review.csv`` are written in one transaction with one event: an
   interrupted collect leaves the previous state intact.

Messages name file, sheet and cell, and never print original (PHI) data: a changed original
cell is reported as "changed". An auditor's own entries in finding cells may be shown.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from audit_kit.audit import AuditFolder, now_iso, sha256_bytes
from audit_kit.codes import CodeCheck, CodeKind, check_codes, join_codes, split_codes
from audit_kit.errors import AuditError, Problem, WorkbookError
from audit_kit.plan import SamplingPlan
from audit_kit.workbook import (
    CODER_RESPONSES,
    ERROR_CATEGORIES,
    FINDING_HEADERS,
    SHEET_SAMPLE,
    STATUSES,
    ReturnedSheet,
    UnitCodes,
    WorkbookLayout,
    canonical_value,
    code_reader,
    load_audit,
    load_layouts,
    prefilled,
    read_returned,
    row_digest,
)
from audit_kit.xlsx_safety import MAX_FILE_BYTES, open_xlsx

__all__ = [
    "FINDINGS_COLUMNS",
    "AuditorProgress",
    "CollectSummary",
    "FileResult",
    "collect",
]

FINDINGS_COLUMNS: tuple[str, ...] = (
    "unit_id",
    "workbook_id",
    "auditor",
    "review_status",
    "audited_principal_dx",
    "audited_other_dx",
    "audited_procedures",
    "audited_cpt",
    "audited_drg",
    "audited_amount",
    "error_category",
    "rationale",
    "reference",
    "review_date",
    "coder_response",
    "coder_comment",
    "source_sha256",
    "collected_at",
)
FINDINGS = "findings.csv"
DOUBLE_REVIEW = "double_review.csv"

_SCORED = ("reviewed", "record missing")
_CODE_CELLS: tuple[tuple[str, CodeKind, str], ...] = (
    ("Audited principal dx", "dx", "audited_principal_dx"),
    ("Audited other dx", "dx", "audited_other_dx"),
    ("Audited procedures", "px", "audited_procedures"),
    ("Audited CPT/HCPCS", "cpt", "audited_cpt"),
    ("Audited DRG", "drg", "audited_drg"),
)
_MAX_SHOWN = 60
_OLDEST_DATE = dt.date(2000, 1, 1)


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """What happened to one returned file."""

    path: str
    sha256: str
    status: Literal["accepted", "already collected", "duplicate", "nothing to collect"]
    workbook_id: str = ""
    auditor: str = ""
    units_returned: int = 0
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "status": self.status,
            "workbook_id": self.workbook_id,
            "auditor": self.auditor,
            "units_returned": self.units_returned,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditorProgress:
    """Progress of one auditor: of ``assigned`` sampled units, how many have which status."""

    auditor: str
    assigned: int
    reviewed: int
    record_missing: int
    not_reviewed: int

    @property
    def done(self) -> int:
        return self.reviewed + self.record_missing

    @property
    def pending(self) -> int:
        return self.assigned - self.done - self.not_reviewed

    def to_dict(self) -> dict[str, Any]:
        return {
            "auditor": self.auditor,
            "assigned": self.assigned,
            "reviewed": self.reviewed,
            "record_missing": self.record_missing,
            "not_reviewed": self.not_reviewed,
            "pending": self.pending,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectSummary:
    """The outcome of one ``collect``: files, progress, supersessions, and the next step."""

    audit_dir: Path
    files: tuple[FileResult, ...]
    progress: tuple[AuditorProgress, ...]
    findings: int
    double_review: int
    superseded: tuple[dict[str, str], ...]
    changed: bool
    next_step: str
    units_sampled: int
    units_done: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "audit_dir": str(self.audit_dir),
            "changed": self.changed,
            "files": [f.to_dict() for f in self.files],
            "progress": [p.to_dict() for p in self.progress],
            "units_sampled": self.units_sampled,
            "units_reviewed": self.units_done,
            "findings": self.findings,
            "double_review": self.double_review,
            "superseded": list(self.superseded),
            "next_step": self.next_step,
        }


# -- a parsed return ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Return:
    path: Path
    name: str
    order: int
    sha: str
    raw: bytes
    layout: WorkbookLayout
    modified: str
    records: dict[str, dict[str, str]] = field(default_factory=dict)  # unit -> findings row
    roles: dict[str, str] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _SampleRows(Mapping[str, Mapping[str, str | None]]):
    """sample.csv rows by unit id, each made into a dict only when asked for."""

    def __init__(self, sample: pl.DataFrame, unit_col: str) -> None:
        self._columns = {c: sample.get_column(c).to_list() for c in sample.columns}
        units = self._columns[unit_col]
        self._index = {u: i for i, u in enumerate(units)}
        self._rows: dict[str, dict[str, str | None]] = {}

    def __getitem__(self, unit: str) -> Mapping[str, str | None]:
        row = self._rows.get(unit)
        if row is None:
            i = self._index[unit]
            row = self._rows[unit] = {c: values[i] for c, values in self._columns.items()}
        return row

    def __contains__(self, unit: object) -> bool:
        return unit in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def collect(
    audit_dir: Path, paths: Sequence[Path], *, password: str | None = None
) -> CollectSummary:
    """Validate returned workbooks and merge them into findings.csv (see the module docstring)."""
    folder = AuditFolder.open(Path(audit_dir))
    plan, sample = load_audit(folder)
    layouts = load_layouts(folder)
    if not layouts:
        raise AuditError(
            "No workbooks have been issued for this audit.",
            [
                Problem(
                    where=str(folder.path / "workbooks"),
                    expected="workbooks written by `audit-kit workbooks`",
                    found="none",
                    fix="run `audit-kit workbooks AUDIT_DIR` and hand those out first.",
                )
            ],
        )
    unit_col = plan.columns.unit_id
    sample_rows = _SampleRows(sample, unit_col)
    read_codes = code_reader(plan)
    files, problems = _expand(paths, skip=folder.path)
    accepted_before = {
        rel.removeprefix("returned/").removesuffix(".xlsx")
        for rel in folder.artifacts()
        if rel.startswith("returned/")
    }
    modified_before = _modified_by_sha(folder)

    results: list[FileResult] = []
    returns: list[_Return] = []
    bad_files: set[str] = {p.where for p in problems}
    seen: dict[str, str] = {}
    for order, path in enumerate(files):
        name = str(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                bad_files.add(name)
                problems.append(
                    Problem(
                        where=name,
                        expected=f"a workbook of at most {MAX_FILE_BYTES // (1024 * 1024)} MB",
                        found=f"{size / (1024 * 1024):.1f} MB",
                        fix="return the audit workbook itself, without embedded attachments.",
                    )
                )
                continue
            raw = path.read_bytes()
        except OSError as exc:
            bad_files.add(name)
            problems.append(
                Problem(
                    where=name,
                    expected="a readable file",
                    found=type(exc).__name__,
                    fix="check the path and the file's permissions.",
                )
            )
            continue
        sha = sha256_bytes(raw)
        if sha in seen:
            results.append(FileResult(path=name, sha256=sha, status="duplicate"))
            continue
        seen[sha] = name
        if sha in accepted_before:
            results.append(FileResult(path=name, sha256=sha, status="already collected"))
            continue
        parsed, file_problems = _parse_file(
            raw,
            path=path,
            order=order,
            sha=sha,
            password=password,
            folder=folder,
            plan=plan,
            layouts=layouts,
            sample_rows=sample_rows,
            read_codes=read_codes,
        )
        problems.extend(file_problems)
        if file_problems:
            bad_files.add(name)
        elif parsed is not None and not parsed.records:
            results.append(
                FileResult(
                    path=name,
                    sha256=sha,
                    status="nothing to collect",
                    workbook_id=parsed.layout.workbook_id,
                    auditor=parsed.layout.auditor,
                )
            )
        elif parsed is not None:
            returns.append(parsed)

    if problems:
        raise WorkbookError(
            f"{len(problems)} problem(s) in {len(bad_files)} returned file(s); nothing was "
            "accepted from this run (fix the files named below and collect again; the other "
            "files may be collected with them).",
            problems,
        )

    existing = _read_findings(folder, FINDINGS)
    existing_double = _read_findings(folder, DOUBLE_REVIEW)
    returns.sort(key=lambda r: (r.modified or "~", r.order))
    superseded: list[dict[str, str]] = []
    conflicts: list[Problem] = []
    modified = dict(modified_before)
    for ret in returns:
        modified[ret.sha] = ret.modified
        for unit, record in ret.records.items():
            target = existing_double if ret.roles[unit] == "second" else existing
            _merge(
                target,
                unit,
                record,
                ret,
                layouts=layouts,
                modified=modified,
                superseded=superseded,
                conflicts=conflicts,
                double_review=ret.roles[unit] == "second",
            )
    if conflicts:
        raise WorkbookError(
            f"{len(conflicts)} unit(s) have findings from two auditors; nothing was accepted "
            "from this run.",
            conflicts,
        )

    stamp = now_iso()
    for ret in returns:
        for record in ret.records.values():
            if record["source_sha256"] == ret.sha and not record["collected_at"]:
                record["collected_at"] = stamp
    results.extend(
        FileResult(
            path=r.name,
            sha256=r.sha,
            status="accepted",
            workbook_id=r.layout.workbook_id,
            auditor=r.layout.auditor,
            units_returned=len(r.records),
            notes=tuple(r.notes),
        )
        for r in returns
    )
    position = {str(p): i for i, p in reversed(list(enumerate(files)))}
    results.sort(key=lambda f: position.get(f.path, 0))

    if returns:
        inputs: dict[str, str] = {}
        for r in returns:
            key, k = Path(r.name).name, 2
            while key in inputs:
                key, k = f"{Path(r.name).name} ({k})", k + 1
            inputs[key] = r.sha
        with folder.transaction(
            "collect",
            inputs=inputs,
            details={
                "files": [
                    {
                        "file": Path(r.name).name,
                        "sha256": r.sha,
                        "workbook_id": r.layout.workbook_id,
                        "auditor": r.layout.auditor,
                        "units_returned": len(r.records),
                        "modified": r.modified,
                        "encrypted": r.layout.encrypted,
                    }
                    for r in returns
                ],
                "superseded": superseded,
                "skipped": [
                    {"sha256": f.sha256, "status": f.status}
                    for f in results
                    if f.status != "accepted"
                ],
            },
        ) as tx:
            for ret in returns:
                tx.write_bytes(f"returned/{ret.sha}.xlsx", ret.raw, kind="returned")
            tx.write_csv(FINDINGS, _frame(existing, sample_order=list(sample_rows)))
            if existing_double or folder.has(DOUBLE_REVIEW):
                tx.write_csv(DOUBLE_REVIEW, _frame(existing_double, sample_order=list(sample_rows)))

    progress = _progress(layouts, existing, sample_rows)
    sampled = sum(p.assigned for p in progress)
    done = sum(p.done for p in progress)
    open_units = sum(p.pending for p in progress)
    if open_units:
        next_step = (
            f"{open_units} unit(s) still to review: collect again as workbooks come back "
            f"(`audit-kit collect {audit_dir} FILES`); `audit-kit score {audit_dir}` scores "
            "what is in so far."
        )
    else:
        next_step = f"every unit has a status: run `audit-kit score {audit_dir}`."
    return CollectSummary(
        audit_dir=Path(audit_dir),
        files=tuple(results),
        progress=tuple(progress),
        findings=len(existing),
        double_review=len(existing_double),
        superseded=tuple(superseded),
        changed=bool(returns),
        next_step=next_step,
        units_sampled=sampled,
        units_done=done,
    )


# -- inputs ------------------------------------------------------------------------------------


def _expand(paths: Iterable[Path], *, skip: Path) -> tuple[list[Path], list[Problem]]:
    """Expand folders to their .xlsx files (not Excel lock files, not the audit folder's own)."""
    files: list[Path] = []
    problems: list[Problem] = []
    own = skip.resolve()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                (
                    p
                    for p in path.rglob("*.xlsx")
                    if p.is_file()
                    and not p.name.startswith(("~$", "."))
                    and not p.resolve().is_relative_to(own)
                ),
                key=lambda p: p.parts,  # the order of Path objects, without their slow __lt__
            )
            if not found:
                problems.append(
                    Problem(
                        where=str(path),
                        expected="a folder with returned .xlsx workbooks",
                        found="no .xlsx files",
                        fix="pass the folder the auditors' workbooks were saved to.",
                    )
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(
                Problem(
                    where=str(path),
                    expected="a returned workbook or a folder of them",
                    found="no such file or folder",
                    fix="check the path.",
                )
            )
    return list(dict.fromkeys(files)), problems


def _modified_by_sha(folder: AuditFolder) -> dict[str, str]:
    out: dict[str, str] = {}
    for event in folder.events:
        if event.get("command") != "collect":
            continue
        for item in event.get("details", {}).get("files", []):
            out[str(item.get("sha256"))] = str(item.get("modified") or "")
    return out


def _parse_file(
    raw: bytes,
    *,
    path: Path,
    order: int,
    sha: str,
    password: str | None,
    folder: AuditFolder,
    plan: SamplingPlan,
    layouts: Mapping[str, WorkbookLayout],
    sample_rows: Mapping[str, Mapping[str, str | None]],
    read_codes: Callable[[Mapping[str, str | None]], UnitCodes],
) -> tuple[_Return | None, list[Problem]]:
    name = str(path)
    opened, problems = open_xlsx(raw, where=name, password=password)
    if opened is None:
        return None, problems
    sheet, problems = read_returned(opened.data, where=name)
    if sheet is None:
        return None, problems
    if sheet.meta.get("audit_id") != folder.audit_id:
        return None, [
            Problem(
                where=f"{name}, _audit",
                expected=f"a workbook of audit {folder.audit_id}",
                found=f"a workbook of audit {sheet.meta.get('audit_id') or '(none)'}",
                fix="collect it into the audit folder it was written for.",
            )
        ]
    layout = layouts.get(sheet.meta.get("workbook_id", ""))
    if layout is None:
        return None, [
            Problem(
                where=f"{name}, _audit",
                expected="a workbook issued by this audit",
                found=f"workbook id {sheet.meta.get('workbook_id') or '(none)'}",
                fix="return the workbook exactly as audit-kit wrote it.",
            )
        ]
    ret = _Return(
        path=path,
        name=name,
        order=order,
        sha=sha,
        raw=raw,
        layout=layout,
        modified=opened.modified,
    )
    return ret, _validate(ret, sheet, plan=plan, sample_rows=sample_rows, read_codes=read_codes)


# -- validating one return ---------------------------------------------------------------------


def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _shown(text: str) -> str:
    text = text.replace("\n", " ").replace("\r", " ")
    return repr(text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "...")


def _validate(
    ret: _Return,
    sheet: ReturnedSheet,
    *,
    plan: SamplingPlan,
    sample_rows: Mapping[str, Mapping[str, str | None]],
    read_codes: Callable[[Mapping[str, str | None]], UnitCodes],
) -> list[Problem]:
    layout = ret.layout
    name = ret.name
    problems: list[Problem] = []
    rows = sheet.rows
    header = [("" if h is None else str(h)).strip() for h in (rows[0] if rows else [])]
    originals = [c.header for c in layout.columns]
    required = [*originals, *FINDING_HEADERS]
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        if h in index and h in required:
            problems.append(
                Problem(
                    where=f"{name}, {SHEET_SAMPLE}!{_col_letter(i)}1",
                    expected=f"the column {h!r} once",
                    found="a second column with that header",
                    fix="delete the copied column.",
                )
            )
        index.setdefault(h, i)
    for h in required:
        if h not in index:
            problems.append(
                Problem(
                    where=f"{name}, {SHEET_SAMPLE}!1:1",
                    expected=f"a column headed {h!r}",
                    found="no such column (renamed or deleted)",
                    fix="restore the header exactly as written; macros and collection rely on it.",
                )
            )
    if not problems and index[originals[0]] != 0:
        problems.append(
            Problem(
                where=f"{name}, {SHEET_SAMPLE}!A1",
                expected=f"the unit id column {originals[0]!r} first",
                found=f"{_shown(header[0]) if header else 'nothing'}",
                fix="move the columns back to where they were.",
            )
        )
    if problems:
        return problems

    def ref(header_name: str, row: int) -> str:
        return f"{name}, {SHEET_SAMPLE}!{_col_letter(index[header_name])}{row}"

    units = {u["unit_id"]: u for u in layout.units}
    ret.digests = {u: str(v["row_sha256"]) for u, v in units.items()}
    seen_at: dict[str, int] = {}
    width = len(header)
    unit_at = index[originals[0]]
    originals_at = [(index[c.header], c.kind, c.kind == "text") for c in layout.columns]
    check = _RowCheck(ret, index, plan=plan, sample_rows=sample_rows, read_codes=read_codes)
    for i in range(1, len(rows)):
        row = rows[i]
        excel_row = i + 1
        cells = ["" if v is None else v for v in row]
        if len(cells) < width:
            cells.extend([""] * (width - len(cells)))
        if not "".join(cells).strip():
            continue
        unit = cells[unit_at]
        if unit not in units:
            problems.append(
                Problem(
                    where=ref(originals[0], excel_row),
                    expected="a unit id of this workbook",
                    found=f"unit {_shown(unit)}" if unit.strip() else "a row without a unit id",
                    fix="delete the added row (or undo the change to the unit id).",
                )
            )
            continue
        if unit in seen_at:
            problems.append(
                Problem(
                    where=ref(originals[0], excel_row),
                    expected="each unit once",
                    found=f"unit {unit} again (first in row {seen_at[unit]})",
                    fix="delete the duplicated row, keeping the one with your findings.",
                )
            )
            continue
        seen_at[unit] = excel_row
        found = [
            cells[at]
            if text and "\r" not in cells[at]
            else canonical_value(cells[at] or None, kind)
            for at, kind, text in originals_at
        ]
        if row_digest(found) != ret.digests[unit]:
            problems.extend(_changed_originals(ret, found, index, excel_row, unit, sample_rows))
        record, row_problems = check.row(cells, excel_row, unit)
        problems.extend(row_problems)
        if record is not None:
            ret.records[unit] = record
            ret.roles[unit] = str(units[unit]["role"])
    for unit in units:
        if unit not in seen_at:
            problems.append(
                Problem(
                    where=f"{name}, {SHEET_SAMPLE}, unit {unit}",
                    expected="a row for every unit of the workbook",
                    found="no row (deleted)",
                    fix="restore the row from the workbook you were given "
                    f"(workbook {layout.workbook_id}).",
                )
            )
    return problems


def _changed_originals(
    ret: _Return,
    found: Sequence[str],
    index: Mapping[str, int],
    excel_row: int,
    unit: str,
    sample_rows: Mapping[str, Mapping[str, str | None]],
) -> list[Problem]:
    """Name the original cells of a row whose digest does not match the one recorded at issue."""
    layout = ret.layout
    source = sample_rows.get(unit, {})
    problems = []
    for col, value in zip(layout.columns, found, strict=True):
        if canonical_value(source.get(col.header), col.kind) != value:
            problems.append(
                Problem(
                    where=f"{ret.name}, {SHEET_SAMPLE}!{_col_letter(index[col.header])}{excel_row}",
                    expected=f"the original {col.header} of unit {unit}, unchanged",
                    found="changed",
                    fix="undo the change: original columns are locked and must not be edited.",
                )
            )
    if not problems:
        problems.append(
            Problem(
                where=f"{ret.name}, {SHEET_SAMPLE} row {excel_row}",
                expected=f"the original data of unit {unit} (SHA-256 recorded at issue)",
                found="changed",
                fix="return the workbook audit-kit wrote, with only the finding columns filled.",
            )
        )
    return problems


def _parse_amount(text: str) -> float | None:
    cleaned = text.strip().replace(",", "").replace("$", "").replace(" ", "")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


@functools.lru_cache(maxsize=4096)
def _parse_date(text: str) -> dt.date | None:
    text = text.strip()
    head = text[:10]
    try:
        return dt.date.fromisoformat(head) if text[10:].strip() in ("", "00:00:00") else None
    except ValueError:
        pass
    for fmt in ("%m/%d/%Y", "%m/%d/%y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


@functools.lru_cache(maxsize=4096)
def _review_day(text: str) -> tuple[dt.date | None, str]:
    """A Review date cell read as a date and its ISO form (cached per distinct text)."""
    day = _parse_date(text)
    return day, "" if day is None else day.isoformat()


@functools.lru_cache(maxsize=4096)
def _choice(text: str) -> str:
    """A drop-down value as compared: lower case, runs of white space as one space."""
    return " ".join(text.lower().split())


@functools.lru_cache(maxsize=65536)
def _code_cell(text: str, kind: CodeKind, separator: str) -> tuple[CodeCheck, str]:
    """Check one code cell (cached per distinct text); return the check and the joined codes."""
    result = check_codes(text, kind, separator=separator)
    return result, join_codes(result.codes)


_STATUS_AT, _AMOUNT_AT = (
    FINDING_HEADERS.index("Review status"),
    FINDING_HEADERS.index("Audited amount"),
)


class _RowCheck:
    """Validate the finding cells of one return's rows; values are checked once per distinct text.

    Built once per returned file: the column positions, the plan's separator and basis, and the
    day the check runs are looked up once, not per row.
    """

    __slots__ = (
        "_at",
        "_basis",
        "_code_cells",
        "_latest",
        "_read_codes",
        "_record",
        "_ret",
        "_sample",
        "_sep",
        "_where",
    )

    def __init__(
        self,
        ret: _Return,
        index: Mapping[str, int],
        *,
        plan: SamplingPlan,
        sample_rows: Mapping[str, Mapping[str, str | None]],
        read_codes: Callable[[Mapping[str, str | None]], UnitCodes],
    ) -> None:
        self._ret = ret
        self._at = {h: index[h] for h in FINDING_HEADERS}
        sheet = f"{ret.name}, {SHEET_SAMPLE}!"
        self._where = {h: f"{sheet}{_col_letter(i)}" for h, i in self._at.items()}
        self._sample = sample_rows
        self._basis = plan.financial.basis
        self._sep = plan.columns.code_separator
        self._read_codes = read_codes
        self._latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
        self._code_cells = [
            (header, kind, column, self._at[header]) for header, kind, column in _CODE_CELLS
        ]
        self._record = dict.fromkeys(FINDINGS_COLUMNS, "")
        self._record["workbook_id"] = ret.layout.workbook_id
        self._record["source_sha256"] = ret.sha

    def _codes(self, unit: str) -> UnitCodes:
        """The unit's original codes (only some rows need them: read on demand)."""
        return self._read_codes(self._sample.get(unit, {}))

    def row(
        self, cells: Sequence[str], excel_row: int, unit: str
    ) -> tuple[dict[str, str] | None, list[Problem]]:
        """Return the findings record of one row (None if it has no status) and its problems."""
        ret = self._ret
        layout = ret.layout
        at = self._at
        problems: list[Problem] = []

        def cell(header: str) -> str:
            return cells[at[header]].strip()

        def where(header: str) -> str:
            return f"{self._where[header]}{excel_row}"

        status = _choice(cells[at["Review status"]])
        if not status:
            prefill = prefilled(self._codes(unit), self._basis)
            touched = [
                h
                for h in FINDING_HEADERS[1:]
                if not _same_as_prefill(h, cell(h), prefill.get(h, ""))
            ]
            if touched:
                problems.append(
                    Problem(
                        where=where("Review status"),
                        expected=f"a Review status ({', '.join(STATUSES)}) for a row with findings",
                        found=f"an empty status, with {touched[0]} filled in",
                        fix="choose the status from the drop-down.",
                    )
                )
            return None, problems
        if status not in STATUSES:
            problems.append(
                Problem(
                    where=where("Review status"),
                    expected=f"one of {', '.join(STATUSES)}",
                    found=_shown(cell("Review status")),
                    fix="choose the status from the drop-down (pasted values are not checked by "
                    "Excel).",
                )
            )
            return None, problems

        record = self._record.copy()
        record["unit_id"] = unit
        record["review_status"] = status
        record["rationale"] = cells[at["Rationale"]]
        record["reference"] = cells[at["Reference"]]
        record["coder_comment"] = cells[at["Coder comment"]]

        auditor = cell("Auditor") or layout.auditor
        if not auditor:
            problems.append(
                Problem(
                    where=where("Auditor"),
                    expected="the name of the auditor who reviewed the unit",
                    found="nothing",
                    fix="fill in your name.",
                )
            )
        record["auditor"] = auditor
        # Identity for conflicts: the assigned auditor, or for a one-for-all workbook the
        # Auditor cell.
        ret.identity[unit] = layout.auditor or auditor

        category = _choice(cells[at["Error category"]])
        if category and category not in ERROR_CATEGORIES:
            problems.append(
                Problem(
                    where=where("Error category"),
                    expected=f"empty or one of {', '.join(ERROR_CATEGORIES)}",
                    found=_shown(cell("Error category")),
                    fix="choose the category from the drop-down.",
                )
            )
        record["error_category"] = category
        response = cell("Coder response").lower()
        if response and response not in CODER_RESPONSES:
            problems.append(
                Problem(
                    where=where("Coder response"),
                    expected=f"empty or one of {', '.join(CODER_RESPONSES)}",
                    found=_shown(cell("Coder response")),
                    fix="choose agree or disagree from the drop-down.",
                )
            )
        record["coder_response"] = response

        date_text = cell("Review date")
        if date_text:
            day, iso = _review_day(date_text)
            if day is None:
                problems.append(
                    Problem(
                        where=where("Review date"),
                        expected="a date (yyyy-mm-dd)",
                        found=_shown(date_text),
                        fix="enter the review date as yyyy-mm-dd.",
                    )
                )
            elif not _OLDEST_DATE <= day <= self._latest:
                problems.append(
                    Problem(
                        where=where("Review date"),
                        expected=f"a date between {_OLDEST_DATE} and today",
                        found=day.isoformat(),
                        fix="enter the day you reviewed the unit.",
                    )
                )
            else:
                record["review_date"] = iso
        elif status in _SCORED:
            problems.append(
                Problem(
                    where=where("Review date"),
                    expected="the date the unit was reviewed",
                    found="nothing",
                    fix="enter the review date as yyyy-mm-dd.",
                )
            )

        if status == "record missing":
            record["audited_amount"] = "0.0"  # the full examined amount is at stake
            return record, problems
        if status == "not reviewed":
            return record, problems

        for header, kind, column, i in self._code_cells:
            result, joined = _code_cell(cells[i].strip(), kind, self._sep)
            for issue in result.problems:
                problems.append(
                    Problem(
                        where=where(header),
                        expected=issue.expected,
                        found=_shown(issue.code),
                        fix=issue.fix,
                    )
                )
            if result.notes:
                ref = where(header).rsplit("!", 1)[1]
                ret.notes.extend(f"{SHEET_SAMPLE}!{ref}: {n}" for n in result.notes)
            if header in ("Audited principal dx", "Audited DRG") and len(result.codes) > 1:
                problems.append(
                    Problem(
                        where=where(header),
                        expected="one code",
                        found=f"{len(result.codes)} codes",
                        fix="keep one code here"
                        + (" and move the others to Audited other dx." if "dx" in header else "."),
                    )
                )
            record[column] = joined
        if not record["audited_principal_dx"] and self._codes(unit).dx:
            problems.append(
                Problem(
                    where=where("Audited principal dx"),
                    expected="the correct principal diagnosis",
                    found="nothing (the pre-filled code was deleted)",
                    fix="enter the principal diagnosis code.",
                )
            )
        amount_text = cell("Audited amount")
        if amount_text:
            amount = _parse_amount(amount_text)
            if amount is None or amount < 0:
                problems.append(
                    Problem(
                        where=where("Audited amount"),
                        expected="a number of 0 or more",
                        found=_shown(amount_text),
                        fix="enter the correct amount as a number (no text).",
                    )
                )
            else:
                record["audited_amount"] = repr(amount)
        elif self._basis == "entered" and self._codes(unit).examined:
            problems.append(
                Problem(
                    where=where("Audited amount"),
                    expected="the correct amount (the financial basis is 'entered')",
                    found="nothing",
                    fix="enter the correct payment (the amount paid if the coding does not "
                    "change it).",
                )
            )
        return record, problems


def _same_as_prefill(header: str, value: str, prefill: str) -> bool:
    if header == "Audited amount":
        a, b = _parse_amount(value), _parse_amount(prefill)
        return value == prefill or (a is not None and a == b)
    if header.startswith("Audited "):
        return [c.upper() for c in split_codes(value)] == [c.upper() for c in split_codes(prefill)]
    return value == prefill


# -- merging -----------------------------------------------------------------------------------


def _read_findings(folder: AuditFolder, rel: str) -> dict[str, dict[str, str]]:
    if not folder.has(rel):
        return {}
    frame = folder.read_csv(rel, infer_schema=False)
    out: dict[str, dict[str, str]] = {}
    for row in frame.to_dicts():
        out[str(row["unit_id"])] = {
            c: "" if row.get(c) is None else str(row[c]) for c in FINDINGS_COLUMNS
        }
    return out


def _merge(
    state: dict[str, dict[str, str]],
    unit: str,
    record: dict[str, str],
    ret: _Return,
    *,
    layouts: Mapping[str, WorkbookLayout],
    modified: Mapping[str, str],
    superseded: list[dict[str, str]],
    conflicts: list[Problem],
    double_review: bool,
) -> None:
    old = state.get(unit)
    if old is None:
        state[unit] = record
        return
    old_layout = layouts.get(old["workbook_id"])
    old_identity = (old_layout.auditor if old_layout else "") or old["auditor"]
    new_identity = ret.identity[unit]
    old_batch = old_layout.batch if old_layout else 0
    if old_identity == new_identity or ret.layout.batch > old_batch:
        old_modified = modified.get(old["source_sha256"], "")
        if (
            ret.modified
            and old_modified
            and ret.modified < old_modified
            and (old_identity == new_identity)
        ):
            ret.notes.append(
                f"unit {unit}: this return was saved before the one already collected "
                f"({old['source_sha256'][:12]}); the later one is kept"
            )
            return
        reason = "newer return" if old_identity == new_identity else "re-issued to another auditor"
        superseded.append(
            {
                "unit_id": unit,
                "file": "double_review.csv" if double_review else "findings.csv",
                "previous_sha256": old["source_sha256"],
                "sha256": ret.sha,
                "reason": reason,
            }
        )
        state[unit] = record
        return
    kind = "second review" if double_review else "findings"
    conflicts.append(
        Problem(
            where=f"{ret.name}, {SHEET_SAMPLE}, unit {unit}",
            expected=f"{kind} for unit {unit} from one auditor",
            found=f"{new_identity!r} here and {old_identity!r} in return "
            f"{old['source_sha256'][:12]} (workbook {old['workbook_id']})",
            fix="decide whose review stands: collect only that return, or re-issue the unit to "
            "one auditor with `audit-kit workbooks --assignment`.",
        )
    )


def _frame(state: Mapping[str, Mapping[str, str]], *, sample_order: Sequence[str]) -> pl.DataFrame:
    rank = {u: i for i, u in enumerate(sample_order)}
    units = sorted(state, key=lambda u: (rank.get(u, len(rank)), u))
    rows = [state[u] for u in units]
    data = {c: [row[c] for row in rows] for c in FINDINGS_COLUMNS}
    frame = pl.DataFrame(data, schema=dict.fromkeys(FINDINGS_COLUMNS, pl.Utf8))
    return frame.with_columns(
        pl.col("audited_amount").replace("", None).cast(pl.Float64),
    )


def _progress(
    layouts: Mapping[str, WorkbookLayout],
    findings: Mapping[str, Mapping[str, str]],
    sample_rows: Mapping[str, Any],
) -> list[AuditorProgress]:
    owner: dict[str, tuple[int, str]] = {}
    for layout in layouts.values():
        for unit in layout.units:
            if unit["role"] != "primary" or unit["spare"]:
                continue
            uid = unit["unit_id"]
            if uid not in owner or layout.batch >= owner[uid][0]:
                owner[uid] = (layout.batch, layout.auditor)
    counts: dict[str, list[int]] = {}
    sampled = set(sample_rows)
    for uid, (_, auditor) in owner.items():
        if uid not in sampled:
            continue
        row = counts.setdefault(auditor, [0, 0, 0, 0])
        row[0] += 1
        status = findings.get(uid, {}).get("review_status", "")
        if status == "reviewed":
            row[1] += 1
        elif status == "record missing":
            row[2] += 1
        elif status == "not reviewed":
            row[3] += 1
    return [
        AuditorProgress(
            auditor=auditor or "all auditors",
            assigned=c[0],
            reviewed=c[1],
            record_missing=c[2],
            not_reviewed=c[3],
        )
        for auditor, c in sorted(counts.items())
    ]
