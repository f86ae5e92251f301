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
from audit_kit.folder.results import Results
from audit_kit.folder.sampling_record import SamplingRecord
from audit_kit.plan import SamplingPlan
from audit_kit.plan.canonical import canonical_units
from audit_kit.scoring._cia import discover_cia
from audit_kit.scoring._extrapolation import extrapolate_scored
from audit_kit.scoring._groups import category_table, overall_population, score_group, score_groups
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


def score_audit(
    audit_dir: Path,
    *,
    progress: Callable[[str], None] | None = None,
    results_workbook: Callable[[Results], bytes] | None = None,
) -> Results:
    """Score the audit in ``audit_dir``; write results.json (and results.xlsx); return results.

    ``progress`` is called with one line as reading, scoring and writing begin.
    ``results_workbook`` renders results.xlsx from the results (the CLI passes
    ``reporting.results_workbook_bytes``: scoring computes, reporting renders); both files are
    written in one transaction.
    """
    say = progress or _noop
    folder = AuditFolder.open(Path(audit_dir))
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
        "period": plan.period_label,
        "sampling_unit": plan.sampling_unit,
        "preset": plan.preset,
        "tool_version": __version__,
        "scored_at": now_iso(),
        "findings_sha256": inputs["findings.csv"],
    }
    say(f"scoring {findings.height} finding(s) against {sample.height} sampled unit(s)")
    results = score_frames(
        plan,
        sampling.to_json_dict(),
        canonical_units(sample, plan),
        findings,
        audit=audit,
        audit_dir=folder.path,
    )
    for name, ref in results.settings.reference_files.items():
        inputs[f"{name}:{ref.file}"] = ref.sha256
    overall = results.overall
    details = {
        "units_scored": overall.units_reviewed,
        "units_with_error": overall.units_with_error,
        "verdict": overall.verdict,
    }
    say("writing results.json" + (" and results.xlsx" if results_workbook else ""))
    with folder.transaction("score", inputs=inputs, details=details) as tx:
        tx.write_json("results.json", results.to_json_dict())
        if results_workbook is not None:
            tx.write_bytes("results.xlsx", results_workbook(results))
    return results


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
    )
    returned = read_returned(units, findings, strata, examined=plan.financial.examined)
    references: dict[str, ReferenceFile] = {}
    returned = with_amounts(returned, ctx, weights, audit_dir, references)
    returned = with_weights(returned, ctx)
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
    overall["units_sampled"] = progress["units_sampled"]
    results: dict[str, Any] = {
        "audit": dict(audit),
        "status": results_status(progress),
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
            ),
        }
        for name, info in strata.items()
    ]
    results["categories"] = category_table(scored)
    results["errors"] = [_error_entry(u) for u in returned if u.has_error]
    results["units"] = [_unit_entry(u) for u in returned]
    results["cia_discovery"] = discover_cia(scored, ctx, sampling)
    results["sampling"] = SamplingRecord.model_validate(sampling).to_json_dict()
    results["notes"] = ctx.notes
    return Results.model_validate(results)


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


def results_status(progress: Mapping[str, int]) -> str:
    """``preliminary`` while sampled units are outstanding (not returned), else ``final``.

    The one place results become final (an open rebuttal round is to keep them preliminary
    too, once rebuttal rounds exist).
    """
    return "preliminary" if progress["units_outstanding"] > 0 else "final"


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
