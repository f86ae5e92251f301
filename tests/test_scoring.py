"""score_audit end to end on small audit folders with hand-computed expectations."""

from __future__ import annotations

import hashlib
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
from scipy import stats as sps
from score_helpers import PLAN, finding, make_audit, plan_with, score_json, unit

from audit_kit.errors import AuditError
from audit_kit.folder.manifest import AuditFolder


def hypergeometric_limits(population: int, n: int, x: int, confidence: float) -> tuple[int, int]:
    """Exact limits on the count of errors by brute force over K (independent of audit_kit)."""
    tail = (1 - confidence) / 2
    ks = np.arange(population + 1)
    cdf = sps.hypergeom.cdf(x, population, ks, n)  # P(X <= x | K)
    sf = sps.hypergeom.sf(x - 1, population, ks, n)  # P(X >= x | K)
    upper = population if x == n else int(ks[cdf > tail].max())
    lower = 0 if x == 0 else int(ks[sf > tail].min())
    return lower, upper


# Seven units, simple design, N = 100. Hand-computed code counts (rules in comparison.py):
#   U1 no change                         kept 2                 reviewed 2 correct 2 errors 0
#   U2 E11.9 -> E11.65 (one revision)    kept 1 del 1 add 1 rev 1  reviewed 2 correct 1 errors 1
#   U3 principal I50.20 -> J96.01        kept 1 del 1 add 1 rev 1  reviewed 2 correct 1 errors 2
#   U4 record missing (2 dx deleted)     del 2                  reviewed 2 correct 0 errors 2
#   U5 not reviewed                      excluded
#   U6 99214 -> 99213 (E/M family)       kept 1 del 1 add 1 rev 1  reviewed 2 correct 1 errors 1
#   U7 no code change, paid 50 -> 70     kept 1                 reviewed 1 correct 1 errors 0
# Totals: kept 6, deleted 5, added 3, revised 3, reviewed 6+5+3-3 = 11, correct 6,
# weighted errors 6 (principal dx weight 2) -> code accuracy 6 / 12 = 0.5.
# Differences: U3 200-150 = 50, U4 80-0 = 80, U6 135.61-95.19 = 40.42, U7 50-70 = -20.
SAMPLE = [
    unit("U1"),
    unit("U2"),
    unit("U3", coder="C2", paid=200.0),
    unit("U4", coder="C2", paid=80.0),
    unit("U5", coder="C3"),
    unit("U6", coder="C3", dx="I10", cpt="99214", paid=135.61),
    unit("U7", coder="C3", dx="I10", paid=50.0),
]
FINDINGS = [
    finding(SAMPLE[0]),
    finding(SAMPLE[1], dx=["I50.20", "E11.65"], amount=100.0, category="coding"),
    finding(SAMPLE[2], dx=["J96.01", "E11.9"], amount=150.0, category="coding"),
    finding(SAMPLE[3], status="record missing", auditor="A2"),
    finding(SAMPLE[4], status="not reviewed"),
    finding(SAMPLE[5], cpt=["99213"], amount=95.19, category="coding"),
    finding(SAMPLE[6], amount=70.0, category="documentation", rationale='=HYPERLINK("http://x")'),
]


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = make_audit(
        tmp_path_factory.mktemp("simple") / "audit",
        plan=PLAN,
        populations={"all": 100},
        sample=SAMPLE,
        findings=FINDINGS,
    )
    return path, score_json(path)


def test_progress_and_units(scored: tuple[Path, dict[str, Any]]) -> None:
    _, results = scored
    assert results["progress"] == {
        "units_sampled": 7,
        "units_returned": 7,
        "units_reviewed": 5,
        "units_record_missing": 1,
        "units_not_reviewed": 1,
        "units_scored": 6,
        "units_outstanding": 0,
    }
    overall = results["overall"]
    assert overall["units_reviewed"] == 6  # reviewed + record missing
    assert overall["units_with_error"] == 5  # U2, U3, U4, U6, U7
    assert overall["units_not_reviewed"] == 1


