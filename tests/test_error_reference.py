"""Every error documented in docs/errors.md happens as documented.

Each `###` heading of docs/errors.md has a case here that reproduces the error through the CLI
(``audit_kit.cli.main``) in a fresh folder, with the file names the page uses, and checks: exit
code 1, no traceback, the file/cell/key the message must name, and that every line of the
documented message (placeholders such as ``<audit>`` standing for anything) matches a line that
audit-kit printed on stderr. A heading without a case, or a case without a heading, fails.

Run ``python tests/test_error_reference.py`` to print what each case prints today (to update the
page after a message changes).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime as dt
import io
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from audit_kit.cli import main
from audit_kit.demo.example_data import write_universe
from audit_kit.findings import collect
from audit_kit.sampling import draw_sample
from audit_kit.workbook import write_workbooks
from audit_kit.workbook.safety import encrypt_xlsx

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "errors.md"
PLACEHOLDER = re.compile(r"<[a-z][a-z0-9-]*>")
FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")

UNIVERSE_ROWS = 300
DUE = "2099-12-31"  # the rebuttal round's due date: far ahead, so that it never passes
UNIVERSE_SEED = 3


# -- the documented messages ----------------------------------------------------------------------


def documented() -> dict[str, str]:
    """Heading -> the documented message (the text block under it starting with 'Error:')."""
    entries: dict[str, str] = {}
    heading: str | None = None
    lines = DOC.read_text("utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("### "):
            heading = line[4:].strip()
        elif FENCE.match(line):
            lang = FENCE.match(line).group(1)  # type: ignore[union-attr]
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if lang == "text" and heading and body and body[0].startswith("Error:"):
                entries[heading] = "\n".join(body)
        i += 1
    return entries


def line_pattern(line: str) -> re.Pattern[str]:
    parts = PLACEHOLDER.split(line.rstrip())
    return re.compile(".+?".join(re.escape(p) for p in parts))


# -- inputs ---------------------------------------------------------------------------------------


def base_plan() -> dict[str, Any]:
    """examples/plan.yaml, 2 units per coder (the universe is small)."""
    data = yaml.safe_load((ROOT / "examples" / "plan.yaml").read_text("utf-8"))
    data["size"] = {"per_stratum": 2}
    return dict(data)


def write_plan(path: Path, change: Callable[[dict[str, Any]], None] | None = None) -> Path:
    data = copy.deepcopy(base_plan())
    if change is not None:
        change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return path


def universe_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_rows(path: Path, rows: list[dict[str, str]], fields: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: r[k] for k in fields} for r in rows)


@dataclass(frozen=True)
class Base:
    """Module-wide inputs: universe, plan, an issued audit, another audit, a scored audit."""

    root: Path

    @property
    def universe(self) -> Path:
        return self.root / "export.csv"


def make_base(root: Path) -> Base:
    root.mkdir(parents=True, exist_ok=True)
    write_universe(root / "export.csv", rows=UNIVERSE_ROWS, seed=UNIVERSE_SEED)
    plan = write_plan(root / "plan.yaml")
    for name in ("q1-audit", "other-audit", "scored-audit"):
        draw_sample(plan, root / "export.csv", root / name)
        write_workbooks(root / name, auditors=["ann", "bob"])
    scored = root / "scored-audit"
    filled = [
        fill_book(scored / "workbooks" / f"W1-{a}.xlsx", root / "filled" / f"W1-{a}.xlsx")
        for a in ("ann", "bob")
    ]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for argv in (["collect", str(scored), *map(str, filled)], ["score", str(scored)]):
            with contextlib.suppress(SystemExit):
                main(argv)
    assert (scored / "results.json").is_file()
    for name in ("round-audit", "round-other"):
        audit = root / name
        draw_sample(plan, root / "export.csv", audit)
        write_workbooks(audit, auditors=["ann", "bob"])
        books = [
            fill_book(
                audit / "workbooks" / f"W1-{a}.xlsx",
                root / f"{name}-filled" / f"W1-{a}.xlsx",
                errors=2,
            )
            for a in ("ann", "bob")
        ]
        argvs = (["collect", str(audit), *map(str, books)], ["rebuttals", str(audit), "--due", DUE])
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for argv in argvs:
                with contextlib.suppress(SystemExit):
                    main(argv)
        assert (audit / "rebuttals" / "round.json").is_file()
    return Base(root)


def fill_book(src: Path, out: Path, *, errors: int = 0) -> Path:
    """Mark every unit of a workbook reviewed, codes as pre-filled; the first ``errors`` units
    get a finding (error category and rationale)."""
    wb = openpyxl.load_workbook(src)
    ws = wb["Sample"]
    cols = {str(c.value): c.column for c in ws[1] if c.value is not None}
    for r in range(2, ws.max_row + 1):
        if ws.cell(row=r, column=1).value is None:
            continue
        ws.cell(row=r, column=cols["Review status"]).value = "reviewed"
        ws.cell(row=r, column=cols["Review date"]).value = "2026-03-02"
        if r - 1 <= errors:
            ws.cell(row=r, column=cols["Error category"]).value = "coding"
            ws.cell(row=r, column=cols["Rationale"]).value = "Not supported by the note."
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def copy_audit(base: Base, cwd: Path, name: str = "q1-audit") -> Path:
    return Path(shutil.copytree(base.root / name, cwd / name))


Edit = Callable[[Any, dict[str, int], list[int]], None]


def returned(base: Base, cwd: Path, edit: Edit, *, audit: str = "q1-audit") -> str:
    """returned/W1-ann.xlsx: ann's workbook, edited by header name (as an auditor in Excel)."""
    wb = openpyxl.load_workbook(base.root / audit / "workbooks" / "W1-ann.xlsx")
    ws = wb["Sample"]
    cols = {str(c.value): c.column for c in ws[1] if c.value is not None}
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value is not None]
    edit(ws, cols, rows)
    out = cwd / "returned" / "W1-ann.xlsx"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return "returned/W1-ann.xlsx"


