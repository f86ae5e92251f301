"""Render pictures of the rebuttal round for docs/auditor-guide.md and quickstart-compliance.md.

    .venv/bin/python docs/gen_rebuttal_pictures.py          # needs soffice and pdftoppm

Builds a small audit from the synthetic example universe, lets the simulated auditors fill the
workbooks, opens the rebuttal round, lets simulated coders answer and a simulated lead decide,
closes the round and renders the reports. Then prints a coder's rebuttal workbook (the Findings
sheet, answered) through LibreOffice and takes the executive report's rebuttal page, as PNG in
docs/img/. Nothing here is used at run time; the pictures are committed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_workbook_pictures import _crop, _print_copy  # noqa: E402

from audit_kit import findings, rebuttal, reporting, scoring  # noqa: E402
from audit_kit.demo.example_data import DEMO_PLAN_YAML, write_universe  # noqa: E402
from audit_kit.demo.simulation import fill_workbooks  # noqa: E402
from audit_kit.demo.simulation.rebuttals import decide_disputes, respond_rebuttals  # noqa: E402
from audit_kit.sampling import draw_sample  # noqa: E402
from audit_kit.workbook import write_workbooks  # noqa: E402

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "img"


def _pages(pdf: Path, prefix: Path, resolution: int) -> list[Path]:
    subprocess.run(["pdftoppm", "-png", "-r", str(resolution), str(pdf), str(prefix)], check=True)
    return sorted(prefix.parent.glob(f"{prefix.name}-*.png"))


def main() -> int:
    for tool in ("soffice", "pdftoppm", "pdftotext"):
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
        findings.collect(audit, fill_workbooks(audit, work / "returned"))
        scoring.score_audit(audit)
        rebuttal.open_round(audit)
        answered = respond_rebuttals(audit, work / "answered", dispute_share=0.5)
        findings.collect(audit, answered)
        rebuttal.write_decisions(audit)
        decided = decide_disputes(audit, work / "decided")
        assert decided is not None
        findings.collect(audit, [decided])
        rebuttal.close_round(audit, early=True)
        scoring.score_audit(audit)
        reporting.render_reports(audit)

        # the answered rebuttal workbook of the coder with the most findings
        book = max(answered, key=lambda p: p.stat().st_size)
        copy = work / "print-Findings.xlsx"
        _print_copy(book, copy, "Findings", rows=8, pages_wide=2)
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(work), str(copy)],
            check=True,
            capture_output=True,
        )
        pages = _pages(copy.with_suffix(".pdf"), work / "page-Findings", 110)
        names = ["rebuttal-workbook-findings.png", "rebuttal-workbook-response.png"]
        for page, name in zip(pages, names, strict=False):
            _crop(Image.open(page).convert("RGB")).save(OUT / name, optimize=True)
            print(f"wrote {OUT / name}")

        # the executive report's rebuttal page
        text = subprocess.run(
            ["pdftotext", str(audit / "report.pdf"), "-"], capture_output=True, text=True
        ).stdout.split("\f")
        number = next(i for i, p in enumerate(text, start=1) if "7. Rebuttal round" in p)
        prefix = work / "report"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", str(number), "-l", str(number),
             str(audit / "report.pdf"), str(prefix)],
            check=True,
        )
        page = sorted(work.glob("report-*.png"))[0]
        Image.open(page).convert("RGB").save(OUT / "report-rebuttal.png", optimize=True)
        print(f"wrote {OUT / 'report-rebuttal.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
