"""Accuracy per group (record, DRG, financial, code accuracy) with limits and a verdict.

Every estimate goes through the sampling design (docs/methods.md): the overall figure is the
stratified ratio estimator, a stratum's is its own simple random sample, and a group that cuts
across strata (providers, auditors, settings, coders in a design not stratified by coder) is a
domain of the whole design (:func:`audit_kit.stats.design_accuracy`). The limits are the
Korn-Graubard beta interval at the design effective sample size; record accuracy keeps the
RAT-STATS rules where RAT-STATS has one (the exact hypergeometric limits of a simple design or
of one whole stratum, the stratified attribute appraisal of the overall share).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scipy import special

from audit_kit.scoring._units import UNCATEGORISED, ScoredUnit, ScoringContext, confidence_key
from audit_kit.scoring.financial import totals
from audit_kit.stats import (
    AccuracyInterval,
    AttributeStratum,
    accuracy_interval,
    appraise_attribute_stratified,
    design_accuracy,
    one_sided_level,
    proportion_interval,
)


def overall_population(ctx: ScoringContext, sampling: Mapping[str, Any]) -> int | None:
    if ctx.strata:
        return sum(int(s["population"]) for s in ctx.strata.values())
    size = sampling.get("frame", {}).get("size")
    return int(size) if size else None


def _interval(
    value: float,
    lower: float,
    upper: float,
    confidence: float,
    method: str,
    *,
    se: float | None,
    one_sided: tuple[float, float] | None,
) -> dict[str, Any]:
    """One accuracy block of results.json (docs/architecture.md)."""
    return {
        "value": value,
        "lower": lower,
        "upper": upper,
        "confidence": confidence,
        "method": method,
        "se": se,
        "one_sided_lower": None if one_sided is None else one_sided[0],
        "one_sided_upper": None if one_sided is None else one_sided[1],
    }


def _from_estimate(est: AccuracyInterval) -> dict[str, Any]:
    level = one_sided_level(est.confidence)
    return _interval(
        est.value,
        est.lower,
        est.upper,
        est.confidence,
        est.method,
        se=est.se,
        one_sided=est.limits(level) if level > 0 else None,
    )


def _populations(ctx: ScoringContext, units: Sequence[ScoredUnit]) -> dict[str, int] | None:
    """N_h of every stratum the units are in, or None when the record lacks one."""
    out: dict[str, int] = {}
    for u in units:
        info = ctx.strata.get(u.stratum)
        if info is None:
            return None
        out[u.stratum] = int(info["population"])
    return out


def _design_estimate(
    design: Sequence[ScoredUnit],
    members: Sequence[ScoredUnit],
    counts: Callable[[ScoredUnit], tuple[float, float] | None],
    ctx: ScoringContext,
) -> AccuracyInterval | None:
    """The ratio sum y / sum x of ``members``, a domain of the ``design`` units."""
    inside = {u.unit_id for u in members}
    rows = [(u, c) for u in design if (c := counts(u)) is not None]
    if not any(u.unit_id in inside and c[1] > 0 for u, c in rows):
        return None
    populations = _populations(ctx, [u for u, _ in rows])
    if populations is None:  # no N_h recorded: the members as a simple random sample
        mine = [c for u, c in rows if u.unit_id in inside]
        return accuracy_interval(
            [y for y, _ in mine], [x for _, x in mine], confidence=ctx.confidence
        )
    whole = len(inside) == len(rows) and all(u.unit_id in inside for u, _ in rows)
    return design_accuracy(
        [c[0] for _, c in rows],
        [c[1] for _, c in rows],
        strata=[u.stratum for u, _ in rows],
        populations=populations,
        confidence=ctx.confidence,
        domain=None if whole else [u.unit_id in inside for u, _ in rows],
    )


def _one_whole_stratum(
    members: Sequence[ScoredUnit], design: Sequence[ScoredUnit], ctx: ScoringContext
) -> int | None:
    """N_h when the members are exactly the scored units of one stratum, else None."""
    strata = {u.stratum for u in members}
    if len(strata) != 1:
        return None
    (stratum,) = strata
    whole = {u.unit_id for u in design if u.stratum == stratum}
    if whole != {u.unit_id for u in members} or stratum not in ctx.strata:
        return None
    return int(ctx.strata[stratum]["population"])


def _share(
    units: Sequence[ScoredUnit],
    ok: Callable[[ScoredUnit], bool | None],
    ctx: ScoringContext,
    *,
    design: Sequence[ScoredUnit],
    overall: bool,
    population: int | None = None,
) -> dict[str, Any] | None:
    """Share of units for which ``ok`` is True (None: not applicable), with limits.

    RAT-STATS' own rules where they apply: the stratified attribute appraisal for the overall
    share of a stratified design, the exact hypergeometric limits for a simple design's overall
    share or one whole stratum; any other group is a domain of the design.
    """
    judged = [(u, flag) for u in units if (flag := ok(u)) is not None]
    if not judged:
        return None
    level = one_sided_level(ctx.confidence)
    if overall and ctx.stratified and ctx.strata:
        counts: dict[str, list[int]] = {}
        for u, flag in judged:
            counts.setdefault(u.stratum, [0, 0])
            counts[u.stratum][0] += 1
            counts[u.stratum][1] += int(not flag)
        appraisal = appraise_attribute_stratified(
            [
                AttributeStratum(
                    name=name, population=int(ctx.strata[name]["population"]), sample=n, errors=x
                )
                for name, (n, x) in counts.items()
            ]
        )
        limit = appraisal.limits[confidence_key(ctx.confidence)]
        value, se = 1.0 - appraisal.rate, appraisal.se_rate
        z = float(special.ndtri(ctx.confidence))  # one-sided C: z at C, as RAT-STATS' z rule
        return _interval(
            value,
            1.0 - float(limit.upper_rate or 0.0),
            1.0 - float(limit.lower_rate or 0.0),
            ctx.confidence,
            "stratified attribute appraisal, normal approximation with z (RAT-STATS)",
            se=se,
            one_sided=(max(0.0, value - z * se), min(1.0, value + z * se)),
        )
    whole = _one_whole_stratum(units, design, ctx)
    if whole is None and overall and not ctx.stratified:
        whole = population
    if whole is not None:
        population = whole
        good = sum(1 for _, flag in judged if flag)
        est = proportion_interval(good, len(judged), ctx.confidence, population=population)
        side = (
            proportion_interval(good, len(judged), level, population=population)
            if level > 0
            else None
        )
        return _interval(
            est.value,
            est.lower,
            est.upper,
            ctx.confidence,
            est.method,
            se=est.se,
            one_sided=None if side is None else (side.lower, side.upper),
        )

    def counts_of(u: ScoredUnit) -> tuple[float, float] | None:
        flag = ok(u)
        return None if flag is None else (float(flag), 1.0)

    est_d = _design_estimate(design, units, counts_of, ctx)
    return None if est_d is None else _from_estimate(est_d)


def _code_counts_of(u: ScoredUnit) -> tuple[float, float] | None:
    c = u.comparison
    if c is None:
        return None
    return float(c.correct), float(c.correct + c.weighted_errors)


def _code_accuracy(
    units: Sequence[ScoredUnit], ctx: ScoringContext, *, design: Sequence[ScoredUnit]
) -> dict[str, Any] | None:
    """Code accuracy of ``units`` through the design (a domain unless they are all of it)."""
    est = _design_estimate(design, units, _code_counts_of, ctx)
    return None if est is None else _from_estimate(est)


def accuracy_verdict(interval: Mapping[str, Any] | None, target: float) -> str:
    """Meets: at C confidence (one-sided) accuracy is at least the target; below: at most."""
    if interval is None:
        return "inconclusive"
    lower = interval.get("one_sided_lower")
    upper = interval.get("one_sided_upper")
    lower = interval["lower"] if lower is None else lower
    upper = interval["upper"] if upper is None else upper
    if lower >= target:
        return "meets"
    if upper < target:
        return "below"
    return "inconclusive"


def _code_counts(units: Sequence[ScoredUnit]) -> dict[str, Any]:
    comps = [u.comparison for u in units if u.comparison is not None]
    counts: dict[str, Any] = {
        "reviewed": sum(c.reviewed for c in comps),
        "correct": sum(c.correct for c in comps),
        "kept": sum(c.kept for c in comps),
        "added": sum(c.added for c in comps),
        "deleted": sum(c.deleted for c in comps),
        "revised": sum(c.revised for c in comps),
        "principal_dx_changed": sum(c.principal_dx_changed for c in comps),
        "sequencing_changed": sum(c.sequencing_changed for c in comps),
        "weighted_errors": sum(c.weighted_errors for c in comps),
    }
    by_type: dict[str, dict[str, Any]] = {}
    for comp in comps:
        for name, tc in comp.by_type.items():
            entry = by_type.setdefault(
                name,
                {k: 0 for k in ("kept", "added", "deleted", "revised", "sequencing_changed")}
                | {"observe_only": tc.observe_only},
            )
            entry["kept"] += len(tc.kept)
            entry["added"] += len(tc.added)
            entry["deleted"] += len(tc.deleted)
            entry["revised"] += len(tc.revised)
            entry["sequencing_changed"] += int(tc.sequencing_changed)
    counts["by_type"] = by_type
    return counts


def score_group(
    units: Sequence[ScoredUnit],
    ctx: ScoringContext,
    *,
    population: int | None,
    overall: bool = False,
    extrapolation: dict[str, Any] | None = None,
    design: Sequence[ScoredUnit] | None = None,
) -> dict[str, Any]:
    """One group's block of results.json; ``design``: every scored unit of the audit."""
    scored = [u for u in units if u.scored]
    everyone = scored if design is None else [u for u in design if u.scored]
    record = _share(
        scored,
        lambda u: not u.has_error,
        ctx,
        design=everyone,
        overall=overall,
        population=population,
    )
    drg = _share(
        scored,
        lambda u: (
            None
            if u.comparison is None or u.comparison.drg_changed is None
            else not u.comparison.drg_changed
        ),
        ctx,
        design=everyone,
        overall=overall,
        population=population,
    )
    financial = _share(
        scored,
        lambda u: None if u.amount is None else not u.payment_changed,
        ctx,
        design=everyone,
        overall=overall,
        population=population,
    )
    code = _code_accuracy(scored, ctx, design=everyone)
    money = totals(u.amount for u in scored if u.amount is not None)
    dollar = 1.0 - money["gross"] / money["examined"] if money["examined"] > 0 else None
    return {
        "units_reviewed": len(scored),
        "units_with_error": sum(1 for u in scored if u.has_error),
        "units_not_reviewed": sum(1 for u in units if not u.scored),
        "record_accuracy": record,
        "code_accuracy": code,
        "drg_accuracy": drg,
        "financial_accuracy": financial,
        "dollar_accuracy": dollar,
        "verdict": accuracy_verdict(code if code is not None else record, ctx.target),
        "record_verdict": accuracy_verdict(record, ctx.target),
        "codes": _code_counts(scored),
        "financial": money,
        "extrapolation": extrapolation,
        **(_hcc_fields(scored, ctx, design=everyone) if ctx.plan.financial.basis == "hcc" else {}),
    }


