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
    return 0


if __name__ == "__main__":
    sys.exit(main())
