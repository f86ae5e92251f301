"""The documentation runs as written, and the CLI reference matches the commands.

Every fenced block marked ```bash in docs/*.md whose first command starts with `audit-kit` or
`python` is run, block after block in the order of its page, in a fresh folder holding a copy
of the repository's examples/ folder (the example data the pages use). Blocks that are not meant
to run (commands that need files only an auditor can make) use another fence, such as ```text.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
RUNNABLE = ("audit-kit", "python")


def code_blocks(path: Path) -> list[tuple[int, str, str]]:
    """Return (line number, language, text) of every fenced block of a Markdown file."""
    blocks: list[tuple[int, str, str]] = []
    lines = path.read_text("utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match:
            start, lang, body = i + 1, match.group(1), []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            blocks.append((start, lang, "\n".join(body)))
        i += 1
    return blocks


def first_command(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped
    return ""


def runnable_blocks(path: Path) -> list[tuple[int, str]]:
    return [
        (line, text)
        for line, lang, text in code_blocks(path)
        if lang == "bash" and first_command(text).startswith(RUNNABLE)
    ]


PAGES = [p for p in sorted(DOCS.glob("*.md")) if runnable_blocks(p)]


def test_the_quickstarts_have_runnable_blocks() -> None:
    names = {p.name for p in PAGES}
    assert {"quickstart-compliance.md", "quickstart-auditor.md", "quickstart-vendor.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_runs_as_written(page: Path, tmp_path: Path) -> None:
    shutil.copytree(
        ROOT / "examples",
        tmp_path / "examples",
        ignore=shutil.ignore_patterns("universe.csv", "universe.parquet", "__pycache__"),
    )
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("AUDIT_KIT_DEBUG", None)
    for line, text in runnable_blocks(page):
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", text],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, (
            f"{page.name}, block at line {line} failed (exit {result.returncode}):\n{text}\n"
            f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        )
        assert "Traceback" not in result.stderr


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_cli_reference", DOCS / "gen_cli_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_up_to_date() -> None:
    expected = _generator().render()
    current = (DOCS / "cli.md").read_text("utf-8")
    assert current == expected, "docs/cli.md is out of date: run python docs/gen_cli_reference.py"


def test_cli_reference_covers_every_command() -> None:
    text = (DOCS / "cli.md").read_text("utf-8")
    for command in (
        "init",
        "sample",
        "workbooks",
        "collect",
        "score",
        "report",
        "verify",
        "status",
        "demo",
        "random-numbers",
        "appraise attribute",
        "appraise variable",
        "size variable",
        "size attribute",
    ):
        assert f"## audit-kit {command}\n" in text, command


def test_plan_key_reference_is_up_to_date() -> None:
    # The key reference at the end of docs/plans.md is generated from the plan model.
    check = subprocess.run(
        [sys.executable, str(DOCS / "gen_plan_reference.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    text = (DOCS / "plans.md").read_text("utf-8")
    for key in ("size.total", "size.minimum_per_stratum", "workbook.protect_password"):
        assert f"| `{key}` |" in text
    assert "| `demand_rule` |" not in text  # one place: financial.demand_rule
