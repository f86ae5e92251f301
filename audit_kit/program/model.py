"""The trend model: what ``audit-kit trend`` computes across audits, and its trend.json form.

Stable keys of trend.json (docs/program.md): ``periods`` (``{period, audit, status}`` and
more), ``coders`` (``{coder, periods: [{period, units_scored, record_accuracy, code_accuracy,
verdict}], next_audit: {date, kind, rule}}``), ``overall`` (one entry per period) and
``p_chart`` (``center`` and ``periods``: ``{period, p, n, lower, upper, out_of_control}``). Further
keys (providers, auditors, funnel, comparability, cadence) are added beside them, never in
their place. A group absent from a period has no entry for it and is listed in ``absent``: it is
never shown as 0%.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Comparability",
    "Difference",
    "Funnel",
    "FunnelCurvePoint",
    "FunnelPoint",
    "GroupPeriod",
    "GroupTrend",
    "Interval",
    "NextAudit",
    "PChartPeriod",
    "PChartView",
    "Period",
    "Trend",
]

#: The version of the trend.json layout; bumped only when a stable key changes meaning.
TREND_FORMAT = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """An accuracy with its limits as results.json gives it (``se``/``one_sided_lower`` if any)."""

    value: float | None
    lower: float | None
    upper: float | None
    confidence: float | None
    method: str | None
    se: float | None = None
    one_sided_lower: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "confidence": self.confidence,
            "method": self.method,
            "se": self.se,
            "one_sided_lower": self.one_sided_lower,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """One audit as a period of the program."""

    period: str
    audit: str
    status: str
    name: str
    audit_dir: str
    start: str | None
    end: str | None
    sampling_date: str | None
    placed_by: str  # "plan period" | "sampling date"
    scored_at: str | None
    target_accuracy: float | None
    confidence: float | None
    design: str
    sample_size: str
    units_scored: int
    verified: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "audit": self.audit,
            "status": self.status,
            "name": self.name,
            "audit_dir": self.audit_dir,
            "start": self.start,
            "end": self.end,
            "sampling_date": self.sampling_date,
            "placed_by": self.placed_by,
            "scored_at": self.scored_at,
            "target_accuracy": self.target_accuracy,
            "confidence": self.confidence,
            "design": self.design,
            "sample_size": self.sample_size,
            "units_scored": self.units_scored,
            "verified": self.verified,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupPeriod:
    """One group (coder, provider, auditor, or the whole audit) in one period."""

    period: str
    audit: str
    units_scored: int
    units_with_error: int
    record_accuracy: Interval | None
    code_accuracy: Interval | None
    verdict: str | None
    record_verdict: str | None
    target_accuracy: float | None
    top_categories: tuple[tuple[str, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "audit": self.audit,
            "units_scored": self.units_scored,
            "units_with_error": self.units_with_error,
            "record_accuracy": None
            if self.record_accuracy is None
            else self.record_accuracy.to_dict(),
            "code_accuracy": None if self.code_accuracy is None else self.code_accuracy.to_dict(),
            "verdict": self.verdict,
            "record_verdict": self.record_verdict,
            "target_accuracy": self.target_accuracy,
            "top_categories": [{"category": c, "units": n} for c, n in self.top_categories],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class NextAudit:
    """When a coder is audited next, of which kind, and the rule that decided it."""

    date: str
    kind: str
    rule: str
    measure: str
    lower: float | None
    threshold: float | None
    months: int
    counted_from: str
    based_on_period: str
    new_coder: bool
    in_latest_period: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "kind": self.kind,
            "rule": self.rule,
            "measure": self.measure,
            "lower": self.lower,
            "threshold": self.threshold,
            "months": self.months,
            "counted_from": self.counted_from,
            "based_on_period": self.based_on_period,
            "new_coder": self.new_coder,
            "in_latest_period": self.in_latest_period,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupTrend:
    """One coder (provider, auditor) over the periods it appears in."""

    key: str  # "coder" | "provider" | "auditor"
    name: str
    periods: tuple[GroupPeriod, ...]
    absent: tuple[str, ...]
    first_seen: str
    last_seen: str
    next_audit: NextAudit | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            self.key: self.name,
            "periods": [p.to_dict() for p in self.periods],
            "absent": list(self.absent),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }
        if self.key == "coder":
            out["next_audit"] = None if self.next_audit is None else self.next_audit.to_dict()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class PChartPeriod:
    period: str
    p: float
    n: int
    errors: int
    lower: float
    upper: float
    out_of_control: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "p": self.p,
            "n": self.n,
            "errors": self.errors,
            "lower": self.lower,
            "upper": self.upper,
            "out_of_control": self.out_of_control,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PChartView:
    """The p-chart of the record error rate (units with an error / units scored) per period."""

    center: float | None
    sigmas: float
    periods: tuple[PChartPeriod, ...]
    left_out: tuple[str, ...]  # periods without a scored unit

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure": "record error rate (units with at least one error / units scored)",
            "center": self.center,
            "sigmas": self.sigmas,
            "periods": [p.to_dict() for p in self.periods],
            "left_out": list(self.left_out),
            "method": "p-chart, stepped limits p-bar +/- 3 sqrt(p-bar (1 - p-bar) / n_t), "
            "clamped to [0, 1] (Montgomery, Introduction to Statistical Quality Control, 7.2)",
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FunnelPoint:
    coder: str
    n: int
    errors: int
    p: float
    lower95: float
    upper95: float
    lower998: float
    upper998: float
    position: str  # within | above 95% | above 99.8% | below 95% | below 99.8%

    def to_dict(self) -> dict[str, Any]:
        return {
            "coder": self.coder,
            "n": self.n,
            "errors": self.errors,
            "p": self.p,
            "lower95": self.lower95,
            "upper95": self.upper95,
            "lower998": self.lower998,
            "upper998": self.upper998,
            "position": self.position,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FunnelCurvePoint:
    n: int
    lower95: float
    upper95: float
    lower998: float
    upper998: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "lower95": self.lower95,
            "upper95": self.upper95,
            "lower998": self.lower998,
            "upper998": self.upper998,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Funnel:
    """Coders of the latest period against exact binomial limits around the period's rate."""

    period: str
    target: float | None
    coders: tuple[FunnelPoint, ...]
    curve: tuple[FunnelCurvePoint, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "measure": "record error rate",
            "target": self.target,
            "coders": [c.to_dict() for c in self.coders],
            "curve": [c.to_dict() for c in self.curve],
            "method": "exact binomial limits (95% and 99.8%) around the period's overall rate, "
            "with Spiegelhalter's interpolation (Statistics in Medicine 2005; 24:1185)",
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    setting: str
    values: tuple[tuple[str, str], ...]  # (period, value)

    def to_dict(self) -> dict[str, Any]:
        return {"setting": self.setting, "values": {p: v for p, v in self.values}}


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparability:
    """What differs between the audits compared (design, size, target, confidence, scoring)."""

    differences: tuple[Difference, ...]
    notes: tuple[str, ...]

    @property
    def comparable(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "same_design_and_targets": self.comparable,
            "differences": [d.to_dict() for d in self.differences],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Trend:
    """Everything ``audit-kit trend`` writes; :meth:`to_dict` is trend.json."""

    tool_version: str
    made_at: str
    inputs_sha256: str
    periods: tuple[Period, ...]
    overall: tuple[GroupPeriod, ...]
    coders: tuple[GroupTrend, ...]
    providers: tuple[GroupTrend, ...]
    auditors: tuple[GroupTrend, ...]
    p_chart: PChartView
    funnel: Funnel | None
    comparability: Comparability
    cadence: Mapping[str, Any]
    notes: tuple[str, ...]

    @property
    def latest(self) -> Period:
        return self.periods[-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": TREND_FORMAT,
            "tool_version": self.tool_version,
            "made_at": self.made_at,
            "inputs_sha256": self.inputs_sha256,
            "periods": [p.to_dict() for p in self.periods],
            "overall": [o.to_dict() for o in self.overall],
            "coders": [c.to_dict() for c in self.coders],
            "providers": [p.to_dict() for p in self.providers],
            "auditors": [a.to_dict() for a in self.auditors],
            "p_chart": self.p_chart.to_dict(),
            "funnel": None if self.funnel is None else self.funnel.to_dict(),
            "comparability": self.comparability.to_dict(),
            "cadence": dict(self.cadence),
            "notes": list(self.notes),
        }
