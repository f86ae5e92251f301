"""Accuracy per group (record, DRG, financial, code accuracy) with limits and a verdict."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from audit_kit.scoring._units import UNCATEGORISED, ScoredUnit, ScoringContext, confidence_key
from audit_kit.scoring.financial import totals
from audit_kit.stats import (
    AttributeStratum,
    appraise_attribute_stratified,
    clopper_pearson,
    proportion_interval,
    ratio_interval,
)


def overall_population(ctx: ScoringContext, sampling: Mapping[str, Any]) -> int | None:
    if ctx.strata:
        return sum(int(s["population"]) for s in ctx.strata.values())
    size = sampling.get("frame", {}).get("size")
    return int(size) if size else None


def _interval(
    value: float, lower: float, upper: float, confidence: float, method: str
) -> dict[str, Any]:
    return {
        "value": value,
        "lower": lower,
        "upper": upper,
        "confidence": confidence,
        "method": method,
    }


def _share(
    units: Sequence[ScoredUnit],
    ok: Callable[[ScoredUnit], bool | None],
    ctx: ScoringContext,
    *,
    population: int | None,
    stratified: bool,
) -> dict[str, Any] | None:
    """Share of units for which ``ok`` is True (None: not applicable), with exact limits."""
    judged = [(u, flag) for u in units if (flag := ok(u)) is not None]
    if not judged:
        return None
    if stratified:
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
        return _interval(
            1.0 - appraisal.rate,
            1.0 - float(limit.upper_rate or 0.0),
            1.0 - float(limit.lower_rate or 0.0),
            ctx.confidence,
            "stratified attribute appraisal, normal approximation with z (RAT-STATS)",
        )
    good = sum(1 for _, flag in judged if flag)
    est = proportion_interval(good, len(judged), ctx.confidence, population=population)
    return _interval(est.value, est.lower, est.upper, ctx.confidence, est.method)


def _code_accuracy(
    units: Sequence[ScoredUnit], ctx: ScoringContext, *, population: int | None
) -> dict[str, Any] | None:
    pairs = [
        (u.weight * c.correct, u.weight * (c.correct + c.weighted_errors))
        for u in units
        if (c := u.comparison) is not None
    ]
    if not pairs or sum(d for _, d in pairs) <= 0:
        return None
    est = ratio_interval(
        [y for y, _ in pairs], [x for _, x in pairs], ctx.confidence, population=population
    )
    method = est.method
    if ctx.stratified and len({u.stratum for u in units}) > 1:
        method += "; units weighted N_h/n_h, variance ignores the stratification"
    if est.se is not None and est.se == 0.0:
        # Every unit has the same ratio (typically: no errors at all). The linearised variance
        # is then 0 and the interval [R, R] would claim certainty from any sample size, so a
        # group of 2 error-free units would "meet" the target. Use the exact binomial
        # (Clopper-Pearson) limits of the unweighted code counts instead: conservative for
        # small groups, and what a reader expects for "x of y codes correct".
        comps = [u.comparison for u in units if u.comparison is not None]
        correct = round(sum(c.correct for c in comps))
        reviewed = max(round(sum(c.correct + c.weighted_errors for c in comps)), correct)
        if reviewed > 0:
            lower, upper = clopper_pearson(correct, reviewed, ctx.confidence)
            return _interval(
                est.value,
                min(lower, est.value),
                max(upper, est.value),
                ctx.confidence,
                "exact binomial (Clopper-Pearson) on code counts: every unit has the same "
                "accuracy, so the ratio estimator's variance is 0",
            )
    return _interval(est.value, est.lower, est.upper, ctx.confidence, method)


def _verdict(interval: Mapping[str, Any] | None, target: float) -> str:
    if interval is None:
        return "inconclusive"
    if interval["lower"] >= target:
        return "meets"
    if interval["upper"] < target:
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
) -> dict[str, Any]:
    scored = [u for u in units if u.scored]
    stratified = overall and ctx.stratified
    record = _share(
        scored, lambda u: not u.has_error, ctx, population=population, stratified=stratified
    )
    drg = _share(
        scored,
        lambda u: (
            None
            if u.comparison is None or u.comparison.drg_changed is None
            else not u.comparison.drg_changed
        ),
        ctx,
        population=population,
        stratified=stratified,
    )
    financial = _share(
        scored,
        lambda u: None if u.amount is None else not u.payment_changed,
        ctx,
        population=population,
        stratified=stratified,
    )
    code = _code_accuracy(scored, ctx, population=population)
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
        "verdict": _verdict(code if code is not None else record, ctx.target),
        "record_verdict": _verdict(record, ctx.target),
        "codes": _code_counts(scored),
        "financial": money,
        "extrapolation": extrapolation,
        **(
            _hcc_fields(scored, ctx, population=population)
            if ctx.plan.financial.basis == "hcc"
            else {}
        ),
    }


def _hcc_sets(u: ScoredUnit) -> tuple[set[str], set[str]] | None:
    a = u.amount
    if a is None or a.raf_submitted is None or a.raf_supported is None:
        return None
    return set(a.raf_submitted.hccs), set(a.raf_supported.hccs)


def _hcc_fields(
    units: Sequence[ScoredUnit], ctx: ScoringContext, *, population: int | None
) -> dict[str, Any]:
    """HCCs kept, deleted and added (after hierarchies) and the share of submitted HCCs kept."""
    kept = deleted = added = 0
    deleted_by: dict[str, int] = {}
    labels: dict[str, str] = {}
    pairs: list[tuple[float, float]] = []
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
        if submitted:
            pairs.append((u.weight * len(submitted & supported), u.weight * len(submitted)))
    most = sorted(deleted_by.items(), key=lambda kv: (-kv[1], kv[0]))
    hccs = {
        "submitted": kept + deleted,
        "kept": kept,
        "deleted": deleted,
        "added": added,
        "most_deleted": [{"hcc": h, "label": labels.get(h, ""), "units": n} for h, n in most[:10]],
        "raf_difference_per_member": sum(raf_diffs) / len(raf_diffs) if raf_diffs else None,
    }
    return {"hccs": hccs, "hcc_accuracy": _hcc_accuracy(pairs, ctx, population=population)}


def _hcc_accuracy(
    pairs: Sequence[tuple[float, float]], ctx: ScoringContext, *, population: int | None
) -> dict[str, Any] | None:
    """Share of submitted HCCs the records support: a ratio estimator over enrollee-years.

    The interval method is the code accuracy's (ratio estimator, exact binomial on the counts
    when every unit has the same ratio). Hook: when ``audit_kit.stats.accuracy_interval`` lands,
    this is where it replaces ``ratio_interval``.
    """
    if not pairs or sum(d for _, d in pairs) <= 0:
        return None
    est = ratio_interval(
        [y for y, _ in pairs], [x for _, x in pairs], ctx.confidence, population=population
    )
    if est.se is not None and est.se == 0.0:
        correct = round(sum(y for y, _ in pairs))
        total = max(round(sum(x for _, x in pairs)), correct)
        lower, upper = clopper_pearson(correct, total, ctx.confidence)
        return _interval(
            est.value,
            min(lower, est.value),
            max(upper, est.value),
            ctx.confidence,
            "exact binomial (Clopper-Pearson) on HCC counts: every unit has the same share",
        )
    return _interval(est.value, est.lower, est.upper, ctx.confidence, est.method)


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
                **score_group(members, ctx, population=population),
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
