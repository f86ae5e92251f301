"""Code and record accuracy with limits that hold: the design-based Korn-Graubard interval.

Sources: Korn, E. L. and Graubard, B. I. (1998), "Confidence intervals for proportions with
small expected number of positive counts estimated from survey data", Survey Methodology
24(2):193-201; R package ``survey`` (Lumley), ``svyciprop(method = "beta")``, ``svyratio``,
``svyby`` and ``svyrecvar`` (the variance of a stratified one-stage design with finite
population corrections); Cochran, Sampling Techniques, 3rd ed. (1977), ch. 5 and 6;
Clopper, C. J. and Pearson, E. S. (1934), Biometrika 26:404-413.

An accuracy is a ratio R = sum y / sum x over sampled units (clusters): y_i the correct codes of
unit i, x_i the codes reviewed (record accuracy: y_i = 1 when the unit has no error, x_i = 1).
The units come from a stratified simple random sample without replacement (one stratum for a
simple design): n_h of N_h units in stratum h, weight w_i = N_h / n_h.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from audit_kit.stats._core import Problems, json_float
from audit_kit.stats.attribute import hypergeometric_limits

__all__ = [
    "AccuracyInterval",
    "accuracy_interval",
    "design_accuracy",
    "one_sided_level",
]

FloatArray = npt.NDArray[np.float64]

METHOD_KG = (
    "Korn-Graubard beta interval at the design effective sample size with the degrees-of-"
    "freedom adjustment (Korn and Graubard 1998; R survey::svyciprop, method beta)"
)
METHOD_ZERO = (
    "exact binomial (Clopper-Pearson) on the number of units: the sample shows no variation "
    "between units (e.g. no error at all), so the design variance is 0"
)
METHOD_ZERO_HYPER = (
    "exact hypergeometric on the number of units (RAT-STATS attribute rule): the sample shows "
    "no variation between units (e.g. no error at all), so the design variance is 0"
)
METHOD_CENSUS = "census: every unit of the universe was reviewed, so there is no sampling error"


def one_sided_level(confidence: float) -> float:
    """Return the two-sided level whose lower limit is the one-sided ``confidence`` bound.

    A one-sided C lower bound leaves 1 - C in one tail: the lower limit of the two-sided
    2C - 1 interval (one-sided 90% = two-sided 80%; CMS PIM ch. 8 §8.4.5.1). Rounded to 12
    decimals so that 2 * 0.95 - 1 is 0.9, not 0.8999999999999999.
    """
    return round(2.0 * confidence - 1.0, 12)


def _beta_limits(value: float, n_eff: float, alpha: float) -> tuple[float, float]:
    """Clopper-Pearson limits at a (real) sample size: survey's qbeta expressions."""
    x = n_eff * value
    lower = 0.0 if x <= 0 else float(special.betaincinv(x, n_eff - x + 1.0, alpha / 2.0))
    upper = 1.0 if x >= n_eff else float(special.betaincinv(x + 1.0, n_eff - x, 1 - alpha / 2))
    return lower, upper


def _df_factor(codes: float, df: int, alpha: float) -> float:
    """(t_{m-1}(alpha/2) / t_df(alpha/2))^2, survey's n.eff adjustment; 1 when undefined."""
    if codes <= 1 or df < 1:
        return 1.0
    top = float(special.stdtrit(codes - 1.0, alpha / 2.0))
    bottom = float(special.stdtrit(df, alpha / 2.0))
    return (top / bottom) ** 2


@dataclass(frozen=True, slots=True, kw_only=True)
class AccuracyInterval:
    """An accuracy (a ratio of code or unit counts) with two-sided limits at ``confidence``.

    ``one_sided_lower``: the one-sided ``confidence`` lower bound (= the lower limit at the
    two-sided level 2C - 1): "at C confidence, accuracy is at least this". ``limits(level)``
    recomputes the two-sided limits at another level from the same design figures.
    ``effective_n`` is the Korn-Graubard effective sample size before the df adjustment
    (``None`` for the zero-variance rules); ``codes`` the number of observations m (codes, or
    units for record accuracy), ``units`` the sampled units n, ``degrees_of_freedom`` the
    design df (units minus strata).
    """

    value: float
    lower: float
    upper: float
    se: float | None
    confidence: float
    method: str
    one_sided_lower: float | None
    units: int
    codes: float
    strata: int = 1
    degrees_of_freedom: int | None = None
    effective_n: float | None = None
    population: int | None = None
    _rule: str = field(default="kg", repr=False)

    def limits(self, confidence: float) -> tuple[float, float]:
        """Return (lower, upper) two-sided at ``confidence`` (a fraction) from the same data."""
        return _limits(
            rule=self._rule,
            value=self.value,
            effective_n=self.effective_n,
            codes=self.codes,
            df=self.degrees_of_freedom,
            units=self.units,
            population=self.population,
            confidence=confidence,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "one_sided_lower": self.one_sided_lower,
            "se": json_float(self.se),
            "confidence": self.confidence,
            "method": self.method,
            "units": self.units,
            "codes": self.codes,
            "strata": self.strata,
            "degrees_of_freedom": self.degrees_of_freedom,
            "effective_n": json_float(self.effective_n),
        }


