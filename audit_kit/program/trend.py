"""Build the trend model from verified audits: groups per period, p-chart, funnel, cadence.

Every accuracy, limit and verdict is copied from the audit's results.json as scoring computed
it (nothing is re-estimated); what is computed here is what only exists across audits: the
p-chart of the record error rate, the funnel limits of the latest period, what differs between
the audits, and the next audit of each coder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from audit_kit._version import __version__
from audit_kit.folder.manifest import now_iso
from audit_kit.plan.program import DEFAULT_CADENCE, CadenceRules
from audit_kit.program._audits import ProgramAudit
from audit_kit.program.cadence import describe_rules, next_audit
from audit_kit.program.model import (
    Comparability,
    Difference,
    Funnel,
    FunnelCurvePoint,
    FunnelPoint,
    GroupPeriod,
    GroupTrend,
    Interval,
    PChartPeriod,
    PChartView,
    Period,
    Trend,
)
from audit_kit.stats.control import funnel_limits, p_chart

__all__ = ["build_trend"]

#: The group lists of results.json and the key naming each group.
GROUPS = (("coders", "coder"), ("providers", "provider"), ("auditors", "auditor"))
TOP_CATEGORIES = 3
FUNNEL_CURVE_POINTS = 40


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _count(value: Any) -> int:
    number = _number(value)
    return int(number) if number is not None else 0


def _interval(block: Any) -> Interval | None:
    if not isinstance(block, Mapping):
        return None
    confidence = _number(block.get("confidence"))
    return Interval(
        value=_number(block.get("value")),
        lower=_number(block.get("lower")),
        upper=_number(block.get("upper")),
        confidence=confidence,
        method=None if block.get("method") is None else str(block.get("method")),
        se=_number(block.get("se")),
        one_sided_lower=_number(block.get("one_sided_lower")),
    )


def _verdict(value: Any) -> str | None:
    return None if value is None else str(value)


def _top_categories(errors: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, int], ...]:
    counts = Counter(str(e.get("category") or "uncategorised") for e in errors)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(ranked[:TOP_CATEGORIES])


def _group_period(
    audit: ProgramAudit, group: Mapping[str, Any], errors: Iterable[Mapping[str, Any]]
) -> GroupPeriod:
    settings = audit.results.get("settings") or {}
    return GroupPeriod(
        period=audit.label,
        audit=audit.audit_id,
        units_scored=_count(group.get("units_reviewed")),
        units_with_error=_count(group.get("units_with_error")),
        record_accuracy=_interval(group.get("record_accuracy")),
        code_accuracy=_interval(group.get("code_accuracy")),
        verdict=_verdict(group.get("verdict")),
        record_verdict=_verdict(group.get("record_verdict")),
        target_accuracy=_number(settings.get("target_accuracy")),
        top_categories=_top_categories(errors),
    )


def _errors(audit: ProgramAudit) -> list[Mapping[str, Any]]:
    return [e for e in audit.results.get("errors") or [] if isinstance(e, Mapping)]


def _design(audit: ProgramAudit) -> tuple[str, str]:
    sampling = audit.sampling
    design = sampling.get("design")
    method = design.get("method") if isinstance(design, Mapping) else design
    by = design.get("strata", {}).get("by") if isinstance(design, Mapping) else None
    text = str(method or "unknown")
    if by:
        text += " by " + ", ".join(str(b) for b in by)
    size = sampling.get("sample_size")
    if isinstance(size, Mapping):
        rule = str(size.get("rule") or "")
        detail = size.get(rule) if rule else None
        size_text = f"{rule} {detail}" if detail is not None else rule
    else:
        size_text = "unknown"
    return text, size_text.strip() or "unknown"


def _status(audit: ProgramAudit) -> str:
    status = audit.results.get("status")
    if isinstance(status, str) and status:
        return status
    if isinstance(status, Mapping) and isinstance(status.get("state"), str):
        return str(status["state"])
    return "scored"


def _period(audit: ProgramAudit) -> Period:
    settings = audit.results.get("settings") or {}
    design, size = _design(audit)
    return Period(
        period=audit.label,
        audit=audit.audit_id,
        status=_status(audit),
        name=audit.name,
        audit_dir=str(audit.path),
        start=audit.start.isoformat() if audit.start else None,
        end=audit.end.isoformat() if audit.end else None,
        sampling_date=audit.sampling_date.isoformat() if audit.sampling_date else None,
        placed_by=audit.placed_by,
        scored_at=(audit.results.get("audit") or {}).get("scored_at"),
        target_accuracy=_number(settings.get("target_accuracy")),
        confidence=_number(settings.get("confidence")),
        design=design,
        sample_size=size,
        units_scored=_count((audit.results.get("overall") or {}).get("units_reviewed")),
        verified=f"{audit.files_checked} file hashes checked",
    )


def _groups(audits: Sequence[ProgramAudit], list_key: str, key: str) -> list[GroupTrend]:
    labels = [a.label for a in audits]
    found: dict[str, list[GroupPeriod]] = {}
    for audit in audits:
        errors = _errors(audit)
        for group in audit.results.get(list_key) or []:
            if not isinstance(group, Mapping) or group.get(key) is None:
                continue
            name = str(group[key])
            mine = [e for e in errors if str(e.get(key)) == name]
            found.setdefault(name, []).append(_group_period(audit, group, mine))
    out = []
    for name in sorted(found):
        periods = found[name]
        present = {p.period for p in periods}
        out.append(
            GroupTrend(
                key=key,
                name=name,
                periods=tuple(periods),
                absent=tuple(label for label in labels if label not in present),
                first_seen=periods[0].period,
                last_seen=periods[-1].period,
            )
        )
    return out


def _with_cadence(
    coders: list[GroupTrend], audits: Sequence[ProgramAudit], rules: CadenceRules
) -> list[GroupTrend]:
    by_label = {a.label: a for a in audits}
    latest = audits[-1].label
    out = []
    for coder in coders:
        last = coder.periods[-1]
        audit = by_label[last.period]
        counted_from = audit.counted_from or dt.date.today()
        decision = next_audit(
            rules,
            last,
            counted_from=counted_from,
            new_coder=len(audits) > 1 and coder.first_seen == latest,
            in_latest_period=last.period == latest,
        )
        out.append(
            GroupTrend(
                key=coder.key,
                name=coder.name,
                periods=coder.periods,
                absent=coder.absent,
                first_seen=coder.first_seen,
                last_seen=coder.last_seen,
                next_audit=decision,
            )
        )
    return out


def _p_chart(overall: Sequence[GroupPeriod]) -> PChartView:
    used = [o for o in overall if o.units_scored > 0]
    left_out = tuple(o.period for o in overall if o.units_scored <= 0)
    if not used:
        return PChartView(center=None, sigmas=3.0, periods=(), left_out=left_out)
    chart = p_chart([o.units_with_error for o in used], [o.units_scored for o in used])
    return PChartView(
        center=chart.center,
        sigmas=chart.sigmas,
        periods=tuple(
            PChartPeriod(
                period=o.period,
                p=pt.p,
                n=pt.n,
                errors=pt.errors,
                lower=pt.lower,
                upper=pt.upper,
                out_of_control=pt.out_of_control,
            )
            for o, pt in zip(used, chart.points, strict=True)
        ),
        left_out=left_out,
    )


def _position(p: float, lo95: float, hi95: float, lo998: float, hi998: float) -> str:
    if p > hi998:
        return "above 99.8%"
    if p > hi95:
        return "above 95%"
    if p < lo998:
        return "below 99.8%"
    if p < lo95:
        return "below 95%"
    return "within"


def _funnel(coders: Sequence[GroupTrend], latest: GroupPeriod) -> Funnel | None:
    points = [
        (c.name, p)
        for c in coders
        for p in c.periods
        if p.period == latest.period and p.units_scored > 0
    ]
    if not points or latest.units_scored <= 0:
        return None
    target = latest.units_with_error / latest.units_scored
    sizes = [p.units_scored for _, p in points]
    in95 = funnel_limits(target, sizes, coverage=0.95)
    in998 = funnel_limits(target, sizes, coverage=0.998)
    coder_points = []
    for (name, p), a, b in zip(points, in95, in998, strict=True):
        rate = p.units_with_error / p.units_scored
        coder_points.append(
            FunnelPoint(
                coder=name,
                n=p.units_scored,
                errors=p.units_with_error,
                p=rate,
                lower95=a.lower,
                upper95=a.upper,
                lower998=b.lower,
                upper998=b.upper,
                position=_position(rate, a.lower, a.upper, b.lower, b.upper),
            )
        )
    top = max(sizes)
    low = max(1, min(sizes) // 2)
    step = max(1, (top - low) // (FUNNEL_CURVE_POINTS - 1))
    grid = sorted(set(range(low, top + 1, step)) | {top})
    c95 = funnel_limits(target, grid, coverage=0.95)
    c998 = funnel_limits(target, grid, coverage=0.998)
    curve = tuple(
        FunnelCurvePoint(
            n=a.n, lower95=a.lower, upper95=a.upper, lower998=b.lower, upper998=b.upper
        )
        for a, b in zip(c95, c998, strict=True)
    )
    return Funnel(
        period=latest.period,
        target=target,
        coders=tuple(sorted(coder_points, key=lambda c: c.coder)),
        curve=curve,
    )


def _setting(audit: ProgramAudit, path: Sequence[str]) -> Any:
    value: Any = audit.results.get("settings") or {}
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _show(value: Any) -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_show(v)}" for k, v in sorted(value.items()))
    if isinstance(value, list | tuple):
        return ", ".join(_show(v) for v in value) or "none"
    return str(value)


def _comparability(audits: Sequence[ProgramAudit], periods: Sequence[Period]) -> Comparability:
    checks: list[tuple[str, list[str]]] = [
        ("design", [p.design for p in periods]),
        ("sample size rule", [p.sample_size for p in periods]),
        ("sampling unit", [_show(a.sampling.get("sampling_unit")) for a in audits]),
        ("target accuracy", [_show(_setting(a, ["target_accuracy"])) for a in audits]),
        ("confidence", [_show(_setting(a, ["confidence"])) for a in audits]),
        ("verdict measure", [_show(_setting(a, ["verdict_metric"])) for a in audits]),
        ("code error weights", [_show(_setting(a, ["weights"])) for a in audits]),
        ("codes observed only", [_show(_setting(a, ["observe_only"])) for a in audits]),
        (
            "record accuracy method",
            [
                _show(((a.results.get("overall") or {}).get("record_accuracy") or {}).get("method"))
                for a in audits
            ],
        ),
    ]
    differences = tuple(
        Difference(
            setting=name, values=tuple(zip([p.period for p in periods], values, strict=True))
        )
        for name, values in checks
        if len(set(values)) > 1
    )
    notes = []
    if differences:
        names = ", ".join(d.setting for d in differences)
        notes.append(
            f"The audits differ in {names}. Each period's accuracy, limits and verdict are as "
            "that audit computed them, against its own target and confidence; a change between "
            "periods may come from the difference in method as well as from the coding."
        )
    sizes = {p.units_scored for p in periods}
    if len(sizes) > 1:
        notes.append(
            "Sample sizes differ between periods, so the confidence intervals differ in width: "
            "compare the intervals, not only the point estimates."
        )
    return Comparability(differences=differences, notes=tuple(notes))


def build_trend(
    audits: Sequence[ProgramAudit],
    *,
    rules: CadenceRules | None = None,
    rules_source: str | None = None,
) -> Trend:
    """Build the trend of verified audits (ordered earliest first by :func:`read_audits`).

    ``rules`` (from ``--rules FILE``) win over the latest audit's plan ``cadence:``, which wins
    over :data:`~audit_kit.plan.program.DEFAULT_CADENCE`.
    """
    audits = sorted(audits, key=lambda a: a.order)
    if rules is not None:
        table, source = rules, rules_source or "--rules"
    elif audits[-1].cadence is not None:
        table, source = audits[-1].cadence, f"plan of {audits[-1].audit_id} (cadence:)"
    else:
        table, source = DEFAULT_CADENCE, "defaults (docs/plans.md)"
    periods = tuple(_period(a) for a in audits)
    overall = tuple(_group_period(a, a.results.get("overall") or {}, _errors(a)) for a in audits)
    coders = _with_cadence(_groups(audits, "coders", "coder"), audits, table)
    digest = hashlib.sha256(
        "".join(f"{a.audit_id}:{a.results_sha256}\n" for a in audits).encode()
    ).hexdigest()
    notes = [
        "A coder, provider or auditor absent from a period has no value for it (shown as "
        "absent, never as 0%).",
        "The p-chart and the funnel plot use the sample record error rate (units with at "
        "least one error / units scored), unweighted: they watch the process, they do not "
        "estimate a population rate.",
    ]
    if len(audits) == 1:
        notes.append("One audit only: there is no trend yet, and no coder counts as new.")
    return Trend(
        tool_version=__version__,
        made_at=now_iso(),
        inputs_sha256=digest,
        periods=periods,
        overall=overall,
        coders=tuple(coders),
        providers=tuple(_groups(audits, "providers", "provider")),
        auditors=tuple(_groups(audits, "auditors", "auditor")),
        p_chart=_p_chart(overall),
        funnel=_funnel(coders, overall[-1]),
        comparability=_comparability(audits, periods),
        cadence=describe_rules(table, source=source),
        notes=tuple(notes),
    )
