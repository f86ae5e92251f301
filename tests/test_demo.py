"""`audit-kit demo`: the whole cycle end to end, in a fresh process, then verified again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from audit_kit.cli import main
from audit_kit.folder.manifest import AuditFolder
from audit_kit.folder.status import audit_status


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audit_kit", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("demo").resolve()
    result = cli("demo", "--out", "demo-audit", "--json", cwd=base)
    assert result.returncode == 0, result.stderr
    return {"base": base, "payload": json.loads(result.stdout), "stderr": result.stderr}


def test_the_demo_writes_reports_and_says_where(demo: dict[str, Any]) -> None:
    base, payload = demo["base"], demo["payload"]
    audit = base / "demo-audit"
    assert payload["simulated"] is True
    assert payload["audit_dir"] == str(audit)
    assert payload["report"] == str(audit / "report.pdf")
    assert (audit / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (audit / "attestation.pdf").is_file()
    assert sorted(p.name for p in (audit / "coders").iterdir()) == [
        f"C{i:02d}.pdf" for i in range(1, 13)
    ]
    assert [s["step"] for s in payload["steps"]] == [
        "universe",
        "sample",
        "workbooks",
        "simulate",
        "collect",
        "score",
        "rebuttal",
        "report",
        "verify",
    ]
    # progress went to stderr, step by step, and says it is a simulation
    assert "SIMULATED auditors filled 3 workbooks" in demo["stderr"]
    assert "9/9 verify" in demo["stderr"]
    assert "SIMULATED coders answered" in demo["stderr"]


def test_inputs_live_beside_the_audit_not_in_it(demo: dict[str, Any]) -> None:
    base, payload = demo["base"], demo["payload"]
    inputs = base / "demo-audit-inputs"
    assert payload["inputs"]["universe"] == str(inputs / "universe.csv")
    assert (inputs / "universe.csv").is_file()
    assert len(list((inputs / "returned").glob("*.xlsx"))) == 3
    folder = AuditFolder.open(base / "demo-audit")
    assert not any(rel.endswith("universe.csv") for rel in folder.artifacts())
    assert folder.verify_hashes() == []


def test_the_known_pattern_comes_out(demo: dict[str, Any]) -> None:
    coders = demo["payload"]["summary"]["coders"]
    assert len(coders) == 12
    for coder in ("C01", "C07", "C08"):
        assert coders[coder] == "meets"
    for coder in ("C03", "C10"):
        assert coders[coder] == "below"
    financial = demo["payload"]["summary"]["financial"]
    assert financial["overpayment"] > 0 and financial["underpayment"] > 0
    # the simulated auditors lean to overpayment (simulation.OVERPAYMENT_LEAN), enough for the
    # CMS one-sided 90% lower limit of the extrapolated overpayment to be positive
    summary = demo["payload"]["summary"]
    assert summary["demand_rule"] == "cms_one_sided_90"
    assert 0 < summary["demand_amount"] < summary["point_estimate"]


def test_verify_passes_again_and_status_shows_verified(demo: dict[str, Any]) -> None:
    base = demo["base"]
    result = cli(
        "verify", "demo-audit", "--universe", "demo-audit-inputs/universe.csv", "--json", cwd=base
    )
    assert result.returncode == 0, result.stderr
    verified = json.loads(result.stdout)
    assert verified["redrawn"] is True and verified["sample_identical"] is True
    # the demo verified the folder itself, and verifying again keeps it verified
    status = audit_status(base / "demo-audit")
    assert all(s.done and not s.stale for s in status.steps)
    assert "sample re-drawn" in status.step("verified").detail
    assert status.auditors and all(a.pending == 0 for a in status.auditors)
    assert status.next_command is None
    assert status.next_step.startswith("nothing: the audit is complete")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_a_second_run_without_force_is_refused(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    audit = demo["base"] / "demo-audit"
    before = (audit / "audit.json").read_bytes()
    code, _, err = run(["demo", "--out", str(audit)], capsys)
    assert code == 1
    assert "Cannot run the demo there." in err
    assert "pass --force to replace the demo audit" in err
    assert "Traceback" not in err
    assert (audit / "audit.json").read_bytes() == before


def test_force_never_replaces_a_folder_that_is_not_an_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "todo.txt").write_text("keep me", "utf-8")
    code, _, err = run(["demo", "--out", str(precious), "--force", "--json"], capsys)
    assert code == 1
    assert "only audit folders are ever replaced" in err
    assert (precious / "todo.txt").read_text("utf-8") == "keep me"
    assert not (tmp_path / "notes-inputs").exists()


def test_someone_elses_inputs_folder_is_not_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "demo-audit-inputs"
    other.mkdir()
    (other / "mine.csv").write_text("a,b\n", "utf-8")
    code, _, err = run(["demo", "--out", str(tmp_path / "demo-audit")], capsys)
    assert code == 1
    assert "the demo's own inputs folder" in err
    assert (other / "mine.csv").read_text("utf-8") == "a,b\n"
    assert not (tmp_path / "demo-audit").exists()


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["demo", "--help"], capsys)
    assert code == 0
    assert "SIMULATED auditors" in out
    assert "--force" in out


def test_the_demo_audits_two_more_quarters_and_trends_the_three(demo: dict[str, Any]) -> None:
    base, payload = demo["base"], demo["payload"]
    program = payload["program"]
    assert program["folder"] == str(base / "demo-audit-program")
    assert [Path(p).name for p in program["audits"]] == ["demo-audit", "2026-Q2", "2026-Q3"]
    trend = json.loads((base / "demo-audit-program" / "trend" / "trend.json").read_text("utf-8"))
    assert [p["period"] for p in trend["periods"]] == [
        "2026-01-01 to 2026-03-31",
        "2026-04-01 to 2026-06-30",
        "2026-07-01 to 2026-09-30",
    ]
    coders = {c["coder"]: c for c in trend["coders"]}
    assert coders["C12"]["absent"] == ["2026-04-01 to 2026-06-30"]  # on leave in Q2
    assert all(not c["absent"] for name, c in coders.items() if name != "C12")
    # the simulated coders improve: fewer units with an error in each quarter
    rates = [p["p"] for p in trend["p_chart"]["periods"]]
    assert rates == sorted(rates, reverse=True)
    # Q2 and Q3 draw fewer units per coder: the trend says the designs differ
    assert [d["setting"] for d in trend["comparability"]["differences"]] == ["sample size rule"]
    # each quarter is a real audit that verifies
    for audit in program["audits"][1:]:
        assert AuditFolder.open(Path(audit)).verify_hashes() == []
    assert (base / "demo-audit-program" / "trend" / "trend.pdf").read_bytes().startswith(b"%PDF")
    assert "program  trend of Q1-Q3 2026" in demo["stderr"]


def test_the_demo_double_review_shows_the_second_auditors_known_misses(
    demo: dict[str, Any],
) -> None:
    from audit_kit.demo.simulation.workbooks import misses_error

    audit = demo["base"] / "demo-audit"
    results = json.loads((audit / "results.json").read_text())
    agreement = results["agreement"]
    planned = json.loads((audit / "sampling.json").read_text())["double_review"]["units"]
    assert results["progress"]["units_sampled"] == 600  # 50 per coder, 12 coders
    assert len(planned) == 60  # 10 % of 600
    # a unit the primary auditor marked "not reviewed" has no finding to compare
    status = {u["unit_id"]: u["status"] for u in results["units"]}
    compared = [u for u in planned if status[u] != "not reviewed"]
    assert 0 < len(planned) - len(compared) < 5
    assert agreement["pending"] == [] and agreement["compared_units"] == len(compared)
    # the pattern built into the simulation: the second auditor misses the error on the units
    # misses_error() picks; everywhere else the two reviews are the same finding
    # errors as the auditors found them, overturned ones included: the double review compares
    # the two reviews, not the lead's decisions on the coders' rebuttals
    overturned = {
        d["unit_id"] for d in results["rebuttal"]["disputes"] if d["decision"] == "overturned"
    }
    with_error = {e["unit_id"] for e in results["errors"]} | overturned
    expected = sorted(u for u in planned if u in with_error and misses_error(u))
    assert expected  # the pattern is visible in this demo
    assert sorted(d["unit_id"] for d in agreement["disagreements"]) == expected
    record = agreement["levels"]["record"]
    assert record["agreed"] == len(compared) - len(expected)
    assert "fleiss_kappa" in record  # three simulated auditors shared the double units
