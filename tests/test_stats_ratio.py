"""Accuracy intervals (ratio, proportion) and the demand-amount rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from audit_kit.errors import StatisticsError
from audit_kit.stats import (
    DemandRule,
    VariableLimit,
    appraise_variable,
    clopper_pearson,
    demand_amount,
    demand_reason,
    hypergeometric_limits,
    proportion_interval,
    ratio_interval,
)


def test_ratio_with_one_code_per_unit_is_the_srs_mean_interval() -> None:
    # With x_i = 1 the ratio estimator is the sample mean and v(R) = (1-f) s^2 / n: the
    # textbook SRS interval for a mean (Cochran 1977 §2.4), computed here directly.
    y = np.array([1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1], dtype=float)
    n, big_n = y.size, 200
    result = ratio_interval(y.tolist(), [1.0] * n, 0.90, population=big_n)
    se = math.sqrt((1 - n / big_n) * y.var(ddof=1) / n)
    t = float(sps.t.ppf(0.95, n - 1))
    assert result.value == pytest.approx(y.mean())
    assert result.se == pytest.approx(se)
    assert result.lower == pytest.approx(y.mean() - t * se)
    assert result.upper == pytest.approx(min(1.0, y.mean() + t * se))
    assert result.degrees_of_freedom == n - 1 and result.units == n


def test_ratio_linearised_variance_by_hand() -> None:
    # Four units (clusters) of codes: correct / reviewed.
    correct, reviewed = [4.0, 2.0, 5.0, 3.0], [5.0, 2.0, 6.0, 4.0]
    r = 14 / 17
    residuals = [c - r * k for c, k in zip(correct, reviewed, strict=True)]
    xbar = 17 / 4
    variance = sum(e * e for e in residuals) / 3 / (4 * xbar**2)  # f = 0: no population
    result = ratio_interval(correct, reviewed, 0.95)
    assert result.value == pytest.approx(r)
    assert result.se == pytest.approx(math.sqrt(variance))
    half = float(sps.t.ppf(0.975, 3)) * math.sqrt(variance)
    assert (result.lower, result.upper) == (pytest.approx(r - half), pytest.approx(r + half))
    assert "finite population" not in result.method


def test_ratio_clipped_and_degenerate_cases() -> None:
    perfect = ratio_interval([3.0, 5.0, 2.0], [3.0, 5.0, 2.0], 0.90)
    assert (perfect.value, perfect.lower, perfect.upper, perfect.se) == (1.0, 1.0, 1.0, 0.0)
    wide = ratio_interval([0.0, 10.0], [10.0, 10.0], 0.95)
    assert wide.lower == 0.0 and wide.upper == 1.0
    single = ratio_interval([2.0], [3.0], 0.90)
    assert (single.lower, single.upper, single.se) == (0.0, 1.0, None)
    assert single.to_dict()["se"] is None
    census = ratio_interval([1.0, 2.0, 3.0], [2.0, 2.0, 4.0], 0.90, population=3)
    assert census.se == 0.0 and census.lower == census.upper == census.value


def test_ratio_interval_errors() -> None:
    with pytest.raises(StatisticsError) as info:
        ratio_interval([5.0, 1.0], [4.0, 1.0, 2.0], 1.5, population=0)
    wheres = {p.where for p in info.value.problems}
    assert wheres == {"confidence", "population", "numerators"}
    with pytest.raises(StatisticsError) as info:
        ratio_interval([5.0, 1.0], [4.0, 1.0], 0.9)
    assert info.value.problems[0].where == "numerators[0]"
    with pytest.raises(StatisticsError):
        ratio_interval([0.0], [0.0], 0.9)


def test_proportion_interval_without_population_is_clopper_pearson() -> None:
    result = proportion_interval(45, 50, 0.95)
    assert (result.lower, result.upper) == clopper_pearson(45, 50, 0.95)
    expected = sps.binomtest(45, 50).proportion_ci(confidence_level=0.95, method="exact")
    assert result.lower == pytest.approx(expected.low, abs=1e-12)
    assert result.method.startswith("Clopper-Pearson")


def test_proportion_interval_with_population_uses_exact_hypergeometric() -> None:
    # 47 of 50 units correct, N = 400: failures 3; accuracy limits 1 - K_U/N .. 1 - K_L/N.
    result = proportion_interval(47, 50, 0.90, population=400)
    k_low, k_high = hypergeometric_limits(400, 50, 3, 0.90)
    assert k_low is not None and k_high is not None
    assert result.lower == 1 - k_high / 400 and result.upper == 1 - k_low / 400
    assert result.lower <= 47 / 50 <= result.upper
    assert result.to_dict()["confidence"] == 0.90


def test_demand_amount_rules() -> None:
    measure = appraise_variable([120.0, 0.0, 35.5, 80.0, 0.0, 15.0], 1_000)
    point = demand_amount(measure.point_estimate, measure.limits, "point_estimate")
    cms = demand_amount(measure.point_estimate, measure.limits, DemandRule.CMS_ONE_SIDED_90)
    oig = demand_amount(measure.point_estimate, measure.limits, "oig_two_sided_90")
    assert point == measure.point_estimate
    assert cms == measure.limits["80"].lower  # one-sided 90% = two-sided 80% lower limit
    assert oig == measure.limits["90"].lower
    assert oig < cms < point
    as_dicts = {k: v.to_dict() for k, v in measure.limits.items()}
    assert demand_amount(measure.point_estimate, as_dicts, "cms_one_sided_90") == cms
    assert "one-sided 90%" in demand_reason("cms_one_sided_90")
    assert "two-sided 90%" in demand_reason(DemandRule.OIG_TWO_SIDED_90)


def test_demand_amount_rejects_unknown_rule_and_missing_level() -> None:
    with pytest.raises(StatisticsError) as info:
        demand_amount(100.0, {}, "lowest")
    assert info.value.problems[0].where == "demand_rule"
    limit = VariableLimit(lower=1, upper=2, precision=0.5, precision_percent=1, critical_value=1)
    with pytest.raises(StatisticsError):
        demand_amount(100.0, {"90": limit}, "cms_one_sided_90")
