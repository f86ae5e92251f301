"""One parser per kind of value: amounts and dates are read in audit_kit/values/ only.

The check reads audit_kit's source (outside values/) for the ways an amount or a date gets
parsed by hand: cleaning '$' or ',' out of text, a float() of cleaned text, regexes that match
dollar amounts, and date parsing calls. Each pattern below was in the code before the parsers
were unified (four amount parsers disagreed on '$1,234.50'); the test fails if one comes back.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import audit_kit

PACKAGE = Path(audit_kit.__file__).parent
OWN = PACKAGE / "values"

#: Date-parsing calls: only values/dates.py reads a date from text.
DATE_CALLS = {"strptime", "fromisoformat", "to_date", "to_datetime"}
#: Text cleaning that turns money text into a number.
MONEY_CHARS = re.compile(r"^[\s$,()]+$")
CLEANERS = {"replace", "strip", "lstrip", "rstrip", "replace_all"}
#: A regex (or character class) that matches dollar signs or thousands groups of an amount.
MONEY_REGEX = re.compile(r"\\\$|\[\$,\]|\[,\$\]|\\d\{1,3\}\(,|\(\?:,\\d\{3\}\)")


def _sources() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if OWN not in p.parents]


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id
    return ""


def _offence(node: ast.AST) -> str | None:
    name = _call_name(node)
    if name in DATE_CALLS:
        return f".{name}() parses a date"
    if isinstance(node, ast.Call) and name in CLEANERS and node.args:
        first = node.args[0]
        text = first.value if isinstance(first, ast.Constant) else None
        if isinstance(text, str) and "$" in text and MONEY_CHARS.match(text):
            return f".{name}({text!r}) cleans money out of text"
    cleaned = isinstance(node, ast.Call) and node.args and _call_name(node.args[0]) in CLEANERS
    if name == "float" and cleaned:
        return "float() of cleaned text"
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and MONEY_REGEX.search(node.value)
    ):
        return f"a money regex {node.value[:40]!r}"
    return None


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.name if PACKAGE not in path.parents else str(path.relative_to(PACKAGE.parent))
    found = []
    for node in ast.walk(tree):
        what = _offence(node)
        if what is not None:
            found.append(f"{where}:{getattr(node, 'lineno', '?')}: {what}")
    return found


def test_no_second_parser_of_amounts_or_dates() -> None:
    offences = [o for path in _sources() for o in _offences(path)]
    assert offences == []


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    # The four shapes the old parsers had, each caught by the check (it is not vacuous).
    samples = {
        "a.py": 'value = float(text.strip().replace(",", "").lstrip("$"))\n',
        "b.py": '_THOUSANDS = r"^\\$?-?\\d{1,3}(,\\d{3})+(\\.\\d*)?$"\n',
        "c.py": 'day = dt.datetime.strptime(text, "%m/%d/%Y")\n',
        "d.py": 'x = s.str.replace_all(r"[$,]", "")\n',
    }
    for name, text in samples.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert _offences(path), name
