"""Helpers for the rebuttal-round tests: a small audit ready for the round, and filling the
rebuttal and decisions workbooks as a coder's or a lead's Excel would (cells found by header).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl
from crash_helpers import demo_plan_text

from audit_kit import findings, sampling, workbook
from audit_kit.demo.example_data import write_universe
from audit_kit.demo.simulation import fill_workbooks

#: the synthetic coder renamed, to see file names keep their letters
ACCENTED = "José Núñez"
RENAMED = "C03"
INJECTION = '=HYPERLINK("http://example.invalid","x") rationale'


def build_audit(base: Path, *, name: str = "audit", plan_extra: str = "") -> Path:
    """Sample, issue, fill (simulated auditors) and collect a 48-unit audit; return it.

    Coder C03 is renamed José Núñez in the universe, and one returned rationale starts with
    ``=`` (it must reach the rebuttal workbook as text).
    """
    base.mkdir(parents=True, exist_ok=True)
    plan = base / "plan.yaml"
    plan.write_text(demo_plan_text(per_stratum=4) + plan_extra, "utf-8")
    universe = base / "universe.csv"
    if not universe.exists():
        write_universe(universe, rows=300, seed=11)
        with universe.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for row in rows:
            if row["coder_id"] == RENAMED:
                row["coder_id"] = ACCENTED
        with universe.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    audit = base / name
    sampling.draw_sample(plan, universe, audit)
    workbook.write_workbooks(audit, auditors=["ann", "bob"])
    filled = fill_workbooks(audit, base / f"{name}-filled")
    assert any(_inject_rationale(path) for path in filled)
    findings.collect(audit, filled)
    return audit


def _inject_rationale(path: Path) -> bool:
    """The simulation knows no José Núñez (its profiles are by coder id): give one of his
    reviewed units a finding, with a rationale that looks like a formula."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Sample"]
    cols = {str(c.value): c.column for c in ws[1] if c.value is not None}
    for r in range(2, ws.max_row + 1):
        if (
            ws.cell(row=r, column=cols["coder_id"]).value == ACCENTED
            and ws.cell(row=r, column=cols["Review status"]).value == "reviewed"
        ):
            ws.cell(row=r, column=cols["Error category"]).value = "documentation"
            cell = ws.cell(row=r, column=cols["Rationale"])
            cell.value = INJECTION
            cell.data_type = "s"
            ws.cell(row=r, column=cols["Reference"]).value = "Official guidelines I.B.14"
            wb.save(path)
            return True
    return False


def table(path: Path | bytes, sheet: str) -> tuple[Any, Any, dict[str, int], dict[str, int]]:
    """(workbook, sheet, header -> column, unit id -> row) of a rebuttal/decisions workbook."""
    wb = openpyxl.load_workbook(io.BytesIO(path) if isinstance(path, bytes) else path)
    ws = wb[sheet]
    cols = {str(c.value): c.column for c in ws[1] if c.value is not None}
    rows = {
        str(ws.cell(row=r, column=1).value): r
        for r in range(2, ws.max_row + 1)
        if ws.cell(row=r, column=1).value is not None
    }
    return wb, ws, cols, rows


def fill(source: Path, target: Path, sheet: str, cells: Mapping[str, Mapping[str, Any]]) -> Path:
    """Copy a workbook with cells filled: ``{unit: {header: value}}``."""
    wb, ws, cols, rows = table(source, sheet)
    for unit, values in cells.items():
        for header, value in values.items():
            ws.cell(row=rows[unit], column=cols[header]).value = value
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def units_of(path: Path, sheet: str) -> list[str]:
    return list(table(path, sheet)[3])


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
