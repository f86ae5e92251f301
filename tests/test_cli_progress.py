"""Progress (issue 9): `...` lines on stderr by default, none with --quiet; --json: one document."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import report_helpers
import score_helpers
from click.testing import CliRunner, Result
from wb_helpers import fill_all
from wb_helpers import make_audit as make_wb_audit

from audit_kit.cli import cli
from audit_kit.demo.cycle import DemoResult, DemoStep


def invoke(*args: str) -> Result:
    # click 8.2+: result.stdout and result.stderr are separate, result.output mixes them.
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def progress_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("... ")]


def assert_progress_modes(run: Callable[..., Result], expected: list[str]) -> None:
    """Check default (progress on stderr), --quiet (none) and --json (one document on stdout)."""
    shown = run()
    assert progress_lines(shown) == expected
    assert not any(line.startswith("... ") for line in shown.stdout.splitlines())
    quiet = run("--quiet")
    assert quiet.stderr == ""
    assert len(quiet.stdout.splitlines()) == len(shown.stdout.splitlines())
    as_json = run("--json")
    json.loads(as_json.stdout)  # exactly one document: a second one would not parse
    assert progress_lines(as_json) == []


def test_workbooks(tmp_path: Path) -> None:
    made = iter(range(3))

    def run(*flags: str) -> Result:
        audit = make_wb_audit(tmp_path, name=f"audit{next(made)}")
        return invoke("workbooks", str(audit), "--auditors", "ann,bob", *flags)

    assert_progress_modes(
        run,
        [
            "... wrote workbooks/W1-ann.xlsx (3 row(s), 1 of 2)",
            "... wrote workbooks/W1-bob.xlsx (3 row(s), 2 of 2)",
        ],
    )


def test_collect(tmp_path: Path) -> None:
    made = iter(range(3))
    returned: list[Path] = []

    def run(*flags: str) -> Result:
        audit = make_wb_audit(tmp_path, name=f"audit{next(made)}")
        invoke("workbooks", str(audit), "--quiet")
        back = fill_all(
            audit / "workbooks" / "W1-all.xlsx", tmp_path / f"{audit.name}.xlsx", auditor="ann"
        )
        returned.append(back)
        return invoke("collect", str(audit), str(back), *flags)

    shown = run()
    assert progress_lines(shown) == [f"... reading and validating {returned[0]} (1 of 1)"]
    assert "Progress:" in shown.stdout and "..." not in shown.stdout
    quiet = run("--quiet")
    assert quiet.stderr == "" and "Progress:" in quiet.stdout
    as_json = run("--json")
    assert json.loads(as_json.stdout)["findings"] == 5
    assert progress_lines(as_json) == []


def test_score(tmp_path: Path) -> None:
    # The CLI's own output is tested in test_cli_score.py; here, the library callback.
    sample = [score_helpers.unit("U1"), score_helpers.unit("U2", coder="C2")]
    audit = score_helpers.make_audit(
        tmp_path / "audit",
        plan=score_helpers.PLAN,
        populations={"all": 40},
        sample=sample,
        findings=[score_helpers.finding(u) for u in sample],
    )
    from audit_kit.reporting.results_workbook import results_workbook_bytes
    from audit_kit.scoring import score_audit

    seen: list[str] = []
    score_audit(audit, progress=seen.append, results_workbook=results_workbook_bytes)
    assert seen == [
        "reading plan.yaml, sampling.json, sample.csv and findings.csv",
        "scoring 2 finding(s) against 2 sampled unit(s)",
        "writing results.json and results.xlsx",
    ]


def test_report(tmp_path: Path) -> None:
    path, _ = report_helpers.make_audit(tmp_path / "audit", coders=2, units_per_coder=4)

    def run(*flags: str) -> Result:
        return invoke("report", str(path), *flags)

    shown = run()
    lines = progress_lines(shown)
    assert len(lines) == 4  # report, two coders, attestation
    assert lines[-1].endswith("(4 of 4)")
    assert lines[0] == "... rendered report.pdf (1 of 4)"
    assert "... rendered coders/C001.pdf (3 of 4)" in lines
    assert run("--quiet").stderr == ""
    as_json = run("--json")
    assert len(json.loads(as_json.stdout)["files"]) == 4
    assert progress_lines(as_json) == []


def _fake_demo(out: Path, *, force: bool = False, progress: Any = None) -> DemoResult:
    if progress is not None:
        progress("1/8 universe  20 synthetic encounters (0.1 s)")
    return DemoResult(
        audit_dir=out,
        audit_id="A",
        universe=out / "u.csv",
        plan=out / "p.yaml",
        returned=(),
        reports=(),
        steps=(DemoStep(name="universe", seconds=0.1, detail="x"),),
    )


def test_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real run is in test_demo.py (progress on stderr with --json); here the wiring only.
    monkeypatch.setattr("audit_kit.demo.cycle.demo", _fake_demo)  # what `audit-kit demo` calls
    out = str(tmp_path / "demo-audit")
    shown = invoke("demo", "--out", out)
    assert progress_lines(shown) == [
        f"... audit-kit demo: synthetic data, simulated auditors -> {out}",
        "... 1/8 universe  20 synthetic encounters (0.1 s)",
    ]
    assert "Done in 0.1 s." in shown.stdout and "..." not in shown.stdout
    quiet = invoke("demo", "--out", out, "--quiet")
    assert quiet.stderr == "" and quiet.stdout == shown.stdout
    as_json = invoke("demo", "--out", out, "--json")
    assert json.loads(as_json.stdout)["simulated"] is True
    assert progress_lines(as_json) == progress_lines(shown)  # the long demo keeps its steps