def review_first(**values: Any) -> Edit:
    """Review the first unit, setting header -> value."""

    def edit(ws: Any, cols: dict[str, int], rows: list[int]) -> None:
        entries = {"Review status": "reviewed", "Review date": "2026-03-02", **values}
        for header, value in entries.items():
            ws.cell(row=rows[0], column=cols[header.replace("_", " ")]).value = value

    return edit


# -- the cases ------------------------------------------------------------------------------------

SAMPLE = ["sample", "--plan", "plan.yaml", "--universe", "export.csv", "--out", "q1-audit"]


@dataclass(frozen=True)
class Case:
    setup: Callable[[Base, Path], list[str]]
    names: tuple[str, ...]  # what the message must name (file, cell, key)


def universe_case(change: Callable[[list[dict[str, str]], list[str]], list[str] | None]) -> Any:
    def setup(base: Base, cwd: Path) -> list[str]:
        rows = universe_rows(base.universe)
        fields = list(rows[0])
        fields = change(rows, fields) or fields
        write_rows(cwd / "export.csv", rows, fields)
        write_plan(cwd / "plan.yaml")
        return SAMPLE

    return setup


def raw_universe(data: bytes, *extra: str) -> Any:
    def setup(base: Base, cwd: Path) -> list[str]:
        (cwd / "export.csv").write_bytes(data)
        write_plan(cwd / "plan.yaml")
        return [*SAMPLE, *extra]

    return setup


def plan_case(change: Callable[[dict[str, Any]], None], plan: str = "plan.yaml") -> Any:
    def setup(base: Base, cwd: Path) -> list[str]:
        shutil.copy(base.universe, cwd / "export.csv")
        write_plan(cwd / "plan.yaml", change)
        return SAMPLE if plan == "plan.yaml" else [*SAMPLE[:2], plan, *SAMPLE[3:]]

    return setup


def collect_case(edit: Edit, *, audit: str = "q1-audit") -> Any:
    def setup(base: Base, cwd: Path) -> list[str]:
        copy_audit(base, cwd)
        return ["collect", "q1-audit", returned(base, cwd, edit, audit=audit)]

    return setup


def template_case(change: Callable[[Path], None]) -> Any:
    def setup(base: Base, cwd: Path) -> list[str]:
        copy_audit(base, cwd, "scored-audit").rename(cwd / "q1-audit")
        templates = cwd / "my-templates"
        templates.mkdir()
        change(templates)
        return ["report", "q1-audit", "--templates", "my-templates"]

    return setup


def _universe_missing(base: Base, cwd: Path) -> list[str]:
    write_plan(cwd / "plan.yaml")
    return SAMPLE


def _dup(rows: list[dict[str, str]], fields: list[str]) -> None:
    rows[5]["encounter_id"] = rows[2]["encounter_id"]


def _not_number(rows: list[dict[str, str]], fields: list[str]) -> None:
    rows[3]["paid_amount"] = "12,50 USD"


def _negative(rows: list[dict[str, str]], fields: list[str]) -> None:
    rows[7]["billed_amount"] = "-12.50"


