"""The whole hcc cycle on the synthetic enrollee-years: sample with the mock-radv preset,
workbooks, an auditor's record review, collect, score, report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from score_helpers import score_json

from audit_kit import findings, reporting, sampling, workbook
from audit_kit.demo.example_data.enrollees import (
    generate_enrollees,
    supported_by_unit,
    write_enrollees,
)
from audit_kit.errors import AuditError
from audit_kit.plan.presets import list_presets


def test_generator_is_deterministic_and_fake() -> None:
    a, b = generate_enrollees(200, 5), generate_enrollees(200, 5)
    assert a.equals(b)
    assert not a.equals(generate_enrollees(200, 6))
    assert a["member_name"].str.starts_with("Testmember ").all()
    assert a["months_enrolled"].is_between(1, 12).all()
    assert (a["raf_score"] > 0).all()


def _fill(source: Path, target: Path, supported: dict[str, list[str]]) -> None:
    wb = load_workbook(source)
    ws = wb["Sample"]
    header = {str(c.value): c.column for c in ws[1] if c.value is not None}
    for row in range(2, ws.max_row + 1):
        uid = ws.cell(row=row, column=header["enrollee_year_id"]).value
        if uid is None or str(uid) not in supported:
            continue
        codes = supported[str(uid)]
        ws.cell(row=row, column=header["Review status"]).value = "reviewed"
        ws.cell(row=row, column=header["Auditor"]).value = "A1"
        ws.cell(row=row, column=header["Review date"]).value = dt.date(2026, 11, 2)
        ws.cell(row=row, column=header["Audited principal dx"]).value = codes[0] if codes else None
        ws.cell(row=row, column=header["Audited other dx"]).value = "; ".join(codes[1:]) or None
    wb.save(target)


def test_mock_radv_cycle(tmp_path: Path) -> None:
    universe = tmp_path / "enrollees.csv"
    frame = write_enrollees(universe, rows=1500)
    plan = tmp_path / "plan.yaml"
    plan.write_text(list_presets()["mock-radv"].read_text("utf-8"), "utf-8")
    out = tmp_path / "audit"
    drawn = sampling.draw_sample(plan, universe, out)
    assert drawn.sample_size == 100 and len(drawn.strata) == 3
    books = workbook.write_workbooks(out, auditors=["A1"])
    sample = pl.read_csv(out / "sample.csv", infer_schema=False)
    truth = supported_by_unit(
        sample.join(frame.select("enrollee_year_id").cast(pl.String), on="enrollee_year_id")
    )
    returned = []
    for book in books:
        target = tmp_path / "returned" / Path(book).name
        target.parent.mkdir(exist_ok=True)
        _fill(Path(book), target, dict(truth))
        returned.append(target)
    findings.collect(out, returned)
    results = score_json(out)
    overall = results["overall"]
    hccs = overall["hccs"]
    # The review only removes codes: an HCC is "added" only where removing a code unmasks a
    # lower HCC of its hierarchy (E11.69 unsupported, E11.9 supported: HCC 37 -> 38).
    assert hccs["deleted"] > 0 and hccs["added"] <= hccs["deleted"]
    for u in results["units"]:
        for added in set(u["hccs_supported"]) - set(u["hccs_submitted"]):
            assert added == "V28 HCC 38" and "V28 HCC 37" in u["hccs_submitted"]
    assert hccs["kept"] + hccs["deleted"] == hccs["submitted"]
    assert 0 < overall["hcc_accuracy"]["lower"] <= overall["hcc_accuracy"]["value"] < 1
    ext = overall["extrapolation"]
    assert ext["point_estimate"] > 0  # only deletions: the plan was overpaid
    assert overall["financial"]["underpayment"] == 0
    units = [u for u in results["units"] if u["scored"]]
    assert all(u["raf_submitted"] >= u["raf_supported"] for u in units)
    coders = {c["coder"]: c for c in results["coders"]}
    # rc04's records support fewer codes than rc01's (the simulated truth: 30 % vs 5 %)
    assert coders["rc04"]["hcc_accuracy"]["value"] < coders["rc01"]["hcc_accuracy"]["value"]
    reports = reporting.render_reports(out)
    report = next(Path(r) for r in reports if Path(r).name == "report.pdf")
    pdf_text = " ".join(" ".join(p.extract_text() for p in PdfReader(report).pages).split())
    assert "Risk adjustment (CMS-HCC)" in pdf_text and "Most deleted HCCs" in pdf_text
    top = hccs["most_deleted"][0]
    assert top["hcc"] in pdf_text
    # no member names (the findings table names units by their enrollee-year id, as for any
    # audit; the HCC section itself lists HCCs and counts only)
    assert "Testmember" not in pdf_text
    section = pdf_text.split("Risk adjustment (CMS-HCC)")[1].split("Other breakdowns")[0]
    assert "EY0" not in section


def test_sampling_names_bad_demographics_by_row(tmp_path: Path) -> None:
    frame = generate_enrollees(300)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 4)
        .then(pl.lit("Z"))
        .otherwise(pl.col("sex"))
        .alias("sex"),
        pl.when(pl.int_range(pl.len()) == 9)
        .then(13)
        .otherwise(pl.col("months_enrolled"))
        .alias("months_enrolled"),
    )
    universe = tmp_path / "enrollees.csv"
    frame.write_csv(universe)
    plan = tmp_path / "plan.yaml"
    plan.write_text(list_presets()["mock-radv"].read_text("utf-8"), "utf-8")
    with pytest.raises(AuditError) as info:
        sampling.draw_sample(plan, universe, tmp_path / "audit")
    by_where = {p.where: p for p in info.value.problems}
    sex = next(p for w, p in by_where.items() if "'sex' (sex)" in w)
    months = next(p for w, p in by_where.items() if "'months_enrolled' (months)" in w)
    assert "row 6" in sex.where  # data row 5 is line 6 of the file (header on line 1)
    assert "M or F" in sex.expected
    assert "row 11" in months.where and "1-12" in months.expected
