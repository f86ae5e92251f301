"""Display strings for the reports: percentages, limits, dollars, counts, file names."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

VERDICTS = {
    "meets": "Meets target",
    "below": "Below target",
    "inconclusive": "Inconclusive",
}

DEMAND_RULES = {
    "point_estimate": (
        "Point estimate",
        "The point estimate of the universe total is used. It is the best single estimate but "
        "is exceeded by the true amount about half the time; it is customary in voluntary "
        "self-disclosures when the disclosing party accepts the estimate.",
    ),
    "cms_one_sided_90": (
        "Lower limit of the one-sided 90% confidence interval",
        "CMS Program Integrity Manual ch. 8 demands the lower limit of a one-sided 90% "
        "confidence interval (the lower limit of the two-sided 80% interval): the true amount "
        "exceeds it with 90% confidence, so the estimate is conservative for the provider.",
    ),
    "oig_two_sided_90": (
        "Lower limit of the two-sided 90% confidence interval",
        "OIG audits customarily use the lower limit of the two-sided 90% confidence interval: "
        "the true amount exceeds it with 95% confidence, more conservative than the CMS rule.",
    ),
}

NETTING = {
    "net": "overpayments netted against underpayments",
    "gross": "overpayments and underpayments added (gross)",
    "overpayments_only": "overpayments only (underpayments not netted)",
}

CLT_NOTE = (
    "The confidence limits of the dollar extrapolation rest on the central limit theorem. On "
    "skewed overpayment data they under-cover on the upper side: in a simulation on a "
    "10,000-unit universe with lognormal paid amounts and a 15% error rate, two-sided 90% "
    "intervals covered the true total in 67% (n=30), 72% (n=50), 77% (n=100) and 81% (n=200) of "
    "4,000 samples, while the one-sided 90% lower limit stayed below the truth 96-99% of the "
    "time, i.e. conservative for the provider, as CMS intends. The sample's skewness is printed "
    "so that a reader can judge how far this applies."
)

RATSTATS_STREAMS_NOTE = (
    "The RAT-STATS 2010 generator keeps only 16 bits of the seed (VB6 Randomize), so there are "
    "at most 65,536 distinct random-number streams; different seeds can give the same sample "
    "(for example seeds 4194304 to 4194307). The seed as entered and the Wichmann-Hill triple "
    "above re-create the sample exactly in RAT-STATS."
)

ROUNDING_NOTE = (
    "Accuracy is shown to one decimal. Lower confidence limits are rounded down and upper limits "
    "up, so a printed limit never claims more than the computation supports. Sample dollar "
    "amounts are shown to the cent and extrapolated amounts to whole dollars. Every number is "
    "in results.json, attached to this PDF."
)

#: Plain labels and one line of "what this means" for each measure, on the pages a compliance
#: officer reads (summary, per-coder feedback, attestation). Estimator names live in the
#: methodology appendix.
MEASURES = {
    "record": (
        "Record accuracy",
        "Share of audited records with no error of any kind.",
    ),
    "code": (
        "Code accuracy",
        "Share of the codes reviewed that were coded correctly (each code counts once).",
    ),
    "drg": (
        "DRG accuracy",
        "Share of audited records whose DRG (and so the hospital payment) did not change.",
    ),
    "financial_accuracy": (
        "Financial accuracy",
        "Share of audited records whose payment did not change.",
    ),
    "dollar_accuracy": (
        "Dollar accuracy",
        "Share of the dollars examined that were paid correctly (overpaid and underpaid dollars "
        "both count against it).",
    ),
}

DEMAND_MEANING = {
    "point_estimate": "The demand amount is the point estimate itself: the best single estimate of "
    "the overpayment in the whole population.",
    "cms_one_sided_90": "The demand amount is the lower confidence limit, not the point estimate "
    "(the best single estimate): the true overpayment exceeds it with 90% confidence, so the "
    "sample's uncertainty is resolved in the provider's favour and the demand is below the point "
    "estimate whenever the sample shows an overpayment.",
    "oig_two_sided_90": "The demand amount is the lower confidence limit, not the point estimate "
    "(the best single estimate): the true overpayment exceeds it with 95% confidence, so the "
    "sample's uncertainty is resolved in the provider's favour and the demand is below the point "
    "estimate whenever the sample shows an overpayment.",
}

# -- formatting ----------------------------------------------------------------------------


def finite_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def pct(value: Any, digits: int = 1) -> str:
    """Format a share 0..1 as a percentage (``0.9613`` -> ``96.1%``); missing -> ``n/a``."""
    number = finite_number(value)
    return "n/a" if number is None else f"{number * 100:.{digits}f}%"


def pct_lower(value: Any, digits: int = 1) -> str:
    """Format a lower confidence limit, rounded down (never overstating it)."""
    number = finite_number(value)
    if number is None:
        return "n/a"
    scale = 10**digits
    return f"{math.floor(round(number * 100 * scale, 6)) / scale:.{digits}f}%"


def pct_upper(value: Any, digits: int = 1) -> str:
    """Format an upper confidence limit, rounded up."""
    number = finite_number(value)
    if number is None:
        return "n/a"
    scale = 10**digits
    return f"{math.ceil(round(number * 100 * scale, 6)) / scale:.{digits}f}%"


def percent_units(value: Any) -> str:
    """Format a number already in percent (RAT-STATS precision percent): 201.0 -> 201.00%."""
    number = finite_number(value)
    return "n/a" if number is None else f"{number:,.2f}%"


def money(value: Any, *, cents: bool = True) -> str:
    """Format dollars: ``$1,234.56`` (or whole dollars); negative as ``-$1,234.56``."""
    number = finite_number(value)
    if number is None:
        return "n/a"
    text = f"${abs(number):,.2f}" if cents else f"${abs(round(number)):,.0f}"
    return ("-" + text) if number < 0 and text.strip("$0.,") else text


def count(value: Any) -> str:
    number = finite_number(value)
    if number is None:
        return "n/a"
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:,.2f}"


def conf(value: Any) -> str:
    """Format a confidence level 0.95 (or 95) as ``95%``."""
    number = finite_number(value)
    if number is None:
        return "n/a"
    if number <= 1:
        number *= 100
    return f"{number:g}%"


def text(value: Any) -> str:
    return "" if value is None else str(value)


def describe(value: Any) -> str:
    """Render a small JSON value (dict, list, scalar) as one readable line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return "; ".join(f"{k.replace('_', ' ')}: {describe(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(describe(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10))} | {
    f"lpt{i}" for i in range(10)
}


# Letters that are not a base letter with an accent (NFKD leaves them whole).
_LETTERS = str.maketrans(
    {"Ø": "O", "ø": "o", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "ß": "ss", "Ł": "L",
     "ł": "l", "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "ı": "i"}
)  # fmt: skip


def transliterate(name: str) -> str:
    """Letters without their accents (``José Núñez`` -> ``Jose Nunez``), so a name survives
    file systems and mail attachments as the letters it is made of."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def safe_file_stem(name: str, taken: set[str]) -> str:
    """Turn a coder id into a unique, portable file stem (``José Núñez`` -> ``Jose_Nunez``)."""
    stem = _UNSAFE.sub("_", transliterate(name.strip())).strip("._-")[:60] or "coder"
    if stem.lower() in _WINDOWS_RESERVED:
        stem = "coder_" + stem
    candidate, i = stem, 2
    while candidate.lower() in taken:
        candidate = f"{stem}-{i}"
        i += 1
    taken.add(candidate.lower())
    return candidate


def sub_mapping(obj: Any, key: str) -> Mapping[str, Any]:
    """Return obj[key] when it is a JSON object, else an empty mapping."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, Mapping) else {}
