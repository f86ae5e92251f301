"""Validate the rows of one returned workbook against the audit folder's own record.

Every unit row present once, none added; original data unchanged (the SHA-256 recorded at issue;
the changed cell named, never its content); status, codes, amounts, categories, dates and coder
responses valid.

There is one rule per finding column (:class:`_Rules`): it reads one cell's text and says what
is recorded and what is wrong with it, in the one wording of that problem. A return is checked
column by column: each rule runs once per distinct text of its column (codes, dates and drop-down
choices repeat across a return), and a location (file, sheet, cell, unit) is attached only to the
cells whose text has a problem. Problems are then put in sheet order (by row, then by column),
so a file's problems read from top to bottom.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from audit_kit.errors import Problem
from audit_kit.findings._records import FINDINGS_COLUMNS, _Return
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
from audit_kit.plan import SamplingPlan
from audit_kit.values.codes import CodeKind, split_codes
from audit_kit.workbook import (
    CODER_RESPONSES,
    ERROR_CATEGORIES,
    FINDING_HEADERS,
    SHEET_SAMPLE,
    STATUSES,
    ReturnedSheet,
    UnitCodes,
    canonical_value,
    prefilled,
    row_digests,
)

_MAX_SHOWN = 60
_Grid = list[list[str | None]]


def _shown(text: str) -> str:
    text = text.replace("\n", " ").replace("\r", " ")
    return repr(text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "...")


def _text(value: str | None) -> str:
    return "" if value is None else value


@dataclass(frozen=True, slots=True)
class _Issue:
    """What is wrong with one cell's text (the location is added where it is found)."""

    expected: str
    found: str
    fix: str


# The order of a row's problems, as a reader goes along the row.
_AT_UNIT, _AT_ORIGINALS, _AT_STATUS, _AT_AUDITOR, _AT_CATEGORY, _AT_RESPONSE, _AT_DATE = range(7)
_AT_CODES = 10  # then two slots per code column: its codes, then "one code"
_AT_PRINCIPAL, _AT_AMOUNT = 30, 31
_AT_END = math.inf  # units whose row is missing come after every row


# -- the rules: one per finding column ---------------------------------------------------------


class _Rules:
    """The rule of each finding column for one return: a cell's text -> (recorded, issues).

    Built once per returned file: the plan's separator and basis, the workbook's auditor and the
    day the check runs are looked up once. Every rule depends on the text alone, so a column is
    read once per distinct text.
    """

    def __init__(self, ret: _Return, plan: SamplingPlan) -> None:
        self.auditor_default = ret.layout.auditor
        self.basis = plan.financial.basis
        self.separator = plan.columns.code_separator
        self.latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)

    # -- review status (first: it decides which other cells count) -----------------------------

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def status(text: str) -> tuple[str, tuple[_Issue, ...]]:
        status = choice(text)
        if not status or status in STATUSES:
            return status, ()
        return status, (
            _Issue(
                expected=f"one of {', '.join(STATUSES)}",
                found=_shown(text.strip()),
                fix="choose the status from the drop-down (pasted values are not checked by "
                "Excel).",
            ),
        )

    @staticmethod
    def status_missing(touched: str) -> _Issue:
        return _Issue(
            expected=f"a Review status ({', '.join(STATUSES)}) for a row with findings",
            found=f"an empty status, with {touched} filled in",
            fix="choose the status from the drop-down.",
        )

    # -- the cells of every row with a status ---------------------------------------------------

    def auditor(self, text: str) -> tuple[str, tuple[_Issue, ...]]:
        auditor = text.strip() or self.auditor_default
        if auditor:
            return auditor, ()
        return "", (
            _Issue(
                expected="the name of the auditor who reviewed the unit",
                found="nothing",
                fix="fill in your name.",
            ),
        )

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def category(text: str) -> tuple[str, tuple[_Issue, ...]]:
        category = choice(text)
        if not category or category in ERROR_CATEGORIES:
            return category, ()
        return category, (
            _Issue(
                expected=f"empty or one of {', '.join(ERROR_CATEGORIES)}",
                found=_shown(text.strip()),
                fix="choose the category from the drop-down.",
            ),
        )

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def response(text: str) -> tuple[str, tuple[_Issue, ...]]:
        response = text.strip().lower()
        if not response or response in CODER_RESPONSES:
            return response, ()
        return response, (
            _Issue(
                expected=f"empty or one of {', '.join(CODER_RESPONSES)}",
                found=_shown(text.strip()),
                fix="choose agree or disagree from the drop-down.",
            ),
        )

    def review_date(self, text: str) -> tuple[str, tuple[_Issue, ...]]:
        return _date_rule(text, self.latest)

    @staticmethod
    def review_date_missing() -> _Issue:
        return _Issue(
            expected="the date the unit was reviewed",
            found="nothing",
            fix="enter the review date as yyyy-mm-dd.",
        )

    # -- the cells of a reviewed row -------------------------------------------------------------

    def codes(
        self, header: str, kind: CodeKind, text: str
    ) -> tuple[str, tuple[_Issue, ...], tuple[_Issue, ...], tuple[str, ...]]:
        """A code cell: (joined codes, code issues, the "one code" issue, notes)."""
        return _code_rule(header, kind, self.separator, text)

    @staticmethod
    def principal_missing() -> _Issue:
        return _Issue(
            expected="the correct principal diagnosis",
            found="nothing (the pre-filled code was deleted)",
            fix="enter the principal diagnosis code.",
        )

    @staticmethod
    def amount(text: str) -> tuple[str, tuple[_Issue, ...]]:
        text = text.strip()
        if not text:
            return "", ()
        amount = parse_amount(text)
        if amount is None or amount < 0:
            return "", (
                _Issue(
                    expected="a number of 0 or more",
                    found=_shown(text),
                    fix="enter the correct amount as a number (no text).",
                ),
            )
        return repr(amount), ()

    @staticmethod
    def amount_missing() -> _Issue:
        return _Issue(
            expected="the correct amount (the financial basis is 'entered')",
            found="nothing",
            fix="enter the correct payment (the amount paid if the coding does not change it).",
        )


