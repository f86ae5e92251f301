"""The words for an audit's unit counts: one label per count, used by every reader.

The command line (``score``, ``collect``, ``status``), the PDFs and results.xlsx say the same
count with the same words, so a reader who compares them finds the same figure under the same
name. The keys are those of results.json ``progress``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COUNT_WORDS", "counts_line", "of_sampled", "scored_of_sampled"]

#: results.json ``progress`` key -> its words, in the order a reader follows the units.
COUNT_WORDS: dict[str, str] = {
    "units_sampled": "units sampled",
    "units_returned": "units returned",
    "units_reviewed": "reviewed",
    "units_record_missing": "record missing",
    "units_not_reviewed": "not reviewed",
    "units_scored": "units scored",
    "units_outstanding": "not returned yet",
}


def counts_line(progress: Mapping[str, int]) -> str:
    """One line of the counts: ``360 units sampled; 300 units returned (290 reviewed, ...)``."""

    def n(key: str) -> str:
        return f"{progress.get(key, 0):,} {COUNT_WORDS[key]}"

    return (
        f"{n('units_sampled')}; {n('units_returned')} ({n('units_reviewed')}, "
        f"{n('units_record_missing')}, {n('units_not_reviewed')}); {n('units_scored')}; "
        f"{n('units_outstanding')}"
    )


def scored_of_sampled(scored: int | None, sampled: int | None) -> str:
    """``295 scored of 360 sampled``: the units an accuracy rests on, of the units sampled."""
    if scored is None:
        return ""
    if sampled is None:
        return f"{scored:,} {COUNT_WORDS['units_scored']}"
    return f"{scored:,} scored of {sampled:,} sampled"


def of_sampled(scored: int | None, sampled: int | None) -> str:
    """``20 of 30``: a per-coder row's units scored of units sampled (the column says which)."""
    if scored is None:
        return ""
    return f"{scored:,}" if sampled is None else f"{scored:,} of {sampled:,}"