def _limits(
    *,
    rule: str,
    value: float,
    effective_n: float | None,
    codes: float,
    df: int | None,
    units: int,
    population: int | None,
    confidence: float,
) -> tuple[float, float]:
    alpha = 1.0 - confidence
    if rule == "census":
        return value, value
    if rule == "kg" and effective_n is not None:
        n_star = effective_n * _df_factor(codes, df or 0, alpha)
        lower, upper = _beta_limits(value, n_star, alpha)
        # No sample is credited with more than an error-free sample of as many units (or
        # blamed for more than an all-wrong one): keeps the limits monotone in the errors
        # found, since the zero-error rule counts units, not codes (docs/methods.md).
        exact = "hyper" if population is not None else "exact"
        best = _limits(
            rule=exact,
            value=1.0,
            effective_n=None,
            codes=codes,
            df=df,
            units=units,
            population=population,
            confidence=confidence,
        )
        worst = _limits(
            rule=exact,
            value=0.0,
            effective_n=None,
            codes=codes,
            df=df,
            units=units,
            population=population,
            confidence=confidence,
        )
        lower, upper = min(lower, best[0]), max(upper, worst[1])
    elif rule == "hyper" and population is not None and value in (0.0, 1.0):
        lower, upper = _hyper_extreme(population, units, value == 1.0, confidence)
    else:  # zero variance between units: Clopper-Pearson with the units as the trials
        lower, upper = _beta_limits(value, float(max(units, 1)), alpha)
    return min(lower, value), max(upper, value)


@lru_cache(maxsize=4096)
def _hyper_extreme(
    population: int, units: int, perfect: bool, confidence: float
) -> tuple[float, float]:
    """Exact limits on the share of error-free units when none (or all) of n are in error."""
    k_low, k_high = hypergeometric_limits(population, units, 0 if perfect else units, confidence)
    assert k_low is not None and k_high is not None
    return 1.0 - k_high / population, 1.0 - k_low / population


def _checked(
    problems: Problems,
    correct: Sequence[float] | FloatArray,
    reviewed: Sequence[float] | FloatArray,
) -> tuple[FloatArray, FloatArray] | None:
    y = problems.values("correct", correct)
    x = problems.values("reviewed", reviewed)
    if y is None or x is None:
        return None
    if y.size != x.size:
        problems.add("correct", f"one value per unit ({x.size} reviewed counts)", y.size)
        return None
    if (x < 0).any() or (y < 0).any():
        first = int(np.flatnonzero((x < 0) | (y < 0))[0])
        problems.add(f"unit {first + 1}", "counts >= 0", f"{y[first]:g} of {x[first]:g}")
    elif (y > x).any():
        first = int(np.flatnonzero(y > x)[0])
        problems.add(
            f"unit {first + 1}",
            "no more correct codes than codes reviewed",
            f"{y[first]:g} correct of {x[first]:g} reviewed",
            "check the correct and reviewed columns of that unit.",
        )
    return y, x


def _finish(
    *,
    ratio: float,
    variance: float | None,
    census: bool,
    codes: float,
    units: int,
    strata: int,
    population: int | None,
    confidence: float,
) -> AccuracyInterval:
    """Pick the rule (census, Korn-Graubard, zero-variance exact) and compute the limits."""
    df = units - strata
    value = min(1.0, max(0.0, ratio))
    if census:
        rule, method, n_eff = "census", METHOD_CENSUS, None
    elif variance is not None and variance > 0 and 0.0 < value < 1.0 and units >= 2:
        rule, method = "kg", METHOD_KG
        n_eff = float(value * (1.0 - value) / variance)
    else:
        # No between-unit variation (typically no error at all): survey gives no interval.
        # The units are the trials of an exact binomial (or hypergeometric with N): codes are
        # clustered within units, so counting codes as independent trials would claim more
        # than the sample shows; see docs/methods.md for the simulation that supports it.
        hyper = population is not None and strata == 1 and value in (0.0, 1.0)
        rule = "hyper" if hyper else "exact"
        method = METHOD_ZERO_HYPER if hyper else METHOD_ZERO
        n_eff = None
    lower, upper = _limits(
        rule=rule,
        value=value,
        effective_n=n_eff,
        codes=codes,
        df=df,
        units=units,
        population=population,
        confidence=confidence,
    )
    if rule == "kg":
        alpha = 1.0 - confidence
        assert n_eff is not None
        free = _beta_limits(value, n_eff * _df_factor(codes, df, alpha), alpha)
        if lower < min(free[0], value) or upper > max(free[1], value):
            method += (
                "; limited to the exact limits of an error-free (or all-wrong) sample of as "
                "many units"
            )
    level = one_sided_level(confidence)
    one_sided = (
        None
        if level <= 0
        else _limits(
            rule=rule,
            value=value,
            effective_n=n_eff,
            codes=codes,
            df=df,
            units=units,
            population=population,
            confidence=level,
        )[0]
    )
    return AccuracyInterval(
        value=value,
        lower=lower,
        upper=upper,
        se=None if variance is None else math.sqrt(max(variance, 0.0)),
        confidence=confidence,
        method=method,
        one_sided_lower=one_sided,
        units=units,
        codes=codes,
        strata=strata,
        degrees_of_freedom=df if df >= 1 else None,
        effective_n=n_eff,
        population=population,
        _rule=rule,
    )


