"""Extrapolate the sample differences to the universe (docs/methods.md sections 3, 3.4 and 7.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from audit_kit.scoring._units import ScoredUnit, ScoringContext
from audit_kit.scoring.financial import CENT
from audit_kit.stats import (
    AttributeStratum,
    VariableLimit,
    VariableMeasure,
    VariableStratum,
    appraise_attribute,
    appraise_attribute_stratified,
    appraise_variable,
    appraise_variable_stratified,
    demand_amount,
    demand_reason,
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


def extrapolate(
    differences: Mapping[str, Sequence[float]],
    populations: Mapping[str, int],
    *,
    netting: Netting = "net",
    demand_rule: str = "cms_one_sided_90",
    critical_value_rule: str = "ratstats",
    stratified: bool | None = None,
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
    return Extrapolation(overall=overall, strata=per_stratum, notes=flags)


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
    for u in scored:
        if u.amount is not None:
            differences[u.stratum].append(u.amount.difference)
    result = extrapolate(
        differences,
        {name: int(info["population"]) for name, info in ctx.strata.items()},
        netting=fin.netting,
        demand_rule=ctx.plan.effective_demand_rule,
        critical_value_rule=fin.critical_value_rule,
        stratified=ctx.stratified,
    )
    ctx.notes.extend(result.notes)
    return result.overall, result.strata
