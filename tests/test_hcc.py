"""The hcc financial basis: CMS-HCC risk scores with hccinfhir, HCCs kept/deleted/added,
payment error = (RAF submitted - RAF supported) x base rate x months, and its extrapolation."""

from __future__ import annotations

import csv
import importlib.resources
from pathlib import Path
from typing import Any

import pytest
from hccinfhir import HCCInFHIR
from score_helpers import finding, make_audit, plan_with, score_json, unit

from audit_kit import stats
from audit_kit.errors import AuditError
from audit_kit.plan import hcc_column_problems, parse_plan

BASE_RATE = 1000.0
HCC_COLUMNS = {
    "age": "age",
    "sex": "sex",
    "orec": "orec",
    "dual_status": "dual",
    "institutional": "lti",
    "months": "months",
}


def member(uid: str, dx: str, *, months: int = 12, stratum: str = "all", **extra: Any) -> Any:
    row = {"age": 72, "sex": "F", "orec": "0", "dual": "00", "lti": "N", "months": months}
    row.update(extra)
    return unit(uid, dx=dx, stratum=stratum, paid=0.0, **row)


def hcc_plan(**financial: Any) -> dict[str, Any]:
    fin = {"basis": "hcc", "hcc_model": "V28", "base_rate": BASE_RATE, **financial}
    if "hcc_blend" in financial:
        fin.pop("hcc_model")
    return plan_with(columns=HCC_COLUMNS, financial=fin, sampling_unit="enrollee-year")


def score(tmp_path: Path, sample: list[Any], findings: list[Any], **kw: Any) -> dict[str, Any]:
    populations = kw.pop("populations", {"all": 1000})
    plan = kw.pop("plan", None) or hcc_plan(**kw)
    path = make_audit(
        tmp_path / "a", plan=plan, populations=populations, sample=sample, findings=findings
    )
    return score_json(path)


def units(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["unit_id"]: u for u in results["units"]}


DEMO = {"age": 72, "sex": "F", "orec": "0", "dual_elgbl_cd": "00"}


def test_raf_equals_hccinfhir(tmp_path: Path) -> None:
    submitted = ["E11.69", "I50.30", "F32.9"]
    supported = ["E11.69"]
    sample = [member("M1", ";".join(submitted))]
    results = score(
        tmp_path, sample, [finding(sample[0], dx=supported)], maci=0.059, normalisation=1.045
    )
    got = units(results)["M1"]
    engine = HCCInFHIR(model_name="CMS-HCC Model V28")
    want_sub = engine.calculate_from_diagnosis(
        ["E1169", "I5030", "F329"], DEMO, maci=0.059, norm_factor=1.045
    )
    want_sup = engine.calculate_from_diagnosis(["E1169"], DEMO, maci=0.059, norm_factor=1.045)
    assert got["raf_submitted"] == pytest.approx(want_sub.risk_score_payment, rel=1e-12)
    assert got["raf_supported"] == pytest.approx(want_sup.risk_score_payment, rel=1e-12)
    assert got["difference"] == pytest.approx(
        (want_sub.risk_score_payment - want_sup.risk_score_payment) * BASE_RATE * 12, rel=1e-12
    )
    assert got["hccs_submitted"] == [f"V28 HCC {h}" for h in sorted(want_sub.hcc_list, key=int)]


def _coefficient(name: str, version: str) -> float:
    path = importlib.resources.files("hccinfhir") / "data" / "ra_coefficients_2026.csv"
    with path.open() as handle:
        for row in csv.DictReader(handle):
            if row["coefficient"].upper() == name and row["model_version"] == version:
                return float(row["value"])
    raise KeyError(name)


def test_raf_by_hand_from_the_bundled_coefficients(tmp_path: Path) -> None:
    # Community, non-dual, aged woman of 72 with E11.69 (V28 HCC 37, diabetes with chronic
    # complications): RAF = CNA_F70_74 + CNA_HCC37 from the 2026 CMS-HCC (C28) table, the
    # published values 0.395 + 0.166. Payment RAF = RAF x (1 - MACI) / normalisation.
    assert _coefficient("CNA_F70_74", "C28") == 0.395
    assert _coefficient("CNA_HCC37", "C28") == 0.166
    sample = [member("M1", "E11.69")]
    results = score(tmp_path, sample, [finding(sample[0], dx=[])], maci=0.059, normalisation=1.045)
    got = units(results)["M1"]
    assert got["raf_submitted"] == pytest.approx((0.395 + 0.166) * (1 - 0.059) / 1.045, abs=1e-9)
    # Nothing supported: the demographic score stands.
    assert got["raf_supported"] == pytest.approx(0.395 * (1 - 0.059) / 1.045, abs=1e-9)


def test_masked_hcc_deleted_counts_once(tmp_path: Path) -> None:
    # E11.69 (HCC 37) masks E11.9 (HCC 38) in V28: one submitted HCC, one deleted.
    sample = [member("M1", "E11.69;E11.9"), member("M2", "E11.69")]
    results = score(tmp_path, sample, [finding(sample[0], dx=[]), finding(sample[1])])
    assert units(results)["M1"]["hccs_submitted"] == ["V28 HCC 37"]
    hccs = results["overall"]["hccs"]
    assert (hccs["submitted"], hccs["kept"], hccs["deleted"], hccs["added"]) == (2, 1, 1, 0)
    assert hccs["most_deleted"][0]["hcc"] == "V28 HCC 37"
    assert "Diabetes" in hccs["most_deleted"][0]["label"]
    acc = results["overall"]["hcc_accuracy"]
    assert acc["value"] == pytest.approx(0.5)
    assert acc["lower"] < 0.5 < acc["upper"]
    coder = results["coders"][0]
    assert coder["hccs"]["deleted"] == 1 and coder["hcc_accuracy"]["value"] == pytest.approx(0.5)


