"""Assemble results.json from the pieces; read and write the audit folder (score_audit)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from audit_kit._version import __version__
from audit_kit.errors import AuditError
from audit_kit.folder.manifest import AuditFolder, now_iso
from audit_kit.folder.rebuttal_round import (
    DECISIONS,
    RESPONSES,
    ROUND,
    read_decisions,
    read_responses,
    read_round,
)
from audit_kit.folder.results import Results
from audit_kit.folder.sampling_record import SamplingRecord
from audit_kit.plan import SamplingPlan
from audit_kit.plan.canonical import canonical_units
from audit_kit.scoring._agreement import agreement_section, planned_units, resolved_units
from audit_kit.scoring._cia import discover_cia
from audit_kit.scoring._extrapolation import extrapolate_scored
from audit_kit.scoring._groups import category_table, overall_population, score_group, score_groups
from audit_kit.scoring._rebuttal import (
    apply_decisions,
    auditor_rebuttals,
    rebuttal_block,
    results_status,
)
from audit_kit.scoring._units import (
    GROUPINGS,
    ScoredUnit,
    ScoringContext,
    read_returned,
    with_amounts,
    with_weights,
)
from audit_kit.scoring.comparison import CodeSet, resolve_weights
from audit_kit.scoring.financial import ReferenceFile
from audit_kit.stats import PaidSteps


def score_audit(
    audit_dir: Path,
    *,
    progress: Callable[[str], None] | None = None,
    results_workbook: Callable[[Results], bytes] | None = None,
) -> Results:
    """Score the audit in ``audit_dir``; write results.json (and results.xlsx); return results.

    With a rebuttal round (``rebuttals/round.json``), the lead's decisions collected so far are
    applied (:mod:`audit_kit.scoring._rebuttal`) and results.json gains the ``rebuttal`` block;
    ``status`` is ``preliminary`` while units are outstanding or a round is open (or the plan
    requires one not yet held), else ``final``.
    ``progress`` is called with one line as reading, scoring and writing begin.
    ``results_workbook`` renders results.xlsx from the results (the CLI passes
    ``reporting.results_workbook_bytes``: scoring computes, reporting renders); both files are
    written in one transaction.
    """
    say = progress or _noop
    folder = AuditFolder.open(Path(audit_dir))
    written, inputs = _score_folder(folder, say, with_round=True)
    results = Results.model_validate(written)
    overall = results.overall
    details = {
        "units_scored": overall.units_reviewed,
        "units_with_error": overall.units_with_error,
        "verdict": overall.verdict,
        "status": results.status,
    }
    say("writing results.json" + (" and results.xlsx" if results_workbook else ""))
    with folder.transaction("score", inputs=inputs, details=details) as tx:
        tx.write_json("results.json", results.to_json_dict())
        if results_workbook is not None:
            tx.write_bytes("results.xlsx", results_workbook(results))
    return results


def score_audit_frames(folder: AuditFolder) -> dict[str, Any]:
    """Score the folder's findings as returned (no decision applied); write nothing."""
    results, _ = _score_folder(folder, _noop, with_round=False)
    return results


