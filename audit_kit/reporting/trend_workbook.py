"""Render trend.json as trend.xlsx: the same numbers as the trend report, nothing recomputed.

Sheets: ``Periods`` (the audits and how each was placed), ``Overall`` (one row per period),
``Coders``, ``Providers``, ``Auditors`` (one row per group and period it appears in; absent
periods have no row), ``P-chart``, ``Funnel`` (the latest period), ``Next audit`` (the rule that
fired per coder), ``Rules`` and ``Differences`` (what differs between the audits). Text from the
audits is written as text, never as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook

from audit_kit.reporting.results_workbook import (
    Column,
    getter,
    write_table,
)

__all__ = ["trend_workbook_bytes"]

PERCENT = "0.00%"
COUNT = "0"


def _sheet(wb: Workbook, title: str, columns: Sequence[Column], rows: Sequence[Any]) -> None:
    write_table(wb.create_sheet(title), columns, rows)


def _interval_columns(prefix: str, title: str) -> list[Column]:
    return [
        (title, getter(prefix, "value"), PERCENT, 10),
        ("lower", getter(prefix, "lower"), PERCENT, 9),
        ("upper", getter(prefix, "upper"), PERCENT, 9),
        ("confidence", getter(prefix, "confidence"), PERCENT, 9),
    ]


def _categories(row: Mapping[str, Any]) -> str:
    return "; ".join(f"{c['category']} ({c['units']})" for c in row.get("top_categories") or [])


def _period_columns(first: Column) -> list[Column]:
    return [
        first,
        ("Period", getter("period"), None, 24),
        ("Audit", getter("audit"), None, 24),
        ("Units scored", getter("units_scored"), COUNT, 9),
        ("Units with error", getter("units_with_error"), COUNT, 9),
        *_interval_columns("record_accuracy", "Record accuracy"),
        *_interval_columns("code_accuracy", "Code accuracy"),
        ("Verdict", getter("verdict"), None, 12),
        ("Record verdict", getter("record_verdict"), None, 12),
        ("Target", getter("target_accuracy"), PERCENT, 9),
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
            ("Period", getter("period"), None, 26),
            ("Audit", getter("audit"), None, 24),
            ("Name", getter("name"), None, 36),
            ("Status", getter("status"), None, 12),
            ("Start", getter("start"), None, 12),
            ("End", getter("end"), None, 12),
            ("Sampling date", getter("sampling_date"), None, 12),
            ("Placed by", getter("placed_by"), None, 14),
            ("Design", getter("design"), None, 22),
            ("Sample size rule", getter("sample_size"), None, 18),
            ("Units scored", getter("units_scored"), COUNT, 9),
            ("Target", getter("target_accuracy"), PERCENT, 9),
            ("Confidence", getter("confidence"), PERCENT, 9),
            ("Verified", getter("verified"), None, 22),
            ("Folder", getter("audit_dir"), None, 40),
        ],
        trend.get("periods") or [],
    )
    _sheet(
        wb,
        "Overall",
        _period_columns(("#", getter("n"), None, 4)),
        [{"n": i + 1, **o} for i, o in enumerate(trend.get("overall") or [])],
    )
    for key, title in (("coder", "Coders"), ("provider", "Providers"), ("auditor", "Auditors")):
        groups = trend.get(f"{key}s") or []
        _sheet(wb, title, _period_columns((title[:-1], getter(key), None, 18)), _long(groups, key))
    chart = trend.get("p_chart") or {}
    _sheet(
        wb,
        "P-chart",
        [
            ("Period", getter("period"), None, 26),
            ("Errors", getter("errors"), COUNT, 9),
            ("n", getter("n"), COUNT, 9),
            ("p", getter("p"), PERCENT, 9),
            ("Centre p-bar", lambda _: chart.get("center"), PERCENT, 11),
            ("Lower limit", getter("lower"), PERCENT, 11),
            ("Upper limit", getter("upper"), PERCENT, 11),
            ("Out of control", getter("out_of_control"), None, 11),
        ],
        chart.get("periods") or [],
    )
    funnel = trend.get("funnel") or {}
    _sheet(
        wb,
        "Funnel",
        [
            ("Coder", getter("coder"), None, 18),
            ("Period", lambda _: funnel.get("period"), None, 26),
            ("n", getter("n"), COUNT, 8),
            ("Errors", getter("errors"), COUNT, 8),
            ("Error rate", getter("p"), PERCENT, 10),
            ("Period rate", lambda _: funnel.get("target"), PERCENT, 10),
            ("95% lower", getter("lower95"), PERCENT, 10),
            ("95% upper", getter("upper95"), PERCENT, 10),
            ("99.8% lower", getter("lower998"), PERCENT, 10),
            ("99.8% upper", getter("upper998"), PERCENT, 10),
            ("Position", getter("position"), None, 14),
        ],
        funnel.get("coders") or [],
    )
    _sheet(
        wb,
        "Next audit",
        [
            ("Coder", getter("coder"), None, 18),
            ("Next audit by", getter("next_audit", "date"), None, 12),
            ("Kind", getter("next_audit", "kind"), None, 16),
            ("Rule that fired", getter("next_audit", "rule"), None, 60),
            ("Measure", getter("next_audit", "measure"), None, 16),
            ("Lower limit", getter("next_audit", "lower"), PERCENT, 10),
            ("Threshold", getter("next_audit", "threshold"), PERCENT, 10),
            ("Months", getter("next_audit", "months"), COUNT, 8),
            ("Counted from", getter("next_audit", "counted_from"), None, 12),
            ("Based on period", getter("next_audit", "based_on_period"), None, 26),
            ("New coder", getter("next_audit", "new_coder"), None, 9),
            ("In latest period", getter("next_audit", "in_latest_period"), None, 9),
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
            ("Rule", getter("name"), None, 40),
            ("Lower limit at least", getter("lower_at_least"), PERCENT, 12),
            ("Next audit in months", getter("next_in_months"), COUNT, 12),
            ("Kind", getter("kind"), None, 16),
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
            ("Setting", getter("setting"), None, 24),
            ("Period", getter("period"), None, 26),
            ("Value", getter("value"), None, 50),
        ],
        differences,
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
