"""Write auditor workbooks (openpyxl) and read returned ones back (fastexcel/calamine).

Layout of a workbook (SPEC 5.1, docs/architecture.md "Workbooks"):

``Instructions``  how to fill it, allowed values, contact, audit and workbook id
``Sample``        one row per unit: the plan's ``workbook.columns`` under the universe's column
                  names (locked), a ``Spare`` marker when the workbook holds spares (locked),
                  then the finding columns :data:`FINDING_HEADERS` (unlocked). The audited code
                  columns are pre-filled with the original codes; ``Review status`` starts empty.
``Lists``         allowed values for the drop-downs (hidden, protected)
``_audit``        audit id, workbook id, unit ids, SHA-256 of each row's original data, tool
                  version (very hidden, protected)

Beside each workbook the audit folder records ``workbooks/<id>.json``: the columns, the units
with their row hashes and roles (``primary`` or ``second`` for the double-review subsample).
Collection trusts that record, not the returned file: the ``_audit`` sheet only says which
workbook a returned file claims to be.

Every text value is written as a string cell with Excel's quote prefix, so ``=cmd|...``, ``+1``,
``-2``, ``@x``, a leading tab or CR arrive in Excel as the same text and never as a formula.
Characters XML 1.0 cannot carry are written with Excel's ``_xHHHH_`` escapes, and CR as ``&#13;``,
so every string round-trips exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
import secrets
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import fastexcel
import polars as pl
import yaml
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from audit_kit._version import __version__
from audit_kit.audit import AuditFolder, now_iso
from audit_kit.codes import split_codes
from audit_kit.errors import AuditError, InputError, Problem
from audit_kit.plan import FIELDS, SamplingPlan, parse_plan
from audit_kit.xlsx_safety import encrypt_xlsx

__all__ = [
    "CODER_RESPONSES",
    "ERROR_CATEGORIES",
    "FINDING_HEADERS",
    "STATUSES",
    "WORKBOOK_FORMAT",
    "OriginalColumn",
    "ReturnedSheet",
    "UnitCodes",
    "WorkbookLayout",
    "canonical_value",
    "code_reader",
    "load_audit",
    "load_layouts",
    "read_returned",
    "row_digest",
    "unit_codes",
    "write_workbooks",
]

WORKBOOK_FORMAT = "audit-kit-workbook/1"

FINDING_HEADERS: tuple[str, ...] = (
    "Review status",
    "Audited principal dx",
    "Audited other dx",
    "Audited procedures",
    "Audited CPT/HCPCS",
    "Audited DRG",
    "Audited amount",
    "Error category",
    "Rationale",
    "Reference",
    "Auditor",
    "Review date",
    "Coder response",
    "Coder comment",
)
STATUSES: tuple[str, ...] = ("reviewed", "record missing", "not reviewed")
ERROR_CATEGORIES: tuple[str, ...] = ("coding", "documentation", "medical necessity", "other")
CODER_RESPONSES: tuple[str, ...] = ("agree", "disagree")

SHEET_INSTRUCTIONS = "Instructions"
SHEET_SAMPLE = "Sample"
SHEET_LISTS = "Lists"
SHEET_AUDIT = "_audit"
SPARE_HEADER = "Spare"
SPARE_MARK = "spare"
#: Separator written between codes in the audited code cells.
CELL_SEPARATOR = "; "

_NUMBER_FIELDS = frozenset({"billed", "paid", "units", "age"})
_DATE_FIELDS = frozenset({"service_date"})
_AMOUNT_FORMAT = "#,##0.00"
_DATE_FORMAT = "yyyy-mm-dd"
_TEXT_FORMAT = "@"
_AUDIT_TABLE_ROW = 10  # first row of the unit table in the _audit sheet

_LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
_SPARE_FILL = PatternFill("solid", fgColor="D9D9D9")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_FINDING_HEADER_FILL = PatternFill("solid", fgColor="548235")
_INCOMPLETE_FILL = PatternFill("solid", fgColor="FFF2CC", bgColor="FFF2CC")
_UNLOCKED = Protection(locked=False)

_ESCAPE_RE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_ILLEGAL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

ColumnKind = Literal["text", "number", "date"]


# -- the audit's recorded state ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginalColumn:
    """An original (locked) column: header = the universe's column name."""

    header: str
    field: str | None
    kind: ColumnKind

    def to_dict(self) -> dict[str, Any]:
        return {"header": self.header, "field": self.field, "kind": self.kind}


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkbookLayout:
    """What the audit folder records about one issued workbook (``workbooks/<id>.json``)."""

    workbook_id: str
    auditor: str
    batch: int
    columns: tuple[OriginalColumn, ...]
    spare_header: str | None
    units: tuple[dict[str, Any], ...]  # {unit_id, row_sha256, spare, role, stratum}
    encrypted: bool = False

    def to_dict(self, audit_id: str) -> dict[str, Any]:
        return {
            "format": WORKBOOK_FORMAT,
            "audit_id": audit_id,
            "workbook_id": self.workbook_id,
            "auditor": self.auditor,
            "batch": self.batch,
            "columns": [c.to_dict() for c in self.columns],
            "spare_header": self.spare_header,
            "finding_headers": list(FINDING_HEADERS),
            "encrypted": self.encrypted,
            "units": list(self.units),
            "tool_version": __version__,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkbookLayout:
        return cls(
            workbook_id=str(data["workbook_id"]),
            auditor=str(data["auditor"]),
            batch=int(data["batch"]),
            columns=tuple(
                OriginalColumn(header=c["header"], field=c["field"], kind=c["kind"])
                for c in data["columns"]
            ),
            spare_header=data.get("spare_header"),
            units=tuple(data["units"]),
            encrypted=bool(data.get("encrypted", False)),
        )


def load_audit(folder: AuditFolder) -> tuple[SamplingPlan, pl.DataFrame]:
    """Read the plan and sample.csv (every column as text, exactly as sampling wrote it)."""
    plan = parse_plan(yaml.safe_load(folder.read_bytes("plan.yaml")), source="plan.yaml")
    sample = folder.read_csv("sample.csv", infer_schema=False)
    return plan, sample


def load_layouts(folder: AuditFolder) -> dict[str, WorkbookLayout]:
    """Return every issued workbook's recorded layout, by workbook id."""
    layouts: dict[str, WorkbookLayout] = {}
    for rel in sorted(folder.artifacts()):
        if rel.startswith("workbooks/") and rel.endswith(".json"):
            layout = WorkbookLayout.from_dict(folder.read_json(rel))
            layouts[layout.workbook_id] = layout
    return layouts


# -- values ------------------------------------------------------------------------------------


def _as_float(text: str) -> float | None:
    try:
        value = float(text.replace(",", "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _as_date(text: str) -> dt.date | None:
    head = text.strip()[:10]
    try:
        return dt.date.fromisoformat(head)
    except ValueError:
        return None


def canonical_value(value: str | None, kind: ColumnKind) -> str:
    """Return the comparable form of an original cell, as written or as read back.

    Numbers compare as floats (``120.50`` = ``120.5``), dates as ISO dates (a date cell reads
    back as ``2026-03-01 00:00:00``), text exactly except line endings (spreadsheet programs
    differ in keeping CR; a changed line ending is not a changed record).
    """
    if value is None:
        return ""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if kind == "number":
        number = _as_float(value)
        return repr(number) if number is not None else value
    if kind == "date":
        day = _as_date(value)
        return day.isoformat() if day is not None else value
    return value


def row_digest(values: Sequence[str]) -> str:
    """SHA-256 of a row's canonical original values (unit id first), each length-prefixed."""
    payload = "".join([f"{len(v)}:{v}" for v in values])
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def _excel_text(text: str) -> str:
    # Excel decodes _xHHHH_ in strings: escape literal ones, and use the same escape for
    # characters XML 1.0 cannot hold. CR is kept and written as &#13; after saving.
    text = _ESCAPE_RE.sub(r"_x005F_\1", text)
    return _ILLEGAL_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def _set_text(cell: Cell | MergedCell, text: str) -> None:
    """Write a string cell that Excel shows as text, never as a formula."""
    cell.value = _excel_text(text)
    cell.data_type = "s"
    cell.quotePrefix = True


# -- codes of a unit ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitCodes:
    """A unit's original codes as the workbook pre-fills them."""

    dx: tuple[str, ...] = ()
    px: tuple[str, ...] = ()
    cpt: tuple[str, ...] = ()
    drg: str = ""
    examined: str = ""


def unit_codes(row: Mapping[str, str | None], plan: SamplingPlan) -> UnitCodes:
    """Extract the original codes of one sample.csv row (same rules as canonical_units)."""
    return code_reader(plan)(row)


def code_reader(plan: SamplingPlan) -> Callable[[Mapping[str, str | None]], UnitCodes]:
    """Return :func:`unit_codes` for one plan, with its column lookups done once."""
    sep = plan.columns.code_separator
    mapped = plan.columns.mapped()
    dx_cols, px_cols, cpt_cols = (mapped.get(f, []) for f in ("dx", "px", "cpt"))
    drg_col = mapped.get("drg", [None])[0]
    examined_col = mapped.get(plan.financial.examined, [None])[0]

    def codes(row: Mapping[str, str | None], cols: Sequence[str]) -> tuple[str, ...]:
        out: list[str] = []
        for col in cols:
            out.extend(split_codes(row.get(col), sep))
        return tuple(out)

    def read(row: Mapping[str, str | None]) -> UnitCodes:
        return UnitCodes(
            dx=codes(row, dx_cols),
            px=codes(row, px_cols),
            cpt=codes(row, cpt_cols),
            drg=(row.get(drg_col) or "").strip() if drg_col else "",
            examined=(row.get(examined_col) or "").strip() if examined_col else "",
        )

    return read


def prefilled(codes: UnitCodes, basis: str) -> dict[str, str]:
    """Return the finding cells as the workbook pre-fills them (header -> text)."""
    return {
        "Audited principal dx": codes.dx[0] if codes.dx else "",
        "Audited other dx": CELL_SEPARATOR.join(codes.dx[1:]),
        "Audited procedures": CELL_SEPARATOR.join(codes.px),
        "Audited CPT/HCPCS": CELL_SEPARATOR.join(codes.cpt),
        "Audited DRG": codes.drg,
        "Audited amount": codes.examined if basis == "entered" else "",
    }


# -- columns and assignment --------------------------------------------------------------------


def _original_columns(plan: SamplingPlan, sample_columns: Sequence[str]) -> list[OriginalColumn]:
    problems: list[Problem] = []
    out: dict[str, OriginalColumn] = {}
    mapped = plan.columns.mapped()
    field_of = {col: name for name, cols in mapped.items() for col in cols}
    entries = ["unit_id", *[c for c in plan.workbook.columns if c != "unit_id"]]
    for entry in entries:
        if entry in FIELDS:
            cols = mapped.get(entry)
            if not cols:
                problems.append(
                    Problem(
                        where=f"plan.yaml: workbook.columns ({entry})",
                        expected=f"a field mapped under columns: (columns.{entry})",
                        found="an unmapped field",
                        fix=f"map {entry} to a universe column or remove it from workbook.columns.",
                    )
                )
                continue
        elif entry in sample_columns:
            cols = [entry]
        else:
            problems.append(
                Problem(
                    where=f"plan.yaml: workbook.columns ({entry})",
                    expected="an audit-kit field or a universe column kept in sample.csv",
                    found="neither",
                    fix="check the spelling, or add the column to columns.keep.",
                )
            )
            continue
        for col in cols:
            if col not in sample_columns:
                problems.append(
                    Problem(
                        where=f"sample.csv: column {col}",
                        expected="the column the plan maps",
                        found="no such column",
                        fix="re-run `audit-kit sample` with this plan.",
                    )
                )
                continue
            name = field_of.get(col)
            kind: ColumnKind = (
                "number" if name in _NUMBER_FIELDS else "date" if name in _DATE_FIELDS else "text"
            )
            out.setdefault(col, OriginalColumn(header=col, field=name, kind=kind))
    clash = [h for h in out if h in FINDING_HEADERS]
    for header in clash:
        problems.append(
            Problem(
                where=f"plan.yaml: workbook.columns ({header})",
                expected="universe column names different from the finding column headers",
                found=f"a universe column named {header!r}",
                fix="rename that column in the universe export.",
            )
        )
    if problems:
        raise InputError("The workbook columns cannot be laid out.", problems)
    return list(out.values())


_SLUG_RE = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _SLUG_RE.sub("-", text.lower()).strip("-")[:40] or "auditor"


def _read_assignment(path: Path, unit_ids: Sequence[str], spares: set[str]) -> dict[str, str]:
    problems: list[Problem] = []
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            "Cannot read the assignment file.",
            [
                Problem(
                    where=str(path),
                    expected="a readable UTF-8 CSV with columns unit_id,auditor",
                    found=type(exc).__name__,
                    fix="check the path and save the file as CSV UTF-8.",
                )
            ],
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"unit_id", "auditor"} <= set(reader.fieldnames):
        raise InputError(
            "The assignment file has the wrong columns.",
            [
                Problem(
                    where=f"{path}, row 1",
                    expected="the header unit_id,auditor",
                    found=", ".join(reader.fieldnames or []) or "an empty file",
                    fix="put unit_id and auditor in the first row.",
                )
            ],
        )
    known = set(unit_ids)
    out: dict[str, str] = {}
    for line, record in enumerate(reader, start=2):
        unit = (record.get("unit_id") or "").strip()
        auditor = (record.get("auditor") or "").strip()
        where = f"{path}, row {line}"
        if not unit and not auditor:
            continue
        if unit not in known:
            problems.append(
                Problem(
                    where=where,
                    expected="a unit id of the sample",
                    found=f"unit {unit!r}" if unit else "no unit id",
                    fix="use the unit ids of sample.csv.",
                )
            )
        elif unit in out:
            problems.append(
                Problem(
                    where=where,
                    expected="each unit once",
                    found=f"unit {unit} again",
                    fix="assign each unit to one auditor (double review comes from the plan).",
                )
            )
        elif not auditor:
            problems.append(
                Problem(
                    where=where,
                    expected="an auditor name",
                    found="nothing",
                    fix="fill in the auditor.",
                )
            )
        else:
            out[unit] = auditor
    missing = [u for u in unit_ids if u not in out and u not in spares]
    if missing:
        problems.append(
            Problem(
                where=str(path),
                expected="every sampled (non-spare) unit assigned",
                found=f"{len(missing)} unassigned, e.g. {', '.join(missing[:5])}",
                fix="add a row unit_id,auditor for each of them.",
            )
        )
    if problems:
        raise InputError(f"The assignment file has {len(problems)} problem(s).", problems)
    return out


def _assign(
    sample: pl.DataFrame,
    unit_col: str,
    *,
    auditors: Sequence[str] | None,
    by: str,
    assignment: Path | None,
) -> tuple[list[str], dict[str, str]]:
    """Return the auditors (workbook order) and unit id -> auditor ('' = one for all)."""
    unit_ids = sample[unit_col].to_list()
    flags = sample["spare"].to_list() if "spare" in sample.columns else [None] * len(unit_ids)
    spares = {u for u, s in zip(unit_ids, flags, strict=True) if _truthy(s)}
    if assignment is not None:
        if auditors:
            raise InputError(
                "Give either auditors or an assignment file, not both.",
                [
                    Problem(
                        where="--auditors / --assignment",
                        expected="one way of assigning units",
                        found="both",
                        fix="drop --auditors; the assignment file names the auditors.",
                    )
                ],
            )
        mapping = _read_assignment(assignment, unit_ids, spares)
        names = list(dict.fromkeys(mapping[u] for u in unit_ids if u in mapping))
        return names, mapping
    if not auditors:
        if by == "stratum":
            raise InputError(
                "Assigning by stratum needs auditors.",
                [
                    Problem(
                        where="--by stratum",
                        expected="--auditors a,b,...",
                        found="no auditors",
                        fix="name the auditors, or drop --by for one workbook for all.",
                    )
                ],
            )
        return [""], dict.fromkeys(unit_ids, "")
    names = _check_auditor_names(auditors)
    mapping = {}
    if by == "round_robin":
        # Sampled units first, then spares, each dealt in sample order.
        ordered = [u for u in unit_ids if u not in spares] + [u for u in unit_ids if u in spares]
        for i, unit in enumerate(ordered):
            mapping[unit] = names[i % len(names)]
    elif by == "stratum":
        strata = (
            sample["stratum"].to_list() if "stratum" in sample.columns else ["all"] * len(unit_ids)
        )
        sizes: dict[str, int] = {}
        for unit, stratum in zip(unit_ids, strata, strict=True):
            if unit not in spares:
                sizes[stratum] = sizes.get(stratum, 0) + 1
            else:
                sizes.setdefault(stratum, 0)
        # Largest stratum first to the least loaded auditor (balanced, deterministic).
        load = dict.fromkeys(names, 0)
        owner: dict[str, str] = {}
        for stratum in sorted(sizes, key=lambda s: (-sizes[s], s)):
            auditor = min(names, key=lambda a: (load[a], names.index(a)))
            owner[stratum] = auditor
            load[auditor] += sizes[stratum]
        for unit, stratum in zip(unit_ids, strata, strict=True):
            mapping[unit] = owner[stratum]
    else:
        raise InputError(
            "Unknown assignment method.",
            [
                Problem(
                    where="--by",
                    expected="round_robin or stratum",
                    found=repr(by),
                    fix="use --by round_robin or --by stratum.",
                )
            ],
        )
    return names, mapping


def _check_auditor_names(auditors: Sequence[str]) -> list[str]:
    names = [a.strip() for a in auditors]
    problems = []
    if any(not a for a in names):
        problems.append(
            Problem(
                where="--auditors",
                expected="non-empty auditor names separated by commas",
                found="an empty name",
                fix="remove the extra comma.",
            )
        )
    lowered = [a.lower() for a in names]
    dupes = sorted({a for a in names if lowered.count(a.lower()) > 1})
    if dupes:
        problems.append(
            Problem(
                where="--auditors",
                expected="each auditor once",
                found=f"{', '.join(dupes)} more than once",
                fix="list each auditor once.",
            )
        )
    if problems:
        raise InputError("The auditor list is invalid.", problems)
    return names


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes", "y", "t")


def _double_review_units(
    audit_id: str, units: Sequence[str], share: float, n_auditors: int
) -> list[str]:
    """Pick the double-review subsample: a deterministic, recorded function of the audit id."""
    if share <= 0:
        return []
    if n_auditors < 2:
        raise InputError(
            "The plan asks for double review, which needs two auditors or more.",
            [
                Problem(
                    where="plan.yaml: workbook.double_review",
                    expected="at least two auditors (--auditors a,b or an assignment file)",
                    found=f"{n_auditors} auditor(s)",
                    fix="name a second auditor, or set workbook.double_review: 0.",
                )
            ],
        )
    count = min(len(units), max(1, math.ceil(share * len(units))))
    ranked = sorted(units, key=lambda u: hashlib.sha256(f"{audit_id}:{u}".encode()).hexdigest())
    return sorted(ranked[:count], key=units.index)


# -- writing -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    unit_id: str
    values: list[str | None]
    spare: bool
    stratum: str
    role: str
    codes: UnitCodes
    digest: str = ""


@dataclass(slots=True)
class _Plan:
    workbook_id: str
    auditor: str
    rows: list[_Row] = field(default_factory=list)


def write_workbooks(
    audit_dir: Path,
    *,
    auditors: Sequence[str] | None = None,
    by: Literal["round_robin", "stratum"] = "round_robin",
    assignment: Path | None = None,
    password: str | None = None,
) -> list[Path]:
    """Write one workbook per auditor (or one for all) into ``workbooks/``; return their paths.

    Units are dealt round-robin in sample order (spares last), by stratum (whole strata to the
    least-loaded auditor), or from an assignment CSV (``unit_id,auditor``). The plan's
    ``workbook.double_review`` share of sampled units also goes to the next auditor in the list
    (blind: the workbook does not say which units are double-reviewed). With ``password`` every
    workbook is encrypted (Office agile encryption); the password is not logged or stored.
    """
    folder = AuditFolder.open(Path(audit_dir))
    plan, sample = load_audit(folder)
    if plan.workbook.password and not password:
        raise AuditError(
            "The plan asks for encrypted workbooks.",
            [
                Problem(
                    where="plan.yaml: workbook.password",
                    expected="a password (from --password-file or the prompt)",
                    found="none",
                    fix="pass --password-file FILE (one line: the password).",
                )
            ],
        )
    columns = _original_columns(plan, sample.columns)
    unit_col = plan.columns.unit_id
    names, mapping = _assign(sample, unit_col, auditors=auditors, by=by, assignment=assignment)

    batch = 1 + sum(1 for e in folder.events if e.get("command") == "workbooks")
    ids: dict[str, str] = {}
    for name in names:
        base = f"W{batch}-{_slug(name) if name else 'all'}"
        wid, k = base, 2
        while wid in ids.values() or folder.has(f"workbooks/{wid}.xlsx"):
            wid, k = f"{base}-{k}", k + 1
        ids[name] = wid
    books = {name: _Plan(workbook_id=ids[name], auditor=name) for name in names}

    records = sample.to_dicts()
    spare_units = {r[unit_col] for r in records if _truthy(r.get("spare"))}
    sampled = [r[unit_col] for r in records if r[unit_col] not in spare_units]
    double = set(
        _double_review_units(folder.audit_id, sampled, plan.workbook.double_review, len(names))
    )
    read_codes = code_reader(plan)
    for record in records:
        unit = record[unit_col]
        if unit not in mapping:
            continue  # a spare the assignment file leaves out
        values = [record.get(c.header) for c in columns]
        row = _Row(
            unit_id=unit,
            values=values,
            spare=unit in spare_units,
            stratum=str(record.get("stratum") or ""),
            role="primary",
            codes=read_codes(record),
        )
        row.digest = row_digest(
            [canonical_value(v, c.kind) for v, c in zip(values, columns, strict=True)]
        )
        books[mapping[unit]].rows.append(row)
        if unit in double:
            second = names[(names.index(mapping[unit]) + 1) % len(names)]
            books[second].rows.append(
                _Row(
                    unit_id=unit,
                    values=values,
                    spare=False,
                    stratum=row.stratum,
                    role="second",
                    codes=row.codes,
                    digest=row.digest,
                )
            )

    created = now_iso()
    outputs: list[Path] = []
    summary: list[dict[str, Any]] = []
    with folder.transaction(
        "workbooks",
        inputs={"sample.csv": folder.artifacts()["sample.csv"]["sha256"]},
        details={
            "batch": batch,
            "by": "assignment" if assignment is not None else by if auditors else "one",
            "encrypted": bool(password),
            "double_review_units": sorted(double),
            "workbooks": summary,
        },
    ) as tx:
        for name in names:
            book = books[name]
            if not book.rows:
                continue
            layout = WorkbookLayout(
                workbook_id=book.workbook_id,
                auditor=name,
                batch=batch,
                columns=tuple(columns),
                spare_header=_spare_header(columns) if any(r.spare for r in book.rows) else None,
                units=tuple(
                    {
                        "unit_id": r.unit_id,
                        "row_sha256": r.digest,
                        "spare": r.spare,
                        "role": r.role,
                        "stratum": r.stratum,
                    }
                    for r in book.rows
                ),
                encrypted=bool(password),
            )
            data = _render(folder.audit_id, plan, layout, book.rows, created)
            if password:
                data = encrypt_xlsx(data, password)
            tx.write_bytes(f"workbooks/{book.workbook_id}.xlsx", data, kind="workbook")
            tx.write_json(
                f"workbooks/{book.workbook_id}.json",
                layout.to_dict(folder.audit_id),
                kind="workbook-layout",
            )
            outputs.append(folder.file(f"workbooks/{book.workbook_id}.xlsx"))
            summary.append(
                {
                    "workbook_id": book.workbook_id,
                    "auditor": name,
                    "units": sum(1 for r in book.rows if not r.spare and r.role == "primary"),
                    "spares": sum(1 for r in book.rows if r.spare),
                    "second_reviews": sum(1 for r in book.rows if r.role == "second"),
                }
            )
    return outputs


def _spare_header(columns: Sequence[OriginalColumn]) -> str:
    headers = {c.header for c in columns}
    return SPARE_HEADER if SPARE_HEADER not in headers else "audit-kit spare"


def _render(
    audit_id: str,
    plan: SamplingPlan,
    layout: WorkbookLayout,
    rows: Sequence[_Row],
    created: str,
) -> bytes:
    wb = Workbook()
    ws_info = wb.active
    assert ws_info is not None  # a new Workbook always has one sheet
    ws_info.title = SHEET_INSTRUCTIONS
    ws = wb.create_sheet(SHEET_SAMPLE)
    ws_lists = wb.create_sheet(SHEET_LISTS)
    ws_audit = wb.create_sheet(SHEET_AUDIT)
    password = plan.workbook.protect_password

    headers = [c.header for c in layout.columns]
    if layout.spare_header:
        headers.append(layout.spare_header)
    first_finding = len(headers) + 1
    headers.extend(FINDING_HEADERS)
    col_of = {h: i + 1 for i, h in enumerate(headers)}
    n_rows = len(rows)
    last = n_rows + 1

    # Sample: header
    for i, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=i)
        _set_text(cell, header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _FINDING_HEADER_FILL if i >= first_finding else _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    has_cr = False
    for r, row in enumerate(rows, start=2):
        for i, (col, value) in enumerate(zip(layout.columns, row.values, strict=True), start=1):
            cell = ws.cell(row=r, column=i)
            cell.fill = _SPARE_FILL if row.spare else _LOCKED_FILL
            if value is None or value == "":
                continue
            has_cr = has_cr or "\r" in value
            if col.kind == "number" and (number := _as_float(value)) is not None:
                cell.value = number
                cell.number_format = _AMOUNT_FORMAT if col.field != "units" else "0"
            elif (
                col.kind == "date"
                and (day := _as_date(value)) is not None
                and len(value.strip()) == 10
            ):
                cell.value = day
                cell.number_format = _DATE_FORMAT
            else:
                _set_text(cell, value)
        if layout.spare_header:
            cell = ws.cell(row=r, column=col_of[layout.spare_header])
            cell.fill = _SPARE_FILL if row.spare else _LOCKED_FILL
            if row.spare:
                _set_text(cell, SPARE_MARK)
        prefill = prefilled(row.codes, plan.financial.basis)
        for header in FINDING_HEADERS:
            cell = ws.cell(row=r, column=col_of[header])
            cell.protection = _UNLOCKED
            if header == "Audited amount":
                cell.number_format = _AMOUNT_FORMAT
                number = _as_float(prefill[header]) if prefill.get(header) else None
                if number is not None:
                    cell.value = number
            elif header == "Review date":
                cell.number_format = _DATE_FORMAT
            else:
                cell.number_format = _TEXT_FORMAT
                text = prefill.get(header, "")
                if text:
                    has_cr = has_cr or "\r" in text
                    _set_text(cell, text)

    _finish_sample(ws, layout, headers, col_of, first_finding, last, password)
    _fill_lists(ws_lists, password)
    _fill_instructions(ws_info, audit_id, plan, layout, rows, created)
    _fill_audit(ws_audit, audit_id, layout, rows, created)
    wb.security = WorkbookProtection(workbookPassword=password, lockStructure=True)
    wb.active = 1  # open on the Sample sheet

    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    return _escape_cr(data) if has_cr else data


def _finish_sample(
    ws: Worksheet,
    layout: WorkbookLayout,
    headers: Sequence[str],
    col_of: Mapping[str, int],
    first_finding: int,
    last: int,
    password: str | None,
) -> None:
    ws.freeze_panes = "B2"
    ws.row_dimensions[1].height = 32
    for i, header in enumerate(headers, start=1):
        letter = get_column_letter(i)
        if i < first_finding:
            width = min(max(len(header) + 2, 12), 40)
        elif header in ("Rationale", "Coder comment"):
            width = 48
        elif header in ("Audited other dx", "Audited CPT/HCPCS", "Audited procedures"):
            width = 30
        else:
            width = max(len(header) + 2, 14)
        ws.column_dimensions[letter].width = width
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last}"

    def col(header: str) -> str:
        return get_column_letter(col_of[header])

    if last >= 2:
        lists = {
            "Review status": (f"={SHEET_LISTS}!$A$2:$A${1 + len(STATUSES)}", STATUSES),
            "Error category": (
                f"={SHEET_LISTS}!$B$2:$B${1 + len(ERROR_CATEGORIES)}",
                ERROR_CATEGORIES,
            ),
            "Coder response": (
                f"={SHEET_LISTS}!$C$2:$C${1 + len(CODER_RESPONSES)}",
                CODER_RESPONSES,
            ),
        }
        for header, (formula, allowed) in lists.items():
            dv = DataValidation(
                type="list",
                formula1=formula,
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=header,
                error=f"Choose one of: {', '.join(allowed)}.",
                promptTitle=header,
                prompt=f"One of: {', '.join(allowed)}.",
                showInputMessage=True,
            )
            dv.add(f"{col(header)}2:{col(header)}{last}")
            ws.add_data_validation(dv)
        amount = DataValidation(
            type="decimal",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Audited amount",
            error="Enter the correct amount as a number of 0 or more.",
        )
        amount.add(f"{col('Audited amount')}2:{col('Audited amount')}{last}")
        ws.add_data_validation(amount)
        review_date = DataValidation(
            type="date",
            operator="between",
            formula1="DATE(2000,1,1)",
            formula2="DATE(2099,12,31)",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Review date",
            error="Enter the review date (yyyy-mm-dd).",
        )
        review_date.add(f"{col('Review date')}2:{col('Review date')}{last}")
        ws.add_data_validation(review_date)

        status = f"${col('Review status')}2"
        when = f"${col('Review date')}2"
        spare = f'${col(layout.spare_header)}2<>"{SPARE_MARK}"' if layout.spare_header else "TRUE"
        formula = f'AND({spare},OR({status}="",AND({status}<>"not reviewed",{when}="")))'
        ws.conditional_formatting.add(
            f"{get_column_letter(first_finding)}2:{get_column_letter(len(headers))}{last}",
            FormulaRule(  # type: ignore[no-untyped-call]
                formula=[formula], fill=_INCOMPLETE_FILL, stopIfTrue=False
            ),
        )
    ws.protection.sheet = True
    ws.protection.sort = False
    ws.protection.autoFilter = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    if password:
        ws.protection.password = password


def _fill_lists(ws: Worksheet, password: str | None) -> None:
    for col, (title, values) in enumerate(
        (
            ("Review status", STATUSES),
            ("Error category", ERROR_CATEGORIES),
            ("Coder response", CODER_RESPONSES),
        ),
        start=1,
    ):
        _set_text(ws.cell(row=1, column=col), title)
        ws.cell(row=1, column=col).font = Font(bold=True)
        for r, value in enumerate(values, start=2):
            _set_text(ws.cell(row=r, column=col), value)
        ws.column_dimensions[get_column_letter(col)].width = 20
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
    if password:
        ws.protection.password = password


def _fill_instructions(
    ws: Worksheet,
    audit_id: str,
    plan: SamplingPlan,
    layout: WorkbookLayout,
    rows: Sequence[_Row],
    created: str,
) -> None:
    sampled = sum(1 for r in rows if not r.spare)
    spares = len(rows) - sampled
    entered = plan.financial.basis == "entered"
    facts = [
        ("Audit", plan.name),
        ("Audit id", audit_id),
        ("Workbook id", layout.workbook_id),
        ("Auditor", layout.auditor or "(all auditors: fill the Auditor column)"),
        ("Units to review", f"{sampled}" + (f" (plus {spares} spares)" if spares else "")),
        ("Contact", plan.workbook.contact or "your audit lead"),
        ("Written", created),
        (
            "Due",
            "Return this workbook by the date agreed with your audit lead. Partial returns are "
            "welcome: units without a Review status count as not yet reviewed.",
        ),
    ]
    steps = [
        "Work on the Sample sheet, one row per unit. The grey columns on the left are the "
        "original data: they are locked and must stay exactly as they are.",
        "Set Review status for every unit (drop-down): reviewed, record missing, or not reviewed.",
        "The Audited code columns start with the codes as originally submitted. Change only what "
        "is wrong, so that each cell holds the correct coding when you are done. Separate codes "
        "with ';'. Audited principal dx holds one code.",
        "Codes are checked on return: ICD-10-CM diagnoses must be complete, billable codes "
        "(E11.9, not E11); ICD-10-PCS procedures are 7 characters (no I or O); CPT/HCPCS codes "
        "are 5 characters with modifiers after a hyphen and units after x (99214-25, "
        "97110-59x2); DRGs are 3 digits (065).",
        "Audited amount: "
        + (
            "the correct payment for the unit, a number of 0 or more (it starts with the "
            "amount paid; change it when the coding changes the payment)."
            if entered
            else "leave empty unless your audit lead asks for it (the payment is recomputed "
            "from the audited codes)."
        ),
        "Error category (drop-down) when the unit has an error: coding, documentation, medical "
        "necessity, other. Rationale and Reference: why, and the guideline or source.",
        "Auditor: your name (left empty, the assigned auditor is used). Review date: the day "
        "you reviewed the unit (yyyy-mm-dd).",
        "record missing: the documentation could not be found. No codes are needed; the unit "
        "counts as an error with the full paid amount at stake.",
        "not reviewed: you could not review the unit; say why in Rationale. It is left out of "
        "the scores and reported.",
        "Coder response and Coder comment are for the rebuttal round only (agree, disagree).",
        "Rows marked 'spare' are spares: review one only when your audit lead says a sampled "
        "unit is replaced.",
        "Yellow rows are still incomplete (no status, or no review date).",
        "You may sort and filter. Do not add, delete or copy rows, rename columns or sheets, or "
        "change the original data: the returned workbook is rejected, with the cell named, and "
        "nothing in it is accepted until it is fixed.",
    ]
    _set_text(ws.cell(row=1, column=1), f"Audit workbook: {plan.name}")
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    r = 3
    for label, value in facts:
        _set_text(ws.cell(row=r, column=1), label)
        ws.cell(row=r, column=1).font = Font(bold=True)
        _set_text(ws.cell(row=r, column=2), value)
        ws.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        r += 1
    r += 1
    _set_text(ws.cell(row=r, column=1), "How to fill in the Sample sheet")
    ws.cell(row=r, column=1).font = Font(bold=True, size=12)
    r += 1
    for n, step in enumerate(steps, start=1):
        _set_text(ws.cell(row=r, column=1), f"{n}.")
        _set_text(ws.cell(row=r, column=2), step)
        ws.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        r += 1
    r += 1
    _set_text(ws.cell(row=r, column=1), "Allowed values")
    ws.cell(row=r, column=1).font = Font(bold=True, size=12)
    r += 1
    for label, values in (
        ("Review status", STATUSES),
        ("Error category", ERROR_CATEGORIES),
        ("Coder response", CODER_RESPONSES),
    ):
        _set_text(ws.cell(row=r, column=1), label)
        _set_text(ws.cell(row=r, column=2), ", ".join(values))
        r += 1
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 110
    ws.protection.sheet = True
    if plan.workbook.protect_password:
        ws.protection.password = plan.workbook.protect_password


def _fill_audit(
    ws: Worksheet,
    audit_id: str,
    layout: WorkbookLayout,
    rows: Sequence[_Row],
    created: str,
) -> None:
    meta = [
        ("format", WORKBOOK_FORMAT),
        ("audit_id", audit_id),
        ("workbook_id", layout.workbook_id),
        ("auditor", layout.auditor),
        ("tool_version", __version__),
        ("created_at", created),
        ("units", str(len(rows))),
    ]
    for r, (key, value) in enumerate(meta, start=1):
        _set_text(ws.cell(row=r, column=1), key)
        _set_text(ws.cell(row=r, column=2), value)
    for c, title in enumerate(("unit_id", "row_sha256", "spare"), start=1):
        _set_text(ws.cell(row=_AUDIT_TABLE_ROW - 1, column=c), title)
    for r, row in enumerate(rows, start=_AUDIT_TABLE_ROW):
        _set_text(ws.cell(row=r, column=1), row.unit_id)
        _set_text(ws.cell(row=r, column=2), row.digest)
        _set_text(ws.cell(row=r, column=3), "true" if row.spare else "false")
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True
    # Nobody needs to unprotect this sheet: a random password nobody keeps.
    ws.protection.password = secrets.token_urlsafe(16)


def _escape_cr(data: bytes) -> bytes:
    """Rewrite raw CR in the package's XML as ``&#13;`` (XML parsers turn a raw CR into LF)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = src.read(info.filename)
            if info.filename.endswith(".xml"):
                member = member.replace(b"\r", b"&#13;")
            dst.writestr(info, member)
    return out.getvalue()


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnedSheet:
    """What a returned workbook holds: ``_audit`` metadata and the Sample grid as text.

    ``rows[0]`` is the header row (Excel row 1); ``rows[i]`` is Excel row ``i + 1``.
    """

    meta: dict[str, str]
    rows: list[list[str | None]]


def read_returned(data: bytes, *, where: str) -> tuple[ReturnedSheet | None, list[Problem]]:
    """Read a (checked, decrypted) returned workbook with fastexcel; problems if it is not ours."""
    not_ours = Problem(
        where=where,
        expected="an audit-kit workbook (with its hidden _audit sheet)",
        found="a workbook without the _audit sheet",
        fix="return the workbook audit-kit wrote (not a copy pasted into a new file).",
    )
    damaged = Problem(
        where=where,
        expected="a readable .xlsx workbook",
        found="a damaged workbook",
        fix="open it in Excel or LibreOffice, save it again as .xlsx, and return that.",
    )
    try:
        reader = fastexcel.read_excel(data)
        names = reader.sheet_names
    except Exception:  # calamine raises assorted errors on damaged files
        return None, [damaged]
    if SHEET_AUDIT not in names:
        return None, [not_ours]
    meta_rows = _grid(reader, data, SHEET_AUDIT, n_rows=8)
    if meta_rows is None:
        return None, [damaged]
    meta: dict[str, str] = {}
    for meta_row in meta_rows:
        if len(meta_row) >= 2 and meta_row[0]:
            meta[str(meta_row[0])] = "" if meta_row[1] is None else str(meta_row[1])
    if meta.get("format") != WORKBOOK_FORMAT:
        return None, [not_ours]
    if SHEET_SAMPLE not in names:
        return None, [
            Problem(
                where=where,
                expected=f"a sheet named {SHEET_SAMPLE}",
                found=f"sheets {', '.join(n for n in names if n != SHEET_AUDIT)}",
                fix=f"rename the sheet back to {SHEET_SAMPLE}.",
            )
        ]
    rows = _grid(reader, data, SHEET_SAMPLE)
    if rows is None:
        return None, [
            Problem(
                where=f"{where}, {SHEET_SAMPLE}",
                expected="a readable Sample sheet",
                found="cells that cannot be read",
                fix="open it in Excel or LibreOffice, save it again as .xlsx, and return that.",
            )
        ]
    return ReturnedSheet(meta=meta, rows=rows), []


def _grid(
    reader: Any, data: bytes, sheet: str, *, n_rows: int | None = None
) -> list[list[str | None]] | None:
    """Read a sheet's cells as text with fastexcel; fall back to openpyxl if calamine fails.

    calamine panics (a Rust panic, not an Exception) on some out-of-range date serials; the
    fallback reads the same cells with openpyxl, which shows those as ``#VALUE!``.
    """
    try:
        frame = reader.load_sheet(sheet, header_row=None, dtypes="string", n_rows=n_rows)
        table = frame.to_polars()
    except Exception:
        return _grid_openpyxl(data, sheet, n_rows=n_rows)
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        return _grid_openpyxl(data, sheet, n_rows=n_rows)
    columns = [table.get_column(name).to_list() for name in table.columns]
    return [list(values) for values in zip(*columns, strict=True)] if columns else []


def _grid_openpyxl(
    data: bytes, sheet: str, *, n_rows: int | None = None
) -> list[list[str | None]] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "marked as a date but outside the limits"
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                rows = [
                    [_cell_text(v) for v in row]
                    for row in book[sheet].iter_rows(max_row=n_rows, values_only=True)
                ]
            finally:
                book.close()
    except Exception:  # damaged beyond what openpyxl reads either
        return None
    return rows


def _cell_text(value: object) -> str | None:
    """Render a cell value as fastexcel's string dtype does."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)
