"""The audit's record of issued workbooks, the fixed headers and values, and a unit's codes.

Shared by writing (:mod:`audit_kit.workbook._write`), reading back
(:mod:`audit_kit.workbook._read`) and collection (:mod:`audit_kit.findings`): the finding
headers and allowed values, ``workbooks/<id>.json`` (:class:`WorkbookLayout`), the canonical
form and SHA-256 of a row's original values, and the codes a row is pre-filled with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from audit_kit.folder.manifest import AuditFolder
from audit_kit.folder.workbook_record import (
    ColumnKind,
    WorkbookLayout,
)
from audit_kit.plan import SamplingPlan
from audit_kit.values.codes import row_cpt_codes, split_codes
from audit_kit.values.dates import NotADate, parse_date
from audit_kit.values.money import NotMoney, parse_money

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


# -- the audit's recorded state ----------------------------------------------------------------


def load_audit(folder: AuditFolder) -> tuple[SamplingPlan, pl.DataFrame]:
    """Read the plan and sample.csv (every column as text, exactly as sampling wrote it)."""
    return folder.read_plan(), folder.read_sample()


def load_layouts(folder: AuditFolder) -> dict[str, WorkbookLayout]:
    """Return every issued workbook's recorded layout, by workbook id."""
    return folder.read_layouts()


# -- values ------------------------------------------------------------------------------------


def as_float(text: str) -> float | None:
    try:
        return parse_money(text)
    except NotMoney:
        return None


def as_date(text: str) -> dt.date | None:
    try:
        return parse_date(text)
    except NotADate:
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
        number = as_float(value)
        return repr(number) if number is not None else value
    if kind == "date":
        day = as_date(value)
        return day.isoformat() if day is not None else value
    return value


def row_digest(values: Sequence[str]) -> str:
    """SHA-256 of a row's canonical original values (unit id first), each length-prefixed."""
    payload = "".join([f"{len(v)}:{v}" for v in values])
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def row_digests(columns: Sequence[Sequence[str]]) -> list[str]:
    """:func:`row_digest` of every row of a grid given by column (all columns equally long)."""
    parts = [[f"{len(v)}:{v}" for v in column] for column in columns]
    sha256 = hashlib.sha256
    return [
        sha256("".join(row).encode("utf-8", "surrogatepass")).hexdigest()
        for row in zip(*parts, strict=True)
    ]


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
    modifiers = plan.columns.modifiers  # modifier columns: attached to their code
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
            cpt=tuple(row_cpt_codes(row, cpt_cols, modifiers, sep)),
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