@functools.lru_cache(maxsize=4096)
def _date_rule(text: str, latest: dt.date) -> tuple[str, tuple[_Issue, ...]]:
    """The rule of a Review date cell (cached per distinct text and day of the check)."""
    text = text.strip()
    if not text:
        return "", ()
    day, iso = review_day(text)
    if day is None:
        return "", (
            _Issue(
                expected="a date (yyyy-mm-dd)",
                found=_shown(text),
                fix="enter the review date as yyyy-mm-dd.",
            ),
        )
    if not OLDEST_DATE <= day <= latest:
        return "", (
            _Issue(
                expected=f"a date between {OLDEST_DATE} and today",
                found=day.isoformat(),
                fix="enter the day you reviewed the unit.",
            ),
        )
    return iso, ()


@functools.lru_cache(maxsize=65536)
def _code_rule(
    header: str, kind: CodeKind, separator: str, text: str
) -> tuple[str, tuple[_Issue, ...], tuple[_Issue, ...], tuple[str, ...]]:
    """The rule of a code cell (cached per distinct text: codes repeat across returns)."""
    text = text.strip()
    result, joined = code_cell(text, kind, separator)
    issues = tuple(
        _Issue(expected=i.expected, found=_shown(i.code), fix=i.fix) for i in result.problems
    )
    meant = _did_you_mean(text, kind, separator) if issues else ""
    if meant:
        # One problem for the cell, not one per piece a space cut the code into.
        fix = f"did you mean {meant}? A space splits a code in two: " + (
            "write the modifier after a hyphen." if kind == "cpt" else "remove the space."
        )
        return (
            joined,
            (_Issue(expected=issues[0].expected, found=_shown(text), fix=fix),),
            (),
            (),
        )
    single: tuple[_Issue, ...] = ()
    if header in SINGLE_CODE and len(result.codes) > 1:
        single = (
            _Issue(
                expected="one code",
                found=f"{len(result.codes)} codes",
                fix="keep one code here"
                + (" and move the others to Audited other dx." if "dx" in header else "."),
            ),
        )
    return joined, issues, single, result.notes


_SPACED = re.compile(r"\s+")


