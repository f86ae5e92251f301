"""The rebuttal round's view for the reports: counts, accuracy before and after, disputes.

Formatting only: every number comes from results.json's ``rebuttal`` block, as scoring wrote
it. Disputes carry unit ids and coding only (never a patient field).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_kit.reporting.formatting import money, text
from audit_kit.reporting.sections import codes_view, interval_view

DECISION_WORDS = {
    "upheld": "upheld (the finding stands)",
    "overturned": "overturned (the original coding stands; not an error)",
    "modified": "modified (scored with the lead's final codes)",
}


def _dispute(d: Mapping[str, Any]) -> dict[str, Any]:
    final = d.get("final") if isinstance(d.get("final"), Mapping) else None
    decision = text(d.get("decision"))
    return {
        "unit_id": text(d.get("unit_id")),
        "kind": text(d.get("kind")),
        "coder": text(d.get("coder")),
        "auditor": text(d.get("auditor")),
        "category": text(d.get("category")),
        "original": codes_view(d.get("original")),
        "audited": codes_view(d.get("audited")),
        "final": codes_view(final) if final else [],
        "final_amount": money(final.get("amount"))
        if final and final.get("amount") is not None
        else "",
        "rationale": text(d.get("rationale")),
        "reference": text(d.get("reference")),
        "coder_comment": text(d.get("coder_comment")),
        "decision": decision or "not decided yet",
        "decision_words": DECISION_WORDS.get(decision, "not decided yet"),
        "decision_rationale": text(d.get("decision_rationale")),
        "decided_by": text(d.get("decided_by")),
        "decision_date": text(d.get("decision_date")),
    }


def rebuttal_view(
    results: Mapping[str, Any], default_conf: Any, *, coder: str | None = None
) -> dict[str, Any] | None:
    """The round as the reports show it (None when no round was opened).

    With ``coder``, only that coder's disputes are listed.
    """
    block = results.get("rebuttal")
    if not isinstance(block, Mapping):
        return None
    overall = results.get("overall") or {}
    found = block.get("preliminary")
    before: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    disputes = [
        _dispute(d)
        for d in block.get("disputes") or []
        if isinstance(d, Mapping) and (coder is None or text(d.get("coder")) == coder)
    ]
    counts = {
        key: int(block.get(key) or 0)
        for key in (
            "findings_with_error",
            "agreed",
            "disputed",
            "upheld",
            "overturned",
            "modified",
            "no_response",
            "open",
        )
    }
    return {
        "state": text(block.get("state")),
        "open": text(block.get("state")) == "open",
        "due": text(block.get("due")),
        "opened_at": text(block.get("opened_at"))[:10],
        "closed_at": text(block.get("closed_at"))[:10],
        "no_response_counted_as_agreed": bool(block.get("no_response_counted_as_agreed")),
        "counts": counts,
        "before": {
            "record": interval_view(before.get("record_accuracy"), default_conf),
            "code": interval_view(before.get("code_accuracy"), default_conf),
            "units_with_error": text(before.get("units_with_error")),
        },
        "after": {
            "record": interval_view(overall.get("record_accuracy"), default_conf),
            "code": interval_view(overall.get("code_accuracy"), default_conf),
            "units_with_error": text(overall.get("units_with_error")),
        },
        "disputes": disputes,
        "auditors": [
            {
                "auditor": text(a.get("auditor")),
                "findings": int(a["rebuttal"].get("findings_with_error") or 0),
                "disputed": int(a["rebuttal"].get("disputed") or 0),
                "overturned": int(a["rebuttal"].get("overturned") or 0),
                "modified": int(a["rebuttal"].get("modified") or 0),
                "rate": _rate(a["rebuttal"].get("overturn_rate")),
            }
            for a in results.get("auditors") or []
            if isinstance(a, Mapping) and isinstance(a.get("rebuttal"), Mapping)
        ],
    }


def _rate(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) else "n/a"
