"""The rebuttal round in the scores: decisions applied to the findings, the ``rebuttal`` block,
the overturn rate per auditor, and the results' ``status`` (preliminary or final).

* ``overturned``: the original coding stands: the finding is scored as a review with the
  original codes (and, for the ``entered`` basis, the examined amount), no error category;
* ``modified``: scored with the lead's final codes and amount (the category stays);
* ``upheld``, ``agree`` and no response: the finding stands as audited.

``preliminary`` in the block is the overall record and code accuracy of the findings as the
auditors returned them (before any decision).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from audit_kit.folder.rebuttal_round import DECISION_CHOICES, RebuttalRound
from audit_kit.plan import SamplingPlan

#: findings.csv column <- decisions.csv column, for a modified finding
_FINAL = (
    ("audited_principal_dx", "final_principal_dx"),
    ("audited_other_dx", "final_other_dx"),
    ("audited_procedures", "final_procedures"),
    ("audited_cpt", "final_cpt"),
    ("audited_drg", "final_drg"),
    ("audited_amount", "final_amount"),
)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def apply_decisions(
    findings: pl.DataFrame,
    units: pl.DataFrame,
    decisions: Mapping[tuple[str, str], Mapping[str, str]],
    *,
    plan: SamplingPlan,
) -> pl.DataFrame:
    """Return findings.csv as the decisions leave it (see the module docstring)."""
    rebuttals = {
        unit: d for (kind, unit), d in decisions.items() if kind == "rebuttal" and d.get("decision")
    }
    if not rebuttals:
        return findings
    originals = {
        str(r["unit_id"]): r
        for r in units.filter(pl.col("unit_id").is_in(list(rebuttals))).iter_rows(named=True)
    }
    examined = plan.financial.examined
    rows = findings.to_dicts()
    for row in rows:
        decision = rebuttals.get(str(row["unit_id"]))
        if decision is None:
            continue
        if decision["decision"] == "overturned":
            unit = originals.get(str(row["unit_id"]), {})
            dx = [str(c) for c in unit.get("dx") or []]
            row["review_status"] = "reviewed"
            row["audited_principal_dx"] = dx[0] if dx else ""
            row["audited_other_dx"] = ";".join(dx[1:])
            row["audited_procedures"] = ";".join(str(c) for c in unit.get("px") or [])
            row["audited_cpt"] = ";".join(str(c) for c in unit.get("cpt") or [])
            row["audited_drg"] = _text(unit.get("drg"))
            amount = unit.get(examined)
            row["audited_amount"] = (
                _text(amount) if plan.financial.basis == "entered" and amount is not None else ""
            )
            row["error_category"] = ""
        elif decision["decision"] == "modified":
            row["review_status"] = "reviewed"
            for target, source in _FINAL:
                row[target] = decision.get(source, "")
    return pl.from_dicts(rows, schema=dict.fromkeys(findings.columns, pl.Utf8))


def _accuracy(group: Mapping[str, Any], key: str) -> Any:
    return group.get(key)


def rebuttal_block(
    found: RebuttalRound,
    responses: Mapping[str, Mapping[str, str]],
    decisions: Mapping[tuple[str, str], Mapping[str, str]],
    *,
    preliminary: Mapping[str, Any],
) -> dict[str, Any]:
    """The ``rebuttal`` block of results.json.

    ``findings_with_error`` = ``agreed`` + ``disputed`` + ``no_response``, and ``disputed`` =
    ``upheld`` + ``overturned`` + ``modified`` + ``open`` (disputes without a decision). Once
    the round is closed, findings without a response count as agreed
    (``no_response_counted_as_agreed``).
    """
    counts = dict.fromkeys(
        (
            "findings_with_error",
            "agreed",
            "disputed",
            *DECISION_CHOICES,
            "no_response",
            "open",
        ),
        0,
    )
    disputes: list[dict[str, Any]] = []
    for unit, finding in found.findings.items():
        counts["findings_with_error"] += 1
        response = responses.get(unit, {})
        answer = response.get("response", "")
        if answer == "agree":
            counts["agreed"] += 1
            continue
        if answer != "disagree":
            counts["no_response"] += 1
            continue
        counts["disputed"] += 1
        decision = decisions.get(("rebuttal", unit), {})
        verdict = decision.get("decision", "")
        counts[verdict if verdict in DECISION_CHOICES else "open"] += 1
        disputes.append(
            {
                "kind": "rebuttal",
                "unit_id": unit,
                "coder": finding.get("coder"),
                "auditor": finding.get("auditor"),
                "category": finding.get("category"),
                "original": finding.get("original"),
                "audited": finding.get("audited"),
                "rationale": finding.get("rationale"),
                "reference": finding.get("reference"),
                "coder_comment": response.get("comment", ""),
                "decision": verdict or None,
                "decision_rationale": decision.get("rationale") or None,
                "decided_by": decision.get("decided_by") or None,
                "decision_date": decision.get("decision_date") or None,
                "final": _final(decision) if verdict == "modified" else None,
            }
        )
    closed = not found.is_open
    return {
        "round": found.round,
        "state": found.state,
        "opened_at": found.opened_at,
        "due": found.due,
        "closed_at": found.closed_at,
        **counts,
        "no_response_counted_as_agreed": closed,
        "preliminary": {
            "record_accuracy": preliminary.get("record_accuracy"),
            "code_accuracy": preliminary.get("code_accuracy"),
            "units_with_error": preliminary.get("units_with_error"),
        },
        "disputes": disputes,
    }


def _final(decision: Mapping[str, str]) -> dict[str, Any]:
    dx = [c for c in decision.get("final_principal_dx", "").split(";") if c] + [
        c for c in decision.get("final_other_dx", "").split(";") if c
    ]
    amount = decision.get("final_amount", "")
    return {
        "dx": dx,
        "px": [c for c in decision.get("final_procedures", "").split(";") if c],
        "cpt": [c for c in decision.get("final_cpt", "").split(";") if c],
        "drg": decision.get("final_drg") or None,
        "amount": float(amount) if amount else None,
    }


def auditor_rebuttals(
    found: RebuttalRound,
    responses: Mapping[str, Mapping[str, str]],
    decisions: Mapping[tuple[str, str], Mapping[str, str]],
    auditor: str,
) -> dict[str, Any]:
    """One auditor's findings in the round: disputed, overturned, modified, overturn rate.

    ``overturn_rate`` = overturned / findings with an error of that auditor (the share of the
    auditor's error findings the lead reversed); null without findings.
    """
    mine = [u for u, f in found.findings.items() if str(f.get("auditor") or "") == auditor]
    disputed = [u for u in mine if responses.get(u, {}).get("response") == "disagree"]
    verdicts = [decisions.get(("rebuttal", u), {}).get("decision", "") for u in disputed]
    overturned = verdicts.count("overturned")
    return {
        "findings_with_error": len(mine),
        "disputed": len(disputed),
        "upheld": verdicts.count("upheld"),
        "overturned": overturned,
        "modified": verdicts.count("modified"),
        "overturn_rate": overturned / len(mine) if mine else None,
    }


def results_status(
    *, outstanding: int, found: RebuttalRound | None, plan: SamplingPlan
) -> tuple[str, list[str]]:
    """``final`` or ``preliminary``, and why preliminary (units out, round open or not held)."""
    reasons: list[str] = []
    if outstanding:
        reasons.append(f"{outstanding} sampled unit(s) are not returned yet")
    if found is not None and found.is_open:
        reasons.append(f"the rebuttal round is open (due {found.due})")
    if found is None and plan.rebuttal.required:
        reasons.append("the plan requires a rebuttal round and none has been held")
    return ("preliminary" if reasons else "final"), reasons


def decided_units(decisions: Mapping[tuple[str, str], Mapping[str, str]]) -> Sequence[str]:
    return sorted(unit for (kind, unit) in decisions if kind == "rebuttal")