def test_downcoded_hcc_is_deleted_and_added(tmp_path: Path) -> None:
    sample = [member("M1", "E11.69")]
    results = score(tmp_path, sample, [finding(sample[0], dx=["E11.9"])])
    hccs = results["overall"]["hccs"]
    assert (hccs["kept"], hccs["deleted"], hccs["added"]) == (0, 1, 1)
    assert units(results)["M1"]["hccs_supported"] == ["V28 HCC 38"]


def test_blend_weights_both_models(tmp_path: Path) -> None:
    codes = ["E1169", "I5030"]
    sample = [member("M1", ";".join(codes))]
    results = score(
        tmp_path, sample, [finding(sample[0], dx=["E11.69"])], hcc_blend={"V24": 0.67, "V28": 0.33}
    )
    v24 = HCCInFHIR(model_name="CMS-HCC Model V24").calculate_from_diagnosis(codes, DEMO)
    v28 = HCCInFHIR(model_name="CMS-HCC Model V28").calculate_from_diagnosis(codes, DEMO)
    assert v24.risk_score != pytest.approx(v28.risk_score)
    got = units(results)["M1"]
    assert got["raf_submitted"] == pytest.approx(
        0.67 * v24.risk_score_payment + 0.33 * v28.risk_score_payment, rel=1e-12
    )
    # HCCs are compared in the model of the larger weight.
    assert got["hccs_submitted"] == ["V24 HCC 18", "V24 HCC 85"]
    assert results["settings"]["hcc_weights"] == {"V24": 0.67, "V28": 0.33}


def test_months_prorate_the_payment(tmp_path: Path) -> None:
    sample = [member("M1", "I50.30", months=12), member("M2", "I50.30", months=3)]
    results = score(tmp_path, sample, [finding(s, dx=[]) for s in sample])
    by = units(results)
    assert by["M1"]["raf_submitted"] == pytest.approx(by["M2"]["raf_submitted"])
    assert by["M2"]["difference"] == pytest.approx(by["M1"]["difference"] / 4, rel=1e-12)
    assert by["M2"]["months"] == 3


def test_code_outside_the_mapping_changes_nothing(tmp_path: Path) -> None:
    # I10 (essential hypertension) maps to no CMS-HCC: deleting it moves neither RAF nor money.
    sample = [member("M1", "E11.69;I10")]
    results = score(tmp_path, sample, [finding(sample[0], dx=["E11.69"])])
    got = units(results)["M1"]
    assert got["raf_submitted"] == got["raf_supported"]
    assert got["difference"] == 0.0
    assert results["overall"]["hccs"]["deleted"] == 0


def test_bad_demographics_are_named_per_unit(tmp_path: Path) -> None:
    sample = [member("M1", "E11.69", sex="X", months=13, orec="7")]
    with pytest.raises(AuditError) as info:
        score(tmp_path, sample, [finding(sample[0])])
    assert [p.where for p in info.value.problems] == [
        "unit M1: sex",
        "unit M1: orec",
        "unit M1: months",
    ]
    assert "1-12" in info.value.problems[2].expected


def test_extrapolation_equals_the_stratified_appraisal(tmp_path: Path) -> None:
    sample, findings = [], []
    dx = {"low": ["I10", "E11.9"], "high": ["E11.69;I50.30", "I50.30;F32.9", "E11.69"]}
    for name, codes in dx.items():
        for i in range(6):
            row = member(f"{name}{i}", codes[i % len(codes)], stratum=name, months=6 + i)
            sample.append(row)
            findings.append(finding(row, dx=[] if i % 2 else None))
    results = score(tmp_path, sample, findings, populations={"low": 400, "high": 150})
    diffs: dict[str, list[float]] = {"low": [], "high": []}
    for u in results["units"]:
        diffs[u["stratum"]].append(u["difference"])
    direct = stats.appraise_variable_stratified(
        [
            stats.VariableStratum(name="low", population=400, values=diffs["low"]),
            stats.VariableStratum(name="high", population=150, values=diffs["high"]),
        ]
    )
    ext = results["overall"]["extrapolation"]
    assert direct.point_estimate > 0
    assert ext["point_estimate"] == pytest.approx(direct.point_estimate, rel=1e-12)
    assert ext["se_total"] == pytest.approx(direct.se_total, rel=1e-12)
    for key, lim in direct.limits.items():
        assert ext["limits"][key]["lower"] == pytest.approx(lim.lower, rel=1e-12)


def test_plan_rules_for_the_hcc_basis() -> None:
    with pytest.raises(AuditError) as info:
        parse_plan(plan_with(financial={"basis": "hcc"}), source="plan.yaml")
    assert [p.where for p in info.value.problems] == ["plan.yaml: financial.base_rate"]
    plan = parse_plan(plan_with(financial={"basis": "hcc", "base_rate": 900}), source="p")
    wheres = [p.where for p in hcc_column_problems(plan, source="p")]
    assert wheres == [
        "p: columns.age",
        "p: columns.sex",
        "p: columns.orec",
        "p: columns.dual_status",
        "p: columns.institutional",
        "p: columns.months",
    ]
    with pytest.raises(AuditError):
        parse_plan(hcc_plan(hcc_blend={"V24": 0.5, "V28": 0.6}), source="plan.yaml")
    with pytest.raises(AuditError):
        both = {"basis": "hcc", "base_rate": 9.0, "hcc_model": "V28", "hcc_blend": {"V28": 1.0}}
        parse_plan(plan_with(financial=both), source="plan.yaml")
