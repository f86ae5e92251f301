"""Extrapolate the sample differences to the universe (docs/methods.md sections 3, 3.4 and 7.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from audit_kit.scoring._units import ScoredUnit, ScoringContext
from audit_kit.scoring.financial import CENT
from audit_kit.stats import (
    AttributeStratum,
    PaidSteps,
    RobustBound,
    VariableLimit,
    VariableMeasure,
    VariableStratum,
    appraise_attribute,
    appraise_attribute_stratified,
    appraise_variable,
    appraise_variable_stratified,
    demand_amount,
    demand_reason,
    kaplan_wald_lower_bound,
    left_skew_flag,
    minimum_sum_lower_bound,
)

_MEASURES = {"net": "difference", "overpayments_only": "overpayment", "gross": "gross"}
Netting = Literal["net", "gross", "overpayments_only"]


def netted(difference: float, netting: Netting) -> float:
    """The value a difference contributes to the estimate under the plan's netting."""
    if netting == "overpayments_only":
        return max(difference, 0.0)
    if netting == "gross":
        return abs(difference)
    return difference


@dataclass(frozen=True, slots=True, kw_only=True)
class Extrapolation:
    """The overall extrapolation (None when it cannot be made), one per stratum, and why not."""

    overall: dict[str, Any] | None
    strata: dict[str, dict[str, Any]]
    notes: tuple[str, ...] = ()


def _entry(
    *,
    netting: Netting,
    demand_rule: str,
    population: int,
    sample: int,
    point_estimate: float,
    se_total: float,
    limits: Mapping[str, VariableLimit],
    rule_used: str,
    skewness: float | None,
    error_rate: dict[str, Any],
    appraisal: dict[str, Any],
) -> dict[str, Any]:
    amount = demand_amount(point_estimate, limits, demand_rule)
    reason = demand_reason(demand_rule)
    if amount <= 0:
        reason += (
            f" That amount ({amount:,.2f}) is not positive: there is no overpayment to demand "
            "at this confidence, so the demand amount is 0."
        )
        amount = 0.0
    error_rate["definition"] = "units with a payment difference"
    return {
        "measure": _MEASURES[netting],
        "netting": netting,
        "population": population,
        "sample": sample,
        "point_estimate": point_estimate,
        "se_total": se_total,
        "limits": {k: v.to_dict() for k, v in limits.items()},
        "one_sided_90_lower": limits["80"].lower,
        "two_sided_90_lower": limits["90"].lower,
        "demand_rule": demand_rule,
        "demand_amount": amount,
        "demand_reason": reason,
        "critical_value_rule": rule_used,
        "skewness": skewness,
        "error_rate": error_rate,
        "appraisal": appraisal,
    }


#: The one-sided confidence of the bound each demand rule takes.
_RULE_CONFIDENCE = {"cms_one_sided_90": 0.90, "oig_two_sided_90": 0.95, "point_estimate": 0.90}
_ROBUST_NAMES = {"minimum_sum": "minimum-sum", "kaplan_wald": "Kaplan-Wald"}
_ASSUMPTIONS = {
    "kaplan_wald": "overpayments >= 0 (underpayments as 0), drawn without replacement, values "
    "in draw order (Kaplan 1987; Stark); per stratum at 1 - alpha/H, summed (Bonferroni)",
    "minimum_sum": "every unit in error is overpaid by its whole paid amount (full denials); "
    "exact hypergeometric bound on the number in error, plus the smallest paid amounts of the "
    "frame (Edwards et al. 2003); per stratum at 1 - alpha/H, summed (Bonferroni)",
}


def robust_bound(
    method: str,
    overpayments: Mapping[str, Sequence[float]],
    populations: Mapping[str, int],
    *,
    confidence: float,
    paid: Mapping[str, Sequence[float | None]] | None = None,
    frame_paid: Mapping[str, PaidSteps] | None = None,
) -> tuple[RobustBound | None, list[str]]:
    """The plan's robust lower bound on the total overpayment, and notes on it.

    ``overpayments``: per stratum, the sampled overpayments (>= 0) **in draw order**;
    ``paid``: the same units' paid amounts (for the partial-overpayment check);
    ``frame_paid``: per stratum, the frame's paid amounts recorded at sampling (minimum-sum).
    A census stratum contributes its exact total; the others share alpha equally (Bonferroni).
    """
    notes: list[str] = []
    sampled = [h for h, v in overpayments.items() if v and len(v) < populations[h]]
    alpha_h = (1.0 - confidence) / max(1, len(sampled))
    strata: list[dict[str, Any]] = []
    total = 0.0
    for name, vals in overpayments.items():
        if not vals:
            continue
        big_n = int(populations[name])
        if name not in sampled:
            bound = float(sum(vals))
        elif method == "kaplan_wald":
            bound = kaplan_wald_lower_bound(vals, big_n, confidence=1.0 - alpha_h)
        else:
            steps = None if frame_paid is None else frame_paid.get(name)
            if steps is None:
                notes.append(
                    f"No minimum-sum bound: sampling.json has no paid amounts of stratum {name}'s "
                    "frame (set financial.robust_bound: minimum_sum in the plan before `sample`)."
                )
                return None, notes
            bound = minimum_sum_lower_bound(vals, big_n, steps, confidence=1.0 - alpha_h)
            amounts = [] if paid is None else list(paid.get(name, ()))
            partial = sum(
                1
                for v, p in zip(vals, amounts, strict=False)
                if v > 0 and p is not None and v < 0.95 * p
            )
            if partial:
                notes.append(
                    f"Minimum-sum bound, stratum {name}: {partial} sampled overpayment(s) are "
                    "partial, not full denials; the bound's guarantee assumes full denials "
                    "(use robust_bound: kaplan_wald for partial overpayments)."
                )
        strata.append(
            {
                "stratum": name,
                "population": big_n,
                "sample": len(vals),
                "confidence": 1.0 - alpha_h if name in sampled else 1.0,
                "lower": bound,
                "census": name not in sampled,
            }
        )
        total += bound
    return (
        RobustBound(
            method=_ROBUST_NAMES[method],
            confidence=confidence,
            lower=total,
            population=sum(int(populations[h]) for h in overpayments if overpayments[h]),
            sample=sum(len(v) for v in overpayments.values()),
            strata=tuple(strata),
            assumption=_ASSUMPTIONS[method],
        ),
        notes,
    )


