"""The rules for the cells of returned rebuttal and decisions workbooks, one per column.

A :class:`ColumnRule` reads one input cell's text into the value recorded (``responses.csv``
or ``decisions.csv``) or an :class:`Issue`; a :class:`RowRule` checks what one cell requires of
another (a comment for ``disagree``, final codes only for ``modified``). The validation of a
returned workbook (:mod:`audit_kit.findings._review`) runs them over every row and words each
issue with its file, sheet, cell and unit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit_kit.findings._values import choice, code_cell, parse_amount, review_day
from audit_kit.folder.rebuttal_round import DECISION_CHOICES, RESPONSE_CHOICES
from audit_kit.values.codes import CodeKind

OLDEST = dt.date(2000, 1, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """What is wrong with one cell: expected, found, fix (the cell is named by the caller)."""

    header: str
    expected: str
    found: str
    fix: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RowContext:
    """What a rule may need beside the cell: the finding under review, the day, the plan."""

    finding: Mapping[str, Any]
    separator: str
    latest: dt.date
    earliest: dt.date
    notes: list[str]
    present: frozenset[str]  # the input headers the sheet has


Reader = Callable[[str, RowContext], tuple[str, "Issue | None"]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnRule:
    """How one input column is read: header, the table column it fills, the reader."""

    header: str
    column: str
    read: Reader
    #: a value in this column makes the row a record (the row's key input)
    key: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RowRule:
    """A check across the cells of one row (values as read by the column rules)."""

    check: Callable[[Mapping[str, str], RowContext], Sequence[Issue]]


def shown(text: str, limit: int = 60) -> str:
    text = text.replace("\n", " ").replace("\r", " ")
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _choice(header: str, allowed: Sequence[str], fix: str) -> Reader:
    def read(text: str, ctx: RowContext) -> tuple[str, Issue | None]:
        value = choice(text)
        if value and value not in allowed:
            return "", Issue(
                header=header,
                expected=f"empty or one of {', '.join(allowed)}",
                found=shown(text.strip()),
                fix=fix,
            )
        return value, None

    return read


def _free_text(text: str, ctx: RowContext) -> tuple[str, Issue | None]:
    return text.strip(), None


def _date(header: str) -> Reader:
    def read(text: str, ctx: RowContext) -> tuple[str, Issue | None]:
        text = text.strip()
        if not text:
            return "", None
        day, iso = review_day(text)
        if day is None:
            return "", Issue(
                header=header,
                expected="a date (yyyy-mm-dd)",
                found=shown(text),
                fix="enter the date of the decision as yyyy-mm-dd.",
            )
        if not ctx.earliest <= day <= ctx.latest:
            return "", Issue(
                header=header,
                expected=f"a date between the opening of the round ({ctx.earliest}) and today",
                found=day.isoformat(),
                fix="enter the day the decision was made.",
            )
        return iso, None

    return read


def _codes(header: str, kind: CodeKind, *, single: bool) -> Reader:
    def read(text: str, ctx: RowContext) -> tuple[str, Issue | None]:
        result, joined = code_cell(text.strip(), kind, ctx.separator)
        if result.problems:
            issue = result.problems[0]
            return "", Issue(
                header=header, expected=issue.expected, found=shown(issue.code), fix=issue.fix
            )
        if single and len(result.codes) > 1:
            return "", Issue(
                header=header,
                expected="one code",
                found=f"{len(result.codes)} codes",
                fix="keep one code here"
                + (" and move the others to Final other dx." if kind == "dx" else "."),
            )
        ctx.notes.extend(f"{header}: {n}" for n in result.notes)
        return joined, None

    return read


def _amount(header: str) -> Reader:
    def read(text: str, ctx: RowContext) -> tuple[str, Issue | None]:
        text = text.strip()
        if not text:
            return "", None
        amount = parse_amount(text)
        if amount is None or amount < 0:
            return "", Issue(
                header=header,
                expected="a number of 0 or more",
                found=shown(text),
                fix="enter the final amount as a number (no text).",
            )
        return repr(amount), None

    return read


# -- rebuttal workbooks --------------------------------------------------------------------------

REBUTTAL_COLUMNS: tuple[ColumnRule, ...] = (
    ColumnRule(
        header="Coder response",
        column="response",
        read=_choice(
            "Coder response",
            RESPONSE_CHOICES,
            "choose agree or disagree from the drop-down (pasted values are not checked by Excel).",
        ),
        key=True,
    ),
    ColumnRule(header="Coder comment", column="comment", read=_free_text),
)


def _comment_for_disagree(values: Mapping[str, str], ctx: RowContext) -> Sequence[Issue]:
    if values["response"] == "disagree" and not values["comment"]:
        return [
            Issue(
                header="Coder comment",
                expected="a Coder comment saying why the coding was right (required for disagree)",
                found="nothing",
                fix="write your reason and the documentation or guideline behind it.",
            )
        ]
    if not values["response"] and values["comment"]:
        return [
            Issue(
                header="Coder response",
                expected=f"a Coder response ({', '.join(RESPONSE_CHOICES)}) for a row with a "
                "comment",
                found="an empty response, with Coder comment filled in",
                fix="choose agree or disagree from the drop-down.",
            )
        ]
    return []


REBUTTAL_ROWS: tuple[RowRule, ...] = (RowRule(check=_comment_for_disagree),)


# -- decisions workbooks ----------------------------------------------------------------------

#: Final code cells: header, code kind, decisions.csv column, audited/original snapshot key
FINAL_CODE_RULES: tuple[tuple[str, CodeKind, str, str], ...] = (
    ("Final principal dx", "dx", "final_principal_dx", "dx0"),
    ("Final other dx", "dx", "final_other_dx", "dx1"),
    ("Final procedures", "px", "final_procedures", "px"),
    ("Final CPT/HCPCS", "cpt", "final_cpt", "cpt"),
    ("Final DRG", "drg", "final_drg", "drg"),
)

DECISION_COLUMNS: tuple[ColumnRule, ...] = (
    ColumnRule(
        header="Decision",
        column="decision",
        read=_choice(
            "Decision",
            DECISION_CHOICES,
            "choose upheld, overturned or modified from the drop-down.",
        ),
        key=True,
    ),
    ColumnRule(header="Decision rationale", column="rationale", read=_free_text),
    ColumnRule(header="Decided by", column="decided_by", read=_free_text),
    ColumnRule(header="Decision date", column="decision_date", read=_date("Decision date")),
    *(
        ColumnRule(
            header=header,
            column=column,
            read=_codes(header, kind, single=header in ("Final principal dx", "Final DRG")),
        )
        for header, kind, column, _ in FINAL_CODE_RULES
    ),
    ColumnRule(header="Final amount", column="final_amount", read=_amount("Final amount")),
)


def _side(finding: Mapping[str, Any], side: str, key: str) -> str:
    codes = finding.get(side) or {}
    if key == "dx0":
        dx = codes.get("dx") or []
        return str(dx[0]) if dx else ""
    if key == "dx1":
        return ";".join(str(c) for c in (codes.get("dx") or [])[1:])
    if key == "drg":
        return str(codes.get("drg") or "")
    return ";".join(str(c) for c in codes.get(key) or [])


def _amount_of(value: Any) -> str:
    return "" if value is None else repr(float(value))


def final_matches(
    values: Mapping[str, str], finding: Mapping[str, Any], side: str, present: frozenset[str]
) -> bool:
    """Whether the Final cells equal one side of the finding (``audited`` or ``original``)."""
    for header, _, column, key in FINAL_CODE_RULES:
        if header not in present:
            continue
        if values[column].upper() != _side(finding, side, key).upper():
            return False
    if "Final amount" in present:
        amount = _amount_of(finding.get("audited_amount" if side == "audited" else "examined"))
        if values["final_amount"] and amount and float(values["final_amount"]) != float(amount):
            return False
    return True


def _decision_complete(values: Mapping[str, str], ctx: RowContext) -> Sequence[Issue]:
    decision = values["decision"]
    if not decision:
        filled = [
            r.header for r in DECISION_COLUMNS[1:4] if values[r.column] and r.header in ctx.present
        ]
        if filled:
            return [
                Issue(
                    header="Decision",
                    expected=f"a Decision ({', '.join(DECISION_CHOICES)}) for a row with "
                    f"{filled[0]} filled in",
                    found="an empty decision",
                    fix="choose the decision from the drop-down.",
                )
            ]
        return []
    issues = []
    for column, header, what in (
        ("rationale", "Decision rationale", "why the finding is decided so"),
        ("decided_by", "Decided by", "the name of the audit lead who decided"),
        ("decision_date", "Decision date", "the date of the decision"),
    ):
        if not values[column]:
            issues.append(
                Issue(
                    header=header,
                    expected=what + " (required for every decision)",
                    found="nothing",
                    fix=f"fill in {header}.",
                )
            )
    changed = not final_matches(values, ctx.finding, "audited", ctx.present)
    if decision != "modified" and changed:
        issues.append(
            Issue(
                header="Decision",
                expected="modified, since the Final codes or amount differ from the audited ones",
                found=decision,
                fix="choose modified, or put the Final cells back to the audited codes.",
            )
        )
    if decision == "modified":
        if not changed:
            issues.append(
                Issue(
                    header="Decision",
                    expected="Final codes or amount that differ from the audited ones",
                    found="modified, with the Final cells as audited",
                    fix="enter the final codes in the Final columns, or choose upheld.",
                )
            )
        elif final_matches(values, ctx.finding, "original", ctx.present):
            issues.append(
                Issue(
                    header="Decision",
                    expected="Final codes that differ from the original coding",
                    found="modified, with the Final cells equal to the original codes",
                    fix="choose overturned (the original coding stands).",
                )
            )
        dx = ctx.finding.get("original", {}).get("dx") or []
        if dx and "Final principal dx" in ctx.present and not values["final_principal_dx"]:
            issues.append(
                Issue(
                    header="Final principal dx",
                    expected="the final principal diagnosis",
                    found="nothing",
                    fix="enter the principal diagnosis code.",
                )
            )
    return issues


DECISION_ROWS: tuple[RowRule, ...] = (RowRule(check=_decision_complete),)
