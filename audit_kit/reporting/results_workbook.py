"""Render results.json as results.xlsx for people: the same numbers, nothing recomputed.

Sheets: ``Summary`` (audit, settings, progress, overall scores, extrapolation, CIA discovery),
``Coders`` (and ``Providers``, ``Auditors``, ``Settings``, ``Strata`` when the audit has them),
``Categories`` (Pareto), ``Findings`` (every returned unit, codes and changes of units in error,
amounts and differences) and ``Extrapolation`` (the variable appraisal in RAT-STATS layout).
Text from the audit is written as text, never as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from audit_kit.folder.results import Results
from audit_kit.values.counts import COUNT_WORDS
from audit_kit.workbook.cells import set_text

__all__ = ["Column", "getter", "put_cell", "results_workbook_bytes", "write_table"]

MONEY = "#,##0.00"
WHOLE_MONEY = "#,##0"
PERCENT = "0.00%"
COUNT = "0"
RATIO = "0.0000"
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")

Column = tuple[str, Callable[[Mapping[str, Any]], Any], str | None, int]


def put_cell(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None = None) -> None:
    """Write one value: text as text (never a formula), booleans as yes/no, numbers formatted."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        set_text(cell, value)  # text stays text: no formula, whatever its first character
    elif isinstance(value, bool):
        cell.value = "yes" if value else "no"
    elif isinstance(value, list | dict):
        set_text(cell, str(value))
    else:
        cell.value = value
        if fmt and value is not None:
            cell.number_format = fmt


def write_table(ws: Worksheet, columns: Sequence[Column], rows: Sequence[Any]) -> None:
    """Write a header row and one row per item; freeze the header and add a filter."""
    for c, (title, _, _, width) in enumerate(columns, start=1):
        put_cell(ws, 1, c, title)
        cell = ws.cell(row=1, column=c)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(c)].width = width
    for r, row in enumerate(rows, start=2):
        for c, (_, get, fmt, _) in enumerate(columns, start=1):
            put_cell(ws, r, c, get(row), fmt)
    ws.freeze_panes = "B2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def getter(*path: str) -> Callable[[Mapping[str, Any]], Any]:
    """Return a function reading ``row[path[0]][path[1]]...`` (None where a level is absent)."""

    def get(row: Mapping[str, Any]) -> Any:
        value: Any = row
        for key in path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        return value

    return get


def _joined(*path: str) -> Callable[[Mapping[str, Any]], Any]:
    def get(row: Mapping[str, Any]) -> Any:
        value = getter(*path)(row)
        if value is None:
            return None
        if isinstance(value, list):
            return "; ".join(" -> ".join(v) if isinstance(v, list) else str(v) for v in value)
        return str(value)

    return get


def _group_columns(key: str, title: str) -> list[Column]:
    cols: list[Column] = [(title, getter(key), None, 18)]
    if key == "stratum":
        cols += [
            ("Population", getter("population"), COUNT, 11),
            ("Planned n", getter("sample"), COUNT, 10),
        ]
    cols += [
        ("Units scored", getter("units_reviewed"), COUNT, 9),
        ("Units with error", getter("units_with_error"), COUNT, 9),
        ("Not reviewed", getter("units_not_reviewed"), COUNT, 9),
        ("Record accuracy", getter("record_accuracy", "value"), PERCENT, 10),
        ("lower", getter("record_accuracy", "lower"), PERCENT, 9),
        ("upper", getter("record_accuracy", "upper"), PERCENT, 9),
        ("Code accuracy", getter("code_accuracy", "value"), PERCENT, 10),
        ("lower", getter("code_accuracy", "lower"), PERCENT, 9),
        ("upper", getter("code_accuracy", "upper"), PERCENT, 9),
        ("Verdict", getter("verdict"), None, 12),
        ("DRG accuracy", getter("drg_accuracy", "value"), PERCENT, 10),
        ("Financial accuracy", getter("financial_accuracy", "value"), PERCENT, 10),
        ("Dollar accuracy", getter("dollar_accuracy"), PERCENT, 10),
        ("Codes reviewed", getter("codes", "reviewed"), COUNT, 9),
        ("Correct", getter("codes", "correct"), COUNT, 8),
        ("Added", getter("codes", "added"), COUNT, 8),
        ("Deleted", getter("codes", "deleted"), COUNT, 8),
        ("Revised", getter("codes", "revised"), COUNT, 8),
        ("Principal dx changed", getter("codes", "principal_dx_changed"), COUNT, 10),
        ("Examined", getter("financial", "examined"), MONEY, 13),
        ("Audited", getter("financial", "audited"), MONEY, 13),
        ("Overpayment", getter("financial", "overpayment"), MONEY, 13),
        ("Underpayment", getter("financial", "underpayment"), MONEY, 13),
        ("Net", getter("financial", "net"), MONEY, 13),
        ("Gross", getter("financial", "gross"), MONEY, 13),
    ]
    return cols


