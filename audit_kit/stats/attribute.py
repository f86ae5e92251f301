"""Attribute (yes/no) statistics: error-rate appraisal, exact limits, sample size.

Sources: RAT-STATS 2010 User Guide (UG2010) ch. 3 "Attribute Appraisal", Companion Manual
(CM2010) ch. 2 and ch. 4 "Attribute Sample Size"; Clopper & Pearson (1934), Biometrika 26:404.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from scipy import special

from audit_kit.stats._core import (
    APPRAISAL_CONFIDENCES,
    SIZE_CONFIDENCES,
    Problems,
    z_critical,
)

__all__ = [
    "AttributeAppraisal",
    "AttributeLimit",
    "AttributeSampleSize",
    "AttributeStratum",
    "AttributeStratumResult",
    "StratifiedAttributeAppraisal",
    "appraise_attribute",
    "appraise_attribute_stratified",
    "attribute_sample_size",
    "clopper_pearson",
    "hypergeometric_limits",
]

# ---------------------------------------------------------------------------------------------
# Hypergeometric tails in log space (exact to double precision for any N below 2**53)
# ---------------------------------------------------------------------------------------------


def _log_pmf(x: int, population: int, k: int, n: int) -> float:
    """log P(X = x) for X ~ Hypergeometric(N=population, K=k defectives, n draws).

    Written as C(n,x) * prod_{i<x} (K-i)/(N-i) * prod_{j<n-x} (1 - (K-x)/(N-x-j)), so every
    factor is a ratio near the data's scale (no log-gamma of 2e9 cancelling against another).
    """
    i = np.arange(x, dtype=np.float64)
    head = float(np.log((k - i) / (population - i)).sum()) if x else 0.0
    j = np.arange(n - x, dtype=np.float64)
    tail = float(np.log1p(-(k - x) / (population - x - j)).sum()) if n - x else 0.0
    choose = float(special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1))
    return choose + head + tail


def _cdf_le(x: int, population: int, k: int, n: int) -> float:
    """P(X <= x | K = k), summing the pmf from x downwards by its term ratio."""
    low = max(0, n - (population - k))
    if x < low:
        return 0.0
    if x >= min(n, k):
        return 1.0
    anchor = _log_pmf(x, population, k, n)
    steps = np.arange(x, low, -1, dtype=np.float64)  # k' = x, x-1, ..., low+1
    if steps.size:
        ratio = steps * (population - k - n + steps) / ((k - steps + 1) * (n - steps + 1))
        logs = anchor + np.cumsum(np.log(ratio))
        return float(min(1.0, math.exp(anchor) + float(np.exp(logs).sum())))
    return float(min(1.0, math.exp(anchor)))


def _sf_ge(x: int, population: int, k: int, n: int) -> float:
    """P(X >= x | K = k), summing the pmf from x upwards by its term ratio."""
    high = min(n, k)
    if x > high:
        return 0.0
    if x <= max(0, n - (population - k)):
        return 1.0
    anchor = _log_pmf(x, population, k, n)
    steps = np.arange(x, high, dtype=np.float64)  # k' = x, ..., high-1
    if steps.size:
        ratio = (k - steps) * (n - steps) / ((steps + 1) * (population - k - n + steps + 1))
        logs = anchor + np.cumsum(np.log(ratio))
        return float(min(1.0, math.exp(anchor) + float(np.exp(logs).sum())))
    return float(min(1.0, math.exp(anchor)))


# RAT-STATS computes its tail in double precision, 1 - CL (or (1 - CL)/2), and compares the
# probabilities with it: for 80% and 90% that double lies just below the decimal value
# ((1 - 0.8)/2 = 0.09999999999999998), so a probability equal to 0.1 in exact arithmetic is
# "> tail" there, while for 95% ((1 - 0.95)/2 = 0.025000000000000022) a probability of 0.025 is
# not. Exact ties happen with small N (N=30, n=1, K=27: P = 3/30). The tail sums below are
# accurate to about 1e-14 relative, too coarse to order a probability against a double 3e-17
# away, so within 1e-12 of the tail the probability is computed again in exact integer
# arithmetic and compared with the double's exact binary value.
_NEAR = 1e-12
_MAX_POPULATION = 2**53  # every K below it is exact in a float64


def _tail(confidence: float, one_sided: bool) -> float:
    """1 - CL or (1 - CL)/2 in double precision, as RAT-STATS computes it (not rounded)."""
    return (1.0 - confidence) if one_sided else (1.0 - confidence) / 2.0


def _exact_cdf_le(x: int, population: int, k: int, n: int) -> Fraction:
    """P(X <= x | K = k) as an exact fraction (integer binomial coefficients)."""
    low = max(0, n - (population - k))
    top = sum(math.comb(k, i) * math.comb(population - k, n - i) for i in range(low, x + 1))
    return Fraction(top, math.comb(population, n))


def _exact_sf_ge(x: int, population: int, k: int, n: int) -> Fraction:
    """P(X >= x | K = k) as an exact fraction."""
    high = min(n, k)
    top = sum(math.comb(k, i) * math.comb(population - k, n - i) for i in range(x, high + 1))
    return Fraction(top, math.comb(population, n))


def _exceeds(probability: float, tail: float, exact: Callable[[], Fraction]) -> bool:
    """``probability > tail`` as RAT-STATS decides it; exact arithmetic near a tie."""
    if abs(probability - tail) > _NEAR * tail:
        return probability > tail
    return exact() > Fraction(tail)


def _last_true(test: Callable[[int], bool], lo: int, hi: int, guess: float, step: int) -> int:
    """Return the largest K in [lo, hi] with ``test(K)``, for a test true up to some K, false after.

    ``test(lo)`` must hold. The bracket grows by doubling steps from ``guess`` (a binomial
    estimate of the limit), then a bisection closes it: the result is the same as a bisection
    over all of [lo, hi], in far fewer tail evaluations when the guess is good.
    """
    start = min(max(int(guess), lo), hi)
    step = max(1, step)
    if test(start):
        good = start
        while True:  # gallop up until a K fails the test (or hi passes it)
            bad = min(good + step, hi)
            if bad == good:
                return good  # every K up to hi passes
            if not test(bad):
                break
            good, step = bad, step * 2
    else:
        bad = start
        while True:  # gallop down until a K passes the test (lo always does)
            good = max(bad - step, lo)
            if test(good):
                break
            bad, step = good, step * 2
    while bad - good > 1:  # invariant: test(good), not test(bad)
        mid = (good + bad) // 2
        if test(mid):
            good = mid
        else:
            bad = mid
    return good


def _step(population: int, n: int, guess: float) -> int:
    # The hypergeometric limit lies within about guess * n/N of the binomial one.
    return int(guess * min(1.0, n / population)) + 1


def _upper_limit(population: int, n: int, x: int, tail: float) -> int:
    """Largest K with P(X <= x | K) > tail, within [x, N-n+x]."""
    if x == n:
        return population
    guess = population * float(special.betaincinv(x + 1, n - x, 1.0 - tail))
    # P(X <= x | K = x) = 1 > tail: lo always qualifies.
    return _last_true(
        lambda k: _exceeds(
            _cdf_le(x, population, k, n), tail, lambda: _exact_cdf_le(x, population, k, n)
        ),
        x,
        population - n + x,
        guess,
        _step(population, n, guess),
    )


def _lower_limit(population: int, n: int, x: int, tail: float) -> int:
    """Smallest K with P(X >= x | K) > tail, within [x, N-n+x]."""
    if x == 0:
        return 0

    def above(k: int) -> bool:
        return _exceeds(
            _sf_ge(x, population, k, n), tail, lambda: _exact_sf_ge(x, population, k, n)
        )

    if above(x):
        return x
    guess = population * float(special.betaincinv(x, n - x + 1, tail))
    # The last K whose upper tail is still <= tail, plus one (P(X >= x | N-n+x) = 1 > tail).
    return 1 + _last_true(
        lambda k: not above(k),
        x,
        population - n + x,
        guess,
        _step(population, n, guess),
    )


def hypergeometric_limits(
    population: int, sample: int, errors: int, confidence: float, *, one_sided: bool = False
) -> tuple[int | None, int | None]:
    """Return exact (lower, upper) limits on the number of errors K in the universe.

    Formula (UG2010 ch. 3; RAT-STATS' rule): with tail = (1 - CL)/2,
    upper K_U = N if x = n, else the largest K with P(X <= x | K) > tail, at most N - n + x;
    lower K_L = 0 if x = 0, else the smallest K with P(X >= x | K) > tail, at least x;
    X ~ Hypergeometric(N, K, n). Found by bisection on K, started from a bracket around the
    binomial (Clopper-Pearson) limit, so N = 2,131,341,220 costs a few milliseconds. The tails
    are summed in log space from exact term ratios (no log-gamma cancellation), for any N
    below 2**53. The tail is RAT-STATS' double 1 - CL (or (1 - CL)/2), and at an exact tie
    (a probability equal to the decimal tail, e.g. 3/30 at 80%) the comparison follows that
    double, in exact arithmetic: the tie qualifies at 80% and 90%, not at 95%.
    ``one_sided`` (only for x = 0 or x = n) uses tail = 1 - CL and returns ``None`` for the
    limit it does not report.

    Assumptions: simple random sample without replacement. ``confidence`` is a fraction.
    Raises :class:`~audit_kit.errors.StatisticsError` for invalid sizes or levels.
    """
    problems = Problems()
    checked = _check_counts(problems, "", population, sample, errors)
    level = problems.confidence("confidence", confidence)
    if checked is not None and one_sided and 0 < checked[2] < checked[1]:
        problems.add(
            "one_sided",
            "a one-sided limit only when no item or every item is in error",
            f"{checked[2]} errors in {checked[1]}",
        )
    problems.raise_if_any("Cannot compute exact attribute limits.")
    assert checked is not None and level is not None
    return _exact_limits(*checked, level, one_sided=one_sided)


def _exact_limits(
    population: int, sample: int, errors: int, confidence: float, *, one_sided: bool = False
) -> tuple[int | None, int | None]:
    """:func:`hypergeometric_limits` without input checks (callers have validated)."""
    tail = _tail(confidence, one_sided)
    # The projected quantity x*N/n need not be an integer. In a tiny universe a tail
    # probability can equal the tail exactly (N=20, n=19, x=1 at 80%: P(X<=1 | K=2) = 0.1), and
    # the strict ">" rule then gives integer limits that leave the estimate outside them
    # ([1, 1] around 1.05). Widen to the nearest integers that bracket the estimate, within
    # the bounds the sample itself implies (x <= K <= N-n+x); elsewhere this changes nothing.
    quantity = errors * population / sample
    floor_q = max(errors, math.floor(quantity + 1e-9))
    ceil_q = min(population - sample + errors, math.ceil(quantity - 1e-9))
    if one_sided:
        if errors == 0:
            return None, max(_upper_limit(population, sample, errors, tail), ceil_q)
        return min(_lower_limit(population, sample, errors, tail), floor_q), None
    return (
        min(_lower_limit(population, sample, errors, tail), floor_q),
        max(_upper_limit(population, sample, errors, tail), ceil_q),
    )


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeLimit:
    """Limits at one confidence level: error counts (``lower``/``upper``) and rates."""

    lower: float | None
    upper: float | None
    lower_rate: float | None
    upper_rate: float | None
    precision_rate: float | None = None  # z*SE, stratified (normal) appraisals only

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "lower": self.lower,
            "upper": self.upper,
            "lower_rate": self.lower_rate,
            "upper_rate": self.upper_rate,
        }
        if self.precision_rate is not None:
            out["precision_rate"] = self.precision_rate
        return out


def _limits_dict(limits: dict[str, AttributeLimit]) -> dict[str, Any]:
    return {key: limit.to_dict() for key, limit in limits.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeAppraisal:
    """Unrestricted attribute appraisal (RAT-STATS "Attribute Appraisal, unrestricted")."""

    population: int
    sample: int
    errors: int
    rate: float
    quantity: float
    se_rate: float
    se_quantity: float
    limits: dict[str, AttributeLimit]
    one_sided: bool = False
    method: str = "hypergeometric exact"

    def to_dict(self) -> dict[str, Any]:
        return {
            "population": self.population,
            "sample": self.sample,
            "errors": self.errors,
            "rate": self.rate,
            "quantity": self.quantity,
            "se_rate": self.se_rate,
            "se_quantity": self.se_quantity,
            "limits": _limits_dict(self.limits),
            "one_sided": self.one_sided,
            "method": self.method,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeStratum:
    """One stratum's input: its universe size, sample size and errors found."""

    name: str
    population: int
    sample: int
    errors: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeStratumResult:
    """One stratum of a stratified attribute appraisal (normal approximation)."""

    name: str
    population: int
    sample: int
    errors: int
    rate: float
    quantity: float
    se_rate: float
    se_quantity: float
    precision_rate: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stratum": self.name,
            "population": self.population,
            "sample": self.sample,
            "errors": self.errors,
            "rate": self.rate,
            "quantity": self.quantity,
            "se_rate": self.se_rate,
            "se_quantity": self.se_quantity,
            "precision_rate": dict(self.precision_rate),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StratifiedAttributeAppraisal:
    """Stratified attribute appraisal: per stratum and combined, normal approximation with z."""

    strata: tuple[AttributeStratumResult, ...]
    population: int
    sample: int
    errors: int
    rate: float
    quantity: float
    se_rate: float
    se_quantity: float
    limits: dict[str, AttributeLimit]
    method: str = "normal approximation (z)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "strata": [s.to_dict() for s in self.strata],
            "overall": {
                "population": self.population,
                "sample": self.sample,
                "errors": self.errors,
                "rate": self.rate,
                "quantity": self.quantity,
                "se_rate": self.se_rate,
                "se_quantity": self.se_quantity,
                "limits": _limits_dict(self.limits),
            },
            "method": self.method,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeSampleSize:
    """Attribute sample sizes per confidence level for an anticipated rate and interval width."""

    population: int
    expected_rate: float
    precision_range_percent: float
    sample_sizes: dict[str, int | None]
    method: str = field(
        default="smallest n whose exact hypergeometric interval (x = round(p*n)) is no wider "
        "than the desired precision range"
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "population": self.population,
            "expected_rate": self.expected_rate,
            "precision_range_percent": self.precision_range_percent,
            "sample_sizes": dict(self.sample_sizes),
            "method": self.method,
        }


# ---------------------------------------------------------------------------------------------
# Appraisals
# ---------------------------------------------------------------------------------------------


def _check_counts(
    problems: Problems, where: str, population: object, sample: object, errors: object
) -> tuple[int, int, int] | None:
    big_n = problems.count(f"{where}population", population, minimum=1)
    if big_n is not None and big_n >= _MAX_POPULATION:
        problems.add(
            f"{where}population",
            "a universe below 2**53 (9,007,199,254,740,992) items",
            big_n,
            "such a universe cannot be counted exactly in double precision.",
        )
        big_n = None
    n = problems.count(f"{where}sample", sample, minimum=1)
    x = problems.count(f"{where}errors", errors, minimum=0)
    if big_n is not None and n is not None and n > big_n:
        problems.add(
            f"{where}sample",
            f"a sample size no larger than the universe ({big_n})",
            n,
            "check the universe and sample sizes.",
        )
        return None
    if n is not None and x is not None and x > n:
        problems.add(
            f"{where}errors",
            f"no more errors than sampled items ({n})",
            x,
            "errors count sampled items in error, at most one per item.",
        )
        return None
    if big_n is None or n is None or x is None:
        return None
    return big_n, n, x


def _se_rate(population: int, n: int, rate: float) -> float:
    if n < 2:
        return 0.0
    return math.sqrt(rate * (1.0 - rate) / (n - 1) * (1.0 - n / population))


def appraise_attribute(
    population: int, sample: int, errors: int, *, one_sided: bool = False
) -> AttributeAppraisal:
    """Appraise an error rate from a simple random sample with exact hypergeometric limits.

    Formula (UG2010 pp. 3-3..3-9, CM2010 p. 2-2): p = x/n, projected quantity p*N,
    SE(p) = sqrt(p(1-p)/(n-1) * (1-n/N)) (printed only, 0 when n = 1), SE(quantity) = N*SE(p);
    limits at 80/90/95% are exact: see :func:`hypergeometric_limits` (tail (1-CL)/2;
    K_U = N when x = n; K_L = 0 when x = 0; clamped to [x, N-n+x]).
    ``one_sided`` (x = 0 or x = n only, RAT-STATS asks "one-sided?" then) uses tail 1-CL and
    reports only the upper (x = 0) or lower (x = n) limit; the other is ``None``.

    Assumptions: sampling without replacement, each item either in error or not.
    Validated against UG2010 p. 3-8 (N=10,000, n=400, x=82), p. 3-9 (x=0, one-sided) and
    CM2010 p. 4-26 (n=666, x=133), and against a brute-force scan of scipy's hypergeometric.

    Raises :class:`~audit_kit.errors.StatisticsError` listing every invalid input
    (n > N, x > n, sizes below 1, negative or fractional counts, one-sided with 0 < x < n).
    """
    problems = Problems()
    checked = _check_counts(problems, "", population, sample, errors)
    if checked is not None and one_sided and 0 < checked[2] < checked[1]:
        problems.add(
            "one_sided",
            "a one-sided appraisal only when no item or every item is in error",
            f"{checked[2]} errors in {checked[1]}",
            "drop the one-sided option; two-sided limits apply.",
        )
    problems.raise_if_any("Cannot appraise this attribute sample.")
    assert checked is not None  # for the type checker: problems were raised above
    big_n, n, x = checked
    rate = x / n
    se = _se_rate(big_n, n, rate)
    limits: dict[str, AttributeLimit] = {}
    for key in APPRAISAL_CONFIDENCES:
        lower, upper = _exact_limits(big_n, n, x, int(key) / 100, one_sided=one_sided)
        limits[key] = AttributeLimit(
            lower=lower,
            upper=upper,
            lower_rate=None if lower is None else lower / big_n,
            upper_rate=None if upper is None else upper / big_n,
        )
    return AttributeAppraisal(
        population=big_n,
        sample=n,
        errors=x,
        rate=rate,
        quantity=x * big_n / n,
        se_rate=se,
        se_quantity=se * big_n,
        limits=limits,
        one_sided=one_sided,
    )


def appraise_attribute_stratified(
    strata: Sequence[AttributeStratum],
) -> StratifiedAttributeAppraisal:
    """Appraise a stratified error rate with the normal approximation, as RAT-STATS does.

    Formula (UG2010 pp. 3-14..3-18, CM2010 p. 2-6): W_h = N_h/N, p = sum W_h p_h,
    SE(p) = sqrt(sum W_h^2 p_h(1-p_h)/(n_h-1) * (1-n_h/N_h)), limits p -/+ z*SE with
    z = Phi^-1((1+CL)/2), rate limits clamped to [0, 1] (RAT-STATS' handling of a negative
    lower limit is not published; a negative count of errors is meaningless). Per stratum:
    p_h, N_h p_h, SE(p_h) as in the unrestricted case, precision z*SE(p_h).
    A stratum with n_h = 1 contributes no variance (p_h(1-p_h) = 0).

    Validated against UG2010 p. 3-18 (two strata, N = 1,000 / 1,500, n = 100 / 100).
    """
    problems = Problems()
    if not strata:
        problems.add("strata", "at least one stratum", "none", "list the strata.")
    names: set[str] = set()
    checked: list[tuple[str, int, int, int]] = []
    for index, stratum in enumerate(strata):
        where = f"strata[{index}] ({stratum.name}): "
        if stratum.name in names:
            problems.add(f"strata[{index}]", "unique stratum names", f"{stratum.name!r} twice")
        names.add(stratum.name)
        counts = _check_counts(problems, where, stratum.population, stratum.sample, stratum.errors)
        if counts is not None:
            checked.append((stratum.name, *counts))
    problems.raise_if_any("Cannot appraise this stratified attribute sample.")
    total_n = sum(c[1] for c in checked)
    results: list[AttributeStratumResult] = []
    rate = 0.0
    variance = 0.0
    for name, big_n, n, x in checked:
        p = x / n
        se = _se_rate(big_n, n, p)
        weight = big_n / total_n
        rate += weight * p
        variance += (weight * se) ** 2
        results.append(
            AttributeStratumResult(
                name=name,
                population=big_n,
                sample=n,
                errors=x,
                rate=p,
                quantity=x * big_n / n,
                se_rate=se,
                se_quantity=se * big_n,
                precision_rate={k: z_critical(int(k) / 100) * se for k in APPRAISAL_CONFIDENCES},
            )
        )
    se_rate = math.sqrt(variance)
    limits: dict[str, AttributeLimit] = {}
    for key in APPRAISAL_CONFIDENCES:
        half = z_critical(int(key) / 100) * se_rate
        low, high = max(0.0, rate - half), min(1.0, rate + half)
        limits[key] = AttributeLimit(
            lower=low * total_n,
            upper=high * total_n,
            lower_rate=low,
            upper_rate=high,
            precision_rate=half,
        )
    return StratifiedAttributeAppraisal(
        strata=tuple(results),
        population=total_n,
        sample=sum(c[2] for c in checked),
        errors=sum(c[3] for c in checked),
        rate=rate,
        quantity=rate * total_n,
        se_rate=se_rate,
        se_quantity=se_rate * total_n,
        limits=limits,
    )


def clopper_pearson(successes: int, trials: int, confidence: float) -> tuple[float, float]:
    """Return the two-sided Clopper-Pearson (exact binomial) interval for a proportion.

    Formula (Clopper & Pearson 1934): lower = Beta^-1(a/2; x, n-x+1), 0 when x = 0;
    upper = Beta^-1(1-a/2; x+1, n-x), 1 when x = n; a = 1 - confidence.
    For a proportion whose universe size is unknown (per-coder accuracy); with N known the
    exact hypergeometric limits are narrower (:func:`hypergeometric_limits`).
    ``confidence`` is a fraction (0.90). Assumptions: independent Bernoulli trials.
    """
    problems = Problems()
    n = problems.count("trials", trials, minimum=1)
    x = problems.count("successes", successes, minimum=0)
    level = problems.confidence("confidence", confidence)
    if n is not None and x is not None and x > n:
        problems.add("successes", f"at most the number of trials ({n})", x)
    problems.raise_if_any("Cannot compute a Clopper-Pearson interval.")
    assert n is not None and x is not None and level is not None
    alpha = 1.0 - level
    lower = 0.0 if x == 0 else float(special.betaincinv(x, n - x + 1, alpha / 2))
    upper = 1.0 if x == n else float(special.betaincinv(x + 1, n - x, 1 - alpha / 2))
    return lower, upper


# ---------------------------------------------------------------------------------------------
# Sample size
# ---------------------------------------------------------------------------------------------


def _interval_width(population: int, n: int, rate: float, confidence: float) -> int:
    x = math.floor(rate * n + 0.5)
    lower, upper = _exact_limits(population, n, x, confidence)
    assert lower is not None and upper is not None
    return upper - lower


def attribute_sample_size(
    population: int,
    *,
    expected_rate: float,
    precision_range_percent: float,
    confidences: Sequence[str] = SIZE_CONFIDENCES,
) -> AttributeSampleSize:
    """Return, per confidence level, the smallest n whose exact interval is narrow enough.

    Rule: the smallest n with K_U - K_L <= precision_range_percent/100 * N, where
    (K_L, K_U) are the exact two-sided limits (:func:`hypergeometric_limits`) for
    x = round(p*n) errors. The width is not monotone in n (it jitters by a few units as x
    rounds), so after a bisection on n the neighbourhood below is scanned for an earlier n.

    Known difference (CM2010 pp. 4-25, 4-27): RAT-STATS' own search is not published and its
    tables differ from this rule by 1-4 units (e.g. N = 10,000, p = 20%, range 6%, 80%:
    RAT-STATS 314, this rule 312, where the width is exactly 600 at n = 312 and 314, 602 at 313).
    """
    problems = Problems()
    big_n = problems.count("population", population, minimum=1)
    rate = problems.number("expected_rate", expected_rate)
    width = problems.number("precision_range_percent", precision_range_percent)
    if rate is not None and not 0.0 <= rate <= 1.0:
        problems.add("expected_rate", "a rate between 0 and 1 (0.20 for 20%)", rate)
    if width is not None and not 0.0 < width <= 100.0:
        problems.add("precision_range_percent", "a percentage above 0 and at most 100", width)
    levels: list[float] = []
    for key in confidences:
        try:
            level = float(key) / 100
        except ValueError:
            level = math.nan
        if not 0.0 < level < 1.0:
            problems.add("confidences", "confidence levels in percent, e.g. 90", key)
        levels.append(level)
    problems.raise_if_any("Cannot compute an attribute sample size.")
    assert big_n is not None and rate is not None and width is not None
    target = width / 100.0 * big_n
    sizes: dict[str, int | None] = {}
    for key, level in zip(confidences, levels, strict=True):
        sizes[str(key)] = _smallest_n(big_n, rate, level, target)
    return AttributeSampleSize(
        population=big_n,
        expected_rate=rate,
        precision_range_percent=width,
        sample_sizes=sizes,
    )


def _smallest_n(population: int, rate: float, confidence: float, target: float) -> int:
    def ok(n: int) -> bool:
        return _interval_width(population, n, rate, confidence) <= target

    lo, hi = 0, population  # a census has width 0; ok(population) holds
    while hi - lo > 1:  # invariant (under monotonicity): hi ok, lo not
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    best = hi
    # Jitter: look below for an earlier n that also meets the target, until widths are clearly
    # above it.
    margin = max(0.05 * target, 5.0)
    n = hi - 1
    while n >= 1:
        w = _interval_width(population, n, rate, confidence)
        if w <= target:
            best = n
        elif w > target + margin:
            break
        n -= 1
    return best