def _with_robust(
    entry: dict[str, Any],
    bound: RobustBound | None,
    *,
    method: str,
    demand_rule: str,
) -> None:
    """Record the robust bound beside the t limit; with a robust method, the demand uses it."""
    entry["robust_bound"] = None if bound is None else bound.to_dict()
    entry["demand_bound"] = "t_limit"
    if bound is None or method == "none" or demand_rule == "point_estimate":
        return
    entry["t_limit_demand_amount"] = entry["demand_amount"]
    entry["demand_amount"] = max(0.0, bound.lower)
    entry["demand_bound"] = method
    entry["demand_reason"] = (
        f"Lower bound with guaranteed coverage ({bound.method}, one-sided "
        f"{bound.confidence:.0%}; the plan's financial.robust_bound): the true total "
        f"overpayment is at least this with {bound.confidence:.0%} confidence without relying "
        "on the central limit theorem. The RAT-STATS t limit of the demand rule is "
        f"{entry['t_limit_demand_amount']:,.2f}, printed beside it."
    )


def extrapolate(
    differences: Mapping[str, Sequence[float]],
    populations: Mapping[str, int],
    *,
    netting: Netting = "net",
    demand_rule: str = "cms_one_sided_90",
    critical_value_rule: str = "ratstats",
    stratified: bool | None = None,
    robust: str = "none",
    paid: Mapping[str, Sequence[float | None]] | None = None,
    frame_paid: Mapping[str, PaidSteps] | None = None,
) -> Extrapolation:
    """Project sampled payment differences (examined - audited) to the universe.

    ``differences``: per stratum, one value per scored unit; ``populations``: N_h per stratum
    (sampling.json). Values are netted (:func:`netted`), then appraised per stratum with
    ``stats.appraise_variable`` (t, n_h - 1 df) and combined with
    ``stats.appraise_variable_stratified`` under ``critical_value_rule`` (RAT-STATS: z); a
    one-stratum design (``stratified`` False) is the unrestricted appraisal itself. The rate of
    units with a payment difference is appraised as an attribute (exact for one stratum,
    stratified normal approximation otherwise). The demand rule (methods.md 3.4) picks the amount;
    a non-positive amount is no demand (0). A stratum without values makes the overall
    extrapolation impossible (a note says which).

    ``robust`` (the plan's ``financial.robust_bound``): ``kaplan_wald`` or ``minimum_sum`` adds
    that lower bound on the total overpayment (:func:`robust_bound`; ``differences`` must then
    be in draw order, ``frame_paid`` given for minimum-sum) beside the t limit, and the demand
    uses it (``demand_bound`` says which was used). A sample that looks left-skewed for the
    t limit (mostly full denials of similar amounts; ``paid`` given) is flagged in the notes.
    """
    is_stratified = len(populations) > 1 if stratified is None else stratified
    values = {name: [netted(d, netting) for d in differences.get(name, ())] for name in populations}
    errors = {
        name: sum(1 for d in differences.get(name, ()) if abs(d) >= CENT) for name in populations
    }
    measures: dict[str, VariableMeasure] = {}
    per_stratum: dict[str, dict[str, Any]] = {}
    for name, vals in values.items():
        if not vals:
            continue
        m = appraise_variable(vals, int(populations[name]))
        measures[name] = m
        per_stratum[name] = _entry(
            netting=netting,
            demand_rule=demand_rule,
            population=m.population,
            sample=m.sample,
            point_estimate=m.point_estimate,
            se_total=m.se_total,
            limits=m.limits,
            rule_used="t (n-1 degrees of freedom)",
            skewness=m.skewness,
            error_rate=appraise_attribute(m.population, m.sample, errors[name]).to_dict(),
            appraisal=m.to_dict(),
        )
    flags = tuple(
        f"Extrapolation, stratum {name}: {note.replace('_', ' ')}."
        for name, m in measures.items()
        for note in m.notes
        if note == "single_unit"
    )
    overpaid = {name: [max(d, 0.0) for d in differences.get(name, ())] for name in populations}
    skew = _skew_flags(overpaid, paid)
    bound, robust_notes = (
        robust_bound(
            robust,
            overpaid,
            populations,
            confidence=_RULE_CONFIDENCE.get(demand_rule, 0.90),
            paid=paid,
            frame_paid=frame_paid,
        )
        if robust != "none"
        else (None, [])
    )
    if (
        robust != "none"
        and netting == "net"
        and any(d < 0 for vals in differences.values() for d in vals)
    ):
        robust_notes.append(
            "The robust bound covers the overpayments (underpayments as 0), while the plan nets "
            "underpayments: the demand stays on the RAT-STATS t limit of the net differences."
        )
        bound_for_demand = None
    else:
        bound_for_demand = bound
    flags = (*flags, *skew, *robust_notes)
    empty = [name for name, vals in values.items() if not vals]
    if empty:
        note = (
            "No overall extrapolation: no unit is scored yet in stratum "
            + ", ".join(empty)
            + "; collect and score again when every stratum has reviewed units."
        )
        return Extrapolation(overall=None, strata=per_stratum, notes=(*flags, note))
    if not is_stratified and len(measures) == 1:
        (only,) = per_stratum.values()
        _with_robust(only, bound_for_demand, method=robust, demand_rule=demand_rule)
        only["left_skew"] = skew
        if bound is not None and bound_for_demand is None:
            only["robust_bound"] = bound.to_dict()
        return Extrapolation(overall=only, strata=per_stratum, notes=flags)
    combined = appraise_variable_stratified(
        [
            VariableStratum(name=n, population=m.population, values=values[n])
            for n, m in measures.items()
        ],
        rule=critical_value_rule,
    )
    rate = appraise_attribute_stratified(
        [
            AttributeStratum(name=n, population=m.population, sample=m.sample, errors=errors[n])
            for n, m in measures.items()
        ]
    ).to_dict()
    overall = _entry(
        netting=netting,
        demand_rule=demand_rule,
        population=combined.population,
        sample=combined.sample,
        point_estimate=combined.point_estimate,
        se_total=combined.se_total,
        limits=combined.limits,
        rule_used=str(combined.rule),
        skewness=None,
        error_rate=rate,
        appraisal=combined.overall_dict(),
    )
    overall["strata_skewness"] = {n: m.skewness for n, m in measures.items()}
    _with_robust(overall, bound_for_demand, method=robust, demand_rule=demand_rule)
    overall["left_skew"] = skew
    if bound is not None and bound_for_demand is None:
        overall["robust_bound"] = bound.to_dict()
    return Extrapolation(overall=overall, strata=per_stratum, notes=flags)