def _dup_excluded(rows: list[dict[str, str]], fields: list[str]) -> None:
    # The copy's payment is 0: paid > 0 would exclude it, yet the id names two rows.
    rows[6]["encounter_id"] = rows[3]["encounter_id"]
    rows[6]["paid_amount"] = "0"


def _title_only(base: Base, cwd: Path) -> list[str]:
    (cwd / "export.csv").write_text("Q3 2026 charge report,,,\n,,,\n", "utf-8")
    write_plan(cwd / "plan.yaml")
    return SAMPLE


def _text_date_filter(d: dict[str, Any]) -> None:
    d["frame"]["filters"].append({"column": "service_date", "op": ">=", "value": "9/31/2026"})


def _preset_as_is(base: Base, cwd: Path) -> list[str]:
    rows = universe_rows(base.universe)
    renamed = [
        {("Acct #" if k == "encounter_id" else k.title()): v for k, v in r.items()} for r in rows
    ]
    write_rows(cwd / "export.csv", renamed, list(renamed[0]))
    return [
        "sample",
        "--plan",
        "quarterly-coder-review",
        "--universe",
        "export.csv",
        "--out",
        "q1-audit",
    ]


def _no_coder(rows: list[dict[str, str]], fields: list[str]) -> list[str]:
    return [f for f in fields if f != "coder_id"]


def _latin1() -> bytes:
    return b"encounter_id,patient_name\nENC1,Testpatient J\xe9r\xf4me\n"


DB_SAMPLE = [*SAMPLE[:4], "duckdb:///claims.duckdb", "--table", "claims", *SAMPLE[5:]]


def duckdb_case(change: str | None = None, argv: list[str] | None = None) -> Any:
    """The example universe as a DuckDB table ``claims`` in claims.duckdb, changed by SQL."""

    def setup(base: Base, cwd: Path) -> list[str]:
        import duckdb

        con = duckdb.connect(str(cwd / "claims.duckdb"))
        con.execute(
            f"CREATE TABLE claims AS SELECT * FROM read_csv('{base.universe}', all_varchar=true)"
        )
        if change:
            con.execute(change)
        con.close()
        write_plan(cwd / "plan.yaml")
        return argv or DB_SAMPLE

    return setup


def _header_only(base: Base, cwd: Path) -> list[str]:
    header = base.universe.read_bytes().split(b"\n", 1)[0]
    return raw_universe(header + b"\n")(base, cwd)


def _unknown_key(d: dict[str, Any]) -> None:
    d["size"] = {"per_stratun": 2}


def _wrong_value(d: dict[str, Any]) -> None:
    d["rng"]["generator"] = "mersenne"


def _password_in_plan(d: dict[str, Any]) -> None:
    d.setdefault("workbook", {})["protect_password"] = "sheet-secret"


def _two_mistakes(d: dict[str, Any]) -> None:
    d["rng"]["generator"] = "mersenne"
    d["spares"] = -1


def _n_too_big(d: dict[str, Any]) -> None:
    d["design"] = {"method": "simple"}
    d["size"] = {"n": 500}


def _double_review_too_big(d: dict[str, Any]) -> None:
    d["double_review"] = {"units": 25}  # the sample has 24 units


def _empty_stratum(d: dict[str, Any]) -> None:
    bands = {"column": "paid", "edges": [0, 1000, 100_000_000]}
    d["design"] = {"method": "stratified", "strata": {"dollar_bands": bands}}


def _negative_edges(d: dict[str, Any]) -> None:
    bands = {"column": "paid", "edges": [-100, 1000]}
    d["design"] = {"method": "stratified", "strata": {"dollar_bands": bands}}


def _hcc_unmapped(d: dict[str, Any]) -> None:
    d["financial"] = {"basis": "hcc", "base_rate": 1100}


def _filters_leave_nothing(d: dict[str, Any]) -> None:
    d["frame"]["filters"].append({"column": "coder", "op": "==", "value": "C99"})


def _non_empty_out(base: Base, cwd: Path) -> list[str]:
    shutil.copy(base.universe, cwd / "export.csv")
    write_plan(cwd / "plan.yaml")
    (cwd / "q1-audit").mkdir()
    (cwd / "q1-audit" / "notes.txt").write_text("old notes\n", "utf-8")
    return SAMPLE


def _edit_original(ws: Any, cols: dict[str, int], rows: list[int]) -> None:
    ws.cell(row=rows[0], column=cols["coder_id"]).value = "C99"