def test_code_counts_and_accuracy(scored: tuple[Path, dict[str, Any]]) -> None:
    overall = scored[1]["overall"]
    codes = overall["codes"]
    assert {
        k: codes[k] for k in ("reviewed", "correct", "kept", "added", "deleted", "revised")
    } == {
        "reviewed": 11,
        "correct": 6,
        "kept": 6,
        "added": 3,
        "deleted": 5,
        "revised": 3,
    }
    assert codes["principal_dx_changed"] == 1 and codes["weighted_errors"] == 6
    # Linearised ratio interval computed here from the per-unit counts (Cochran 1977 ch. 6).
    y = np.array([2, 1, 1, 0, 1, 1.0])
    x = np.array([2, 2, 3, 2, 2, 1.0])
    r = y.sum() / x.sum()
    n, big_n = 6, 100
    var = (1 - n / big_n) / (n * x.mean() ** 2) * ((y - r * x) ** 2).sum() / (n - 1)
    half = sps.t.ppf(0.95, n - 1) * math.sqrt(var)
    acc = overall["code_accuracy"]
    assert acc["value"] == pytest.approx(0.5)
    assert acc["lower"] == pytest.approx(r - half) and acc["upper"] == pytest.approx(r + half)
    assert acc["confidence"] == 0.90 and "Cochran" in acc["method"]
    assert overall["verdict"] == ("below" if r + half < 0.90 else "inconclusive")
    assert overall["verdict"] == "below"  # upper 0.78 < target 0.90


def test_record_accuracy_exact_limits(scored: tuple[Path, dict[str, Any]]) -> None:
    overall = scored[1]["overall"]
    lower, upper = hypergeometric_limits(100, 6, 5, 0.90)  # 5 units in error of 6, N = 100
    rec = overall["record_accuracy"]
    assert rec["value"] == pytest.approx(1 / 6)
    assert rec["lower"] == pytest.approx(1 - upper / 100)
    assert rec["upper"] == pytest.approx(1 - lower / 100)
    assert "hypergeometric" in rec["method"]
    fin = overall["financial_accuracy"]  # U1, U2 without payment change: 2 of 6
    lower, upper = hypergeometric_limits(100, 6, 4, 0.90)
    assert fin["value"] == pytest.approx(2 / 6)
    assert (fin["lower"], fin["upper"]) == (
        pytest.approx(1 - upper / 100),
        pytest.approx(1 - lower / 100),
    )
    assert overall["drg_accuracy"] is None  # no DRG in this audit


def test_financial_totals(scored: tuple[Path, dict[str, Any]]) -> None:
    overall = scored[1]["overall"]
    money = overall["financial"]
    assert money["examined"] == pytest.approx(100 + 100 + 200 + 80 + 135.61 + 50)
    assert money["audited"] == pytest.approx(100 + 100 + 150 + 0 + 95.19 + 70)
    assert money["overpayment"] == pytest.approx(50 + 80 + 40.42)
    assert money["underpayment"] == pytest.approx(20)
    assert money["net"] == pytest.approx(150.42)
    assert money["gross"] == pytest.approx(190.42)
    assert overall["dollar_accuracy"] == pytest.approx(1 - 190.42 / 665.61)


def test_extrapolation_simple_design(scored: tuple[Path, dict[str, Any]]) -> None:
    ext = scored[1]["overall"]["extrapolation"]
    d = np.array([0, 0, 50, 80, 40.42, -20])
    n, big_n = d.size, 100
    se_total = big_n * d.std(ddof=1) / math.sqrt(n) * math.sqrt((big_n - n) / big_n)
    estimate = big_n * d.mean()
    assert ext["point_estimate"] == pytest.approx(2507.0)
    assert ext["se_total"] == pytest.approx(se_total)
    for key, cl in (("80", 0.80), ("90", 0.90), ("95", 0.95)):
        half = sps.t.ppf((1 + cl) / 2, n - 1) * se_total
        assert ext["limits"][key]["lower"] == pytest.approx(estimate - half)
        assert ext["limits"][key]["upper"] == pytest.approx(estimate + half)
    assert ext["one_sided_90_lower"] == pytest.approx(ext["limits"]["80"]["lower"])
    assert ext["two_sided_90_lower"] == pytest.approx(ext["limits"]["90"]["lower"])
    assert ext["demand_rule"] == "cms_one_sided_90"
    assert ext["demand_amount"] == pytest.approx(ext["limits"]["80"]["lower"])
    assert "Program Integrity Manual" in ext["demand_reason"]
    assert ext["measure"] == "difference" and ext["population"] == 100 and ext["sample"] == 6
    rate = ext["error_rate"]  # U3, U4, U6, U7 have a payment difference
    assert (rate["population"], rate["sample"], rate["errors"]) == (100, 6, 4)
    assert (rate["limits"]["90"]["lower"], rate["limits"]["90"]["upper"]) == (
        hypergeometric_limits(100, 6, 4, 0.90)
    )


