"""Read a returned workbook's cells as text (fastexcel/calamine, openpyxl as the fallback)."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from dataclasses import dataclass
from typing import Any

import fastexcel
from openpyxl import load_workbook

from audit_kit.errors import Problem
from audit_kit.folder.workbook_record import (
    WORKBOOK_FORMAT,
)
from audit_kit.workbook._layout import (
    SHEET_AUDIT,
    SHEET_SAMPLE,
)

# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnedSheet:
    """What a returned workbook holds: ``_audit`` metadata and the Sample grid as text.

    The grid is kept by column, as it is read: ``columns[j][0]`` is column j's header (Excel
    row 1) and ``columns[j][i]`` its cell in Excel row ``i + 1``; every column is as long as the
    grid is tall.
    """

    meta: dict[str, str]
    columns: list[list[str | None]]

    @property
    def header(self) -> list[str | None]:
        """The header row (Excel row 1); empty for an empty sheet."""
        return [column[0] for column in self.columns if column]

    @property
    def rows(self) -> list[list[str | None]]:
        """The grid by row: ``rows[0]`` is the header row, ``rows[i]`` Excel row ``i + 1``."""
        return [list(row) for row in zip(*self.columns, strict=True)]


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
    meta_columns = _grid(reader, data, SHEET_AUDIT, n_rows=8)
    if meta_columns is None:
        return None, [damaged]
    meta: dict[str, str] = {}
    if len(meta_columns) >= 2:
        for key, value in zip(meta_columns[0], meta_columns[1], strict=True):
            if key:
                meta[str(key)] = "" if value is None else str(value)
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
    columns = _grid(reader, data, SHEET_SAMPLE)
    if columns is None:
        return None, [
            Problem(
                where=f"{where}, {SHEET_SAMPLE}",
                expected="a readable Sample sheet",
                found="cells that cannot be read",
                fix="open it in Excel or LibreOffice, save it again as .xlsx, and return that.",
            )
        ]
    return ReturnedSheet(meta=meta, columns=columns), []


def _grid(
    reader: Any, data: bytes, sheet: str, *, n_rows: int | None = None
) -> list[list[str | None]] | None:
    """Read a sheet's cells as text, by column, with fastexcel; openpyxl if calamine fails.

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
    return [table.get_column(name).to_list() for name in table.columns]


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
    width = max(map(len, rows), default=0)
    return [[row[j] if j < len(row) else None for row in rows] for j in range(width)]


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
