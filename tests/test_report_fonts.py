"""The reports' fonts: the shipped DejaVu faces, embedded whole or subset, and what each keeps.

WeasyPrint subsets fonts fast with HarfBuzz's subsetting library and slowly (fontTools) without
it; reporting/pdf.py embeds the small shipped faces whole where that library is missing. Both
ways are rendered here on whatever machine runs the tests (``HARFBUZZ_SUBSET`` is the switch
the renderer reads; WeasyPrint itself subsets with fontTools when the library is absent), and
each PDF is read back with pypdf: the names with their accents, the embedded font files, the
PDF/A markers and the attached results.json.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from report_helpers import make_audit

from audit_kit import reporting
from audit_kit.folder.manifest import AuditFolder
from audit_kit.plan.presets import template_dir
from audit_kit.reporting import pdf as pdf_module
from audit_kit.reporting.environment import template_roots
from audit_kit.reporting.pdf import FULL_FONT_MAX_BYTES, RenderJob, render_job

FONTS = template_dir() / "fonts"
NAMES = {
    "C001": "José Núñez",
    "C002": "Zoë Ångström-Øster",
    "C003": "Łukasz Wróbel",
}
RATIONALE = "Señora’s note — “chronic”, ≥ 5 µg/dL; see § 4, ½ dose (Ç ß æ œ)."
#: Names a US coding team has, in the scripts the shipped faces are meant to cover.
COVERED = (
    "José Núñez",
    "Zoë Ångström-Øster",
    "Łukasz Wróbel",
    "Nguyễn Thị Minh Khai",
    "Șerban Țurcanu",
    "Dmitriy Дмитрий Ковальчук",
    "Σοφία Παπαδοπούλου",
    "İlkay Güzeloğlu",
    "Ægir Þórsson",
    RATIONALE,
    "\u25cf\u25cb\u25a0\u00b7\u2212\u2192\u2264\u2265\u00b1\u00d7\u2713\u20ac\ufffd",
)


def _rename(results: dict[str, Any]) -> None:
    for row in results["coders"]:
        row["coder"] = NAMES.get(row["coder"], row["coder"])
    for error in results["errors"]:
        error["coder"] = NAMES.get(error["coder"], error["coder"])
    results["errors"][0]["rationale"] = RATIONALE


def _font_files(reader: PdfReader) -> dict[str, bytes]:
    """BaseFont name -> the embedded font file (FontFile2) of every font the pages use."""
    found: dict[str, bytes] = {}
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font")
        for ref in (fonts.get_object() if fonts else {}).values():
            font = ref.get_object()
            for descendant in font["/DescendantFonts"]:
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                found[str(font["/BaseFont"])] = descriptor["/FontFile2"].get_object().get_data()
    return found


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# -- the shipped faces ------------------------------------------------------------------------


def test_shipped_faces_cover_every_name_and_mark() -> None:
    sans = sorted(FONTS.glob("DejaVuSans*.ttf"))
    mono = [p for p in sans if "Mono" in p.name]
    assert len(sans) == 6 and len(mono) == 2
    for path in sans:
        cmap = TTFont(path).getBestCmap()
        # The mono faces set codes and printouts: ASCII and Latin-1 (DejaVu's mono has less).
        texts = ("".join(map(chr, range(0x20, 0x7F))) + "".join(map(chr, range(0xA0, 0x100))),)
        for text in texts if path in mono else COVERED:
            missing = {c for c in text if ord(c) not in cmap}
            assert not missing, (path.name, sorted(missing))


def test_every_drawable_glyph_has_a_character() -> None:
    """A whole embedded font maps glyphs to text through its character map: a glyph reached
    only by substitution (the "fi" ligature) would extract as the wrong text or none."""
    faces = sorted(FONTS.glob("*.ttf"))
    assert len(faces) == 6
    for path in faces:
        font = TTFont(path)
        mapped = set(font.getBestCmap().values())
        glyf = font["glyf"]
        parts = {
            c.glyphName
            for g in font.getGlyphOrder()
            if glyf[g].isComposite()
            for c in glyf[g].components
        }
        orphans = [g for g in font.getGlyphOrder() if g not in mapped | parts | {".notdef"}]
        assert not orphans, (path.name, orphans[:10])
        assert "fpgm" not in font and "prep" not in font  # unhinted
        assert path.stat().st_size <= FULL_FONT_MAX_BYTES


def test_fonts_css_names_every_shipped_face() -> None:
    css = (template_dir() / "fonts.css").read_text("utf-8")
    urls = set(re.findall(r"url\(fonts/([^)]+)\)", css))
    assert urls == {p.name for p in FONTS.glob("*.ttf")}
    assert "@import url(fonts.css)" in (template_dir() / "report.css").read_text("utf-8")


# -- the PDFs, with fonts embedded whole and subset --------------------------------------------


@pytest.fixture(scope="module", params=[False, True], ids=["whole", "subset"])
def rendered(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pdf_module, "HARFBUZZ_SUBSET", request.param)
        path, results = make_audit(
            tmp_path_factory.mktemp("fonts") / "audit",
            coders=3,
            units_per_coder=10,
            seed=3,
            error_rate=0.3,
            mutate=_rename,
        )
        paths = render_reports(path)
    readers = {p.relative_to(path).as_posix(): PdfReader(io.BytesIO(p.read_bytes())) for p in paths}
    return {"subset": request.param, "path": path, "results": results, "readers": readers}


def render_reports(path: Path) -> list[Path]:
    return reporting.render_reports(path)


def test_names_and_rationale_extract_exactly(rendered: dict[str, Any]) -> None:
    readers = rendered["readers"]
    executive = _flat(" ".join(p.extract_text() for p in readers["report.pdf"].pages))
    for name in NAMES.values():
        assert name in executive
    assert _flat(RATIONALE) in executive
    # Words with "fi" and "fl" extract as letters, not as ligature characters.
    assert "confidence" in executive and "financial" in executive
    assert "\ufb01" not in executive and "\ufb02" not in executive
    coder_pdfs = [name for name in readers if name.startswith("coders/")]
    assert len(coder_pdfs) == 3
    for name in coder_pdfs:
        text = _flat(" ".join(p.extract_text() for p in readers[name].pages))
        assert sum(f"Feedback for {n}" in text for n in NAMES.values()) == 1, name


def test_fonts_are_the_shipped_faces_embedded(rendered: dict[str, Any]) -> None:
    shipped = {p.read_bytes() for p in FONTS.glob("*.ttf")}
    smallest = min(len(data) for data in shipped)
    for name, reader in rendered["readers"].items():
        files = _font_files(reader)
        assert files, name
        for base_font, data in files.items():
            assert "Audit-Kit-" in base_font, (name, base_font)
            if rendered["subset"]:
                assert data not in shipped and len(data) < smallest, (name, base_font)
            else:
                assert data in shipped, (name, base_font)  # the same file in every PDF


def test_pdfa_and_attachment_kept(rendered: dict[str, Any]) -> None:
    for name, reader in rendered["readers"].items():
        raw = reader.xmp_metadata.stream.get_data().decode()  # type: ignore[union-attr]
        assert re.search(r"pdfaid:part[^>]*>\s*3|pdfaid:part=\"3\"", raw), name
        assert re.search(r"pdfaid:conformance[^>]*>\s*B|pdfaid:conformance=\"B\"", raw), name
        assert "/OutputIntents" in reader.trailer["/Root"], name
    attached = rendered["readers"]["report.pdf"].attachments["results.json"][0]
    assert json.loads(attached) == rendered["results"]
    assert (rendered["path"] / "results.json").read_bytes() == attached


def test_sizes_stay_fit_for_email(rendered: dict[str, Any]) -> None:
    path = rendered["path"]
    coder_limit = 60_000 if rendered["subset"] else 260_000
    for name in rendered["readers"]:
        size = (path / name).stat().st_size
        assert size < (400_000 if name == "report.pdf" else coder_limit), (name, size)


# -- a letter the shipped faces lack ----------------------------------------------------------


def test_a_letter_outside_the_shipped_faces_never_embeds_a_large_font_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pdf_module, "HARFBUZZ_SUBSET", False)
    roots = tuple(str(r) for r in template_roots(None))
    html = (
        '<html><head><link rel="stylesheet" href="report.css"></head><body>'
        "<h1>Feedback for José</h1><p>Hebrew: \u05d3\u05d5\u05d3 \u05db\u05d4\u05df; "
        "Armenian: \u0531\u0580\u0561\u0574</p></body></html>"
    )
    result = render_job(RenderJob(output="x.pdf", html=html, roots=roots, batch="t"))
    files = _font_files(PdfReader(io.BytesIO(result.pdf)))
    assert files
    assert all(len(data) <= FULL_FONT_MAX_BYTES for data in files.values())
    if any("Audit-Kit-" not in name for name in files):  # a system font drew those letters
        assert result.subset_fonts
    plain = RenderJob(output="y.pdf", html=html.split("<p>")[0] + "</body></html>", roots=roots)
    assert not render_job(plain).subset_fonts  # the shipped faces alone: embedded whole


# -- one report set, any number of workers ----------------------------------------------------


def test_parallel_and_serial_rendering_give_identical_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = make_audit(
        tmp_path / "audit", coders=2, units_per_coder=10, seed=3, error_rate=0.3, mutate=_rename
    )
    folder = AuditFolder.open(path)
    results, sampling, statement, _ = reporting._load(folder)
    jobs = reporting.build_jobs(
        results,
        sampling,
        statement=statement,
        roots=template_roots(None),
        rendered_at="2026-11-30T12:00:00Z",
        results_bytes=folder.read_bytes("results.json"),
    )
    serial = reporting._run(jobs)
    monkeypatch.setattr(reporting, "PARALLEL_MIN_JOBS", 1)
    monkeypatch.setattr(reporting, "_cores", lambda: 2)
    parallel = reporting._run(jobs)
    assert [r.output for r in parallel] == [j.output for j in jobs]
    assert [r.pdf for r in parallel] == [r.pdf for r in serial]