def _added_row(ws: Any, cols: dict[str, int], rows: list[int]) -> None:
    ws.cell(row=rows[-1] + 1, column=1).value = "ENC99999999"


def _deleted_row(ws: Any, cols: dict[str, int], rows: list[int]) -> None:
    for c in range(1, ws.max_column + 1):
        ws.cell(row=rows[1], column=c).value = None


def _encrypted(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd)
    out = fill_book(base.root / "q1-audit" / "workbooks" / "W1-ann.xlsx", cwd / "plain.xlsx")
    (cwd / "returned").mkdir()
    (cwd / "returned" / "W1-ann.xlsx").write_bytes(encrypt_xlsx(out.read_bytes(), "s3cret"))
    out.unlink()
    return ["collect", "q1-audit", "returned/W1-ann.xlsx"]


def _missing_return(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd)
    return ["collect", "q1-audit", "returned/W1-ann.xlsx"]


def _reissue(base: Base, cwd: Path) -> list[str]:
    audit = copy_audit(base, cwd)  # ann's workbook returned and collected, bob's still out
    collect(audit, [fill_book(audit / "workbooks" / "W1-ann.xlsx", cwd / "W1-ann.xlsx")])
    return ["workbooks", "q1-audit", "--auditors", "cy"]


def _reissue_nothing_open(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd, "scored-audit").rename(cwd / "q1-audit")
    return ["workbooks", "q1-audit", "--auditors", "cy", "--open-units-only"]


def _filled_in_place(base: Base, cwd: Path) -> list[str]:
    audit = copy_audit(base, cwd)
    book = audit / "workbooks" / "W1-ann.xlsx"
    fill_book(book, book)
    return ["verify", "q1-audit"]


def _score_first(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd)
    return ["score", "q1-audit"]


def _verify_edited(base: Base, cwd: Path) -> list[str]:
    audit = copy_audit(base, cwd)
    with (audit / "sample.csv").open("a", encoding="utf-8") as f:
        f.write("\n")
    return ["verify", "q1-audit"]


def _report_first(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd)
    return ["report", "q1-audit"]


def _syntax(templates: Path) -> None:
    (templates / "report.html").write_text("<h1>{% if %}</h1>\n", "utf-8")


def _undefined(templates: Path) -> None:
    (templates / "report.html").write_text("<h1>{{ results.overall }}</h1>\n", "utf-8")


def _outside(templates: Path) -> None:
    (templates / "report.html").write_text('{% include "/etc/passwd" %}\n', "utf-8")


def _accuracy_counts(base: Base, cwd: Path) -> list[str]:
    (cwd / "coder-sample.csv").write_text(
        "unit,correct,reviewed\nU1,5,5\nU2,6,4\nU3,three,3\n", "utf-8"
    )
    return ["appraise", "accuracy", "coder-sample.csv", "--population", "400"]


def _trend_unscored(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd)
    return ["trend", "q1-audit", "--out", "trend"]


def _trend_edited(base: Base, cwd: Path) -> list[str]:
    audit = copy_audit(base, cwd)
    with (audit / "sample.csv").open("a", encoding="utf-8") as f:
        f.write("\n")
    return ["trend", "q1-audit", "--out", "trend"]


def _trend_out_not_empty(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd)
    (cwd / "notes").mkdir()
    (cwd / "notes" / "todo.txt").write_text("keep me\n", "utf-8")
    return ["trend", "q1-audit", "--out", "notes"]


def _trend_rules(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd)
    (cwd / "rules.yaml").write_text(
        "rules:\n"
        "  - {name: good, lower_at_least: 0.9, next_in_months: 12, kind: routine}\n"
        "  - {name: rest, lower_at_least: 0.8, next_in_months: 0, kind: weekly}\n",
        "utf-8",
    )
    return ["trend", "q1-audit", "--out", "trend", "--rules", "rules.yaml"]


def stats(*argv: str) -> Any:
    def setup(base: Base, cwd: Path) -> list[str]:
        return list(argv)

    return setup


# -- the rebuttal round ---------------------------------------------------------------------------


def _round_copy(base: Base, cwd: Path, name: str = "round-audit") -> Path:
    return Path(shutil.copytree(base.root / name, cwd / "q1-audit"))


def _round_book(audit: Path) -> Path:
    return sorted((audit / "rebuttals").glob("*.xlsx"))[0]


