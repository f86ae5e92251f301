"""Render pictures of a real auditor workbook for docs/auditor-guide.md.

    .venv/bin/python docs/gen_workbook_pictures.py          # needs soffice and pdftoppm

Builds a small audit from the synthetic example universe, writes the workbooks, lets the
simulated auditors fill one, then prints its Instructions and Sample sheets through LibreOffice
(`soffice --headless --convert-to pdf`) and turns the pages into PNG (`pdftoppm`), cropped, in
docs/img/. Nothing here is used at run time; the pictures are committed so readers need no
LibreOffice. Debian: `apt-get install libreoffice-calc-nogui poppler-utils`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
from PIL import Image, ImageChops

from audit_kit.demo.example_data import DEMO_PLAN_YAML, write_universe
from audit_kit.demo.simulation import fill_workbooks
from audit_kit.sampling import draw_sample
from audit_kit.workbook import write_workbooks

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "img"


def _print_copy(path: Path, out: Path, sheet: str, *, rows: int, pages_wide: int) -> None:
    """Save a copy that prints one sheet only: landscape, the first rows, N pages wide."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        if ws.title != sheet:
            ws.sheet_state = "hidden" if ws.sheet_state == "visible" else ws.sheet_state
            continue
        wb.active = wb.worksheets.index(ws)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = pages_wide
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.gridLines = True
        last = openpyxl.utils.get_column_letter(ws.max_column)
        if sheet == "Sample":
            # Show rows with findings among clean ones: hide the rest (hidden rows don't print).
            header = {c.value: c.column for c in ws[1]}
            category = header["Error category"]
            with_error = [r for r in range(2, ws.max_row + 1) if ws.cell(r, category).value]
            clean = [r for r in range(2, ws.max_row + 1) if r not in with_error]
            shown = set(with_error[: rows // 2] + clean[: rows - min(len(with_error), rows // 2)])
            for r in range(2, ws.max_row + 1):
                ws.row_dimensions[r].hidden = r not in shown
            ws.print_area = f"A1:{last}{max(shown)}"
        else:
            ws.print_area = f"A1:{last}{min(rows + 1, ws.max_row)}"
    wb.save(out)


def _crop(image: Image.Image) -> Image.Image:
    background = Image.new(image.mode, image.size, "white")
    box = ImageChops.difference(image, background).getbbox()
    if box is None:
        return image
    left, top, right, bottom = box
    return image.crop((max(left - 12, 0), max(top - 12, 0), right + 12, bottom + 12))


#: A billing export of the ordinary kind: modifiers in their own column, amounts with '$' and
#: thousands separators.
MESSY_UNIVERSE = "Encounter ID,Coder,DOS,Dx Codes,CPT 1,Mod 1,Paid Amount\n" + "".join(
    f"E{i + 1:04d},{('Ann Lee', 'José Núñez')[i % 2]},2026-0{1 + i % 6}-{10 + i % 18},"
    f"{('E11.9;I10', 'J44.9', 'M54.50')[i % 3]},{('99214', '99213', '99215', '93000')[i % 4]},"
    f'{"25" if i % 3 == 0 else ""},"${(120 + 97 * i) * (9 if i % 5 == 0 else 1):,.2f}"\n'
    for i in range(40)
)
MESSY_PLAN = """name: Q1 2026 professional coding review
columns:
  unit_id: Encounter ID
  coder: Coder
  service_date: DOS
  dx: Dx Codes
  cpt: CPT 1
  modifiers: {CPT 1: [Mod 1]}
  paid: Paid Amount
design: {method: stratified, strata: {by: [coder]}}
size: {per_stratum: 4}
rng: {generator: pcg64, seed: 20260301}
workbook:
  columns: [unit_id, coder, service_date, dx, cpt, paid]
"""


def _pdf_to_png(pdf: Path, out: Path, *, page: int = 1, resolution: int = 60) -> None:
    prefix = pdf.with_name(f"{pdf.stem}-shot")
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(resolution), "-f", str(page), "-l", str(page), str(pdf),
         str(prefix)],
        check=True,
    )  # fmt: skip
    (shot,) = sorted(pdf.parent.glob(f"{prefix.name}-*.png"))
    _crop(Image.open(shot).convert("RGB")).save(out, optimize=True)
    shot.unlink()
    print(f"wrote {out}")


