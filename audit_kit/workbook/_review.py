"""Rebuttal and decisions workbooks: the auditor workbook's discipline for other recipients.

A *review* workbook shows findings (locked: they are the record under review) beside a few
columns its recipient fills in (unlocked, drop-downs where the values are a list): the coder's
``Coder response`` and ``Coder comment``, or the lead's ``Decision`` and its rationale. The
sheets are as in an auditor workbook: ``Instructions``; the work sheet (``Findings`` for a
coder, ``Disputes`` for the lead); ``Lists`` (hidden); ``_audit`` (very hidden, protected:
format, audit id, workbook id, unit ids with the SHA-256 of each row's locked cells). Every
text is written as text (never a formula), rows still to fill are highlighted, the header is
frozen, and only the columns a finding needs are written (codes and amounts, no patient data).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from audit_kit._version import __version__
from audit_kit.folder.workbook_record import ColumnKind
from audit_kit.workbook._layout import (
    SHEET_AUDIT,
    SHEET_INSTRUCTIONS,
    SHEET_LISTS,
    as_date,
    as_float,
    canonical_value,
    row_digest,
)
from audit_kit.workbook._write import INSTRUCTION_WIDTH, escape_cr, wrapped_height
from audit_kit.workbook.cells import set_text as _set_text

__all__ = [
    "DECISIONS_FORMAT",
    "REBUTTAL_FORMAT",
    "REVIEW_SHEETS",
    "ReviewBook",
    "ReviewColumn",
    "ReviewRow",
    "render_review",
    "review_digest",
]

REBUTTAL_FORMAT = "audit-kit-rebuttal/1"
DECISIONS_FORMAT = "audit-kit-decisions/1"
#: The work sheet of each kind of review workbook.
REVIEW_SHEETS: dict[str, str] = {REBUTTAL_FORMAT: "Findings", DECISIONS_FORMAT: "Disputes"}
AUDIT_TABLE_ROW = 10  # first row of the unit table in the _audit sheet

_LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_INPUT_HEADER_FILL = PatternFill("solid", fgColor="548235")
_INCOMPLETE_FILL = PatternFill("solid", fgColor="FFF2CC", bgColor="FFF2CC")
_AMOUNT_FORMAT = "#,##0.00"
_DATE_FORMAT = "yyyy-mm-dd"
_TEXT_FORMAT = "@"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewColumn:
    """One column of the work sheet: locked (the record) or an input of the recipient."""

    header: str
    kind: ColumnKind = "text"
    locked: bool = True
    choices: tuple[str, ...] = ()
    width: int = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRow:
    """One finding or dispute: its unit, its kind, and the text of each cell (header -> text)."""

    unit_id: str
    kind: str
    values: Mapping[str, str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewBook:
    """Everything a review workbook shows and records."""

    format: str
    workbook_id: str
    title: str
    columns: tuple[ReviewColumn, ...]
    rows: tuple[ReviewRow, ...]
    facts: tuple[tuple[str, str], ...]
    steps: tuple[str, ...]
    #: the input a row needs before it counts as done (its row is highlighted while empty)
    required: str

    @property
    def sheet(self) -> str:
        return REVIEW_SHEETS[self.format]

    @property
    def locked(self) -> tuple[ReviewColumn, ...]:
        return tuple(c for c in self.columns if c.locked)


def review_digest(columns: Sequence[ReviewColumn], values: Mapping[str, str | None]) -> str:
    """SHA-256 of a row's locked cells (canonical form, in column order; unit id first)."""
    return row_digest([canonical_value(values.get(c.header), c.kind) for c in columns if c.locked])