def _did_you_mean(text: str, kind: CodeKind, separator: str) -> str:
    """A valid reading of a code cell typed with spaces inside codes (``E 11.9``, ``99214 25``).

    Spaces split codes, so ``E 11.9`` reads as the codes ``E`` and ``11.9``. Each part between
    separators is tried with its spaces removed (a diagnosis or procedure) or made modifier
    dashes (CPT/HCPCS); the reading is offered only if every code of it is valid.
    """
    parts = [p.strip() for p in re.split(f"[{re.escape(separator)},]", text) if p.strip()]
    if not any(_SPACED.search(p) for p in parts):
        return ""
    joiner = "-" if kind == "cpt" else ""
    guess = "; ".join(_SPACED.sub(joiner, p) for p in parts)
    result, joined = code_cell(guess, kind, separator)
    if result.problems or not result.codes:
        return ""
    return joined.replace(";", "; ") if separator == ";" else joined


# -- validating one return ---------------------------------------------------------------------


def _validate(
    ret: _Return,
    sheet: ReturnedSheet,
    *,
    plan: SamplingPlan,
    sample_rows: Mapping[str, Mapping[str, str | None]],
    read_codes: Callable[[Mapping[str, str | None]], UnitCodes],
) -> list[Problem]:
    """Validate one return; fill its records (and notes) and return its problems."""
    index, problems = _header_index(ret, sheet)
    if problems:
        return problems
    ret.digests = {str(u["unit_id"]): str(u["row_sha256"]) for u in ret.layout.units}
    return _Check(ret, sheet, index, plan=plan, sample_rows=sample_rows, read_codes=read_codes)()


def _header_index(ret: _Return, sheet: ReturnedSheet) -> tuple[dict[str, int], list[Problem]]:
    """Return the column of each header, or the problems of the header row."""
    layout = ret.layout
    name = ret.name
    problems: list[Problem] = []
    header = [("" if h is None else str(h)).strip() for h in sheet.header]
    originals = [c.header for c in layout.columns]
    required = [*originals, *FINDING_HEADERS]
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        if h in index and h in required:
            problems.append(
                Problem(
                    where=f"{name}, {SHEET_SAMPLE}!{col_letter(i)}1",
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
                    where=f"{name}, {SHEET_SAMPLE}!1:1",
                    expected=f"a column headed {h!r}",
                    found="no such column (renamed or deleted)",
                    fix="restore the header exactly as written; macros and collection rely on it.",
                )
            )
    if not problems and index[originals[0]] != 0:
        problems.append(
            Problem(
                where=f"{name}, {SHEET_SAMPLE}!A1",
                expected=f"the unit id column {originals[0]!r} first",
                found=f"{_shown(header[0]) if header else 'nothing'}",
                fix="move the columns back to where they were.",
            )
        )
    return index, problems


