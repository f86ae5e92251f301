"""The import graph between audit-kit's packages follows docs/architecture.md and has no cycle.

Every ``import`` of an ``audit_kit`` module (at the top of a file or inside a function) is an
edge from the importing package to the imported one. The allowed edges are the arrows of
docs/architecture.md, written out below; a new edge fails here until the document and this
table say it is intended.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "audit_kit"

BOTTOM = {"errors", "files", "values", "stats", "universe", "plan", "folder", "_version"}
#: package -> the packages it may import (besides itself); the arrows of docs/architecture.md
ALLOWED: dict[str, set[str]] = {
    "_version": set(),
    "errors": set(),
    "files": {"errors"},
    "values": {"errors"},
    "stats": {"errors"},
    "universe": {"errors", "files", "values"},
    "plan": {"errors", "files", "values", "universe", "_version"},
    "folder": {"errors", "files", "values", "plan", "_version"},
    "sampling": BOTTOM,
    "scoring": BOTTOM,
    "workbook": BOTTOM,
    "findings": BOTTOM | {"workbook"},
    "reporting": BOTTOM | {"workbook"},
    "program": BOTTOM | {"scoring", "reporting"},
    "demo": BOTTOM | {"sampling", "scoring", "workbook", "findings", "reporting", "program"},
    "cli": BOTTOM | {"sampling", "scoring", "workbook", "findings", "reporting", "program", "demo"},
    "__main__": {"cli"},
    "__init__": BOTTOM,
}


def _package(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0].removesuffix(".py")


def import_graph() -> dict[str, set[str]]:
    """Return package -> packages it imports, from every audit_kit import in the tree."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in sorted(ROOT.rglob("*.py")):
        source = _package(path)
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                parts = node.module.split(".")
                if parts[0] != "audit_kit":
                    continue
                # from audit_kit.x import y, or from audit_kit import sampling, scoring
                targets = [parts[1]] if len(parts) > 1 else [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [
                    a.name.split(".")[1] for a in node.names if a.name.startswith("audit_kit.")
                ]
            edges[source].update(t for t in targets if t != source)
    return dict(edges)


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_every_package_has_documented_arrows() -> None:
    unknown = sorted(set(import_graph()) - set(ALLOWED))
    assert not unknown, f"packages without documented arrows: {unknown}"


def test_imports_follow_the_documented_arrows() -> None:
    wrong = {
        f"{source} -> {target}"
        for source, targets in import_graph().items()
        for target in targets
        if target not in ALLOWED.get(source, set())
    }
    assert not wrong, sorted(wrong)


def test_no_cycle_between_packages() -> None:
    assert _cycle(import_graph()) is None


def test_the_check_finds_a_cycle() -> None:
    # the checker itself: a planted cycle is reported
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_stats_is_pure_numbers() -> None:
    assert import_graph().get("stats", set()) <= {"errors"}


def test_only_cli_imports_click() -> None:
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        if _package(path) == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(n == "click" or n.startswith("click.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_no_underscore_name_imported_from_another_module() -> None:
    # A private name is private to its module; what siblings share is a plain name in a private
    # (underscore) module. findings/ is exempt while its rule set is rewritten (issue 13b).
    crossing = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "findings":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.module):
                continue
            if not node.module.startswith("audit_kit"):
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    crossing.append(f"{rel}: {node.module}.{alias.name}")
    assert not crossing, crossing
