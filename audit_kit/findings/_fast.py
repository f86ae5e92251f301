"""Check a return column by column, each distinct value once: the fast path for clean returns.

Most returns have nothing wrong. For those, this check reaches the same records, notes and
identities as the row-by-row check (:mod:`audit_kit.findings._check`) with a few passes over
each column and each distinct value read once, instead of Python code for every cell.

It words no problem: at the first thing that would be one, it gives up, leaving the return as
it found it, and the row-by-row check runs instead and says what is wrong, where, in order. It
gives up *only* on what the row-by-row check reports, so a return either passes both or gets
the same problems either way (tests/test_collect_fast.py holds the two paths to that).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from audit_kit.findings._records import _Return
from audit_kit.findings._values import (
    CODE_CELLS,
    OLDEST_DATE,
    SCORED,
    SINGLE_CODE,
    canonical,
    choice,
    code_cell,
    col_letter,
    parse_amount,
    review_day,
)
from audit_kit.workbook import (
    CODER_RESPONSES,
    ERROR_CATEGORIES,
    SHEET_SAMPLE,
    STATUSES,
    ReturnedSheet,
    row_digests,
)

if TYPE_CHECKING:
    from audit_kit.findings._check import _RowCheck

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
_Grid = list[list[str | None]]
_Result = tuple[dict[str, dict[str, str]], dict[str, str], dict[str, str], list[str]]


class _Unclean(Exception):
    """Something the row-by-row check reports as a problem: leave the return to it."""


def _validate_clean(
    ret: _Return, sheet: ReturnedSheet, index: Mapping[str, int], *, check: _RowCheck
) -> bool:
    """Fill ``ret`` (records, roles, identities, notes) and return True if nothing is wrong.

    Return False, with ``ret`` untouched, if the row-by-row check would report any problem.
    ``index`` is the column of each header (the header row has been checked).
    """
    try:
        records, roles, identity, notes = _clean_return(ret, sheet, index, check=check)
    except _Unclean:
        return False
    ret.records.update(records)
    ret.roles.update(roles)
    ret.identity.update(identity)
    ret.notes.extend(notes)
    return True


def _each(values: Sequence[_K], read: Callable[[_K], _V]) -> list[_V]:
    """``[read(v) for v in values]``, calling ``read`` once per distinct value."""
    seen = {v: read(v) for v in set(values)}
    return [seen[v] for v in values]


def _text(value: str | None) -> str:
    return "" if value is None else value


def _take(grid: _Grid, rows: Sequence[int]) -> _Grid:
    """The grid's columns (below the header) at the given row positions only."""
    return [[column[i] for i in rows] for column in grid]


