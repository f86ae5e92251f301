"""How one returned cell is read: drop-down choices, dates, amounts, codes, original values.

Used by the rules of :mod:`audit_kit.findings._check`. Values repeat across returns (codes,
dates, drop-down choices): the readers are cached per distinct text.
"""

from __future__ import annotations

import datetime as dt
import functools

from audit_kit.values.codes import CodeCheck, CodeKind, check_codes, join_codes
from audit_kit.values.dates import NotADate
from audit_kit.values.dates import parse_date as parse_one_date
from audit_kit.values.money import NotMoney, parse_money
from audit_kit.workbook import canonical_value

SCORED = ("reviewed", "record missing")
#: The audited code columns: header, code kind, findings column.
CODE_CELLS: tuple[tuple[str, CodeKind, str], ...] = (
    ("Audited principal dx", "dx", "audited_principal_dx"),
    ("Audited other dx", "dx", "audited_other_dx"),
    ("Audited procedures", "px", "audited_procedures"),
    ("Audited CPT/HCPCS", "cpt", "audited_cpt"),
    ("Audited DRG", "drg", "audited_drg"),
)
#: The code columns that hold one code, not a list.
SINGLE_CODE = ("Audited principal dx", "Audited DRG")
OLDEST_DATE = dt.date(2000, 1, 1)


def col_letter(index: int) -> str:
    """Return the Excel column letters of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def parse_amount(text: str) -> float | None:
    """Read an amount cell with the one money parser (None when blank or not an amount)."""
    try:
        return parse_money(text)
    except NotMoney:
        return None


def parse_date(text: str) -> dt.date | None:
    """Read a date cell with the one date parser (None when blank or not a date)."""
    try:
        return parse_one_date(text)
    except NotADate:
        return None


#: The comparable form of an original number or date cell, computed once per distinct text.
canonical = functools.lru_cache(maxsize=65536)(canonical_value)


@functools.lru_cache(maxsize=4096)
def review_day(text: str) -> tuple[dt.date | None, str]:
    """A Review date cell read as a date and its ISO form (cached per distinct text)."""
    day = parse_date(text)
    return day, "" if day is None else day.isoformat()


@functools.lru_cache(maxsize=4096)
def choice(text: str) -> str:
    """A drop-down value as compared: lower case, runs of white space as one space."""
    return " ".join(text.lower().split())


@functools.lru_cache(maxsize=65536)
def code_cell(text: str, kind: CodeKind, separator: str) -> tuple[CodeCheck, str]:
    """Check one code cell (cached per distinct text); return the check and the joined codes."""
    result = check_codes(text, kind, separator=separator)
    return result, join_codes(result.codes)
