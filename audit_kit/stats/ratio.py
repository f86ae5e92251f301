"""Accuracy intervals (ratio and proportion) and the demand-amount rule.

Sources: Cochran, Sampling Techniques, 3rd ed. (1977), ch. 6 (ratio estimators, variance by
linearisation); CMS Program Integrity Manual (PIM) ch. 8
§8.4.5.1 (one-sided 90% lower limit); OIG audit practice (two-sided 90% lower limit).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from audit_kit.stats._core import Problems, json_float, t_critical
from audit_kit.stats.attribute import clopper_pearson, hypergeometric_limits
from audit_kit.stats.variable import VariableLimit

__all__ = [
    "DemandRule",
    "RatioEstimate",
    "demand_amount",
    "demand_reason",
    "proportion_interval",
    "ratio_interval",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RatioEstimate:
    """A proportion or ratio with two-sided limits, clipped to [0, 1]."""

    value: float
    lower: float
    upper: float
    se: float | None
    confidence: float
    method: str
    units: int
    population: int | None = None
    degrees_of_freedom: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "confidence": self.confidence,
            "method": self.method,
            "se": json_float(self.se),
            "units": self.units,
        }


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def ratio_interval(
    numerators: Sequence[float],
    denominators: Sequence[float],
    confidence: float,
    *,
    population: int | None = None,
) -> RatioEstimate:
    """Estimate R = sum y / sum x over sampled units (clusters) with a linearised interval.

    Used for code accuracy: y_i = correct codes of unit i, x_i = codes reviewed in unit i;
    the codes of one unit are a cluster, so the variance comes from the unit residuals.
    Formula (Cochran 1977 ch. 6, ratio estimate and its sample variance):
    R = sum y_i / sum x_i; e_i = y_i - R x_i;
    v(R) = (1 - f) / (n * xbar^2) * sum e_i^2 / (n - 1), f = n/N when the number of units N
    in the universe is given (else 0), xbar = sum x_i / n;
    limits R -/+ t_{n-1}((1+CL)/2) * sqrt(v(R)), value and limits clipped to [0, 1].

    Assumptions: simple random sample of units; n large enough for the linearisation (the
    interval is approximate and degenerates to [R, R] when every unit has the same ratio, e.g.
    all codes correct: report :func:`proportion_interval` of units as well). With n < 2 no
    variance can be estimated: the limits are [0, 1] and ``se`` is ``None``.
    ``confidence`` is a fraction (0.90).
    """
    problems = Problems()
    level = problems.confidence("confidence", confidence)
    y = problems.values("numerators", numerators)
    x = problems.values("denominators", denominators)
    big_n = None if population is None else problems.count("population", population, minimum=1)
    if y is not None and x is not None:
        if y.size != x.size:
            problems.add(
                "numerators", f"one value per unit ({x.size} denominators)", f"{y.size} values"
            )
        else:
            if (x < 0).any() or (y < 0).any():
                problems.add("values", "counts >= 0", "a negative count")
            elif (y > x).any():
                first = int(np.flatnonzero(y > x)[0])
                problems.add(
                    f"numerators[{first}]",
                    "no more correct than reviewed in any unit",
                    f"{y[first]:g} > {x[first]:g}",
                )
            if float(x.sum()) <= 0:
                problems.add("denominators", "a positive total", f"{float(x.sum()):g}")
            if big_n is not None and x.size > big_n:
                problems.add("population", f"at least the {x.size} units sampled", big_n)
    problems.raise_if_any("Cannot compute a ratio interval.")
    assert y is not None and x is not None and level is not None
    n = int(x.size)
    ratio = math.fsum(y.tolist()) / math.fsum(x.tolist())
    method = "ratio estimator, linearisation variance (Cochran 1977 ch. 6), t with n-1 df"
    if n < 2:
        return RatioEstimate(
            value=_clip(ratio),
            lower=0.0,
            upper=1.0,
            se=None,
            confidence=level,
            method=method + "; n < 2: no variance estimate, limits [0, 1]",
            units=n,
            population=big_n,
        )
    fpc = 1.0 - n / big_n if big_n is not None else 1.0
    xbar = float(x.mean())
    residual = y - ratio * x
    variance = fpc / (n * xbar * xbar) * float((residual * residual).sum()) / (n - 1)
    se = math.sqrt(max(variance, 0.0))
    half = t_critical(n - 1, level) * se
    return RatioEstimate(
        value=_clip(ratio),
        lower=_clip(ratio - half),
        upper=_clip(ratio + half),
        se=se,
        confidence=level,
        method=method + ("" if big_n is None else ", finite population correction"),
        units=n,
        population=big_n,
        degrees_of_freedom=n - 1,
    )


def proportion_interval(
    successes: int, trials: int, confidence: float, *, population: int | None = None
) -> RatioEstimate:
    """Estimate a proportion of units (e.g. record accuracy) with exact limits.

    With the universe size N: the exact hypergeometric limits of the failures
    (:func:`~audit_kit.stats.attribute.hypergeometric_limits`, RAT-STATS' rule) turned into
    limits on the proportion, 1 - K_U/N .. 1 - K_L/N. Without N: Clopper-Pearson
    (:func:`~audit_kit.stats.attribute.clopper_pearson`). ``confidence`` is a fraction.
    ``se`` is sqrt(p(1-p)/(n-1) * (1-n/N)) with N, sqrt(p(1-p)/n) without (display only).
    """
    problems = Problems()
    n = problems.count("trials", trials, minimum=1)
    k = problems.count("successes", successes, minimum=0)
    level = problems.confidence("confidence", confidence)
    big_n = None if population is None else problems.count("population", population, minimum=1)
    if n is not None and k is not None and k > n:
        problems.add("successes", f"at most the number of trials ({n})", k)
    if n is not None and big_n is not None and n > big_n:
        problems.add("population", f"at least the {n} units sampled", big_n)
    problems.raise_if_any("Cannot compute a proportion interval.")
    assert n is not None and k is not None and level is not None
    p = k / n
    if big_n is None:
        lower, upper = clopper_pearson(k, n, level)
        se = math.sqrt(p * (1 - p) / n)
        method = "Clopper-Pearson exact binomial"
    else:
        k_low, k_high = hypergeometric_limits(big_n, n, n - k, level)
        assert k_low is not None and k_high is not None
        lower, upper = 1.0 - k_high / big_n, 1.0 - k_low / big_n
        se = math.sqrt(p * (1 - p) / (n - 1) * (1 - n / big_n)) if n > 1 else 0.0
        method = "hypergeometric exact (RAT-STATS attribute rule)"
    return RatioEstimate(
        value=p,
        lower=lower,
        upper=upper,
        se=se,
        confidence=level,
        method=method,
        units=n,
        population=big_n,
    )


class DemandRule(StrEnum):
    """Which number of a variable appraisal is "the" amount (docs/methods.md section 3.4)."""

    POINT_ESTIMATE = "point_estimate"
    CMS_ONE_SIDED_90 = "cms_one_sided_90"
    OIG_TWO_SIDED_90 = "oig_two_sided_90"


_REASONS = {
    DemandRule.POINT_ESTIMATE: (
        "Point estimate of the universe total (the plan's rule, e.g. a CIA claims review or an "
        "OIG self-disclosure): the unbiased estimate, without allowance for sampling error."
    ),
    DemandRule.CMS_ONE_SIDED_90: (
        "Lower limit of the one-sided 90% confidence interval (equal to the lower limit of the "
        "two-sided 80% interval), the amount CMS contractors demand under the Program Integrity "
        "Manual ch. 8: the true total is at least this with 90% confidence."
    ),
    DemandRule.OIG_TWO_SIDED_90: (
        "Lower limit of the two-sided 90% confidence interval, customary in OIG audits: the "
        "true total is at least this with 95% confidence."
    ),
}


def _parse_demand_rule(rule: DemandRule | str) -> DemandRule:
    problems = Problems()
    try:
        return DemandRule(str(rule))
    except ValueError:
        problems.add(
            "demand_rule",
            "one of " + ", ".join(r.value for r in DemandRule),
            repr(rule),
            "set demand_rule in the plan to one of these.",
        )
        problems.raise_if_any("Unknown demand rule.")
        raise  # unreachable: raise_if_any raised


def demand_amount(
    point_estimate: float,
    limits: Mapping[str, VariableLimit | Mapping[str, Any]],
    rule: DemandRule | str,
) -> float:
    """Return the amount the demand rule picks (docs/methods.md section 3.4).

    ``point_estimate``: the point estimate; ``cms_one_sided_90``: ``limits["80"]`` lower
    (one-sided 90% lower limit = two-sided 80% lower limit; CMS PIM ch. 8 §8.4.5.1);
    ``oig_two_sided_90``: ``limits["90"]`` lower. ``limits`` are the appraisal's limits
    (:class:`VariableLimit` or their dicts). See :func:`demand_reason` for the wording.
    """
    parsed = _parse_demand_rule(rule)
    if parsed is DemandRule.POINT_ESTIMATE:
        return float(point_estimate)
    key = "80" if parsed is DemandRule.CMS_ONE_SIDED_90 else "90"
    if key not in limits:
        problems = Problems()
        problems.add("limits", f"a {key}% two-sided interval", ", ".join(limits) or "none")
        problems.raise_if_any("Cannot apply the demand rule.")
    limit = limits[key]
    lower = limit.lower if isinstance(limit, VariableLimit) else limit["lower"]
    return float(lower)


def demand_reason(rule: DemandRule | str) -> str:
    """Return one sentence saying which amount a demand rule uses and why."""
    return _REASONS[_parse_demand_rule(rule)]
