"""Sample sizes: RAT-STATS 2010 tables, stratified allocation, error-rate entry, CIA rule."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps

from audit_kit.errors import StatisticsError
from audit_kit.stats import (
    SizeStratum,
    allocate,
    cia_full_sample_size,
    required_sample_size,
    stratified_allocation,
    stratified_sample_size,
    variable_sample_size,
    variable_sample_size_from_error_rate,
    variable_sample_size_from_probe,
)

DATA = Path(__file__).parent / "data" / "ratstats"
REF: dict[str, Any] = json.loads((DATA / "ratstats_reference_values.json").read_text())


def probe_values() -> list[float]:
    with (DATA / "ug2010_SAMPDATA_probe.csv").open(newline="") as handle:
        return [float(r["value"]) for r in csv.DictReader(handle)]


def expected_table(ref: dict[str, Any]) -> dict[str, dict[str, int | None]]:
    return {
        str(p): {str(c): n for c, n in zip(ref["cols_confidence"], row, strict=True)}
        for p, row in zip(ref["rows_precision_pct"], ref["table"], strict=True)
    }


def test_probe_table_reference() -> None:
    # UG2010 p. 5-11, CM2010 p. 4-5: the SAMPDATA probe (25 items), N = 100,000.
    ref = REF["sample_size_variable_unrestricted_probe"]
    result = variable_sample_size_from_probe(probe_values(), population=ref["N"])
    assert result.table == expected_table(ref)  # None where RAT-STATS prints ---
    assert round(result.mean, 2) == ref["mean"] and round(result.sd, 2) == ref["sd"]
    assert result.probe_size == 25 and result.source == "probe"


def test_entered_mean_sd_table_reference() -> None:
    ref = REF["sample_size_variable_unrestricted_probe"]
    result = variable_sample_size(mean=ref["mean"], sd=ref["sd"], population=ref["N"])
    assert result.table == expected_table(ref)
    assert result.to_dict()["table"]["25"]["80"] is None


def test_required_sample_size_formula_by_hand() -> None:
    # mean 400, SD 50, N 100,000, 10% at 90%: E = 4,000,000; z = 1.6448536...
    z = 1.6448536269514722
    expected = (50 * 100_000) ** 2 / ((4_000_000 / z) ** 2 + 100_000 * 50**2)
    n = required_sample_size(
        mean=400, sd=50, population=100_000, confidence=0.90, precision_percent=10
    )
    assert n == pytest.approx(expected, rel=1e-12)
    assert round(n) == 4


def test_stratified_known_total_reference() -> None:
    # CM2010 p. 4-18: n = 500 over two strata -> 100 / 400; precision 4.09, 5.25, 6.26, 8.22%.
    ref = REF["sample_size_variable_stratified_known_total"]
    strata = [
        SizeStratum(name=str(i + 1), population=s["N"], mean=s["mean"], sd=s["sd"])
        for i, s in enumerate(ref["strata"])
    ]
    result = stratified_allocation(strata, ref["n"])
    assert list(result.allocation.values()) == ref["allocation"]
    for level, printed in zip(("80", "90", "95", "99"), ref["precision_pct"], strict=True):
        value = result.precision_percent[level]
        assert value is not None and abs(value - printed) <= 0.005


def test_stratified_unknown_total_with_cap_worked_by_hand() -> None:
    # Stratum A's Neyman share exceeds its size: it is taken in full, B gets the remainder.
    strata = [
        SizeStratum(name="A", population=100, mean=10, sd=50),
        SizeStratum(name="B", population=10_000, mean=10, sd=1),
    ]
    result = stratified_sample_size(strata, precisions=[1], confidences=["95"])
    z = 1.959963984540054
    error = 0.01 * (100 * 10 + 10_000 * 10)
    n = (100 * 50 + 10_000 * 1) ** 2 / ((error / z) ** 2 + (100 * 50**2 + 10_000 * 1**2))
    assert math.ceil(n / 3) > 100  # A's uncapped share: n * 5000 / 15000
    cell = result.table["1"]["95"]
    assert cell.strata == {"A": 100, "B": math.ceil(n - 100)}
    assert cell.total == 100 + math.ceil(n - 100)


def test_stratified_unknown_total_neyman_without_cap() -> None:
    strata = [
        SizeStratum(name="1", population=100_000, mean=10_000, sd=5_000),
        SizeStratum(name="2", population=500_000, mean=5_000, sd=4_000),
    ]
    result = stratified_sample_size(strata)
    z = float(sps.norm.ppf(0.95))
    error = 0.05 * 3.5e9
    n = (5e8 + 2e9) ** 2 / ((error / z) ** 2 + (1e5 * 25e6 + 5e5 * 16e6))
    cell = result.table["5"]["90"]
    assert cell.strata == {"1": math.ceil(n * 0.2), "2": math.ceil(n * 0.8)}
    assert set(result.table) == {"1", "2", "5", "10", "15", "25"}
    assert set(result.table["1"]) == {"80", "90", "95", "99"}
    # Tighter precision and higher confidence never need fewer units.
    for p in ("1", "2", "5", "10", "15", "25"):
        totals = [result.table[p][c].total for c in ("80", "90", "95", "99")]
        assert totals == sorted(totals)


def test_error_rate_entry_equals_enumerated_population() -> None:
    # A universe of 8 items, reported values 100 and 300, one in four of each in error with
    # its whole value as the difference: population mean and SD of the differences by hand.
    differences = np.array([100, 0, 0, 0, 300, 0, 0, 0], dtype=float)
    reported = np.array([100, 100, 100, 100, 300, 300, 300, 300], dtype=float)
    result = variable_sample_size_from_error_rate(
        error_rate=0.25,
        universe_total=float(reported.sum()),
        sd=float(reported.std()),
        population=8,
    )
    assert result.mean == pytest.approx(float(differences.mean()))
    assert result.sd == pytest.approx(float(differences.std()))
    assert result.source == "error_rate" and result.to_dict()["error_rate"] == 0.25


def test_cia_full_sample_rule() -> None:
    # Discovery sample of 50 differences, two underpayments entered as 0; N = 12,000.
    rng = np.random.default_rng(5)
    differences = [float(v) for v in np.round(rng.gamma(1.2, 150.0, 50), 2)]
    differences[3], differences[17] = -80.0, -15.5
    result = cia_full_sample_size(differences, population=12_000)
    over = np.maximum(np.array(differences), 0.0)
    mean, sd = float(over.mean()), float(over.std(ddof=1))
    z = float(sps.norm.ppf(0.95))
    error = 0.25 * mean * 12_000
    expected = (sd * 12_000) ** 2 / ((error / z) ** 2 + 12_000 * sd**2)
    assert result.sample_size == math.floor(expected + 0.5)
    assert result.mean == pytest.approx(mean) and result.sd == pytest.approx(sd)
    assert (result.confidence, result.precision_percent) == ("90", 25.0)


def test_cia_without_overpayments_has_no_size() -> None:
    result = cia_full_sample_size([0.0, -5.0, 0.0], population=100)
    assert result.sample_size is None and "no overpayment" in result.note


def test_allocate_methods_sum_to_total() -> None:
    sizes = {"a": 500, "b": 300, "c": 200}
    assert allocate(100, sizes, method="proportional") == {"a": 50, "b": 30, "c": 20}
    assert allocate(100, sizes, method="equal") == {"a": 34, "b": 33, "c": 33}
    neyman = allocate(100, sizes, sds={"a": 1.0, "b": 10.0, "c": 0.0})
    assert neyman == {"a": 14, "b": 86, "c": 0}
    assert allocate(100, sizes, sds={"a": 1.0, "b": 10.0, "c": 0.0}, minimum=5) == {
        "a": 14,
        "b": 81,
        "c": 5,
    }


def test_allocate_caps_at_stratum_size_and_reallocates() -> None:
    sizes = {"small": 10, "big": 1000}
    result = allocate(200, sizes, sds={"small": 1000.0, "big": 1.0})
    assert result == {"small": 10, "big": 190}
    assert allocate(5000, sizes, method="equal") == sizes  # more than the universe: census


def test_allocate_errors() -> None:
    with pytest.raises(StatisticsError) as info:
        allocate(10, {"a": 5, "b": 0}, method="neyman")
    wheres = {p.where for p in info.value.problems}
    assert wheres == {"populations['b']", "sds"}
    with pytest.raises(StatisticsError) as info:
        allocate(3, {"a": 5, "b": 5}, method="equal", minimum=2)
    assert info.value.problems[0].where == "minimum"


def test_sample_size_errors_listed_together() -> None:
    with pytest.raises(StatisticsError) as info:
        variable_sample_size(mean=0, sd=-1, population=0, confidences=["150"])
    wheres = [p.where for p in info.value.problems]
    assert wheres == ["population", "mean", "sd", "confidences"]
    with pytest.raises(StatisticsError):
        variable_sample_size_from_probe([5.0], population=100)
    with pytest.raises(StatisticsError) as info:
        variable_sample_size_from_error_rate(error_rate=15, universe_total=-1, sd=1, population=10)
    assert [p.where for p in info.value.problems] == ["error_rate", "universe_total"]
    with pytest.raises(StatisticsError) as info:
        stratified_sample_size([SizeStratum(name="a", population=10, mean=0, sd=1)])
    assert "positive expected universe total" in info.value.problems[0].expected


def test_allocate_minimum_and_cap_together() -> None:
    # Found by hypothesis: a capped stratum and a floored one in the same round.
    assert allocate(4, {"a": 3, "b": 1}, sds={"a": 1.0, "b": 4.0}, minimum=2) == {"a": 3, "b": 1}
    # Minimums first when they use the whole total (no overshoot past it).
    sizes = {"a": 5, "b": 2, "c": 2}
    sds = {"a": 1000.0, "b": 1.0, "c": 1.0}
    assert allocate(6, sizes, sds=sds, minimum=2) == {"a": 2, "b": 2, "c": 2}
    # Strata with SD 0 still take their part when the others are exhausted (a census here).
    assert allocate(10, {"a": 5, "b": 5}, sds={"a": 1.0, "b": 0.0}) == {"a": 5, "b": 5}
    assert allocate(7, {"a": 5, "b": 4, "c": 4}, sds={"a": 1.0, "b": 0.0, "c": 0.0}) == {
        "a": 5,
        "b": 1,
        "c": 1,
    }
