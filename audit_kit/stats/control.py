"""Control charts across periods: the p-chart and exact binomial funnel limits.

Sources: Montgomery, *Introduction to Statistical Quality Control*, 7th ed. (2013), section 7.2
(the p-chart with variable sample size); Spiegelhalter, "Funnel plots for comparing
institutional performance", *Statistics in Medicine* 24 (2005) 1185-1202, appendix A.1.1 (exact
binomial limits with interpolation), and Spiegelhalter, "Handling over-dispersion of performance
indicators", *BMJ Quality & Safety* 14 (2005) 347-351.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps

from audit_kit.stats._core import Problems

__all__ = ["FunnelLimits", "PChart", "PChartPoint", "funnel_limits", "p_chart"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PChartPoint:
    """One period of a p-chart: its proportion, its own limits and whether it falls outside."""

    errors: int
    n: int
    p: float
    lower: float
    upper: float
    out_of_control: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PChart:
    center: float
    sigmas: float
    points: tuple[PChartPoint, ...]


def p_chart(errors: Sequence[int], sizes: Sequence[int], *, sigmas: float = 3.0) -> PChart:
    """Return the p-chart of ``errors[t]`` out of ``sizes[t]`` per period, with stepped limits.

    Centre line ``p_bar = sum(errors) / sum(sizes)``; each period's limits are
    ``p_bar +/- sigmas * sqrt(p_bar * (1 - p_bar) / n_t)`` with that period's own ``n_t``
    (Montgomery 2013, section 7.2.2: variable sample size), clamped to [0, 1]. A point is out
    of control when it lies strictly outside its limits. Assumes units independent with one
    common error probability while the process is in control.
    """
    problems = Problems()
    if len(errors) != len(sizes):
        problems.add("sizes", f"{len(errors)} sizes, one per period", len(sizes))
    if not sizes:
        problems.add("sizes", "at least one period", "none")
    for i, (x, n) in enumerate(zip(errors, sizes, strict=False)):
        nn = problems.count(f"sizes[{i}]", n, minimum=1)
        xx = problems.count(f"errors[{i}]", x, minimum=0)
        if nn is not None and xx is not None and xx > nn:
            problems.add(f"errors[{i}]", f"at most the period's n ({nn})", xx)
    problems.raise_if_any("The p-chart cannot be computed from these counts.")
    p_bar = sum(errors) / sum(sizes)
    points = []
    for x, n in zip(errors, sizes, strict=True):
        half = sigmas * math.sqrt(p_bar * (1.0 - p_bar) / n)
        lower, upper = max(0.0, p_bar - half), min(1.0, p_bar + half)
        p = x / n
        points.append(
            PChartPoint(
                errors=int(x),
                n=int(n),
                p=p,
                lower=lower,
                upper=upper,
                out_of_control=p < lower or p > upper,
            )
        )
    return PChart(center=p_bar, sigmas=sigmas, points=tuple(points))


@dataclass(frozen=True, slots=True, kw_only=True)
class FunnelLimits:
    """Lower and upper funnel limits (as proportions) for one sample size."""

    n: int
    lower: float
    upper: float


def _binomial_limit(n: int, target: float, probability: float) -> float:
    """Spiegelhalter (2005) A.1.1: the p-quantile of Binomial(n, target) / n, interpolated.

    ``r`` is the smallest count with ``F(r) >= probability``; the limit is ``(r - alpha) / n``
    with ``alpha = (F(r) - probability) / (F(r) - F(r - 1))``, so that the limit moves smoothly
    with n instead of jumping between whole counts.
    """
    if target <= 0.0:
        return 0.0
    if target >= 1.0:
        return 1.0
    r = float(sps.binom.ppf(probability, n, target))
    f_r = float(sps.binom.cdf(r, n, target))
    f_before = float(sps.binom.cdf(r - 1, n, target)) if r >= 1 else 0.0
    step = f_r - f_before
    alpha = (f_r - probability) / step if step > 0 else 0.0
    return min(1.0, max(0.0, (r - alpha) / n))


def funnel_limits(target: float, sizes: Sequence[int], *, coverage: float) -> list[FunnelLimits]:
    """Return exact binomial funnel limits around ``target`` for each sample size.

    The limits hold ``coverage`` of Binomial(n, target) / n between them (0.95: about two
    standard errors; 0.998: about three), from :func:`_binomial_limit` at ``(1 - coverage) / 2``
    and ``(1 + coverage) / 2`` (Spiegelhalter 2005). A unit outside is divergent from the
    target by more than chance at that level; units are compared with the target, not ranked.
    """
    problems = Problems()
    value = problems.number("target", target)
    if value is not None and not 0.0 <= value <= 1.0:
        problems.add("target", "a proportion between 0 and 1", value)
    if not 0.0 < coverage < 1.0:
        problems.add("coverage", "a probability strictly between 0 and 1", coverage)
    for i, n in enumerate(sizes):
        problems.count(f"sizes[{i}]", n, minimum=1)
    problems.raise_if_any("The funnel limits cannot be computed.")
    low_p, high_p = (1.0 - coverage) / 2.0, (1.0 + coverage) / 2.0
    return [
        FunnelLimits(
            n=int(n),
            lower=_binomial_limit(int(n), target, low_p),
            upper=_binomial_limit(int(n), target, high_p),
        )
        for n in sizes
    ]
