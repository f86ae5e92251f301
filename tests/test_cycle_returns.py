"""The cycle through the CLI with returns as they come: half returned, re-issued, filled in place.

The universe and plan are committed in tests/data/returns/ (40 encounters of two coders, one
with an accented name, a separate modifier column). One auditor returns, the other does not:
collect shows the progress, score and report are PRELIMINARY on every page; `workbooks` again
is refused, `--open-units-only` issues only the open units; the other auditor fills the
handed-out file in place, it is collected from there, and verify passes saying so.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader
from wb_helpers import REVIEWED, fill, fill_all, unit_rows

from audit_kit.cli import main

DATA = Path(__file__).parent / "data" / "returns"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def units_of(book: Path) -> list[str]:
    return list(unit_rows(openpyxl.load_workbook(book)["Sample"]))


@pytest.fixture(scope="module")
def half_returned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sampled, workbooks for ann and bob, ann's returned (one coding change), bob's not."""
    tmp = tmp_path_factory.mktemp("cycle")
    audit = tmp / "audit"
    for args in (
        ["sample", "--plan", str(DATA / "plan.yaml"), "--universe", str(DATA / "universe.csv"),
         "--out", str(audit), "--quiet"],
        ["workbooks", str(audit), "--auditors", "ann,bob", "--quiet"],
    ):  # fmt: skip
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code in (0, None), args
    ann = audit / "workbooks" / "W1-ann.xlsx"
    first = units_of(ann)[0]
    back = fill_all(ann, tmp / "back" / "ann.xlsx")
    back = fill(
        back,
        back,
        {first: {**REVIEWED, "Audited principal dx": "E11.65", "Error category": "coding",
                 "Rationale": "documented hyperglycemia"}},
    )  # fmt: skip
    with pytest.raises(SystemExit) as info:
        main(["collect", str(audit), str(back), "--quiet"])
    assert info.value.code in (0, None)
    return audit


def copy_audit(audit: Path, tmp: Path) -> Path:
    out = tmp / "copy"
    shutil.copytree(audit, out)
    return out


def test_workbook_prefills_the_billed_code_with_its_separate_modifier(half_returned: Path) -> None:
    ws = openpyxl.load_workbook(half_returned / "workbooks" / "W1-ann.xlsx")["Sample"]
    header = [c.value for c in ws[1]]
    # the modifier column follows its CPT column among the originals (locked)
    assert header[header.index("CPT 1") + 1] == "Mod 1"
    rows = [dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)]
    with_mod = [r for r in rows if r["Mod 1"]]
    without = [r for r in rows if not r["Mod 1"]]
    assert with_mod and without
    for r in with_mod:
        assert r["Audited CPT/HCPCS"] == f"{r['CPT 1']}-{r['Mod 1']}"
    for r in without:
        assert r["Audited CPT/HCPCS"] == r["CPT 1"]
    # '$1,234.50' in the universe: a number in the original column and in Audited amount
    assert all(isinstance(r["Paid Amount"], float) for r in rows)
    assert all(r["Audited amount"] == r["Paid Amount"] for r in rows)


