"""The rebuttal round through the command line: rebuttals, collect, decisions, close, score.

A 48-unit audit (synthetic universe, simulated auditors; coder C03 renamed José Núñez) is
collected once; each test copies it. The final numbers are recomputed here, independently of
scoring, from findings.csv, sample.csv and the decisions the test itself made.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from crash_helpers import copy_audit, run_captured
from openpyxl.utils import get_column_letter
from rebuttal_helpers import ACCENTED, INJECTION, build_audit, fill, table, today, units_of

from audit_kit.errors import PlanError
from audit_kit.folder.manifest import AuditFolder
from audit_kit.plan import parse_plan
from audit_kit.values.names import file_stem

DUE = (today() + dt.timedelta(days=10)).isoformat()


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_audit(tmp_path_factory.mktemp("rebuttal"))


@pytest.fixture(scope="module")
def opened(collected: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    audit = copy_audit(collected, tmp_path_factory.mktemp("opened") / "audit")
    result = run_captured(["rebuttals", audit, "--due", DUE])
    assert result.code == 0, result.text
    return audit


@pytest.fixture
def audit(opened: Path, tmp_path: Path) -> Path:
    return copy_audit(opened, tmp_path / "audit")


def _round(audit: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((audit / "rebuttals" / "round.json").read_text("utf-8"))
    return data


def _events(audit: Path) -> list[dict[str, Any]]:
    return AuditFolder.open(audit).events


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _book_of(audit: Path, coder: str) -> Path:
    book = next(b for b in _round(audit)["workbooks"] if b["coder"] == coder)
    return audit / book["file"]


def _answer_all(audit: Path, out: Path, answers: Mapping[str, tuple[str, str]]) -> list[Path]:
    """Every coder answers: ``answers[unit]`` where given, else agree."""
    paths = []
    for book in _round(audit)["workbooks"]:
        if book["kind"] != "rebuttal":
            continue
        source = audit / book["file"]
        cells = {}
        for unit in units_of(source, "Findings"):
            response, comment = answers.get(unit, ("agree", ""))
            cells[unit] = {"Coder response": response, "Coder comment": comment or None}
        paths.append(fill(source, out / Path(book["file"]).name, "Findings", cells))
    return paths


# -- the rebuttal workbooks ------------------------------------------------------------------


def test_rebuttal_workbooks_one_per_coder_with_the_error_findings(opened: Path) -> None:
    findings = _csv(opened / "findings.csv")
    sample = {r["encounter_id"]: r for r in _csv(opened / "sample.csv")}
    record = _round(opened)
    # every unit with an error category or a missing record is in the round (the simulated
    # auditors give every error a category), and nothing else
    expected = {
        f["unit_id"]
        for f in findings
        if f["review_status"] == "record missing"
        or (f["review_status"] == "reviewed" and f["error_category"])
    }
    assert {f["unit_id"] for f in record["findings"]} == expected
    coders = {sample[u]["coder_id"] for u in expected}
    files = sorted(p.name for p in (opened / "rebuttals").glob("*.xlsx"))
    assert files == sorted(f"{file_stem(c, set())}.xlsx" for c in coders)
    assert ACCENTED in coders and "Jose_Nunez.xlsx" in files
    for book in record["workbooks"]:
        mine = {u for u in expected if sample[u]["coder_id"] == book["coder"]}
        assert set(units_of(opened / book["file"], "Findings")) == mine


def test_rebuttal_workbook_discipline(opened: Path) -> None:
    path = _book_of(opened, ACCENTED)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Instructions", "Findings", "Lists", "_audit"]
    assert wb["_audit"].sheet_state == "veryHidden" and wb["_audit"].protection.sheet
    assert wb["Lists"].sheet_state == "hidden"
    assert wb.security is not None and wb.security.lockStructure
    ws = wb["Findings"]
    assert ws.protection.sheet and ws.freeze_panes == "C2"
    cols = {str(c.value): c.column for c in ws[1]}
    inputs = {"Coder response", "Coder comment"}
    for header, col in cols.items():
        assert ws.cell(row=2, column=col).protection.locked == (header not in inputs), header
    letter = get_column_letter(cols["Coder response"])
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    span = f"{letter}2" + (f":{letter}{ws.max_row}" if ws.max_row > 2 else "")
    assert [str(dv.sqref) for dv in lists] == [span]
    assert ws.conditional_formatting  # rows still without a response are highlighted
    # minimum necessary: codes and amounts, no patient field
    sample = _csv(opened / "sample.csv")
    names = {r["patient_name"] for r in sample}
    texts = {str(c.value) for row in ws.iter_rows() for c in row if c.value is not None}
    assert not names & texts
    assert not {"patient_name", "service_date", "provider_id"} & set(cols)
    assert {"Original principal dx", "Audited principal dx", "Rationale", "Reference"} <= set(cols)
    meta = {
        str(r[0].value): str(r[1].value) for r in wb["_audit"].iter_rows(max_row=6) if r[0].value
    }
    assert meta["audit_id"] == AuditFolder.open(opened).audit_id
    assert meta["format"] == "audit-kit-rebuttal/1"


def test_a_rationale_that_looks_like_a_formula_stays_text(opened: Path) -> None:
    hits = []
    for path in (opened / "rebuttals").glob("*.xlsx"):
        ws = openpyxl.load_workbook(path)["Findings"]
        hits += [c for row in ws.iter_rows() for c in row if c.value == INJECTION]
    assert len(hits) == 1 and hits[0].data_type == "s"


def test_a_second_round_is_refused(audit: Path) -> None:
    result = run_captured(["rebuttals", audit])
    assert result.code == 1
    assert "A rebuttal round has already been opened" in result.stderr


def test_a_past_due_date_is_refused(collected: Path, tmp_path: Path) -> None:
    audit = copy_audit(collected, tmp_path / "a")
    result = run_captured(["rebuttals", audit, "--due", "2020-01-01"])
    assert result.code == 1 and "--due: expected today" in result.stderr
    assert not (audit / "rebuttals").exists()


def test_due_date_defaults_to_the_plans_days(collected: Path, tmp_path: Path) -> None:
    audit = copy_audit(collected, tmp_path / "a")
    assert run_captured(["rebuttals", audit]).code == 0
    assert _round(audit)["due"] == (today() + dt.timedelta(days=14)).isoformat()


# -- collecting responses --------------------------------------------------------------------


def test_a_disagreement_without_comment_is_refused_naming_the_cell(
    audit: Path, tmp_path: Path
) -> None:
    source = _book_of(audit, ACCENTED)
    unit = units_of(source, "Findings")[0]
    path = fill(source, tmp_path / "r.xlsx", "Findings", {unit: {"Coder response": "disagree"}})
    _, _, cols, rows = table(path, "Findings")
    before = (audit / "audit.json").read_bytes()
    result = run_captured(["collect", audit, path])
    assert result.code == 1
    cell = f"Findings!{get_column_letter(cols['Coder comment'])}{rows[unit]}"
    assert f"{path}, {cell} (unit {unit}): expected a Coder comment saying why" in result.stderr
    assert "Traceback" not in result.text
    assert (audit / "audit.json").read_bytes() == before
    assert not (audit / "responses.csv").exists()


def test_a_bad_response_and_an_edited_finding_are_all_reported(audit: Path, tmp_path: Path) -> None:
    source = _book_of(audit, ACCENTED)
    first, *rest = units_of(source, "Findings")
    cells: dict[str, dict[str, Any]] = {first: {"Coder response": "maybe"}}
    if rest:
        cells[rest[0]] = {"Rationale": "the auditor's words, rewritten"}
    path = fill(source, tmp_path / "r.xlsx", "Findings", cells)
    _, _, cols, rows = table(path, "Findings")
    result = run_captured(["collect", audit, path])
    assert result.code == 1
    letter = get_column_letter(cols["Coder response"])
    assert f"Findings!{letter}{rows[first]} (unit {first}): expected empty or one of agree, " in (
        result.stderr
    )
    if rest:
        assert (
            f"Findings row {rows[rest[0]]} (unit {rest[0]}): expected the finding of unit "
            f"{rest[0]} as issued" in result.stderr
        )
        assert "a locked cell changed" in result.stderr


def test_a_rebuttal_workbook_from_another_audit_is_refused(
    audit: Path, tmp_path: Path, collected: Path
) -> None:
    other = build_audit(collected.parent, name="other")
    assert run_captured(["rebuttals", other, "--due", DUE]).code == 0
    foreign = next((other / "rebuttals").glob("*.xlsx"))
    result = run_captured(["collect", audit, foreign])
    assert result.code == 1
    other_id = AuditFolder.open(other).audit_id
    assert (
        f"{foreign}, _audit: expected a workbook of audit {AuditFolder.open(audit).audit_id}"
        in (result.stderr)
    )
    assert f"found a workbook of audit {other_id}" in result.stderr
    shutil.rmtree(other)


def test_auditor_workbooks_are_refused_once_the_round_is_open(audit: Path, collected: Path) -> None:
    returned = sorted((collected.parent / "audit-filled").glob("*.xlsx"))
    # an edit makes it a new return (an identical one would be a no-op)
    target = audit.parent / "late.xlsx"
    shutil.copy(returned[0], target)
    wb = openpyxl.load_workbook(target)
    ws = wb["Sample"]
    cols = {str(c.value): c.column for c in ws[1]}
    ws.cell(row=2, column=cols["Rationale"]).value = "second thoughts"
    wb.save(target)
    result = run_captured(["collect", audit, target])
    assert result.code == 1
    assert "expected no auditor workbook once the rebuttal round has opened" in result.stderr


def test_responses_collected_again_are_a_no_op_and_a_newer_return_supersedes(
    audit: Path, tmp_path: Path
) -> None:
    source = _book_of(audit, ACCENTED)
    units = units_of(source, "Findings")
    first = fill(
        source, tmp_path / "1" / "r.xlsx", "Findings", {units[0]: {"Coder response": "agree"}}
    )
    assert run_captured(["collect", audit, first]).code == 0
    events = len(_events(audit))
    again = run_captured(["collect", audit, first])
    assert again.code == 0 and "already collected" in again.stdout
    assert len(_events(audit)) == events  # nothing new: no event
    second = fill(
        source,
        tmp_path / "2" / "r.xlsx",
        "Findings",
        {units[0]: {"Coder response": "disagree", "Coder comment": "Documented on day 2."}},
    )
    assert run_captured(["collect", audit, second]).code == 0
    responses = {r["unit_id"]: r for r in _csv(audit / "responses.csv")}
    assert responses[units[0]]["response"] == "disagree"
    assert responses[units[0]]["comment"] == "Documented on day 2."
    last = _events(audit)[-1]
    assert last["command"] == "collect"
    assert [s["unit_id"] for s in last["details"]["superseded"]] == [units[0]]
    assert last["details"]["responses"] == [
        {"unit_id": units[0], "coder": ACCENTED, "response": "disagree"}
    ]
    assert (audit / "returned" / f"{last['inputs']['r.xlsx']}.xlsx").is_file()  # kept by hash


# -- decisions, close, the final numbers -----------------------------------------------------


def _disputed(audit: Path) -> list[dict[str, Any]]:
    """Three findings with a code change, to dispute (the test's own choice)."""
    chosen = [
        f
        for f in _round(audit)["findings"]
        if f["status"] == "reviewed"
        and any(f["original"][k] != f["audited"][k] for k in ("dx", "px", "cpt"))
        and "Z79.4" not in f["original"]["dx"]
    ]
    assert len(chosen) >= 3, "the scenario needs three findings with a code change"
    return chosen[:3]


def test_close_is_refused_with_an_open_dispute(audit: Path, tmp_path: Path) -> None:
    disputed = _disputed(audit)
    answers = {f["unit_id"]: ("disagree", "The record supports it.") for f in disputed}
    assert run_captured(["collect", audit, *_answer_all(audit, tmp_path, answers)]).code == 0
    result = run_captured(["close", audit])
    assert result.code == 1
    assert "3 dispute(s) have no decision yet; the round stays open." in result.stderr
    for f in disputed:
        assert f"decisions/decisions.xlsx, unit {f['unit_id']}: expected the audit lead's" in (
            result.stderr
        )
    assert _round(audit)["state"] == "open"


def test_close_before_the_due_date_names_who_has_not_responded(audit: Path) -> None:
    result = run_captured(["close", audit])
    assert result.code == 1
    assert f"The round is due {DUE}" in result.stderr
    assert f"rebuttals, coder {ACCENTED}: expected a response to each finding" in result.stderr
    early = run_captured(["close", audit, "--early"])
    assert early.code == 0, early.text
    assert f"no response from {ACCENTED} by {DUE}" in early.stdout
    record = _round(audit)
    assert record["state"] == "closed" and record["closed_early"] is True
    assert set(record["no_response"]) == {f["unit_id"] for f in record["findings"]}
    close = _events(audit)[-1]
    assert close["command"] == "close" and close["details"]["no_response_counted_as"] == "agreed"
    assert run_captured(["score", audit]).code == 0
    results = json.loads((audit / "results.json").read_text("utf-8"))
    assert results["rebuttal"]["no_response"] == len(record["findings"])
    assert results["rebuttal"]["no_response_counted_as_agreed"] is True
    assert results["status"] == "final"


def test_a_modified_decision_with_invalid_codes_is_refused(audit: Path, tmp_path: Path) -> None:
    disputed = _disputed(audit)
    answers = {f["unit_id"]: ("disagree", "The record supports it.") for f in disputed}
    assert run_captured(["collect", audit, *_answer_all(audit, tmp_path, answers)]).code == 0
    assert run_captured(["decisions", audit]).code == 0
    unit = disputed[0]["unit_id"]
    path = fill(
        audit / "decisions" / "decisions.xlsx",
        tmp_path / "d.xlsx",
        "Disputes",
        {
            unit: {
                "Decision": "modified",
                "Decision rationale": "Partly supported.",
                "Decided by": "lead",
                "Decision date": today(),
                "Final principal dx": "E11",
                "Final CPT/HCPCS": "99214-Q9Q",
                "Final DRG": "DRG 12",
                "Final amount": -5,
            }
        },
    )
    _, _, cols, rows = table(path, "Disputes")
    result = run_captured(["collect", audit, path])
    assert result.code == 1
    for header in ("Final principal dx", "Final CPT/HCPCS", "Final DRG", "Final amount"):
        cell = f"Disputes!{get_column_letter(cols[header])}{rows[unit]} (unit {unit})"
        assert cell in result.stderr, header
    assert "expected a number of 0 or more" in result.stderr
    assert not (audit / "decisions.csv").exists()


def _recompute(
    audit: Path, decisions: Mapping[str, Mapping[str, Any]] | None
) -> tuple[dict[str, float], dict[str, int], set[str]]:
    """Per coder record accuracy, per coder scored units, and the units with an error: from
    findings.csv and sample.csv with the decisions applied (independently of scoring)."""
    sample = {r["encounter_id"]: r for r in _csv(audit / "sample.csv")}

    def codes(text: str) -> list[str]:
        return [c.strip().upper() for c in text.replace(",", ";").split(";") if c.strip()]

    errors: set[str] = set()
    scored: dict[str, int] = {}
    wrong: dict[str, int] = {}
    for f in _csv(audit / "findings.csv"):
        if f["review_status"] == "not reviewed":
            continue
        unit = f["unit_id"]
        row = sample[unit]
        coder = row["coder_id"]
        scored[coder] = scored.get(coder, 0) + 1
        dx = codes(f["audited_principal_dx"]) + codes(f["audited_other_dx"])
        px, cpt, category = (
            codes(f["audited_procedures"]),
            codes(f["audited_cpt"]),
            f["error_category"],
        )
        amount = f["audited_amount"]
        status = f["review_status"]
        decision = (decisions or {}).get(unit)
        if decision is not None and decision["Decision"] == "overturned":
            continue  # the original coding stands: no error
        if decision is not None and decision["Decision"] == "modified":
            dx = codes(decision["Final principal dx"]) + codes(decision.get("Final other dx", ""))
            status = "reviewed"
        error = (
            status == "record missing"
            or bool(category)
            or dx != codes(row["dx_codes"])
            or sorted(px) != sorted(codes(row["px_codes"]))
            or sorted(cpt) != sorted(codes(row["cpt_codes"]))
            or (amount != "" and float(amount) != float(row["paid_amount"]))
        )
        if error:
            errors.add(unit)
            wrong[coder] = wrong.get(coder, 0) + 1
    accuracy = {c: 1 - wrong.get(c, 0) / n for c, n in scored.items()}
    return accuracy, scored, errors


def test_the_whole_round_final_numbers_equal_a_recomputation(
    audit: Path, tmp_path: Path, collected: Path
) -> None:
    disputed = _disputed(audit)
    upheld, overturned, modified = (f["unit_id"] for f in disputed)
    answers = {f["unit_id"]: ("disagree", "Supported by the discharge summary.") for f in disputed}
    returns = _answer_all(audit, tmp_path / "responses", answers)
    result = run_captured(["collect", audit, *returns])
    assert result.code == 0, result.text
    assert "3 disputed, 0 decided" in result.stdout

    # the round is open: the results are preliminary, on every page of every PDF
    assert run_captured(["score", audit]).code == 0
    assert json.loads((audit / "results.json").read_text("utf-8"))["status"] == "preliminary"
    status = run_captured(["status", audit, "--json"])
    payload = json.loads(status.stdout)
    assert payload["rebuttal"]["responses"] == payload["rebuttal"]["findings_with_error"]
    assert payload["rebuttal"]["disputes_open"] == 3 and payload["rebuttal"]["due"] == DUE
    assert payload["next_command"] == f"audit-kit decisions {audit}"

    assert run_captured(["decisions", audit]).code == 0
    _, _, _, rows = table(audit / "decisions" / "decisions.xlsx", "Disputes")
    assert set(rows) == {upheld, overturned, modified}
    finding = next(f for f in disputed if f["unit_id"] == modified)
    final_dx = [*finding["original"]["dx"], "Z79.4"]
    decisions: dict[str, dict[str, Any]] = {
        upheld: {"Decision": "upheld"},
        overturned: {"Decision": "overturned"},
        modified: {
            "Decision": "modified",
            "Final principal dx": final_dx[0],
            "Final other dx": "; ".join(final_dx[1:]),
        },
    }
    for d in decisions.values():
        d.update(
            {
                "Decision rationale": "Read both sides.",
                "Decided by": "Lead",
                "Decision date": today(),
            }
        )
    path = fill(audit / "decisions" / "decisions.xlsx", tmp_path / "d.xlsx", "Disputes", decisions)
    result = run_captured(["collect", audit, path])
    assert result.code == 0, result.text
    assert "3 disputed, 3 decided" in result.stdout
    assert run_captured(["close", audit]).code == 0
    assert run_captured(["score", audit]).code == 0
    results = json.loads((audit / "results.json").read_text("utf-8"))
    assert results["status"] == "final"

    block = results["rebuttal"]
    n = len(_round(audit)["findings"])
    assert {
        k: block[k] for k in ("findings_with_error", "agreed", "disputed", "no_response", "open")
    } == {
        "findings_with_error": n,
        "agreed": n - 3,
        "disputed": 3,
        "no_response": 0,
        "open": 0,
    }
    assert (block["upheld"], block["overturned"], block["modified"]) == (1, 1, 1)

    # the final numbers, recomputed here from the findings with the decisions applied
    accuracy, scored, errors = _recompute(audit, decisions)
    by_coder = {c["coder"]: c for c in results["coders"]}
    for coder, value in accuracy.items():
        assert by_coder[coder]["record_accuracy"]["value"] == pytest.approx(value), coder
        assert by_coder[coder]["units_reviewed"] == scored[coder]
    assert {e["unit_id"] for e in results["errors"]} == errors
    assert overturned not in errors and modified in errors
    strata = {s["stratum"]: s for s in results["sampling"]["strata"]}
    population = sum(int(s["population"]) for s in strata.values())
    overall = sum(int(strata[c]["population"]) * a for c, a in accuracy.items()) / population
    assert results["overall"]["record_accuracy"]["value"] == pytest.approx(overall)
    # before the decisions: the findings as returned
    before, _, before_errors = _recompute(audit, None)
    prelim = sum(int(strata[c]["population"]) * a for c, a in before.items()) / population
    assert block["preliminary"]["record_accuracy"]["value"] == pytest.approx(prelim)
    assert overturned in before_errors
    modified_entry = next(e for e in results["errors"] if e["unit_id"] == modified)
    assert modified_entry["audited"]["dx"] == final_dx
    # overturn rate per auditor
    auditor = next(f["auditor"] for f in disputed if f["unit_id"] == overturned)
    group = next(a for a in results["auditors"] if a["auditor"] == auditor)
    mine = [f for f in _round(audit)["findings"] if f["auditor"] == auditor]
    assert group["rebuttal"]["overturned"] == 1
    assert group["rebuttal"]["overturn_rate"] == pytest.approx(1 / len(mine))

    # results.xlsx carries the round too
    sheet = openpyxl.load_workbook(audit / "results.xlsx")["Rebuttal"]
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    decided = {row[0]: row[10] for row in cells if row[0] in (overturned, upheld, modified)}
    assert decided == {upheld: "upheld", overturned: "overturned", modified: "modified"}
    assert ["findings with error", n] == list(cells[5][:2])

    # reports: a rebuttal section; the coder sees the decision; no PRELIMINARY any more
    assert run_captured(["report", audit]).code == 0
    report = _pdf_pages(audit / "report.pdf")
    assert not any("PRELIMINARY" in p for p in report)
    section = next(p for p in report if "7. Rebuttal round" in p and "Accuracy before" in p)
    assert "Disputed findings and their decisions" in "".join(report)
    assert overturned in "".join(report) and "overturned (the original coding stands" in "".join(
        report
    )
    assert (
        "Findings overturned per auditor" in section
        or "Findings overturned per auditor" in "".join(report)
    )
    coder = next(f["coder"] for f in disputed if f["unit_id"] == overturned)
    coder_pdf = "".join(_pdf_pages(audit / "coders" / f"{_stem(coder)}.pdf"))
    assert "Your disagreements and the decisions" in coder_pdf
    assert "Read both sides." in coder_pdf and "tell your audit lead" not in coder_pdf

    # verify passes on the closed round, and the log shows every step
    assert run_captured(["verify", audit]).code == 0
    commands = [e["command"] for e in _events(audit)]
    tail = commands[commands.index("rebuttals") :]
    assert tail[:1] == ["rebuttals"]
    assert [c for c in tail[1:]] == [
        "collect",
        "score",
        "decisions",
        "collect",
        "close",
        "score",
        "report",
        "verify",
    ]
    collects = [e for e in _events(audit) if e["command"] == "collect"][-2:]
    assert len(collects[0]["details"]["responses"]) == n
    assert sorted(d["decision"] for d in collects[1]["details"]["decisions"]) == [
        "modified",
        "overturned",
        "upheld",
    ]


def _stem(coder: str) -> str:
    from audit_kit.reporting.formatting import safe_file_stem

    return safe_file_stem(coder, set())


def _pdf_pages(path: Path) -> list[str]:
    import subprocess

    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    # words of each page, white space as one space (table cells wrap anywhere)
    return [" ".join(p.split()) for p in text.split("\f") if p.strip()]


def test_every_page_says_preliminary_while_the_round_is_open(audit: Path) -> None:
    assert run_captured(["score", audit]).code == 0
    assert run_captured(["report", audit]).code == 0
    for pdf in [audit / "report.pdf", audit / "attestation.pdf", *(audit / "coders").glob("*.pdf")]:
        pages = _pdf_pages(pdf)
        assert pages and all("PRELIMINARY" in p for p in pages), pdf
    coder = "".join(_pdf_pages(next((audit / "coders").glob("*.pdf"))))
    assert f"The rebuttal round is open until {DUE}" in coder


# -- the plan ----------------------------------------------------------------------------------


def test_a_plan_that_requires_the_round_keeps_results_preliminary(tmp_path: Path) -> None:
    audit = build_audit(tmp_path, plan_extra="rebuttal: {required: true, days: 7}\n")
    assert run_captured(["score", audit]).code == 0
    results = json.loads((audit / "results.json").read_text("utf-8"))
    assert results["status"] == "preliminary"
    assert results["status_reasons"] == [
        "the plan requires a rebuttal round and none has been held"
    ]
    assert run_captured(["rebuttals", audit]).code == 0
    assert _round(audit)["due"] == (today() + dt.timedelta(days=7)).isoformat()


@pytest.mark.parametrize("value", ["{days: 0}", "{required: yes-please}", "{days: 14, other: 1}"])
def test_the_rebuttal_plan_key_is_validated(value: str) -> None:
    import yaml
    from crash_helpers import demo_plan_text

    data = yaml.safe_load(demo_plan_text(per_stratum=4) + f"rebuttal: {value}\n")
    with pytest.raises(PlanError) as info:
        parse_plan(data, source="plan.yaml")
    assert "rebuttal" in str(info.value.render())


def test_file_stems_keep_their_letters() -> None:
    taken: set[str] = set()
    assert file_stem("José Núñez", taken) == "Jose_Nunez"
    assert file_stem("jose nunez", taken) == "jose_nunez-2"  # one file system may ignore case
    assert file_stem("CON", set()) == "coder_CON"
    assert file_stem("李", set()) == "coder"


def test_a_decision_lapses_when_the_coder_later_agrees(audit: Path, tmp_path: Path) -> None:
    disputed = _disputed(audit)[:1]
    unit = disputed[0]["unit_id"]
    answers = {unit: ("disagree", "Supported.")}
    first = _answer_all(audit, tmp_path / "first", answers)
    assert run_captured(["collect", audit, *first]).code == 0
    assert run_captured(["decisions", audit]).code == 0
    decided = {
        unit: {
            "Decision": "overturned",
            "Decision rationale": "Supported.",
            "Decided by": "Lead",
            "Decision date": today(),
        }
    }
    path = fill(audit / "decisions" / "decisions.xlsx", tmp_path / "d.xlsx", "Disputes", decided)
    assert run_captured(["collect", audit, path]).code == 0
    # the coder's newer return agrees after all: the finding stands, the decision lapses
    book = next(p for p in first if unit in units_of(p, "Findings"))
    later = fill(
        book, tmp_path / "later" / book.name, "Findings", {unit: {"Coder response": "agree"}}
    )
    assert run_captured(["collect", audit, later]).code == 0
    assert run_captured(["score", audit]).code == 0
    results = json.loads((audit / "results.json").read_text("utf-8"))
    assert results["rebuttal"]["disputed"] == 0 and results["rebuttal"]["overturned"] == 0
    assert unit in {e["unit_id"] for e in results["errors"]}
