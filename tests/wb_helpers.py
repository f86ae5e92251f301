"""Fixture builders for the workbook, collect and CLI tests.

The audit folders are built here directly (plan.yaml, sampling.json, sample.csv in one
transaction, following docs/architecture.md), so these tests do not depend on the sampler.
Filling a workbook mimics an auditor in Excel: openpyxl edits of the Sample sheet, found by header.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import yaml

from audit_kit.folder.manifest import AuditFolder

PLAN: dict[str, Any] = {
    "name": "Q3 inpatient coder review",
    "objective": "Coding accuracy per coder.",
    "sampling_unit": "encounter",
    "columns": {
        "unit_id": "encounter_id",
        "coder": "coder_id",
        "patient": "patient_name",
        "service_date": "service_dt",
        "dx": "dx_codes",
        "px": "px_codes",
        "cpt": "cpt_codes",
        "drg": "drg",
        "paid": "paid_amount",
        "keep": ["note"],
    },
    "design": {"method": "stratified", "strata": {"by": ["coder"]}},
    "size": {"per_stratum": 3},
    "spares": 1,
    "rng": {"generator": "pcg64", "seed": 20261127},
    "workbook": {
        "columns": ["unit_id", "coder", "service_date", "dx", "px", "cpt", "drg", "paid", "note"],
        "contact": "Audit lead, audit@example.org",
    },
}

DX = [
    ["E11.9", "I10"],
    ["J44.9"],
    ["K21.9", "Z79.4", "I10"],
    ["M54.50"],
    ["e119"],  # normalised on pre-fill check, valid
    ["I10", "E11.9"],
]
PX = [["0DTJ4ZZ"], [], ["02703ZZ"], [], [], []]
CPT = [["99214-25", "93000"], ["99213"], ["G0439"], ["99214"], ["36415"], ["99215-25"]]
DRG = ["065", "871", "194", "", "065", "190"]
NOTES = ['=HYPERLINK("http://x")', "+1 555", "-2", "@SUM(A1)", "\tlead tab", "a\rb"]


def sample_frame(
    n: int = 6, *, spares: int = 1, coders: Sequence[str] = ("C1", "C2")
) -> pl.DataFrame:
    """A sample.csv frame: n units (ids E0001..), the last `spares` of them spares."""
    rows = []
    for i in range(n):
        coder = coders[i % len(coders)]
        rows.append(
            {
                "encounter_id": f"E{i + 1:04d}",
                "coder_id": coder,
                "patient_name": f"Patient {i + 1}",
                "service_dt": f"2026-0{1 + i % 9}-1{i % 10}",
                "dx_codes": ";".join(DX[i % len(DX)]),
                "px_codes": ";".join(PX[i % len(PX)]),
                "cpt_codes": ";".join(CPT[i % len(CPT)]),
                "drg": DRG[i % len(DRG)],
                "paid_amount": f"{1000 + 37.5 * i:.2f}",
                "note": NOTES[i % len(NOTES)],
                "stratum": coder,
                "frame_number": str(i + 1),
                "selection_order": str(i + 1),
                "spare": "true" if i >= n - spares else "false",
                "weight": "10.0",
            }
        )
    return pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String)).sort(
        ["stratum", "encounter_id"]
    )


def make_audit(
    tmp: Path,
    *,
    n: int = 6,
    spares: int = 1,
    plan: Mapping[str, Any] | None = None,
    frame: pl.DataFrame | None = None,
    name: str = "audit",
    coders: Sequence[str] = ("C1", "C2"),
) -> Path:
    """Create an audit folder as `audit-kit sample` leaves it; return its path."""
    path = tmp / name
    data = copy.deepcopy(dict(plan) if plan is not None else PLAN)
    data["spares"] = spares
    folder = AuditFolder.create(path, name=str(data["name"]))
    sample = frame if frame is not None else sample_frame(n, spares=spares, coders=coders)
    buffer = io.BytesIO()
    sample.write_csv(buffer)
    with folder.transaction("sample", details={"test": True}) as tx:
        tx.write_text("plan.yaml", yaml.safe_dump(data, sort_keys=False))
        tx.write_json("sampling.json", {"audit": {"name": data["name"]}, "sample_size": n})
        tx.write_bytes("sample.csv", buffer.getvalue())
    return path


def headers(ws: Any) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1] if c.value is not None}


def unit_rows(ws: Any) -> dict[str, int]:
    """Unit id -> row number on the Sample sheet (column A)."""
    return {
        str(ws.cell(row=r, column=1).value): r
        for r in range(2, ws.max_row + 1)
        if ws.cell(row=r, column=1).value is not None
    }


def fill(
    src: Path,
    out: Path,
    entries: Mapping[str, Mapping[str, Any]],
    *,
    default: Mapping[str, Any] | None = None,
) -> Path:
    """Fill a workbook as an auditor would: per unit id, header -> value (openpyxl edits).

    ``default`` is applied to every unit not in ``entries`` (e.g. a complete review).
    """
    wb = openpyxl.load_workbook(src)
    ws = wb["Sample"]
    cols = headers(ws)
    rows = unit_rows(ws)
    for unit, row in rows.items():
        values = entries.get(unit, default)
        if values is None:
            continue
        for header, value in values.items():
            ws.cell(row=row, column=cols[header]).value = value
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


REVIEWED = {"Review status": "reviewed", "Review date": "2026-03-02"}


def fill_all(src: Path, out: Path, *, auditor: str | None = None) -> Path:
    """Mark every non-spare unit reviewed (codes as pre-filled: no errors)."""
    wb = openpyxl.load_workbook(src)
    ws = wb["Sample"]
    cols = headers(ws)
    for r in range(2, ws.max_row + 1):
        spare = cols.get("Spare") and ws.cell(row=r, column=cols["Spare"]).value == "spare"
        if ws.cell(row=r, column=1).value is None or spare:
            continue
        ws.cell(row=r, column=cols["Review status"]).value = "reviewed"
        ws.cell(row=r, column=cols["Review date"]).value = "2026-03-02"
        if auditor:
            ws.cell(row=r, column=cols["Auditor"]).value = auditor
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def read_csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)
