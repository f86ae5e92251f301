"""Random numbers: RAT-STATS 2010 reference seeds, seed handling, pcg64, uniformity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from audit_kit.errors import StatisticsError
from audit_kit.stats.rng import (
    GeneratorName,
    draw_distinct,
    ratstats_seed,
    ratstats_stream,
    ratstats_wh_seeds,
    stratum_seed,
)

DATA = Path(__file__).parent / "data" / "ratstats"
REF: list[dict[str, Any]] = json.loads((DATA / "ratstats_reference_values.json").read_text())[
    "rng_single_stage"
]
#: Significance of the uniformity tests. They are deterministic (fixed seeds), so this is the
#: chance that a correct generator would have been rejected when the test was written.
ALPHA = 0.001


@pytest.mark.parametrize("ref", REF, ids=lambda r: str(r["seed"]))
def test_reference_seeds(ref: dict[str, Any]) -> None:
    draw = draw_distinct(
        "ratstats",
        ref["seed"],
        low=ref["low"],
        high=ref["high"],
        sample_size=ref["sequential"],
        spares=ref["spares"],
    )
    if "selection_order_values" in ref:  # UG2010 p. 2-7; CM2010 p. 3-19
        assert list(draw.values) == ref["selection_order_values"]
    if "sequential_sorted" in ref:  # CM2010 p. 1-2
        assert sorted(draw.sample) == ref["sequential_sorted"]
        assert list(draw.spares) == ref["spares_in_order"]
    if "sum" in ref:
        assert draw.total == ref["sum"]
    if "wh_seeds" in ref:
        assert list(ratstats_wh_seeds(ref["seed"])) == ref["wh_seeds"]
        assert draw.wh_seeds == tuple(ref["wh_seeds"])
    assert len(set(draw.values)) == ref["sequential"] + ref["spares"]


def test_seed_is_rounded_to_two_decimals() -> None:
    assert ratstats_seed(48863.784) == 48863.78
    assert ratstats_seed(48863.785) == 48863.79  # half up on the decimal as typed
    assert ratstats_seed(12345) == 12345.0
    a = draw_distinct("ratstats", 48863.781, low=1, high=1000, sample_size=14)
    b = draw_distinct("ratstats", 48863.78, low=1, high=1000, sample_size=14)
    assert a.values == b.values and a.seed_used == 48863.78


@pytest.mark.parametrize("seed", [0, -1, 0.004, 1e15, 2e15])
def test_seed_out_of_range_is_refused(seed: float) -> None:
    with pytest.raises(StatisticsError) as info:
        ratstats_seed(seed)
    assert info.value.problems[0].where == "seed"


@pytest.mark.parametrize("seed", [float("nan"), float("inf"), True, "12"])
def test_seed_not_a_number_is_refused(seed: Any) -> None:
    with pytest.raises(StatisticsError):
        ratstats_seed(seed)


def test_largest_seed_accepted() -> None:
    assert ratstats_seed(999_999_999_999_999) == 999_999_999_999_999.0


def test_only_sixteen_bits_of_the_seed_survive() -> None:
    # docs/methods.md 1: seeds 4194304..4194307 share the high 32 bits of their double: one stream.
    draws = {
        draw_distinct("ratstats", s, low=1, high=10_000, sample_size=30).values
        for s in range(4_194_304, 4_194_308)
    }
    assert len(draws) == 1
    other = draw_distinct("ratstats", 4_194_308, low=1, high=10_000, sample_size=30).values
    assert other not in draws


def test_pcg64_is_deterministic_and_seed_dependent() -> None:
    a = draw_distinct("pcg64", 20261127, low=1, high=5000, sample_size=50, spares=5)
    b = draw_distinct(GeneratorName.PCG64, 20261127, low=1, high=5000, sample_size=50, spares=5)
    c = draw_distinct("pcg64", 20261128, low=1, high=5000, sample_size=50, spares=5)
    assert a.values == b.values and a.values != c.values
    assert a.wh_seeds is None and a.seed_used == 20261127
    # Independent: the same selection by NumPy directly, one value at a time.
    rng = np.random.Generator(np.random.PCG64(20261127))
    expected: list[int] = []
    while len(expected) < 55:
        value = int(rng.integers(1, 5000, endpoint=True))
        if value not in expected:
            expected.append(value)
    assert list(a.values) == expected


@pytest.mark.parametrize("seed", [1.5, -3])
def test_pcg64_rejects_fractional_and_negative_seeds(seed: float) -> None:
    with pytest.raises(StatisticsError):
        draw_distinct("pcg64", seed, low=1, high=10, sample_size=2)


def test_range_problems_reported_together() -> None:
    with pytest.raises(StatisticsError) as info:
        draw_distinct("ratstats", 1, low=10, high=5, sample_size=-1)
    assert [p.where for p in info.value.problems] == ["high", "count"]
    with pytest.raises(StatisticsError) as info:
        draw_distinct("pcg64", 1, low=1, high=10, sample_size=8, spares=3)
    assert "at most 10 distinct values" in info.value.problems[0].expected


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(["ratstats", "pcg64"]),
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=1, max_value=400),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=60),
)
def test_spares_extend_the_sample_without_changing_it(
    generator: str, seed: int, span: int, n: int, k: int
) -> None:
    high = max(span, n + k)
    with_spares = draw_distinct(generator, seed, low=1, high=high, sample_size=n, spares=k)
    without = draw_distinct(generator, seed, low=1, high=high, sample_size=n)
    assert with_spares.sample == without.values
    assert with_spares.values[: n + k] == with_spares.sample + with_spares.spares
    assert len(set(with_spares.values)) == n + k
    assert all(1 <= v <= high for v in with_spares.values)


def chi_square_p(counts: np.ndarray) -> float:
    return float(sps.chisquare(counts).pvalue)


def test_ratstats_first_value_uniform_over_many_seeds() -> None:
    # 4,000 seeds (distinct streams), first number in 1..20: 200 expected per cell.
    firsts = [
        draw_distinct("ratstats", seed, low=1, high=20, sample_size=1).values[0]
        for seed in range(1, 4001)
    ]
    counts = np.bincount(firsts, minlength=21)[1:]
    assert chi_square_p(counts) > ALPHA


def test_pcg64_first_value_uniform_over_many_seeds() -> None:
    firsts = [
        draw_distinct("pcg64", seed, low=1, high=20, sample_size=1).values[0]
        for seed in range(4000)
    ]
    counts = np.bincount(firsts, minlength=21)[1:]
    assert chi_square_p(counts) > ALPHA


def test_ratstats_stream_uniform() -> None:
    stream = ratstats_stream(48863.78)
    values = np.array([next(stream) for _ in range(50_000)])
    assert values.min() >= 0.0 and values.max() < 1.0
    counts = np.histogram(values, bins=50, range=(0.0, 1.0))[0]
    assert chi_square_p(counts) > ALPHA


def test_stratum_seeds_depend_only_on_seed_and_label() -> None:
    a = stratum_seed(123, "coder A", GeneratorName.RATSTATS)
    assert a == stratum_seed(123, "coder A", GeneratorName.RATSTATS)
    assert a != stratum_seed(123, "coder B", GeneratorName.RATSTATS)
    assert isinstance(a, int) and 1 <= a <= 999_999_999
    assert stratum_seed(123, "coder A", GeneratorName.PCG64) >= 0


@pytest.mark.parametrize("seed", [1e30, 10**30, 10**400])
def test_huge_seeds_are_out_of_range_not_a_crash(seed: float) -> None:
    # Decimal rounding of 1e30 to 2 places used to raise InvalidOperation (an internal error).
    with pytest.raises(StatisticsError, match="out of range"):
        ratstats_seed(seed)