def test_collect_shows_progress_and_score_is_preliminary(
    half_returned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = copy_audit(half_returned, tmp_path)
    code, out, err = run(["score", str(audit)], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("PRELIMINARY: 4 of 8 units sampled not returned yet")
    assert "4 scored of 8 sampled" in lines[2]
    results = json.loads((audit / "results.json").read_text())
    assert results["status"] == "preliminary"
    # the auditor confirmed every billed CPT/HCPCS with its modifier (left the pre-fill): the
    # one error is the principal diagnosis changed; no modifier is added or deleted
    assert results["overall"]["units_with_error"] == 1
    (error,) = results["errors"]
    assert [c for c in error["changes"] if "modifier" in str(c).lower()] == []
    assert results["overall"]["codes"]["added"] == 1 and results["overall"]["codes"]["deleted"] == 1
    code, status, err = run(["status", str(audit)], capsys)
    assert code == 0, err
    assert "scored (PRELIMINARY)" in status
    assert "4 units scored of 8 units sampled, 4 not returned yet" in status
    assert results["progress"] == {
        "units_sampled": 8,
        "units_returned": 4,
        "units_reviewed": 4,
        "units_record_missing": 0,
        "units_not_reviewed": 0,
        "units_scored": 4,
        "units_outstanding": 4,
    }


def test_report_is_preliminary_on_every_page(
    half_returned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = copy_audit(half_returned, tmp_path)
    assert run(["score", str(audit), "--quiet"], capsys)[0] == 0
    code, out, err = run(["report", str(audit), "--json"], capsys)
    assert code == 0, err
    payload = json.loads(out)
    pdfs = [Path(p) for p in payload["files"] if p.endswith(".pdf")]
    assert {p.name for p in pdfs} >= {"report.pdf", "attestation.pdf"}
    for pdf in pdfs:
        pages = PdfReader(pdf).pages
        for number, page in enumerate(pages, 1):
            assert "PRELIMINARY" in page.extract_text(), (pdf.name, number)
    # plain words with their meaning on the summary page; estimator names in the appendix only
    report = [" ".join(p.extract_text().split()) for p in PdfReader(audit / "report.pdf").pages]
    summary = next(p for p in report if "1. Summary" in p)  # the section starts there
    assert "Share of audited records with no error of any kind." in summary
    assert "Clopper-Pearson" not in summary
    assert any("Estimators of the confidence limits" in p for p in report)
    # results.xlsx: the status and the counts under the same words
    sheet = openpyxl.load_workbook(audit / "results.xlsx").worksheets[0]
    labels = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert labels["status"] == "preliminary"
    assert (labels["units sampled"], labels["units scored"], labels["not returned yet"]) == (
        8,
        4,
        4,
    )
    attestation = PdfReader(audit / "attestation.pdf").pages[0].extract_text()
    assert "4 scored of 8 sampled" in " ".join(attestation.split())
    # the coder with the accented name: letters kept, accents dropped, in the file name
    coder_files = {p.name for p in (audit / "coders").glob("*.pdf")}
    assert coder_files <= {"Ann_Lee.pdf", "Jose_Nunez.pdf"} and coder_files


def test_workbooks_again_is_refused_and_open_units_only_issues_the_rest(
    half_returned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = copy_audit(half_returned, tmp_path)
    code, out, err = run(["workbooks", str(audit), "--auditors", "cy"], capsys)
    assert code == 1
    assert "4 unit(s) already have findings collected" in err
    assert "--open-units-only" in err and "Traceback" not in err
    assert not (audit / "workbooks" / "W2-cy.xlsx").exists()
    code, out, err = run(
        ["workbooks", str(audit), "--auditors", "cy", "--open-units-only", "--quiet"], capsys
    )
    assert code == 0, err
    bob = units_of(audit / "workbooks" / "W1-bob.xlsx")
    assert sorted(units_of(audit / "workbooks" / "W2-cy.xlsx")) == sorted(bob)
    # ann keeps her collected units; the open ones are cy's now
    code, out, err = run(["collect", str(audit), str(audit / "workbooks" / "W1-ann.xlsx")], capsys)
    code, out, err = run(["status", str(audit), "--json"], capsys)
    auditors = {a["auditor"]: a for a in json.loads(out)["auditors"]}
    assert (auditors["ann"]["assigned"], auditors["ann"]["reviewed"]) == (4, 4)
    assert (auditors["cy"]["assigned"], auditors["cy"]["reviewed"]) == (4, 0)


def test_a_workbook_filled_in_place_is_collected_and_verifies(
    half_returned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = copy_audit(half_returned, tmp_path)
    bob = audit / "workbooks" / "W1-bob.xlsx"
    fill_all(bob, bob)  # the auditor saves the handed-out file where it is
    code, out, err = run(["verify", str(audit)], capsys)
    assert code == 1  # changed and not collected: the fix says how to collect it
    assert f"audit-kit collect {audit} {bob}" in err
    code, out, err = run(["collect", str(audit), str(bob)], capsys)
    assert code == 0, err
    assert "  bob: 4 of 4 reviewed" in out
    code, out, err = run(["verify", str(audit)], capsys)
    assert code == 0, err
    assert "workbooks/W1-bob.xlsx was filled in place and collected" in out
    assert "returned/" in out
    code, out, err = run(["score", str(audit)], capsys)
    assert code == 0 and not out.startswith("PRELIMINARY")
    assert json.loads((audit / "results.json").read_text())["status"] == "final"


def test_codes_typed_with_spaces_get_did_you_mean(
    half_returned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = copy_audit(half_returned, tmp_path)
    bob = audit / "workbooks" / "W1-bob.xlsx"
    first, second, *_ = units_of(bob)
    bad = fill(
        bob,
        tmp_path / "bob.xlsx",
        {
            first: {**REVIEWED, "Audited principal dx": "E 11.9"},
            second: {**REVIEWED, "Audited CPT/HCPCS": "99214 25"},
        },
    )
    good = fill_all(audit / "workbooks" / "W1-ann.xlsx", tmp_path / "ann.xlsx")
    code, out, err = run(["collect", str(audit), str(bad), str(good), "--quiet"], capsys)
    assert code == 1
    lines = err.splitlines()
    # a summary per file and kind first, how to collect the clean file alone, then the cells
    assert lines[1] == f"  {bad}: 2 problem(s): Audited principal dx 1, Audited CPT/HCPCS 1"
    assert lines[2].startswith(f"Without problems: {good}. Collect it on its own now")
    assert f"`audit-kit collect {audit} {good}`" in lines[2]
    cells = [line for line in lines if line.startswith("  - ")]
    assert len(cells) == 2  # one problem per cell, not one per piece the space made
    assert f"(unit {first}): " in cells[0] and "found 'E 11.9'" in cells[0]
    assert "did you mean E11.9?" in cells[0]
    assert f"(unit {second}): " in cells[1] and "did you mean 99214-25?" in cells[1]
