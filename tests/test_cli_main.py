"""The CLI boundary: version, help, exit codes, errors as messages (never tracebacks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from audit_kit import __version__
from audit_kit.cli import cli, main


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


HEAVY = ("weasyprint", "scipy", "openpyxl", "fastexcel")


def _imported_by_cli(names: tuple[str, ...]) -> list[str]:
    code = f"import sys, audit_kit.cli\nprint(','.join(n for n in {names!r} if n in sys.modules))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return [n for n in result.stdout.strip().split(",") if n]


def test_importing_the_cli_loads_no_heavy_library() -> None:
    # `audit-kit --help` and `--version` start fast: commands import these when they run.
    assert _imported_by_cli(HEAVY) == []


def test_importing_the_cli_does_not_load_polars() -> None:
    assert _imported_by_cli(("polars",)) == []


def _commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(cli.commands.items()):
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", c) for sub, c in sorted(command.commands.items())]
        else:
            found.append((name, command))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(), ids=lambda v: str(v))
def test_every_command_help_is_a_manual(name: str, command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    text = result.output
    assert (command.help or "").strip(), f"{name} has no description"
    assert "Example" in text, f"{name} --help shows no example"
    assert f"audit-kit {name}" in text.split("Example", 1)[1]
    assert "Options:" in text