def render_review(
    book: ReviewBook, *, audit_id: str, created: str, protect_password: str | None
) -> bytes:
    """Render a review workbook (xlsx bytes, not encrypted)."""
    wb = Workbook()
    ws_info = wb.active
    assert ws_info is not None  # a new Workbook always has one sheet
    ws_info.title = SHEET_INSTRUCTIONS
    ws = wb.create_sheet(book.sheet)
    ws_lists = wb.create_sheet(SHEET_LISTS)
    ws_audit = wb.create_sheet(SHEET_AUDIT)
    col_of = {c.header: i for i, c in enumerate(book.columns, start=1)}
    last = len(book.rows) + 1
    has_cr = False

    for i, column in enumerate(book.columns, start=1):
        cell = ws.cell(row=1, column=i)
        _set_text(cell, column.header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL if column.locked else _INPUT_HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(i)].width = column.width
    for r, row in enumerate(book.rows, start=2):
        # Neither Excel nor LibreOffice grows a row to fit text wrapped by openpyxl: set it.
        ws.row_dimensions[r].height = max(
            wrapped_height(str(row.values.get(c.header) or ""), c.width) for c in book.columns
        )
        for i, column in enumerate(book.columns, start=1):
            cell = ws.cell(row=r, column=i)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if column.locked:
                cell.fill = _LOCKED_FILL
            else:
                cell.protection = Protection(locked=False)
            value = row.values.get(column.header)
            if column.kind == "number":
                cell.number_format = _AMOUNT_FORMAT
                number = as_float(value) if value else None
                if number is not None:
                    cell.value = number
                elif value:
                    _set_text(cell, value)
            elif column.kind == "date":
                cell.number_format = _DATE_FORMAT
                day = as_date(value) if value else None
                if day is not None:
                    cell.value = day
                elif value:
                    _set_text(cell, value)
            else:
                cell.number_format = _TEXT_FORMAT
                if value:
                    has_cr = has_cr or "\r" in value
                    _set_text(cell, value)

    ws.freeze_panes = "C2"
    ws.row_dimensions[1].height = 32
    ws.auto_filter.ref = f"A1:{get_column_letter(len(book.columns))}{last}"
    lists = [c for c in book.columns if c.choices]
    if last >= 2:
        for j, column in enumerate(lists, start=1):
            letter = get_column_letter(j)
            dv = DataValidation(
                type="list",
                formula1=f"={SHEET_LISTS}!${letter}$2:${letter}${1 + len(column.choices)}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=column.header,
                error=f"Choose one of: {', '.join(column.choices)}.",
                promptTitle=column.header,
                prompt=f"One of: {', '.join(column.choices)}.",
                showInputMessage=True,
            )
            target = get_column_letter(col_of[column.header])
            dv.add(f"{target}2:{target}{last}")
            ws.add_data_validation(dv)
        for column in book.columns:
            if column.locked or column.kind == "text":
                continue
            target = get_column_letter(col_of[column.header])
            if column.kind == "number":
                check = DataValidation(
                    type="decimal",
                    operator="greaterThanOrEqual",
                    formula1="0",
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle=column.header,
                    error="Enter an amount of 0 or more.",
                )
            else:
                check = DataValidation(
                    type="date",
                    operator="between",
                    formula1="DATE(2000,1,1)",
                    formula2="DATE(2099,12,31)",
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle=column.header,
                    error="Enter a date (yyyy-mm-dd).",
                )
            check.add(f"{target}2:{target}{last}")
            ws.add_data_validation(check)
        first_input = min(i for c, i in col_of.items() if not _is_locked(book, c))
        required = get_column_letter(col_of[book.required])
        ws.conditional_formatting.add(
            f"{get_column_letter(first_input)}2:{get_column_letter(len(book.columns))}{last}",
            FormulaRule(  # type: ignore[no-untyped-call]
                formula=[f'${required}2=""'], fill=_INCOMPLETE_FILL, stopIfTrue=False
            ),
        )
    _protect(ws, protect_password)
    ws.protection.sort = False
    ws.protection.autoFilter = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False

    for j, column in enumerate(lists, start=1):
        _set_text(ws_lists.cell(row=1, column=j), column.header)
        ws_lists.cell(row=1, column=j).font = Font(bold=True)
        for r, value in enumerate(column.choices, start=2):
            _set_text(ws_lists.cell(row=r, column=j), value)
    ws_lists.sheet_state = "hidden"
    _protect(ws_lists, protect_password)

    _instructions(ws_info, book, lists, protect_password)
    meta = [
        ("format", book.format),
        ("audit_id", audit_id),
        ("workbook_id", book.workbook_id),
        ("tool_version", __version__),
        ("created_at", created),
        ("units", str(len(book.rows))),
    ]
    for r, (key, value) in enumerate(meta, start=1):
        _set_text(ws_audit.cell(row=r, column=1), key)
        _set_text(ws_audit.cell(row=r, column=2), value)
    for c, title in enumerate(("unit_id", "kind", "row_sha256"), start=1):
        _set_text(ws_audit.cell(row=AUDIT_TABLE_ROW - 1, column=c), title)
    for r, row in enumerate(book.rows, start=AUDIT_TABLE_ROW):
        _set_text(ws_audit.cell(row=r, column=1), row.unit_id)
        _set_text(ws_audit.cell(row=r, column=2), row.kind)
        _set_text(ws_audit.cell(row=r, column=3), review_digest(book.columns, row.values))
    ws_audit.sheet_state = "veryHidden"
    ws_audit.protection.sheet = True
    # Nobody needs to unprotect this sheet: a random password nobody keeps.
    ws_audit.protection.password = secrets.token_urlsafe(16)

    wb.security = WorkbookProtection(workbookPassword=protect_password, lockStructure=True)
    wb.active = 1  # open on the work sheet
    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    return escape_cr(data) if has_cr else data


def _is_locked(book: ReviewBook, header: str) -> bool:
    return next(c.locked for c in book.columns if c.header == header)


def _protect(ws: Worksheet, password: str | None) -> None:
    ws.protection.sheet = True
    if password:
        ws.protection.password = password


def _instructions(
    ws: Worksheet,
    book: ReviewBook,
    lists: Sequence[ReviewColumn],
    password: str | None,
) -> None:
    _set_text(ws.cell(row=1, column=1), book.title)
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    r = 3
    for label, value in book.facts:
        _set_text(ws.cell(row=r, column=1), label)
        ws.cell(row=r, column=1).font = Font(bold=True)
        _set_text(ws.cell(row=r, column=2), value)
        ws.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = wrapped_height(value, INSTRUCTION_WIDTH)
        r += 1
    r += 1
    _set_text(ws.cell(row=r, column=1), f"How to fill in the {book.sheet} sheet")
    ws.cell(row=r, column=1).font = Font(bold=True, size=12)
    r += 1
    for n, step in enumerate(book.steps, start=1):
        _set_text(ws.cell(row=r, column=1), f"{n}.")
        ws.cell(row=r, column=1).alignment = Alignment(vertical="top")
        _set_text(ws.cell(row=r, column=2), step)
        ws.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = wrapped_height(step, INSTRUCTION_WIDTH)
        r += 1
    if lists:
        r += 1
        _set_text(ws.cell(row=r, column=1), "Allowed values")
        ws.cell(row=r, column=1).font = Font(bold=True, size=12)
        r += 1
        for column in lists:
            _set_text(ws.cell(row=r, column=1), column.header)
            _set_text(ws.cell(row=r, column=2), ", ".join(column.choices))
            r += 1
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = INSTRUCTION_WIDTH
    _protect(ws, password)
