"""Validation helpers for the frame: name rows as the user sees them, collect problems.

Messages never carry row contents, only unit ids and row numbers (PHI).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import polars as pl

from audit_kit.errors import Problem

if TYPE_CHECKING:
    from audit_kit.universe.reading import Universe

#: Name of the column holding each row's 0-based position among the file's data rows.
ROW = "__row"

_MAX_EXAMPLES = 5


def describe_rows(rows: Iterable[int], label: Callable[[int], str], *, count: int) -> str:
    """Name a few rows: ``rows 4, 9, 12 and 37 more``."""
    shown = [label(r) for r in list(rows)[:_MAX_EXAMPLES]]
    words = [s.split(" ", 1)[1] for s in shown]
    kind = shown[0].split(" ", 1)[0] if shown else "row"
    text = f"{kind}{'s' if count > 1 else ''} " + ", ".join(words)
    if count > len(shown):
        text += f" and {count - len(shown)} more"
    return text


def missing_column_problems(
    universe: Universe, wanted: dict[str, str], *, source: str = "plan"
) -> list[Problem]:
    """Problems for every referenced column absent from the file (with close matches).

    ``wanted`` maps a plan key path (``columns.paid``) to the column it names.
    """
    problems = []
    available = list(universe.columns)
    listing = ", ".join(available[:30]) + (" ..." if len(available) > 30 else "")
    for key, column in wanted.items():
        if column in available:
            continue
        folded = {c.strip().lower(): c for c in available}
        close = difflib.get_close_matches(column.strip().lower(), list(folded), n=3, cutoff=0.6)
        hint = [folded[c] for c in close]
        fix = (
            f"did you mean {' or '.join(repr(c) for c in hint)}? Edit {key} in the plan."
            if hint
            else f"map {key} to one of the file's columns (a preset's column names are "
            "placeholders to replace)."
        )
        problems.append(
            Problem(
                where=f"{universe.path}: column '{column}' ({source} {key})",
                expected=f"a column of the file; it has: {listing}",
                found="no such column",
                fix=fix,
            )
        )
    return problems


def row_problem(
    universe: Universe,
    frame: pl.DataFrame,
    mask: pl.Series,
    *,
    column: str,
    role: str,
    expected: str,
    found: str,
    fix: str,
) -> Problem | None:
    """One problem for the rows of ``frame`` (with ``ROW``) where ``mask`` is true, or None."""
    count = int(mask.sum())
    if not count:
        return None
    rows = frame.filter(mask)[ROW].head(_MAX_EXAMPLES).to_list()
    return Problem(
        where=f"{universe.path}: column '{column}' ({role}), "
        + describe_rows(rows, universe.row_label, count=count),
        expected=expected,
        found=f"{found} in {count} row{'s' if count > 1 else ''}",
        fix=fix,
    )


def negative_problem(
    universe: Universe,
    frame: pl.DataFrame,
    values: pl.Series,
    *,
    column: str,
    role: str,
    within: pl.Series | None = None,
) -> Problem | None:
    """The problem of negative amounts in ``values`` (aligned with ``frame``; only the rows
    ``within`` marks, if given), or None."""
    negative = (values < 0).fill_null(False)
    if within is not None:
        negative = negative & within
    shown = ", ".join(f"{v:,.2f}" for v in values.filter(negative).head(_MAX_EXAMPLES).to_list())
    # Amounts are not PHI: the values themselves help find the adjustments in the export.
    return row_problem(
        universe,
        frame,
        negative,
        column=column,
        role=role,
        expected="an amount >= 0",
        found=f"a negative amount ({shown})",
        fix=f"exclude adjustments and refunds with a frame filter, e.g. {{column: {role}, "
        "op: '>', value: 0}, or correct the export.",
    )


def duplicate_problem(
    universe: Universe, groups: Sequence[tuple[str, Sequence[int]]], id_col: str
) -> Problem | None:
    """One problem naming the count of repeated unit ids and a few, with their rows.

    ``groups`` are (unit id, 0-based data rows) for every id found on more than one row.
    """
    if not groups:
        return None
    ordered = sorted((sorted(rows), unit) for unit, rows in groups)
    examples = [
        f"{unit} ({describe_rows(rows, universe.row_label, count=len(rows))})"
        for rows, unit in ordered[:3]
    ]
    return Problem(
        where=f"{universe.path}: column '{id_col}' (unit_id)",
        expected="each unit id once (one row per sampling unit)",
        found=f"{_count(len(ordered), 'id')} on more than one row "
        f"({sum(len(r) for r, _ in ordered)} rows), "
        "e.g. " + "; ".join(examples),
        fix="remove the repeated rows, or sample another unit (e.g. claim lines need a line id "
        "as unit_id).",
    )


def _count(n: int, noun: str) -> str:
    """'1 id', '3 ids'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