def _summary(ws: Worksheet, results: Mapping[str, Any]) -> None:
    overall = results["overall"]
    ext = overall.get("extrapolation") or {}
    rows: list[tuple[str, Any, str | None]] = [("Audit", None, None)]
    rows += [(k.replace("_", " "), v, None) for k, v in results["audit"].items()]
    rows += [("Settings", None, None)]
    for k, v in results["settings"].items():
        if isinstance(v, Mapping | list):
            v = (
                ", ".join(f"{a}: {b}" for a, b in v.items())
                if isinstance(v, Mapping)
                else ", ".join(map(str, v))
            )
        rows.append((k.replace("_", " "), v, None))
    rows += [("Progress", None, None)]
    rows += [("status", results.get("status", "final"), None)]
    # the same words as the command line and the PDFs (values/counts.py)
    rows += [
        (COUNT_WORDS.get(k, k.replace("_", " ")), v, COUNT) for k, v in results["progress"].items()
    ]
    rows += [
        ("Overall", None, None),
        ("units scored", overall["units_reviewed"], COUNT),
        ("units with error", overall["units_with_error"], COUNT),
    ]
    for key in ("record_accuracy", "code_accuracy", "drg_accuracy", "financial_accuracy"):
        block = overall.get(key)
        if block:
            label = key.replace("_", " ")
            rows += [
                (label, block["value"], PERCENT),
                (f"{label}, lower limit", block["lower"], PERCENT),
                (f"{label}, upper limit", block["upper"], PERCENT),
                (
                    f"{label}, method",
                    f"{block['method']} ({block['confidence']:.0%} two-sided)",
                    None,
                ),
            ]
    rows += [
        ("dollar accuracy", overall.get("dollar_accuracy"), PERCENT),
        ("verdict", overall["verdict"], None),
    ]
    rows += [(k, v, MONEY) for k, v in overall["financial"].items()]
    if ext:
        rows += [
            ("Extrapolation", None, None),
            ("measure", ext["measure"], None),
            ("point estimate", ext["point_estimate"], WHOLE_MONEY),
            ("one-sided 90% lower limit", ext["one_sided_90_lower"], WHOLE_MONEY),
            ("two-sided 90% lower limit", ext["two_sided_90_lower"], WHOLE_MONEY),
            ("95% interval, lower", ext["limits"]["95"]["lower"], WHOLE_MONEY),
            ("95% interval, upper", ext["limits"]["95"]["upper"], WHOLE_MONEY),
            ("demand rule", ext["demand_rule"], None),
            ("demand amount", ext["demand_amount"], WHOLE_MONEY),
            ("why this amount", ext["demand_reason"], None),
        ]
    cia = results.get("cia_discovery")
    if cia:
        full = cia.get("full_sample") or {}
        rows += [
            ("CIA discovery", None, None),
            ("net error rate", cia["net_error_rate"], PERCENT),
            ("threshold", cia["threshold"], PERCENT),
            ("threshold reached", cia["exceeded"], None),
            ("full sample size (90% / 25%)", full.get("sample_size"), COUNT),
        ]
    for note in results.get("notes", []):
        rows.append(("note", note, None))
    for r, (label, value, fmt) in enumerate(rows, start=1):
        put_cell(ws, r, 1, label)
        if value is None and label[:1].isupper():
            ws.cell(row=r, column=1).font = BOLD
            continue
        put_cell(ws, r, 2, value, fmt)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 70
    ws.freeze_panes = "A2"


