"""Whether two cells hold the same value once each is read as what it is.

The same rows saved as CSV and as XLSX are written differently (``$1,234.50`` and ``1234.5``,
``07/01/2026`` and ``2026-07-01 00:00:00``); read by the one money and date parsers they are
equal. Text is compared as it is, surrounding white space aside.
"""

from __future__ import annotations

from audit_kit.values.dates import NotADate, parse_date
from audit_kit.values.money import NotMoney, parse_money

__all__ = ["same_value"]


def same_value(a: str | None, b: str | None) -> bool:
    """True when ``a`` and ``b`` are the same text, amount or date (blank = blank)."""
    x, y = (a or "").strip(), (b or "").strip()
    if x == y:
        return True
    if not x or not y:
        return False
    for parse in (parse_date, parse_money):
        try:
            first, second = parse(x), parse(y)
        except (NotADate, NotMoney):
            continue
        return first == second
    return False