def _fill_review(source: Path, out: Path, sheet: str, rows: dict[int, dict[str, Any]]) -> Path:
    """Fill rows (1 = the first data row) of a rebuttal or decisions workbook, by header."""
    wb = openpyxl.load_workbook(source)
    ws = wb[sheet]
    cols = {str(c.value): c.column for c in ws[1] if c.value is not None}
    for row, values in rows.items():
        for header, value in values.items():
            ws.cell(row=row + 1, column=cols[header]).value = value
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def _answered(audit: Path, cwd: Path, disagree_first: bool = True) -> list[str]:
    """Every rebuttal workbook answered (agree; the first row of the first one disagrees)."""
    paths = []
    for i, book in enumerate(sorted((audit / "rebuttals").glob("*.xlsx"))):
        n = openpyxl.load_workbook(book)["Findings"].max_row - 1
        rows: dict[int, dict[str, Any]] = {r: {"Coder response": "agree"} for r in range(1, n + 1)}
        if i == 0 and disagree_first:
            rows[1] = {"Coder response": "disagree", "Coder comment": "The note supports it."}
        out = _fill_review(book, cwd / "returned" / book.name, "Findings", rows)
        paths.append(f"returned/{out.name}")
    return paths


def _disagree_without_comment(base: Base, cwd: Path) -> list[str]:
    audit = _round_copy(base, cwd)
    book = _round_book(audit)
    _fill_review(
        book, cwd / "returned" / book.name, "Findings", {1: {"Coder response": "disagree"}}
    )
    return ["collect", "q1-audit", f"returned/{book.name}"]


def _rebuttal_other_audit(base: Base, cwd: Path) -> list[str]:
    _round_copy(base, cwd)
    book = _round_book(base.root / "round-other")
    (cwd / "returned").mkdir()
    shutil.copy(book, cwd / "returned" / book.name)
    return ["collect", "q1-audit", f"returned/{book.name}"]


def _rebuttal_row_edited(base: Base, cwd: Path) -> list[str]:
    audit = _round_copy(base, cwd)
    book = _round_book(audit)
    _fill_review(book, cwd / "returned" / book.name, "Findings", {1: {"Rationale": "Rewritten."}})
    return ["collect", "q1-audit", f"returned/{book.name}"]


def _auditor_after_round(base: Base, cwd: Path) -> list[str]:
    _round_copy(base, cwd)
    out = fill_book(
        base.root / "round-audit" / "workbooks" / "W1-ann.xlsx", cwd / "returned" / "W1-ann.xlsx"
    )
    return ["collect", "q1-audit", f"returned/{out.name}"]


def _second_round(base: Base, cwd: Path) -> list[str]:
    _round_copy(base, cwd)
    return ["rebuttals", "q1-audit"]


def _round_outstanding(base: Base, cwd: Path) -> list[str]:
    audit = copy_audit(base, cwd)
    out = fill_book(audit / "workbooks" / "W1-ann.xlsx", cwd / "returned" / "W1-ann.xlsx", errors=2)
    _collected(["collect", "q1-audit", f"returned/{out.name}"], cwd)
    return ["rebuttals", "q1-audit"]


def _round_no_errors(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd, "scored-audit").rename(cwd / "q1-audit")
    return ["rebuttals", "q1-audit"]


def _due_past(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd, "scored-audit").rename(cwd / "q1-audit")
    return ["rebuttals", "q1-audit", "--due", "2020-01-31"]


def _due_not_a_date(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd, "scored-audit").rename(cwd / "q1-audit")
    return ["rebuttals", "q1-audit", "--due", "15/05/2026"]


def _decisions_no_round(base: Base, cwd: Path) -> list[str]:
    copy_audit(base, cwd, "scored-audit").rename(cwd / "q1-audit")
    return ["decisions", "q1-audit"]


def _decisions_no_dispute(base: Base, cwd: Path) -> list[str]:
    _round_copy(base, cwd)
    return ["decisions", "q1-audit"]


def _collected(argv: list[str], cwd: Path) -> None:
    code, _, err = run_cli(argv, cwd)
    assert code == 0, err


def _close_open_dispute(base: Base, cwd: Path) -> list[str]:
    _round_copy(base, cwd)
    _collected(["collect", "q1-audit", *_answered(cwd / "q1-audit", cwd)], cwd)
    return ["close", "q1-audit"]


def _close_before_due(base: Base, cwd: Path) -> list[str]:
    _round_copy(base, cwd)
    return ["close", "q1-audit"]


