"""The trend report: trend.json -> view model -> ``templates/trend.html`` -> trend.pdf.

Formatting only, like the audit reports: every number comes from trend.json as
:mod:`audit_kit.program` computed it, and is turned into display strings and chart inputs here.
trend.json is attached to the PDF.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from audit_kit.reporting import trend_charts as charts
from audit_kit.reporting.environment import template_roots
from audit_kit.reporting.formatting import (
    VERDICTS,
    conf,
    count,
    finite_number,
    pct,
    pct_lower,
    pct_upper,
    text,
)
from audit_kit.reporting.pdf import RenderJob, render_html, render_job

__all__ = ["trend_context", "trend_pdf_bytes"]

KINDS = {
    "routine": "Routine audit",
    "with_feedback": "Audit with feedback",
    "focused_review": "Focused review",
}
GROUP_WORDS = {"coder": "Coder", "provider": "Provider", "auditor": "Auditor"}


def _interval(block: Any) -> dict[str, str] | None:
    if not isinstance(block, Mapping) or finite_number(block.get("value")) is None:
        return None
    return {
        "value": pct(block.get("value")),
        "lower": pct_lower(block.get("lower")),
        "upper": pct_upper(block.get("upper")),
        "confidence": conf(block.get("confidence")),
    }


#: Verdict markers as text (one text node per table cell keeps an 8 x 50 matrix fast to lay out).
MARKERS = {"meets": "\u25cf", "inconclusive": "\u25cb", "below": "\u25a0"}


def _cell(entry: Mapping[str, Any] | None, measure: str) -> str:
    """One matrix cell as plain text: value and verdict marker, then limits and n."""
    if entry is None:
        return "absent"
    interval = _interval(entry.get(measure))
    if interval is None:
        return "not scored"
    marker = MARKERS.get(text(entry.get("verdict")), "")
    return (
        f"{marker} {interval['value']}\n{interval['lower']} to {interval['upper']}, "
        f"n={count(entry.get('units_scored'))}"
    )


def _matrix(
    groups: Sequence[Mapping[str, Any]], key: str, labels: Sequence[str], measure: str
) -> list[dict[str, Any]]:
    rows = []
    for group in groups:
        by_period = {p["period"]: p for p in group.get("periods") or []}
        rows.append(
            {
                "name": text(group.get(key)),
                "cells": [_cell(by_period.get(label), measure) for label in labels],
            }
        )
    return rows


def _multiples(
    coders: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    measure: str,
    target: float | None,
) -> list[str]:
    lows = [
        finite_number((p.get(measure) or {}).get("lower"))
        for c in coders
        for p in c.get("periods") or []
    ]
    known = [v for v in lows if v is not None]
    lo = min(0.8, max(0.0, (min(known) if known else 0.8) - 0.02))
    lo = float(int(lo * 20)) / 20  # a round 5% step below the lowest limit shown
    svgs = []
    for coder in coders:
        by_period = {p["period"]: p for p in coder.get("periods") or []}
        points = []
        for label in labels:
            entry = by_period.get(label)
            block = (entry or {}).get(measure) or {}
            value = finite_number(block.get("value")) if entry else None
            points.append(
                charts.MultiplePoint(
                    value=value,
                    lower=finite_number(block.get("lower")),
                    upper=finite_number(block.get("upper")),
                    verdict=text((entry or {}).get("verdict")),
                )
            )
        name = text(coder.get("coder"))
        svgs.append(
            charts.small_multiple(
                name,
                points,
                lo=lo,
                target=target,
                title=f"{name}: {measure.replace('_', ' ')} per period",
            )
        )
    return svgs


def _next_audit(coder: Mapping[str, Any]) -> dict[str, Any] | None:
    decision = coder.get("next_audit")
    if not isinstance(decision, Mapping):
        return None
    kind = text(decision.get("kind"))
    return {
        "coder": text(coder.get("coder")),
        "date": text(decision.get("date")),
        "kind": KINDS.get(kind, kind),
        "kind_code": kind,
        "rule": text(decision.get("rule")),
        "lower": pct_lower(decision.get("lower")),
        "based_on": text(decision.get("based_on_period")),
        "new": "yes" if decision.get("new_coder") else "",
        "latest": bool(decision.get("in_latest_period")),
    }


def _rules_view(cadence: Mapping[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in cadence.get("rules") or []:
        kind = text(rule.get("kind"))
        rules.append(
            {
                "name": text(rule.get("name")),
                "threshold": pct(rule.get("lower_at_least"), 0),
                "months": count(rule.get("next_in_months")),
                "kind": KINDS.get(kind, kind),
            }
        )
    new = cadence.get("new_coders")
    new_view = None
    if isinstance(new, Mapping):
        kind = text(new.get("kind"))
        new_view = {"months": count(new.get("within_months")), "kind": KINDS.get(kind, kind)}
    return {
        "source": text(cadence.get("source")),
        "measure": text(cadence.get("measure")).replace("_", " "),
        "rules": rules,
        "new_coders": new_view,
    }


def _span(periods: Sequence[Mapping[str, Any]]) -> str:
    """The time the trend covers: first start to last end, else first to latest period."""
    if not periods:
        return ""
    start, end = periods[0].get("start"), periods[-1].get("end")
    if start and end:
        return f"{start} to {end}"
    first, last = text(periods[0].get("period")), text(periods[-1].get("period"))
    return first if first == last else f"{first} to {last}"


def trend_context(trend: Mapping[str, Any], *, rendered_at: str) -> dict[str, Any]:
    """Return the view model of trend.html from a trend.json document."""
    periods = list(trend.get("periods") or [])
    labels = [text(p.get("period")) for p in periods]
    latest = periods[-1] if periods else {}
    measure = text((trend.get("cadence") or {}).get("measure")) or "code_accuracy"
    targets = {finite_number(p.get("target_accuracy")) for p in periods}
    target = targets.pop() if len(targets) == 1 else None
    overall = []
    for entry in trend.get("overall") or []:
        verdict = text(entry.get("verdict"))
        overall.append(
            {
                "period": text(entry.get("period")),
                "units": count(entry.get("units_scored")),
                "with_error": count(entry.get("units_with_error")),
                "record": _interval(entry.get("record_accuracy")),
                "code": _interval(entry.get("code_accuracy")),
                "verdict": verdict,
                "verdict_label": VERDICTS.get(verdict, verdict),
                "target": pct(entry.get("target_accuracy"), 0),
                "categories": ", ".join(
                    f"{c['category']} ({c['units']})" for c in entry.get("top_categories") or []
                ),
            }
        )
    chart = trend.get("p_chart") or {}
    chart_rows = []
    chart_points = []
    for point in chart.get("periods") or []:
        chart_rows.append(
            {
                "period": text(point.get("period")),
                "errors": count(point.get("errors")),
                "n": count(point.get("n")),
                "p": pct(point.get("p")),
                "lower": pct(point.get("lower")),
                "upper": pct(point.get("upper")),
                "flag": "outside" if point.get("out_of_control") else "",
            }
        )
        chart_points.append(
            charts.PChartPoint(
                label=text(point.get("period")),
                p=float(point["p"]),
                lower=float(point["lower"]),
                upper=float(point["upper"]),
                flagged=bool(point.get("out_of_control")),
            )
        )
    center = finite_number(chart.get("center"))
    p_chart_svg = (
        charts.p_chart(chart_points, center=center, title="p-chart of the record error rate")
        if chart_points and center is not None
        else None
    )
    funnel = trend.get("funnel")
    funnel_view = None
    if isinstance(funnel, Mapping) and finite_number(funnel.get("target")) is not None:
        dots = [
            charts.FunnelDot(
                label=text(c.get("coder")),
                n=int(c["n"]),
                p=float(c["p"]),
                outside=text(c.get("position")) != "within",
            )
            for c in funnel.get("coders") or []
        ]
        curve = [
            charts.FunnelCurve(
                n=int(c["n"]),
                lower95=float(c["lower95"]),
                upper95=float(c["upper95"]),
                lower998=float(c["lower998"]),
                upper998=float(c["upper998"]),
            )
            for c in funnel.get("curve") or []
        ]
        funnel_view = {
            "period": text(funnel.get("period")),
            "target": pct(funnel.get("target")),
            "svg": charts.funnel_chart(
                dots,
                curve,
                target=float(funnel["target"]),
                title=f"Funnel plot of coders, {funnel.get('period')}",
            ),
            "outside": [
                {
                    "coder": text(c.get("coder")),
                    "errors": count(c.get("errors")),
                    "n": count(c.get("n")),
                    "p": pct(c.get("p")),
                    "position": text(c.get("position")),
                    "range95": f"{pct(c.get('lower95'))} to {pct(c.get('upper95'))}",
                }
                for c in funnel.get("coders") or []
                if text(c.get("position")) != "within"
            ],
        }
    coders = list(trend.get("coders") or [])
    comparability = trend.get("comparability") or {}
    differences = [
        {
            "setting": text(d.get("setting")),
            "by_period": [
                {"period": k, "value": text(v)} for k, v in (d.get("values") or {}).items()
            ],
        }
        for d in comparability.get("differences") or []
    ]
    schedule = [v for v in (_next_audit(c) for c in coders) if v is not None]
    return {
        "doc": {
            "title": "Audit program trend",
            "author": "audit-kit",
            "subject": f"Trend of {len(periods)} audits",
            "rendered_at": rendered_at,
        },
        "audit": {
            "id": f"trend of {len(periods)} audits",
            "findings_sha256": text(trend.get("inputs_sha256")),
            "tool_version": text(trend.get("tool_version")),
        },
        "trend": {
            "inputs_sha256": text(trend.get("inputs_sha256")),
            "made_at": text(trend.get("made_at")),
            "first": labels[0] if labels else "",
            "span": _span(periods),
            "latest": labels[-1] if labels else "",
            "notes": [text(n) for n in trend.get("notes") or []],
        },
        "periods": [
            {
                "number": i + 1,
                "period": text(p.get("period")),
                "audit": text(p.get("audit")),
                "name": text(p.get("name")),
                "status": text(p.get("status")),
                "placed_by": text(p.get("placed_by")),
                "design": text(p.get("design")),
                "size": text(p.get("sample_size")),
                "units": count(p.get("units_scored")),
                "target": pct(p.get("target_accuracy"), 0),
                "confidence": conf(p.get("confidence")),
                "verified": text(p.get("verified")),
            }
            for i, p in enumerate(periods)
        ],
        "latest": {"period": text(latest.get("period")), "audit": text(latest.get("audit"))},
        "comparable": bool(comparability.get("same_design_and_targets")),
        "differences": differences,
        "comparability_notes": [text(n) for n in comparability.get("notes") or []],
        "overall": overall,
        "p_chart": {
            "svg": p_chart_svg,
            "rows": chart_rows,
            "center": pct(center),
            "left_out": [text(x) for x in chart.get("left_out") or []],
            "flagged": [r["period"] for r in chart_rows if r["flag"]],
        },
        "funnel": funnel_view,
        "measure": measure.replace("_", " "),
        "labels": labels,
        "coder_rows": _matrix(coders, "coder", labels, measure),
        "provider_rows": _matrix(trend.get("providers") or [], "provider", labels, measure),
        "auditor_rows": _matrix(trend.get("auditors") or [], "auditor", labels, measure),
        "multiples": _multiples(coders, labels, measure, target),
        "target": pct(target, 0) if target is not None else None,
        "rules": _rules_view(trend.get("cadence") or {}),
        "schedule": schedule,
    }


def trend_pdf_bytes(
    trend: Mapping[str, Any],
    *,
    json_bytes: bytes,
    template_dir: Path | None = None,
    rendered_at: str | None = None,
) -> bytes:
    """Render trend.pdf (PDF/A-3b, trend.json attached) from a trend.json document."""
    roots = tuple(str(r) for r in template_roots(template_dir))
    context = trend_context(trend, rendered_at=rendered_at or text(trend.get("made_at")))
    job = RenderJob(
        output="trend.pdf",
        html=render_html("trend.html", context, roots),
        roots=roots,
        attachment=(
            "trend.json",
            json_bytes,
            "Every number of this trend report (audit-kit trend.json)",
        ),
    )
    return render_job(job).pdf
