"""Shared pieces of the statistics layer: confidence levels, critical values, input checks."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from enum import StrEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import special

from audit_kit import errors
from audit_kit.errors import StatisticsError

__all__ = [
    "APPRAISAL_CONFIDENCES",
    "SIZE_CONFIDENCES",
    "SIZE_PRECISIONS",
    "CriticalValueRule",
    "Problems",
    "json_float",
    "t_critical",
    "z_critical",
]

#: Confidence levels RAT-STATS prints for appraisals (two-sided, percent).
APPRAISAL_CONFIDENCES: tuple[str, ...] = ("80", "90", "95")
#: Confidence levels of the sample-size tables.
SIZE_CONFIDENCES: tuple[str, ...] = ("80", "90", "95", "99")
#: Precision rows (percent of the point estimate) of the variable sample-size tables.
SIZE_PRECISIONS: tuple[float, ...] = (1, 2, 5, 10, 15, 25)


class CriticalValueRule(StrEnum):
    """Critical value of the overall interval of a stratified variable appraisal.

    ``ratstats``: z, as RAT-STATS 2010 prints (UG2010 p. 4-34); ``t``: Student t with
    sum(n_h - 1) degrees of freedom; ``z``: standard normal (same numbers as ``ratstats``,
    named for what it is).
    """

    RATSTATS = "ratstats"
    T = "t"
    Z = "z"


@lru_cache(maxsize=4096)
def t_critical(df: int, two_sided_confidence: float) -> float:
    """Student t quantile at (1 + CL)/2 with ``df`` degrees of freedom (NaN when df < 1)."""
    if df < 1:
        return math.nan
    return float(special.stdtrit(df, (1.0 + two_sided_confidence) / 2.0))


@lru_cache(maxsize=64)
def z_critical(two_sided_confidence: float) -> float:
    """Standard normal quantile at (1 + CL)/2."""
    return float(special.ndtri((1.0 + two_sided_confidence) / 2.0))


def json_float(value: float | None) -> float | None:
    """Return ``value`` with NaN and infinities as ``None`` (JSON has no NaN)."""
    if value is None or not math.isfinite(value):
        return None
    return value


_NUMBER_TYPES: frozenset[type] = frozenset(
    {float, int, np.float64, np.float32, np.int64, np.int32, np.int16, np.uint32}
)


class Problems(errors.Problems):
    """The problem collector raising :class:`StatisticsError`, with checks of numbers."""

    def __init__(self) -> None:
        super().__init__(StatisticsError)

    def count(self, where: str, value: object, *, minimum: int = 0, fix: str = "") -> int | None:
        """Check a whole number >= ``minimum``; return it, or ``None`` after recording why not."""
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer):
            self.add(where, f"a whole number >= {minimum}", repr(value), fix)
            return None
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            self.add(where, f"a whole number >= {minimum}", repr(value), fix)
            return None
        number = int(value)
        if number < minimum:
            self.add(where, f"a whole number >= {minimum}", str(number), fix)
            return None
        return number

    def number(self, where: str, value: object, *, fix: str = "") -> float | None:
        """Check a finite real number; return it as float, or ``None`` after recording why not."""
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            self.add(where, "a number", repr(value), fix)
            return None
        number = float(value)
        if not math.isfinite(number):
            self.add(where, "a finite number", repr(value), fix)
            return None
        return number

    def values(
        self, where: str, values: Iterable[object] | None, *, allow_empty: bool = False
    ) -> npt.NDArray[np.float64] | None:
        """Check a list of finite numbers; return a float64 array or ``None``."""
        if values is None:
            self.add(where, "a list of numbers", "nothing")
            return None
        if isinstance(values, str | bytes):
            self.add(where, "a list of numbers", "a text value")
            return None
        if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
            items: Sequence[object] = values.ravel().tolist()
        else:
            items = list(values)
        if not items and not allow_empty:
            self.add(where, "at least one value", "no values", "supply the sample's values.")
            return None
        if set(map(type, items)) <= _NUMBER_TYPES:  # fast path: plain numbers (no bools)
            array = np.asarray(items, dtype=np.float64)
            if bool(np.isfinite(array).all()):
                return array
        bad = [
            i
            for i, v in enumerate(items)
            if isinstance(v, bool)
            or not isinstance(v, int | float | np.integer | np.floating)
            or not math.isfinite(float(v))
        ]
        if bad:
            shown = ", ".join(f"{where}[{i}]" for i in bad[:10])
            more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
            self.add(
                where,
                "finite numbers only",
                f"{len(bad)} non-numeric or non-finite value(s) at {shown}{more}",
                "correct or remove those values.",
            )
            return None
        return np.asarray(items, dtype=np.float64)

    def confidence(self, where: str, value: object) -> float | None:
        """Check a two-sided confidence level given as a fraction in (0, 1)."""
        number = self.number(where, value)
        if number is None:
            return None
        if not 0.0 < number < 1.0:
            self.add(
                where,
                "a confidence level between 0 and 1 (0.90 for 90%)",
                repr(value),
                "give the level as a fraction, e.g. 0.90.",
            )
            return None
        return number