def test_groups(scored: tuple[Path, dict[str, Any]]) -> None:
    results = scored[1]
    coders = {c["coder"]: c for c in results["coders"]}
    assert sorted(coders) == ["C1", "C2", "C3"]
    assert (coders["C1"]["units_reviewed"], coders["C1"]["units_with_error"]) == (2, 1)
    assert (coders["C2"]["units_reviewed"], coders["C2"]["units_with_error"]) == (2, 2)
    assert coders["C3"]["units_not_reviewed"] == 1
    assert coders["C2"]["financial"]["net"] == pytest.approx(130.0)
    # No universe count per coder in a simple design: Clopper-Pearson.
    assert "Clopper-Pearson" in coders["C1"]["record_accuracy"]["method"]
    lo, hi = sps.beta.ppf(0.05, 1, 2), sps.beta.ppf(0.95, 2, 1)  # 1 correct of 2
    assert coders["C1"]["record_accuracy"]["lower"] == pytest.approx(lo)
    assert coders["C1"]["record_accuracy"]["upper"] == pytest.approx(hi)
    auditors = {a["auditor"]: a for a in results["auditors"]}
    assert auditors["A2"]["units_reviewed"] == 1 and auditors["A2"]["units_with_error"] == 1
    assert [s["stratum"] for s in results["strata"]] == ["all"]
    assert results["strata"][0]["population"] == 100
    assert results["providers"][0]["provider"] == "1234567890"
    assert results["settings_groups"][0]["setting"] == "11"


def test_categories_pareto(scored: tuple[Path, dict[str, Any]]) -> None:
    cats = scored[1]["categories"]
    assert [(c["category"], c["units"]) for c in cats] == [
        ("coding", 3),
        ("documentation", 1),
        ("uncategorised", 1),  # the record-missing unit has no category
    ]
    assert [c["share"] for c in cats] == pytest.approx([0.6, 0.2, 0.2])
    assert [c["cumulative_share"] for c in cats] == pytest.approx([0.6, 0.8, 1.0])
    assert cats[0]["overpayment"] == pytest.approx(90.42)
    assert cats[1]["net"] == pytest.approx(-20.0)


def test_errors_list(scored: tuple[Path, dict[str, Any]]) -> None:
    errors = {e["unit_id"]: e for e in scored[1]["errors"]}
    assert sorted(errors) == ["U2", "U3", "U4", "U6", "U7"]
    u3 = errors["U3"]
    assert u3["changes"]["principal_dx_changed"] is True
    assert u3["changes"]["revised"] == [["I50.20", "J96.01"]]
    assert u3["difference"] == pytest.approx(50.0)
    u4 = errors["U4"]
    assert u4["status"] == "record missing"
    assert (u4["examined"], u4["audited_amount"], u4["difference"]) == (80.0, 0.0, 80.0)
    assert u4["changes"]["deleted"] == ["I50.20", "E11.9"]
    assert errors["U6"]["changes"]["revised"] == [["99214", "99213"]]


def test_no_patient_data_and_audit_block(scored: tuple[Path, dict[str, Any]]) -> None:
    path, results = scored
    text = (path / "results.json").read_text("utf-8")
    assert json.loads(text, parse_constant=pytest.fail) == results  # strict JSON: no NaN
    assert "Jane Roe" not in text and "patient" not in text.lower()
    folder = AuditFolder.open(path)
    findings_sha = hashlib.sha256((path / "findings.csv").read_bytes()).hexdigest()
    assert results["audit"]["findings_sha256"] == findings_sha
    assert results["audit"]["id"] == folder.audit_id
    assert set(results) >= {
        "audit",
        "settings",
        "progress",
        "overall",
        "coders",
        "providers",
        "auditors",
        "settings_groups",
        "strata",
        "categories",
        "errors",
        "sampling",
    }
    event = folder.events[-1]
    assert event["command"] == "score"
    assert event["inputs"]["findings.csv"] == findings_sha
    assert set(event["outputs"]) == {"results.json", "results.xlsx"}
    assert folder.verify_hashes() == []


