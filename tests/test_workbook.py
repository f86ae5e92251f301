"""write_workbooks: layout, protection, validations, formula-safe text, assignment, encryption."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import fastexcel
import msoffcrypto
import openpyxl
import polars as pl
import pytest
from wb_helpers import PLAN, headers, make_audit, sample_frame, unit_rows

from audit_kit.errors import AuditError, InputError, PlanError
from audit_kit.folder.manifest import AuditFolder
from audit_kit.plan import parse_plan
from audit_kit.workbook import (
    FINDING_HEADERS,
    canonical_value,
    row_digest,
    write_workbooks,
)

ORIGINAL_HEADERS = [
    "encounter_id",
    "coder_id",
    "service_dt",
    "dx_codes",
    "px_codes",
    "cpt_codes",
    "drg",
    "paid_amount",
    "note",
]


@pytest.fixture
def one_book(tmp_path: Path) -> tuple[Path, Path]:
    audit = make_audit(tmp_path)
    (path,) = write_workbooks(audit)
    return audit, path


def test_sheets_and_states(one_book: tuple[Path, Path]) -> None:
    _, path = one_book
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Instructions", "Sample", "Lists", "_audit"]
    assert wb["Instructions"].sheet_state == "visible"
    assert wb["Sample"].sheet_state == "visible"
    assert wb["Lists"].sheet_state == "hidden"
    assert wb["_audit"].sheet_state == "veryHidden"
    assert wb.active.title == "Sample"
    assert wb.security is not None and wb.security.lockStructure
    for name in wb.sheetnames:
        assert wb[name].protection.sheet, name


def test_exact_headers_and_column_order(one_book: tuple[Path, Path]) -> None:
    _, path = one_book
    ws = openpyxl.load_workbook(path)["Sample"]
    row1 = [c.value for c in ws[1]]
    # Only the plan's workbook.columns (the patient name is mapped but not listed: not written).
    assert row1 == [*ORIGINAL_HEADERS, "Spare", *FINDING_HEADERS]
    assert "patient_name" not in row1
    assert list(FINDING_HEADERS) == [
        "Review status",
        "Audited principal dx",
        "Audited other dx",
        "Audited procedures",
        "Audited CPT/HCPCS",
        "Audited DRG",
        "Audited amount",
        "Error category",
        "Rationale",
        "Reference",
        "Auditor",
        "Review date",
        "Coder response",
        "Coder comment",
    ]


def test_locks_freeze_widths_formats(one_book: tuple[Path, Path]) -> None:
    _, path = one_book
    ws = openpyxl.load_workbook(path)["Sample"]
    cols = headers(ws)
    assert ws.freeze_panes == "B2"
    assert ws.protection.sheet and not ws.protection.sort and not ws.protection.autoFilter
    assert ws.protection.insertRows and ws.protection.deleteRows  # True = not allowed
    for r in range(2, ws.max_row + 1):
        for h in ORIGINAL_HEADERS:
            assert ws.cell(row=r, column=cols[h]).protection.locked, (h, r)
        for h in FINDING_HEADERS:
            assert not ws.cell(row=r, column=cols[h]).protection.locked, (h, r)
        assert ws.cell(row=r, column=cols["paid_amount"]).number_format == "#,##0.00"
        assert ws.cell(row=r, column=cols["service_dt"]).number_format == "yyyy-mm-dd"
        assert ws.cell(row=r, column=cols["Audited amount"]).number_format == "#,##0.00"
        assert ws.cell(row=r, column=cols["Review date"]).number_format == "yyyy-mm-dd"
        assert ws.cell(row=r, column=cols["Audited DRG"]).number_format == "@"
    assert ws.column_dimensions["A"].width >= 12
    rationale = openpyxl.utils.get_column_letter(cols["Rationale"])
    assert ws.column_dimensions[rationale].width == 48


def test_dropdowns_and_conditional_formatting(one_book: tuple[Path, Path]) -> None:
    _, path = one_book
    wb = openpyxl.load_workbook(path)
    ws = wb["Sample"]
    cols = headers(ws)
    last = ws.max_row
    letter = {h: openpyxl.utils.get_column_letter(c) for h, c in cols.items()}
    by_range = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    status = by_range[f"{letter['Review status']}2:{letter['Review status']}{last}"]
    assert status.type == "list" and status.formula1 == "=Lists!$A$2:$A$4"
    assert status.showErrorMessage
    category = by_range[f"{letter['Error category']}2:{letter['Error category']}{last}"]
    assert category.formula1 == "=Lists!$B$2:$B$5"
    response = by_range[f"{letter['Coder response']}2:{letter['Coder response']}{last}"]
    assert response.formula1 == "=Lists!$C$2:$C$3"
    amount = by_range[f"{letter['Audited amount']}2:{letter['Audited amount']}{last}"]
    assert amount.type == "decimal" and amount.operator == "greaterThanOrEqual"
    lists = wb["Lists"]
    assert [lists.cell(row=r, column=1).value for r in range(2, 5)] == [
        "reviewed",
        "record missing",
        "not reviewed",
    ]
    assert [lists.cell(row=r, column=2).value for r in range(2, 6)] == [
        "coding",
        "documentation",
        "medical necessity",
        "other",
    ]
    assert [lists.cell(row=r, column=3).value for r in range(2, 4)] == ["agree", "disagree"]
    rules = [rule for cf in ws.conditional_formatting for rule in cf.rules]
    assert len(rules) == 1
    formula = rules[0].formula[0]
    assert f'${letter["Review status"]}2=""' in formula
    assert '<>"spare"' in formula


def test_prefilled_codes_and_empty_status(one_book: tuple[Path, Path]) -> None:
    _, path = one_book
    ws = openpyxl.load_workbook(path)["Sample"]
    cols = headers(ws)
    rows = unit_rows(ws)
    r = rows["E0001"]

    def at(h: str) -> object:
        return ws.cell(row=r, column=cols[h]).value

    assert at("Review status") is None
    assert at("Audited principal dx") == "E11.9"
    assert at("Audited other dx") == "I10"
    assert at("Audited procedures") == "0DTJ4ZZ"
    assert at("Audited CPT/HCPCS") == "99214-25; 93000"
    assert at("Audited DRG") == "065"
    assert at("Audited amount") == 1000.0  # basis 'entered': starts at the paid amount
    assert at("paid_amount") == 1000.0
    r3 = rows["E0003"]
    assert ws.cell(row=r3, column=cols["Audited other dx"]).value == "Z79.4; I10"


def test_spares_are_marked(one_book: tuple[Path, Path]) -> None:
    _, path = one_book
    ws = openpyxl.load_workbook(path)["Sample"]
    cols = headers(ws)
    rows = unit_rows(ws)
    marks = {u: ws.cell(row=r, column=cols["Spare"]).value for u, r in rows.items()}
    assert marks == {u: ("spare" if u == "E0006" else None) for u in rows}
    spare_fill = ws.cell(row=rows["E0006"], column=1).fill.fgColor.rgb
    other_fill = ws.cell(row=rows["E0001"], column=1).fill.fgColor.rgb
    assert spare_fill != other_fill


def test_instructions_name_contact_audit_and_values(one_book: tuple[Path, Path]) -> None:
    audit, path = one_book
    ws = openpyxl.load_workbook(path)["Instructions"]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert AuditFolder.open(audit).audit_id in text
    assert "Audit lead, audit@example.org" in text
    assert "reviewed, record missing, not reviewed" in text
    assert "coding, documentation, medical necessity, other" in text
    assert "Partial returns" in text
    assert "W1-all" in text


def test_formula_like_text_round_trips_as_the_same_string(tmp_path: Path) -> None:
    hostile = [
        "=cmd|' /C calc'!A0",
        "+1 555 0100",
        "-2+3",
        "@SUM(A1:A2)",
        "\tstarts with a tab",
        "\rstarts with a CR",
        "line\r\nbreak",
        "literal _x000D_ escape",
        "bell\x07and\x1fcontrols",
        '=HYPERLINK("http://evil","x")',
    ]
    frame = sample_frame(len(hostile), spares=0).with_columns(pl.Series("note", hostile))
    audit = make_audit(tmp_path, frame=frame, spares=0)
    (path,) = write_workbooks(audit)
    data = path.read_bytes()
    # No formula anywhere in the sheet XML: every hostile value is a string cell.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet2.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
    expected = dict(zip(frame["encounter_id"].to_list(), hostile, strict=True))
    # fastexcel (calamine, what collect reads with) returns the exact strings.
    sheet = fastexcel.read_excel(data).load_sheet("Sample", dtypes="string").to_polars()
    got = dict(zip(sheet["encounter_id"].to_list(), sheet["note"].to_list(), strict=True))
    assert got == expected
    # openpyxl sees string cells with the quote prefix (Excel shows them as text).
    ws = openpyxl.load_workbook(io.BytesIO(data))["Sample"]
    cols = headers(ws)
    for unit, r in unit_rows(ws).items():
        cell = ws.cell(row=r, column=cols["note"])
        assert cell.data_type == "s"
        assert cell.quotePrefix
        if not any(ch in expected[unit] for ch in "\r\x07_"):
            assert cell.value == expected[unit]


def test_audit_sheet_records_ids_and_row_hashes(one_book: tuple[Path, Path]) -> None:
    audit, path = one_book
    folder = AuditFolder.open(audit)
    ws = openpyxl.load_workbook(path)["_audit"]
    meta = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(1, 8)}
    assert meta["format"] == "audit-kit-workbook/1"
    assert meta["audit_id"] == folder.audit_id
    assert meta["workbook_id"] == "W1-all"
    assert meta["tool_version"]
    layout = json.loads((audit / "workbooks" / "W1-all.json").read_text())
    table = {
        ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value
        for r in range(10, 10 + len(layout["units"]))
    }
    assert table == {u["unit_id"]: u["row_sha256"] for u in layout["units"]}
    # The hash is of the row's original values as the sample has them.
    sample = folder.read_csv("sample.csv", infer_schema=False)
    row = sample.filter(sample["encounter_id"] == "E0001").to_dicts()[0]
    kinds = {c["header"]: c["kind"] for c in layout["columns"]}
    values = [canonical_value(row[h], kinds[h]) for h in ORIGINAL_HEADERS]
    assert table["E0001"] == row_digest(values)
    assert ws.protection.sheet


def test_written_through_a_transaction_with_an_event(one_book: tuple[Path, Path]) -> None:
    audit, path = one_book
    folder = AuditFolder.open(audit)
    assert folder.has("workbooks/W1-all.xlsx") and folder.has("workbooks/W1-all.json")
    event = folder.events[-1]
    assert event["command"] == "workbooks"
    assert event["details"]["workbooks"][0]["units"] == 5
    assert event["details"]["workbooks"][0]["spares"] == 1
    assert folder.verify_hashes() == []
    assert (path.stat().st_mode & 0o777) == 0o600


def test_round_robin_and_second_batch_never_overwrites(tmp_path: Path) -> None:
    audit = make_audit(tmp_path, n=9, spares=1)
    paths = write_workbooks(audit, auditors=["Ann Lee", "bob"])
    assert [p.name for p in paths] == ["W1-ann-lee.xlsx", "W1-bob.xlsx"]
    units = {
        p.stem: [u["unit_id"] for u in json.loads(p.with_suffix(".json").read_text())["units"]]
        for p in paths
    }
    assert len(units["W1-ann-lee"]) + len(units["W1-bob"]) == 9
    assert abs(len(units["W1-ann-lee"]) - len(units["W1-bob"])) <= 1
    first = paths[0].read_bytes()
    again = write_workbooks(audit, auditors=["Ann Lee"])
    assert [p.name for p in again] == ["W2-ann-lee.xlsx"]
    assert paths[0].read_bytes() == first
    assert AuditFolder.open(audit).verify_hashes() == []


def test_by_stratum_keeps_strata_whole(tmp_path: Path) -> None:
    audit = make_audit(tmp_path, n=12, spares=0, coders=("C1", "C2", "C3"))
    paths = write_workbooks(audit, auditors=["ann", "bob"], by="stratum")
    strata_per_book = []
    for p in paths:
        layout = json.loads(p.with_suffix(".json").read_text())
        strata_per_book.append({u["stratum"] for u in layout["units"]})
    assert set().union(*strata_per_book) == {"C1", "C2", "C3"}
    assert not strata_per_book[0] & strata_per_book[1]


def test_assignment_file(tmp_path: Path) -> None:
    audit = make_audit(tmp_path, n=4, spares=0)
    csv = tmp_path / "assign.csv"
    csv.write_text("unit_id,auditor\nE0001,ann\nE0002,bob\nE0003,ann\nE0004,bob\n")
    paths = write_workbooks(audit, assignment=csv)
    got = {
        json.loads(p.with_suffix(".json").read_text())["auditor"]: sorted(
            u["unit_id"] for u in json.loads(p.with_suffix(".json").read_text())["units"]
        )
        for p in paths
    }
    assert got == {"ann": ["E0001", "E0003"], "bob": ["E0002", "E0004"]}


def test_assignment_file_problems_are_listed_together(tmp_path: Path) -> None:
    audit = make_audit(tmp_path, n=4, spares=0)
    csv = tmp_path / "assign.csv"
    csv.write_text("unit_id,auditor\nE0001,ann\nE0001,bob\nX9,ann\nE0003,\n")
    with pytest.raises(InputError) as info:
        write_workbooks(audit, assignment=csv)
    wheres = [p.where for p in info.value.problems]
    assert f"{csv}, row 3" in wheres  # duplicate
    assert f"{csv}, row 4" in wheres  # unknown unit
    assert f"{csv}, row 5" in wheres  # no auditor
    assert any("unassigned" in p.found for p in info.value.problems)
    assert not (audit / "workbooks").exists()


def test_double_review_subsample_goes_to_a_second_auditor(tmp_path: Path) -> None:
    plan = json.loads(json.dumps(PLAN))
    plan["workbook"]["double_review"] = 0.5
    audit = make_audit(tmp_path, n=8, spares=0, plan=plan)
    paths = write_workbooks(audit, auditors=["ann", "bob"])
    roles: dict[str, list[tuple[str, str]]] = {}
    for p in paths:
        layout = json.loads(p.with_suffix(".json").read_text())
        for u in layout["units"]:
            roles.setdefault(u["unit_id"], []).append((layout["auditor"], u["role"]))
    doubles = {u: r for u, r in roles.items() if len(r) == 2}
    assert len(doubles) == 4
    for pairs in doubles.values():
        assert {role for _, role in pairs} == {"primary", "second"}
        assert pairs[0][0] != pairs[1][0]
    event = AuditFolder.open(audit).events[-1]
    assert sorted(event["details"]["double_review_units"]) == sorted(doubles)


def test_double_review_needs_two_auditors(tmp_path: Path) -> None:
    plan = json.loads(json.dumps(PLAN))
    plan["workbook"]["double_review"] = 0.2
    audit = make_audit(tmp_path, plan=plan)
    with pytest.raises(InputError) as info:
        write_workbooks(audit)
    assert info.value.problems[0].where == "plan.yaml: workbook.double_review"


def test_unknown_workbook_column_is_a_clear_error(tmp_path: Path) -> None:
    plan = json.loads(json.dumps(PLAN))
    plan["workbook"]["columns"] = ["unit_id", "provider", "no_such_column"]
    audit = make_audit(tmp_path, plan=plan)
    with pytest.raises(InputError) as info:
        write_workbooks(audit)
    wheres = [p.where for p in info.value.problems]
    assert wheres == [
        "plan.yaml: workbook.columns (provider)",
        "plan.yaml: workbook.columns (no_such_column)",
    ]


def test_sheet_protection_password_from_the_password_file(tmp_path: Path) -> None:
    plan = json.loads(json.dumps(PLAN))
    plan["workbook"]["protect_password"] = True
    audit = make_audit(tmp_path, plan=plan)
    with pytest.raises(AuditError) as info:
        write_workbooks(audit)  # the plan asks for it: a password must be given
    assert info.value.problems[0].where == "plan.yaml: workbook.protect_password"
    (path,) = write_workbooks(audit, password="sheet-secret")
    ws = openpyxl.load_workbook(path)["Sample"]  # not encrypted: only protected
    assert ws.protection.password  # stored as Excel's hash, not the text
    assert ws.protection.password != "sheet-secret"
    assert b"sheet-secret" not in (audit / "plan.yaml").read_bytes()


def test_a_password_written_in_the_plan_is_refused(tmp_path: Path) -> None:
    plan = json.loads(json.dumps(PLAN))
    plan["workbook"]["protect_password"] = "sheet-secret"
    with pytest.raises(PlanError) as info:
        parse_plan(plan, source="plan.yaml")
    (problem,) = info.value.problems
    assert problem.where == "plan.yaml: workbook.protect_password"
    assert "--password-file" in problem.fix and "sheet-secret" not in str(info.value)


def test_encryption_round_trip_and_password_never_stored(tmp_path: Path) -> None:
    audit = make_audit(tmp_path)
    (path,) = write_workbooks(audit, password="correct horse")
    data = path.read_bytes()
    assert data[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # an encrypted OLE container
    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    assert office.is_encrypted()
    office.load_key(password="correct horse")
    plain = io.BytesIO()
    office.decrypt(plain)
    wb = openpyxl.load_workbook(plain)
    assert wb["Sample"].cell(row=1, column=1).value == "encounter_id"
    for file in audit.rglob("*"):
        if file.is_file():
            assert b"correct horse" not in file.read_bytes(), file
    assert AuditFolder.open(audit).events[-1]["details"]["encrypted"] is True


def test_plan_requiring_a_password_refuses_without_one(tmp_path: Path) -> None:
    plan = json.loads(json.dumps(PLAN))
    plan["workbook"]["password"] = True
    audit = make_audit(tmp_path, plan=plan)
    with pytest.raises(AuditError) as info:
        write_workbooks(audit)
    assert info.value.problems[0].where == "plan.yaml: workbook.password"
