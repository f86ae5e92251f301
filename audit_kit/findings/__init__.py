"""Collect returned workbooks into ``findings.csv``: validate every cell, lose nothing.

``collect(audit_dir, paths)`` (docs/auditor-guide.md, docs/architecture.md "findings.csv"):

1. Files and folders are expanded to ``.xlsx`` files (Excel's ``~$`` lock files are skipped).
   A file already accepted (same SHA-256) is a no-op.
2. Each file is opened safely (:mod:`audit_kit.workbook.safety`: size, zip and XML bombs,
   decryption), read with fastexcel, and checked against the audit folder's own record of the
   workbook (``workbooks/<id>.json``) and ``sample.csv`` -- never against the returned file's
   claims: the workbook belongs to this audit; every unit row is present once and no row is
   added (rows may be re-sorted); original data is unchanged (SHA-256 per row, the changed cell
   named); status values, codes (:mod:`audit_kit.values.codes`), amounts, categories, dates and
   coder
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

The package's modules: ``_records`` (the findings columns, the result objects, a parsed return),
``_check`` (one return's rows validated), ``_merge`` (supersession, conflicts, the findings
tables, progress); this module expands the paths, opens each file safely and commits the run.

Messages name file, sheet and cell, and never print original (PHI) data: a changed original
cell is reported as "changed". An auditor's own entries in finding cells may be shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import polars as pl

from audit_kit.errors import AuditError, Problem, WorkbookError
from audit_kit.findings._check import _validate
from audit_kit.findings._merge import (
    DOUBLE_REVIEW,
    FINDINGS,
    _frame,
    _merge,
    _progress,
    _read_findings,
)
from audit_kit.findings._records import (
    FINDINGS_COLUMNS,
    AuditorProgress,
    CollectSummary,
    FileResult,
    _Return,
)
from audit_kit.folder.manifest import AuditFolder, Transaction, now_iso, sha256_bytes
from audit_kit.plan import SamplingPlan
from audit_kit.workbook import (
    UnitCodes,
    WorkbookLayout,
    code_reader,
    load_audit,
    load_layouts,
    read_returned,
)
from audit_kit.workbook.safety import MAX_FILE_BYTES, open_xlsx

__all__ = [
    "FINDINGS_COLUMNS",
    "AuditorProgress",
    "CollectSummary",
    "FileResult",
    "collect",
]


class _SampleRows(Mapping[str, Mapping[str, str | None]]):
    """sample.csv rows by unit id, each made into a dict only when asked for.

    A clean return needs no unit's row (only a return with a problem, or a row left empty,
    is compared with the sample): the columns are read into Python when first asked for.
    """

    def __init__(self, sample: pl.DataFrame, unit_col: str) -> None:
        self._sample = sample
        self._columns: dict[str, list[str | None]] | None = None
        self._index = {u: i for i, u in enumerate(sample.get_column(unit_col).to_list())}
        self._rows: dict[str, dict[str, str | None]] = {}

    def __getitem__(self, unit: str) -> Mapping[str, str | None]:
        row = self._rows.get(unit)
        if row is None:
            i = self._index[unit]
            if self._columns is None:
                self._columns = {
                    c: self._sample.get_column(c).to_list() for c in self._sample.columns
                }
            row = self._rows[unit] = {c: values[i] for c, values in self._columns.items()}
        return row

    def __contains__(self, unit: object) -> bool:
        return unit in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def collect(
    audit_dir: Path,
    paths: Sequence[Path],
    *,
    password: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> CollectSummary:
    """Validate returned workbooks and merge them into findings.csv (see the module docstring).

    ``progress`` is called with one line per file as it is read and validated.
    """
    folder = AuditFolder.open(Path(audit_dir))
    # The folder stays locked from reading its state to committing the new one: two collects
    # run at once take turns, and neither merges into a findings.csv the other has replaced.
    # Accepted files are staged (written and fsynced in the background) while the next ones
    # are read; if anything is wrong, or nothing is new, the transaction commits nothing.
    with folder.transaction("collect") as tx:
        return _collect(folder, tx, audit_dir, paths, password=password, progress=progress)


def _collect(
    folder: AuditFolder,
    tx: Transaction,
    audit_dir: Path,
    paths: Sequence[Path],
    *,
    password: str | None,
    progress: Callable[[str], None] | None,
) -> CollectSummary:
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
    kinds: dict[int, str] = {}  # id(problem) -> what it is about (the column, or the file)
    seen: dict[str, str] = {}
    for order, path in enumerate(files):
        name = str(path)
        if progress is not None:
            progress(f"reading and validating {name} ({order + 1} of {len(files)})")
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
            cell_kinds = parsed.kinds if parsed is not None else []
            if len(cell_kinds) != len(file_problems):
                what = "the header row" if parsed is not None else "the file itself"
                cell_kinds = [what] * len(file_problems)
            kinds.update(zip(map(id, file_problems), cell_kinds, strict=True))
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
            if not problems:  # else nothing of this run is committed: no need to write it
                tx.write_bytes(f"returned/{sha}.xlsx", raw, kind="returned", sha256=sha)

    if problems:
        clean = [r.name for r in returns if r.name not in bad_files]
        raise WorkbookError(
            _problem_summary(problems, kinds, bad_files, clean, audit_dir), problems
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
        tx.inputs = inputs
        tx.details = {
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
                {"sha256": f.sha256, "status": f.status} for f in results if f.status != "accepted"
            ],
        }
        tx.write_csv(FINDINGS, _frame(existing, sample_order=list(sample_rows)))
        if existing_double or folder.has(DOUBLE_REVIEW):
            tx.write_csv(DOUBLE_REVIEW, _frame(existing_double, sample_order=list(sample_rows)))
    else:
        tx.cancel()  # nothing new: no event

    per_auditor = _progress(layouts, existing, sample_rows)
    sampled = sum(p.assigned for p in per_auditor)
    done = sum(p.done for p in per_auditor)
    open_units = sum(p.pending for p in per_auditor)
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
        progress=tuple(per_auditor),
        findings=len(existing),
        double_review=len(existing_double),
        superseded=tuple(superseded),
        changed=bool(returns),
        next_step=next_step,
        units_sampled=sampled,
        units_done=done,
    )


def _problem_summary(
    problems: Sequence[Problem],
    kinds: Mapping[int, str],
    bad_files: set[str],
    clean: Sequence[str],
    audit_dir: Path,
) -> str:
    """A summary per file and per kind of problem, then what to do (the cells follow it)."""
    lines = [
        f"{len(problems)} problem(s) in {len(bad_files)} returned file(s); nothing was accepted "
        "from this run."
    ]
    by_file: dict[str, dict[str, int]] = {}
    for p in problems:
        name = next(
            (f for f in sorted(bad_files, key=len, reverse=True) if p.where.startswith(f)), p.where
        )
        counts = by_file.setdefault(name, {})
        kind = kinds.get(id(p), "the file itself")
        counts[kind] = counts.get(kind, 0) + 1
    for name, counts in by_file.items():
        total = sum(counts.values())
        parts = ", ".join(f"{kind} {n}" for kind, n in counts.items())
        lines.append(f"  {name}: {total} problem(s): {parts}")
    if clean:
        files = " ".join(clean)
        lines.append(
            f"Without problems: {files}. Collect {'it' if len(clean) == 1 else 'them'} on "
            f"{'its' if len(clean) == 1 else 'their'} own now (`audit-kit collect {audit_dir} "
            f"{files}`), and the files above once fixed."
        )
    else:
        lines.append("Fix the files named above and collect them again.")
    lines.append("The problems, each with its cell and unit:")
    return "\n".join(lines)


# -- inputs ------------------------------------------------------------------------------------


def _expand(paths: Iterable[Path], *, skip: Path) -> tuple[list[Path], list[Problem]]:
    """Expand folders to their .xlsx files (not Excel lock files, not the audit folder's own)."""
    files: list[Path] = []
    problems: list[Problem] = []
    own = skip.resolve()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            root = path.resolve()
            found = sorted(
                (
                    p
                    for p in path.rglob("*.xlsx")
                    if p.is_file()
                    and not p.name.startswith(("~$", "."))
                    and not _inside(p, path, root, own)
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


def _inside(found: Path, folder: Path, root: Path, own: Path) -> bool:
    """Whether a file found under ``folder`` (which resolves to ``root``) lies in ``own``.

    ``rglob`` does not descend into linked folders: below ``folder`` only the file itself can
    be a link, so only a linked file is resolved on its own.
    """
    if found.is_symlink():
        return found.resolve().is_relative_to(own)
    return own.is_relative_to(root) and (root / found.relative_to(folder)).is_relative_to(own)


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
