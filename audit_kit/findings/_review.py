"""Returned rebuttal and decisions workbooks: validated against the round's record, merged.

The checks are those of an auditor workbook (:mod:`audit_kit.findings._check`), against the
audit folder's own record of the workbook (``rebuttals/round.json``), never the file's claims:
the workbook belongs to this audit and round; every row is present once, none added (rows may
be re-sorted); the locked cells are unchanged (SHA-256 per row, the changed cell named); and
each input cell obeys its rule (:mod:`audit_kit.findings._review_rules`). Problems name file,
sheet, cell and unit.

Merging: per unit (per dispute), a newer return supersedes the older one, and the event log
says so; a return saved before the one already collected is kept out, with a note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from audit_kit.errors import Problem
from audit_kit.findings._review_rules import (
    DECISION_COLUMNS,
    DECISION_ROWS,
    REBUTTAL_COLUMNS,
    REBUTTAL_ROWS,
    ColumnRule,
    Issue,
    RowContext,
    RowRule,
    shown,
)
from audit_kit.findings._values import canonical, col_letter
from audit_kit.folder.rebuttal_round import (
    DECISIONS_COLUMNS,
    RESPONSES_COLUMNS,
    IssuedBook,
    RebuttalRound,
)
from audit_kit.values.dates import parse_timestamp
from audit_kit.workbook import (
    DECISIONS_FORMAT,
    REBUTTAL_FORMAT,
    REVIEW_SHEETS,
    ReturnedSheet,
    row_digest,
)


@dataclass(slots=True)
class ReviewReturn:
    """One returned rebuttal or decisions workbook, validated: its records by key."""

    path: Path
    name: str
    order: int
    sha: str
    book: IssuedBook
    modified: str
    records: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.book.kind


def _rules(book: IssuedBook) -> tuple[tuple[ColumnRule, ...], tuple[RowRule, ...]]:
    if book.kind == "decisions":
        return DECISION_COLUMNS, DECISION_ROWS
    return REBUTTAL_COLUMNS, REBUTTAL_ROWS


def review_return(
    sheet: ReturnedSheet,
    *,
    path: Path,
    order: int,
    sha: str,
    modified: str,
    found: RebuttalRound | None,
    separator: str,
) -> tuple[ReviewReturn | None, list[Problem]]:
    """Validate a returned rebuttal or decisions workbook against the round's record."""
    name = str(path)
    if found is None:
        return None, [
            Problem(
                where=f"{name}, _audit",
                expected="a workbook of this audit's rebuttal round",
                found="no rebuttal round was opened in this audit folder",
                fix="collect it into the audit folder whose `audit-kit rebuttals` wrote it.",
            )
        ]
    book = found.book(sheet.meta.get("workbook_id", ""))
    if book is None:
        return None, [
            Problem(
                where=f"{name}, _audit",
                expected="a rebuttal or decisions workbook issued by this audit",
                found=f"workbook id {sheet.meta.get('workbook_id') or '(none)'}",
                fix="return the workbook exactly as audit-kit wrote it.",
            )
        ]
    if not found.is_open:
        return None, [
            Problem(
                where=name,
                expected="a return while the rebuttal round is open",
                found=f"the round closed at {found.closed_at}",
                fix="a closed round is final; responses and decisions are no longer taken.",
            )
        ]
    ret = ReviewReturn(path=path, name=name, order=order, sha=sha, book=book, modified=modified)
    return ret, _validate(ret, sheet, found=found, separator=separator)


