"""Write the simulated findings into copies of the issued workbooks, as auditors would."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from audit_kit.demo.simulation.findings import SimulatedFinding, simulate_findings
from audit_kit.demo.simulation.profiles import CoderProfile
from audit_kit.errors import AuditError, Problem
from audit_kit.folder.manifest import AuditFolder
from audit_kit.workbook import load_audit, load_layouts

_REVIEW_START = dt.date(2026, 4, 6)
_CELL_SEPARATOR = "; "


def _review_date(unit_id: str, seed: int) -> dt.date:
    offset = zlib.crc32(f"{seed}:{unit_id}".encode()) % 15
    return _REVIEW_START + dt.timedelta(days=offset)


def fill_workbooks(
    audit_dir: Path,
    out_dir: Path,
    *,
    seed: int = 7,
    profiles: Mapping[str, CoderProfile] | None = None,
) -> list[Path]:
    """Fill every issued workbook of an audit as simulated auditors would; return the copies.

    Reads ``workbooks/<id>.xlsx`` of ``audit_dir`` (never changes the audit folder), writes the
    filled copies to ``out_dir`` under the same names, ready for ``audit-kit collect``.
    Columns are found by their header, never by position. Spare rows are left empty.
    """
    folder = AuditFolder.open(Path(audit_dir))
    plan, sample = load_audit(folder)
    layouts = load_layouts(folder)
    if not layouts:
        raise AuditError.one(
            "No workbooks to fill.",
            where=str(folder.path / "workbooks"),
            expected="workbooks written by `audit-kit workbooks`",
            found="none",
            fix="run `audit-kit workbooks AUDIT_DIR --auditors a,b` first.",
        )
    findings = simulate_findings(sample, plan, seed=seed, profiles=profiles)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for number, (wid, layout) in enumerate(sorted(layouts.items()), start=1):
        if layout.encrypted:
            raise AuditError.one(
                "The simulation cannot fill encrypted workbooks.",
                where=str(folder.file(f"workbooks/{wid}.xlsx")),
                expected="an unencrypted workbook",
                found="an encrypted one",
                fix="run the demo without workbook passwords.",
            )
        auditor = layout.auditor or f"sim-auditor-{number}"
        unit_header = layout.columns[0].header if layout.columns else plan.columns.unit_id
        target = out_dir / f"{wid}.xlsx"
        _fill_one(
            folder.file(f"workbooks/{wid}.xlsx"), target, unit_header, findings, auditor, seed
        )
        written.append(target)
    return written


def _fill_one(
    source: Path,
    target: Path,
    unit_header: str,
    findings: Mapping[str, SimulatedFinding],
    auditor: str,
    seed: int,
) -> None:
    wb = load_workbook(source)
    ws = wb["Sample"]
    header = {str(c.value): c.column for c in ws[1] if c.value is not None}
    missing = [h for h in (unit_header, "Review status") if h not in header]
    if missing:
        raise AuditError(
            "A workbook does not have the expected columns.",
            [
                Problem(
                    where=f"{source}, Sample!1",
                    expected=f"a header named '{h}'",
                    found="none",
                    fix="fill the workbooks audit-kit wrote.",
                )
                for h in missing
            ],
        )

    def put(row: int, name: str, value: Any) -> None:
        col = header.get(name)
        if col is not None:
            ws.cell(row=row, column=col).value = value

    for row in range(2, ws.max_row + 1):
        raw = ws.cell(row=row, column=header[unit_header]).value
        finding = findings.get(str(raw).strip()) if raw is not None else None
        if finding is None:
            continue  # a spare, or a row the simulation does not know
        put(row, "Review status", finding.status)
        put(row, "Auditor", auditor)
        if finding.status != "not reviewed":
            put(row, "Review date", _review_date(finding.unit_id, seed))
        if finding.rationale:
            put(row, "Rationale", finding.rationale)
        if finding.reference:
            put(row, "Reference", finding.reference)
        if finding.category:
            put(row, "Error category", finding.category)
        if finding.status == "record missing":
            put(row, "Audited amount", finding.amount)
        if finding.kind is None:
            continue
        put(row, "Audited principal dx", finding.dx[0] if finding.dx else None)
        put(row, "Audited other dx", _CELL_SEPARATOR.join(finding.dx[1:]) or None)
        put(row, "Audited procedures", _CELL_SEPARATOR.join(finding.px) or None)
        put(row, "Audited CPT/HCPCS", _CELL_SEPARATOR.join(finding.cpt) or None)
        put(row, "Audited DRG", finding.drg or None)
        if finding.amount is not None:
            put(row, "Audited amount", finding.amount)
    wb.save(target)
