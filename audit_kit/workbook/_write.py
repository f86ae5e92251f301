"""Render auditor workbooks with openpyxl and record them in the audit folder.

Every text value is written as a string cell with Excel's quote prefix, so ``=cmd|...``, ``+1``,
``-2``, ``@x``, a leading tab or CR arrive in Excel as the same text and never as a formula.
Characters XML 1.0 cannot carry are written with Excel's ``_xHHHH_`` escapes, and CR as ``&#13;``,
so every string round-trips exactly.
"""

from __future__ import annotations

import io
import math
import secrets
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from audit_kit._version import __version__
from audit_kit.errors import AuditError, Problem
from audit_kit.folder.manifest import AuditFolder, now_iso
from audit_kit.folder.workbook_record import (
    WORKBOOK_FORMAT,
    OriginalColumn,
    WorkbookLayout,
)
from audit_kit.plan import SamplingPlan
from audit_kit.workbook._assign import (
    assign_units,
    original_columns,
    pick_double_review,
    slug,
    truthy,
)
from audit_kit.workbook._layout import (
    CODER_RESPONSES,
    ERROR_CATEGORIES,
    FINDING_HEADERS,
    SHEET_AUDIT,
    SHEET_INSTRUCTIONS,
    SHEET_LISTS,
    SHEET_SAMPLE,
    SPARE_HEADER,
    SPARE_MARK,
    STATUSES,
    UnitCodes,
    as_date,
    as_float,
    canonical_value,
    code_reader,
    load_audit,
    prefilled,
    row_digest,
)
from audit_kit.workbook.cells import set_text as _set_text
from audit_kit.workbook.safety import encrypt_xlsx

_AMOUNT_FORMAT = "#,##0.00"
_DATE_FORMAT = "yyyy-mm-dd"
_TEXT_FORMAT = "@"
_AUDIT_TABLE_ROW = 10  # first row of the unit table in the _audit sheet

_LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
_SPARE_FILL = PatternFill("solid", fgColor="D9D9D9")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_FINDING_HEADER_FILL = PatternFill("solid", fgColor="548235")
_INCOMPLETE_FILL = PatternFill("solid", fgColor="FFF2CC", bgColor="FFF2CC")
_UNLOCKED = Protection(locked=False)

# -- writing -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    unit_id: str
    values: list[str | None]
    spare: bool
    stratum: str
    role: str
    codes: UnitCodes
    digest: str = ""


@dataclass(slots=True)
class _Plan:
    workbook_id: str
    auditor: str
    rows: list[_Row] = field(default_factory=list)


def _units_with_findings(folder: AuditFolder) -> set[str]:
    """The units whose findings have been collected (any status)."""
    if not folder.has("findings.csv"):
        return set()
    findings = folder.read_csv("findings.csv", infer_schema=False)
    if "unit_id" not in findings.columns:
        return set()
    return {str(u) for u in findings.get_column("unit_id").to_list() if u}


def _open_units(
    folder: AuditFolder,
    sample: pl.DataFrame,
    unit_col: str,
    done: set[str],
    *,
    open_units_only: bool,
) -> pl.DataFrame:
    """The sample without the units whose findings are in; refused unless asked for."""
    open_sample = sample.filter(~pl.col(unit_col).is_in(sorted(done)))
    where = str(folder.path / "findings.csv")
    if open_sample.height == 0:
        raise AuditError(
            "Every unit already has findings: there is nothing left to issue.",
            [
                Problem(
                    where=where,
                    expected="units without findings",
                    found=f"findings for all {sample.height} unit(s)",
                    fix=f"run `audit-kit score {folder.path}`.",
                )
            ],
        )
    if not open_units_only:
        raise AuditError(
            f"{len(done)} unit(s) already have findings collected; issuing every unit again "
            "would re-assign them and move their progress to other auditors.",
            [
                Problem(
                    where=where,
                    expected="workbooks issued once per unit",
                    found=f"findings for {len(done)} of {sample.height} unit(s)",
                    fix=f"collect the workbooks still out (`audit-kit collect {folder.path} "
                    f"FILES`), or issue only the {open_sample.height} open unit(s): "
                    f"`audit-kit workbooks {folder.path} --open-units-only`.",
                )
            ],
        )
    return open_sample