def _validate(
    ret: ReviewReturn, sheet: ReturnedSheet, *, found: RebuttalRound, separator: str
) -> list[Problem]:
    book = ret.book
    sheet_name = REVIEW_SHEETS[DECISIONS_FORMAT if book.kind == "decisions" else REBUTTAL_FORMAT]
    column_rules, row_rules = _rules(book)
    header = [("" if h is None else str(h)).strip() for h in sheet.header]
    locked = [c["header"] for c in book.columns]
    required = [*locked, *book.inputs]
    index: dict[str, int] = {}
    problems: list[Problem] = []
    for i, h in enumerate(header):
        if h in index and h in required:
            problems.append(
                Problem(
                    where=f"{ret.name}, {sheet_name}!{col_letter(i)}1",
                    expected=f"the column {h!r} once",
                    found="a second column with that header",
                    fix="delete the copied column.",
                )
            )
        index.setdefault(h, i)
    for h in required:
        if h not in index:
            problems.append(
                Problem(
                    where=f"{ret.name}, {sheet_name}!1:1",
                    expected=f"a column headed {h!r}",
                    found="no such column (renamed or deleted)",
                    fix="restore the header exactly as written.",
                )
            )
    if problems:
        return problems

    def where(h: str, row: int) -> str:
        return f"{ret.name}, {sheet_name}!{col_letter(index[h])}{row}"

    units = {str(u["unit_id"]): u for u in book.units}
    present = frozenset(book.inputs)
    rules = [r for r in column_rules if r.header in present]
    stamp = parse_timestamp(found.opened_at)
    opened = stamp.date() if stamp is not None else dt.date.min
    latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    seen_at: dict[str, int] = {}
    unit_header = locked[0]
    for i, row in enumerate(sheet.rows[1:], start=2):
        cells = ["" if v is None else str(v) for v in row]
        if not "".join(cells).strip():
            continue
        unit = cells[index[unit_header]].strip()
        if unit not in units:
            problems.append(
                Problem(
                    where=where(unit_header, i),
                    expected="a unit id of this workbook",
                    found=f"unit {shown(unit)}" if unit else "a row without a unit id",
                    fix="delete the added row (or undo the change to the unit id).",
                )
            )
            continue
        if unit in seen_at:
            problems.append(
                Problem(
                    where=where(unit_header, i),
                    expected="each unit once",
                    found=f"unit {unit} again (first in row {seen_at[unit]})",
                    fix="delete the duplicated row, keeping the one you filled in.",
                )
            )
            continue
        seen_at[unit] = i
        values = [canonical(cells[index[c["header"]]] or None, c["kind"]) for c in book.columns]
        if row_digest(values) != units[unit]["row_sha256"]:
            problems.append(
                Problem(
                    where=f"{ret.name}, {sheet_name} row {i} (unit {unit})",
                    expected=f"the finding of unit {unit} as issued (SHA-256 recorded at issue)",
                    found="a locked cell changed",
                    fix="undo the change: only the green-headed columns are yours to fill.",
                )
            )
            continue
        kind = str(units[unit].get("kind") or "rebuttal")
        ctx = RowContext(
            finding=found.findings.get(unit, {}),
            separator=separator,
            latest=latest,
            earliest=opened,
            notes=[],
            present=present,
        )
        record: dict[str, str] = {}
        row_problems: list[Problem] = []
        for rule in rules:
            value, issue = rule.read(cells[index[rule.header]], ctx)
            record[rule.column] = value
            if issue is not None:
                row_problems.append(_problem(issue, where(issue.header, i), unit))
        for column in (r.column for r in column_rules if r.header not in present):
            record[column] = ""
        if not row_problems:
            for row_rule in row_rules:
                for issue in row_rule.check(record, ctx):
                    row_problems.append(_problem(issue, where(issue.header, i), unit))
        problems.extend(row_problems)
        ret.notes.extend(f"{sheet_name} row {i}: {n}" for n in ctx.notes)
        key_rule = next(r for r in column_rules if r.key)
        if row_problems or not record[key_rule.column]:
            continue
        if book.kind == "decisions" and record["decision"] != "modified":
            for rule in rules:
                if rule.header.startswith("Final "):
                    record[rule.column] = ""
        ret.records[(kind, unit)] = {
            **record,
            "kind": kind,
            "unit_id": unit,
            "workbook_id": book.workbook_id,
            "coder": str(ctx.finding.get("coder") or book.coder),
            "source_sha256": ret.sha,
            "collected_at": "",
        }
    for unit in units:
        if unit not in seen_at:
            problems.append(
                Problem(
                    where=f"{ret.name}, {sheet_name}, unit {unit}",
                    expected="a row for every finding of the workbook",
                    found="no row (deleted)",
                    fix=f"restore the row from the workbook you were given ({book.workbook_id}).",
                )
            )
    return problems


def _problem(issue: Issue, where: str, unit: str) -> Problem:
    return Problem(
        where=f"{where} (unit {unit})", expected=issue.expected, found=issue.found, fix=issue.fix
    )


# -- merging -----------------------------------------------------------------------------------


def merge_reviews(
    returns: Sequence[ReviewReturn],
    *,
    responses: dict[str, dict[str, str]],
    decisions: dict[tuple[str, str], dict[str, str]],
    modified: Mapping[str, str],
    superseded: list[dict[str, str]],
    stamp: str,
) -> None:
    """Merge accepted returns into the responses and decisions (in place), oldest first."""
    for ret in sorted(returns, key=lambda r: (r.modified or "~", r.order)):
        for (kind, unit), record in ret.records.items():
            record["collected_at"] = stamp
            if ret.kind == "decisions":
                key = (kind, unit)
                old = decisions.get(key)
                target_file = "decisions.csv"
            else:
                old = responses.get(unit)
                target_file = "responses.csv"
            if old is not None:
                old_modified = modified.get(old["source_sha256"], "")
                if ret.modified and old_modified and ret.modified < old_modified:
                    ret.notes.append(
                        f"unit {unit}: this return was saved before the one already collected "
                        f"({old['source_sha256'][:12]}); the later one is kept"
                    )
                    continue
                superseded.append(
                    {
                        "unit_id": unit,
                        "file": target_file,
                        "previous_sha256": old["source_sha256"],
                        "sha256": ret.sha,
                        "reason": "newer return",
                    }
                )
            if ret.kind == "decisions":
                decisions[(kind, unit)] = {c: record.get(c, "") for c in DECISIONS_COLUMNS}
            else:
                responses[unit] = {c: record.get(c, "") for c in RESPONSES_COLUMNS}


def responses_frame(
    responses: Mapping[str, Mapping[str, str]], order: Sequence[str]
) -> pl.DataFrame:
    rank = {u: i for i, u in enumerate(order)}
    units = sorted(responses, key=lambda u: (rank.get(u, len(rank)), u))
    return pl.from_dicts(
        [dict(responses[u]) for u in units], schema=dict.fromkeys(RESPONSES_COLUMNS, pl.Utf8)
    )


def decisions_frame(
    decisions: Mapping[tuple[str, str], Mapping[str, str]], order: Sequence[str]
) -> pl.DataFrame:
    rank = {u: i for i, u in enumerate(order)}
    keys = sorted(decisions, key=lambda k: (k[0], rank.get(k[1], len(rank)), k[1]))
    return pl.from_dicts(
        [dict(decisions[k]) for k in keys], schema=dict.fromkeys(DECISIONS_COLUMNS, pl.Utf8)
    )