def _skew_flags(
    overpaid: Mapping[str, Sequence[float]], paid: Mapping[str, Sequence[float | None]] | None
) -> list[str]:
    """The left-skew warning for the t limit, per stratum (needs the paid amounts)."""
    if paid is None:
        return []
    out = []
    for name, vals in overpaid.items():
        amounts = list(paid.get(name, ()))
        pairs = [(v, p) for v, p in zip(vals, amounts, strict=False) if p is not None]
        why = left_skew_flag([v for v, _ in pairs], [p for _, p in pairs]) if pairs else None
        if why:
            out.append(f"Extrapolation, stratum {name}: {why}")
    return out


def extrapolate_scored(
    scored: Sequence[ScoredUnit], ctx: ScoringContext
) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
    fin = ctx.plan.financial
    if not fin.extrapolate:
        ctx.notes.append(
            "No extrapolation: the plan says financial.extrapolate: false (a probe sample)."
        )
        return None, {}
    if not ctx.strata:
        ctx.notes.append("No extrapolation: sampling.json lists no strata with populations.")
        return None, {}
    differences: dict[str, list[float]] = {name: [] for name in ctx.strata}
    paid: dict[str, list[float | None]] = {name: [] for name in ctx.strata}
    # Draw order (sample.csv selection_order): the Kaplan-Wald bound needs it.
    in_order = sorted(
        scored, key=lambda u: (u.selection_order is None, u.selection_order or 0, u.unit_id)
    )
    for u in in_order:
        if u.amount is not None:
            differences[u.stratum].append(u.amount.difference)
            paid[u.stratum].append(u.amount.examined)
    result = extrapolate(
        differences,
        {name: int(info["population"]) for name, info in ctx.strata.items()},
        netting=fin.netting,
        demand_rule=ctx.plan.effective_demand_rule,
        critical_value_rule=fin.critical_value_rule,
        stratified=ctx.stratified,
        robust=fin.robust_bound,
        paid=paid,
        frame_paid=ctx.frame_paid,
    )
    ctx.notes.extend(result.notes)
    return result.overall, result.strata
