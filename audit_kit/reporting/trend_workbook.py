"""Render trend.json as trend.xlsx: the same numbers as the trend report, nothing recomputed.

Sheets: ``Periods`` (the audits and how each was placed), ``Overall`` (one row per period),
``Coders``, ``Providers``, ``Auditors`` (one row per group and period it appears in; absent
periods have no row), ``P-chart``, ``Funnel`` (the latest period), ``Next audit`` (the rule that
fired per coder), ``Rules`` and ``Differences`` (what differs between the audits). Text from the
audits is written as text, never as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from audit_kit.xlsx_text import set_text

__all__ = ["trend_workbook_bytes"]

PERCENT = "0.00%"
COUNT = "0"
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")

Column = tuple[str, Callable[[Mapping[str, Any]], Any], str | None, int]


def _get(*path: str) -> Callable[[Mapping[str, Any]], Any]:
    def get(row: Mapping[str, Any]) -> Any:
        value: Any = row
        for key in path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        return value

    return get


def _put(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None) -> None:
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        set_text(cell, value)
    elif isinstance(value, bool):
        cell.value = "yes" if value else "no"
    elif isinstance(value, list | dict):
        set_text(cell, str(value))
    else:
        cell.value = value
        if fmt and value is not None:
            cell.number_format = fmt


def _sheet(wb: Workbook, title: str, columns: Sequence[Column], rows: Sequence[Any]) -> None:
    ws = wb.create_sheet(title)
    for c, (name, _, _, width) in enumerate(columns, start=1):
        _put(ws, 1, c, name, None)
        cell = ws.cell(row=1, column=c)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(c)].width = width
    for r, row in enumerate(rows, start=2):
        for c, (_, get, fmt, _) in enumerate(columns, start=1):
            _put(ws, r, c, get(row), fmt)
    ws.freeze_panes = "B2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def _interval_columns(prefix: str, title: str) -> list[Column]:
    return [
        (title, _get(prefix, "value"), PERCENT, 10),
        ("lower", _get(prefix, "lower"), PERCENT, 9),
        ("upper", _get(prefix, "upper"), PERCENT, 9),
        ("confidence", _get(prefix, "confidence"), PERCENT, 9),
    ]


def _categories(row: Mapping[str, Any]) -> str:
    return "; ".join(f"{c['category']} ({c['units']})" for c in row.get("top_categories") or [])


def _period_columns(first: Column) -> list[Column]:
    return [
        first,
        ("Period", _get("period"), None, 24),
        ("Audit", _get("audit"), None, 24),
        ("Units scored", _get("units_scored"), COUNT, 9),
        ("Units with error", _get("units_with_error"), COUNT, 9),
        *_interval_columns("record_accuracy", "Record accuracy"),
        *_interval_columns("code_accuracy", "Code accuracy"),
        ("Verdict", _get("verdict"), None, 12),
        ("Record verdict", _get("record_verdict"), None, 12),
        ("Target", _get("target_accuracy"), PERCENT, 9),
        ("Top error categories", _categories, None, 34),
    ]


def _long(groups: Sequence[Mapping[str, Any]], key: str) -> list[dict[str, Any]]:
    return [{key: g.get(key), **p} for g in groups for p in g.get("periods") or []]


def trend_workbook_bytes(trend: Mapping[str, Any]) -> bytes:
    """Return trend.xlsx for a trend.json document."""
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    _sheet(
        wb,
        "Periods",
        [
            ("Period", _get("period"), None, 26),
            ("Audit", _get("audit"), None, 24),
            ("Name", _get("name"), None, 36),
            ("Status", _get("status"), None, 12),
            ("Start", _get("start"), None, 12),
            ("End", _get("end"), None, 12),
            ("Sampling date", _get("sampling_date"), None, 12),
            ("Placed by", _get("placed_by"), None, 14),
            ("Design", _get("design"), None, 22),
            ("Sample size rule", _get("sample_size"), None, 18),
            ("Units scored", _get("units_scored"), COUNT, 9),
            ("Target", _get("target_accuracy"), PERCENT, 9),
            ("Confidence", _get("confidence"), PERCENT, 9),
            ("Verified", _get("verified"), None, 22),
            ("Folder", _get("audit_dir"), None, 40),
        ],
        trend.get("periods") or [],
    )
    _sheet(
        wb,
        "Overall",
        _period_columns(("#", _get("n"), None, 4)),
        [{"n": i + 1, **o} for i, o in enumerate(trend.get("overall") or [])],
    )
    for key, title in (("coder", "Coders"), ("provider", "Providers"), ("auditor", "Auditors")):
        groups = trend.get(f"{key}s") or []
        _sheet(wb, title, _period_columns((title[:-1], _get(key), None, 18)), _long(groups, key))
    chart = trend.get("p_chart") or {}
    _sheet(
        wb,
        "P-chart",
        [
            ("Period", _get("period"), None, 26),
            ("Errors", _get("errors"), COUNT, 9),
            ("n", _get("n"), COUNT, 9),
            ("p", _get("p"), PERCENT, 9),
            ("Centre p-bar", lambda _: chart.get("center"), PERCENT, 11),
            ("Lower limit", _get("lower"), PERCENT, 11),
            ("Upper limit", _get("upper"), PERCENT, 11),
            ("Out of control", _get("out_of_control"), None, 11),
        ],
        chart.get("periods") or [],
    )
    funnel = trend.get("funnel") or {}
    _sheet(
        wb,
        "Funnel",
        [
            ("Coder", _get("coder"), None, 18),
            ("Period", lambda _: funnel.get("period"), None, 26),
            ("n", _get("n"), COUNT, 8),
            ("Errors", _get("errors"), COUNT, 8),
            ("Error rate", _get("p"), PERCENT, 10),
            ("Period rate", lambda _: funnel.get("target"), PERCENT, 10),
            ("95% lower", _get("lower95"), PERCENT, 10),
            ("95% upper", _get("upper95"), PERCENT, 10),
            ("99.8% lower", _get("lower998"), PERCENT, 10),
            ("99.8% upper", _get("upper998"), PERCENT, 10),
            ("Position", _get("position"), None, 14),
        ],
        funnel.get("coders") or [],
    )
    _sheet(
        wb,
        "Next audit",
        [
            ("Coder", _get("coder"), None, 18),
            ("Next audit by", _get("next_audit", "date"), None, 12),
            ("Kind", _get("next_audit", "kind"), None, 16),
            ("Rule that fired", _get("next_audit", "rule"), None, 60),
            ("Measure", _get("next_audit", "measure"), None, 16),
            ("Lower limit", _get("next_audit", "lower"), PERCENT, 10),
            ("Threshold", _get("next_audit", "threshold"), PERCENT, 10),
            ("Months", _get("next_audit", "months"), COUNT, 8),
            ("Counted from", _get("next_audit", "counted_from"), None, 12),
            ("Based on period", _get("next_audit", "based_on_period"), None, 26),
            ("New coder", _get("next_audit", "new_coder"), None, 9),
            ("In latest period", _get("next_audit", "in_latest_period"), None, 9),
            ("Absent from", lambda r: "; ".join(r.get("absent") or []), None, 30),
        ],
        trend.get("coders") or [],
    )
    cadence = trend.get("cadence") or {}
    rules = list(cadence.get("rules") or [])
    new = cadence.get("new_coders")
    if isinstance(new, Mapping):
        rules.append(
            {
                "name": "new coder (first seen in the latest period)",
                "lower_at_least": None,
                "next_in_months": new.get("within_months"),
                "kind": new.get("kind"),
            }
        )
    _sheet(
        wb,
        "Rules",
        [
            ("Rule", _get("name"), None, 40),
            ("Lower limit at least", _get("lower_at_least"), PERCENT, 12),
            ("Next audit in months", _get("next_in_months"), COUNT, 12),
            ("Kind", _get("kind"), None, 16),
            ("Measure", lambda _: cadence.get("measure"), None, 16),
            ("Source", lambda _: cadence.get("source"), None, 40),
        ],
        rules,
    )
    differences = [
        {"setting": d.get("setting"), "period": period, "value": value}
        for d in (trend.get("comparability") or {}).get("differences") or []
        for period, value in (d.get("values") or {}).items()
    ]
    _sheet(
        wb,
        "Differences",
        [
            ("Setting", _get("setting"), None, 24),
            ("Period", _get("period"), None, 26),
            ("Value", _get("value"), None, 50),
        ],
        differences,
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