class _Check:
    """One return checked column by column; problems gathered with their place in the sheet."""

    def __init__(
        self,
        ret: _Return,
        sheet: ReturnedSheet,
        index: Mapping[str, int],
        *,
        plan: SamplingPlan,
        sample_rows: Mapping[str, Mapping[str, str | None]],
        read_codes: Callable[[Mapping[str, str | None]], UnitCodes],
    ) -> None:
        self.ret = ret
        self.index = index
        self.grid: _Grid = [column[1:] for column in sheet.columns]  # below the header row
        self.rules = _Rules(ret, plan)
        self.sample = sample_rows
        self.read_codes = read_codes
        self._codes: dict[str, UnitCodes] = {}
        self.found: list[tuple[float, int, Problem, str]] = []  # (Excel row, slot, problem, kind)

    # -- helpers ---------------------------------------------------------------------------------

    def where(self, header: str, excel_row: int, unit: str) -> str:
        letter = col_letter(self.index[header])
        return f"{self.ret.name}, {SHEET_SAMPLE}!{letter}{excel_row} (unit {unit})"

    def add(self, excel_row: float, slot: int, where: str, issue: _Issue, kind: str) -> None:
        """Record a problem at its place in the sheet; ``kind`` is what the summary counts.

        A finding cell's problem sorts by its column (sheet order); ``slot`` orders the row's
        own problems (unit id, originals) before them and a cell's problems among themselves.
        """
        if kind in self.index and kind in FINDING_HEADERS:
            slot += 100 * (1 + self.index[kind])
        problem = Problem(where=where, expected=issue.expected, found=issue.found, fix=issue.fix)
        self.found.append((excel_row, slot, problem, kind))

    def unit_codes(self, unit: str) -> UnitCodes:
        """A unit's original codes (only some rows need them: read on demand)."""
        codes = self._codes.get(unit)
        if codes is None:
            codes = self._codes[unit] = self.read_codes(self.sample.get(unit, {}))
        return codes

    def raw(self, header: str, rows: Sequence[int]) -> Sequence[str | None]:
        """A column's cells at the given grid rows, as read (None for an empty cell)."""
        values = self.grid[self.index[header]]
        if len(rows) == len(values):  # every row (rows are distinct and in order)
            return values
        return [values[k] for k in rows]

    def column(self, header: str, rows: Sequence[int]) -> list[str]:
        """A column's texts at the given grid rows (None read as '')."""
        values = self.grid[self.index[header]]
        if len(rows) == len(values):  # every row (rows are distinct and in order)
            return ["" if v is None else v for v in values]
        return ["" if (v := values[k]) is None else v for k in rows]

    def apply(
        self,
        header: str,
        rule: Callable[[str], tuple[str, tuple[_Issue, ...]]],
        rows: Sequence[int],
        slot: int,
    ) -> list[str]:
        """Run a column's rule once per distinct text of ``rows``; locate only the failures."""
        values = self.raw(header, rows)
        seen = {v: rule("" if v is None else v) for v in set(values)}
        if any(issues for _, issues in seen.values()):
            for k, v in zip(rows, values, strict=True):
                for issue in seen[v][1]:
                    where = self.where(header, self.rows[k], self.units[k])
                    self.add(self.rows[k], slot, where, issue, header)
        return [seen[v][0] for v in values]

    # -- the check ---------------------------------------------------------------------------------

    def __call__(self) -> list[Problem]:
        rows = self._unit_rows()
        self._originals(rows)
        self._findings(rows)
        self.found.sort(key=lambda f: f[:2])  # stable: a cell's problems keep their order
        self.ret.kinds = [kind for *_, kind in self.found]
        return [problem for _, _, problem, _ in self.found]

    def _unit_rows(self) -> list[int]:
        """Which grid rows hold a unit: each issued unit once, none added, blank rows skipped."""
        ret = self.ret
        layout = ret.layout
        header = layout.columns[0].header
        self.issued = issued = {str(u["unit_id"]): u for u in layout.units}
        self.units = units = ["" if u is None else u for u in self.grid[0]]
        self.rows = list(range(2, len(units) + 2))  # the Excel row of each grid row
        if len(units) == len(issued) and issued.keys() == set(units):
            return list(range(len(units)))  # the usual case: every unit once, nothing else
        seen_at: dict[str, int] = {}
        kept: list[int] = []
        for k, unit in enumerate(units):
            excel_row = k + 2
            if unit not in issued:
                if not unit.strip() and not "".join(_text(c[k]) for c in self.grid).strip():
                    continue  # a blank row
                self.add(
                    excel_row,
                    _AT_UNIT,
                    f"{ret.name}, {SHEET_SAMPLE}!{col_letter(self.index[header])}{excel_row}",
                    _Issue(
                        expected="a unit id of this workbook",
                        found=f"unit {_shown(unit)}" if unit.strip() else "a row without a unit id",
                        fix="delete the added row (or undo the change to the unit id).",
                    ),
                    "rows added",
                )
            elif unit in seen_at:
                self.add(
                    excel_row,
                    _AT_UNIT,
                    f"{ret.name}, {SHEET_SAMPLE}!{col_letter(self.index[header])}{excel_row}",
                    _Issue(
                        expected="each unit once",
                        found=f"unit {unit} again (first in row {seen_at[unit]})",
                        fix="delete the duplicated row, keeping the one with your findings.",
                    ),
                    "rows duplicated",
                )
            else:
                seen_at[unit] = excel_row
                kept.append(k)
        for order, unit in enumerate(issued):
            if unit not in seen_at:
                self.add(
                    _AT_END,
                    order,
                    f"{ret.name}, {SHEET_SAMPLE}, unit {unit}",
                    _Issue(
                        expected="a row for every unit of the workbook",
                        found="no row (deleted)",
                        fix="restore the row from the workbook you were given "
                        f"(workbook {layout.workbook_id}).",
                    ),
                    "rows deleted",
                )
        return kept

    def _originals(self, rows: Sequence[int]) -> None:
        """Original data unchanged: each row's digest as recorded at issue."""
        ret = self.ret
        columns = []
        for original in ret.layout.columns:
            values = self.raw(original.header, rows)
            kind = original.kind
            if kind == "text":  # compared as it is, except line endings (see canonical_value)
                columns.append(
                    [
                        "" if v is None else v if "\r" not in v else canonical(v, kind)
                        for v in values
                    ]
                )
            else:
                columns.append([canonical(v or None, kind) for v in values])
        found = row_digests(columns)
        digests = ret.digests
        if found == [digests[self.units[k]] for k in rows]:
            return  # the usual case: no original changed
        for j, (k, digest) in enumerate(zip(rows, found, strict=True)):
            unit = self.units[k]
            if digest == digests[unit]:
                continue
            source = self.sample.get(unit, {})
            changed = False
            for original, found in zip(ret.layout.columns, columns, strict=True):
                if canonical_value(source.get(original.header), original.kind) != found[j]:
                    changed = True
                    self.add(
                        self.rows[k],
                        _AT_ORIGINALS,
                        f"{ret.name}, {SHEET_SAMPLE}!{col_letter(self.index[original.header])}"
                        f"{self.rows[k]} (unit {unit})",
                        _Issue(
                            expected=f"the original {original.header} of unit {unit}, unchanged",
                            found="changed",
                            fix="undo the change: original columns are locked and must not be "
                            "edited.",
                        ),
                        "original data changed",
                    )
            if not changed:
                self.add(
                    self.rows[k],
                    _AT_ORIGINALS,
                    f"{ret.name}, {SHEET_SAMPLE} row {self.rows[k]} (unit {unit})",
                    _Issue(
                        expected=f"the original data of unit {unit} (SHA-256 recorded at issue)",
                        found="changed",
                        fix="return the workbook audit-kit wrote, with only the finding columns "
                        "filled.",
                    ),
                    "original data changed",
                )

    def _findings(self, rows: Sequence[int]) -> None:
        ret = self.ret
        rules = self.rules
        statuses = self.apply("Review status", rules.status, rows, _AT_STATUS)
        if set(statuses).issubset(STATUSES):  # the usual case: every row has a valid status
            active = list(rows)
        else:
            self._untouched([k for k, s in zip(rows, statuses, strict=True) if not s])
            active = [k for k, s in zip(rows, statuses, strict=True) if s in STATUSES]
            if not active:
                return
            status_of = dict(zip(rows, statuses, strict=True))
            statuses = [status_of[k] for k in active]
        units = [self.units[k] for k in active]

        auditors = self.apply("Auditor", rules.auditor, active, _AT_AUDITOR)
        categories = self.apply("Error category", rules.category, active, _AT_CATEGORY)
        responses = self.apply("Coder response", rules.response, active, _AT_RESPONSE)
        dates = self.apply("Review date", rules.review_date, active, _AT_DATE)
        date_texts = self.column("Review date", active) if "" in dates else ()
        for k, unit, status, text in zip(active, units, statuses, date_texts, strict=False):
            if status in SCORED and not text.strip():
                self.add(
                    self.rows[k], _AT_DATE, self.where("Review date", self.rows[k], unit),
                    rules.review_date_missing(), "Review date",
                )  # fmt: skip

        reviewed = [k for k, s in zip(active, statuses, strict=True) if s == "reviewed"]
        every = len(reviewed) == len(active)
        at = {k: j for j, k in enumerate(active)}
        codes: dict[str, list[str]] = {}  # findings column -> joined codes of each active row
        notes: list[tuple[int, int, str]] = []  # (Excel row, code column, note)
        for order, (header, kind, name) in enumerate(CODE_CELLS):
            values = self.raw(header, reviewed)
            seen = {v: rules.codes(header, kind, "" if v is None else v) for v in set(values)}
            joined = [seen[v][0] for v in values]
            if every:
                codes[name] = joined
            else:  # rows not reviewed have no codes
                codes[name] = [""] * len(active)
                for k, text in zip(reviewed, joined, strict=True):
                    codes[name][at[k]] = text
            if not any(r[1] or r[2] or r[3] for r in seen.values()):
                continue  # the usual case: every distinct text is a valid, plain code list
            letter = col_letter(self.index[header])
            for k, v in zip(reviewed, values, strict=True):
                _, issues, single, cell_notes = seen[v]
                if issues or single:
                    where = self.where(header, self.rows[k], self.units[k])
                    for issue in issues:
                        self.add(self.rows[k], _AT_CODES + 2 * order, where, issue, header)
                    for issue in single:
                        self.add(self.rows[k], _AT_CODES + 2 * order + 1, where, issue, header)
                # Notes only about what the auditor changed: a code the tool pre-filled (as the
                # billing system wrote it) is not the auditor's to be told about.
                if cell_notes and not self._as_prefilled(header, v or "", self.units[k]):
                    ref = f"{SHEET_SAMPLE}!{letter}{self.rows[k]}"
                    notes.extend((self.rows[k], order, f"{ref}: {n}") for n in cell_notes)
        principal = codes["audited_principal_dx"]
        # hcc audits list the supported diagnoses, none of them principal: all may be unsupported.
        for k in reviewed if "" in principal and rules.basis != "hcc" else ():
            if not principal[at[k]] and self.unit_codes(self.units[k]).dx:
                self.add(
                    self.rows[k], _AT_PRINCIPAL,
                    self.where("Audited principal dx", self.rows[k], self.units[k]),
                    rules.principal_missing(), "Audited principal dx",
                )  # fmt: skip
        entered = dict(
            zip(
                reviewed,
                self.apply("Audited amount", rules.amount, reviewed, _AT_AMOUNT),
                strict=True,
            )
        )
        if rules.basis == "entered" and "" in entered.values():
            for k in reviewed:
                if (
                    not entered[k]
                    and not self.column("Audited amount", [k])[0].strip()
                    and self.unit_codes(self.units[k]).examined
                ):
                    self.add(
                            self.rows[k], _AT_AMOUNT,
                            self.where("Audited amount", self.rows[k], self.units[k]),
                            rules.amount_missing(), "Audited amount",
                        )  # fmt: skip

        # -- the records, in sheet order ---------------------------------------------------------
        layout = ret.layout
        issued = self.issued
        workbook_id, sha = layout.workbook_id, ret.sha
        code_columns = [codes[n] for _, _, n in CODE_CELLS]
        # a missing record puts the whole amount at stake
        amounts = (
            list(entered.values())
            if every
            else [
                "0.0" if status == "record missing" else entered.get(k, "")
                for k, status in zip(active, statuses, strict=True)
            ]
        )
        for row in zip(
            units,
            auditors,
            statuses,
            *code_columns,
            amounts,
            categories,
            self.column("Rationale", active),
            self.column("Reference", active),
            dates,
            responses,
            self.column("Coder comment", active),
            strict=True,
        ):
            unit, auditor = row[0], row[1]
            # the columns of FINDINGS_COLUMNS, in its order
            ret.records[unit] = dict(
                zip(FINDINGS_COLUMNS, (row[0], workbook_id, *row[1:], sha, ""), strict=True)
            )
            ret.roles[unit] = str(issued[unit]["role"])
            # Identity for conflicts: the assigned auditor, or for a one-for-all workbook the
            # Auditor cell.
            ret.identity[unit] = layout.auditor or auditor
        notes.sort(key=lambda note: note[:2])  # sheet order; stable: a cell's notes keep theirs
        ret.notes.extend(note for *_, note in notes)

    def _untouched(self, rows: Sequence[int]) -> None:
        """Rows without a status must be as pre-filled: findings need a status."""
        for k in rows:
            unit = self.units[k]
            prefill = prefilled(self.unit_codes(unit), self.rules.basis)
            for header in FINDING_HEADERS[1:]:
                value = _text(self.grid[self.index[header]][k]).strip()
                if not _same_as_prefill(header, value, prefill.get(header, "")):
                    self.add(
                        self.rows[k], _AT_STATUS,
                        self.where("Review status", self.rows[k], unit),
                        self.rules.status_missing(header), "Review status",
                    )  # fmt: skip
                    break

    def _as_prefilled(self, header: str, value: str, unit: str) -> bool:
        prefill = prefilled(self.unit_codes(unit), self.rules.basis)
        return _same_as_prefill(header, value.strip(), prefill.get(header, ""))


def _same_as_prefill(header: str, value: str, prefill: str) -> bool:
    if header == "Audited amount":
        a, b = parse_amount(value), parse_amount(prefill)
        return value == prefill or (a is not None and a == b)
    if header.startswith("Audited "):
        return [c.upper() for c in split_codes(value)] == [c.upper() for c in split_codes(prefill)]
    return value == prefill
