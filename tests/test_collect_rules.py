"""The one check of a returned workbook (findings/_check.py) under edits of a real return.

Every value of every finding column alone, and random edits of a real return's Sample grid
(bad and unusual but valid cells, changed originals, rows deleted, duplicated, re-sorted,
blanked, added): problems name the cell and its unit, come in sheet order, and a return that
only moved rows is as clean as the one it came from.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wb_helpers import PLAN, fill, make_audit

from audit_kit.errors import Problem
from audit_kit.findings import _SampleRows
from audit_kit.findings._check import _validate
from audit_kit.findings._records import FINDINGS_COLUMNS, _Return
from audit_kit.folder.manifest import AuditFolder
from audit_kit.plan import SamplingPlan
from audit_kit.workbook import (
    FINDING_HEADERS,
    ReturnedSheet,
    WorkbookLayout,
    code_reader,
    load_audit,
    load_layouts,
    read_returned,
    row_digest,
    row_digests,
    write_workbooks,
)


@dataclass(frozen=True)
class Case:
    """One issued workbook returned filled, read back, and what validating it needs."""

    sheet: ReturnedSheet
    unfilled: ReturnedSheet  # the workbook as issued
    layout: WorkbookLayout
    plan: SamplingPlan
    sample_rows: _SampleRows


def _case(tmp: Path, *, plan: dict[str, Any], auditors: list[str] | None) -> Case:
    audit = make_audit(tmp, n=16, spares=1, plan=plan)
    book = write_workbooks(audit, auditors=auditors)[0]
    folder = AuditFolder.open(audit)
    loaded_plan, sample = load_audit(folder)
    layout = load_layouts(folder)[book.stem]
    units = [u["unit_id"] for u in layout.units]
    entries: dict[str, dict[str, Any]] = {
        u: {"Review status": "reviewed", "Review date": "2026-03-02"} for u in units[:-1]
    }
    entries[units[0]] |= {"Audited principal dx": "E11.65", "Error category": "coding"}
    entries[units[1]] = {"Review status": "record missing", "Review date": "2026-03-03"}
    entries[units[2]] = {"Review status": "not reviewed", "Rationale": "chart locked"}
    if not layout.auditor:
        for values in entries.values():
            values["Auditor"] = "ann"
    returned = fill(book, tmp / "returned.xlsx", entries)
    sheet, problems = read_returned(returned.read_bytes(), where="r.xlsx")
    unfilled, unfilled_problems = read_returned(book.read_bytes(), where="r.xlsx")
    assert sheet is not None and unfilled is not None and not problems + unfilled_problems
    return Case(
        sheet=sheet,
        unfilled=unfilled,
        layout=layout,
        plan=loaded_plan,
        sample_rows=_SampleRows(sample, loaded_plan.columns.unit_id),
    )


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    fee = copy.deepcopy(PLAN) | {"financial": {"basis": "fee_schedule"}}
    double = copy.deepcopy(PLAN)
    double["workbook"]["double_review"] = 0.5
    return [
        # one workbook per auditor, amounts entered by the auditor, some units reviewed twice
        _case(tmp_path_factory.mktemp("per-auditor"), plan=double, auditors=["ann", "bob"]),
        # one workbook for all (the Auditor cell names who reviewed), amounts from a schedule
        _case(tmp_path_factory.mktemp("for-all"), plan=fee, auditors=None),
    ]


def _fresh(case: Case) -> _Return:
    return _Return(
        path=Path("r.xlsx"),
        name="r.xlsx",
        order=0,
        sha="ab" * 32,
        raw=b"",
        layout=case.layout,
        modified="",
    )


def _state(ret: _Return) -> tuple[Any, ...]:
    return (ret.records, ret.roles, ret.identity, ret.notes, ret.digests)


# Per finding column: its valid values written differently, near misses, and junk.
FINDING_VALUES: dict[str, list[str | None]] = {
    "Review status": [None, "", " ", "reviewed", " Reviewed ", "REVIEWED", "record  missing",
                      "not reviewed", "done"],
    "Audited principal dx": ["E11.9", "e119", "E11.65", "E11.65; I10", "E11", "Z99.999", "", None],
    "Audited other dx": ["I10", "e119; i10", "E11.9;E11.65", "", "E11", "Z99.999"],
    "Audited procedures": ["0DTJ4ZZ", "0dtj4zz", "", "0DTJ4Z"],
    "Audited CPT/HCPCS": ["99214-25", "99214-25;93000", "99214-ZZ", "g0439", "", None],
    "Audited DRG": ["065", "65", "065;871", "9999", "", None],
    "Audited amount": ["1000", "1,037.50", "$12", " 7 ", "-1", "1e3", "nan", "abc", "", " ", None],
    "Error category": ["coding", " Medical  Necessity", "billing", "", "OTHER", None],
    "Rationale": ["text", "", None, "=1+1", "line\r\nbreak"],
    "Reference": ["ICD-10-CM I.A.19", "", None],
    "Auditor": ["ann", "", " ", None, "bob"],
    "Review date": ["2026-03-02", "03/02/2026", "2026-03-02 00:00:00", "2026-13-01", "1999-12-31",
                    "2999-01-01", "", None, "3/2/26"],
    "Coder response": ["agree", "Disagree ", "maybe", "", None],
    "Coder comment": ["ok", "", None],
}  # fmt: skip
# Original cells: unchanged-looking values, junk, and other units' ids.
ORIGINAL_VALUES = st.sampled_from(
    [None, "", " ", "E0001", "E0003", "E9999", "C1", "2026-01-10", "1000", "line\r\nbreak"]
)
EDIT = st.one_of(
    st.tuples(st.just("cell"), st.integers(0, 40), st.integers(0, 30), ORIGINAL_VALUES),
    st.sampled_from(FINDING_HEADERS).flatmap(
        lambda h: st.tuples(
            st.just("finding"), st.integers(0, 40), st.just(h), st.sampled_from(FINDING_VALUES[h])
        )
    ),
    st.tuples(
        st.sampled_from(["delete", "duplicate", "blank", "spaces", "swap"]), st.integers(0, 40)
    ),
)


def _edited(sheet: ReturnedSheet, edits: list[tuple[Any, ...]]) -> ReturnedSheet:
    columns = [list(c) for c in sheet.columns]
    header = [c[0] for c in columns]
    for edit in edits:
        kind, at = edit[0], edit[1]
        height = len(columns[0]) - 1
        row = 1 + at % max(height, 1)
        if kind == "cell" and height:
            columns[edit[2] % len(columns)][row] = edit[3]
        elif kind == "finding" and height:
            columns[header.index(edit[2])][row] = edit[3]
        elif kind == "delete" and height:
            for c in columns:
                del c[row]
        elif kind == "duplicate" and height:
            for c in columns:
                c.append(c[row])
        elif kind in ("blank", "spaces"):
            for c in columns:
                c.insert(row, None if kind == "blank" else " ")
        elif kind == "swap" and height > 1:
            other = 1 + (at + 1) % height
            for c in columns:
                c[row], c[other] = c[other], c[row]
    return ReturnedSheet(meta=dict(sheet.meta), columns=columns)


_REF = re.compile(r"Sample!([A-Z]+)(\d+) \(unit ([^)]+)\)$")


def _check(case: Case, sheet: ReturnedSheet) -> tuple[list[Problem], _Return]:
    ret = _fresh(case)
    problems = _validate(
        ret,
        sheet,
        plan=case.plan,
        sample_rows=case.sample_rows,
        read_codes=code_reader(case.plan),
    )
    return problems, ret


def _rows_named(problems: list[Problem]) -> list[int]:
    """The Excel row of each problem that names a cell (in the order given)."""
    out = []
    for p in problems:
        m = _REF.search(p.where) or re.search(r"Sample!A(\d+)$|Sample row (\d+)", p.where)
        if m is not None:
            out.append(int(m.group(2) if m.lastindex == 3 else m.group(1) or m.group(2)))
    return out


def test_every_single_finding_edit(cases: list[Case]) -> None:
    """Each value of each finding column, in rows of each status (and of none), alone.

    A problem (if any) names the edited cell's row and its unit; a value the rule accepts
    leaves a record of every row with a status, in FINDINGS_COLUMNS order.
    """
    clean = 0
    for case in cases:
        height = len(case.sheet.columns[0]) - 1
        units = case.sheet.columns[0][1:]
        for header, values in FINDING_VALUES.items():
            for value in values:
                for at in range(height):
                    sheet = _edited(case.sheet, [("finding", at, header, value)])
                    problems, ret = _check(case, sheet)
                    for p in problems:
                        m = _REF.search(p.where)
                        assert m is not None, p.where
                        assert (int(m.group(2)), m.group(3)) == (at + 2, units[at]), p
                        assert p.fix
                    if not problems:
                        clean += 1
                        assert all(tuple(r) == FINDINGS_COLUMNS for r in ret.records.values())
    assert clean > 500  # most of these are valid values: the clean path is exercised


def test_two_notes_in_sheet_order(cases: list[Case]) -> None:
    """Notes come in sheet order (by row, then column), whatever order the columns are read."""
    case = cases[0]
    reviewed = 4  # the fifth unit's row: reviewed, nothing else entered
    edits = [
        ("finding", reviewed, "Audited principal dx", "e119"),
        ("finding", reviewed - 1, "Audited DRG", "65"),
    ]
    problems, ret = _check(case, _edited(case.sheet, edits))
    assert problems == []
    assert [n.split(":")[0] for n in ret.notes] == [
        f"Sample!{_letter(case, 'Audited DRG')}{reviewed + 1}",
        f"Sample!{_letter(case, 'Audited principal dx')}{reviewed + 2}",
    ]


def _letter(case: Case, header: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(case.sheet.header.index(header) + 1)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(which=st.integers(0, 1), edits=st.lists(EDIT, max_size=4))
def test_random_edits_give_problems_in_sheet_order(
    cases: list[Case], which: int, edits: list[tuple[Any, ...]]
) -> None:
    """Random combinations of edits, rows moved, deleted, duplicated, blanked.

    The check never fails on them; problems come top to bottom (rows never go back); a unit's
    deleted row is reported by unit after every row; an edit-free return or one with only rows
    moved or blank rows added has no problem and the same records as the unedited return.
    """
    case = cases[which]
    sheet = _edited(case.sheet, edits)
    problems, ret = _check(case, sheet)
    rows = _rows_named(problems)
    assert rows == sorted(rows)
    deleted = [i for i, p in enumerate(problems) if p.found == "no row (deleted)"]
    assert deleted == list(range(len(problems) - len(deleted), len(problems)))
    if all(e[0] in ("swap", "blank") for e in edits):
        assert problems == []
        assert ret.records == _check(case, case.sheet)[1].records


def test_the_unedited_returns_are_clean(cases: list[Case]) -> None:
    for case in cases:
        problems, ret = _check(case, case.sheet)
        assert problems == []
        assert ret.records
        statuses = {r["review_status"] for r in ret.records.values()}
        assert statuses == {"reviewed", "record missing", "not reviewed"}
        missing = [r for r in ret.records.values() if r["review_status"] == "record missing"]
        assert [r["audited_amount"] for r in missing] == ["0.0"]  # the whole amount at stake
    assert any(u["role"] == "second" for u in cases[0].layout.units)  # roles are told apart
    assert set(cases[0].layout.units[0]) >= {"unit_id", "role"}


def test_a_return_with_nothing_reviewed_yet(cases: list[Case]) -> None:
    for case in cases:
        problems, ret = _check(case, case.unfilled)
        assert (problems, ret.records, ret.notes) == ([], {}, [])


@given(st.lists(st.lists(st.text(max_size=12), min_size=3, max_size=3), max_size=20))
def test_row_digests_are_row_digest_of_each_row(rows: list[list[str]]) -> None:
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[], [], []]
    assert row_digests(columns) == [row_digest(r) for r in rows]
    assert row_digest(["E1", "12.5"]) == hashlib.sha256(b"2:E14:12.5").hexdigest()
