"""The README's Python example runs as written (with simulated auditors standing in)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from audit_kit.demo.example_data import write_universe
from audit_kit.folder.results import Results

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (block,) = _python_blocks((ROOT / "README.md").read_text("utf-8"))
    marker = "# ... auditors fill the workbooks and send them back into returned/ ..."
    assert marker in block
    # The one step a person does by hand is played by the simulated auditors.
    code = block.replace(
        marker,
        "from audit_kit.demo.simulation import fill_workbooks\n"
        'fill_workbooks(audit, Path("returned"))',
    )
    write_universe(tmp_path / "export.csv", rows=3000, seed=11)
    shutil.copy(ROOT / "examples" / "plan.yaml", tmp_path / "plan.yaml")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    results = namespace["results"]
    assert isinstance(results, Results)
    assert results.overall.code_accuracy is not None
    assert 0.0 < results.overall.code_accuracy.value <= 1.0
    for name in ("report.pdf", "attestation.pdf", "results.json", "results.xlsx", "findings.csv"):
        assert (tmp_path / "q3-audit" / name).is_file()
    assert any((tmp_path / "q3-audit" / "coders").glob("*.pdf"))


def test_local_links_and_pictures_in_the_docs_exist() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    missing = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text("utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                missing.append(f"{page.relative_to(ROOT)} -> {target}")
    assert missing == []
    guide = (ROOT / "docs" / "auditor-guide.md").read_text("utf-8")
    assert guide.count("](img/workbook-") == 4
