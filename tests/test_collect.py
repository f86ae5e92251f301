"""collect: accept good returns, reject every bad cell by name, merge, supersede, conflict."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from wb_helpers import PLAN, REVIEWED, fill, fill_all, headers, make_audit, read_csv, unit_rows

from audit_kit.errors import AuditError, WorkbookError
from audit_kit.findings import FINDINGS_COLUMNS, collect
from audit_kit.folder.manifest import AuditFolder, Transaction, file_sha256
from audit_kit.workbook import write_workbooks


@pytest.fixture
def issued(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """An audit of 6 units (1 spare) issued to ann and bob."""
    audit = make_audit(tmp_path)
    paths = write_workbooks(audit, auditors=["ann", "bob"])
    return audit, {p.stem.removeprefix("W1-"): p for p in paths}


def units_of(book: Path) -> list[str]:
    layout = json.loads(book.with_suffix(".json").read_text())
    return [u["unit_id"] for u in layout["units"] if not u["spare"]]


def test_complete_return_is_accepted(issued: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    audit, books = issued
    ann = fill_all(books["ann"], tmp_path / "back" / "ann.xlsx")
    summary = collect(audit, [ann])
    assert summary.changed
    (item,) = summary.files
    assert item.status == "accepted" and item.workbook_id == "W1-ann"
    findings = read_csv(audit / "findings.csv")
    assert findings.columns == list(FINDINGS_COLUMNS)
    assert sorted(findings["unit_id"].to_list()) == sorted(units_of(books["ann"]))
    row = findings.filter(findings["unit_id"] == "E0001").to_dicts()[0]
    assert row["auditor"] == "ann"
    assert row["review_status"] == "reviewed"
    assert row["audited_principal_dx"] == "E11.9"
    assert row["audited_other_dx"] == "I10"
    assert row["audited_cpt"] == "99214-25;93000"
    assert row["audited_drg"] == "065"
    assert float(row["audited_amount"]) == 1000.0
    assert row["review_date"] == "2026-03-02"
    assert row["source_sha256"] == file_sha256(ann)
    folder = AuditFolder.open(audit)
    assert folder.has(f"returned/{file_sha256(ann)}.xlsx")
    assert (audit / "returned" / f"{file_sha256(ann)}.xlsx").read_bytes() == ann.read_bytes()
    assert folder.events[-1]["command"] == "collect"
    assert folder.verify_hashes() == []


def test_normalisations_are_notes(issued: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    audit, books = issued
    # E0005 has the original principal dx 'e119' (lower case, no dot) in the universe.
    book = books["ann"] if "E0005" in units_of(books["ann"]) else books["bob"]
    out = fill(book, tmp_path / "r.xlsx", {"E0005": {**REVIEWED, "Audited DRG": "65"}})
    summary = collect(audit, [out])
    notes = summary.files[0].notes
    # Notes only about what the auditor entered: the pre-filled 'e119' (as the billing system
    # wrote it, left by the auditor) is recorded as E11.9 without a note; the DRG typed is noted.
    assert not any("e119" in n for n in notes)
    assert len(notes) == 1 and "'65' read as 065" in notes[0]
    row = read_csv(audit / "findings.csv").to_dicts()[0]
    assert (row["audited_principal_dx"], row["audited_drg"]) == ("E11.9", "065")


def test_partial_return_progress(issued: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    audit, books = issued
    first, second, *_ = units_of(books["ann"])
    out = fill(
        books["ann"],
        tmp_path / "partial.xlsx",
        {
            first: REVIEWED,
            second: {"Review status": "not reviewed", "Rationale": "chart locked"},
        },
    )
    summary = collect(audit, [out])
    progress = {p.auditor: p for p in summary.progress}
    assert (progress["ann"].done, progress["ann"].assigned) == (1, 3)
    assert progress["ann"].not_reviewed == 1 and progress["ann"].pending == 1
    assert (progress["bob"].done, progress["bob"].assigned) == (0, 2)
    assert "3 unit(s) still to review" in summary.next_step
    assert len(read_csv(audit / "findings.csv")) == 2


def test_recollecting_the_same_file_is_a_no_op(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    audit, books = issued
    ann = fill_all(books["ann"], tmp_path / "ann.xlsx")
    collect(audit, [ann])
    before = (audit / "findings.csv").read_bytes()
    events = len(AuditFolder.open(audit).events)
    copy = tmp_path / "copy-of-ann.xlsx"
    copy.write_bytes(ann.read_bytes())
    # the file again, its folder (ann.xlsx once more, and the copy; not the audit's own files)
    summary = collect(audit, [ann, tmp_path])
    assert not summary.changed
    assert sorted(f.status for f in summary.files) == ["already collected", "duplicate"]
    assert (audit / "findings.csv").read_bytes() == before
    assert len(AuditFolder.open(audit).events) == events


def test_the_audits_own_files_are_skipped_through_links(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    audit, books = issued
    ann = fill_all(books["ann"], tmp_path / "back" / "ann.xlsx")
    collect(audit, [ann])
    (stored,) = (audit / "returned").iterdir()
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "link.xlsx").symlink_to(stored)  # a link to a stored return: not a return
    with pytest.raises(AuditError) as info:
        collect(audit, [drop])
    assert info.value.problems[0].found == "no .xlsx files"
    # a link to the folder holding the audit: its own workbooks and returns are not returns
    (tmp_path / "everything").symlink_to(tmp_path, target_is_directory=True)
    summary = collect(audit, [tmp_path / "everything"])
    assert [(Path(f.path).name, f.status) for f in summary.files] == [
        ("ann.xlsx", "already collected")
    ]


def test_newer_return_supersedes_and_the_log_says_so(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    audit, books = issued
    unit = units_of(books["ann"])[0]
    v1 = fill(books["ann"], tmp_path / "v1.xlsx", {unit: REVIEWED})
    collect(audit, [v1])
    v2 = fill(
        v1,
        tmp_path / "v2.xlsx",
        {unit: {"Audited principal dx": "E11.65", "Error category": "coding"}},
    )
    summary = collect(audit, [v2])
    assert [s["unit_id"] for s in summary.superseded] == [unit]
    assert summary.superseded[0]["previous_sha256"] == file_sha256(v1)
    row = read_csv(audit / "findings.csv").to_dicts()[0]
    assert (row["audited_principal_dx"], row["error_category"]) == ("E11.65", "coding")
    assert row["source_sha256"] == file_sha256(v2)
    event = AuditFolder.open(audit).events[-1]
    assert event["details"]["superseded"][0]["unit_id"] == unit
    assert event["details"]["superseded"][0]["reason"] == "newer return"
    # Both returns are kept, by hash.
    assert (audit / "returned" / f"{file_sha256(v1)}.xlsx").is_file()
    assert (audit / "returned" / f"{file_sha256(v2)}.xlsx").is_file()


def test_two_auditors_for_one_unit_conflict(tmp_path: Path) -> None:
    audit = make_audit(tmp_path)
    (book,) = write_workbooks(audit)  # one workbook for all, copied to two people
    ann = fill_all(book, tmp_path / "ann.xlsx", auditor="ann")
    collect(audit, [ann])
    before = (audit / "findings.csv").read_bytes()
    bob = fill_all(book, tmp_path / "bob.xlsx", auditor="bob")
    with pytest.raises(WorkbookError) as info:
        collect(audit, [bob])
    assert "two auditors" in info.value.summary
    problem = info.value.problems[0]
    assert problem.where.startswith(f"{tmp_path / 'bob.xlsx'}, Sample, unit E")
    assert "'bob' here and 'ann'" in problem.found
    assert (audit / "findings.csv").read_bytes() == before


def test_reissued_unit_takes_the_later_auditor(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    audit, books = issued
    unit, *rest = units_of(books["ann"])
    # ann returns all but one unit; that open unit (only) is re-issued to carol
    partial = fill(books["ann"], tmp_path / "ann-partial.xlsx", dict.fromkeys(rest, REVIEWED))
    collect(audit, [partial])
    csv = tmp_path / "reassign.csv"
    rows = [f"{unit},carol", *(f"{u},bob" for u in units_of(books["bob"]))]
    csv.write_text("unit_id,auditor\n" + "\n".join(rows) + "\n")
    papers = {p.stem: p for p in write_workbooks(audit, assignment=csv, open_units_only=True)}
    assert units_of(papers["W2-carol"]) == [unit]  # ann's collected units stay hers
    # ann's late return of the unit, then carol's: the later issue's findings stand
    collect(audit, [fill_all(books["ann"], tmp_path / "ann.xlsx")])
    carol = fill(papers["W2-carol"], tmp_path / "carol.xlsx", {unit: REVIEWED})
    summary = collect(audit, [carol])
    assert summary.superseded[0]["reason"] == "re-issued to another auditor"
    row = read_csv(audit / "findings.csv").filter(lambda_unit(unit)).to_dicts()[0]
    assert row["auditor"] == "carol"


def lambda_unit(unit: str) -> object:
    import polars as pl

    return pl.col("unit_id") == unit


def test_double_review_goes_to_its_own_file(tmp_path: Path) -> None:
    plan = json.loads(json.dumps(PLAN))
    plan["workbook"]["double_review"] = 0.4
    audit = make_audit(tmp_path, n=6, spares=0, plan=plan)
    ann_book, bob_book = write_workbooks(audit, auditors=["ann", "bob"])
    ann = fill_all(ann_book, tmp_path / "ann.xlsx")
    bob = fill_all(bob_book, tmp_path / "bob.xlsx")
    summary = collect(audit, [ann, bob])
    findings = read_csv(audit / "findings.csv")
    double = read_csv(audit / "double_review.csv")
    assert len(findings) == 6  # every unit once, from its primary auditor
    assert summary.double_review == len(double) == 3  # ceil(0.4 * 6)
    assert double.columns == list(FINDINGS_COLUMNS)
    doubles = set(AuditFolder.open(audit).events[1]["details"]["double_review_units"])
    assert set(double["unit_id"].to_list()) == doubles
    for row in double.to_dicts():
        primary = findings.filter(lambda_unit(row["unit_id"])).to_dicts()[0]
        assert primary["auditor"] != row["auditor"]


def test_record_missing_needs_no_codes(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    audit, books = issued
    unit = units_of(books["ann"])[0]
    out = fill(
        books["ann"],
        tmp_path / "r.xlsx",
        {
            unit: {
                "Review status": "Record Missing",
                "Review date": "2026-03-02",
                "Audited principal dx": "",
                "Audited CPT/HCPCS": "not a code",
            }
        },
    )
    collect(audit, [out])
    row = read_csv(audit / "findings.csv").to_dicts()[0]
    assert row["review_status"] == "record missing"
    assert row["audited_principal_dx"] in ("", None) and row["audited_cpt"] in ("", None)
    assert float(row["audited_amount"]) == 0.0


def test_dates_typed_as_dates_or_us_text(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    import datetime as dt

    audit, books = issued
    a, b, c = units_of(books["ann"])
    out = fill(
        books["ann"],
        tmp_path / "r.xlsx",
        {
            a: {"Review status": "reviewed", "Review date": dt.date(2026, 3, 1)},
            b: {"Review status": "reviewed", "Review date": "3/4/2026"},
            c: {"Review status": "reviewed", "Review date": dt.datetime(2026, 3, 5)},
        },
    )
    collect(audit, [out])
    dates = dict(read_csv(audit / "findings.csv").select("unit_id", "review_date").iter_rows())
    assert dates == {a: "2026-03-01", b: "2026-03-04", c: "2026-03-05"}


def test_resorted_rows_are_fine(issued: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    audit, books = issued
    src = fill_all(books["ann"], tmp_path / "filled.xlsx")
    wb = openpyxl.load_workbook(src)
    ws = wb["Sample"]
    rows = [[(c.value, c.data_type, c._style) for c in row] for row in ws.iter_rows(min_row=2)]
    for r, values in enumerate(reversed(rows), start=2):
        for c, (value, data_type, style) in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = value
            cell.data_type = data_type  # a sort moves text as text, formula-like or not
            cell._style = style
    out = tmp_path / "sorted.xlsx"
    wb.save(out)
    collect(audit, [out])
    assert sorted(read_csv(audit / "findings.csv")["unit_id"].to_list()) == sorted(
        units_of(books["ann"])
    )


# -- rejections: each names the cell -----------------------------------------------------------


def cell_ref(book: Path, unit: str, header: str) -> str:
    ws = openpyxl.load_workbook(book)["Sample"]
    col = openpyxl.utils.get_column_letter(headers(ws)[header])
    # the unit id is named beside the cell
    return f"Sample!{col}{unit_rows(ws)[unit]} (unit {unit})"


BAD_ENTRIES: dict[str, tuple[dict[str, object], str, str, str]] = {
    # name: (entries, header, expected fragment, found fragment)
    "status": ({"Review status": "done"}, "Review status", "one of reviewed", "'done'"),
    "category": (
        {**REVIEWED, "Error category": "typo"},
        "Error category",
        "coding, documentation",
        "'typo'",
    ),
    "response": (
        {**REVIEWED, "Coder response": "maybe"},
        "Coder response",
        "agree, disagree",
        "'maybe'",
    ),
    "dx_format": (
        {**REVIEWED, "Audited principal dx": "E1.19"},
        "Audited principal dx",
        "an ICD-10-CM code",
        "'E1.19'",
    ),
    "dx_header": (
        {**REVIEWED, "Audited other dx": "I10; E11"},
        "Audited other dx",
        "billable",
        "'E11'",
    ),
    "dx_unknown": (
        {**REVIEWED, "Audited other dx": "Z99.99"},
        "Audited other dx",
        "code set",
        "'Z99.99'",
    ),
    "two_principal": (
        {**REVIEWED, "Audited principal dx": "E11.9; I10"},
        "Audited principal dx",
        "one code",
        "2 codes",
    ),
    "no_principal": (
        {**REVIEWED, "Audited principal dx": None},
        "Audited principal dx",
        "principal diagnosis",
        "nothing",
    ),
    "pcs": (
        {**REVIEWED, "Audited procedures": "0DTJ4Z"},
        "Audited procedures",
        "7 characters",
        "'0DTJ4Z'",
    ),
    "cpt": ({**REVIEWED, "Audited CPT/HCPCS": "9921"}, "Audited CPT/HCPCS", "CPT/HCPCS", "'9921'"),
    "modifier": (
        {**REVIEWED, "Audited CPT/HCPCS": "99214-19"},
        "Audited CPT/HCPCS",
        "modifiers",
        "'99214-19'",
    ),
    "drg": ({**REVIEWED, "Audited DRG": "12345"}, "Audited DRG", "3 digits", "'12345'"),
    "negative": ({**REVIEWED, "Audited amount": -5}, "Audited amount", "0 or more", "'-5"),
    "text_amount": (
        {**REVIEWED, "Audited amount": "about 100"},
        "Audited amount",
        "0 or more",
        "'about 100'",
    ),
    "no_amount": (
        {**REVIEWED, "Audited amount": None},
        "Audited amount",
        "correct amount",
        "nothing",
    ),
    "bad_date": (
        {"Review status": "reviewed", "Review date": "yesterday"},
        "Review date",
        "yyyy-mm-dd",
        "'yesterday'",
    ),
    "future_date": (
        {"Review status": "reviewed", "Review date": "2099-01-01"},
        "Review date",
        "today",
        "2099-01-01",
    ),
    "no_date": ({"Review status": "reviewed"}, "Review date", "date the unit", "nothing"),
    "status_missing": (
        {"Rationale": "wrong code"},
        "Review status",
        "for a row with findings",
        "Rationale filled in",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_each_bad_value_is_rejected_naming_its_cell(
    case: str, issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    audit, books = issued
    entries, header, expected, found = BAD_ENTRIES[case]
    unit = units_of(books["ann"])[0]
    out = fill(books["ann"], tmp_path / f"{case}.xlsx", {unit: entries})
    with pytest.raises(WorkbookError) as info:
        collect(audit, [out])
    where = f"{out}, {cell_ref(out, unit, header)}"
    matching = [p for p in info.value.problems if p.where == where]
    assert matching, [str(p) for p in info.value.problems]
    assert any(expected in p.expected for p in matching), [p.expected for p in matching]
    assert any(found in p.found for p in matching), [p.found for p in matching]
    assert all(p.fix for p in info.value.problems)
    assert not (audit / "findings.csv").exists()


def edit_sheet(
    src: Path, out: Path, change: Callable[[openpyxl.worksheet.worksheet.Worksheet], None]
) -> Path:
    wb = openpyxl.load_workbook(src)
    change(wb["Sample"])
    wb.save(out)
    return out


def test_changed_original_cell_is_named_without_its_value(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    audit, books = issued
    unit = units_of(books["ann"])[0]
    ref = cell_ref(books["ann"], unit, "coder_id")

    def change(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        ws[ref.split("!")[1].split()[0]].value = "SECRET-PHI-VALUE"

    out = edit_sheet(books["ann"], tmp_path / "changed.xlsx", change)
    with pytest.raises(WorkbookError) as info:
        collect(audit, [out])
    (problem,) = info.value.problems
    assert problem.where == f"{out}, {ref}"
    assert problem.found == "changed"
    assert "SECRET" not in info.value.render()
    assert "C1" not in problem.found and "C2" not in problem.found


def test_added_deleted_and_duplicated_rows(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    audit, books = issued
    units = units_of(books["ann"])
    ws0 = openpyxl.load_workbook(books["ann"])["Sample"]
    rows = unit_rows(ws0)
    last = ws0.max_row

    def change(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        # duplicate the first unit's row at the end, add a foreign unit, delete the second unit
        for c in range(1, ws.max_column + 1):
            ws.cell(row=last + 1, column=c).value = ws.cell(row=rows[units[0]], column=c).value
        ws.cell(row=last + 2, column=1).value = "E9999"
        for c in range(1, ws.max_column + 1):
            ws.cell(row=rows[units[1]], column=c).value = None

    out = edit_sheet(books["ann"], tmp_path / "rows.xlsx", change)
    with pytest.raises(WorkbookError) as info:
        collect(audit, [out])
    found = {(p.where, p.found) for p in info.value.problems}
    assert (
        f"{out}, Sample!A{last + 1}",
        f"unit {units[0]} again (first in row {rows[units[0]]})",
    ) in found
    assert (f"{out}, Sample!A{last + 2}", "unit 'E9999'") in found
    assert (f"{out}, Sample, unit {units[1]}", "no row (deleted)") in found


def test_renamed_header_is_named(issued: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    audit, books = issued

    def change(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        ws.cell(row=1, column=headers(ws)["Error category"]).value = "Category"

    out = edit_sheet(books["ann"], tmp_path / "hdr.xlsx", change)
    with pytest.raises(WorkbookError) as info:
        collect(audit, [out])
    (problem,) = info.value.problems
    assert problem.where == f"{out}, Sample!1:1"
    assert "'Error category'" in problem.expected


def test_workbook_of_another_audit(issued: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    audit, books = issued
    other = make_audit(tmp_path, name="other")
    (foreign,) = write_workbooks(other)
    with pytest.raises(WorkbookError) as info:
        collect(audit, [foreign])
    (problem,) = info.value.problems
    assert problem.where == f"{foreign}, _audit"
    assert AuditFolder.open(audit).audit_id in problem.expected


def test_plain_workbook_is_not_ours(issued: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    audit, _ = issued
    path = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(WorkbookError) as info:
        collect(audit, [path])
    assert "_audit sheet" in info.value.problems[0].expected


def test_all_problems_of_all_files_in_one_error_and_nothing_accepted(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    audit, books = issued
    good = fill_all(books["bob"], tmp_path / "good.xlsx")
    a, b, _ = units_of(books["ann"])
    bad = fill(
        books["ann"],
        tmp_path / "bad.xlsx",
        {a: {**REVIEWED, "Audited DRG": "1234"}, b: {"Review status": "finished"}},
    )
    missing = tmp_path / "nope.xlsx"
    with pytest.raises(WorkbookError) as info:
        collect(audit, [good, bad, missing])
    wheres = [p.where for p in info.value.problems]
    assert len(wheres) == 3
    assert str(missing) in wheres
    assert sum(w.startswith(f"{bad}, Sample!") for w in wheres) == 2
    assert "nothing was accepted" in info.value.summary
    assert "2 returned file(s)" in info.value.summary
    assert not (audit / "findings.csv").exists()
    assert not (audit / "returned").exists()


def test_a_good_file_staged_before_a_bad_one_leaves_nothing_behind(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    # Accepted files are staged while the next ones are read: a problem in a later file
    # discards them, with the folder made for them.
    audit, books = issued
    manifest = (audit / "audit.json").read_bytes()
    before = sorted(p.relative_to(audit) for p in audit.rglob("*"))
    good = fill_all(books["bob"], tmp_path / "a-good.xlsx")
    bad = fill(
        books["ann"],
        tmp_path / "b-bad.xlsx",
        {units_of(books["ann"])[0]: REVIEWED | {"Review status": "finished"}},
    )
    with pytest.raises(WorkbookError) as info:
        collect(audit, [good, bad])
    assert [p.where.split(",")[0] for p in info.value.problems] == [str(bad)]
    assert (audit / "audit.json").read_bytes() == manifest
    assert sorted(p.relative_to(audit) for p in audit.rglob("*")) == before


def test_interrupted_collect_leaves_previous_findings(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit, books = issued
    collect(audit, [fill_all(books["ann"], tmp_path / "ann.xlsx")])
    before = (audit / "findings.csv").read_bytes()
    manifest = (audit / "audit.json").read_bytes()
    bob = fill_all(books["bob"], tmp_path / "bob.xlsx")
    original = Transaction.write_csv

    def crash(self: Transaction, rel: str, frame: object, **kw: object) -> str:
        raise KeyboardInterrupt  # e.g. Ctrl-C after the returned files were staged

    monkeypatch.setattr(Transaction, "write_csv", crash)
    with pytest.raises(KeyboardInterrupt):
        collect(audit, [bob])
    monkeypatch.setattr(Transaction, "write_csv", original)
    assert (audit / "findings.csv").read_bytes() == before
    assert (audit / "audit.json").read_bytes() == manifest
    folder = AuditFolder.open(audit)
    assert folder.verify_hashes() == []
    assert not folder.has(f"returned/{file_sha256(bob)}.xlsx")
    # and the same file collects fine afterwards
    collect(audit, [bob])
    assert len(read_csv(audit / "findings.csv")) == 5


def test_collect_before_workbooks_is_a_clear_error(tmp_path: Path) -> None:
    audit = make_audit(tmp_path)
    with pytest.raises(AuditError) as info:
        collect(audit, [tmp_path])
    assert "No workbooks" in info.value.summary


def test_folder_without_workbooks(issued: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    audit, _ = issued
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "~$lock.xlsx").write_bytes(b"lock")
    with pytest.raises(WorkbookError) as info:
        collect(audit, [empty])
    assert info.value.problems[0].found == "no .xlsx files"


def test_shared_workbook_needs_the_auditor_name(tmp_path: Path) -> None:
    audit = make_audit(tmp_path)
    (book,) = write_workbooks(audit)  # one workbook for all: no assigned auditor
    out = fill(book, tmp_path / "r.xlsx", {"E0001": REVIEWED})
    with pytest.raises(WorkbookError) as info:
        collect(audit, [out])
    (problem,) = info.value.problems
    assert problem.where == f"{out}, {cell_ref(out, 'E0001', 'Auditor')}"
    assert problem.found == "nothing"
    out = fill(book, tmp_path / "r2.xlsx", {"E0001": {**REVIEWED, "Auditor": "Dana"}})
    collect(audit, [out])
    assert read_csv(audit / "findings.csv")["auditor"].to_list() == ["Dana"]


def test_spare_reviewed_on_instruction_is_collected(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    audit, books = issued
    layout = json.loads(books["bob"].with_suffix(".json").read_text())
    (spare,) = [u["unit_id"] for u in layout["units"] if u["spare"]]
    out = fill(books["bob"], tmp_path / "spare.xlsx", {spare: REVIEWED})
    summary = collect(audit, [out])
    assert read_csv(audit / "findings.csv")["unit_id"].to_list() == [spare]
    # a spare does not count towards the auditor's assigned units
    assert {p.auditor: p.assigned for p in summary.progress} == {"ann": 3, "bob": 2}


def test_two_collects_at_once_lose_no_findings(
    issued: tuple[Path, dict[str, Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ann's collect has read the folder's state when bob's starts: bob's waits for the folder
    # (the lock is held from reading the state to the commit), then merges into ann's findings.
    import fcntl
    import threading

    audit, books = issued
    ann = fill_all(books["ann"], tmp_path / "ann.xlsx")
    bob = fill_all(books["bob"], tmp_path / "bob.xlsx")
    bob_waits = threading.Event()
    real_flock = fcntl.flock

    def flock(fd: int, operation: int) -> None:
        blocking = operation & fcntl.LOCK_EX and not operation & fcntl.LOCK_NB
        if blocking and threading.current_thread().name == "bob":
            bob_waits.set()  # bob is at the lock (held by ann, or free)
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    outcome: list[object] = []

    def collect_bob() -> None:
        try:
            outcome.append(collect(audit, [bob]))
        except BaseException as exc:  # reported below, in the test's thread
            outcome.append(exc)

    bob_thread = threading.Thread(target=collect_bob, name="bob")

    def ann_reading(line: str) -> None:
        bob_thread.start()
        assert bob_waits.wait(timeout=60)

    collect(audit, [ann], progress=ann_reading)
    bob_thread.join(timeout=60)
    assert not bob_thread.is_alive() and len(outcome) == 1
    assert not isinstance(outcome[0], BaseException), outcome[0]
    findings = read_csv(audit / "findings.csv")
    assert sorted(findings["unit_id"]) == sorted(units_of(books["ann"]) + units_of(books["bob"]))
    assert [e["command"] for e in AuditFolder.open(audit).events][-2:] == ["collect", "collect"]