def accuracy_interval(
    correct: Sequence[float] | FloatArray,
    reviewed: Sequence[float] | FloatArray,
    *,
    confidence: float,
    population: int | None = None,
) -> AccuracyInterval:
    """Estimate code accuracy sum(correct)/sum(reviewed) from a simple random sample of units.

    ``correct[i]`` and ``reviewed[i]``: the correct and the reviewed code counts of sampled unit
    i; ``population``: the number of units N in the universe (finite population correction),
    ``None`` when unknown (no correction). ``confidence``: two-sided level as a fraction.

    Formula (R survey: ``svydesign(ids = ~unit, fpc = ~N, data = codes)`` with one row per
    code, then ``svyciprop(~correct, design, method = "beta")``): R = sum y / sum x;
    e_i = y_i - R x_i; v(R) = (1 - n/N) / (n xbar^2) * sum e_i^2 / (n - 1) (Cochran 1977
    6.13, survey's linearisation); effective sample size n_eff = R(1-R)/v(R); df-adjusted
    n* = n_eff * (t_{m-1}(a/2) / t_{n-1}(a/2))^2 with m codes and n units, a = 1 - CL;
    limits Beta^-1(a/2; n*R, n*(1-R)+1) and Beta^-1(1-a/2; n*R+1, n*(1-R)).

    When the units show no variation (every unit has the same accuracy, typically no error at
    all; R gives no interval then), the limits are the exact ones with the *units* as trials:
    Clopper-Pearson at n, or the hypergeometric limits of RAT-STATS with N when it is known and
    the accuracy is 1 or 0. A census (n = N) has no sampling error: [R, R]. With n = 1 the
    exact rule applies.

    Assumptions: simple random sample of units without replacement; the codes of a unit are a
    cluster (errors may be clumped within units). Coverage on clumped rare errors and small
    groups is measured in ``benchmarks/bench_coverage.py`` (docs/methods.md).
    """
    problems = Problems()
    level = problems.confidence("confidence", confidence)
    big_n = None if population is None else problems.count("population", population, minimum=1)
    checked = _checked(problems, correct, reviewed)
    if checked is not None:
        y, x = checked
        if float(x.sum()) <= 0:
            problems.add("reviewed", "at least one code reviewed", "0 in total")
        if big_n is not None and x.size > big_n:
            problems.add("population", f"at least the {x.size} units sampled", big_n)
    problems.raise_if_any("Cannot compute an accuracy interval.")
    assert checked is not None and level is not None
    y, x = checked
    return _ratio_design(
        y, x, np.zeros(y.size, dtype=np.int64), {0: big_n}, None, level, population=big_n
    )


