"""What a rebuttal or decisions workbook shows: its columns, rows and instructions.

The rows come from the round's snapshot of each finding (``rebuttals/round.json``): the
original and audited codes, amounts, the category and the auditor's rationale. Only the code
columns the plan maps are written (minimum necessary: no patient field ever).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from audit_kit.folder.rebuttal_round import DECISION_CHOICES, RESPONSE_CHOICES
from audit_kit.plan import SamplingPlan
from audit_kit.workbook import (
    DECISIONS_FORMAT,
    REBUTTAL_FORMAT,
    ReviewBook,
    ReviewColumn,
    ReviewRow,
)

SEP = "; "
#: code types: (suffix of the headers, snapshot key, plan field)
_CODE_TYPES = (
    ("principal dx", "dx0", "dx"),
    ("other dx", "dx1", "dx"),
    ("procedures", "px", "px"),
    ("CPT/HCPCS", "cpt", "cpt"),
    ("DRG", "drg", "drg"),
)
#: The inputs of the lead, in the order of the sheet: header -> decisions.csv column
FINAL_CELLS: tuple[tuple[str, str, str], ...] = (
    ("Final principal dx", "dx", "final_principal_dx"),
    ("Final other dx", "dx", "final_other_dx"),
    ("Final procedures", "px", "final_procedures"),
    ("Final CPT/HCPCS", "cpt", "final_cpt"),
    ("Final DRG", "drg", "final_drg"),
)


def code_types(plan: SamplingPlan) -> list[tuple[str, str, str]]:
    """The code types this audit has (mapped fields; DRG also when the basis regroups)."""
    mapped = plan.columns.mapped()
    out = []
    for suffix, key, field in _CODE_TYPES:
        if field in mapped or (field == "drg" and plan.financial.basis == "drg"):
            out.append((suffix, key, field))
    return out


def _codes(side: Mapping[str, Any] | None, key: str) -> str:
    side = side or {}
    if key == "dx0":
        dx = side.get("dx") or []
        return str(dx[0]) if dx else ""
    if key == "dx1":
        return SEP.join(str(c) for c in (side.get("dx") or [])[1:])
    if key == "drg":
        return str(side.get("drg") or "")
    return SEP.join(str(c) for c in side.get(key) or [])


def _amount(value: Any) -> str:
    return "" if value is None else repr(float(value))


def changes_text(finding: Mapping[str, Any]) -> str:
    """The change in words: ``deleted E11.9; added E11.65; revised I10 -> I11.9``."""
    if finding.get("status") == "record missing":
        return "record missing: the documentation could not be found"
    changes = finding.get("changes") or {}
    parts = []
    if changes.get("deleted"):
        parts.append("deleted " + ", ".join(changes["deleted"]))
    if changes.get("added"):
        parts.append("added " + ", ".join(changes["added"]))
    if changes.get("revised"):
        parts.append("revised " + ", ".join(f"{a} -> {b}" for a, b in changes["revised"]))
    if changes.get("principal_dx_changed"):
        parts.append("principal diagnosis changed")
    if changes.get("sequencing_changed"):
        parts.append("sequencing changed")
    if changes.get("drg_changed"):
        parts.append("DRG changed")
    difference = finding.get("difference")
    if isinstance(difference, int | float) and difference:
        parts.append(f"payment difference {difference:,.2f}")
    return "; ".join(parts) or "no code change (error category given)"


def _record_columns(plan: SamplingPlan, *, with_amounts: bool) -> list[ReviewColumn]:
    types = code_types(plan)
    columns = [
        ReviewColumn(header=plan.columns.unit_id, width=14),
        ReviewColumn(header="Auditor", width=14),
        ReviewColumn(header="Review status", width=14),
    ]
    for suffix, _, _ in types:
        columns.append(ReviewColumn(header=f"Original {suffix}", width=18))
    for suffix, _, _ in types:
        columns.append(ReviewColumn(header=f"Audited {suffix}", width=18))
    columns.append(ReviewColumn(header="What changed", width=36))
    if with_amounts:
        columns.append(ReviewColumn(header="Original amount", kind="number", width=14))
        columns.append(ReviewColumn(header="Audited amount", kind="number", width=14))
    columns += [
        ReviewColumn(header="Error category", width=16),
        ReviewColumn(header="Rationale", width=40),
        ReviewColumn(header="Reference", width=24),
    ]
    return columns


def _record_values(
    plan: SamplingPlan, finding: Mapping[str, Any], *, with_amounts: bool
) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        plan.columns.unit_id: str(finding["unit_id"]),
        "Auditor": str(finding.get("auditor") or ""),
        "Review status": str(finding.get("status") or ""),
        "What changed": changes_text(finding),
        "Error category": str(finding.get("category") or ""),
        "Rationale": str(finding.get("rationale") or ""),
        "Reference": str(finding.get("reference") or ""),
    }
    for suffix, key, _ in code_types(plan):
        values[f"Original {suffix}"] = _codes(finding.get("original"), key)
        values[f"Audited {suffix}"] = _codes(finding.get("audited"), key)
    if with_amounts:
        values["Original amount"] = _amount(finding.get("examined"))
        values["Audited amount"] = _amount(finding.get("audited_amount"))
    return values


def has_amounts(findings: Sequence[Mapping[str, Any]]) -> bool:
    return any(f.get("examined") is not None for f in findings)


def rebuttal_book(
    plan: SamplingPlan,
    *,
    workbook_id: str,
    coder: str,
    findings: Sequence[Mapping[str, Any]],
    due: str,
) -> ReviewBook:
    """The workbook one coder answers: each of the coder's findings with an error."""
    amounts = has_amounts(findings)
    columns = [
        *_record_columns(plan, with_amounts=amounts),
        ReviewColumn(header="Coder response", locked=False, choices=RESPONSE_CHOICES, width=16),
        ReviewColumn(header="Coder comment", locked=False, width=48),
    ]
    rows = tuple(
        ReviewRow(
            unit_id=str(f["unit_id"]),
            kind="rebuttal",
            values=_record_values(plan, f, with_amounts=amounts),
        )
        for f in findings
    )
    facts = (
        ("Audit", plan.name),
        ("Coder", coder),
        ("Workbook id", workbook_id),
        ("Findings", f"{len(rows)} finding(s) with an error to respond to"),
        ("Respond by", due),
        ("Contact", plan.workbook.contact or "your audit lead"),
    )
    steps = (
        "The Findings sheet lists every unit of yours where the auditor found an error: the "
        "codes as you submitted them (Original), the codes the auditor found correct (Audited), "
        "what changed, the error category and the auditor's rationale and reference. These "
        "grey columns are locked and must stay as they are.",
        "For each row choose Coder response (drop-down): agree, or disagree if you believe "
        "the original coding was right.",
        "Coder comment is required when you disagree: say why, and cite the documentation or "
        "guideline (Coding Clinic, official guidelines, the note and date in the record). "
        "A comment with agree is welcome.",
        f"Return the workbook by {due}. Findings still without a response when the audit "
        "lead closes the round count as agreed.",
        "The audit lead decides every disagreement (upheld, overturned or modified) and the "
        "decision and its rationale appear in your feedback report. Overturned findings no "
        "longer count as errors.",
        "Yellow rows still have no response. Do not add, delete or copy rows or change the "
        "grey columns: the returned workbook would be rejected, with the cell named.",
    )
    return ReviewBook(
        format=REBUTTAL_FORMAT,
        workbook_id=workbook_id,
        title=f"Rebuttal workbook: {plan.name}",
        columns=tuple(columns),
        rows=rows,
        facts=facts,
        steps=steps,
        required="Coder response",
    )