def _findings(ws: Worksheet, results: Mapping[str, Any]) -> None:
    errors = {e["unit_id"]: e for e in results.get("errors", [])}
    rows = [{**u, "error": errors.get(u["unit_id"], {})} for u in results.get("units", [])]
    columns: list[Column] = [
        ("Unit id", getter("unit_id"), None, 14),
        ("Stratum", getter("stratum"), None, 12),
        ("Coder", getter("coder"), None, 12),
        ("Provider", getter("provider"), None, 12),
        ("Auditor", getter("auditor"), None, 12),
        ("Status", getter("status"), None, 13),
        ("Error", getter("has_error"), None, 7),
        ("Category", getter("category"), None, 14),
        ("Original dx", _joined("error", "original", "dx"), None, 22),
        ("Audited dx", _joined("error", "audited", "dx"), None, 22),
        ("Original px", _joined("error", "original", "px"), None, 16),
        ("Audited px", _joined("error", "audited", "px"), None, 16),
        ("Original CPT/HCPCS", _joined("error", "original", "cpt"), None, 18),
        ("Audited CPT/HCPCS", _joined("error", "audited", "cpt"), None, 18),
        ("Original DRG", getter("error", "original", "drg"), None, 9),
        ("Audited DRG", getter("error", "audited", "drg"), None, 9),
        ("Added", _joined("error", "changes", "added"), None, 18),
        ("Deleted", _joined("error", "changes", "deleted"), None, 18),
        ("Revised", _joined("error", "changes", "revised"), None, 22),
        ("Principal dx changed", getter("error", "changes", "principal_dx_changed"), None, 10),
        ("Codes reviewed", getter("codes_reviewed"), COUNT, 9),
        ("Codes correct", getter("codes_correct"), COUNT, 9),
        ("Examined", getter("examined"), MONEY, 13),
        ("Audited amount", getter("audited_amount"), MONEY, 13),
        ("Difference", getter("difference"), MONEY, 13),
        ("Rationale", getter("error", "rationale"), None, 40),
        ("Reference", getter("error", "reference"), None, 24),
    ]
    write_table(ws, columns, rows)


def _appraisal_block(
    ws: Worksheet, row: int, title: str, ext: Mapping[str, Any], critical: str
) -> int:
    put_cell(ws, row, 1, title)
    ws.cell(row=row, column=1).font = BOLD
    row += 1
    appraisal = ext.get("appraisal") or {}
    facts: list[tuple[str, Any, str | None]] = [
        ("Universe size", ext["population"], COUNT),
        ("Sample size", ext["sample"], COUNT),
        ("Values", ext["measure"], None),
        ("Total of values", appraisal.get("total"), MONEY),
        ("Nonzero values", appraisal.get("nonzero"), COUNT),
        ("Mean", appraisal.get("mean"), MONEY),
        ("Standard deviation", appraisal.get("sd"), MONEY),
        ("Skewness", appraisal.get("skewness", ext.get("skewness")), "0.00"),
        ("Kurtosis", appraisal.get("kurtosis"), "0.00"),
        ("Standard error (mean)", appraisal.get("se_mean"), MONEY),
        ("Standard error (total)", ext["se_total"], WHOLE_MONEY),
        ("Point estimate", ext["point_estimate"], WHOLE_MONEY),
    ]
    for label, value, fmt in facts:
        if value is None and label not in ("Universe size", "Sample size"):
            continue
        put_cell(ws, row, 1, label)
        put_cell(ws, row, 2, value, fmt)
        row += 1
    headers = [
        "Confidence",
        "Lower limit",
        "Upper limit",
        "Precision amount",
        "Precision percent",
        critical,
    ]
    for c, h in enumerate(headers, start=1):
        put_cell(ws, row, c, h)
        ws.cell(row=row, column=c).font = BOLD
    row += 1
    for key in ("80", "90", "95"):
        lim = ext["limits"][key]
        put_cell(ws, row, 1, f"{key}%")
        put_cell(ws, row, 2, lim["lower"], WHOLE_MONEY)
        put_cell(ws, row, 3, lim["upper"], WHOLE_MONEY)
        put_cell(ws, row, 4, lim["precision"], WHOLE_MONEY)
        put_cell(ws, row, 5, lim["precision_percent"] / 100.0, PERCENT)
        put_cell(ws, row, 6, lim["critical_value"], "0.000000000000")
        row += 1
    return row + 1