def _decided(cwd: Path, values: dict[str, Any]) -> list[str]:
    _collected(["collect", "q1-audit", *_answered(cwd / "q1-audit", cwd)], cwd)
    _collected(["decisions", "q1-audit"], cwd)
    out = _fill_review(
        cwd / "q1-audit" / "decisions" / "decisions.xlsx",
        cwd / "returned" / "decisions.xlsx",
        "Disputes",
        {1: values},
    )
    return ["collect", "q1-audit", f"returned/{out.name}"]


def _modified_invalid(base: Base, cwd: Path) -> list[str]:
    _round_copy(base, cwd)
    return _decided(
        cwd,
        {
            "Decision": "modified",
            "Decision rationale": "Partly supported.",
            "Decided by": "Lee",
            "Decision date": dt.datetime.now(dt.UTC).date(),
            "Final principal dx": "E11",
            "Final amount": -5,
        },
    )


def _decision_incomplete(base: Base, cwd: Path) -> list[str]:
    _round_copy(base, cwd)
    return _decided(cwd, {"Decision": "upheld"})


def _collect_after_close(base: Base, cwd: Path) -> list[str]:
    _round_copy(base, cwd)
    answered = _answered(cwd / "q1-audit", cwd, disagree_first=False)
    _collected(["collect", "q1-audit", *answered[1:]], cwd)
    _collected(["close", "q1-audit", "--early"], cwd)
    return ["collect", "q1-audit", answered[0]]