def decisions_book(
    plan: SamplingPlan,
    *,
    workbook_id: str,
    disputes: Sequence[tuple[str, Mapping[str, Any], Mapping[str, str]]],
    decided: Mapping[tuple[str, str], Mapping[str, str]],
) -> ReviewBook:
    """The lead's workbook: each dispute (kind, finding, the other side) and the decision.

    Final codes and amount start as the audited ones; a decision already collected is
    pre-filled, so that a new decisions workbook can revise it.
    """
    findings = [f for _, f, _ in disputes]
    amounts = has_amounts(findings)
    types = code_types(plan)
    record = _record_columns(plan, with_amounts=amounts)
    columns = [
        record[0],  # the unit id first: rows are found (and hashed) by it
        ReviewColumn(header="Dispute", width=11),
        ReviewColumn(header="Coder", width=14),
        *record[1:],
        ReviewColumn(header="Coder response", width=12),
        ReviewColumn(header="Coder comment", width=40),
        ReviewColumn(header="Decision", locked=False, choices=DECISION_CHOICES, width=14),
        ReviewColumn(header="Decision rationale", locked=False, width=40),
        ReviewColumn(header="Decided by", locked=False, width=14),
        ReviewColumn(header="Decision date", kind="date", locked=False, width=14),
    ]
    finals = {suffix for suffix, _, _ in types}
    for header, _, _ in FINAL_CELLS:
        if header.removeprefix("Final ") in finals:
            columns.append(ReviewColumn(header=header, locked=False, width=18))
    if amounts:
        columns.append(ReviewColumn(header="Final amount", kind="number", locked=False, width=14))
    rows = []
    for kind, finding, side in disputes:
        unit = str(finding["unit_id"])
        values = _record_values(plan, finding, with_amounts=amounts)
        values.update(
            {
                "Dispute": kind,
                "Coder": str(finding.get("coder") or ""),
                "Coder response": side.get("response", ""),
                "Coder comment": side.get("comment", ""),
            }
        )
        for suffix, key, _ in types:
            values[f"Final {suffix}"] = _codes(finding.get("audited"), key)
        if amounts:
            values["Final amount"] = _amount(finding.get("audited_amount"))
        before = decided.get((kind, unit))
        if before:
            values["Decision"] = before.get("decision", "")
            values["Decision rationale"] = before.get("rationale", "")
            values["Decided by"] = before.get("decided_by", "")
            values["Decision date"] = before.get("decision_date", "")
            if before.get("decision") == "modified":
                for header, _, column in FINAL_CELLS:
                    if header in values:
                        values[header] = before.get(column, "").replace(";", SEP)
                if amounts:
                    values["Final amount"] = before.get("final_amount", "")
        rows.append(ReviewRow(unit_id=unit, kind=kind, values=values))
    facts = (
        ("Audit", plan.name),
        ("Workbook id", workbook_id),
        ("Disputes", f"{len(rows)} disputed finding(s) to decide"),
        ("Contact", plan.workbook.contact or "the audit lead"),
    )
    steps = (
        "Each row of the Disputes sheet is a finding a coder disagreed with: the original and "
        "audited codes, the auditor's rationale and reference, and the coder's comment. These "
        "grey columns are locked.",
        "Decision (drop-down): upheld (the finding stands as audited), overturned (the "
        "original coding was right: the finding is no longer an error), or modified (the "
        "finding stands with other codes or amount).",
        "Decision rationale, Decided by and Decision date (yyyy-mm-dd) are required for every "
        "decision.",
        "The Final columns start with the audited codes and amount. Change them only for a "
        "modified decision: they are then checked like audited codes (ICD-10-CM codes that "
        "exist, CPT/HCPCS with valid modifiers, 3-digit DRGs, amounts of 0 or more) and the "
        "finding is scored with them.",
        "Yellow rows have no decision yet. The round can be closed only when every dispute "
        "is decided.",
    )
    return ReviewBook(
        format=DECISIONS_FORMAT,
        workbook_id=workbook_id,
        title=f"Decisions on disputed findings: {plan.name}",
        columns=tuple(columns),
        rows=tuple(rows),
        facts=facts,
        steps=steps,
        required="Decision",
    )
