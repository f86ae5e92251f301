"""Blind double review: subsample, blind workbooks, collect, agreement in results.json."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from conftest import plan_dict, universe_rows, write_csv
from wb_helpers import REVIEWED, fill

from audit_kit.errors import PlanError
from audit_kit.findings import collect
from audit_kit.folder.manifest import AuditFolder
from audit_kit.reporting.results_workbook import results_workbook_bytes
from audit_kit.sampling import draw_sample
from audit_kit.scoring import score_audit
from audit_kit.workbook import load_layouts, write_workbooks

AUDITORS = ["ann", "bob", "cat"]


def _universe(tmp: Path) -> Path:
    rows = universe_rows(200)
    for r in rows:  # N18.3 is a category, refused by collect; use a billable code
        r["dx_codes"] = r["dx_codes"].replace("N18.3", "N18.30")
    return write_csv(tmp / "universe.csv", rows)


def _sample(tmp: Path, name: str, **double: Any) -> Path:
    plan = plan_dict(
        double_review=double,
        spares=2,
        workbook={"columns": ["unit_id", "coder", "dx", "cpt"]},
    )
    (tmp / f"{name}.yaml").write_text(yaml.safe_dump(plan))
    draw_sample(tmp / f"{name}.yaml", _universe(tmp), tmp / name)
    return tmp / name


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    tmp = tmp_path_factory.mktemp("double")
    audit = _sample(tmp, "audit", units=6, reference="cat")
    return audit, write_workbooks(audit, auditors=AUDITORS)


def _planned(audit: Path) -> list[str]:
    return list(json.loads((audit / "sampling.json").read_text())["double_review"]["units"])


def _units_in(book: Path) -> list[str]:
    ws = openpyxl.load_workbook(book)["Sample"]
    return [str(r[0]) for r in ws.iter_rows(min_row=2, values_only=True) if r[0] is not None]


def test_subsample_is_recorded_and_recreated_from_the_seed(
    issued: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    audit, _ = issued
    record = json.loads((audit / "sampling.json").read_text())["double_review"]
    assert record["size"] == 6 and record["reference"] == "cat"
    assert len(set(record["units"])) == 6
    sample = [
        line.split(",")[0]
        for line in (audit / "sample.csv").read_text().splitlines()[1:]
        if ",false," in line or line.endswith(",false")
    ]
    assert set(record["units"]) <= set(sample)  # sampled units, never spares
    assert [sample[p - 1] for p in record["positions"]] == record["units"]
    again = _sample(tmp_path, "again", units=6, reference="cat")
    assert _planned(again) == record["units"]  # same seed, same subsample
    assert "Double review" in (audit / "sampling.txt").read_text()
    from audit_kit.sampling import verify_audit

    assert verify_audit(audit, audit.parent / "universe.csv").redrawn  # re-drawn, identical


def test_double_units_are_in_exactly_two_workbooks_and_the_reference_has_one(
    issued: tuple[Path, list[Path]],
) -> None:
    audit, books = issued
    planned = _planned(audit)
    where = {b.stem: set(_units_in(b)) for b in books}
    for unit in planned:
        holders = [name for name, units in where.items() if unit in units]
        assert len(holders) == 2, unit
        assert "W1-cat" in holders  # the reference reviewer gets the second copy
    others = {u for units in where.values() for u in units} - set(planned)
    for unit in others:
        assert sum(unit in units for units in where.values()) == 1


def _all_text(book: Path) -> list[str]:
    wb = openpyxl.load_workbook(book)
    out = list(wb.sheetnames)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            out.extend(str(v) for v in row if v is not None)
        for dv in ws.data_validations.dataValidation:
            out.append(str(dv.formula1))
    out.extend(str(n) for n in wb.defined_names)
    with zipfile.ZipFile(book) as z:  # docProps, comments, anything else in the package
        for name in z.namelist():
            if not name.startswith("xl/worksheets/"):
                out.append(z.read(name).decode("utf-8", "replace"))
    return out


def test_nothing_issued_tells_that_a_unit_is_doubled(issued: tuple[Path, list[Path]]) -> None:
    audit, books = issued
    planned = set(_planned(audit))
    for book in books:
        me = book.stem.split("-")[1]
        text = "\n".join(_all_text(book)).lower()
        sidecar = book.with_suffix(".json").read_text()
        for word in ("double", "second review", "primary", '"role"', "blind"):
            assert word not in text, (book.name, word)
            assert word not in sidecar.lower(), (book.name, word)
        for other in AUDITORS:
            if other != me:
                assert f"\n{other}\n" not in f"\n{text}\n"  # no other auditor named
        layout = json.loads(sidecar)
        keys = {tuple(sorted(u)) for u in layout["units"] if not u["spare"]}
        assert len(keys) == 1  # double and single units are described alike
    # ... while the audit folder itself knows which copy is the second review
    roles = {
        (lay.auditor, u["unit_id"]): u["role"]
        for lay in load_layouts(AuditFolder.open(audit)).values()
        for u in lay.units
    }
    assert {u for (_, u), r in roles.items() if r == "second"} == planned


def _returns(books: list[Path], out: Path, error_unit: str | None = None) -> dict[str, Path]:
    done = {}
    for book in books:
        entries = {}
        if error_unit is not None and book.stem == "W1-cat":
            entries = {error_unit: {**REVIEWED, "Error category": "coding", "Rationale": "r"}}
        done[book.stem] = fill(book, out / book.name, entries, default=REVIEWED)
    return done


def test_collect_keeps_both_findings_reports_pending_and_scores_agreement(
    tmp_path: Path,
) -> None:
    audit = _sample(tmp_path, "audit", units=6, reference="cat")
    books = write_workbooks(audit, auditors=AUDITORS)
    planned = _planned(audit)
    layouts = load_layouts(AuditFolder.open(audit))
    primary_of = {
        u["unit_id"]: lay.auditor
        for lay in layouts.values()
        for u in lay.units
        if u["role"] == "primary"
    }
    # a double unit whose primary auditor is not the reference: cat disagrees on it
    target = next(u for u in planned if primary_of[u] != "cat")
    returns = _returns(books, tmp_path / "ret", error_unit=target)
    first = collect(audit, [returns["W1-ann"], returns["W1-bob"]])
    # every double unit has exactly one of its two reviews back (cat holds one copy of each)
    assert sorted(first.double_review_pending) == sorted(planned)
    assert "pending" in first.next_step
    partial = score_audit(audit).to_json_dict()
    assert sorted(partial["agreement"]["pending"]) == sorted(planned)
    from audit_kit.folder.status import audit_status

    assert sorted(audit_status(audit).double_review_pending) == sorted(planned)

    final = collect(audit, [returns["W1-cat"]])
    assert final.double_review_pending == ()
    assert audit_status(audit).double_review_pending == ()
    assert final.double_review == 6
    results = score_audit(audit, results_workbook=results_workbook_bytes).to_json_dict()
    agreement = results["agreement"]
    assert agreement["pending"] == []
    assert agreement["compared_units"] == 6
    record = agreement["levels"]["record"]
    # 5 units both "no error", 1 unit: primary "no error", reference "error"
    assert record["units"] == 6 and record["agreed"] == 5
    assert record["percent_agreement"] == pytest.approx(5 / 6)
    # Cohen: p_e = (6/6)(5/6) + 0 = 5/6 -> kappa 0; AC1: pi = (1/12, 11/12),
    # p_e = 2 (1/12)(11/12) = 22/144, AC1 = (5/6 - 22/144) / (1 - 22/144) = 98/122
    assert record["cohen_kappa"]["value"] == pytest.approx(0.0, abs=1e-12)
    assert record["gwet_ac1"]["value"] == pytest.approx(98 / 122, rel=1e-12)
    assert "fleiss_kappa" in record  # three auditors shared the double units
    assert [d["unit_id"] for d in agreement["disagreements"]] == [target]
    assert agreement["disagreements"][0]["kinds"] == ["record"]
    # the reference's finding is scored where the two disagree
    assert target in {e["unit_id"] for e in results["errors"]}
    by_auditor = {a["auditor"]: a for a in agreement["auditor_accuracy"]}
    assert "cat" not in by_auditor
    wrong = by_auditor[primary_of[target]]
    assert wrong["agreed"] == wrong["units"] - 1
    assert wrong["accuracy"]["value"] == pytest.approx((wrong["units"] - 1) / wrong["units"])
    assert wrong["target"] == 0.95 and wrong["verdict"] in {"below", "inconclusive"}

    # results.xlsx: the agreement sheets carry the same numbers
    wb = openpyxl.load_workbook(audit / "results.xlsx")
    rows = {r[0]: r for r in wb["Agreement"].iter_rows(min_row=2, values_only=True)}
    assert rows["record"][3] == 5 and rows["record"][4] == pytest.approx(5 / 6)
    assert [r[0] for r in wb["Disagreements"].iter_rows(min_row=2, values_only=True)] == [target]
    assert {r[0] for r in wb["Auditor accuracy"].iter_rows(min_row=2, values_only=True)} == set(
        by_auditor
    )
    # report.pdf: an agreement section with the table and the disagreeing unit, by kind
    from pypdf import PdfReader

    from audit_kit.reporting import render_reports

    render_reports(audit)
    pdf = "\n".join(p.extract_text() or "" for p in PdfReader(audit / "report.pdf").pages)
    assert "Agreement between auditors" in pdf
    assert "Gwet's AC1" in pdf and "83.3%" in pdf
    assert target in pdf.split("Units on which the auditors disagreed")[1]
    assert "Testpatient" not in pdf  # no patient identifiers
    attestation = "\n".join(
        p.extract_text() or "" for p in PdfReader(audit / "attestation.pdf").pages
    )
    assert "Auditor accuracy" in attestation and "reference reviewer cat" in attestation


def test_subsample_larger_than_the_sample_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        _sample(tmp_path, "big", units=21)
    problem = info.value.problems[0]
    assert problem.where.endswith("double_review.units")
    assert "20" in problem.expected and problem.found == "21"
    assert not (tmp_path / "big" / "sample.csv").exists()


def test_reference_must_be_one_of_the_auditors(tmp_path: Path) -> None:
    from audit_kit.errors import InputError

    audit = _sample(tmp_path, "audit", share=0.1, reference="dora")
    with pytest.raises(InputError) as info:
        write_workbooks(audit, auditors=["ann", "bob"])
    assert info.value.problems[0].where == "plan.yaml: double_review.reference"
