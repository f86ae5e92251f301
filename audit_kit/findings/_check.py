"""Validate the rows of one returned workbook against the audit folder's own record.

Every unit row present once, none added; original data unchanged (the SHA-256 recorded at issue;
the changed cell named, never its content); status, codes, amounts, categories, dates and coder
responses valid. Values are checked once per distinct text (codes, dates, drop-down choices).

The check here goes row by row and cell by cell and words every problem: it is the reference.
A return with nothing wrong (the usual case) is first checked column by column
(:mod:`audit_kit.findings._fast`); only if that finds anything does this check run, so every
problem found, its wording and its order come from this one piece of code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from audit_kit.errors import Problem
from audit_kit.findings._fast import _validate_clean
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
from audit_kit.values.codes import split_codes
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
    row_digest,
)

_MAX_SHOWN = 60


# -- validating one return ---------------------------------------------------------------------


def _shown(text: str) -> str:
    text = text.replace("\n", " ").replace("\r", " ")
    return repr(text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "...")


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
    check = _RowCheck(ret, index, plan=plan, sample_rows=sample_rows, read_codes=read_codes)
    if _validate_clean(ret, sheet, index, check=check):
        return []
    return _validate_rows(ret, sheet, index, check=check)


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


def _validate_rows(
    ret: _Return, sheet: ReturnedSheet, index: Mapping[str, int], *, check: _RowCheck
) -> list[Problem]:
    """Check a return row by row and cell by cell (the reference check; see the docstring)."""
    layout = ret.layout
    name = ret.name
    problems: list[Problem] = []
    rows = sheet.rows
    originals = [c.header for c in layout.columns]

    def ref(header_name: str, row: int) -> str:
        return f"{name}, {SHEET_SAMPLE}!{col_letter(index[header_name])}{row}"

    units = {u["unit_id"]: u for u in layout.units}
    seen_at: dict[str, int] = {}
    width = len(rows[0])
    unit_at = index[originals[0]]
    originals_at = [(index[c.header], c.kind, c.kind == "text") for c in layout.columns]
    for i in range(1, len(rows)):
        row = rows[i]
        excel_row = i + 1
        cells = ["" if v is None else v for v in row]
        if len(cells) < width:
            cells.extend([""] * (width - len(cells)))
        if not "".join(cells).strip():
            continue
        unit = cells[unit_at]
        if unit not in units:
            problems.append(
                Problem(
                    where=ref(originals[0], excel_row),
                    expected="a unit id of this workbook",
                    found=f"unit {_shown(unit)}" if unit.strip() else "a row without a unit id",
                    fix="delete the added row (or undo the change to the unit id).",
                )
            )
            continue
        if unit in seen_at:
            problems.append(
                Problem(
                    where=ref(originals[0], excel_row),
                    expected="each unit once",
                    found=f"unit {unit} again (first in row {seen_at[unit]})",
                    fix="delete the duplicated row, keeping the one with your findings.",
                )
            )
            continue
        seen_at[unit] = excel_row
        found = [
            cells[at] if text and "\r" not in cells[at] else canonical(cells[at] or None, kind)
            for at, kind, text in originals_at
        ]
        if row_digest(found) != ret.digests[unit]:
            problems.extend(_changed_originals(ret, found, index, excel_row, unit, check.sample))
        record, row_problems = check.row(cells, excel_row, unit)
        problems.extend(row_problems)
        if record is not None:
            ret.records[unit] = record
            ret.roles[unit] = str(units[unit]["role"])
    for unit in units:
        if unit not in seen_at:
            problems.append(
                Problem(
                    where=f"{name}, {SHEET_SAMPLE}, unit {unit}",
                    expected="a row for every unit of the workbook",
                    found="no row (deleted)",
                    fix="restore the row from the workbook you were given "
                    f"(workbook {layout.workbook_id}).",
                )
            )
    return problems


def _changed_originals(
    ret: _Return,
    found: Sequence[str],
    index: Mapping[str, int],
    excel_row: int,
    unit: str,
    sample_rows: Mapping[str, Mapping[str, str | None]],
) -> list[Problem]:
    """Name the original cells of a row whose digest does not match the one recorded at issue."""
    layout = ret.layout
    source = sample_rows.get(unit, {})
    problems = []
    for col, value in zip(layout.columns, found, strict=True):
        if canonical_value(source.get(col.header), col.kind) != value:
            problems.append(
                Problem(
                    where=f"{ret.name}, {SHEET_SAMPLE}!{col_letter(index[col.header])}{excel_row}",
                    expected=f"the original {col.header} of unit {unit}, unchanged",
                    found="changed",
                    fix="undo the change: original columns are locked and must not be edited.",
                )
            )
    if not problems:
        problems.append(
            Problem(
                where=f"{ret.name}, {SHEET_SAMPLE} row {excel_row}",
                expected=f"the original data of unit {unit} (SHA-256 recorded at issue)",
                found="changed",
                fix="return the workbook audit-kit wrote, with only the finding columns filled.",
            )
        )
    return problems


class _RowCheck:
    """Validate the finding cells of one return's rows; values are checked once per distinct text.

    Built once per returned file: the column positions, the plan's separator and basis, and the
    day the check runs are looked up once, not per row.
    """

    __slots__ = (
        "_at",
        "_code_cells",
        "_read_codes",
        "_record",
        "_ret",
        "_where",
        "basis",
        "latest",
        "sample",
        "separator",
    )

    def __init__(
        self,
        ret: _Return,
        index: Mapping[str, int],
        *,
        plan: SamplingPlan,
        sample_rows: Mapping[str, Mapping[str, str | None]],
        read_codes: Callable[[Mapping[str, str | None]], UnitCodes],
    ) -> None:
        self._ret = ret
        self._at = {h: index[h] for h in FINDING_HEADERS}
        sheet = f"{ret.name}, {SHEET_SAMPLE}!"
        self._where = {h: f"{sheet}{col_letter(i)}" for h, i in self._at.items()}
        self.sample = sample_rows
        self.basis = plan.financial.basis
        self.separator = plan.columns.code_separator
        self._read_codes = read_codes
        self.latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
        self._code_cells = [
            (header, kind, column, self._at[header]) for header, kind, column in CODE_CELLS
        ]
        self._record = dict.fromkeys(FINDINGS_COLUMNS, "")
        self._record["workbook_id"] = ret.layout.workbook_id
        self._record["source_sha256"] = ret.sha

    def codes(self, unit: str) -> UnitCodes:
        """The unit's original codes (only some rows need them: read on demand)."""
        return self._read_codes(self.sample.get(unit, {}))

    def row(
        self, cells: Sequence[str], excel_row: int, unit: str
    ) -> tuple[dict[str, str] | None, list[Problem]]:
        """Return the findings record of one row (None if it has no status) and its problems."""
        ret = self._ret
        layout = ret.layout
        at = self._at
        problems: list[Problem] = []

        def cell(header: str) -> str:
            return cells[at[header]].strip()

        def where(header: str) -> str:
            return f"{self._where[header]}{excel_row}"

        status = choice(cells[at["Review status"]])
        if not status:
            prefill = prefilled(self.codes(unit), self.basis)
            touched = [
                h
                for h in FINDING_HEADERS[1:]
                if not _same_as_prefill(h, cell(h), prefill.get(h, ""))
            ]
            if touched:
                problems.append(
                    Problem(
                        where=where("Review status"),
                        expected=f"a Review status ({', '.join(STATUSES)}) for a row with findings",
                        found=f"an empty status, with {touched[0]} filled in",
                        fix="choose the status from the drop-down.",
                    )
                )
            return None, problems
        if status not in STATUSES:
            problems.append(
                Problem(
                    where=where("Review status"),
                    expected=f"one of {', '.join(STATUSES)}",
                    found=_shown(cell("Review status")),
                    fix="choose the status from the drop-down (pasted values are not checked by "
                    "Excel).",
                )
            )
            return None, problems

        record = self._record.copy()
        record["unit_id"] = unit
        record["review_status"] = status
        record["rationale"] = cells[at["Rationale"]]
        record["reference"] = cells[at["Reference"]]
        record["coder_comment"] = cells[at["Coder comment"]]

        auditor = cell("Auditor") or layout.auditor
        if not auditor:
            problems.append(
                Problem(
                    where=where("Auditor"),
                    expected="the name of the auditor who reviewed the unit",
                    found="nothing",
                    fix="fill in your name.",
                )
            )
        record["auditor"] = auditor
        # Identity for conflicts: the assigned auditor, or for a one-for-all workbook the
        # Auditor cell.
        ret.identity[unit] = layout.auditor or auditor

        category = choice(cells[at["Error category"]])
        if category and category not in ERROR_CATEGORIES:
            problems.append(
                Problem(
                    where=where("Error category"),
                    expected=f"empty or one of {', '.join(ERROR_CATEGORIES)}",
                    found=_shown(cell("Error category")),
                    fix="choose the category from the drop-down.",
                )
            )
        record["error_category"] = category
        response = cell("Coder response").lower()
        if response and response not in CODER_RESPONSES:
            problems.append(
                Problem(
                    where=where("Coder response"),
                    expected=f"empty or one of {', '.join(CODER_RESPONSES)}",
                    found=_shown(cell("Coder response")),
                    fix="choose agree or disagree from the drop-down.",
                )
            )
        record["coder_response"] = response

        date_text = cell("Review date")
        if date_text:
            day, iso = review_day(date_text)
            if day is None:
                problems.append(
                    Problem(
                        where=where("Review date"),
                        expected="a date (yyyy-mm-dd)",
                        found=_shown(date_text),
                        fix="enter the review date as yyyy-mm-dd.",
                    )
                )
            elif not OLDEST_DATE <= day <= self.latest:
                problems.append(
                    Problem(
                        where=where("Review date"),
                        expected=f"a date between {OLDEST_DATE} and today",
                        found=day.isoformat(),
                        fix="enter the day you reviewed the unit.",
                    )
                )
            else:
                record["review_date"] = iso
        elif status in SCORED:
            problems.append(
                Problem(
                    where=where("Review date"),
                    expected="the date the unit was reviewed",
                    found="nothing",
                    fix="enter the review date as yyyy-mm-dd.",
                )
            )

        if status == "record missing":
            record["audited_amount"] = "0.0"  # the full examined amount is at stake
            return record, problems
        if status == "not reviewed":
            return record, problems

        for header, kind, column, i in self._code_cells:
            result, joined = code_cell(cells[i].strip(), kind, self.separator)
            for issue in result.problems:
                problems.append(
                    Problem(
                        where=where(header),
                        expected=issue.expected,
                        found=_shown(issue.code),
                        fix=issue.fix,
                    )
                )
            if result.notes:
                ref = where(header).rsplit("!", 1)[1]
                ret.notes.extend(f"{SHEET_SAMPLE}!{ref}: {n}" for n in result.notes)
            if header in SINGLE_CODE and len(result.codes) > 1:
                problems.append(
                    Problem(
                        where=where(header),
                        expected="one code",
                        found=f"{len(result.codes)} codes",
                        fix="keep one code here"
                        + (" and move the others to Audited other dx." if "dx" in header else "."),
                    )
                )
            record[column] = joined
        # hcc audits list the supported diagnoses, none of them principal: all may be unsupported.
        if self.basis != "hcc" and not record["audited_principal_dx"] and self.codes(unit).dx:
            problems.append(
                Problem(
                    where=where("Audited principal dx"),
                    expected="the correct principal diagnosis",
                    found="nothing (the pre-filled code was deleted)",
                    fix="enter the principal diagnosis code.",
                )
            )
        amount_text = cell("Audited amount")
        if amount_text:
            amount = parse_amount(amount_text)
            if amount is None or amount < 0:
                problems.append(
                    Problem(
                        where=where("Audited amount"),
                        expected="a number of 0 or more",
                        found=_shown(amount_text),
                        fix="enter the correct amount as a number (no text).",
                    )
                )
            else:
                record["audited_amount"] = repr(amount)
        elif self.basis == "entered" and self.codes(unit).examined:
            problems.append(
                Problem(
                    where=where("Audited amount"),
                    expected="the correct amount (the financial basis is 'entered')",
                    found="nothing",
                    fix="enter the correct payment (the amount paid if the coding does not "
                    "change it).",
                )
            )
        return record, problems


def _same_as_prefill(header: str, value: str, prefill: str) -> bool:
    if header == "Audited amount":
        a, b = parse_amount(value), parse_amount(prefill)
        return value == prefill or (a is not None and a == b)
    if header.startswith("Audited "):
        return [c.upper() for c in split_codes(value)] == [c.upper() for c in split_codes(prefill)]
    return value == prefill