def _score_folder(
    folder: AuditFolder, say: Callable[[str], None], *, with_round: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    if not folder.has("findings.csv"):
        raise AuditError.one(
            "There are no findings to score yet.",
            where=str(folder.file("findings.csv")),
            expected="validated findings from returned workbooks",
            found="no findings.csv",
            fix="run `audit-kit collect AUDIT_DIR RETURNED_WORKBOOKS...` first, "
            "then `audit-kit score AUDIT_DIR`.",
        )
    say("reading plan.yaml, sampling.json, sample.csv and findings.csv")
    plan = folder.read_plan()
    sampling = folder.read_sampling()
    sample = folder.read_csv("sample.csv", infer_schema=False)
    findings = folder.read_csv("findings.csv", infer_schema=False)
    second = (
        folder.read_csv("double_review.csv", infer_schema=False)
        if folder.has("double_review.csv")
        else None
    )
    artifacts = folder.artifacts()
    inputs = {
        rel: str(artifacts[rel]["sha256"])
        for rel in ("plan.yaml", "sampling.json", "sample.csv", "findings.csv", "double_review.csv")
        if rel in artifacts
    }
    audit = {
        "id": folder.audit_id,
        "name": plan.name,
        "objective": plan.objective,
        "organisation": plan.organisation,
        "period": plan.period_label,
        "sampling_unit": plan.sampling_unit,
        "preset": plan.preset,
        "tool_version": __version__,
        "scored_at": now_iso(),
        "findings_sha256": inputs["findings.csv"],
    }
    units = canonical_units(sample, plan)
    found = read_round(folder) if with_round else None
    responses = read_responses(folder) if found is not None else {}
    decisions = read_decisions(folder) if found is not None else {}
    # A decision stands only while its dispute does: a coder who later agreed ends the dispute.
    decisions = {
        key: d
        for key, d in decisions.items()
        if key[0] != "rebuttal" or responses.get(key[1], {}).get("response") == "disagree"
    }
    for rel in (ROUND, RESPONSES, DECISIONS):
        if found is not None and rel in artifacts:
            inputs[rel] = str(artifacts[rel]["sha256"])
    say(f"scoring {findings.height} finding(s) against {sample.height} sampled unit(s)")
    sampling_dict = sampling.to_json_dict()
    applied = apply_decisions(findings, units, decisions, plan=plan)
    results = score_frames(
        plan, sampling_dict, units, applied, audit=audit, audit_dir=folder.path, second=second
    ).to_json_dict()
    for name, ref in results["settings"]["reference_files"].items():
        inputs[f"{name}:{ref['file']}"] = ref["sha256"]
    if found is not None:
        before = (
            results
            if applied is findings
            else score_frames(
                plan,
                sampling_dict,
                units,
                findings,
                audit=audit,
                audit_dir=folder.path,
                second=second,
            ).to_json_dict()
        )
        results["rebuttal"] = rebuttal_block(
            found, responses, decisions, preliminary=before["overall"]
        )
        if before.get("agreement") is not None:
            # agreement is between the two auditors' reviews, before the lead's decisions
            results["agreement"] = before["agreement"]
        for group in results["auditors"]:
            group["rebuttal"] = auditor_rebuttals(
                found, responses, decisions, str(group.get("auditor") or "")
            )
        by_unit = {(d["kind"], d["unit_id"]): d for d in results["rebuttal"]["disputes"]}
        for entry in results["errors"]:
            unit = str(entry["unit_id"])
            if unit in found.findings:
                response = responses.get(unit, {})
                dispute = by_unit.get(("rebuttal", unit)) or {}
                entry["rebuttal"] = {
                    "response": response.get("response") or None,
                    "comment": response.get("comment") or None,
                    "decision": dispute.get("decision"),
                    "decision_rationale": dispute.get("decision_rationale"),
                }
    else:
        results["rebuttal"] = None
    status, reasons = results_status(
        outstanding=int(results["progress"]["units_outstanding"]), found=found, plan=plan
    )
    results["status"] = status
    results["status_reasons"] = reasons
    return results, inputs


def _noop(_: str) -> None:
    pass


def score_frames(
    plan: SamplingPlan,
    sampling: Mapping[str, Any],
    units: pl.DataFrame,
    findings: pl.DataFrame,
    *,
    audit: Mapping[str, Any],
    audit_dir: Path,
    second: pl.DataFrame | None = None,
) -> Results:
    """Score canonical units (``plan.canonical.canonical_units``) against findings; return results.

    Pure apart from reading the plan's reference files (fee schedule, DRG weights); the
    folder pipeline is :func:`score_audit`.
    """
    weights = resolve_weights(plan.scoring.weights, source="plan.yaml")
    strata = {str(s["stratum"]): s for s in sampling.get("strata", [])}
    ctx = ScoringContext(
        plan=plan,
        confidence=float(plan.scoring.confidence),
        target=float(plan.scoring.target_accuracy),
        strata=strata,
        stratified=plan.design.method == "stratified" or len(strata) > 1,
        notes=[],
        frame_paid=_frame_paid(sampling),
    )
    returned = read_returned(units, findings, strata, examined=plan.financial.examined)
    references: dict[str, ReferenceFile] = {}
    returned = with_amounts(returned, ctx, weights, audit_dir, references)
    returned = with_weights(returned, ctx)
    agreement: dict[str, Any] | None = None
    if (second is not None and second.height) or planned_units(sampling):
        seconds: list[ScoredUnit] = []
        if second is not None and second.height:
            seconds = read_returned(units, second, strata, examined=plan.financial.examined)
            seconds = with_amounts(seconds, ctx, weights, audit_dir, references)
            seconds = with_weights(seconds, ctx)
        reference = plan.double_review.reference if plan.double_review else None
        primaries = returned
        returned, replaced = resolved_units(primaries, seconds, reference)
        agreement = agreement_section(
            primaries,
            seconds,
            planned=planned_units(sampling),
            reference=reference,
            confidence=ctx.confidence,
            auditor_target=float(plan.scoring.auditor_target),
            replaced=replaced,
        )
        if replaced:
            ctx.notes.append(
                f"{len(replaced)} double-review unit(s) are scored on the reference reviewer's "
                "finding, which differs from the primary auditor's."
            )
    scored = [u for u in returned if u.scored]
    unscored = [name for name in strata if not any(u.stratum == name for u in scored)]
    if ctx.stratified and unscored:
        ctx.notes.append(
            "The overall accuracy covers only strata with scored units; none yet in stratum "
            + ", ".join(unscored)
            + "."
        )
    extrapolation, strata_extrapolation = extrapolate_scored(scored, ctx)
    overall = score_group(returned, ctx, population=overall_population(ctx, sampling), overall=True)
    overall["extrapolation"] = extrapolation
    progress = _progress(units, returned)
    # Without the folder the round is not known: score_audit computes both again with it.
    status, reasons = results_status(
        outstanding=progress["units_outstanding"], found=None, plan=plan
    )
    overall["units_sampled"] = progress["units_sampled"]
    results: dict[str, Any] = {
        "audit": dict(audit),
        "status": status,
        "status_reasons": reasons,
        "settings": _settings(plan, weights, references),
        "progress": progress,
        "overall": overall,
    }
    for key, attr in GROUPINGS:
        results[key] = score_groups(returned, attr, ctx)
        sampled = _sampled_by(units, attr)
        for group in results[key]:
            # "20 of 30": units scored of the units sampled for this coder (provider); the
            # auditors' units are known from the workbooks, not from the sample.
            group["units_sampled"] = None if sampled is None else sampled.get(group[attr], 0)
    results["settings_groups"] = score_groups(returned, "setting", ctx)
    results["strata"] = [
        {
            "stratum": name,
            "population": int(info["population"]),
            "sample": int(info["sample"]),
            **score_group(
                [u for u in returned if u.stratum == name],
                ctx,
                population=int(info["population"]),
                extrapolation=strata_extrapolation.get(name),
                design=returned,
            ),
        }
        for name, info in strata.items()
    ]
    results["categories"] = category_table(scored)
    results["errors"] = [_error_entry(u) for u in returned if u.has_error]
    results["units"] = [_unit_entry(u) for u in returned]
    results["cia_discovery"] = discover_cia(scored, ctx, sampling)
    results["sampling"] = SamplingRecord.model_validate(_sampling_summary(sampling)).to_json_dict()
    if agreement is not None:
        results["agreement"] = agreement
    results["notes"] = ctx.notes
    return Results.model_validate(results)


def _sampling_summary(sampling: Mapping[str, Any]) -> dict[str, Any]:
    """The sampling record for results.json, without the frame's paid amounts (bulky)."""
    out = dict(sampling)
    robust = out.get("robust_bound")
    if isinstance(robust, Mapping) and "frame_paid" in robust:
        out["robust_bound"] = {k: v for k, v in robust.items() if k != "frame_paid"}
    return out


def _frame_paid(sampling: Mapping[str, Any]) -> dict[str, PaidSteps] | None:
    """The frame's paid amounts per stratum that sampling recorded for the minimum-sum bound."""
    recorded = (sampling.get("robust_bound") or {}).get("frame_paid")
    if not isinstance(recorded, Mapping):
        return None
    return {str(name): PaidSteps.from_dict(steps) for name, steps in recorded.items()}


def _amount_fields(u: ScoredUnit) -> dict[str, Any]:
    a = u.amount
    return {
        "examined": None if a is None else a.examined,
        "audited_amount": None if a is None else a.audited,
        "difference": None if a is None else a.difference,
        **(
            {}
            if a is None or a.raf_submitted is None or a.raf_supported is None
            else {
                "raf_submitted": a.raf_submitted.raf,
                "raf_supported": a.raf_supported.raf,
                "hccs_submitted": list(a.raf_submitted.hccs),
                "hccs_supported": list(a.raf_supported.hccs),
                "months": a.months,
            }
        ),
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


def _sampled_by(units: pl.DataFrame, attr: str) -> dict[str, int] | None:
    """Sampled units (spares not drawn into the sample excluded) per value of a sample column."""
    if attr not in units.columns:
        return None
    frame = units
    if "spare" in frame.columns:
        frame = frame.filter(~pl.col("spare").fill_null(False))
    counts: dict[str, int] = {}
    for value in frame.get_column(attr).cast(pl.String).to_list():
        key = "(not recorded)" if value is None or not str(value).strip() else str(value).strip()
        counts[key] = counts.get(key, 0) + 1
    return counts


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
        "units_scored": statuses["reviewed"] + statuses["record missing"],
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
        "robust_bound": fin.robust_bound,
        "extrapolate": fin.extrapolate,
        "examined_field": fin.examined,
        "base_rate": fin.base_rate,
        **(
            {
                "hcc_weights": fin.hcc_weights(),
                "maci": fin.maci,
                "normalisation": fin.normalisation,
            }
            if fin.basis == "hcc"
            else {}
        ),
        "error_threshold": sc.error_threshold,
        "observe_only": list(sc.observe_only),
        "weights": dict(weights),
        "verdict_metric": "code_accuracy",
        "reference_files": {name: ref.to_dict() for name, ref in references.items()},
    }
