"""`audit-kit score`: human summary, --json overall block, errors with exit code 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from score_helpers import PLAN, finding, make_audit, unit

from audit_kit.cli import cli, main

SAMPLE = [unit("U1"), unit("U2", paid=200.0), unit("U3", coder="C2")]
FINDINGS = [
    finding(SAMPLE[0]),
    finding(SAMPLE[1], dx=["I50.20", "E11.65"], amount=150.0, category="coding"),
    finding(SAMPLE[2], status="not reviewed"),
]


@pytest.fixture
def audit(tmp_path: Path) -> Path:
    return make_audit(
        tmp_path / "audit", plan=PLAN, populations={"all": 40}, sample=SAMPLE, findings=FINDINGS
    )


def test_help() -> None:
    result = CliRunner().invoke(cli, ["score", "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "AUDIT_DIR" in result.output and "--json" in result.output


def test_human_summary(audit: Path) -> None:
    result = CliRunner().invoke(cli, ["score", str(audit)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # every unit is in (one not reviewed): final, no PRELIMINARY line
    assert lines[0] == (
        "Units: 3 units sampled; 3 units returned (2 reviewed, 0 record missing, 1 not "
        "reviewed); 2 units scored; 0 not returned yet."
    )
    assert lines[1].startswith("Record accuracy: 50.0% (90% limits ")
    assert lines[1].endswith(", 2 scored of 3 sampled")
    assert lines[2].startswith("Code accuracy:   ")
    assert lines[3].startswith("Verdict against the 90.0% target: ")
    # U2: 200 paid, 150 audited.
    assert lines[4] == ("Sample: overpaid $50.00, underpaid $0.00, net $50.00, gross $50.00")
    # extrapolated amounts in whole dollars, as the PDF shows them
    assert any(
        line.startswith("Extrapolated (difference): point estimate $1,000;") for line in lines
    )
    assert json.loads((audit / "results.json").read_text())["status"] == "final"
    assert (audit / "results.json").is_file() and (audit / "results.xlsx").is_file()


def test_json_prints_the_overall_block(audit: Path) -> None:
    result = CliRunner().invoke(cli, ["score", str(audit), "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    overall = json.loads(result.stdout)
    stored = json.loads((audit / "results.json").read_text())["overall"]
    assert overall == stored
    assert overall["units_reviewed"] == 2 and overall["units_with_error"] == 1


def test_missing_findings_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_audit(
        tmp_path / "a", plan=PLAN, populations={"all": 40}, sample=SAMPLE, findings=None
    )
    with pytest.raises(SystemExit) as info:
        main(["score", str(path), "--json"])
    assert info.value.code == 1
    out, err = capsys.readouterr()
    assert "Error: There are no findings to score yet." in err
    assert "audit-kit collect" in err
    assert json.loads(out)["error"] == "AuditError"


def test_progress_on_stderr_and_quiet(audit: Path) -> None:
    loud = CliRunner().invoke(cli, ["score", str(audit)], catch_exceptions=False)
    assert loud.exit_code == 0
    assert loud.stderr.startswith("... ") and "... " not in loud.stdout
    quiet = CliRunner().invoke(cli, ["score", str(audit), "--quiet"], catch_exceptions=False)
    assert quiet.exit_code == 0
    assert quiet.stderr == "" and quiet.stdout.startswith("Units: ")


def test_outstanding_units_make_the_results_preliminary(tmp_path: Path) -> None:
    # U3 is sampled but not returned: 1 of 3 outstanding
    path = make_audit(
        tmp_path / "a", plan=PLAN, populations={"all": 40}, sample=SAMPLE, findings=FINDINGS[:2]
    )
    result = CliRunner().invoke(cli, ["score", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "PRELIMINARY: 1 of 3 units sampled not returned yet; every result below will change "
        "as they come in (collect them, then score again)."
    )
    assert lines[2].endswith(", 2 scored of 3 sampled")
    assert lines[4].endswith("(preliminary)")
    results = json.loads((path / "results.json").read_text())
    assert results["status"] == "preliminary"
    assert results["progress"]["units_outstanding"] == 1
    assert results["progress"]["units_scored"] == 2
    # per coder: units scored of units sampled (C2's only unit is outstanding)
    coders = {c["coder"]: c for c in results["coders"]}
    assert (coders["C1"]["units_reviewed"], coders["C1"]["units_sampled"]) == (2, 2)
    assert "C2" not in coders or coders["C2"]["units_sampled"] == 1
    js = CliRunner().invoke(cli, ["score", str(path), "--json"], catch_exceptions=False)
    assert json.loads(js.stdout)["units_sampled"] == 3  # stdout: the one JSON document
    assert js.stderr.startswith("PRELIMINARY: 1 of 3 units sampled not returned yet")