CASES: dict[str, Case] = {
    # universe file
    "Universe file not found": Case(_universe_missing, ("export.csv", "--universe")),
    "A mapped column is missing": Case(
        universe_case(_no_coder), ("export.csv", "coder_id", "columns.coder")
    ),
    "Duplicate unit ids": Case(universe_case(_dup), ("export.csv", "encounter_id", "rows 4, 7")),
    "An amount is not a number": Case(
        universe_case(_not_number), ("export.csv", "paid_amount", "row 5")
    ),
    "Negative amount": Case(universe_case(_negative), ("export.csv", "billed_amount", "row 9")),
    "Duplicate unit ids among excluded rows": Case(
        universe_case(_dup_excluded), ("export.csv", "encounter_id", "rows 5, 8")
    ),
    "Header row not found": Case(_title_only, ("export.csv", "row 1")),
    "A date in a filter is not a date": Case(
        plan_case(_text_date_filter), ("frame.filters[1].value", "9/31/2026")
    ),
    "A shipped preset used with another export": Case(
        _preset_as_is, ("quarterly-coder-review", "audit-kit init")
    ),
    "Empty file": Case(raw_universe(b""), ("export.csv",)),
    "Header row only": Case(_header_only, ("export.csv",)),
    "Binary file": Case(raw_universe(bytes(range(256)) * 20), ("export.csv",)),
    "Wrong text encoding": Case(
        raw_universe(_latin1(), "--encoding", "utf-8"), ("export.csv", "line 2")
    ),
    # databases
    "Database table not found": Case(
        duckdb_case(argv=[*DB_SAMPLE[:6], "claim", *DB_SAMPLE[7:]]), ("claims.duckdb", "claim")
    ),
    "Database file not found": Case(
        duckdb_case(argv=[*DB_SAMPLE[:4], "duckdb:///claim.duckdb", *DB_SAMPLE[5:]]),
        ("claim.duckdb",),
    ),
    "NULL unit ids in a database table": Case(
        duckdb_case(
            "UPDATE claims SET encounter_id = NULL WHERE encounter_id IN "
            "(SELECT encounter_id FROM claims ORDER BY 1 LIMIT 2)"
        ),
        ("claims.duckdb", "encounter_id", "2 rows"),
    ),
    "Duplicate unit ids in a database table": Case(
        duckdb_case(
            "UPDATE claims SET encounter_id = (SELECT min(encounter_id) FROM claims) "
            "WHERE encounter_id = (SELECT max(encounter_id) FROM claims)"
        ),
        ("claims.duckdb", "encounter_id", "2 rows"),
    ),
    "Password in the database URL": Case(
        duckdb_case(
            argv=[
                *SAMPLE[:4],
                "postgresql://auditor:hunter2@db.example.org/claims",
                "--table",
                "claims",
                *SAMPLE[5:],
            ]  # fmt: skip
        ),
        ("--universe", "not shown"),
    ),
    "Database server unreachable": Case(
        duckdb_case(
            argv=[
                *SAMPLE[:4],
                "postgresql://auditor@/claims?host=/nonexistent&port=5432",
                "--table",
                "claims",
                *SAMPLE[5:],
            ]  # fmt: skip
        ),
        ("--universe", "/nonexistent"),
    ),
    # sampling plan
    "Unknown key in the plan": Case(plan_case(_unknown_key), ("plan.yaml", "size.per_stratun")),
    "Wrong value in the plan": Case(plan_case(_wrong_value), ("plan.yaml", "rng.generator")),
    "Two mistakes at once": Case(
        plan_case(_two_mistakes), ("plan.yaml", "spares", "rng.generator")
    ),
    "A password written in the plan": Case(
        plan_case(_password_in_plan), ("plan.yaml", "workbook.protect_password")
    ),
    "Unknown preset": Case(plan_case(lambda d: None, plan="no-such-preset"), ("no-such-preset",)),
    "Negative band edges": Case(
        plan_case(_negative_edges), ("plan.yaml", "design.strata.dollar_bands")
    ),
    "Risk adjustment without its demographic columns": Case(
        plan_case(_hcc_unmapped), ("plan: columns.orec", "plan: columns.months")
    ),
    # sampling design
    "Sample size larger than the frame": Case(plan_case(_n_too_big), ("size.n", "N = 294")),
    "Double-review subsample larger than the sample": Case(
        plan_case(_double_review_too_big), ("double_review.units", "24")
    ),
    "Empty stratum": Case(plan_case(_empty_stratum), ("paid >= 100,000,000", "skip_empty")),
    "No units left after the frame filters": Case(
        plan_case(_filters_leave_nothing), ("export.csv", "frame.filters")
    ),
    "Output folder not empty": Case(_non_empty_out, ("q1-audit",)),
    # workbooks and collect
    "Returned file not found": Case(_missing_return, ("returned/W1-ann.xlsx",)),
    "Workbook from another audit": Case(
        collect_case(lambda ws, cols, rows: None, audit="other-audit"),
        ("returned/W1-ann.xlsx", "_audit"),
    ),
    "Original cell edited": Case(collect_case(_edit_original), ("returned/W1-ann.xlsx", "Sample!")),
    "Invalid review status": Case(
        collect_case(review_first(Review_status="done")), ("returned/W1-ann.xlsx", "Sample!")
    ),
    "Malformed ICD-10-CM code": Case(
        collect_case(review_first(Audited_principal_dx="E11.9X9Z")),
        ("returned/W1-ann.xlsx", "Sample!"),
    ),
    "Non-billable ICD-10-CM category": Case(
        collect_case(review_first(Audited_principal_dx="E11")),
        ("returned/W1-ann.xlsx", "Sample!"),
    ),
    "Negative audited amount": Case(
        collect_case(review_first(Audited_amount=-50)), ("returned/W1-ann.xlsx", "Sample!")
    ),
    "Code typed with a space": Case(
        collect_case(review_first(Audited_principal_dx="E 11.9")),
        ("returned/W1-ann.xlsx", "Sample!", "did you mean E11.9?"),
    ),
    "Row added": Case(collect_case(_added_row), ("returned/W1-ann.xlsx", "Sample!A")),
    "Row deleted": Case(collect_case(_deleted_row), ("returned/W1-ann.xlsx", "Sample, unit")),
    "Encrypted workbook without a password": Case(_encrypted, ("returned/W1-ann.xlsx",)),
    "Workbooks again after returns were collected": Case(
        _reissue, ("q1-audit/findings.csv", "--open-units-only")
    ),
    "No open units to issue": Case(_reissue_nothing_open, ("q1-audit/findings.csv",)),
    "Scoring before collecting": Case(_score_first, ("q1-audit/findings.csv",)),
    # integrity
    "Verify after a file was edited": Case(_verify_edited, ("q1-audit", "sample.csv")),
    "Workbook filled in place, not collected yet": Case(
        _filled_in_place, ("q1-audit/workbooks/W1-ann.xlsx", "audit-kit collect")
    ),
    # audit programs
    "Trend of an unscored audit": Case(_trend_unscored, ("q1-audit/results.json",)),
    "Trend of an audit that fails verification": Case(_trend_edited, ("q1-audit", "sample.csv")),
    "Trend output folder not empty": Case(_trend_out_not_empty, ("notes",)),
    "Cadence rules with mistakes": Case(
        _trend_rules, ("rules.yaml", "rules[1].next_in_months", "rules[1].kind")
    ),
    # statistics commands
    "More errors than sampled items": Case(
        stats("appraise", "attribute", "--population", "1000", "--sample", "50", "--errors", "60"),
        ("errors",),
    ),
    "More correct codes than reviewed": Case(
        _accuracy_counts, ("coder-sample.csv row 3", "coder-sample.csv row 4")
    ),
    "Seed out of range (ratstats)": Case(
        stats("random-numbers", "--seed", "-5", "--low", "1", "--high", "100", "--count", "5"),
        ("seed",),
    ),
    "Seed not a whole number (pcg64)": Case(
        stats(
            "random-numbers",
            "--seed",
            "5.5",
            "--low",
            "1",
            "--high",
            "100",
            "--count",
            "5",
            "--generator",
            "pcg64",
        ),
        ("seed",),
    ),  # fmt: skip
    # report templates
    "Reporting before scoring": Case(_report_first, ("q1-audit/results.json",)),
    # rebuttal round
    "Rebuttal round while units are outstanding": Case(_round_outstanding, ("findings.csv",)),
    "No finding with an error": Case(_round_no_errors, ("findings.csv",)),
    "Due date in the past": Case(_due_past, ("--due",)),
    "Due date not a date": Case(_due_not_a_date, ("--due",)),
    "A second rebuttal round": Case(_second_round, ("rebuttals/round.json",)),
    "Disagreement without a comment": Case(
        _disagree_without_comment, ("returned/", "Findings!", "Coder comment")
    ),
    "Rebuttal workbook from another audit": Case(_rebuttal_other_audit, ("returned/", "_audit")),
    "Finding edited in a rebuttal workbook": Case(_rebuttal_row_edited, ("Findings row 2",)),
    "Auditor workbook after the round opened": Case(_auditor_after_round, ("W1-ann.xlsx",)),
    "Decisions without a round": Case(_decisions_no_round, ("rebuttals/round.json",)),
    "Decisions without a dispute": Case(_decisions_no_dispute, ("responses.csv",)),
    "Modified decision with invalid codes": Case(
        _modified_invalid, ("returned/decisions.xlsx", "Disputes!")
    ),
    "Decision without rationale": Case(_decision_incomplete, ("Disputes!",)),
    "Closing with an open dispute": Case(_close_open_dispute, ("decisions/decisions.xlsx",)),
    "Closing before the due date": Case(_close_before_due, ("--early",)),
    "Collecting after the round closed": Case(_collect_after_close, ("returned/",)),
    "Template syntax error": Case(template_case(_syntax), ("my-templates/report.html", "line 1")),
    "Template uses an undefined value": Case(
        template_case(_undefined), ("my-templates/report.html", "line 1")
    ),
    "Template loads a file outside the template folders": Case(
        template_case(_outside), ("/etc/passwd",)
    ),
}


