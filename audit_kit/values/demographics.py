"""CMS-HCC demographics of an enrollee-year, read from universe cells (the hcc basis).

Each reader returns the value in the form the CMS-HCC model takes, or None for a cell it
cannot read; :data:`EXPECTED` says what a cell should hold (the error messages use it).
"""

from __future__ import annotations

import datetime as dt
import math

#: field -> what a valid cell looks like (for error messages).
EXPECTED = {
    "age": "an age in whole years, 0-124",
    "birth_date": "a date of birth (2026-07-01, 07/01/2026 or 20260701)",
    "sex": "M or F (or the CMS codes 1 male, 2 female)",
    "orec": "the original reason for entitlement: 0 old age, 1 disability, 2 ESRD, 3 both",
    "dual_status": "a Medicaid dual status code 00-10 (00 or NA: not dual; 02, 04, 08: full "
    "benefit; 01, 03, 05, 06: partial), or Y/N",
    "institutional": "Y or N (long-term institutional, 90 days or more)",
    "months": "the months enrolled in the payment year, a whole number 1-12",
}

_TRUE = {"y", "yes", "true", "1", "t"}
_FALSE = {"n", "no", "false", "0", "f", ""}


def _clean(value: object) -> str:
    return "" if value is None else str(value).strip()


def read_age(value: object) -> int | None:
    text = _clean(value)
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or number != int(number) or not 0 <= number <= 124:
        return None
    return int(number)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years from ``birth`` to ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def read_sex(value: object) -> str | None:
    text = _clean(value).upper()
    return {"M": "M", "F": "F", "1": "M", "2": "F", "MALE": "M", "FEMALE": "F"}.get(text)


def read_orec(value: object) -> str | None:
    text = _clean(value)
    return text if text in ("0", "1", "2", "3") else None


def read_dual_status(value: object) -> str | None:
    """The Medicare-Medicaid dual eligibility code as hccinfhir takes it ('00'-'10', 'NA')."""
    text = _clean(value).upper()
    if text in ("NA", "N", "NO", "FALSE"):
        return "NA"
    if text in ("Y", "YES", "TRUE"):
        return "02"  # full benefit dual, the common case when only a flag is exported
    if text.isdigit() and 0 <= int(text) <= 10 and len(text) <= 2:
        return f"{int(text):02d}"
    if text == "99":
        return "99"
    return None


def read_flag(value: object) -> bool | None:
    text = _clean(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE - {""}:
        return False
    return None


def read_months(value: object) -> int | None:
    text = _clean(value)
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or number != int(number) or not 1 <= number <= 12:
        return None
    return int(number)


#: field -> reader (birth_date is read as a date by the universe layer).
READERS = {
    "age": read_age,
    "sex": read_sex,
    "orec": read_orec,
    "dual_status": read_dual_status,
    "institutional": read_flag,
    "months": read_months,
}
