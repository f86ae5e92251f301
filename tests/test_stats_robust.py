"""Robust lower bounds for overpayments: closed forms, coverage where the t limit fails.

Coverage scenario (docs/methods.md; warehouse notes of the project, section 5): N = 3,000 claims
with fee-schedule-like paid amounts, most of them full denials; simple random samples without
replacement; one-sided 90% lower bounds. The accepted band: over 2,000 samples the truth falls
below the bound at most 10% + 2 points. Seeds fixed.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats as sps

from audit_kit.errors import StatisticsError
from audit_kit.stats import (
    appraise_variable,
    kaplan_wald_lower_bound,
    left_skew_flag,
    minimum_sum_lower_bound,
    paid_steps,
)


def test_kaplan_wald_one_draw_closed_form() -> None:
    # n = 1: Z_1 = g x / t + 1 - g (m_1 = t), so p(t) > alpha iff t > g x / (1/alpha - 1 + g):
    # with g = 0.5, alpha = 0.1, x = 50, N = 100 the total's bound is 100 * 50 / 19.
    assert kaplan_wald_lower_bound([50.0], 100, confidence=0.90) == pytest.approx(
        100 * 50 / 19, rel=1e-9
    )
    # Never below what the sample itself shows (values >= 0): N = 10 gives 10*50/19 < 50.
    assert kaplan_wald_lower_bound([50.0], 10, confidence=0.90) == pytest.approx(50.0)
    assert kaplan_wald_lower_bound([0.0, 0.0], 10, confidence=0.90) == 0.0


def test_minimum_sum_closed_form() -> None:
    # N = 10, n = 3, all 3 sampled claims fully denied (paid 40, 50, 60). L = the smallest K
    # with P(X >= 3 | K) = C(K,3)/C(10,3) > 0.10 (one-sided 90%), exactly; the bound adds the
    # L - 3 smallest paid amounts of the frame.
    frame = [40.0, 50.0, 60.0, 10.0, 20.0, 30.0, 70.0, 80.0, 90.0, 100.0]
    big_l = min(k for k in range(3, 11) if Fraction(math.comb(k, 3), math.comb(10, 3)) > 0.1)
    expected = 150.0 + sum(sorted(frame)[: big_l - 3])
    bound = minimum_sum_lower_bound([40.0, 50.0, 60.0], 10, paid_steps(frame), confidence=0.90)
    assert big_l == 6 and bound == pytest.approx(expected)
    assert minimum_sum_lower_bound([0.0, 0.0], 10, paid_steps(frame), confidence=0.9) == 0.0


def test_paid_steps_never_overstate() -> None:
    rng = np.random.default_rng(3)
    paid = rng.gamma(2.0, 100.0, 10_000)
    steps = paid_steps(paid, points=500)
    exact = np.cumsum(np.sort(paid))
    for k in (1, 7, 100, 2_345, 9_999, 10_000):
        approx = steps.smallest_sum(k)
        assert approx <= exact[k - 1] + 1e-9
        if k >= 2_000:  # past the first few steps, and not far below
            assert approx >= 0.97 * exact[k - 1]
    assert paid_steps(paid[:50]).smallest_sum(10) == pytest.approx(
        np.floor(np.sort(paid[:50])[:10] * 100).sum() / 100
    )


def test_negative_values_are_refused() -> None:
    with pytest.raises(StatisticsError, match="underpayments entered as 0"):
        kaplan_wald_lower_bound([10.0, -5.0], 100, confidence=0.9)


def claims(
    rng: np.random.Generator, size: int, denied: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Fee-schedule-like paid amounts; a share ``denied`` fully denied, the rest correct."""
    fees = np.array([138.0, 148.0, 161.0])  # one E/M family: similar amounts
    paid = rng.choice(fees, size) * rng.uniform(0.98, 1.02, size)
    return paid, np.where(rng.random(size) < denied, paid, 0.0)


REPS = 2000


@pytest.mark.parametrize(("denied", "n", "seed"), [(0.97, 30, 5), (0.90, 50, 6), (0.05, 60, 7)])
def test_bounds_cover_where_the_t_limit_does_not(denied: float, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = 3000
    paid, over = claims(rng, size, denied)
    truth = over.sum()
    steps = paid_steps(paid)
    fails = {"kaplan_wald": 0, "minimum_sum": 0, "t": 0}
    t80 = sps.t.ppf(0.90, n - 1)
    first = rng.choice(size, n, replace=False)
    assert appraise_variable(over[first].tolist(), size).limits["80"].lower == pytest.approx(
        size * over[first].mean()
        - t80 * size * over[first].std(ddof=1) / math.sqrt(n) * math.sqrt((size - n) / size)
    )
    gaps = {"kaplan_wald": 0.0, "minimum_sum": 0.0, "markov": 0.0}
    for _ in range(REPS):
        pick = rng.choice(size, n, replace=False)  # in draw order
        kw = kaplan_wald_lower_bound(over[pick], size, confidence=0.90)
        ms = minimum_sum_lower_bound(over[pick], size, steps, confidence=0.90)
        fails["kaplan_wald"] += truth < kw
        fails["minimum_sum"] += truth < ms
        # RAT-STATS' one-sided 90% t limit (two-sided 80%), as appraise_variable computes it.
        sample = over[pick]
        se_total = size * sample.std(ddof=1) / math.sqrt(n) * math.sqrt((size - n) / size)
        t_lower = size * sample.mean() - t80 * se_total
        fails["t"] += truth < t_lower
        gaps["kaplan_wald"] += (truth - kw) / REPS
        gaps["minimum_sum"] += (truth - ms) / REPS
        # A simple valid reference: Markov, P(mean >= mu / alpha) <= alpha, so N alpha mean.
        gaps["markov"] += (truth - 0.10 * size * over[pick].mean()) / REPS
    assert fails["kaplan_wald"] / REPS <= 0.12, fails
    assert fails["minimum_sum"] / REPS <= 0.12, fails
    if denied >= 0.9:
        # Not trivially loose: far closer to the truth, on average, than the Markov bound.
        assert max(gaps["kaplan_wald"], gaps["minimum_sum"]) < 0.5 * gaps["markov"], gaps
        assert fails["t"] / REPS > 0.10 + 0.02, fails  # the failure these bounds are for
        pick = rng.choice(size, n, replace=False)
        assert left_skew_flag(over[pick], paid[pick]) is not None
    else:
        assert left_skew_flag(over[:n], paid[:n]) is None
