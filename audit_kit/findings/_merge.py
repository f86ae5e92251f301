"""Merge accepted returns into the findings tables; progress per auditor.

Per unit, a newer return from the same auditor supersedes the older one; a unit re-issued in a
later batch takes the later auditor's findings; two auditors' findings for one unit are
otherwise a conflict (double-review units go to ``double_review.csv``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from audit_kit.errors import Problem
from audit_kit.findings._records import FINDINGS_COLUMNS, AuditorProgress, _Return
from audit_kit.folder.manifest import AuditFolder
from audit_kit.workbook import (
    SHEET_SAMPLE,
    WorkbookLayout,
)

FINDINGS = "findings.csv"
DOUBLE_REVIEW = "double_review.csv"


# -- merging -----------------------------------------------------------------------------------


def _read_findings(folder: AuditFolder, rel: str) -> dict[str, dict[str, str]]:
    if not folder.has(rel):
        return {}
    frame = folder.read_csv(rel, infer_schema=False)
    out: dict[str, dict[str, str]] = {}
    for row in frame.to_dicts():
        out[str(row["unit_id"])] = {
            c: "" if row.get(c) is None else str(row[c]) for c in FINDINGS_COLUMNS
        }
    return out


def _merge(
    state: dict[str, dict[str, str]],
    unit: str,
    record: dict[str, str],
    ret: _Return,
    *,
    layouts: Mapping[str, WorkbookLayout],
    modified: Mapping[str, str],
    superseded: list[dict[str, str]],
    conflicts: list[Problem],
    double_review: bool,
) -> None:
    old = state.get(unit)
    if old is None:
        state[unit] = record
        return
    old_layout = layouts.get(old["workbook_id"])
    old_identity = (old_layout.auditor if old_layout else "") or old["auditor"]
    new_identity = ret.identity[unit]
    old_batch = old_layout.batch if old_layout else 0
    if old_identity == new_identity or ret.layout.batch > old_batch:
        old_modified = modified.get(old["source_sha256"], "")
        if (
            ret.modified
            and old_modified
            and ret.modified < old_modified
            and (old_identity == new_identity)
        ):
            ret.notes.append(
                f"unit {unit}: this return was saved before the one already collected "
                f"({old['source_sha256'][:12]}); the later one is kept"
            )
            return
        reason = "newer return" if old_identity == new_identity else "re-issued to another auditor"
        superseded.append(
            {
                "unit_id": unit,
                "file": "double_review.csv" if double_review else "findings.csv",
                "previous_sha256": old["source_sha256"],
                "sha256": ret.sha,
                "reason": reason,
            }
        )
        state[unit] = record
        return
    kind = "second review" if double_review else "findings"
    conflicts.append(
        Problem(
            where=f"{ret.name}, {SHEET_SAMPLE}, unit {unit}",
            expected=f"{kind} for unit {unit} from one auditor",
            found=f"{new_identity!r} here and {old_identity!r} in return "
            f"{old['source_sha256'][:12]} (workbook {old['workbook_id']})",
            fix="decide whose review stands: collect only that return, or re-issue the unit to "
            "one auditor with `audit-kit workbooks --assignment`.",
        )
    )


def _frame(state: Mapping[str, Mapping[str, str]], *, sample_order: Sequence[str]) -> pl.DataFrame:
    rank = {u: i for i, u in enumerate(sample_order)}
    units = sorted(state, key=lambda u: (rank.get(u, len(rank)), u))
    schema = dict.fromkeys(FINDINGS_COLUMNS, pl.Utf8)
    frame = pl.from_dicts([state[u] for u in units], schema=schema)
    return frame.with_columns(
        pl.col("audited_amount").replace("", None).cast(pl.Float64),
    )


def double_review_pending(
    layouts: Mapping[str, WorkbookLayout],
    findings: Mapping[str, Mapping[str, str]],
    second: Mapping[str, Mapping[str, str]],
    sample_order: Sequence[str],
) -> list[str]:
    """Double-review units returned by one of their two auditors only, in sample order."""
    doubled = {
        str(u["unit_id"])
        for layout in layouts.values()
        for u in layout.units
        if u["role"] == "second"
    }
    rank = {u: i for i, u in enumerate(sample_order)}
    return sorted(
        (u for u in doubled if (u in findings) != (u in second)),
        key=lambda u: (rank.get(u, len(rank)), u),
    )


def _progress(
    layouts: Mapping[str, WorkbookLayout],
    findings: Mapping[str, Mapping[str, str]],
    sample_rows: Mapping[str, Any],
) -> list[AuditorProgress]:
    owner: dict[str, tuple[int, str]] = {}
    for layout in layouts.values():
        batch, auditor = layout.batch, layout.auditor
        for unit in layout.units:
            if unit["role"] != "primary" or unit["spare"]:
                continue
            uid = unit["unit_id"]
            previous = owner.get(uid)
            if previous is None or batch >= previous[0]:
                owner[uid] = (batch, auditor)
    counts: dict[str, list[int]] = {}
    at = {"reviewed": 1, "record missing": 2, "not reviewed": 3}
    for uid, (_, auditor) in owner.items():
        if uid not in sample_rows:
            continue
        row = counts.get(auditor)
        if row is None:
            row = counts[auditor] = [0, 0, 0, 0]
        row[0] += 1
        finding = findings.get(uid)
        if finding is not None and (column := at.get(finding.get("review_status", ""))):
            row[column] += 1
    return [
        AuditorProgress(
            auditor=auditor or "all auditors",
            assigned=c[0],
            reviewed=c[1],
            record_missing=c[2],
            not_reviewed=c[3],
        )
        for auditor, c in sorted(counts.items())
    ]
