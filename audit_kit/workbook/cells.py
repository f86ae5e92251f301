"""Write text into an Excel cell so that it arrives exactly as it was, never as a formula.

Shared by the auditor workbooks and results.xlsx (formula injection: docs/security.md).
"""

from __future__ import annotations

import re

from openpyxl.cell.cell import Cell, MergedCell

__all__ = ["excel_text", "set_text"]

_ESCAPE_RE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_ILLEGAL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def excel_text(text: str) -> str:
    """Escape a string for a cell: literal ``_xHHHH_`` and characters XML 1.0 cannot hold.

    Excel decodes ``_xHHHH_`` in strings, so a literal one is escaped as ``_x005F_``, and the
    same escape carries control characters. CR is kept (the workbook writer stores it as &#13;).
    """
    text = _ESCAPE_RE.sub(r"_x005F_\1", text)
    return _ILLEGAL_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def set_text(cell: Cell | MergedCell, text: str) -> None:
    """Write a string cell that Excel shows as text, never as a formula."""
    cell.value = excel_text(text)
    cell.data_type = "s"
    cell.quotePrefix = True