# -- running --------------------------------------------------------------------------------------


def run_cli(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(argv)
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return make_base(tmp_path_factory.mktemp("error-reference-base"))


def test_every_documented_error_has_a_case_and_back() -> None:
    headings = [
        line[4:].strip() for line in DOC.read_text("utf-8").splitlines() if line.startswith("### ")
    ]
    assert len(headings) == len(set(headings)), "duplicate headings in docs/errors.md"
    assert set(headings) == set(CASES), (
        f"documented without a case: {sorted(set(headings) - set(CASES))}; "
        f"cases not documented: {sorted(set(CASES) - set(headings))}"
    )
    assert set(documented()) == set(headings), "every heading needs an ```text Error: block"


@pytest.mark.parametrize("heading", list(CASES))
def test_documented_error(
    heading: str, base: Base, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDIT_KIT_DEBUG", raising=False)
    case = CASES[heading]
    argv = case.setup(base, tmp_path)
    code, _, err = run_cli(argv, tmp_path)
    assert code == 1, f"exit {code}:\n{err}"
    assert "Traceback" not in err
    assert "Internal error" not in err
    for name in case.names:
        assert name in err, f"{name!r} not named in:\n{err}"
    printed = [line.rstrip() for line in err.splitlines()]
    message = documented()[heading]
    for line in message.splitlines():
        pattern = line_pattern(line)
        assert any(pattern.fullmatch(p) for p in printed), (
            f"documented line not printed:\n{line}\n--- stderr\n{err}"
        )


if __name__ == "__main__":  # print what every case prints today
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        shared = make_base(Path(tmp) / "base")
        for name, case in CASES.items():
            cwd = Path(tmp) / re.sub(r"\W+", "-", name)
            cwd.mkdir()
            code, _, err = run_cli(case.setup(shared, cwd), cwd)
            lines = [line for line in err.splitlines() if not line.startswith("... ")]
            sys.stdout.write(f"### {name}\nexit {code}\n" + "\n".join(lines) + "\n\n")
