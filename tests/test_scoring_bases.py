"""score_audit with the fee_schedule and drg financial bases (CMS data in tests/data/cms)."""

from __future__ import annotations

from pathlib import Path

import pytest
from score_helpers import finding, make_audit, plan_with, score_json, unit

from audit_kit.errors import AuditError

CMS = Path(__file__).parent / "data" / "cms"
BASE_RATE = 7276.76  # FY 2026 national operating + capital rate (tests/data/cms/README.md)
DRG_COLUMNS = {
    "drg": "ms_drg",
    "age": "age_years",
    "sex": "gender",
    "discharge_status": "disch",
    "service_date": "discharged",
}


def inpatient(uid: str, dx: str, drg: str) -> dict[str, object]:
    return unit(
        uid,
        dx=dx,
        ms_drg=drg,
        age_years=78,
        gender="F",
        disch="01",
        discharged="2026-02-10",
        paid=0.0,
    )


def test_drg_basis_added_mcc(tmp_path: Path) -> None:
    sample = [
        inpatient("H1", "I50.20", "293"),
        inpatient("H2", "I50.20;N17.9", "292"),
        inpatient("H3", "I50.20;N17.9", "293"),  # billed 293, but the codes group to 292
    ]
    findings = [
        finding(sample[0], dx=["I50.20", "J96.01"], drg="", category="coding"),
        finding(sample[1]),
        finding(sample[2]),
    ]
    plan = plan_with(
        columns=DRG_COLUMNS,
        financial={
            "basis": "drg",
            "drg_weights": str(CMS / "msdrg_weights_fy2026.csv"),
            "base_rate": BASE_RATE,
        },
    )
    path = make_audit(
        tmp_path / "a", plan=plan, populations={"all": 300}, sample=sample, findings=findings
    )
    results = score_json(path)
    errors = {e["unit_id"]: e for e in results["errors"]}
    h1 = errors["H1"]
    # J96.01 (acute respiratory failure with hypoxia) is an MCC: 293 (0.5660) -> 291 (1.2838).
    assert (h1["original"]["drg"], h1["audited"]["drg"]) == ("293", "291")
    assert h1["difference"] == pytest.approx((0.5660 - 1.2838) * BASE_RATE)
    assert h1["examined"] == pytest.approx(0.5660 * BASE_RATE)
    assert h1["changes"]["drg_changed"] is True
    assert sorted(errors) == ["H1"]  # H3's billed DRG is regrouped, not an auditor finding
    overall = results["overall"]
    assert overall["drg_accuracy"]["value"] == pytest.approx(2 / 3)
    assert overall["financial"]["underpayment"] == pytest.approx(0.7178 * BASE_RATE)
    assert any("unit H3: billed DRG 293" in note for note in results["notes"])
    ref = results["settings"]["reference_files"]["drg_weights"]
    assert ref["file"].endswith("msdrg_weights_fy2026.csv") and len(ref["sha256"]) == 64


def test_drg_basis_without_demographics_names_each_unit(tmp_path: Path) -> None:
    sample = [unit("H1", dx="I50.20")]
    plan = plan_with(
        financial={
            "basis": "drg",
            "drg_weights": str(CMS / "msdrg_weights_fy2026.csv"),
            "base_rate": BASE_RATE,
        }
    )
    path = make_audit(
        tmp_path / "a",
        plan=plan,
        populations={"all": 10},
        sample=sample,
        findings=[finding(sample[0])],
    )
    with pytest.raises(AuditError) as info:
        score_json(path)
    assert [p.where for p in info.value.problems] == [
        "unit H1: age",
        "unit H1: sex",
        "unit H1: discharge_status",
    ]


def test_fee_schedule_basis(tmp_path: Path) -> None:
    sample = [
        unit("P1", dx="I10", cpt="99214", paid=0.0),
        unit("P2", dx="I10", cpt="99213;93000", paid=0.0),
    ]
    findings = [
        finding(sample[0], cpt=["99213"], category="coding"),  # $135.61 -> $95.19
        finding(sample[1]),
    ]
    plan = plan_with(
        financial={
            "basis": "fee_schedule",
            "fee_schedule": str(CMS / "fee_schedule_cy2026_nonfacility.csv"),
        }
    )
    path = make_audit(
        tmp_path / "a", plan=plan, populations={"all": 40}, sample=sample, findings=findings
    )
    overall = score_json(path)["overall"]
    assert overall["financial"]["examined"] == pytest.approx(135.61 + 95.19 + 15.36)
    assert overall["financial"]["overpayment"] == pytest.approx(135.61 - 95.19)
    assert overall["financial_accuracy"]["value"] == pytest.approx(0.5)


def test_missing_reference_file_is_named(tmp_path: Path) -> None:
    sample = [unit("P1", dx="I10", cpt="99214")]
    plan = plan_with(financial={"basis": "fee_schedule", "fee_schedule": "nowhere/fees.csv"})
    path = make_audit(
        tmp_path / "a",
        plan=plan,
        populations={"all": 4},
        sample=sample,
        findings=[finding(sample[0])],
    )
    with pytest.raises(AuditError) as info:
        score_json(path)
    assert info.value.problems[0].where == "plan: financial.fee_schedule"