def _extrapolation(ws: Worksheet, results: Mapping[str, Any]) -> None:
    row = 1
    overall = results["overall"].get("extrapolation")
    strata = [s for s in results.get("strata", []) if s.get("extrapolation")]
    if overall is None and not strata:
        put_cell(ws, 1, 1, "No extrapolation.")
        for r, note in enumerate(results.get("notes", []), start=2):
            put_cell(ws, r, 1, note)
        ws.column_dimensions["A"].width = 100
        return
    put_cell(ws, row, 1, "Variable appraisal (RAT-STATS layout)")
    ws.cell(row=row, column=1).font = Font(bold=True, size=12)
    row += 2
    if len(strata) > 1 or overall is None:
        for s in strata:
            row = _appraisal_block(
                ws, row, f"Stratum {s['stratum']}", s["extrapolation"], "t-value"
            )
    if overall is not None:
        critical = "z-value" if overall["critical_value_rule"] in ("ratstats", "z") else "t-value"
        title = "Overall (combined strata)" if len(strata) > 1 else "Unrestricted"
        row = _appraisal_block(ws, row, title, overall, critical)
        put_cell(ws, row, 1, "Demand rule")
        put_cell(ws, row, 2, overall["demand_rule"])
        put_cell(ws, row + 1, 1, "Demand amount")
        put_cell(ws, row + 1, 2, overall["demand_amount"], WHOLE_MONEY)
        put_cell(ws, row + 2, 1, "Why this amount")
        put_cell(ws, row + 2, 2, overall["demand_reason"])
    widths = (26, 16, 16, 16, 16, 18)
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = w


def results_workbook_bytes(scored: Results) -> bytes:
    """Return results.xlsx for the results (renders; computes nothing)."""
    results = scored.to_json_dict()
    wb = Workbook()
    summary = wb.worksheets[0]
    summary.title = "Summary"
    _summary(summary, results)
    write_table(
        wb.create_sheet("Coders"), _group_columns("coder", "Coder"), results.get("coders", [])
    )
    for key, attr, title in (
        ("providers", "provider", "Providers"),
        ("auditors", "auditor", "Auditors"),
        ("settings_groups", "setting", "Settings"),
        ("strata", "stratum", "Strata"),
    ):
        if results.get(key):
            write_table(wb.create_sheet(title), _group_columns(attr, title[:-1]), results[key])
    write_table(
        wb.create_sheet("Categories"),
        [
            ("Error category", getter("category"), None, 22),
            ("Units", getter("units"), COUNT, 8),
            ("Share", getter("share"), PERCENT, 9),
            ("Cumulative share", getter("cumulative_share"), PERCENT, 11),
            ("Overpayment", getter("overpayment"), MONEY, 14),
            ("Underpayment", getter("underpayment"), MONEY, 14),
            ("Net", getter("net"), MONEY, 14),
        ],
        results.get("categories", []),
    )
    _findings(wb.create_sheet("Findings"), results)
    _extrapolation(wb.create_sheet("Extrapolation"), results)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