def _ratio_design(
    y: FloatArray,
    x: FloatArray,
    stratum: npt.NDArray[np.int64],
    populations: Mapping[int, int | None],
    domain: npt.NDArray[np.bool_] | None,
    confidence: float,
    *,
    population: int | None,
) -> AccuracyInterval:
    """The stratified (domain) ratio estimator and its linearised variance, as svyrecvar."""
    inside = np.ones(y.size, dtype=bool) if domain is None else domain
    counts = np.bincount(stratum).astype(np.float64)
    big = np.array(
        [
            np.nan if populations.get(h) is None else float(populations[h] or 0)
            for h in range(counts.size)
        ]
    )
    big = np.where(np.isnan(big), counts, big)  # N unknown: no finite population correction
    present = counts > 0
    weight_h = np.divide(big, counts, out=np.zeros_like(big), where=present)
    fpc_h = np.where(
        np.array([populations.get(h) is None for h in range(counts.size)]),
        1.0,
        1.0 - np.divide(counts, big, out=np.ones_like(big), where=big > 0),
    )
    weights = weight_h[stratum]
    yd, xd = y * inside, x * inside
    total_x = float((weights * xd).sum())
    ratio = float((weights * yd).sum()) / total_x
    z = weights * (yd - ratio * xd) / total_x
    # Two passes per stratum (mean, then squared deviations), vectorised over strata.
    mean_h = np.divide(np.bincount(stratum, z), counts, out=np.zeros_like(counts), where=present)
    squares_h = np.bincount(stratum, (z - mean_h[stratum]) ** 2, minlength=counts.size)
    usable = present & (counts >= 2) & (fpc_h > 0)
    scale = np.divide(fpc_h * counts, counts - 1.0, out=np.zeros_like(counts), where=usable)
    variance = float((scale * squares_h)[usable].sum())
    in_stratum = np.bincount(stratum, inside.astype(np.float64), minlength=counts.size) > 0
    census = not bool((in_stratum & (fpc_h > 0)).any())
    units = int(inside.sum())
    strata_in = len(set(stratum[inside].tolist()))
    codes_in = float(xd.sum())
    return _finish(
        ratio=ratio,
        variance=None if units < 2 else variance,
        census=census,
        codes=codes_in,
        units=units,
        strata=strata_in,
        population=population,
        confidence=confidence,
    )


def design_accuracy(
    correct: Sequence[float] | FloatArray,
    reviewed: Sequence[float] | FloatArray,
    *,
    strata: Sequence[str],
    populations: Mapping[str, int],
    confidence: float,
    domain: Sequence[bool] | npt.NDArray[np.bool_] | None = None,
) -> AccuracyInterval:
    """Estimate an accuracy through a stratified design, for the whole sample or a domain.

    One entry per sampled, scored unit of the *whole* design: ``correct``/``reviewed`` counts,
    its ``strata`` label, and (for a group that cuts across strata: a provider, an auditor, a
    setting) ``domain`` True for the units of the group. ``populations``: N_h per stratum label.
    ``confidence``: two-sided, a fraction.

    Formula (R survey, ``svydesign(ids = ~1, strata = ~stratum, fpc = ~N_h)``; the overall
    figure is ``svyratio(~correct, ~reviewed, design)``, a domain's is ``svyby(~correct,
    ~group, design, svyratio, denominator = ~reviewed)``): w_i = N_h/n_h; with d_i the domain
    indicator (1 for the whole sample), R = sum w d y / sum w d x;
    z_i = w_i d_i (y_i - R x_i) / sum w d x;
    v(R) = sum_h (1 - n_h/N_h) n_h/(n_h - 1) sum_{i in h} (z_i - zbar_h)^2,
    where every unit of stratum h counts (those outside the domain with z_i = 0), so the
    domain's random sample size is part of the variance. The interval is the Korn-Graubard
    beta interval of :func:`accuracy_interval` with m = the codes in the domain and df = the
    units in the domain minus the strata they are in (``degf`` of the domain design).
    Census strata (n_h = N_h) add no variance; a stratum of one unit adds none (flag it).
    """
    problems = Problems()
    level = problems.confidence("confidence", confidence)
    checked = _checked(problems, correct, reviewed)
    labels = [str(s) for s in strata]
    inside: npt.NDArray[np.bool_] | None = None
    if checked is not None:
        y, x = checked
        if len(labels) != y.size:
            problems.add("strata", f"one label per unit ({y.size} units)", len(labels))
        missing = sorted(set(labels) - set(populations))
        if missing:
            problems.add("populations", "N_h for every stratum", "none for " + ", ".join(missing))
        if domain is not None:
            inside = np.asarray(domain, dtype=bool)
            if inside.size != y.size:
                problems.add("domain", f"one flag per unit ({y.size} units)", inside.size)
                inside = None
        chosen = x if inside is None or inside.size != x.size else x[inside]
        if float(chosen.sum()) <= 0:
            problems.add("reviewed", "at least one code reviewed in the group", "0")
        counts: dict[str, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        for label, n_h in counts.items():
            big = populations.get(label)
            if big is not None and n_h > int(big):
                problems.add(f"populations[{label}]", f"at least the {n_h} units sampled", int(big))
    problems.raise_if_any("Cannot compute a design-based accuracy.")
    assert checked is not None and level is not None
    y, x = checked
    order = sorted(set(labels))
    index = {label: i for i, label in enumerate(order)}
    codes = np.asarray([index[s] for s in labels], dtype=np.int64)
    pops: dict[int, int | None] = {index[s]: int(populations[s]) for s in order}
    one = len(order) == 1 and inside is None
    return _ratio_design(y, x, codes, pops, inside, level, population=pops[0] if one else None)
