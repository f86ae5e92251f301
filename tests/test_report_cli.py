"""The `audit-kit report` command: help, JSON output, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_helpers import make_audit

from audit_kit.cli import cli, main
from audit_kit.folder.manifest import AuditFolder


def test_help_names_outputs_and_templates() -> None:
    result = CliRunner().invoke(cli, ["report", "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    for word in ("report.pdf", "coders/<id>.pdf", "attestation.pdf", "--templates", "--json"):
        assert word in result.output


def test_json_lists_the_pdfs(tmp_path: Path) -> None:
    path, _ = make_audit(tmp_path / "audit", coders=1, units_per_coder=4)
    result = CliRunner().invoke(cli, ["report", str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["executive"] == str(path / "report.pdf")
    assert payload["attestation"] == str(path / "attestation.pdf")
    assert payload["coders"] == [str(path / "coders" / "C001.pdf")]
    assert all(Path(p).is_file() for p in payload["files"])


def test_unscored_audit_exits_1_with_the_next_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = AuditFolder.create(tmp_path / "audit", name="x")
    with pytest.raises(SystemExit) as info:
        main(["report", str(folder.path)])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "results.json" in err and "audit-kit score" in err


def test_missing_templates_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["report", str(tmp_path), "--templates", str(tmp_path / "nope")])
    assert info.value.code == 2
