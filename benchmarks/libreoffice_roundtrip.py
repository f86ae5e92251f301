"""Check: a workbook saved again by LibreOffice Calc is still collected (needs `soffice`).

    apt-get install -y libreoffice-calc-nogui      # Debian
    .venv/bin/python benchmarks/libreoffice_roundtrip.py

Auditors often work in LibreOffice. This script writes an audit's workbook (with formula-like
original values), fills it as an auditor would, has LibreOffice open and re-save it
(`soffice --headless --convert-to xlsx`), then collects the re-saved file and checks that every
original value (formula-like text included) survived and the findings were accepted. It is a
script rather than a test because the test suite must not depend on LibreOffice being installed.
Exit code 0 when the round trip holds, 1 otherwise.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import fastexcel
import openpyxl
import polars as pl
import yaml

from audit_kit.errors import AuditError
from audit_kit.findings import collect
from audit_kit.folder.manifest import AuditFolder
from audit_kit.workbook import write_workbooks

HOSTILE = ["=1+2", "+1 555", "-2", "@SUM(A1)", "\tTAB", "plain", "0012", "_x0041_ literal"]
PLAN = {
    "name": "LibreOffice round trip",
    "columns": {
        "unit_id": "encounter_id",
        "coder": "coder_id",
        "dx": "dx_codes",
        "cpt": "cpt_codes",
        "paid": "paid_amount",
        "keep": ["note"],
    },
    "size": {"n": len(HOSTILE)},
    "workbook": {"columns": ["unit_id", "coder", "dx", "cpt", "paid", "note"]},
}


def main() -> int:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("soffice not found: apt-get install -y libreoffice-calc-nogui")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        frame = pl.DataFrame(
            {
                "encounter_id": [f"E{i:03d}" for i in range(len(HOSTILE))],
                "coder_id": ["C1"] * len(HOSTILE),
                "dx_codes": ["E11.9;I10"] * len(HOSTILE),
                "cpt_codes": ["99214-25"] * len(HOSTILE),
                "paid_amount": [f"{100 + i}.50" for i in range(len(HOSTILE))],
                "note": HOSTILE,
                "stratum": ["all"] * len(HOSTILE),
                "frame_number": [str(i + 1) for i in range(len(HOSTILE))],
                "selection_order": [str(i + 1) for i in range(len(HOSTILE))],
                "spare": ["false"] * len(HOSTILE),
                "weight": ["1.0"] * len(HOSTILE),
            }
        )
        audit = root / "audit"
        folder = AuditFolder.create(audit, name=PLAN["name"])
        buffer = io.BytesIO()
        frame.write_csv(buffer)
        with folder.transaction("sample") as tx:
            tx.write_text("plan.yaml", yaml.safe_dump(PLAN))
            tx.write_json("sampling.json", {"audit": {"name": PLAN["name"]}})
            tx.write_bytes("sample.csv", buffer.getvalue())
        (book,) = write_workbooks(audit)
        wb = openpyxl.load_workbook(book)
        ws = wb["Sample"]
        cols = {c.value: c.column for c in ws[1]}
        for r in range(2, ws.max_row + 1):
            ws.cell(row=r, column=cols["Review status"]).value = "reviewed"
            ws.cell(row=r, column=cols["Review date"]).value = "2026-03-02"
            ws.cell(row=r, column=cols["Auditor"]).value = "ann"
        filled = root / "filled.xlsx"
        wb.save(filled)
        out = root / "lo"
        run = subprocess.run(
            [soffice, "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(filled)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            env={"HOME": str(root), "PATH": "/usr/bin:/bin"},
        )
        resaved = out / "filled.xlsx"
        if run.returncode != 0 or not resaved.is_file():
            print(f"soffice failed ({run.returncode}): {run.stderr.strip()}")
            return 1
        sheet = fastexcel.read_excel(resaved.read_bytes()).load_sheet("Sample", dtypes="string")
        notes = sheet.to_polars()["note"].to_list()
        ok = notes == HOSTILE
        print(f"original text after LibreOffice: {'identical' if ok else 'CHANGED'}")
        if not ok:
            for want, got in zip(HOSTILE, notes, strict=False):
                if want != got:
                    print(f"  {want!r} -> {got!r}")
        try:
            summary = collect(audit, [resaved])
        except AuditError as exc:
            print("collect rejected the LibreOffice file:")
            print(exc.render())
            return 1
        accepted = summary.files[0].status == "accepted"
        print(
            f"collect: {summary.files[0].status}, "
            f"{summary.files[0].units_returned} of {len(HOSTILE)} units with a status"
        )
        return 0 if ok and accepted and summary.files[0].units_returned == len(HOSTILE) else 1


if __name__ == "__main__":
    sys.exit(main())
