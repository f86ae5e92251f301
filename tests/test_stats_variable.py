"""Variable appraisal: RAT-STATS 2010 reference values, OIG challenge sets, edge cases, errors.

RAT-STATS prints totals and limits as integers, means/SD/skewness/kurtosis/SE(mean) and
precision percent with 2 decimals, critical values with 12; values are compared within half a
unit of the last printed digit. The challenge sets (no published outputs) are checked against
an independent, direct numpy/scipy computation written out in this file.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps

from audit_kit.errors import StatisticsError
from audit_kit.stats import (
    MeasuredStratum,
    VariableMeasure,
    VariableStratum,
    appraise_variable,
    appraise_variable_stratified,
    appraise_variables,
    appraise_variables_stratified,
    complete_measures,
)

DATA = Path(__file__).parent / "data" / "ratstats"
REF: dict[str, Any] = json.loads((DATA / "ratstats_reference_values.json").read_text())
LEVELS = ("80", "90", "95")


def close(value: float | None, printed: float, places: int) -> bool:
    assert value is not None
    return abs(value - printed) <= 0.5 * 10.0**-places + 1e-9 * abs(printed)


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def column(rows: list[dict[str, str]], name: str) -> list[float]:
    return [float(r[name]) for r in rows]


def by_stratum(rows: list[dict[str, str]], name: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        out[r["stratum"]].append(float(r[name]))
    return dict(out)


# --- UG2010 pp. 4-16/4-17, CM2010 pp. 3-2..3-5: DATASRS, N = 10,000, n = 50 ------------------


def check_measure(measure: VariableMeasure, ref: dict[str, Any]) -> None:
    assert close(measure.mean, ref["mean"], 2)
    assert close(measure.sd, ref["sd"], 2)
    assert close(measure.skewness, ref["skew"], 2)
    assert close(measure.kurtosis, ref["kurt"], 2)
    assert close(measure.se_mean, ref["se_mean"], 2)
    assert close(measure.se_total, ref["se_total"], 0)
    assert close(measure.point_estimate, ref["pe"], 0)
    for level in LEVELS:
        limit, printed = measure.limits[level], ref[level]
        assert close(limit.lower, printed["lower"], 0)
        assert close(limit.upper, printed["upper"], 0)
        assert close(limit.precision, printed["prec"], 0)
        assert close(limit.precision_percent, printed["prec_pct"], 2)
        if "t" in printed:
            assert close(limit.critical_value, printed["t"], 12)


def test_unrestricted_reference_datasrs() -> None:
    ref = REF["uva"][0]
    rows = read_csv("ug2010_DATASRS_examined_audited_N10000.csv")
    result = appraise_variables(
        ref["N"], examined=column(rows, "examined"), audited=column(rows, "audited")
    )
    assert list(result.measures) == ["examined", "audited", "difference"]
    assert result.sample == ref["n"] == 50
    for name in ("examined", "audited", "difference"):
        assert close(result.measures[name].total, ref["totals"][name], 2)
        check_measure(result.measures[name], ref[name])
    assert result.measures["difference"].nonzero == ref["totals"]["nonzero_diffs"]


def test_single_measure_function_equals_multi() -> None:
    rows = read_csv("ug2010_DATASRS_examined_audited_N10000.csv")
    single = appraise_variable(column(rows, "examined"), 10_000)
    multi = appraise_variables(10_000, examined=column(rows, "examined"))
    assert single == multi.measures["examined"]


# --- UG2010 pp. 4-33/4-34, CM2010 pp. 3-12..3-14: DATASTRAT -----------------------------------


def test_stratified_reference_datastrat() -> None:
    ref = REF["sva"][0]
    values = by_stratum(read_csv("ug2010_DATASTRAT_difference.csv"), "difference")
    strata = [
        VariableStratum(name=str(i + 1), population=s["N"], values=values[str(i + 1)])
        for i, s in enumerate(ref["strata"])
    ]
    result = appraise_variable_stratified(strata)
    for stratum, key in zip(result.strata, ("stratum1", "stratum2"), strict=True):
        printed = ref[key]
        assert close(stratum.total, printed["total"], 2)
        assert close(stratum.mean, printed["mean"], 2)
        assert close(stratum.sd, printed["sd"], 2)
        assert close(stratum.skewness, printed["skew"], 2)
        assert close(stratum.kurtosis, printed["kurt"], 2)
        assert close(stratum.se_mean, printed["se_mean"], 2)
        assert close(stratum.se_total, printed["se_total"], 0)
        assert close(stratum.point_estimate, printed["pe"], 0)
        for i, level in enumerate(LEVELS):
            limit = stratum.limits[level]
            assert close(limit.lower, printed["lower"][i], 0)
            assert close(limit.upper, printed["upper"][i], 0)
            assert close(limit.precision, printed["prec"][i], 0)
            assert close(limit.precision_percent, printed["prec_pct"][i], 2)
            if "t" in printed:
                assert close(limit.critical_value, printed["t"][i], 12)
    overall = ref["overall"]
    assert result.population == overall["N"]
    assert close(result.point_estimate, overall["pe"], 0)
    assert close(result.se_total, overall["se"], 0)
    for i, level in enumerate(LEVELS):
        limit = result.limits[level]
        assert close(limit.lower, overall["lower"][i], 0)
        assert close(limit.upper, overall["upper"][i], 0)
        assert close(limit.precision, overall["prec"][i], 0)
        assert close(limit.precision_percent, overall["prec_pct"][i], 2)
        assert close(limit.critical_value, overall["z"][i], 12)


# --- Independent computation for the challenge sets -------------------------------------------


def independent(values: list[float], big_n: int) -> dict[str, Any]:
    """Direct textbook computation (numpy/scipy), written independently of audit_kit."""
    y = np.array(values, dtype=float)
    n = y.size
    sd = float(np.std(y, ddof=1)) if n > 1 else 0.0
    se_total = big_n * sd / math.sqrt(n) * math.sqrt(1 - n / big_n)
    out: dict[str, Any] = {
        "mean": float(np.mean(y)),
        "sd": sd,
        "pe": big_n * float(np.mean(y)),
        "se_total": se_total,
        "skew": float(sps.skew(y, bias=True)) if np.ptp(y) > 0 else None,
        "kurt": float(sps.kurtosis(y, fisher=False, bias=True)) if np.ptp(y) > 0 else None,
    }
    for level in LEVELS:
        t = float(sps.t.ppf(0.5 + int(level) / 200, n - 1)) if n > 1 else None
        out[level] = 0.0 if se_total == 0 or t is None else t * se_total
    return out


def check_against_independent(measure: VariableMeasure, values: list[float], big_n: int) -> None:
    expected = independent(values, big_n)
    scale = max(1.0, abs(expected["pe"]))
    assert measure.mean == pytest.approx(expected["mean"], rel=1e-12, abs=1e-9)
    assert measure.sd == pytest.approx(expected["sd"], rel=1e-10, abs=1e-9)
    assert measure.point_estimate == pytest.approx(expected["pe"], rel=1e-12, abs=1e-6)
    assert measure.se_total == pytest.approx(expected["se_total"], rel=1e-10, abs=1e-6)
    if expected["skew"] is None:
        assert measure.skewness is None and measure.kurtosis is None
    else:
        assert measure.skewness == pytest.approx(expected["skew"], rel=1e-8, abs=1e-10)
        assert measure.kurtosis == pytest.approx(expected["kurt"], rel=1e-8)
    for level in LEVELS:
        assert measure.limits[level].precision == pytest.approx(
            expected[level], rel=1e-9, abs=1e-9 * scale
        )


def test_challenge_unrestricted_999_items() -> None:
    values = column(
        read_csv("challenge/oig_challenge_uva_example1_difference_values_N1000.csv"), "difference"
    )
    assert len(values) == 999
    measure = appraise_variable(values, 1000)
    check_against_independent(measure, values, 1000)
    # n = 999 of N = 1000: the finite population correction is sqrt(1/1000).
    assert measure.se_mean == pytest.approx(
        np.std(values, ddof=1) / math.sqrt(999) * math.sqrt(0.001)
    )


def test_challenge_three_items_examined_and_difference() -> None:
    rows = read_csv("challenge/oig_challenge_uva_example2_N782543.csv")
    result = appraise_variables(
        782_543, examined=column(rows, "examined"), difference=column(rows, "difference")
    )
    audited = [
        e - d for e, d in zip(column(rows, "examined"), column(rows, "difference"), strict=True)
    ]
    check_against_independent(result.measures["audited"], audited, 782_543)
    check_against_independent(result.measures["difference"], column(rows, "difference"), 782_543)
    # t with 2 degrees of freedom at 95%: 4.302652729...
    assert result.measures["difference"].limits["95"].critical_value == pytest.approx(
        4.302652729749464, abs=1e-12
    )


def test_challenge_stratified_edge_cases() -> None:
    """Census stratum (100 of 100), 2-item stratum, all-zero stratum, 887 of 888."""
    values = by_stratum(
        read_csv("challenge/oig_challenge_sva_example1_difference_values.csv"), "difference"
    )
    sizes = {
        r["stratum"]: int(r["universe_size"])
        for r in read_csv("challenge/oig_challenge_sva_example1_sizes.csv")
    }
    strata = [VariableStratum(name=h, population=sizes[h], values=values[h]) for h in sizes]
    result = appraise_variable_stratified(strata)
    by_name = {m.stratum: m for m in result.strata}
    for h, measure in by_name.items():
        assert h is not None
        check_against_independent(measure, values[h], sizes[h])
    assert set(by_name["1"].notes) == {"zero_variance", "mean_not_positive"}  # all zero
    assert by_name["1"].point_estimate == 0.0 and by_name["1"].se_total == 0.0
    assert by_name["1"].limits["90"].precision_percent == 0.0
    assert by_name["2"].notes == ("census",)
    assert by_name["2"].se_total == 0.0 and by_name["2"].limits["95"].precision == 0.0
    assert by_name["3"].sample == 2 and by_name["3"].limits["80"].critical_value == pytest.approx(
        3.077683537175254, abs=1e-12
    )  # t, 1 df, 90th percentile
    # Overall: sum N_h mean_h; SE from the non-census strata only; z.
    expected_pe = sum(sizes[h] * float(np.mean(values[h])) for h in sizes)
    expected_se = math.sqrt(sum(independent(values[h], sizes[h])["se_total"] ** 2 for h in sizes))
    assert result.point_estimate == pytest.approx(expected_pe, rel=1e-12)
    assert result.se_total == pytest.approx(expected_se, rel=1e-12)
    for level in LEVELS:
        z = float(sps.norm.ppf(0.5 + int(level) / 200))
        assert result.limits[level].precision == pytest.approx(z * expected_se, rel=1e-12)
    assert "2: census" in result.notes and "1: zero_variance" in result.notes


def test_challenge_eleven_strata_with_single_item_stratum() -> None:
    rows = read_csv("challenge/oig_challenge_sva_example2_examined_audited.csv")
    sizes = {
        r["stratum"]: int(r["universe_size"])
        for r in read_csv("challenge/oig_challenge_sva_example2_sizes.csv")
    }
    examined, audited = by_stratum(rows, "examined"), by_stratum(rows, "audited")
    strata = [
        MeasuredStratum(name=h, population=sizes[h], examined=examined[h], audited=audited[h])
        for h in sizes
    ]
    result = appraise_variables_stratified(strata, rule="t")
    assert list(result.measures) == ["examined", "audited", "difference"]
    diff = result.measures["difference"]
    first = diff.strata[0]
    assert first.sample == 1 and first.population == 1
    assert "single_unit" in first.notes and "census" in first.notes
    assert first.sd == 0.0 and first.limits["90"].critical_value is None
    for measure in diff.strata:
        h = measure.stratum
        assert h is not None
        d = [e - a for e, a in zip(examined[h], audited[h], strict=True)]
        check_against_independent(measure, d, sizes[h])
    # rule t: sum(n_h - 1) degrees of freedom over the strata (0 for the single-item one).
    df = sum(len(examined[h]) - 1 for h in sizes)
    assert diff.degrees_of_freedom == df
    assert diff.limits["90"].critical_value == pytest.approx(float(sps.t.ppf(0.95, df)), abs=1e-12)
    assert result.to_dict()["critical_value_rule"] == "t"


# --- Helpers and edge cases ------------------------------------------------------------------


def test_complete_measures_any_two_give_the_third() -> None:
    examined, audited = [100.0, 50.0, 20.0], [80.0, 50.0, 30.0]
    difference = [20.0, 0.0, -10.0]
    assert complete_measures(examined=examined, audited=audited)["difference"] == tuple(difference)
    assert complete_measures(examined=examined, difference=difference)["audited"] == tuple(audited)
    assert complete_measures(audited=audited, difference=difference)["examined"] == tuple(examined)
    only = complete_measures(difference=difference)
    assert list(only) == ["difference"]
    all_three = complete_measures(examined=examined, audited=audited, difference=difference)
    assert list(all_three) == ["examined", "audited", "difference"]


def test_complete_measures_rejects_inconsistent_rows() -> None:
    with pytest.raises(StatisticsError) as info:
        complete_measures(examined=[10.0, 5.0], audited=[5.0, 5.0], difference=[5.0, 1.0])
    assert "index 1" in info.value.problems[0].found
    with pytest.raises(StatisticsError):
        complete_measures()
    with pytest.raises(StatisticsError) as info:
        complete_measures(examined=[1.0, 2.0], audited=[1.0])
    assert "examined: 2, audited: 1" in info.value.problems[0].found


def test_single_item_sample_is_flagged() -> None:
    measure = appraise_variable([125.0], 40)
    assert measure.sd == 0.0 and measure.se_total == 0.0
    assert "single_unit" in measure.notes
    assert measure.limits["90"].critical_value is None
    assert measure.to_dict()["limits"]["90"]["critical_value"] is None
    assert measure.limits["90"].lower == measure.limits["90"].upper == 40 * 125.0


def test_negative_mean_reports_precision_percent_zero() -> None:
    measure = appraise_variable([-10.0, -20.0, 5.0], 100)
    assert measure.mean < 0 and "mean_not_positive" in measure.notes
    assert all(limit.precision_percent == 0.0 for limit in measure.limits.values())
    assert measure.limits["90"].precision > 0


def test_rule_z_and_ratstats_are_the_same_numbers() -> None:
    strata = [
        VariableStratum(name="a", population=100, values=[1.0, 2.0, 4.0]),
        VariableStratum(name="b", population=50, values=[3.0, 3.5]),
    ]
    ratstats = appraise_variable_stratified(strata)
    z = appraise_variable_stratified(strata, rule="z")
    assert ratstats.limits == z.limits
    assert ratstats.to_dict()["critical_value_rule"] == "ratstats"


def test_stratified_to_dict_shape() -> None:
    strata = [VariableStratum(name="a", population=100, values=[1.0, 2.0, 4.0])]
    document = appraise_variable_stratified(strata).to_dict("difference")
    assert set(document) >= {"strata", "overall", "critical_value_rule"}
    assert document["strata"][0]["stratum"] == "a"
    assert set(document["strata"][0]["difference"]) >= {
        "total",
        "nonzero",
        "mean",
        "sd",
        "skewness",
        "kurtosis",
        "se_mean",
        "se_total",
        "point_estimate",
        "limits",
    }
    assert set(document["overall"]["difference"]) >= {"point_estimate", "se_total", "limits"}
    assert set(document["overall"]["difference"]["limits"]["80"]) == {
        "lower",
        "upper",
        "precision",
        "precision_percent",
        "critical_value",
    }


# --- Errors ----------------------------------------------------------------------------------


def test_invalid_values_and_sizes_reported_together() -> None:
    with pytest.raises(StatisticsError) as info:
        appraise_variable([1.0, float("nan"), "x"], 0)  # type: ignore[list-item]
    wheres = [p.where for p in info.value.problems]
    assert wheres == ["values", "population"]
    assert "values[1], values[2]" in info.value.problems[0].found


def test_empty_values_and_sample_above_population() -> None:
    with pytest.raises(StatisticsError) as info:
        appraise_variable([], 10)
    assert info.value.problems[0].expected == "at least one value"
    with pytest.raises(StatisticsError) as info:
        appraise_variable([1.0, 2.0, 3.0], 2)
    assert "universe size (2)" in info.value.problems[0].expected


def test_stratified_errors_name_the_stratum() -> None:
    strata = [
        VariableStratum(name="a", population=2, values=[1.0, 2.0, 3.0]),
        VariableStratum(name="b", population=0, values=[1.0]),
        VariableStratum(name="c", population=10, values=[]),
    ]
    with pytest.raises(StatisticsError) as info:
        appraise_variable_stratified(strata, rule="median")
    wheres = [p.where for p in info.value.problems]
    assert wheres == [
        "rule",
        "strata[0] (a): values",
        "strata[1] (b): population",
        "strata[2] (c): values",
    ]


def test_equal_tiny_values_have_zero_spread() -> None:
    # Found by hypothesis: the rounded mean of equal values differs from them in the last bit.
    value = 1.717138823719608e-147
    measure = appraise_variable([value, value, value], 4)
    assert measure.sd == 0.0 and measure.se_total == 0.0
    assert "zero_variance" in measure.notes and measure.skewness is None
