"""Returned units: findings rows -> ScoredUnit with code comparison, amounts and weights."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from audit_kit.errors import InputError, IntegrityError, Problem
from audit_kit.plan import SamplingPlan
from audit_kit.scoring.comparison import CodeSet, UnitComparison, compare_unit
from audit_kit.scoring.financial import (
    FinancialInput,
    ReferenceFile,
    UnitAmount,
    compute_amounts,
    load_drg_weights,
    load_fee_schedule,
    resolve_reference,
)
from audit_kit.stats import PaidSteps
from audit_kit.values.codes import CptItem, normalize_code, parse_cpt, split_codes
from audit_kit.values.money import NotMoney, parse_money

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
    #: the draw order within the stratum (sample.csv), for the Kaplan-Wald bound
    selection_order: int | None = None

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
    # hcc audits: the auditor lists every diagnosis the record supports in one column.
    dx += split_codes(row.get("supported_dx"))
    drg = _text(row.get("audited_drg"))
    return CodeSet(
        dx=_norm_list(dx, "dx"),
        px=_norm_list(split_codes(row.get("audited_procedures")), "px"),
        cpt=_cpt_items(split_codes(row.get("audited_cpt"))),
        # A blank audited DRG is "not given": the original DRG stands.
        drg=normalize_code(drg, "drg")[0] if drg else original.drg,
    )


def _float(value: Any) -> float | None:
    try:
        return parse_money(value)
    except NotMoney:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoringContext:
    plan: SamplingPlan
    confidence: float
    target: float
    strata: Mapping[str, Mapping[str, Any]]  # sampling.json strata by name
    stratified: bool
    notes: list[str]
    #: per stratum, the frame's paid amounts recorded at sampling (minimum-sum bound)
    frame_paid: Mapping[str, PaidSteps] | None = None


def confidence_key(level: float) -> str:
    return str(round(level * 100))


def read_returned(
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
            birth_date=_text(unit.get("birth_date")),
            orec=_text(unit.get("orec")),
            dual_status=_text(unit.get("dual_status")),
            institutional=_text(unit.get("institutional")),
            months=_text(unit.get("months")),
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
                selection_order=_order(unit.get("selection_order")),
            )
        )
    if problems:
        raise IntegrityError(
            f"findings.csv does not fit this audit ({len(problems)} problem(s)).", problems
        )
    return out


def _order(value: Any) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def _compare(u: ScoredUnit, ctx: ScoringContext, weights: Mapping[str, float]) -> UnitComparison:
    return compare_unit(
        u.original,
        u.audited,
        weights=weights,
        observe_only=ctx.plan.scoring.observe_only,
        record_missing=u.status == "record missing",
    )


def with_amounts(
    returned: list[ScoredUnit],
    ctx: ScoringContext,
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
            hcc_weights=fin.hcc_weights(),
            maci=fin.maci,
            normalisation=fin.normalisation,
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


def with_weights(returned: list[ScoredUnit], ctx: ScoringContext) -> list[ScoredUnit]:
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