def test_results_workbook(scored: tuple[Path, dict[str, Any]]) -> None:
    path, _ = scored
    wb = openpyxl.load_workbook(io.BytesIO((path / "results.xlsx").read_bytes()))
    assert wb.sheetnames[:2] == ["Summary", "Coders"]
    assert {"Categories", "Findings", "Extrapolation"} <= set(wb.sheetnames)
    findings = wb["Findings"]
    assert findings.freeze_panes == "B2"
    header = [c.value for c in findings[1]]
    rows = {
        r[0]: dict(zip(header, r, strict=True))
        for r in findings.iter_rows(min_row=2, values_only=True)
    }
    assert rows["U3"]["Difference"] == pytest.approx(50.0)
    assert rows["U3"]["Revised"] == "I50.20 -> J96.01"
    # Formula injection: the rationale stays the text the auditor typed.
    cell = findings.cell(row=list(rows).index("U7") + 2, column=header.index("Rationale") + 1)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    coders = wb["Coders"]
    assert coders["A1"].value == "Coder" and coders.freeze_panes == "B2"
    assert (
        coders.cell(row=2, column=header_index(coders, "Record accuracy")).number_format == "0.00%"
    )
    ext = [c.value for c in wb["Extrapolation"]["A"]]
    assert "Point estimate" in ext and "80%" in ext


def header_index(ws: Any, title: str) -> int:
    return [c.value for c in ws[1]].index(title) + 1


def test_missing_findings_is_a_clear_error(tmp_path: Path) -> None:
    path = make_audit(
        tmp_path / "a", plan=PLAN, populations={"all": 100}, sample=SAMPLE[:2], findings=None
    )
    with pytest.raises(AuditError) as info:
        score_json(path)
    problem = info.value.problems[0]
    assert problem.where.endswith("findings.csv")
    assert "audit-kit collect" in problem.fix


def test_unknown_unit_in_findings_is_named(tmp_path: Path) -> None:
    stray = finding(unit("U99"))
    path = make_audit(
        tmp_path / "a",
        plan=PLAN,
        populations={"all": 100},
        sample=SAMPLE[:2],
        findings=[finding(SAMPLE[0]), stray],
    )
    with pytest.raises(AuditError) as info:
        score_json(path)
    assert [p.where for p in info.value.problems] == ["findings.csv row 3"]
    assert "'U99'" in info.value.problems[0].found


def test_blank_amount_on_an_error_names_the_unit(tmp_path: Path) -> None:
    path = make_audit(
        tmp_path / "a",
        plan=PLAN,
        populations={"all": 100},
        sample=SAMPLE[:2],
        findings=[finding(SAMPLE[0]), finding(SAMPLE[1], dx=["I50.20"])],
    )
    with pytest.raises(AuditError) as info:
        score_json(path)
    assert [p.where for p in info.value.problems] == ["unit U2: Audited amount"]


def test_observe_only_and_weights_from_the_plan(tmp_path: Path) -> None:
    sample = [unit("U1", dx="I10", cpt="99214-25"), unit("U2", dx="I50.20;E11.9")]
    findings = [
        finding(sample[0], cpt=["99214"], amount=100.0),  # modifier 25 deleted: observed only
        finding(sample[1], dx=["E11.9", "I50.20"], amount=100.0),  # re-sequenced principal
    ]
    plan = plan_with(scoring={"observe_only": ["modifiers"], "weights": {"principal_dx": 3}})
    path = make_audit(
        tmp_path / "a", plan=plan, populations={"all": 50}, sample=sample, findings=findings
    )
    overall = score_json(path)["overall"]
    # U1: dx kept 1 + line kept 1, modifier change not scored -> correct 2, errors 0.
    # U2: 2 kept, principal re-sequenced -> correct 1, one principal error of weight 3.
    assert overall["codes"]["correct"] == 3 and overall["codes"]["weighted_errors"] == 3
    assert overall["code_accuracy"]["value"] == pytest.approx(3 / 6)
    assert overall["codes"]["by_type"]["modifiers"] == {
        "kept": 0,
        "added": 0,
        "deleted": 1,
        "revised": 0,
        "sequencing_changed": 0,
        "observe_only": True,
    }
    assert overall["units_with_error"] == 1  # U1 has no scored error