def _messy_pictures(work: Path) -> None:
    """A workbook with a separate modifier column, and a preliminary report's summary page."""
    from audit_kit.findings import collect
    from audit_kit.reporting import render_reports
    from audit_kit.scoring import score_audit

    (work / "messy.csv").write_text(MESSY_UNIVERSE, "utf-8")
    (work / "messy.yaml").write_text(MESSY_PLAN, "utf-8")
    audit = work / "messy-audit"
    draw_sample(work / "messy.yaml", work / "messy.csv", audit)
    ann, _bob = write_workbooks(audit, auditors=["ann", "bob"])
    # the Sample sheet's originals and the pre-filled audited CPT/HCPCS column
    wb = openpyxl.load_workbook(ann)
    ws = wb["Sample"]
    header = {c.value: c.column for c in ws[1]}
    keep = {
        *range(1, header["Paid Amount"] + 1),
        header["Audited CPT/HCPCS"],
        header["Audited amount"],
    }
    for col in range(1, ws.max_column + 1):
        letter = openpyxl.utils.get_column_letter(col)
        ws.column_dimensions[letter].hidden = col not in keep
    for other in wb.worksheets:
        if other.title != "Sample":
            other.sheet_state = "hidden" if other.sheet_state == "visible" else other.sheet_state
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = True
    ws.print_area = f"A1:{openpyxl.utils.get_column_letter(header['Audited amount'])}{ws.max_row}"
    book = work / "print-modifiers.xlsx"
    wb.save(book)
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(work), str(book)],
        check=True,
        capture_output=True,
    )
    _pdf_to_png(book.with_suffix(".pdf"), OUT / "workbook-modifier-columns.png", resolution=80)
    # ann returns, bob does not yet: the results are preliminary
    wb = openpyxl.load_workbook(ann)
    ws = wb["Sample"]
    for r in range(2, ws.max_row + 1):
        ws.cell(r, header["Review status"]).value = "reviewed"
        ws.cell(r, header["Review date"]).value = "2026-03-02"
    wb.save(work / "ann.xlsx")
    collect(audit, [work / "ann.xlsx"])
    score_audit(audit)
    render_reports(audit)
    _pdf_to_png(audit / "report.pdf", OUT / "report-preliminary.png", page=2)


def main() -> int:
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: install libreoffice-calc-nogui and poppler-utils.")
            return 1
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_universe(work / "universe.csv", rows=3000)
        (work / "plan.yaml").write_text(DEMO_PLAN_YAML, "utf-8")
        audit = work / "audit"
        draw_sample(work / "plan.yaml", work / "universe.csv", audit)
        write_workbooks(audit, auditors=["ann", "bob"])
        filled = fill_workbooks(audit, work / "returned")
        shots = [
            ("Instructions", 40, 1, ["workbook-instructions.png"]),
            ("Sample", 12, 2, ["workbook-sample-original.png", "workbook-sample-findings.png"]),
        ]
        for sheet, rows, wide, names in shots:
            book = work / f"print-{sheet}.xlsx"
            _print_copy(filled[0], book, sheet, rows=rows, pages_wide=wide)
            subprocess.run(
                ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(work), str(book)],
                check=True,
                capture_output=True,
            )
            prefix = work / f"page-{sheet}"
            subprocess.run(
                ["pdftoppm", "-png", "-r", "130", str(book.with_suffix(".pdf")), str(prefix)],
                check=True,
            )
            pages = sorted(work.glob(f"page-{sheet}-*.png"))
            for page, name in zip(pages, names, strict=False):
                _crop(Image.open(page).convert("RGB")).save(OUT / name, optimize=True)
                print(f"wrote {OUT / name}")
        _messy_pictures(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