def _hcc_sets(u: ScoredUnit) -> tuple[set[str], set[str]] | None:
    a = u.amount
    if a is None or a.raf_submitted is None or a.raf_supported is None:
        return None
    return set(a.raf_submitted.hccs), set(a.raf_supported.hccs)


def _hcc_fields(
    units: Sequence[ScoredUnit], ctx: ScoringContext, *, design: Sequence[ScoredUnit]
) -> dict[str, Any]:
    """HCCs kept, deleted and added (after hierarchies) and the share of submitted HCCs kept."""
    kept = deleted = added = 0
    deleted_by: dict[str, int] = {}
    labels: dict[str, str] = {}
    raf_diffs: list[float] = []
    for u in units:
        sets = _hcc_sets(u)
        if sets is None:
            continue
        submitted, supported = sets
        a = u.amount
        assert a is not None and a.raf_submitted is not None and a.raf_supported is not None
        labels.update(a.raf_submitted.labels)
        kept += len(submitted & supported)
        deleted += len(submitted - supported)
        added += len(supported - submitted)
        for hcc in submitted - supported:
            deleted_by[hcc] = deleted_by.get(hcc, 0) + 1
        raf_diffs.append(a.raf_submitted.raf - a.raf_supported.raf)
    most = sorted(deleted_by.items(), key=lambda kv: (-kv[1], kv[0]))
    hccs = {
        "submitted": kept + deleted,
        "kept": kept,
        "deleted": deleted,
        "added": added,
        "most_deleted": [{"hcc": h, "label": labels.get(h, ""), "units": n} for h, n in most[:10]],
        "raf_difference_per_member": sum(raf_diffs) / len(raf_diffs) if raf_diffs else None,
    }
    est = _design_estimate(design, units, _hcc_counts_of, ctx)
    return {"hccs": hccs, "hcc_accuracy": None if est is None else _from_estimate(est)}