def write_workbooks(
    audit_dir: Path,
    *,
    auditors: Sequence[str] | None = None,
    by: Literal["round_robin", "stratum"] = "round_robin",
    assignment: Path | None = None,
    password: str | None = None,
    open_units_only: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write one workbook per auditor (or one for all) into ``workbooks/``; return their paths.

    Once findings have been collected, units whose findings are in are never issued again
    (that would move their progress to another auditor): without ``open_units_only`` this is
    refused with the fix; with it, only the units without findings are issued.

    Units are dealt round-robin in sample order (spares last), by stratum (whole strata to the
    least-loaded auditor), or from an assignment CSV (``unit_id,auditor``). The plan's
    ``workbook.double_review`` share of sampled units also goes to the next auditor in the list
    (blind: the workbook does not say which units are double-reviewed). With ``password`` every
    workbook is encrypted (Office agile encryption); the password is not logged or stored.
    ``progress`` is called with one line per workbook written.
    """
    folder = AuditFolder.open(Path(audit_dir))
    plan, sample = load_audit(folder)
    wanted = [
        (key, why)
        for key, why, on in (
            ("password", "encrypted workbooks", plan.workbook.password),
            ("protect_password", "password-protected sheets", plan.workbook.protect_password),
        )
        if on
    ]
    if wanted and not password:
        key, why = wanted[0]
        raise AuditError.one(
            f"The plan asks for {why}.",
            where=f"plan.yaml: workbook.{key}",
            expected="a password (from --password-file or the prompt)",
            found="none",
            fix="pass --password-file FILE (one line: the password).",
        )
    # Sheet protection uses the same password file; the password is never in the plan.
    protection = password if plan.workbook.protect_password else None
    # a password given only for sheet protection does not also encrypt
    encrypt = bool(password) and (plan.workbook.password or not plan.workbook.protect_password)
    columns = original_columns(plan, sample.columns)
    unit_col = plan.columns.unit_id
    full_sample = sample
    done = _units_with_findings(folder)
    if done:
        sample = _open_units(folder, sample, unit_col, done, open_units_only=open_units_only)
    names, mapping = assign_units(sample, unit_col, auditors=auditors, by=by, assignment=assignment)

    batch = 1 + sum(1 for e in folder.events if e.get("command") == "workbooks")
    ids: dict[str, str] = {}
    for name in names:
        base = f"W{batch}-{slug(name) if name else 'all'}"
        wid, k = base, 2
        while wid in ids.values() or folder.has(f"workbooks/{wid}.xlsx"):
            wid, k = f"{base}-{k}", k + 1
        ids[name] = wid
    books = {name: _Plan(workbook_id=ids[name], auditor=name) for name in names}

    records = sample.to_dicts()
    spare_units = {r[unit_col] for r in records if truthy(r.get("spare"))}
    # The double-review units are drawn from the whole sample, as at the first issue, so that
    # re-issuing the open units keeps the same ones double.
    every = full_sample.to_dicts()
    sampled = [r[unit_col] for r in every if not truthy(r.get("spare"))]
    double = set(
        pick_double_review(folder.audit_id, sampled, plan.workbook.double_review, len(names))
    ).intersection(r[unit_col] for r in records)
    read_codes = code_reader(plan)
    for record in records:
        unit = record[unit_col]
        if unit not in mapping:
            continue  # a spare the assignment file leaves out
        values = [record.get(c.header) for c in columns]
        row = _Row(
            unit_id=unit,
            values=values,
            spare=unit in spare_units,
            stratum=str(record.get("stratum") or ""),
            role="primary",
            codes=read_codes(record),
        )
        row.digest = row_digest(
            [canonical_value(v, c.kind) for v, c in zip(values, columns, strict=True)]
        )
        books[mapping[unit]].rows.append(row)
        if unit in double:
            second = names[(names.index(mapping[unit]) + 1) % len(names)]
            books[second].rows.append(
                _Row(
                    unit_id=unit,
                    values=values,
                    spare=False,
                    stratum=row.stratum,
                    role="second",
                    codes=row.codes,
                    digest=row.digest,
                )
            )

    created = now_iso()
    total = sum(1 for b in books.values() if b.rows)
    outputs: list[Path] = []
    summary: list[dict[str, Any]] = []
    with folder.transaction(
        "workbooks",
        inputs={"sample.csv": folder.artifacts()["sample.csv"]["sha256"]},
        details={
            "batch": batch,
            "by": "assignment" if assignment is not None else by if auditors else "one",
            "encrypted": encrypt,
            "double_review_units": sorted(double),
            "workbooks": summary,
        },
    ) as tx:
        for name in names:
            book = books[name]
            if not book.rows:
                continue
            layout = WorkbookLayout(
                workbook_id=book.workbook_id,
                auditor=name,
                batch=batch,
                columns=tuple(columns),
                spare_header=_spare_header(columns) if any(r.spare for r in book.rows) else None,
                units=tuple(
                    {
                        "unit_id": r.unit_id,
                        "row_sha256": r.digest,
                        "spare": r.spare,
                        "role": r.role,
                        "stratum": r.stratum,
                    }
                    for r in book.rows
                ),
                encrypted=encrypt,
            )
            data = _render(folder.audit_id, plan, layout, book.rows, created, protection=protection)
            if encrypt:
                data = encrypt_xlsx(data, password or "")
            tx.write_bytes(f"workbooks/{book.workbook_id}.xlsx", data, kind="workbook")
            tx.write_json(
                f"workbooks/{book.workbook_id}.json",
                layout.to_dict(folder.audit_id, finding_headers=FINDING_HEADERS),
                kind="workbook-layout",
            )
            outputs.append(folder.file(f"workbooks/{book.workbook_id}.xlsx"))
            if progress is not None:
                progress(
                    f"wrote workbooks/{book.workbook_id}.xlsx ({len(book.rows)} row(s), "
                    f"{len(outputs)} of {total})"
                )
            summary.append(
                {
                    "workbook_id": book.workbook_id,
                    "auditor": name,
                    "units": sum(1 for r in book.rows if not r.spare and r.role == "primary"),
                    "spares": sum(1 for r in book.rows if r.spare),
                    "second_reviews": sum(1 for r in book.rows if r.role == "second"),
                }
            )
    return outputs


def _spare_header(columns: Sequence[OriginalColumn]) -> str:
    headers = {c.header for c in columns}
    return SPARE_HEADER if SPARE_HEADER not in headers else "audit-kit spare"


def _render(
    audit_id: str,
    plan: SamplingPlan,
    layout: WorkbookLayout,
    rows: Sequence[_Row],
    created: str,
    *,
    protection: str | None = None,
) -> bytes:
    wb = Workbook()
    ws_info = wb.active
    assert ws_info is not None  # a new Workbook always has one sheet
    ws_info.title = SHEET_INSTRUCTIONS
    ws = wb.create_sheet(SHEET_SAMPLE)
    ws_lists = wb.create_sheet(SHEET_LISTS)
    ws_audit = wb.create_sheet(SHEET_AUDIT)
    password = protection

    headers = [c.header for c in layout.columns]
    if layout.spare_header:
        headers.append(layout.spare_header)
    first_finding = len(headers) + 1
    headers.extend(FINDING_HEADERS)
    col_of = {h: i + 1 for i, h in enumerate(headers)}
    n_rows = len(rows)
    last = n_rows + 1

    # Sample: header
    for i, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=i)
        _set_text(cell, header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _FINDING_HEADER_FILL if i >= first_finding else _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    has_cr = False
    for r, row in enumerate(rows, start=2):
        for i, (col, value) in enumerate(zip(layout.columns, row.values, strict=True), start=1):
            cell = ws.cell(row=r, column=i)
            cell.fill = _SPARE_FILL if row.spare else _LOCKED_FILL
            if value is None or value == "":
                continue
            has_cr = has_cr or "\r" in value
            if col.kind == "number" and (number := as_float(value)) is not None:
                cell.value = number
                cell.number_format = _AMOUNT_FORMAT if col.field != "units" else "0"
            elif (
                col.kind == "date"
                and (day := as_date(value)) is not None
                and len(value.strip()) == 10
            ):
                cell.value = day
                cell.number_format = _DATE_FORMAT
            else:
                _set_text(cell, value)
        if layout.spare_header:
            cell = ws.cell(row=r, column=col_of[layout.spare_header])
            cell.fill = _SPARE_FILL if row.spare else _LOCKED_FILL
            if row.spare:
                _set_text(cell, SPARE_MARK)
        prefill = prefilled(row.codes, plan.financial.basis)
        for header in FINDING_HEADERS:
            cell = ws.cell(row=r, column=col_of[header])
            cell.protection = _UNLOCKED
            if header == "Audited amount":
                cell.number_format = _AMOUNT_FORMAT
                number = as_float(prefill[header]) if prefill.get(header) else None
                if number is not None:
                    cell.value = number
            elif header == "Review date":
                cell.number_format = _DATE_FORMAT
            else:
                cell.number_format = _TEXT_FORMAT
                text = prefill.get(header, "")
                if text:
                    has_cr = has_cr or "\r" in text
                    _set_text(cell, text)

    _finish_sample(ws, layout, headers, col_of, first_finding, last, password)
    _fill_lists(ws_lists, password)
    _fill_instructions(ws_info, audit_id, plan, layout, rows, created, password)
    _fill_audit(ws_audit, audit_id, layout, rows, created)
    wb.security = WorkbookProtection(workbookPassword=password, lockStructure=True)
    wb.active = 1  # open on the Sample sheet

    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    return _escape_cr(data) if has_cr else data


def _finish_sample(
    ws: Worksheet,
    layout: WorkbookLayout,
    headers: Sequence[str],
    col_of: Mapping[str, int],
    first_finding: int,
    last: int,
    password: str | None,
) -> None:
    ws.freeze_panes = "B2"
    ws.row_dimensions[1].height = 32
    for i, header in enumerate(headers, start=1):
        letter = get_column_letter(i)
        if i < first_finding:
            width = min(max(len(header) + 2, 12), 40)
        elif header in ("Rationale", "Coder comment"):
            width = 48
        elif header in ("Audited other dx", "Audited CPT/HCPCS", "Audited procedures"):
            width = 30
        else:
            width = max(len(header) + 2, 14)
        ws.column_dimensions[letter].width = width
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last}"

    def col(header: str) -> str:
        return get_column_letter(col_of[header])

    if last >= 2:
        lists = {
            "Review status": (f"={SHEET_LISTS}!$A$2:$A${1 + len(STATUSES)}", STATUSES),
            "Error category": (
                f"={SHEET_LISTS}!$B$2:$B${1 + len(ERROR_CATEGORIES)}",
                ERROR_CATEGORIES,
            ),
            "Coder response": (
                f"={SHEET_LISTS}!$C$2:$C${1 + len(CODER_RESPONSES)}",
                CODER_RESPONSES,
            ),
        }
        for header, (formula, allowed) in lists.items():
            dv = DataValidation(
                type="list",
                formula1=formula,
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=header,
                error=f"Choose one of: {', '.join(allowed)}.",
                promptTitle=header,
                prompt=f"One of: {', '.join(allowed)}.",
                showInputMessage=True,
            )
            dv.add(f"{col(header)}2:{col(header)}{last}")
            ws.add_data_validation(dv)
        amount = DataValidation(
            type="decimal",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Audited amount",
            error="Enter the correct amount as a number of 0 or more.",
        )
        amount.add(f"{col('Audited amount')}2:{col('Audited amount')}{last}")
        ws.add_data_validation(amount)
        review_date = DataValidation(
            type="date",
            operator="between",
            formula1="DATE(2000,1,1)",
            formula2="DATE(2099,12,31)",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Review date",
            error="Enter the review date (yyyy-mm-dd).",
        )
        review_date.add(f"{col('Review date')}2:{col('Review date')}{last}")
        ws.add_data_validation(review_date)

        status = f"${col('Review status')}2"
        when = f"${col('Review date')}2"
        spare = f'${col(layout.spare_header)}2<>"{SPARE_MARK}"' if layout.spare_header else "TRUE"
        formula = f'AND({spare},OR({status}="",AND({status}<>"not reviewed",{when}="")))'
        ws.conditional_formatting.add(
            f"{get_column_letter(first_finding)}2:{get_column_letter(len(headers))}{last}",
            FormulaRule(  # type: ignore[no-untyped-call]
                formula=[formula], fill=_INCOMPLETE_FILL, stopIfTrue=False
            ),
        )
    ws.protection.sheet = True
    ws.protection.sort = False
    ws.protection.autoFilter = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    if password:
        ws.protection.password = password


def _fill_lists(ws: Worksheet, password: str | None) -> None:
    for col, (title, values) in enumerate(
        (
            ("Review status", STATUSES),
            ("Error category", ERROR_CATEGORIES),
            ("Coder response", CODER_RESPONSES),
        ),
        start=1,
    ):
        _set_text(ws.cell(row=1, column=col), title)
        ws.cell(row=1, column=col).font = Font(bold=True)
        for r, value in enumerate(values, start=2):
            _set_text(ws.cell(row=r, column=col), value)
        ws.column_dimensions[get_column_letter(col)].width = 20
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
    if password:
        ws.protection.password = password


def _fill_instructions(
    ws: Worksheet,
    audit_id: str,
    plan: SamplingPlan,
    layout: WorkbookLayout,
    rows: Sequence[_Row],
    created: str,
    protection: str | None,
) -> None:
    sampled = sum(1 for r in rows if not r.spare)
    spares = len(rows) - sampled
    entered = plan.financial.basis == "entered"
    facts = [
        ("Audit", plan.name),
        ("Audit id", audit_id),
        ("Workbook id", layout.workbook_id),
        ("Auditor", layout.auditor or "(all auditors: fill the Auditor column)"),
        ("Units to review", f"{sampled}" + (f" (plus {spares} spares)" if spares else "")),
        ("Contact", plan.workbook.contact or "your audit lead"),
        ("Written", created),
        (
            "Due",
            "Return this workbook by the date agreed with your audit lead. Partial returns are "
            "welcome: units without a Review status count as not yet reviewed.",
        ),
    ]
    steps = [
        "Work on the Sample sheet, one row per unit. The grey columns on the left are the "
        "original data: they are locked and must stay exactly as they are.",
        "Set Review status for every unit (drop-down): reviewed, record missing, or not reviewed.",
        "The Audited code columns start with the codes as originally submitted. Change only what "
        "is wrong, so that each cell holds the correct coding when you are done. Separate codes "
        "with ';'. Audited principal dx holds one code.",
        "Codes are checked on return: ICD-10-CM diagnoses must be complete, billable codes "
        "(E11.9, not E11); ICD-10-PCS procedures are 7 characters (no I or O); CPT/HCPCS codes "
        "are 5 characters with modifiers after a hyphen and units after x (99214-25, "
        "97110-59x2); DRGs are 3 digits (065).",
        "Audited amount: "
        + (
            "the correct payment for the unit, a number of 0 or more (it starts with the "
            "amount paid; change it when the coding changes the payment)."
            if entered
            else "leave empty unless your audit lead asks for it (the payment is recomputed "
            "from the audited codes)."
        ),
        "Error category (drop-down) when the unit has an error: coding, documentation, medical "
        "necessity, other. Rationale and Reference: why, and the guideline or source.",
        "Auditor: your name (left empty, the assigned auditor is used). Review date: the day "
        "you reviewed the unit (yyyy-mm-dd).",
        "record missing: the documentation could not be found. No codes are needed; the unit "
        "counts as an error with the full paid amount at stake.",
        "not reviewed: you could not review the unit; say why in Rationale. It is left out of "
        "the scores and reported.",
        "Coder response and Coder comment are for the rebuttal round only (agree, disagree).",
        "Rows marked 'spare' are spares: review one only when your audit lead says a sampled "
        "unit is replaced.",
        "Yellow rows are still incomplete (no status, or no review date).",
        "You may sort and filter. Do not add, delete or copy rows, rename columns or sheets, or "
        "change the original data: the returned workbook is rejected, with the cell named, and "
        "nothing in it is accepted until it is fixed.",
    ]
    _set_text(ws.cell(row=1, column=1), f"Audit workbook: {plan.name}")
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    r = 3
    for label, value in facts:
        _set_text(ws.cell(row=r, column=1), label)
        ws.cell(row=r, column=1).font = Font(bold=True)
        _set_text(ws.cell(row=r, column=2), value)
        ws.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = _wrapped_height(value, INSTRUCTION_WIDTH)
        r += 1
    r += 1
    _set_text(ws.cell(row=r, column=1), "How to fill in the Sample sheet")
    ws.cell(row=r, column=1).font = Font(bold=True, size=12)
    r += 1
    for n, step in enumerate(steps, start=1):
        _set_text(ws.cell(row=r, column=1), f"{n}.")
        ws.cell(row=r, column=1).alignment = Alignment(vertical="top")
        _set_text(ws.cell(row=r, column=2), step)
        ws.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = _wrapped_height(step, INSTRUCTION_WIDTH)
        r += 1
    r += 1
    _set_text(ws.cell(row=r, column=1), "Allowed values")
    ws.cell(row=r, column=1).font = Font(bold=True, size=12)
    r += 1
    for label, values in (
        ("Review status", STATUSES),
        ("Error category", ERROR_CATEGORIES),
        ("Coder response", CODER_RESPONSES),
    ):
        _set_text(ws.cell(row=r, column=1), label)
        _set_text(ws.cell(row=r, column=2), ", ".join(values))
        r += 1
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = INSTRUCTION_WIDTH
    ws.protection.sheet = True
    if protection:
        ws.protection.password = protection


def _fill_audit(
    ws: Worksheet,
    audit_id: str,
    layout: WorkbookLayout,
    rows: Sequence[_Row],
    created: str,
) -> None:
    meta = [
        ("format", WORKBOOK_FORMAT),
        ("audit_id", audit_id),
        ("workbook_id", layout.workbook_id),
        ("auditor", layout.auditor),
        ("tool_version", __version__),
        ("created_at", created),
        ("units", str(len(rows))),
    ]
    for r, (key, value) in enumerate(meta, start=1):
        _set_text(ws.cell(row=r, column=1), key)
        _set_text(ws.cell(row=r, column=2), value)
    for c, title in enumerate(("unit_id", "row_sha256", "spare"), start=1):
        _set_text(ws.cell(row=_AUDIT_TABLE_ROW - 1, column=c), title)
    for r, row in enumerate(rows, start=_AUDIT_TABLE_ROW):
        _set_text(ws.cell(row=r, column=1), row.unit_id)
        _set_text(ws.cell(row=r, column=2), row.digest)
        _set_text(ws.cell(row=r, column=3), "true" if row.spare else "false")
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True
    # Nobody needs to unprotect this sheet: a random password nobody keeps.
    ws.protection.password = secrets.token_urlsafe(16)


def _escape_cr(data: bytes) -> bytes:
    """Rewrite raw CR in the package's XML as ``&#13;`` (XML parsers turn a raw CR into LF)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = src.read(info.filename)
            if info.filename.endswith(".xml"):
                member = member.replace(b"\r", b"&#13;")
            dst.writestr(info, member)
    return out.getvalue()


INSTRUCTION_WIDTH = 110  # characters, column B of the Instructions sheet


def _wrapped_height(text: str, width: int) -> float:
    """Row height (points) that shows all of a wrapped text.

    Neither Excel nor LibreOffice grows a row to fit wrapped text written by openpyxl, so the
    instructions would be cut off; estimate the lines from the column width (a character of
    the default 11 pt font is about one width unit; 10 % margin for word breaks).
    """
    lines = max(1, math.ceil(len(text) * 1.1 / width))
    return 15.0 * lines