def _clean_return(
    ret: _Return, sheet: ReturnedSheet, index: Mapping[str, int], *, check: _RowCheck
) -> _Result:
    layout = ret.layout
    grid: _Grid = [column[1:] for column in sheet.columns]  # below the header row
    excel_rows = list(range(2, len(grid[0]) + 2))

    # -- which rows hold a unit; every unit once, none added -----------------------------------
    units_in = grid[0]  # the unit id column is first (the header check saw to that)
    if None in units_in or not all(u.strip() for u in units_in if u is not None):
        kept = [i for i, u in enumerate(units_in) if u is not None and u.strip()]
        for i in set(range(len(units_in))).difference(kept):
            # a row without a unit id is skipped only when it is blank throughout
            if "".join(_text(column[i]) for column in grid).strip():
                raise _Unclean
        grid = _take(grid, kept)
        excel_rows = [excel_rows[i] for i in kept]
    units: list[str] = [u for u in grid[0] if u is not None]
    issued = {str(u["unit_id"]): u for u in layout.units}
    if len(set(units)) != len(units) or set(units) != issued.keys():
        raise _Unclean

    # -- original data unchanged: each row's digest as recorded at issue -----------------------
    canonical_columns = []
    for original in layout.columns:
        values = grid[index[original.header]]
        kind = original.kind
        if kind == "text":  # compared as it is, except line endings (see canonical_value)
            canonical_columns.append(
                [_text(v) if v is None or "\r" not in v else canonical(v, kind) for v in values]
            )
        else:
            canonical_columns.append([canonical(v or None, kind) for v in values])
    digests = ret.digests
    for unit, found in zip(units, row_digests(canonical_columns), strict=True):
        if found != digests[unit]:
            raise _Unclean

    # -- rows not reviewed yet: as pre-filled, and no record -----------------------------------
    statuses = _each(grid[index["Review status"]], lambda v: choice(_text(v)))
    if not {"", *STATUSES}.issuperset(statuses):
        raise _Unclean
    if "" in statuses:
        for k, status in enumerate(statuses):
            # the row check knows what each cell was pre-filled with
            if not status and check.row([_text(c[k]) for c in grid], excel_rows[k], units[k])[1]:
                raise _Unclean
        active = [k for k, status in enumerate(statuses) if status]
        if not active:
            return {}, {}, {}, []
        grid = _take(grid, active)
        excel_rows = [excel_rows[k] for k in active]
        units = [units[k] for k in active]
        statuses = [statuses[k] for k in active]

    # -- the cells every row with a status has checked ---------------------------------------
    def column(header: str) -> list[str | None]:
        return grid[index[header]]

    auditors = _each(column("Auditor"), lambda v: _text(v).strip() or layout.auditor)
    categories = _each(column("Error category"), lambda v: choice(_text(v)))
    responses = _each(column("Coder response"), lambda v: _text(v).strip().lower())
    dates = _each(column("Review date"), lambda v: _review_date(_text(v), check))
    if (
        not all(auditors)
        or not {"", *ERROR_CATEGORIES}.issuperset(categories)
        or not {"", *CODER_RESPONSES}.issuperset(responses)
        or any(not d and s in SCORED for d, s in zip(dates, statuses, strict=True))
    ):
        raise _Unclean

    # -- codes and amounts, of the reviewed rows ---------------------------------------------
    reviewed = [k for k, status in enumerate(statuses) if status == "reviewed"]
    every = len(reviewed) == len(statuses)
    codes: dict[str, list[str]] = {}
    notes: list[tuple[int, int, str]] = []  # (Excel row, code column, note)
    for order, (header, code_kind, name) in enumerate(CODE_CELLS):
        values = column(header) if every else [column(header)[k] for k in reviewed]
        seen = {v: code_cell(_text(v).strip(), code_kind, check.separator) for v in set(values)}
        for result, _ in seen.values():
            if result.problems or (header in SINGLE_CODE and len(result.codes) > 1):
                raise _Unclean
        joined = [seen[v][1] for v in values]
        if every:
            codes[name] = joined
        else:
            codes[name] = [""] * len(statuses)
            for k, text in zip(reviewed, joined, strict=True):
                codes[name][k] = text
        if any(result.notes for result, _ in seen.values()):
            letter = col_letter(index[header])
            for k, v in zip(reviewed, values, strict=True):
                row = excel_rows[k]
                notes.extend(
                    (row, order, f"{SHEET_SAMPLE}!{letter}{row}: {n}") for n in seen[v][0].notes
                )
    principal = codes["audited_principal_dx"]
    if check.basis != "hcc" and any(
        not principal[k] and check.codes(units[k]).dx for k in reviewed
    ):
        raise _Unclean
    values = column("Audited amount") if every else [column("Audited amount")[k] for k in reviewed]
    entered = _amounts(values)
    if check.basis == "entered" and "" in entered:
        for k, amount in zip(reviewed, entered, strict=True):
            if not amount and check.codes(units[k]).examined:
                raise _Unclean
    if every:
        amounts = entered
    else:  # a missing record puts the whole amount at stake
        amounts = ["0.0" if status == "record missing" else "" for status in statuses]
        for k, amount in zip(reviewed, entered, strict=True):
            amounts[k] = amount

    # -- the records, in sheet order --------------------------------------------------------
    workbook_id, sha = layout.workbook_id, ret.sha
    records = {
        unit: {  # the columns of FINDINGS_COLUMNS, in its order
            "unit_id": unit,
            "workbook_id": workbook_id,
            "auditor": auditor,
            "review_status": status,
            "audited_principal_dx": principal_dx,
            "audited_other_dx": other_dx,
            "audited_procedures": procedures,
            "audited_cpt": cpt,
            "audited_drg": drg,
            "audited_amount": amount,
            "error_category": category,
            "rationale": rationale or "",
            "reference": reference or "",
            "review_date": date,
            "coder_response": response,
            "coder_comment": comment or "",
            "source_sha256": sha,
            "collected_at": "",
        }
        for (
            unit,
            auditor,
            status,
            principal_dx,
            other_dx,
            procedures,
            cpt,
            drg,
            amount,
            category,
            rationale,
            reference,
            date,
            response,
            comment,
        ) in zip(
            units,
            auditors,
            statuses,
            *(codes[name] for _, _, name in CODE_CELLS),
            amounts,
            categories,
            column("Rationale"),
            column("Reference"),
            dates,
            responses,
            column("Coder comment"),
            strict=True,
        )
    }
    roles = {unit: str(issued[unit]["role"]) for unit in units}
    identity = (
        dict.fromkeys(units, layout.auditor)
        if layout.auditor
        else dict(zip(units, auditors, strict=True))
    )
    notes.sort(key=lambda note: note[:2])  # into sheet order; stable: a cell's notes keep theirs
    return records, roles, identity, [note for *_, note in notes]


def _review_date(text: str, check: _RowCheck) -> str:
    """A Review date as recorded (ISO), '' for none; a bad or out-of-range date is unclean."""
    text = text.strip()
    if not text:
        return ""
    day, iso = review_day(text)
    if day is None or not OLDEST_DATE <= day <= check.latest:
        raise _Unclean
    return iso


def _amounts(values: Sequence[str | None]) -> list[str]:
    """Each Audited amount as recorded ('' for none); one not a number >= 0 is unclean."""
    out: list[str] = []
    for value in values:
        if value is None:
            out.append("")
            continue
        try:
            # A plain number, as most are: float() takes it as parse_amount would (surrounding
            # white space and all), and refuses what parse_amount would first clean up.
            amount = float(value)
        except ValueError:
            out.append(_amount(value))
            continue
        if not 0 <= amount < math.inf:  # also refuses nan
            raise _Unclean
        out.append(repr(amount))
    return out


def _amount(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    amount = parse_amount(text)
    if amount is None or amount < 0:
        raise _Unclean
    return repr(amount)