def _hcc_counts_of(u: ScoredUnit) -> tuple[float, float] | None:
    """(submitted HCCs the record supports, submitted HCCs) of one enrollee-year.

    HCC accuracy is a ratio over enrollee-years, estimated through the design like code
    accuracy (Korn-Graubard limits; docs/methods.md).
    """
    sets = _hcc_sets(u)
    if sets is None or not sets[0]:
        return None
    submitted, supported = sets
    return float(len(submitted & supported)), float(len(submitted))


def score_groups(
    returned: Sequence[ScoredUnit], attr: str, ctx: ScoringContext
) -> list[dict[str, Any]]:
    keys = sorted({k for u in returned if (k := getattr(u, attr)) is not None})
    if not keys:
        return []
    out = []
    labels = [
        *keys,
        *(["(not recorded)"] if any(getattr(u, attr) is None for u in returned) else []),
    ]
    for label in labels:
        key = None if label == "(not recorded)" else label
        members = [u for u in returned if getattr(u, attr) == key]
        strata = {u.stratum for u in members}
        population = None
        if len(strata) == 1:
            (stratum,) = strata
            whole = {u.unit_id for u in returned if u.stratum == stratum}
            if whole == {u.unit_id for u in members} and stratum in ctx.strata:
                population = int(ctx.strata[stratum]["population"])
        out.append(
            {
                attr: label,
                "population": population,
                **score_group(members, ctx, population=population, design=returned),
            }
        )
    return out


def category_table(scored: Sequence[ScoredUnit]) -> list[dict[str, Any]]:
    """Error categories, most frequent first (a Pareto table)."""
    errors = [u for u in scored if u.has_error]
    by_cat: dict[str, list[ScoredUnit]] = {}
    for u in errors:
        by_cat.setdefault(u.category or UNCATEGORISED, []).append(u)
    out = []
    cumulative = 0
    for name, members in sorted(by_cat.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        cumulative += len(members)
        money = totals(u.amount for u in members if u.amount is not None)
        out.append(
            {
                "category": name,
                "units": len(members),
                "share": len(members) / len(errors),
                "cumulative_share": cumulative / len(errors),
                "overpayment": money["overpayment"],
                "underpayment": money["underpayment"],
                "net": money["net"],
            }
        )
    return out
