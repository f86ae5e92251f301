"""Lower bounds with guaranteed coverage for non-negative overpayments (beyond RAT-STATS).

RAT-STATS' t limits rest on the central limit theorem; on overpayments that are mostly full
denials of similar amounts a one-sided lower limit can fall above the truth far more often
than its level says. These bounds hold at any sample size under the stated assumptions:

* **minimum-sum** (Edwards, Ward-Besser, Lasecki, Parker, Wieduwilt, Wu and Moorhead, "The
  minimum sum method: a distribution-free sampling procedure for Medicare fraud
  investigations", Health Services and Outcomes Research Methodology 4:241-263): an exact
  hypergeometric lower bound L on the number of units in error, then the sampled
  overpayments plus the smallest paid amounts that the L - x unsampled errors must at least
  carry. Assumes every erroneous unit is overpaid by its whole paid amount (full denials).
* **Kaplan-Wald**, sampling without replacement (Kaplan 1987; Stark's lecture notes,
  "kaplanWald"): a nonnegative-supermartingale test of "the mean is t", inverted. Assumes
  only that every value is >= 0; needs the values in draw order.
* **Bonferroni** across strata: each stratum's bound at level 1 - alpha/H, summed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize

from audit_kit.stats._core import Problems
from audit_kit.stats.attribute import hypergeometric_limits

__all__ = [
    "PaidSteps",
    "RobustBound",
    "RobustMethod",
    "bonferroni_lower_bound",
    "kaplan_wald_lower_bound",
    "left_skew_flag",
    "minimum_sum_lower_bound",
    "paid_steps",
]

FloatArray = npt.NDArray[np.float64]

#: Kaplan-Wald's betting fraction, fixed before the data are seen (0.5 did well in the
#: simulations of docs/methods.md; any fixed value in (0, 1) keeps the guarantee).
GAMMA = 0.5


class RobustMethod(StrEnum):
    """The plan's ``financial.robust_bound``."""

    MINIMUM_SUM = "minimum_sum"
    KAPLAN_WALD = "kaplan_wald"
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class RobustBound:
    """A one-sided lower bound on a universe total of non-negative overpayments."""

    method: str
    confidence: float
    lower: float
    population: int
    sample: int
    strata: tuple[dict[str, Any], ...] = ()
    assumption: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "confidence": self.confidence,
            "lower": self.lower,
            "population": self.population,
            "sample": self.sample,
            "assumption": self.assumption,
            "strata": list(self.strata),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PaidSteps:
    """The ascending paid amounts of a frame, or a conservative step summary of them.

    ``ranks[j]`` (0-based, ascending, ``ranks[0] = 0``) is the position of ``values[j]`` in the
    sorted amounts of ``units`` units. The sum of the k smallest amounts is at least
    sum_j values[j] * #{i < k : ranks[j] <= i < ranks[j+1]}, since every amount ranked at or
    after ranks[j] is >= values[j]; with every rank kept it is exact.
    """

    units: int
    ranks: tuple[int, ...]
    values: tuple[float, ...]

    def smallest_sum(self, k: int) -> float:
        """A lower bound on (exact when every rank is kept) the sum of the k smallest amounts."""
        k = max(0, min(k, self.units))
        if k == 0 or not self.ranks:
            return 0.0
        ranks = np.asarray(self.ranks, dtype=np.int64)
        ends = np.append(ranks[1:], self.units)
        counts = np.clip(np.minimum(ends, k) - ranks, 0, None)
        return float(np.dot(counts, np.asarray(self.values, dtype=np.float64)))

    def to_dict(self) -> dict[str, Any]:
        return {"units": self.units, "ranks": list(self.ranks), "values": list(self.values)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PaidSteps:
        return cls(
            units=int(data["units"]),
            ranks=tuple(int(r) for r in data["ranks"]),
            values=tuple(float(v) for v in data["values"]),
        )


def paid_steps(paid: Sequence[float] | FloatArray, *, points: int = 2000) -> PaidSteps:
    """Summarise a frame's paid amounts for the minimum-sum bound in at most ``points`` steps.

    Up to ``points`` units every amount is kept (exact); above it, the amounts at evenly spaced
    ranks, each rounded down to the cent, so the summary never overstates a sum.
    """
    values = np.sort(np.asarray(paid, dtype=np.float64))
    size = int(values.size)
    if size <= points:
        ranks = np.arange(size)
    else:
        ranks = np.unique(np.floor(np.arange(points) * (size / points)).astype(np.int64))
    kept = np.floor(values[ranks] * 100.0 + 1e-6) / 100.0
    return PaidSteps(
        units=size,
        ranks=tuple(int(r) for r in ranks),
        values=tuple(float(v) for v in kept),
    )


def _check(
    problems: Problems, values: Sequence[float] | FloatArray, population: int, where: str
) -> tuple[FloatArray, int] | None:
    x = problems.values(where, values)
    big_n = problems.count("population", population, minimum=1)
    if x is None or big_n is None:
        return None
    if (x < 0).any():
        first = int(np.flatnonzero(x < 0)[0])
        problems.add(
            f"{where}[{first}]",
            "non-negative overpayments (underpayments entered as 0)",
            f"{x[first]:g}",
            "robust bounds apply to overpayments only: enter underpayments as 0.",
        )
    if x.size > big_n:
        problems.add("population", f"at least the {x.size} units sampled", big_n)
    return x, big_n


def _kw_p_value(x: FloatArray, population: int, mean: float, gamma: float) -> float:
    """Kaplan-Wald p-value of "the population mean is ``mean``" (without replacement)."""
    k = np.arange(1, x.size + 1, dtype=np.float64)
    before = np.concatenate(([0.0], np.cumsum(x)[:-1]))
    remaining = (population * mean - before) / (population - k + 1.0)
    if (remaining <= 0).any():
        # The sampled values already exceed the hypothesised total: impossible, reject.
        positive = remaining > 0
        bad = ~positive & (x > 0)
        if bad.any() or (remaining < 0).any():
            return 0.0
        remaining = np.where(positive, remaining, 1.0)  # mean 0 left and x = 0: factor 1-g
    terms = gamma * x / remaining + 1.0 - gamma
    peak = float(np.max(np.cumprod(terms)))
    return 1.0 if peak <= 1.0 else min(1.0, 1.0 / peak)


def kaplan_wald_lower_bound(
    values: Sequence[float] | FloatArray,
    population: int,
    *,
    confidence: float,
    gamma: float = GAMMA,
) -> float:
    """Return a one-sided ``confidence`` lower bound on the total of N non-negative values.

    ``values``: the sampled overpayments **in draw order** (sample.csv ``selection_order``),
    drawn without replacement from N units. Formula (Kaplan 1987; Stark): for a hypothesised
    mean t, with S_{k-1} the sum of the first k-1 values, m_k = (N t - S_{k-1}) / (N - k + 1)
    is the mean of the units not yet drawn; Z_j = prod_{k<=j} (gamma x_k / m_k + 1 - gamma)
    is a nonnegative supermartingale under t, so p(t) = min(1, 1 / max_j Z_j) is a valid
    p-value (Ville's inequality), t rejected at once when some m_k <= 0 with x_k > 0. The
    bound is N * inf{t : p(t) > alpha}, alpha = 1 - confidence, found by bisection (p(t)
    increases with t). Valid at every n for values >= 0; ``gamma`` fixed in advance.
    """
    problems = Problems()
    checked = _check(problems, values, population, "values")
    level = problems.confidence("confidence", confidence)
    if not 0.0 < gamma < 1.0:
        problems.add("gamma", "a betting fraction in (0, 1)", gamma)
    problems.raise_if_any("Cannot compute the Kaplan-Wald bound.")
    assert checked is not None and level is not None
    x, big_n = checked
    alpha = 1.0 - level
    if float(x.sum()) <= 0.0:
        return 0.0
    low = float(x.sum()) / big_n  # the sampled values alone: the total is at least this
    if _kw_p_value(x, big_n, low, gamma) > alpha:
        return low * big_n
    high = max(low * 2.0, float(x.max()))
    while _kw_p_value(x, big_n, high, gamma) <= alpha:
        high *= 2.0
    # p(t) > alpha exactly where max_j Z_j(t) < 1/alpha; log max Z is continuous and
    # decreasing in t, so Brent's method finds the crossing (the bound) in a few steps.
    target = math.log(1.0 / alpha)

    def gap(mean: float) -> float:
        p = _kw_p_value(x, big_n, mean, gamma)
        return (math.log(1.0 / p) if p > 0 else 745.0) - target

    root = optimize.brentq(gap, low, high, xtol=1e-12 * high, rtol=1e-12)
    return float(root) * big_n
    high = max(low * 2.0, float(x.max()))
    while _kw_p_value(x, big_n, high, gamma) <= alpha:
        high *= 2.0
    for _ in range(200):  # bisection to 1e-12 relative (cents on a billion)
        mid = 0.5 * (low + high)
        if high - low <= 1e-12 * high:
            break
        if _kw_p_value(x, big_n, mid, gamma) > alpha:
            high = mid
        else:
            low = mid
    return low * big_n


def minimum_sum_lower_bound(
    values: Sequence[float] | FloatArray,
    population: int,
    frame_paid: PaidSteps,
    *,
    confidence: float,
) -> float:
    """Return the minimum-sum one-sided ``confidence`` lower bound on the total overpayment.

    ``values``: the sampled overpayments (>= 0; x of them > 0), n of N units drawn without
    replacement; ``frame_paid``: the paid amounts of the stratum's frame units
    (:func:`paid_steps`). Formula (Edwards et al. 2003): L = the exact hypergeometric
    one-sided lower limit on the number K of units in error (smallest K with
    P(X >= x | K) > 1 - confidence; RAT-STATS' rule at two-sided 2C - 1); bound = sum of the
    sampled overpayments + the sum of the L - x smallest paid amounts. Using the whole frame's
    smallest amounts (not only the unsampled units') can only lower the sum, so the bound stays
    valid whatever spares replaced. Assumption: each unit in error is overpaid by its whole paid
    amount (a full denial); :func:`left_skew_flag` and the scoring record say when the sample
    has partial overpayments, for which the guarantee does not hold.
    """
    problems = Problems()
    checked = _check(problems, values, population, "values")
    level = problems.confidence("confidence", confidence)
    if level is not None and level <= 0.5:
        problems.add("confidence", "a one-sided level above 0.5", level)
    problems.raise_if_any("Cannot compute the minimum-sum bound.")
    assert checked is not None and level is not None
    x, big_n = checked
    errors = int((x > 0).sum())
    if errors == 0:
        return 0.0
    low, _ = hypergeometric_limits(big_n, int(x.size), errors, round(2.0 * level - 1.0, 12))
    assert low is not None
    return float(x.sum()) + frame_paid.smallest_sum(max(0, int(low) - errors))


def bonferroni_lower_bound(bounds: Sequence[float]) -> float:
    """Sum per-stratum lower bounds each computed at 1 - alpha/H: a valid 1 - alpha bound.

    P(some stratum's bound exceeds its total) <= H * alpha/H = alpha (Bonferroni), so the sum
    of the bounds is below the universe total with probability >= 1 - alpha.
    """
    return float(math.fsum(bounds))


def left_skew_flag(
    values: Sequence[float] | FloatArray, paid: Sequence[float] | FloatArray
) -> str | None:
    """Return why a sample looks left-skewed for the t limit, or None.

    The CLT-based lower limit under-covers when most sampled claims are full denials of
    similar amounts (mass near the top of the distribution). Flagged when at least half of the
    sampled units are overpaid by at least 95% of their paid amount and those amounts vary
    little (coefficient of variation below 0.5).
    """
    x = np.asarray(values, dtype=np.float64)
    p = np.asarray(paid, dtype=np.float64)
    if x.size == 0 or x.size != p.size:
        return None
    full = (p > 0) & (x >= 0.95 * p)
    if full.sum() < max(2, math.ceil(0.5 * x.size)):
        return None
    amounts = x[full]
    cv = float(amounts.std(ddof=1) / amounts.mean()) if amounts.mean() > 0 else 0.0
    if cv >= 0.5:
        return None
    return (
        f"{int(full.sum())} of {x.size} sampled units are full denials of similar amounts "
        f"(coefficient of variation {cv:.2f}): the RAT-STATS t lower limit may fall above the "
        "true total more often than its level says; compare the robust bound."
    )
