"""Extrapolation through the design, against stats and against RAT-STATS' printed values."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps
from score_helpers import finding, make_audit, plan_with, score_json, unit

from audit_kit import stats
from audit_kit.scoring import extrapolate

DATA = Path(__file__).parent / "data" / "scoring"
STRATIFIED = {
    "design": {"method": "stratified", "strata": {"by": ["coder"]}},
    "size": {"per_stratum": 25},
}


def datastrat() -> dict[str, list[float]]:
    values: dict[str, list[float]] = {"1": [], "2": []}
    with (DATA / "ug2010_DATASTRAT_difference.csv").open() as fh:
        for row in csv.DictReader(fh):
            values[row["stratum"]].append(float(row["difference"]))
    return values


def datastrat_audit(path: Path) -> Path:
    """DATASTRAT as an audit: paid 1,000 per unit, audited 1,000 - difference (entered)."""
    sample = []
    findings = []
    for stratum, values in datastrat().items():
        for i, d in enumerate(values, start=1):
            row = unit(f"S{stratum}-{i:02d}", coder=f"coder{stratum}", paid=1000.0, stratum=stratum)
            sample.append(row)
            findings.append(finding(row, amount=1000.0 - d, category="coding"))
    return make_audit(
        path,
        plan=plan_with(**STRATIFIED),
        populations={"1": 5200, "2": 3500},
        sample=sample,
        findings=findings,
    )


@pytest.fixture(scope="module")
def datastrat_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return score_json(datastrat_audit(tmp_path_factory.mktemp("datastrat") / "audit"))


def test_datastrat_equals_ratstats_printed_values(datastrat_results: dict[str, Any]) -> None:
    # RAT-STATS 2010 User Guide pp. 4-33/4-34 (CM2010 pp. 3-12..3-14): stratified variable
    # appraisal of DATASTRAT. Printed values are rounded: compare within half a unit of the
    # last printed digit.
    ref = json.loads((DATA / "ratstats_sva_datastrat.json").read_text())["sva"]
    ext = datastrat_results["overall"]["extrapolation"]
    printed = ref["overall"]
    assert ext["population"] == printed["N"] == 8700
    assert ext["point_estimate"] == pytest.approx(printed["pe"], abs=0.5)
    assert ext["se_total"] == pytest.approx(printed["se"], abs=0.5)
    for i, key in enumerate(("80", "90", "95")):
        lim = ext["limits"][key]
        assert lim["lower"] == pytest.approx(printed["lower"][i], abs=0.5)
        assert lim["upper"] == pytest.approx(printed["upper"][i], abs=0.5)
        assert lim["precision"] == pytest.approx(printed["prec"][i], abs=0.5)
        assert lim["precision_percent"] == pytest.approx(printed["prec_pct"][i], abs=0.005)
        assert lim["critical_value"] == pytest.approx(printed["z"][i], abs=5e-13)
    assert ext["critical_value_rule"] == "ratstats"
    strata = {s["stratum"]: s["extrapolation"] for s in datastrat_results["strata"]}
    for name, key in (("1", "stratum1"), ("2", "stratum2")):
        got, want = strata[name], ref[key]
        assert got["appraisal"]["total"] == pytest.approx(want["total"], abs=0.5)
        assert got["appraisal"]["mean"] == pytest.approx(want["mean"], abs=0.005)
        assert got["appraisal"]["sd"] == pytest.approx(want["sd"], abs=0.005)
        assert got["se_total"] == pytest.approx(want["se_total"], abs=0.5)
        assert got["point_estimate"] == pytest.approx(want["pe"], abs=0.5)
        for i, level in enumerate(("80", "90", "95")):
            assert got["limits"][level]["lower"] == pytest.approx(want["lower"][i], abs=0.5)
            assert got["limits"][level]["upper"] == pytest.approx(want["upper"][i], abs=0.5)
    for i, level in enumerate(("80", "90", "95")):  # t values printed for stratum 1
        assert strata["1"]["limits"][level]["critical_value"] == pytest.approx(
            ref["stratum1"]["t"][i], abs=5e-13
        )
    # The demand: the one-sided 90% lower limit is the two-sided 80% lower limit, 1,556,134.
    assert ext["demand_amount"] == pytest.approx(1556134, abs=0.5)


def test_overall_equals_stats_stratified_appraisal(datastrat_results: dict[str, Any]) -> None:
    values = datastrat()
    direct = stats.appraise_variable_stratified(
        [
            stats.VariableStratum(name="1", population=5200, values=values["1"]),
            stats.VariableStratum(name="2", population=3500, values=values["2"]),
        ]
    )
    ext = datastrat_results["overall"]["extrapolation"]
    assert ext["point_estimate"] == pytest.approx(direct.point_estimate, rel=1e-12)
    assert ext["se_total"] == pytest.approx(direct.se_total, rel=1e-12)
    for key, lim in direct.limits.items():
        assert ext["limits"][key]["lower"] == pytest.approx(lim.lower, rel=1e-12)
        assert ext["limits"][key]["upper"] == pytest.approx(lim.upper, rel=1e-12)


def test_coders_as_strata_use_their_universe_count(datastrat_results: dict[str, Any]) -> None:
    # Every unit has a payment error: accuracy 0 of 25, exact limits with N_h.
    coders = {c["coder"]: c for c in datastrat_results["coders"]}
    assert coders["coder1"]["population"] == 5200 and coders["coder2"]["population"] == 3500
    rec = coders["coder1"]["record_accuracy"]
    assert rec["value"] == 0.0 and rec["lower"] == 0.0
    assert "hypergeometric" in rec["method"]


def test_stratified_overall_record_accuracy(tmp_path: Path) -> None:
    # Stratum A: N 400, 4 units, 1 in error; stratum B: N 100, 4 units, 0 in error.
    sample, findings = [], []
    for name in ("A", "B"):
        for i in range(4):
            row = unit(f"{name}{i}", coder=name, stratum=name, dx="I10")
            sample.append(row)
            wrong = name == "A" and i == 0
            findings.append(finding(row, dx=["I11.9"] if wrong else None, amount=100.0))
    path = make_audit(
        tmp_path / "a",
        plan=plan_with(**STRATIFIED),
        populations={"A": 400, "B": 100},
        sample=sample,
        findings=findings,
    )
    rec = score_json(path)["overall"]["record_accuracy"]
    # Stratified rate (UG2010 p. 3-18): p = sum W_h p_h; SE = sqrt(sum W_h^2 p_h q_h/(n_h-1) fpc_h)
    w_a, w_b = 400 / 500, 100 / 500
    p = w_a * 0.25 + w_b * 0.0
    se = math.sqrt(w_a**2 * 0.25 * 0.75 / 3 * (1 - 4 / 400))
    z = sps.norm.ppf(0.95)
    assert rec["value"] == pytest.approx(1 - p)
    assert rec["lower"] == pytest.approx(1 - (p + z * se))
    assert rec["upper"] == pytest.approx(min(1.0, 1 - max(0.0, p - z * se)))
    assert "stratified" in rec["method"]


def test_partial_returns_do_not_extrapolate_over_an_empty_stratum() -> None:
    result = extrapolate({"A": [10.0, 0.0], "B": []}, {"A": 100, "B": 50})
    assert result.overall is None
    assert "B" in result.notes[0]
    assert set(result.strata) == {"A"}


def test_cia_discovery_full_sample(tmp_path: Path) -> None:
    # Discovery sample of 6 paid claims, N = 1,000; two overpayments and one underpayment.
    paid = [100.0, 100.0, 100.0, 100.0, 100.0, 100.0]
    audited = [100.0, 60.0, 100.0, 90.0, 100.0, 110.0]
    sample = [unit(f"D{i}", paid=p, dx="I10") for i, p in enumerate(paid)]
    findings = [
        finding(row, amount=a, category="coding" if a != 100 else "")
        for row, a in zip(sample, audited, strict=True)
    ]
    plan = plan_with(scoring={"error_threshold": 0.05}, size={"n": 6})
    path = make_audit(
        tmp_path / "a", plan=plan, populations={"all": 1000}, sample=sample, findings=findings
    )
    cia = score_json(path)["cia_discovery"]
    # Net error rate = (40 + 10 - 10) / 600 = 6.67% >= 5%: a full sample is needed.
    assert cia["net_error_rate"] == pytest.approx(40 / 600)
    assert cia["exceeded"] is True
    # Underpayments as 0: overpayments [0, 40, 0, 10, 0, 0]; 90% confidence, 25% precision.
    over = np.array([0, 40, 0, 10, 0, 0.0])
    mean, sd, big_n = over.mean(), over.std(ddof=1), 1000
    e = 0.25 * mean * big_n
    z = sps.norm.ppf(0.95)
    n = (sd * big_n) ** 2 / ((e / z) ** 2 + big_n * sd**2)
    assert cia["full_sample"]["sample_size"] == math.floor(n + 0.5)
    assert cia["full_sample"]["mean"] == pytest.approx(mean)


def test_cia_discovery_below_threshold(tmp_path: Path) -> None:
    sample = [unit(f"D{i}", paid=100.0, dx="I10") for i in range(4)]
    findings = [finding(sample[0], amount=98.0, category="coding")] + [
        finding(r) for r in sample[1:]
    ]
    plan = plan_with(scoring={"error_threshold": 0.05})
    path = make_audit(
        tmp_path / "a", plan=plan, populations={"all": 200}, sample=sample, findings=findings
    )
    cia = score_json(path)["cia_discovery"]
    assert cia["net_error_rate"] == pytest.approx(2 / 400)
    assert cia["exceeded"] is False and cia["full_sample"] is None


@given(
    st.lists(st.floats(-500, 2000, allow_nan=False), min_size=2, max_size=40),
    st.integers(40, 10_000),
    st.sampled_from(["net", "gross", "overpayments_only"]),
    st.sampled_from(["point_estimate", "cms_one_sided_90", "oig_two_sided_90"]),
)
def test_extrapolation_invariants(
    values: list[float], population: int, netting: str, rule: str
) -> None:
    ext = extrapolate(
        {"all": values},
        {"all": population},
        netting=netting,
        demand_rule=rule,  # type: ignore[arg-type]
    ).overall
    assert ext is not None
    for lim in ext["limits"].values():
        assert lim["lower"] <= ext["point_estimate"] + 1e-6 <= lim["upper"] + 2e-6
    assert ext["limits"]["95"]["lower"] <= ext["limits"]["90"]["lower"] + 1e-6
    assert ext["limits"]["90"]["lower"] <= ext["one_sided_90_lower"] + 1e-6
    assert ext["demand_amount"] >= 0
    if netting != "net":
        assert ext["point_estimate"] >= 0


def test_partial_stratified_return_says_what_is_covered(tmp_path: Path) -> None:
    sample = [unit("A1", stratum="A", coder="A"), unit("B1", stratum="B", coder="B")]
    plan = plan_with(
        design={"method": "stratified", "strata": {"by": ["coder"]}}, size={"per_stratum": 1}
    )
    path = make_audit(
        tmp_path / "a",
        plan=plan,
        populations={"A": 10, "B": 20},
        sample=sample,
        findings=[finding(sample[0])],
    )
    results = score_json(path)
    assert results["overall"]["extrapolation"] is None
    assert results["progress"]["units_outstanding"] == 1
    assert results["notes"] == [
        "The overall accuracy covers only strata with scored units; none yet in stratum B.",
        "Extrapolation, stratum A: single unit.",
        "No overall extrapolation: no unit is scored yet in stratum B; collect and score again "
        "when every stratum has reviewed units.",
    ]
