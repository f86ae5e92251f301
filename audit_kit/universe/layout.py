"""Where the table is in an export: title rows above the header, total and report lines below.

Reports saved from billing systems and Excel often carry a title (``Q3 Charges Report``, a
run date) above the header row and a ``Grand Total`` row or a "report run" line after the last
unit. :func:`find_header` picks the header row among the first rows (or checks the plan's
``frame.header_row``); :func:`footer_rows` recognises the total and report lines at the end.
Both look at a few rows only, so a large file costs nothing more to read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from audit_kit.errors import InputError, Problem
from audit_kit.values.dates import is_date_text
from audit_kit.values.money import is_money_text

__all__ = ["HEAD_ROWS", "Footer", "find_header", "footer_kind", "footer_note", "footer_rows"]

#: How many rows at the top may hold the header (title rows above it).
HEAD_ROWS = 30
#: How many rows at the end are looked at for totals and report lines.
TAIL_ROWS = 30

Cells = Sequence[str | None]

_FOOTER_RE = re.compile(
    r"^\s*(?:\*+\s*)?(?:"
    r"(?P<total>grand\s*totals?|sub-?\s*totals?|report\s+totals?|totals?(?:\s+for\b.*)?(?:\s*:)?$"
    r"|totals?\s+(?:records|rows|claims|encounters|accounts|charges|payments|paid|billed)\b)"
    r"|(?P<report>report\s+(?:run|generated|printed|date|created|produced)\b"
    r"|(?:run|printed|print|generated|created)\s+(?:date|on|at|by)\b"
    r"|page\s+\d+(?:\s+of\s+\d+)?\s*$|end\s+of\s+(?:report|file|data)\b"
    r"|(?:record|row|line|claim|encounter)s?\s+count\b|(?:records|rows)\s*:\s*\d)"
    r")",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Footer:
    """A row after the units: ``offset`` rows before the end (1 = the last row), its kind."""

    offset: int
    kind: str  # "total row" | "report line"


def _text(cell: str | None) -> str:
    return "" if cell is None else str(cell).strip()


def footer_kind(cells: Cells, width: int) -> str | None:
    """``total row`` or ``report line`` when the row is one, else None.

    A row is a footer when a cell says so (``Grand Total``, ``Total``, ``Report run ...``,
    ``Page 3 of 3``) or when it holds amounts only, and in either case fills at most half of
    the ``width`` columns: a unit's row is full, a total fills a label and a few sums.
    """
    filled = [t for t in (_text(c) for c in cells) if t]
    if not filled or len(filled) > max(1, width // 2):
        return None
    for text in filled:
        match = _FOOTER_RE.match(text)
        if match:
            return "total row" if match.group("total") else "report line"
    if all(is_money_text(t) for t in filled) and any(not t.isdigit() for t in filled):
        return "total row"
    return None


def footer_rows(rows_from_end: Sequence[Cells], width: int) -> tuple[list[Footer], int]:
    """The footers among the last rows (given last first), and how many rows the footer block
    spans (blank rows between and after footers included); (``[]``, 0) when there is none."""
    found: list[Footer] = []
    span = 0
    for offset, cells in enumerate(rows_from_end[:TAIL_ROWS], start=1):
        if not any(_text(c) for c in cells):
            continue
        kind = footer_kind(cells, width)
        if kind is None:
            break
        found.append(Footer(offset, kind))
        span = offset
    found.reverse()
    return found, span


def _named(cells: Cells) -> list[str]:
    return [t for t in (_text(c) for c in cells) if t and not t.startswith("__UNNAMED__")]


def _looks_like_header(cells: Cells, widest: int) -> bool:
    named = _named(cells)
    if len(named) < 2 or len(named) < math.ceil(0.6 * widest):
        return False
    values = sum(1 for t in named if is_money_text(t) or is_date_text(t))
    return values <= len(named) // 4  # a header names columns; data rows hold numbers, dates


def find_header(rows: Sequence[Cells], *, header_row: int | None, where: str) -> int:
    """The 0-based index of the header row among ``rows`` (the file's first rows).

    With ``header_row`` (1-based, the plan's ``frame.header_row``) that row, checked; without,
    the first row that names most columns (title rows name one). A header made of one text
    cell and unnamed columns is refused with the fix.
    """
    widest = max((len(_named(r)) for r in rows[:HEAD_ROWS]), default=0)
    if header_row is not None:
        index = header_row - 1
        if index >= len(rows) or len(_named(rows[index])) < min(2, widest):
            raise _refuse(rows, index, where, given=True)
        return index
    if rows and _looks_like_header(rows[0], widest):
        return 0
    for index, cells in enumerate(rows[:HEAD_ROWS]):
        if _looks_like_header(cells, widest):
            return index
    if rows and len(_named(rows[0])) >= 2:
        return 0  # a header of numbers-like names: take it as written
    raise _refuse(rows, 0, where, given=False)


def _refuse(rows: Sequence[Cells], index: int, where: str, *, given: bool) -> InputError:
    cells = rows[index] if 0 <= index < len(rows) else []
    named = _named(cells)
    found = (
        f"row {index + 1} holds {len(named)} named cell(s)"
        + (f" ({named[0][:40]!r})" if named else "")
        + f" and {max(len(cells) - len(named), 0)} unnamed column(s)"
    )
    candidates = [
        i + 1 for i, r in enumerate(rows[:HEAD_ROWS]) if len(_named(r)) >= 2 and i != index
    ]
    hint = (
        f" (row {candidates[0]} names {len(_named(rows[candidates[0] - 1]))} columns)"
        if candidates
        else ""
    )
    fix = (
        "set frame.header_row in the plan to the row that names the columns"
        + hint
        + ", or delete the title rows above the header in the export."
    )
    return InputError(
        "The universe file's header row cannot be found.",
        [
            Problem(
                where=f"{where}: row {index + 1}" + (" (frame.header_row)" if given else ""),
                expected="a header row naming the columns (Acct #, DOS, Coder Name, ...)",
                found=found,
                fix=fix,
            )
        ],
    )


def footer_note(labels: Sequence[dict[str, object]]) -> str:
    """The note that footer rows were recognised and are not units."""
    shown = ", ".join(f"row {f['row']} ({f['kind']})" for f in labels)
    count = len(labels)
    return (
        f"{count} footer row{'s' if count > 1 else ''} at the end (totals, report lines) "
        f"{'are' if count > 1 else 'is'} not units and {'were' if count > 1 else 'was'} not "
        f"read: {shown}."
    )