def test_no_extrapolation_for_a_probe(tmp_path: Path) -> None:
    plan = plan_with(financial={"extrapolate": False})
    path = make_audit(
        tmp_path / "a", plan=plan, populations={"all": 100}, sample=SAMPLE, findings=FINDINGS
    )
    results = score_json(path)
    assert results["overall"]["extrapolation"] is None
    assert results["strata"][0]["extrapolation"] is None
    assert any("extrapolate: false" in note for note in results["notes"])
    wb = openpyxl.load_workbook(io.BytesIO((path / "results.xlsx").read_bytes()))
    assert wb["Extrapolation"]["A1"].value == "No extrapolation."


@pytest.mark.parametrize(("rule", "key"), [("point_estimate", None), ("oig_two_sided_90", "90")])
def test_demand_rules(tmp_path: Path, rule: str, key: str | None) -> None:
    path = make_audit(
        tmp_path / "a",
        plan=plan_with(demand_rule=rule),
        populations={"all": 100},
        sample=SAMPLE,
        findings=FINDINGS,
    )
    ext = score_json(path)["overall"]["extrapolation"]
    assert ext["demand_rule"] == rule
    expected = ext["point_estimate"] if key is None else ext["limits"][key]["lower"]
    if expected > 0:
        assert ext["demand_amount"] == pytest.approx(expected)
    else:  # a non-positive lower limit demands nothing, and says so
        assert ext["demand_amount"] == 0.0 and "not positive" in ext["demand_reason"]


def test_overpayments_only_and_gross_netting(tmp_path: Path) -> None:
    for netting, values in (
        ("overpayments_only", [0, 0, 50, 80, 40.42, 0]),
        ("gross", [0, 0, 50, 80, 40.42, 20]),
    ):
        path = make_audit(
            tmp_path / netting,
            plan=plan_with(financial={"netting": netting}),
            populations={"all": 100},
            sample=SAMPLE,
            findings=FINDINGS,
        )
        ext = score_json(path)["overall"]["extrapolation"]
        assert ext["netting"] == netting
        assert ext["point_estimate"] == pytest.approx(100 * np.mean(values))


def test_bad_audited_amount_is_named(tmp_path: Path) -> None:
    bad = {**finding(SAMPLE[0]), "audited_amount": "12,5 EUR"}
    path = make_audit(
        tmp_path / "a", plan=PLAN, populations={"all": 100}, sample=SAMPLE[:1], findings=[bad]
    )
    with pytest.raises(AuditError) as info:
        score_json(path)
    assert [p.where for p in info.value.problems] == [
        "findings.csv row 2 (unit U1): audited_amount"
    ]


def test_error_free_group_gets_exact_code_limits_not_certainty(tmp_path: Path) -> None:
    # Two units, four codes, no errors: the ratio estimator's variance is 0 and its interval
    # would be [1, 1], a "meets" verdict from two records. The exact binomial limits on 4 of 4
    # codes are used instead: lower = (alpha/2)^(1/4) at 90% two-sided (closed form).
    sample = [unit("U1", dx="I50.20;E11.9"), unit("U2", dx="I10;E78.5")]
    findings = [finding(sample[0], amount=100.0), finding(sample[1], amount=100.0)]
    path = make_audit(
        tmp_path / "a", plan=PLAN, populations={"all": 50}, sample=sample, findings=findings
    )
    code = score_json(path)["overall"]["code_accuracy"]
    assert code["value"] == 1.0
    assert code["lower"] == pytest.approx(0.05 ** (1 / 4), rel=1e-9)
    assert code["upper"] == 1.0
    assert "Clopper-Pearson" in code["method"]
    assert score_json(path)["overall"]["verdict"] == "inconclusive"
