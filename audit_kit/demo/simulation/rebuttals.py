"""SIMULATED coders and a SIMULATED audit lead for the demo's rebuttal round.

Nobody read a record: the responses and decisions are chosen by a seeded hash of the unit id
so that ``audit-kit demo`` can show the whole round. Every comment and rationale starts with
``[simulated]``. The pattern: about a fifth of the findings are disputed (a coder who
disagrees always comments); the lead upholds about half of the disputes, overturns a fifth and
modifies the rest where a modification can be made (half the payment effect, or the audited
principal diagnosis with the original other codes), else upholds them. The demo's known
pattern of coder verdicts (tests/test_demo.py) holds after the round. Never use this module
on a real audit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from openpyxl import load_workbook

from audit_kit.folder.manifest import AuditFolder
from audit_kit.folder.rebuttal_round import read_round
from audit_kit.rebuttal import DECISIONS_FILE

__all__ = ["SIM_LEAD", "decide_disputes", "respond_rebuttals"]

SIM_LEAD = "sim-audit-lead"
_DECIDED_ON = dt.datetime.now(dt.UTC).date()


def _draw(seed: int, what: str, unit: str) -> float:
    # SHA-256, not CRC-32: CRC-32 is linear, and ids that differ in a digit or two draw alike
    digest = hashlib.sha256(f"{seed}:{what}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _headers(ws: object) -> dict[str, int]:
    row = next(ws.iter_rows(min_row=1, max_row=1, values_only=True))  # type: ignore[attr-defined]
    return {str(h): i + 1 for i, h in enumerate(row) if h is not None}


def respond_rebuttals(
    audit_dir: Path, out_dir: Path, *, seed: int = 7, dispute_share: float = 0.2
) -> list[Path]:
    """Answer every rebuttal workbook of the audit as simulated coders; return the copies."""
    folder = AuditFolder.open(Path(audit_dir))
    found = read_round(folder)
    if found is None:
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    unit_header = next(iter(found.books)).columns[0]["header"] if found.books else ""
    written = []
    for book in found.books:
        if book.kind != "rebuttal":
            continue
        wb = load_workbook(folder.file(book.file))
        ws = wb["Findings"]
        at = _headers(ws)
        for r in range(2, ws.max_row + 1):
            unit = str(ws.cell(row=r, column=at[unit_header]).value or "")
            if not unit:
                continue
            if _draw(seed, "dispute", unit) < dispute_share:
                ws.cell(row=r, column=at["Coder response"]).value = "disagree"
                ws.cell(row=r, column=at["Coder comment"]).value = (
                    "[simulated] the documentation supports the code as submitted "
                    "(progress note of the second day)."
                )
            else:
                ws.cell(row=r, column=at["Coder response"]).value = "agree"
        target = out_dir / Path(book.file).name
        wb.save(target)
        written.append(target)
    return written


def decide_disputes(audit_dir: Path, out_dir: Path, *, seed: int = 7) -> Path | None:
    """Decide every dispute of ``decisions/decisions.xlsx`` as a simulated lead; the copy."""
    folder = AuditFolder.open(Path(audit_dir))
    if not folder.has(DECISIONS_FILE):
        return None
    wb = load_workbook(folder.file(DECISIONS_FILE))
    ws = wb["Disputes"]
    at = _headers(ws)
    found = read_round(folder)
    unit_header = found.books[0].columns[0]["header"] if found and found.books else ""
    for r in range(2, ws.max_row + 1):
        unit = str(ws.cell(row=r, column=at[unit_header]).value or "")
        if not unit:
            continue
        draw = _draw(seed, "decision", unit)
        decision = "upheld" if draw < 0.55 else "overturned" if draw < 0.75 else "modified"
        if decision == "modified" and not _modify(ws, r, at):
            decision = "upheld"
        ws.cell(row=r, column=at["Decision"]).value = decision
        ws.cell(row=r, column=at["Decision rationale"]).value = {
            "upheld": "[simulated] the auditor's coding follows the guideline cited.",
            "overturned": "[simulated] the coder's documentation supports the original code.",
            "modified": "[simulated] partly supported: the finding stands in part, as in the "
            "Final columns.",
        }[decision]
        ws.cell(row=r, column=at["Decided by"]).value = SIM_LEAD
        cell = ws.cell(row=r, column=at["Decision date"])
        cell.value = _DECIDED_ON
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "decisions.xlsx"
    wb.save(target)
    return target


def _modify(ws: object, r: int, at: dict[str, int]) -> bool:
    """Final: the audited codes with half the payment effect (the error stands, its amount is
    partly supported), or the audited principal dx with the original other codes; False when
    neither makes a modification."""
    cell = ws.cell  # type: ignore[attr-defined]
    if cell(row=r, column=at["Review status"]).value != "reviewed":
        return False
    if "Final amount" in at:
        original = cell(row=r, column=at["Original amount"]).value
        audited = cell(row=r, column=at["Audited amount"]).value
        if (
            isinstance(original, int | float)
            and isinstance(audited, int | float)
            and round(original, 2) != round(audited, 2)
        ):
            cell(row=r, column=at["Final amount"]).value = round((original + audited) / 2, 2)
            return True
    pairs = [
        (f"Final {suffix}", f"Original {suffix}", f"Audited {suffix}")
        for suffix in ("other dx", "procedures", "CPT/HCPCS")
        if f"Final {suffix}" in at
    ]
    if "Final principal dx" not in at:
        return False
    principal_changed = (
        cell(row=r, column=at["Original principal dx"]).value
        != cell(row=r, column=at["Audited principal dx"]).value
    )
    others_changed = any(
        cell(row=r, column=at[o]).value != cell(row=r, column=at[a]).value for _, o, a in pairs
    )
    if not (principal_changed and others_changed):
        return False
    for final, original, _ in pairs:
        cell(row=r, column=at[final]).value = cell(row=r, column=at[original]).value
    return True
