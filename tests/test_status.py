"""`audit-kit status`: where an audit stands, at every stage, and the next command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_kit import findings, sampling, scoring, workbook
from audit_kit.cli import main
from audit_kit.demo.example_data import DEMO_PLAN_YAML, write_universe
from audit_kit.demo.simulation import fill_workbooks
from audit_kit.folder.manifest import AuditFolder
from audit_kit.folder.status import STEPS, audit_status
from audit_kit.reporting.results_workbook import results_workbook_bytes

AUDITORS = ["ann", "bob"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("status").resolve()
    plan = base / "plan.yaml"
    plan.write_text(DEMO_PLAN_YAML, "utf-8")
    universe = base / "universe.csv"
    write_universe(universe, rows=3000, seed=5)
    return plan, universe


def done(audit: Path) -> dict[str, bool]:
    status = audit_status(audit)
    return {s.name: s.done for s in status.steps}


def test_status_at_each_stage(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    plan, universe = inputs
    audit = tmp_path / "audit"
    sampling.draw_sample(plan, universe, audit)

    status = audit_status(audit)
    assert [s.name for s in status.steps] == list(STEPS)
    assert done(audit) == dict.fromkeys(STEPS, False) | {"sampled": True}
    assert status.units_sampled == 360
    assert status.step("sampled").detail == "360 units in 12 strata, from universe.csv"
    assert status.next_command == f"audit-kit workbooks {audit} --auditors NAME,NAME"
    assert status.intact

    workbook.write_workbooks(audit, auditors=AUDITORS)
    status = audit_status(audit)
    assert status.step("workbooks").done
    assert status.step("workbooks").detail == "2 workbook(s) for 2 auditor(s)"
    assert [(a.auditor, a.assigned, a.returned) for a in status.auditors] == [
        ("ann", 180, 0),
        ("bob", 180, 0),
    ]
    assert status.next_command == f"audit-kit collect {audit} RETURNED_WORKBOOKS..."
    assert "ann (180 to go), bob (180 to go)" in status.next_step

    returned = fill_workbooks(audit, tmp_path / "returned")
    ann = [p for p in returned if p.stem.endswith("ann")]
    findings.collect(audit, ann)
    status = audit_status(audit)
    assert not status.step("returned").done
    assert status.step("returned").detail.startswith("180 of 360 units returned")
    by = {a.auditor: a for a in status.auditors}
    assert by["ann"].returned == 180 and by["ann"].pending == 0
    assert by["ann"].reviewed + by["ann"].record_missing + by["ann"].not_reviewed == 180
    assert by["bob"].returned == 0
    assert "bob (180 to go)" in status.next_step

    # scoring what is in so far, then the rest comes back: the score is out of date
    scoring.score_audit(audit, results_workbook=results_workbook_bytes)
    findings.collect(audit, returned)
    status = audit_status(audit)
    assert status.step("returned").done
    assert status.step("scored").done and status.step("scored").stale
    assert "out of date" in status.step("scored").detail
    assert status.next_command == f"audit-kit score {audit}"

    scoring.score_audit(audit, results_workbook=results_workbook_bytes)
    status = audit_status(audit)
    assert not status.step("scored").stale
    assert status.step("scored").detail.startswith("scored: code accuracy ")
    assert status.next_command == f"audit-kit report {audit}"
    assert not status.step("reported").done


def test_a_changed_file_is_reported_with_the_fix(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    plan, universe = inputs
    audit = tmp_path / "audit"
    sampling.draw_sample(plan, universe, audit)
    with (audit / "sample.csv").open("a", encoding="utf-8") as fh:
        fh.write("tampered\n")
    status = audit_status(audit)
    assert not status.intact
    assert status.integrity[0].where == str(audit / "sample.csv")
    assert status.next_step.startswith("the folder fails its hashes")
    assert status.step("sampled").done
    assert status.units_sampled == 0  # the changed sample is not read


def test_cli_text_and_json(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, universe = inputs
    audit = tmp_path / "audit"
    sampling.draw_sample(plan, universe, audit)
    with pytest.raises(SystemExit) as info:
        main(["status", str(audit)])
    assert info.value.code == 0
    out, _ = capsys.readouterr()
    assert "[x] sampled    360 units in 12 strata" in out
    assert "[ ] workbooks  no workbooks issued" in out
    assert f"Next: write the auditor workbooks\n  audit-kit workbooks {audit}" in out

    with pytest.raises(SystemExit) as info:
        main(["status", str(audit), "--json"])
    assert info.value.code == 0
    out, _ = capsys.readouterr()
    payload = json.loads(out)
    assert payload["units_sampled"] == 360
    assert payload["intact"] is True
    assert [s["step"] for s in payload["steps"]] == list(STEPS)
    assert payload["next_command"].startswith("audit-kit workbooks")


def test_not_an_audit_folder_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["status", str(tmp_path)])
    assert info.value.code == 1
    _, err = capsys.readouterr()
    assert "Error: Not an audit folder." in err


def test_status_reads_only(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    plan, universe = inputs
    audit = tmp_path / "audit"
    sampling.draw_sample(plan, universe, audit)
    before = {p: p.read_bytes() for p in audit.rglob("*") if p.is_file()}
    audit_status(audit)
    after = {p: p.read_bytes() for p in audit.rglob("*") if p.is_file()}
    assert before == after


def _record_verify(audit: Path, *, redrawn: bool) -> None:
    # A fabricated event shaped like the one `audit-kit verify` records.
    details = {"redrawn": redrawn, "universe_sha256": "0" * 64 if redrawn else None}
    with AuditFolder.open(audit).transaction("verify", details=details | {"hashes_checked": 4}):
        pass


def test_verified_is_read_from_the_verify_event(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    plan, universe = inputs
    audit = tmp_path / "audit"
    sampling.draw_sample(plan, universe, audit)
    step = audit_status(audit).step("verified")
    assert not step.done and step.at is None
    assert "not verified yet" in step.detail

    _record_verify(audit, redrawn=False)
    step = audit_status(audit).step("verified")
    assert not step.done and step.at is not None
    assert "hashes only" in step.detail

    _record_verify(audit, redrawn=True)
    step = audit_status(audit).step("verified")
    assert step.done and not step.stale
    assert "sample re-drawn from the universe and identical" in step.detail

    # a later step changes the folder: the verification no longer covers it
    workbook.write_workbooks(audit, auditors=AUDITORS)
    step = audit_status(audit).step("verified")
    assert step.done and step.stale
    assert "out of date: workbooks ran since" in step.detail


def test_cli_shows_verified(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, universe = inputs
    audit = tmp_path / "audit"
    sampling.draw_sample(plan, universe, audit)
    _record_verify(audit, redrawn=True)
    with pytest.raises(SystemExit):
        main(["status", str(audit), "--json"])
    payload = json.loads(capsys.readouterr()[0])
    verified = next(s for s in payload["steps"] if s["step"] == "verified")
    assert verified["done"] is True and verified["stale"] is False
    with pytest.raises(SystemExit):
        main(["status", str(audit)])
    assert "[x] verified" in capsys.readouterr()[0]
