"""Simulated auditors: a known pattern of findings, written into the issued workbooks by header.

The audit is real (sampling, workbooks, collect and scoring are the stage entry points); only
the auditors are simulated. The pattern is checked against simulation.PROFILES exactly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from audit_kit import findings, sampling, scoring, workbook
from audit_kit.demo.example_data import DEMO_PLAN_YAML, write_universe
from audit_kit.demo.simulation import (
    KIND_EFFECT,
    OVERPAYMENT_LEAN,
    PROFILES,
    SETTING_KINDS,
    SIMULATED,
    fill_workbooks,
    simulate_findings,
)
from audit_kit.errors import AuditError
from audit_kit.folder.manifest import AuditFolder

AUDITORS = ["sim-auditor-1", "sim-auditor-2", "sim-auditor-3"]
ERROR_CATEGORIES = {"coding", "documentation", "medical necessity", "other"}


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("sim").resolve()
    plan = base / "plan.yaml"
    plan.write_text(DEMO_PLAN_YAML, "utf-8")
    universe = base / "universe.csv"
    write_universe(universe, rows=4000, seed=99)
    audit_dir = base / "audit"
    sampling.draw_sample(plan, universe, audit_dir)
    books = workbook.write_workbooks(audit_dir, auditors=AUDITORS)
    issued = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in books}
    returned = fill_workbooks(audit_dir, base / "returned")
    return {
        "dir": audit_dir,
        "universe": universe,
        "returned": returned,
        "issued": issued,
        "base": base,
    }


def _sheet_rows(path: Path) -> list[dict[str, Any]]:
    wb = openpyxl.load_workbook(path)
    ws = wb["Sample"]
    header = [c.value for c in ws[1]]
    return [
        dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)
    ]


def _expected_counts(coder: str, n: int) -> tuple[int, int, int]:
    profile = PROFILES[coder]
    reviewed = n - profile.not_reviewed
    errors = max(0, round(profile.error_share * reviewed) - profile.record_missing)
    return profile.not_reviewed, profile.record_missing, errors


def test_pattern_follows_the_profiles(audit: dict[str, Any]) -> None:
    folder = AuditFolder.open(audit["dir"])
    plan, sample = workbook.load_audit(folder)
    found = simulate_findings(sample, plan, seed=7)
    assert len(found) == sample.height == 360
    by_coder: dict[str, list[Any]] = {}
    for f in found.values():
        by_coder.setdefault(f.coder, []).append(f)
    assert sorted(by_coder) == sorted(PROFILES)
    for coder, items in by_coder.items():
        not_reviewed, missing, errors = _expected_counts(coder, len(items))
        assert sum(f.status == "not reviewed" for f in items) == not_reviewed, coder
        assert sum(f.status == "record missing" for f in items) == missing, coder
        assert sum(f.kind is not None for f in items) == errors, coder
        assert sum(f.has_error for f in items) == missing + errors, coder


def test_every_simulated_error_changes_something(audit: dict[str, Any]) -> None:
    folder = AuditFolder.open(audit["dir"])
    plan, sample = workbook.load_audit(folder)
    original = {r["encounter_id"]: r for r in sample.to_dicts()}
    kinds = set()
    for f in simulate_findings(sample, plan).values():
        if f.kind is None:
            continue
        kinds.add(f.kind)
        row = original[f.unit_id]
        codes = (
            ";".join(f.dx),
            ";".join(f.px),
            ";".join(f.cpt),
        )
        before = (row["dx_codes"] or "", row["px_codes"] or "", row["cpt_codes"] or "")
        assert codes != before or f.amount != float(row["paid_amount"]), f
        assert f.rationale.startswith(SIMULATED)
        assert f.category in ERROR_CATEGORIES
        assert f.reference
        if f.amount is not None:
            assert f.amount >= 0
    # the mix a real audit finds: E/M levels, missed CCs, principal dx, specificity...
    assert {"em_down", "added_cc", "specificity"} <= kinds
    assert len(kinds) >= 6


def _lean(weights: dict[str, float]) -> float:
    over = sum(w for k, w in weights.items() if KIND_EFFECT[k] == "overpayment")
    under = sum(w for k, w in weights.items() if KIND_EFFECT[k] == "underpayment")
    return over / (over + under)


@pytest.mark.parametrize("setting", sorted(SETTING_KINDS))
def test_the_weights_lean_mildly_towards_overpayment(setting: str) -> None:
    weights = SETTING_KINDS[setting]
    assert set(weights) <= set(KIND_EFFECT)
    low, high = OVERPAYMENT_LEAN
    assert 0.5 < low <= _lean(weights) <= high < 1.0


def test_each_finding_moves_the_payment_the_documented_way(audit: dict[str, Any]) -> None:
    folder = AuditFolder.open(audit["dir"])
    plan, sample = workbook.load_audit(folder)
    paid = {r["encounter_id"]: float(r["paid_amount"]) for r in sample.to_dicts()}
    moved = {"overpayment": 0, "underpayment": 0}
    coding = {"overpayment": 0, "underpayment": 0}
    for f in simulate_findings(sample, plan).values():
        if f.kind is None or f.amount is None:
            continue
        effect = KIND_EFFECT[f.kind]
        difference = paid[f.unit_id] - f.amount
        if effect == "overpayment":
            assert difference >= 0, f
        elif effect == "underpayment":
            assert difference <= 0, f
        if difference != 0:
            moved[effect] += 1
            if f.category == "coding":
                coding[effect] += 1
    # coding errors go both ways; directions are drawn from weights that lean to overpayment
    assert coding["overpayment"] > 0 and coding["underpayment"] > 0
    assert moved["overpayment"] > moved["underpayment"] > 0


def test_same_seed_same_findings_other_seed_others(audit: dict[str, Any]) -> None:
    folder = AuditFolder.open(audit["dir"])
    plan, sample = workbook.load_audit(folder)
    first = simulate_findings(sample, plan, seed=7)
    assert simulate_findings(sample, plan, seed=7) == first
    other = simulate_findings(sample, plan, seed=8)
    assert {k for k, v in other.items() if v.has_error} != {
        k for k, v in first.items() if v.has_error
    }


def test_workbooks_are_filled_by_header_and_labelled(audit: dict[str, Any]) -> None:
    returned = audit["returned"]
    assert sorted(p.name for p in returned) == sorted(audit["issued"])
    rows = [r for path in returned for r in _sheet_rows(path)]
    assert len(rows) == 360
    statuses = [r["Review status"] for r in rows]
    assert set(statuses) == {"reviewed", "record missing", "not reviewed"}
    for r in rows:
        assert r["Auditor"] in AUDITORS
        if r["Review status"] != "not reviewed":
            assert isinstance(r["Review date"], dt.datetime | dt.date)
        if r["Rationale"]:
            assert r["Rationale"].startswith(SIMULATED)
        if r["Error category"]:
            assert r["Error category"] in ERROR_CATEGORIES
    errors = [r for r in rows if r["Error category"]]
    assert errors and all(r["Reference"] for r in errors)
    # each workbook's rows carry the auditor it was issued to
    for path in returned:
        names = {r["Auditor"] for r in _sheet_rows(path)}
        assert len(names) == 1 and path.stem.endswith(names.pop())


def test_the_audit_folder_is_not_touched(audit: dict[str, Any]) -> None:
    folder = AuditFolder.open(audit["dir"])
    assert folder.verify_hashes() == []
    for name, digest in audit["issued"].items():
        assert hashlib.sha256(folder.file(f"workbooks/{name}").read_bytes()).hexdigest() == digest


def test_returns_collect_cleanly_and_score_as_designed(audit: dict[str, Any]) -> None:
    summary = findings.collect(audit["dir"], audit["returned"])
    assert summary.findings == 360
    assert summary.units_sampled == 360
    results = scoring.score_audit(audit["dir"]).to_json_dict()
    verdicts = {c["coder"]: c["verdict"] for c in results["coders"]}
    for coder in ("C01", "C07", "C08"):
        assert verdicts[coder] == "meets", (coder, verdicts)
    for coder in ("C03", "C10"):
        assert verdicts[coder] == "below", (coder, verdicts)
    errors = {c["coder"]: c["units_with_error"] for c in results["coders"]}
    assert errors["C01"] == 0
    assert errors["C03"] >= 12
    assert results["overall"]["financial"]["overpayment"] > 0
    assert results["overall"]["financial"]["underpayment"] > 0
    frame = pl.read_csv(audit["dir"] / "findings.csv", infer_schema=False)
    rationales = frame["rationale"].fill_null("").filter(frame["rationale"].fill_null("") != "")
    assert rationales.len() >= 40
    assert rationales.str.starts_with(SIMULATED).all()


def test_an_audit_without_workbooks_is_refused(tmp_path: Path, audit: dict[str, Any]) -> None:
    plan = audit["base"] / "plan.yaml"
    bare = (tmp_path / "bare").resolve()
    sampling.draw_sample(plan, audit["universe"], bare)
    with pytest.raises(AuditError) as info:
        fill_workbooks(bare, tmp_path / "out")
    assert info.value.summary == "No workbooks to fill."
    assert not (tmp_path / "out").exists()
