"""Recognise columns by their values: code lists, money, dates, sex, age, setting, PHI patterns.

Each test answers for a sample of a column's non-empty values: a column fits a pattern when at
least :data:`SHARE` of them do. ICD-10-CM codes are checked against the public code set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import polars as pl

from audit_kit.values.codes import icd10cm_status, parse_cpt, split_codes
from audit_kit.values.dates import is_date_text
from audit_kit.values.money import is_money_text

__all__ = [
    "INT_RE",
    "KIND_NAMES",
    "PHI_VALUE_NAMES",
    "SETTING_VALUES",
    "SEX_VALUES",
    "SHARE",
    "code_field",
    "code_kind",
    "detect_separator",
    "is_date",
    "is_money",
    "is_number",
    "phi_by_value",
    "fit_share",
    "text_values",
]

SHARE = 0.8  # share of non-empty sample values that must fit a pattern


_SSN_RE = re.compile(r"^\d{3}-\d{2}-\d{4}$")


_PHONE_RE = re.compile(r"^\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}$")


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


INT_RE = re.compile(r"^\d{1,3}$")


_PCS_RE = re.compile(r"^[0-9BCDFGHX][0-9A-HJ-NP-Z]{6}$")


_CPT_ONLY_RE = re.compile(r"^(\d{5}|\d{4}[FTU])$")


_HCPCS_RE = re.compile(r"^[ABCDEGHJKLMPQRSTV]\d{4}$")


_DRG_RE = re.compile(r"^\d{3}$")


SEX_VALUES = frozenset({"m", "f", "u", "male", "female", "unknown", "x"})


SETTING_VALUES = frozenset(
    {
        "inpatient",
        "outpatient",
        "professional",
        "ip",
        "op",
        "pro",
        "profee",
        "observation",
        "obs",
        "emergency",
        "ed",
        "er",
        "clinic",
        "office",
        "ambulatory",
        "asc",
        "same day surgery",
        "sds",
        "recurring",
        "i",
        "o",
    }
)


def text_values(series: pl.Series) -> list[str]:
    out = []
    for value in series.cast(pl.String).to_list():
        if value is None:
            continue
        text = str(value).strip()
        if text:
            out.append(text)
    return out


def fit_share(values: Sequence[str], test: Callable[[str], bool]) -> float:
    if not values:
        return 0.0
    return sum(1 for v in values if test(v)) / len(values)


def is_money(text: str) -> bool:
    """An amount as the money parser reads it, written as money (cents, '$' or grouping):
    a column of plain integers is more likely counts or ids than dollars."""
    return is_money_text(text) and any(c in text for c in ".$,()")


def is_number(text: str) -> bool:
    return is_money_text(text)


def is_date(text: str) -> bool:
    return is_date_text(text)


def code_kind(token: str) -> str:
    """Classify one token: dx, px, cpt, ambiguous (HCPCS or undotted ICD-10-CM), or other."""
    code = token.strip().upper()
    if "." in code:
        return "dx" if icd10cm_status(code) != "unknown" else "other"
    if _CPT_ONLY_RE.match(code):
        return "cpt"
    if _HCPCS_RE.match(code):
        return "ambiguous" if icd10cm_status(code) != "unknown" else "cpt"
    if code[:1].isalpha() and icd10cm_status(code) != "unknown":
        return "dx"
    if _PCS_RE.match(code):
        return "px"
    return "cpt" if parse_cpt(code) is not None else "other"


def code_field(values: Sequence[str], separator: str) -> tuple[str | None, float]:
    """Return the code field most values of a column fit (dx, px, cpt) and the share."""
    tokens = [t for v in values for t in split_codes(v, separator)]
    if not tokens:
        return None, 0.0
    counts = {"dx": 0, "px": 0, "cpt": 0, "ambiguous": 0, "other": 0}
    for token in tokens[:2000]:
        counts[code_kind(token)] += 1
    n = sum(counts.values())
    amb = counts["ambiguous"]
    best = max(("dx", "px", "cpt"), key=lambda k: counts[k])
    share = (counts[best] + (amb if best in ("dx", "cpt") else 0)) / n
    if counts[best] == 0 and amb:
        best, share = "dx", amb / n
    return (best, share) if share >= SHARE else (None, share)


def detect_separator(values: Sequence[str]) -> str:
    head = values[:200]
    for sep in ("|", "^", "~", "/"):
        if head and sum(1 for v in head if sep in v) / len(head) > 0.3:
            return sep
    return ";"


PHI_VALUE_NAMES = {"ssn": "SSNs", "phone": "phone numbers", "email": "e-mail addresses"}


def phi_by_value(values: Sequence[str]) -> str | None:
    if not values:
        return None
    if fit_share(values, lambda v: bool(_SSN_RE.match(v))) >= SHARE:
        return "ssn"
    if fit_share(values, lambda v: bool(_PHONE_RE.match(v))) >= SHARE:
        return "phone"
    if fit_share(values, lambda v: bool(_EMAIL_RE.match(v))) >= SHARE:
        return "email"
    return None


KIND_NAMES = {"dx": "ICD-10-CM codes", "px": "ICD-10-PCS codes", "cpt": "CPT/HCPCS codes"}
