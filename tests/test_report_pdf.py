"""End-to-end tests of render_reports: the PDFs themselves, read back with pypdf.

One small audit (3 coders x 10 units, see report_helpers) is rendered once per module; the tests
check sections, numbers against results.json, the footer on every page, the attached results.json,
PDF/A and document metadata, the audit event, literal rendering of hostile rationale text, and
that no patient name from sample.csv reaches any PDF.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from report_helpers import PATIENT_NAMES, make_audit

from audit_kit.errors import AuditError, InputError, IntegrityError
from audit_kit.folder.manifest import AuditFolder
from audit_kit.reporting import render_reports
from audit_kit.reporting.context import money, pct, pct_lower, pct_upper

HOSTILE_RATIONALE = '<b>bold?</b> {{ 7 * 7 }} {% if true %}x{% endif %} & "quotes"'


def _hostile(results: dict[str, Any]) -> None:
    results["errors"][0]["rationale"] = HOSTILE_RATIONALE
    results["errors"][0]["reference"] = "{{ config }}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path, results = make_audit(
        tmp_path_factory.mktemp("pdf") / "audit",
        coders=3,
        units_per_coder=10,
        seed=3,
        error_rate=0.3,
        mutate=_hostile,
    )
    paths = render_reports(path)
    readers = {p.relative_to(path).as_posix(): PdfReader(io.BytesIO(p.read_bytes())) for p in paths}
    texts = {
        name: [page.extract_text() for page in reader.pages] for name, reader in readers.items()
    }
    return {"path": path, "results": results, "paths": paths, "readers": readers, "texts": texts}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_writes_every_pdf_in_one_event(rendered: dict[str, Any]) -> None:
    path: Path = rendered["path"]
    names = sorted(p.relative_to(path).as_posix() for p in rendered["paths"])
    assert names == [
        "attestation.pdf",
        "coders/C001.pdf",
        "coders/C002.pdf",
        "coders/C003.pdf",
        "report.pdf",
    ]
    folder = AuditFolder.open(path)
    event = folder.events[-1]
    assert event["command"] == "report"
    assert sorted(event["outputs"]) == names
    assert set(event["inputs"]) == {"results.json", "sampling.json", "sampling.txt"}
    assert event["details"]["pdf_variant"] == "pdf/a-3b"
    assert folder.verify_hashes() == []
    for name in names:
        assert folder.read_bytes(name).startswith(b"%PDF-")


def test_executive_has_every_section(rendered: dict[str, Any]) -> None:
    text = _flat(" ".join(rendered["texts"]["report.pdf"]))
    for heading in (
        "CODING COMPLIANCE AUDIT REPORT",
        "Sign-off",
        "Prepared by",
        "Signature",
        "1. Summary",
        "2. Accuracy per coder",
        "3. Error categories",
        "4. Financial detail",
        "Extrapolation to the universe",
        "6. Findings with errors",
        "Appendix A. Methodology",
        "A.1 Sampling record",
        "Frame filters and exclusions",
        "Random numbers",
        "A.2 Appraisal printout",
        "VARIABLE APPRAISAL",
        "ATTRIBUTE APPRAISAL",
        "A.3 Demand amount",
        "A.4 Skewness",
        "Wichmann-Hill seeds",
        "65,536",
        "Sampling statement as recorded",
    ):
        assert heading in text, heading


def test_executive_numbers_equal_results(rendered: dict[str, Any]) -> None:
    results = rendered["results"]
    text = _flat(" ".join(rendered["texts"]["report.pdf"]))
    overall = results["overall"]
    for measure in ("record_accuracy", "code_accuracy"):
        interval = overall[measure]
        assert pct(interval["value"]) in text
        assert f"{pct_lower(interval['lower'])} to {pct_upper(interval['upper'])}" in text
    ex = overall["extrapolation"]
    for key in ("point_estimate", "demand_amount", "one_sided_90_lower", "two_sided_90_lower"):
        assert money(ex[key], cents=False) in text, key
    for level in ("80", "90", "95"):
        assert money(ex["limits"][level]["upper"], cents=False) in text
    for key in ("overpayment", "underpayment", "net", "gross"):
        assert money(overall["financial"][key]) in text
    for coder in results["coders"]:
        assert pct(coder["code_accuracy"]["value"]) in text
        assert money(coder["financial"]["overpayment"]) in text
    for error in results["errors"]:
        assert error["unit_id"] in text
    sampling = results["sampling"]
    assert sampling["universe"]["sha256"] in text.replace(" ", "")
    assert "20261127" in text
    assert "22684, 11141, 1666" in text
    assert "Lower limit of the one-sided 90% confidence interval" in text
    assert "(record missing)" in text and "record missing: no code is supported" in text


def test_footer_on_every_page(rendered: dict[str, Any]) -> None:
    results = rendered["results"]
    sha = results["audit"]["findings_sha256"]
    for name, pages in rendered["texts"].items():
        for i, page in enumerate(pages, start=1):
            flat = _flat(page)
            assert f"Page {i} of {len(pages)}" in flat, (name, i)
            assert results["audit"]["id"] in flat, (name, i)
            assert sha in flat.replace(" ", ""), (name, i)


def test_results_json_attached_to_executive_only(rendered: dict[str, Any]) -> None:
    readers = rendered["readers"]
    attached = readers["report.pdf"].attachments
    assert list(attached) == ["results.json"]
    data = attached["results.json"][0]
    assert data == (rendered["path"] / "results.json").read_bytes()
    assert json.loads(data)["audit"]["id"] == rendered["results"]["audit"]["id"]
    assert not readers["attestation.pdf"].attachments


def test_pdfa_and_document_metadata(rendered: dict[str, Any]) -> None:
    audit = rendered["results"]["audit"]
    for name, reader in rendered["readers"].items():
        xmp = reader.xmp_metadata
        assert xmp is not None, name
        raw = xmp.stream.get_data().decode()
        assert re.search(r"pdfaid:part[^>]*>\s*3|pdfaid:part=\"3\"", raw), name
        assert re.search(r"pdfaid:conformance[^>]*>\s*B|pdfaid:conformance=\"B\"", raw), name
        meta = reader.metadata
        assert meta is not None
        assert meta.author == audit["organisation"]
        assert meta.subject == audit["id"]
        assert audit["name"] in (meta.title or "")
        assert "/OutputIntents" in reader.trailer["/Root"]


def test_hostile_rationale_appears_literally(rendered: dict[str, Any]) -> None:
    coder = rendered["results"]["errors"][0]["coder"]
    for name in ("report.pdf", f"coders/{coder}.pdf"):
        text = _flat(" ".join(rendered["texts"][name]))
        assert "<b>bold?</b> {{ 7 * 7 }} {% if true %}x{% endif %}" in text, name
        assert "{{ config }}" in text, name
        assert "bold? 49" not in text


def test_no_patient_name_in_any_pdf(rendered: dict[str, Any]) -> None:
    sample = (rendered["path"] / "sample.csv").read_text()
    assert all(name in sample for name in PATIENT_NAMES)  # the fixture does carry PHI
    for name, reader in rendered["readers"].items():
        raw = b"".join(
            page.get_contents().get_data() for page in reader.pages if page.get_contents()
        )
        text = " ".join(rendered["texts"][name])
        for patient in PATIENT_NAMES:
            assert patient not in text, (name, patient)
            assert patient.split()[1] not in text, (name, patient)
            assert patient.encode() not in raw


def test_coder_report_shows_only_that_coder(rendered: dict[str, Any]) -> None:
    results = rendered["results"]
    for coder in results["coders"]:
        name = coder["coder"]
        text = _flat(" ".join(rendered["texts"][f"coders/{name}.pdf"]))
        assert f"Feedback for {name}" in text
        assert pct(coder["code_accuracy"]["value"]) in text
        assert pct(results["overall"]["code_accuracy"]["value"]) in text  # the team
        mine = {e["unit_id"] for e in results["errors"] if e["coder"] == name}
        others = {e["unit_id"] for e in results["errors"] if e["coder"] != name}
        assert all(u in text for u in mine)
        assert not any(u in text for u in others)
        assert not any(c["coder"] in text for c in results["coders"] if c["coder"] != name)
        for error in results["errors"]:
            if error["coder"] == name and error["reference"] not in (None, "{{ config }}"):
                assert error["reference"] in text


def test_attestation_is_one_page_with_the_claim(rendered: dict[str, Any]) -> None:
    pages = rendered["texts"]["attestation.pdf"]
    assert len(pages) == 1
    code = rendered["results"]["overall"]["code_accuracy"]
    text = _flat(pages[0])
    assert f"At 95% confidence, coding accuracy is at least {pct_lower(code['lower'])}." in text
    assert "Population" in text and "Method" in text and "Attested by" in text


def test_requires_results(tmp_path: Path) -> None:
    folder = AuditFolder.create(tmp_path / "a", name="x")
    with pytest.raises(AuditError, match="not been run") as info:
        render_reports(folder.path)
    assert "audit-kit score" in info.value.problems[0].fix


def test_changed_results_json_is_refused(tmp_path: Path) -> None:
    path, _ = make_audit(tmp_path / "a", coders=1, units_per_coder=4)
    with (path / "results.json").open("a") as fh:
        fh.write(" ")
    with pytest.raises(IntegrityError):
        render_reports(path)
    assert not (path / "report.pdf").exists()


def test_missing_required_keys_are_all_named(tmp_path: Path) -> None:
    def breaks(results: dict[str, Any]) -> None:
        del results["audit"]["findings_sha256"]
        del results["overall"]["code_accuracy"]["lower"]
        results["coders"][0]["verdict"] = "great"
        del results["errors"]

    path, results = make_audit(tmp_path / "a", coders=2, units_per_coder=4, mutate=breaks)
    with pytest.raises(InputError) as info:
        render_reports(path)
    wheres = [p.where for p in info.value.problems]
    first_coder = results["coders"][0]["coder"]  # named beside its index, for the reader
    assert wheres == [
        "results.json: audit.findings_sha256",
        "results.json: overall.code_accuracy.lower",
        f"results.json: coders[0] ({first_coder}).verdict",
        "results.json: errors",
    ]
    assert all("audit-kit score" in p.fix for p in info.value.problems)
    assert not (path / "report.pdf").exists()
