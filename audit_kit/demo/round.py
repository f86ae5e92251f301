"""The demo's rebuttal round: SIMULATED coders answer, a SIMULATED lead decides, the round closes.

Through the real entry points (``rebuttal.open_round``, ``findings.collect``,
``rebuttal.write_decisions``, ``rebuttal.close_round``), then the audit is scored again with the
decisions applied. The filled rebuttal and decisions workbooks go to the demo's inputs folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit_kit.folder.results import Results

__all__ = ["run_rebuttal_round"]


def run_rebuttal_round(out: Path, inputs: Path) -> tuple[str, Results]:
    """Run the round on the demo audit ``out``; return a one-line summary and the new results."""
    from audit_kit import findings, rebuttal, scoring
    from audit_kit.demo.simulation.rebuttals import decide_disputes, respond_rebuttals

    opened = rebuttal.open_round(out)
    answered = respond_rebuttals(out, inputs / "rebuttals")
    findings.collect(out, answered)
    decided = None
    try:
        rebuttal.write_decisions(out)
        decided = decide_disputes(out, inputs / "decisions")
    except rebuttal.NoDisputes:
        pass
    if decided is not None:
        findings.collect(out, [decided])
    rebuttal.close_round(out, early=True)
    from audit_kit.reporting.results_workbook import results_workbook_bytes

    results = scoring.score_audit(out, results_workbook=results_workbook_bytes)
    block = results.rebuttal
    disputed, upheld, overturned, modified = (
        (0, 0, 0, 0)
        if block is None
        else (block.disputed, block.upheld, block.overturned, block.modified)
    )
    detail = (
        f"SIMULATED coders answered {opened.findings} findings in {len(answered)} workbooks "
        f"({disputed} disputed); SIMULATED lead: {upheld} upheld, "
        f"{overturned} overturned, {modified} modified; "
        "round closed, scored again"
    )
    return detail, results
