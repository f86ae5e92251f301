"""Score an audit: accuracy per group with confidence limits, financial impact, extrapolation.

``score_audit(audit_dir)`` reads ``plan.yaml``, ``sampling.json``, ``sample.csv`` and
``findings.csv`` through the audit folder (hash-checked), and writes ``results.json`` (structure
in docs/architecture.md) and ``results.xlsx`` in one transaction with a ``score`` event.

What is scored (SPEC section 7):

* units with status ``reviewed`` or ``record missing``; ``not reviewed`` units are excluded and
  counted; sampled units not yet returned count as outstanding in ``progress``;
* a unit **has an error** when the record is missing, a scored code change carries weight
  (:mod:`audit_kit.comparison`), the DRG changed (unless observe-only), the payment changed, or
  the auditor gave an error category;
* **record accuracy** = share of units without error. Exact limits: the hypergeometric rule of
  RAT-STATS with the group's universe count when the design fixes it (simple design, a stratum,
  or a group that is exactly one stratum, e.g. coders in a per-coder design), else
  Clopper-Pearson. The overall share of a stratified design is the stratified attribute
  appraisal (normal approximation with z, as RAT-STATS). DRG and financial accuracy likewise;
* **code accuracy** = sum correct / sum (correct + weighted errors), the ratio estimator with
  units as clusters (``stats.ratio_interval``; Cochran 1977 ch. 6); with a stratified design
  each unit carries its weight N_h/n_h (the variance then ignores the stratification, an
  approximation the method string states);
* the **verdict** compares the code accuracy interval with the target: meets (lower >= target),
  below (upper < target), inconclusive; record accuracy's verdict is given beside it;
* **extrapolation** (overall and per stratum): the differences, netted as the plan says
  (``net``: examined - audited; ``overpayments_only``: underpayments entered as 0;
  ``gross``: absolute differences), appraised per stratum with N_h from sampling.json
  (``stats.appraise_variable`` for a simple design, ``appraise_variable_stratified`` otherwise),
  with the demand rule applied and its reason (SPEC 6.4), and the attribute appraisal of the
  rate of units with a payment error. ``financial.extrapolate: false`` (probe) skips it.
* **CIA discovery** (``scoring.error_threshold``): net error rate = net overpayment / amount
  examined in the sample; at or above the threshold, the full-sample size from the discovery
  sample's overpayments (underpayments as 0) at 90% confidence and 25% precision.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import polars as pl
import yaml

from audit_kit._version import __version__
from audit_kit.audit import AuditFolder, now_iso
from audit_kit.codes import CptItem, normalize_code, parse_cpt, split_codes
from audit_kit.comparison import CodeSet, UnitComparison, compare_unit, resolve_weights
from audit_kit.errors import AuditError, InputError, IntegrityError, Problem
from audit_kit.financial import (
    CENT,
    FinancialInput,
    ReferenceFile,
    UnitAmount,
    compute_amounts,
    load_drg_weights,
    load_fee_schedule,
    resolve_reference,
    totals,
)
from audit_kit.plan import SamplingPlan, parse_plan
from audit_kit.stats import (
    AttributeStratum,
    VariableLimit,
    VariableMeasure,
    VariableStratum,
    appraise_attribute,
    appraise_attribute_stratified,
    appraise_variable,
    appraise_variable_stratified,
    cia_full_sample_size,
    clopper_pearson,
    demand_amount,
    demand_reason,
    proportion_interval,
    ratio_interval,
)
from audit_kit.universe import canonical_units

__all__ = [
    "STATUSES",
    "Extrapolation",
    "ScoredUnit",
    "extrapolate",
    "netted",
    "score_audit",
    "score_frames",
]

STATUSES = ("reviewed", "record missing", "not reviewed")
GROUPINGS = (("coders", "coder"), ("providers", "provider"), ("auditors", "auditor"))
UNCATEGORISED = "uncategorised"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoredUnit:
    """One returned unit with its comparison and amounts (no patient data)."""

    unit_id: str
    stratum: str
    coder: str | None
    provider: str | None
    auditor: str | None
    setting: str | None
    status: str
    category: str | None
    rationale: str | None
    reference: str | None
    original: CodeSet
    audited: CodeSet
    #: what the financial basis needs (amounts, demographics), codes and error flag filled later
    money: FinancialInput
    comparison: UnitComparison | None = None
    amount: UnitAmount | None = None
    weight: float = 1.0

    @property
    def scored(self) -> bool:
        return self.status != "not reviewed"

    @property
    def payment_changed(self) -> bool:
        return self.amount is not None and self.amount.changed

    @property
    def has_error(self) -> bool:
        if not self.scored:
            return False
        comp = self.comparison
        return (
            self.status == "record missing"
            or self.category is not None
            or self.payment_changed
            or (comp is not None and (comp.code_error or comp.drg_error))
        )


# -- reading -------------------------------------------------------------------------------------


def score_audit(audit_dir: Path) -> dict[str, Any]:
    """Score the audit in ``audit_dir``; write results.json and results.xlsx; return results."""
    from audit_kit.results_workbook import results_workbook_bytes

    folder = AuditFolder.open(Path(audit_dir))
    if not folder.has("findings.csv"):
        raise AuditError(
            "There are no findings to score yet.",
            [
                Problem(
                    where=str(folder.file("findings.csv")),
                    expected="validated findings from returned workbooks",
                    found="no findings.csv",
                    fix="run `audit-kit collect AUDIT_DIR RETURNED_WORKBOOKS...` first, "
                    "then `audit-kit score AUDIT_DIR`.",
                )
            ],
        )
    plan_text = folder.read_bytes("plan.yaml").decode("utf-8")
    plan = parse_plan(yaml.safe_load(plan_text), source="plan.yaml")
    sampling = folder.read_json("sampling.json")
    sample = folder.read_csv("sample.csv", infer_schema=False)
    findings = folder.read_csv("findings.csv", infer_schema=False)
    artifacts = folder.artifacts()
    inputs = {
        rel: str(artifacts[rel]["sha256"])
        for rel in ("plan.yaml", "sampling.json", "sample.csv", "findings.csv")
    }
    audit = {
        "id": folder.audit_id,
        "name": plan.name,
        "objective": plan.objective,
        "organisation": plan.organisation,
        "period": plan.period,
        "sampling_unit": plan.sampling_unit,
        "preset": plan.preset,
        "tool_version": __version__,
        "scored_at": now_iso(),
        "findings_sha256": inputs["findings.csv"],
    }
    results = score_frames(
        plan, sampling, canonical_units(sample, plan), findings, audit=audit, audit_dir=folder.path
    )
    for name, ref in results["settings"]["reference_files"].items():
        inputs[f"{name}:{ref['file']}"] = ref["sha256"]
    overall = results["overall"]
    details = {
        "units_scored": overall["units_reviewed"],
        "units_with_error": overall["units_with_error"],
        "verdict": overall["verdict"],
    }
    with folder.transaction("score", inputs=inputs, details=details) as tx:
        tx.write_json("results.json", results)
        tx.write_bytes("results.xlsx", results_workbook_bytes(results))
    return results


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _norm_list(codes: Iterable[str], kind: Any) -> tuple[str, ...]:
    return tuple(normalize_code(c, kind)[0] for c in codes if c.strip())


def _cpt_items(codes: Iterable[str]) -> tuple[CptItem, ...]:
    # A malformed original item is compared as it is rather than dropped.
    return tuple(parse_cpt(c) or CptItem(code=c.strip().upper()) for c in codes if c.strip())


def _original_codes(row: Mapping[str, Any]) -> CodeSet:
    drg = _text(row.get("drg"))
    return CodeSet(
        dx=_norm_list(row.get("dx") or [], "dx"),
        px=_norm_list(row.get("px") or [], "px"),
        cpt=_cpt_items(row.get("cpt") or []),
        drg=normalize_code(drg, "drg")[0] if drg else None,
    )


def _audited_codes(row: Mapping[str, Any], original: CodeSet) -> CodeSet:
    dx = split_codes(row.get("audited_principal_dx")) + split_codes(row.get("audited_other_dx"))
    drg = _text(row.get("audited_drg"))
    return CodeSet(
        dx=_norm_list(dx, "dx"),
        px=_norm_list(split_codes(row.get("audited_procedures")), "px"),
        cpt=_cpt_items(split_codes(row.get("audited_cpt"))),
        # A blank audited DRG is "not given": the original DRG stands.
        drg=normalize_code(drg, "drg")[0] if drg else original.drg,
    )


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# -- scoring -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Context:
    plan: SamplingPlan
    confidence: float
    target: float
    strata: Mapping[str, Mapping[str, Any]]  # sampling.json strata by name
    stratified: bool
    notes: list[str]


def _confidence_key(level: float) -> str:
    return str(round(level * 100))


def score_frames(
    plan: SamplingPlan,
    sampling: Mapping[str, Any],
    units: pl.DataFrame,
    findings: pl.DataFrame,
    *,
    audit: Mapping[str, Any],
    audit_dir: Path,
) -> dict[str, Any]:
    """Score canonical units (``universe.canonical_units``) against findings; return results.

    Pure apart from reading the plan's reference files (fee schedule, DRG weights); the
    folder pipeline is :func:`score_audit`.
    """
    weights = resolve_weights(plan.scoring.weights, source="plan.yaml")
    strata = {str(s["stratum"]): s for s in sampling.get("strata", [])}
    ctx = _Context(
        plan=plan,
        confidence=float(plan.scoring.confidence),
        target=float(plan.scoring.target_accuracy),
        strata=strata,
        stratified=plan.design.method == "stratified" or len(strata) > 1,
        notes=[],
    )
    returned = _read_findings(units, findings, strata, examined=plan.financial.examined)
    references: dict[str, ReferenceFile] = {}
    returned = _with_amounts(returned, ctx, weights, audit_dir, references)
    returned = _with_weights(returned, ctx)
    scored = [u for u in returned if u.scored]
    unscored = [name for name in strata if not any(u.stratum == name for u in scored)]
    if ctx.stratified and unscored:
        ctx.notes.append(
            "The overall accuracy covers only strata with scored units; none yet in stratum "
            + ", ".join(unscored)
            + "."
        )
    extrapolation, strata_extrapolation = _extrapolate(scored, ctx)
    overall = _group(returned, ctx, population=_overall_population(ctx, sampling), overall=True)
    overall["extrapolation"] = extrapolation
    results: dict[str, Any] = {
        "audit": dict(audit),
        "settings": _settings(plan, weights, references),
        "progress": _progress(units, returned),
        "overall": overall,
    }
    for key, attr in GROUPINGS:
        results[key] = _groups(returned, attr, ctx)
    results["settings_groups"] = _groups(returned, "setting", ctx)
    results["strata"] = [
        {
            "stratum": name,
            "population": int(info["population"]),
            "sample": int(info["sample"]),
            **_group(
                [u for u in returned if u.stratum == name],
                ctx,
                population=int(info["population"]),
                extrapolation=strata_extrapolation.get(name),
            ),
        }
        for name, info in strata.items()
    ]
    results["categories"] = _categories(scored)
    results["errors"] = [_error_entry(u) for u in returned if u.has_error]
    results["units"] = [_unit_entry(u) for u in returned]
    results["cia_discovery"] = _cia_discovery(scored, ctx, sampling)
    results["sampling"] = dict(sampling)
    results["notes"] = ctx.notes
    return results


def _read_findings(
    units: pl.DataFrame, findings: pl.DataFrame, strata: Mapping[str, Any], *, examined: str
) -> list[ScoredUnit]:
    by_id = {str(r["unit_id"]): r for r in units.iter_rows(named=True)}
    problems: list[Problem] = []
    out: list[ScoredUnit] = []
    seen: set[str] = set()
    for index, row in enumerate(findings.iter_rows(named=True)):
        where = f"findings.csv row {index + 2}"
        uid = _text(row.get("unit_id"))
        status = (_text(row.get("review_status")) or "").lower()
        if uid is None or uid not in by_id:
            problems.append(
                Problem(
                    where=where,
                    expected="a unit id of sample.csv",
                    found=repr(uid),
                    fix="findings.csv is written by `audit-kit collect`; restore it from there.",
                )
            )
            continue
        if uid in seen:
            problems.append(
                Problem(
                    where=where,
                    expected="one row per unit",
                    found=f"unit {uid} again",
                    fix="collect the returned workbooks again (`audit-kit collect`).",
                )
            )
            continue
        seen.add(uid)
        if status not in STATUSES:
            problems.append(
                Problem(
                    where=f"{where} (unit {uid}): review_status",
                    expected=" / ".join(STATUSES),
                    found=repr(row.get("review_status")),
                    fix="correct the status in the workbook and collect it again.",
                )
            )
            continue
        unit = by_id[uid]
        stratum = str(unit.get("stratum") or "all")
        if strata and stratum not in strata:
            problems.append(
                Problem(
                    where=f"sample.csv (unit {uid}): stratum",
                    expected="a stratum of sampling.json: " + ", ".join(strata),
                    found=repr(stratum),
                    fix="sample.csv and sampling.json must come from the same `audit-kit sample`.",
                )
            )
            continue
        original = _original_codes(unit)
        category = _text(row.get("error_category"))
        raw_amount = _text(row.get("audited_amount"))
        entered = _float(raw_amount)
        if raw_amount is not None and (entered is None or entered < 0):
            problems.append(
                Problem(
                    where=f"{where} (unit {uid}): audited_amount",
                    expected="an amount >= 0",
                    found=repr(raw_amount),
                    fix="correct it in the workbook and collect it again.",
                )
            )
            continue
        money = FinancialInput(
            unit_id=uid,
            record_missing=status == "record missing",
            examined=_float(unit.get(examined)),
            entered=entered,
            age=_float(unit.get("age")),
            sex=_text(unit.get("sex")),
            discharge_status=_text(unit.get("discharge_status")),
            service_date=_text(unit.get("service_date")),
        )
        out.append(
            ScoredUnit(
                unit_id=uid,
                stratum=stratum,
                coder=_text(unit.get("coder")),
                provider=_text(unit.get("provider")),
                auditor=_text(row.get("auditor")) or _text(unit.get("auditor")),
                setting=_text(unit.get("setting")),
                status=status,
                category=category.lower() if category else None,
                rationale=_text(row.get("rationale")),
                reference=_text(row.get("reference")),
                original=original,
                audited=_audited_codes(row, original),
                money=money,
            )
        )
    if problems:
        raise IntegrityError(
            f"findings.csv does not fit this audit ({len(problems)} problem(s)).", problems
        )
    return out


def _compare(u: ScoredUnit, ctx: _Context, weights: Mapping[str, float]) -> UnitComparison:
    return compare_unit(
        u.original,
        u.audited,
        weights=weights,
        observe_only=ctx.plan.scoring.observe_only,
        record_missing=u.status == "record missing",
    )


def _with_amounts(
    returned: list[ScoredUnit],
    ctx: _Context,
    weights: Mapping[str, float],
    audit_dir: Path,
    references: dict[str, ReferenceFile],
) -> list[ScoredUnit]:
    """Compare codes and compute amounts (and, for the drg basis, regrouped DRGs)."""
    fin = ctx.plan.financial
    problems: list[Problem] = []
    fee_schedule = drg_weights = None
    if fin.basis == "fee_schedule" and fin.fee_schedule:
        ref = resolve_reference(
            fin.fee_schedule, key="fee_schedule", audit_dir=audit_dir, problems=problems
        )
        if ref is not None:
            references["fee_schedule"] = ref
            fee_schedule = load_fee_schedule(ref.path, source=ref)
    if fin.basis == "drg" and fin.drg_weights:
        ref = resolve_reference(
            fin.drg_weights, key="drg_weights", audit_dir=audit_dir, problems=problems
        )
        if ref is not None:
            references["drg_weights"] = ref
            drg_weights = load_drg_weights(ref.path, source=ref)
    compared = [
        replace(u, comparison=_compare(u, ctx, weights)) if u.scored else u for u in returned
    ]
    inputs = [
        replace(
            u.money,
            has_error=u.category is not None
            or (u.comparison is not None and (u.comparison.code_error or u.comparison.drg_error)),
            original=u.original,
            audited=u.audited,
        )
        for u in compared
        if u.scored
    ]
    if problems:
        raise InputError(f"Scoring cannot start ({len(problems)} problem(s)).", problems)
    amounts = {
        a.unit_id: a
        for a in compute_amounts(
            inputs,
            basis=fin.basis,
            examined_field=fin.examined,
            fee_schedule=fee_schedule,
            drg_weights=drg_weights,
            base_rate=fin.base_rate,
        )
    }
    out: list[ScoredUnit] = []
    for u in compared:
        a = amounts.get(u.unit_id)
        if a is None:
            out.append(u)
            continue
        if fin.basis == "drg" and a.original_drg is not None:
            if u.original.drg and u.original.drg != a.original_drg.drg:
                ctx.notes.append(
                    f"unit {u.unit_id}: billed DRG {u.original.drg}, but the original codes "
                    f"group to {a.original_drg.drg} (grouper v{a.original_drg.version}); the "
                    "regrouped DRG is used."
                )
            audited_drg = a.audited_drg.drg if a.audited_drg else None
            u = replace(
                u,
                original=replace(u.original, drg=a.original_drg.drg),
                audited=replace(u.audited, drg=audited_drg),
            )
            u = replace(u, comparison=_compare(u, ctx, weights))
        out.append(replace(u, amount=a))
    return out


def _with_weights(returned: list[ScoredUnit], ctx: _Context) -> list[ScoredUnit]:
    """Attach the design weight N_h / n_h (n_h = units scored in the stratum)."""
    scored = Counter(u.stratum for u in returned if u.scored)
    out = []
    for u in returned:
        info = ctx.strata.get(u.stratum)
        if info is None or not scored[u.stratum]:
            out.append(u)
        else:
            out.append(replace(u, weight=int(info["population"]) / scored[u.stratum]))
    return out


# -- groups --------------------------------------------------------------------------------------


def _overall_population(ctx: _Context, sampling: Mapping[str, Any]) -> int | None:
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
    ctx: _Context,
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
        limit = appraisal.limits[_confidence_key(ctx.confidence)]
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
    units: Sequence[ScoredUnit], ctx: _Context, *, population: int | None
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


def _group(
    units: Sequence[ScoredUnit],
    ctx: _Context,
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
    }


def _groups(returned: Sequence[ScoredUnit], attr: str, ctx: _Context) -> list[dict[str, Any]]:
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
            {attr: label, "population": population, **_group(members, ctx, population=population)}
        )
    return out


# -- extrapolation -------------------------------------------------------------------------------

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
    stratified normal approximation otherwise). The demand rule (SPEC 6.4) picks the amount;
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


def _extrapolate(
    scored: Sequence[ScoredUnit], ctx: _Context
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


# -- CIA discovery -------------------------------------------------------------------------------


def _cia_discovery(
    scored: Sequence[ScoredUnit], ctx: _Context, sampling: Mapping[str, Any]
) -> dict[str, Any] | None:
    threshold = ctx.plan.scoring.error_threshold
    if threshold is None:
        return None
    amounts = [u.amount for u in scored if u.amount is not None]
    money = totals(amounts)
    rate = money["net"] / money["examined"] if money["examined"] > 0 else None
    exceeded = rate is not None and rate >= threshold
    full: dict[str, Any] | None = None
    population = _overall_population(ctx, sampling)
    if exceeded and population is not None and len(amounts) >= 2:
        # Underpayments enter as 0 (OIG CIA Appendix B); 90% confidence, 25% precision.
        full = cia_full_sample_size(
            [a.difference for a in amounts], population=population
        ).to_dict()
    return {
        "threshold": threshold,
        "net_error_rate": rate,
        "net_overpayment": money["net"],
        "examined": money["examined"],
        "exceeded": exceeded,
        "rule": "net error rate = net overpayment / amount examined in the discovery sample; "
        "at or above the threshold a full sample is required",
        "full_sample": full,
    }


# -- listings ------------------------------------------------------------------------------------


def _categories(scored: Sequence[ScoredUnit]) -> list[dict[str, Any]]:
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


def _amount_fields(u: ScoredUnit) -> dict[str, Any]:
    a = u.amount
    return {
        "examined": None if a is None else a.examined,
        "audited_amount": None if a is None else a.audited,
        "difference": None if a is None else a.difference,
    }


def _error_entry(u: ScoredUnit) -> dict[str, Any]:
    comp = u.comparison
    return {
        "unit_id": u.unit_id,
        "coder": u.coder,
        "provider": u.provider,
        "auditor": u.auditor,
        "stratum": u.stratum,
        "status": u.status,
        "category": u.category,
        "original": u.original.as_dict(),
        "audited": (CodeSet() if u.status == "record missing" else u.audited).as_dict(),
        "changes": None if comp is None else comp.changes(),
        **_amount_fields(u),
        "rationale": u.rationale,
        "reference": u.reference,
    }


def _unit_entry(u: ScoredUnit) -> dict[str, Any]:
    comp = u.comparison
    return {
        "unit_id": u.unit_id,
        "stratum": u.stratum,
        "coder": u.coder,
        "provider": u.provider,
        "auditor": u.auditor,
        "setting": u.setting,
        "status": u.status,
        "scored": u.scored,
        "has_error": u.has_error,
        "category": u.category,
        "codes_reviewed": None if comp is None else comp.reviewed,
        "codes_correct": None if comp is None else comp.correct,
        "weighted_errors": None if comp is None else comp.weighted_errors,
        **_amount_fields(u),
        "weight": u.weight,
    }


def _progress(units: pl.DataFrame, returned: Sequence[ScoredUnit]) -> dict[str, int]:
    spare = units["spare"].fill_null(False) if "spare" in units.columns else None
    sampled = units.height if spare is None else int((~spare).sum())
    statuses = Counter(u.status for u in returned)
    return {
        "units_sampled": sampled,
        "units_returned": len(returned),
        "units_reviewed": statuses["reviewed"],
        "units_record_missing": statuses["record missing"],
        "units_not_reviewed": statuses["not reviewed"],
        "units_outstanding": max(sampled - len(returned), 0),
    }


def _settings(
    plan: SamplingPlan, weights: Mapping[str, float], references: Mapping[str, ReferenceFile]
) -> dict[str, Any]:
    fin, sc = plan.financial, plan.scoring
    return {
        "target_accuracy": sc.target_accuracy,
        "confidence": sc.confidence,
        "netting": fin.netting,
        "demand_rule": plan.effective_demand_rule,
        "basis": fin.basis,
        "critical_value_rule": fin.critical_value_rule,
        "extrapolate": fin.extrapolate,
        "examined_field": fin.examined,
        "base_rate": fin.base_rate,
        "error_threshold": sc.error_threshold,
        "observe_only": list(sc.observe_only),
        "weights": dict(weights),
        "verdict_metric": "code_accuracy",
        "reference_files": {name: ref.to_dict() for name, ref in references.items()},
    }
