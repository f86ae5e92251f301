"""The CLI boundary: version, help, exit codes, errors as messages (never tracebacks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit_kit import __version__
from audit_kit.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audit_kit", *args], capture_output=True, text=True, check=False
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"audit-kit, version {__version__}"


def test_help_shows_the_audit_cycle() -> None:
    result = run("--help")
    assert result.returncode == 0
    for step in ("sample", "workbooks", "collect", "score", "report", "verify"):
        assert f"audit-kit {step}" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run("no-such-command")
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr


def test_audit_error_exits_1_with_message_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `verify` on a folder that is not an audit: an AuditError from the library.
    with pytest.raises(SystemExit) as info:
        main(["verify", str(tmp_path), "--json"])
    assert info.value.code == 1
    out, err = capsys.readouterr()
    assert "Error: Not an audit folder." in err
    payload = json.loads(out)
    assert payload["error"] == "AuditError"
    assert payload["problems"][0]["where"] == str(tmp_path)
    assert "Traceback" not in err
