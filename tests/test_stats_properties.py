"""Invariants of the statistics layer, checked with hypothesis on generated inputs."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit_kit.stats import (
    AttributeStratum,
    VariableStratum,
    allocate,
    appraise_attribute,
    appraise_attribute_stratified,
    appraise_variable,
    appraise_variable_stratified,
    clopper_pearson,
    hypergeometric_limits,
    ratio_interval,
    z_critical,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def attribute_samples(draw: st.DrawFn, max_population: int = 5_000) -> tuple[int, int, int]:
    population = draw(st.integers(min_value=1, max_value=max_population))
    sample = draw(st.integers(min_value=1, max_value=min(population, 400)))
    errors = draw(st.integers(min_value=0, max_value=sample))
    return population, sample, errors


amounts = st.floats(min_value=-1e6, max_value=1e7, allow_nan=False, allow_infinity=False)


@SETTINGS
@given(attribute_samples())
def test_exact_limits_bracket_the_estimate_inside_the_universe(case: tuple[int, int, int]) -> None:
    population, sample, errors = case
    result = appraise_attribute(population, sample, errors)
    previous: tuple[float, float] | None = None
    for level in ("80", "90", "95"):
        limit = result.limits[level]
        assert limit.lower is not None and limit.upper is not None
        assert 0 <= limit.lower <= result.quantity <= limit.upper <= population
        assert errors <= limit.lower and limit.upper <= population - sample + errors
        if previous is not None:  # a higher confidence never narrows the interval
            assert limit.lower <= previous[0] and limit.upper >= previous[1]
        previous = (limit.lower, limit.upper)


@SETTINGS
@given(attribute_samples(), st.sampled_from([0.80, 0.90, 0.95]))
def test_exact_limits_are_monotone_in_errors(case: tuple[int, int, int], level: float) -> None:
    population, sample, errors = case
    if errors == sample:
        errors -= 1
    if errors < 0:
        return
    low_a, high_a = hypergeometric_limits(population, sample, errors, level)
    low_b, high_b = hypergeometric_limits(population, sample, errors + 1, level)
    assert low_a is not None and high_a is not None and low_b is not None and high_b is not None
    assert low_a <= low_b and high_a <= high_b


@SETTINGS
@given(
    st.integers(min_value=1, max_value=2_000),
    st.integers(min_value=0, max_value=2_000),
    st.sampled_from([0.80, 0.90, 0.95, 0.99]),
)
def test_clopper_pearson_contains_the_proportion(trials: int, successes: int, level: float) -> None:
    successes = min(successes, trials)
    lower, upper = clopper_pearson(successes, trials, level)
    assert 0.0 <= lower <= successes / trials <= upper <= 1.0


@SETTINGS
@given(st.lists(amounts, min_size=2, max_size=60), st.integers(min_value=0, max_value=10_000))
def test_variable_limits_are_symmetric_about_the_estimate(values: list[float], extra: int) -> None:
    measure = appraise_variable(values, len(values) + extra)
    for limit in measure.limits.values():
        tolerance = 1e-9 * max(1.0, abs(measure.point_estimate), limit.precision)
        assert measure.point_estimate - limit.lower == pytest.approx(limit.precision, abs=tolerance)
        assert limit.upper - measure.point_estimate == pytest.approx(limit.precision, abs=tolerance)
        assert limit.precision >= 0
    assert measure.limits["80"].precision <= measure.limits["90"].precision
    assert measure.limits["90"].precision <= measure.limits["95"].precision


@SETTINGS
@given(st.lists(amounts, min_size=2, max_size=60), st.integers(min_value=0, max_value=10_000))
def test_one_stratum_equals_unrestricted_apart_from_t_and_z(
    values: list[float], extra: int
) -> None:
    population = len(values) + extra
    single = appraise_variable(values, population)
    strata = [VariableStratum(name="only", population=population, values=values)]
    with_t = appraise_variable_stratified(strata, rule="t")
    assert with_t.point_estimate == single.point_estimate
    assert with_t.se_total == single.se_total
    assert with_t.limits == single.limits  # t with sum(n_h - 1) = n - 1 df
    ratstats = appraise_variable_stratified(strata)
    for level, limit in ratstats.limits.items():
        assert limit.critical_value == z_critical(int(level) / 100)
        assert limit.precision == pytest.approx(
            z_critical(int(level) / 100) * single.se_total, rel=1e-12, abs=1e-9
        )


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.lists(amounts, min_size=1, max_size=20), st.integers(min_value=0, max_value=500)
        ),
        min_size=1,
        max_size=6,
    )
)
def test_strata_add_up(parts: list[tuple[list[float], int]]) -> None:
    strata = [
        VariableStratum(name=f"s{i}", population=len(v) + extra, values=v)
        for i, (v, extra) in enumerate(parts)
    ]
    result = appraise_variable_stratified(strata)
    assert result.population == sum(s.population for s in strata)
    assert result.sample == sum(len(v) for v, _ in parts)
    assert result.point_estimate == pytest.approx(
        sum(m.point_estimate for m in result.strata), rel=1e-12, abs=1e-6
    )
    assert result.se_total == pytest.approx(
        math.sqrt(sum(m.se_total**2 for m in result.strata)), rel=1e-12, abs=1e-9
    )


@SETTINGS
@given(st.lists(attribute_samples(max_population=3_000), min_size=1, max_size=5))
def test_stratified_attribute_rate_is_the_weighted_mean(cases: list[tuple[int, int, int]]) -> None:
    strata = [
        AttributeStratum(name=str(i), population=p, sample=n, errors=x)
        for i, (p, n, x) in enumerate(cases)
    ]
    result = appraise_attribute_stratified(strata)
    total = sum(p for p, _, _ in cases)
    assert result.rate == pytest.approx(sum(p * x / n for p, n, x in cases) / total)
    for limit in result.limits.values():
        assert limit.lower_rate is not None and limit.upper_rate is not None
        assert 0.0 <= limit.lower_rate <= result.rate + 1e-12
        assert result.rate - 1e-12 <= limit.upper_rate <= 1.0


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=30), st.integers(min_value=0, max_value=30)),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([0.80, 0.90, 0.95]),
)
def test_ratio_interval_contains_value_within_unit_interval(
    units: list[tuple[int, int]], level: float
) -> None:
    reviewed = [float(max(a, b)) for a, b in units]
    correct = [float(min(a, b)) for a, b in units]
    if sum(reviewed) == 0:
        reviewed[0] = 1.0
    result = ratio_interval(correct, reviewed, level)
    assert 0.0 <= result.lower <= result.value <= result.upper <= 1.0


@SETTINGS
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=4),
        st.integers(min_value=1, max_value=5_000),
        min_size=1,
        max_size=8,
    ),
    st.integers(min_value=0, max_value=20_000),
    st.sampled_from(["neyman", "proportional", "equal"]),
    st.integers(min_value=0, max_value=5),
)
def test_allocation_sums_and_caps(
    sizes: dict[str, int], total: int, method: str, minimum: int
) -> None:
    sds = {name: float(len(name)) for name in sizes}
    target = min(total, sum(sizes.values()))
    if sum(min(minimum, n) for n in sizes.values()) > target:
        minimum = 0
    result = allocate(total, sizes, method=method, sds=sds, minimum=minimum)  # type: ignore[arg-type]
    assert sum(result.values()) == target
    for name, n_h in result.items():
        assert min(minimum, sizes[name]) <= n_h <= sizes[name]


@SETTINGS
@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=10**12),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=-1e12, max_value=3e12, allow_nan=False),
    st.integers(min_value=1, max_value=10**9),
)
def test_limit_search_finds_the_threshold_from_any_guess(
    lo: int, width: int, where: float, guess: float, step: int
) -> None:
    # The bracket-and-bisect search behind the exact limits, on a predicate with a known
    # threshold: true up to ``threshold``, false after (whatever the starting guess and step).
    from audit_kit.stats.attribute import _last_true

    hi = lo + width
    threshold = lo + int(where * width)
    calls: list[int] = []

    def test(k: int) -> bool:
        assert lo <= k <= hi
        calls.append(k)
        return k <= threshold

    assert _last_true(test, lo, hi, guess, step) == threshold
    assert len(calls) <= 4 * 64  # logarithmic, never a scan


@SETTINGS
@given(attribute_samples(max_population=70), st.sampled_from([80, 90, 95, 99]))
def test_exact_limits_equal_exact_arithmetic(case: tuple[int, int, int], percent: int) -> None:
    from fractions import Fraction
    from math import comb

    population, sample, errors = case
    tail = Fraction((1.0 - percent / 100) / 2.0)  # RAT-STATS' double, at its exact value
    total = comb(population, sample)

    def cdf(k: int) -> Fraction:  # P(X <= errors | K = k)
        return Fraction(
            sum(comb(k, i) * comb(population - k, sample - i) for i in range(errors + 1)), total
        )

    def sf(k: int) -> Fraction:  # P(X >= errors | K = k)
        return Fraction(
            sum(comb(k, i) * comb(population - k, sample - i) for i in range(errors, sample + 1)),
            total,
        )

    ks = range(population + 1)
    upper = population if errors == sample else max(k for k in ks if cdf(k) > tail)
    lower = 0 if errors == 0 else min(k for k in ks if sf(k) > tail)
    expected = (max(lower, errors), min(upper, population - sample + errors))
    assert hypergeometric_limits(population, sample, errors, percent / 100) == expected
