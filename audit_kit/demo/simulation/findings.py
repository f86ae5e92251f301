"""Decide, from the seed alone, which sampled unit gets which simulated finding."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from audit_kit.demo.example_data.fees import DRG_WEIGHTS, DrgGrouper, claim_fee
from audit_kit.demo.simulation.kinds import FALLBACK, KINDS, Change, Unit
from audit_kit.demo.simulation.profiles import (
    DEFAULT_PROFILE,
    KIND_EFFECT,
    PROFILES,
    SETTING_KINDS,
    CoderProfile,
)
from audit_kit.plan.canonical import canonical_units

#: Prefix of every simulated rationale.
SIMULATED = "[simulated]"


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedFinding:
    """What the simulated auditor records for one unit."""

    unit_id: str
    coder: str
    status: str  # reviewed | record missing | not reviewed
    kind: str | None = None  # None: no error found
    dx: tuple[str, ...] = ()
    px: tuple[str, ...] = ()
    cpt: tuple[str, ...] = ()
    drg: str = ""
    amount: float | None = None
    category: str = ""
    rationale: str = ""
    reference: str = ""

    @property
    def has_error(self) -> bool:
        return self.status == "record missing" or self.kind is not None


def _setting_of(unit: Unit) -> str:
    if unit.setting in ("inpatient", "outpatient", "professional"):
        return unit.setting
    return "inpatient" if unit.px or unit.drg else "professional"


def _kinds_for(unit: Unit, profile: CoderProfile) -> dict[str, float]:
    if profile.kinds:
        return dict(profile.kinds)
    return dict(SETTING_KINDS[_setting_of(unit)])


def _draw_order(weights: Mapping[str, float], rng: np.random.Generator) -> list[str]:
    """Return the kinds in a weighted random order (drawn without replacement)."""
    names = sorted(weights)
    drawn: list[str] = []
    while names:
        p = np.array([weights[n] for n in names], dtype=float)
        drawn.append(names.pop(int(rng.choice(len(names), p=p / p.sum()))))
    return drawn


def _first_change(
    unit: Unit,
    names: list[str],
    rng: np.random.Generator,
    regroup: Callable[[Change], str] | None,
) -> tuple[str, Change] | None:
    """Apply the first kind of ``names`` that applies to the unit (None: none does).

    Upcoding is targeted, omissions are not: with ``regroup`` (inpatient units), an overpaying
    kind whose change lowers the MS-DRG is preferred to one that leaves it (an unsupported CC/MCC
    is coded, as a rule, where it raises the DRG); a missed CC is taken where it falls.
    """
    applied: tuple[str, Change] | None = None
    for name in names:
        change = KINDS[name](unit, rng)
        if change is None:
            continue
        targeted = KIND_EFFECT[name] == "overpayment"
        if regroup is None or not targeted or regroup(change) != unit.drg:
            return name, change
        applied = applied or (name, change)
    return applied


def _choose_change(
    unit: Unit,
    profile: CoderProfile,
    rng: np.random.Generator,
    regroup: Callable[[Change], str] | None = None,
) -> tuple[str, Change]:
    """Pick an error kind (weighted, among those that apply to the unit) and apply it."""
    found = _first_change(unit, _draw_order(_kinds_for(unit, profile), rng), rng, regroup)
    if found is not None:
        return found
    for name in FALLBACK:
        change = KINDS[name](unit, rng)
        if change is not None:
            return name, change
    # nothing to revise (a unit without codes): a wrong amount is still an error
    return "amount", Change(
        unit.dx,
        unit.px,
        unit.cpt,
        "other",
        "Billed amount not supported by the itemised charges.",
        "Payer contract terms",
    )


def _units(sample: pl.DataFrame, plan: Any) -> list[Unit]:
    canon = canonical_units(sample, plan)
    out = []
    for row in canon.sort("unit_id").iter_rows(named=True):
        if row["spare"]:
            continue
        out.append(
            Unit(
                unit_id=row["unit_id"],
                coder=row["coder"] or "",
                setting=row["setting"] or "",
                dx=list(row["dx"] or []),
                px=list(row["px"] or []),
                cpt=list(row["cpt"] or []),
                drg=row["drg"] or "",
                paid=row["paid"],
                age=row["age"],
                sex=row["sex"],
                discharge_status=row["discharge_status"],
            )
        )
    return out


def _coder_rng(seed: int, coder: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(coder.encode("utf-8"))])


def _audited_drg(unit: Unit, change: Change, *, grouper: DrgGrouper) -> str:
    if not unit.drg or unit.age is None or not unit.sex or not unit.discharge_status:
        return unit.drg
    if change.dx == unit.dx and change.px == unit.px:
        return unit.drg
    try:
        return grouper.group(
            age=int(unit.age),
            sex=unit.sex,
            discharge_status=unit.discharge_status,
            dx=change.dx,
            px=change.px,
        )
    except (ValueError, KeyError, TypeError):
        return unit.drg


def _audited_amount(unit: Unit, change: Change, drg: str) -> float | None:
    if unit.paid is None:
        return None
    setting = _setting_of(unit)
    if setting == "inpatient":
        old, new = DRG_WEIGHTS.get(unit.drg), DRG_WEIGHTS.get(drg)
        if old is None or new is None:
            return unit.paid
        return round(unit.paid * new[0] / old[0], 2)
    before = claim_fee(unit.cpt, setting)
    after = claim_fee(change.cpt, setting)
    if before <= 0:
        return unit.paid
    return round(unit.paid * after / before, 2)


def simulate_findings(
    sample: pl.DataFrame,
    plan: Any,
    *,
    seed: int = 7,
    profiles: Mapping[str, CoderProfile] | None = None,
) -> dict[str, SimulatedFinding]:
    """Return the simulated finding for every sampled (non-spare) unit, by unit id.

    ``sample`` is sample.csv as read by :func:`audit_kit.workbook.load_audit`. Per coder (in
    unit-id order, shuffled by a generator seeded with ``seed`` and the coder): the first
    ``not_reviewed`` units are not reviewed, the next ``record_missing`` have no record, and
    ``round(error_share * reviewed) - record_missing`` of the others carry one error each, the
    rest are clean. For each error, a kind is drawn from the weights (:data:`SETTING_KINDS` or
    the profile's ``kinds``) and sets its direction (:data:`KIND_EFFECT`); the error goes to the
    next unit, in the shuffled order, where an error of that direction exists (if none has one,
    to the next unit with whatever error applies). The findings' directions therefore follow
    the weights, whatever the case mix. Upcoding is targeted: an inpatient overpayment goes to
    the next unit where it lowers the MS-DRG, if there is one. ``profiles`` replaces
    :data:`PROFILES` (the demo's later quarters simulate coders improving).
    """
    known = PROFILES if profiles is None else profiles
    units = _units(sample, plan)
    by_coder: dict[str, list[Unit]] = {}
    for unit in units:
        by_coder.setdefault(unit.coder, []).append(unit)
    out: dict[str, SimulatedFinding] = {}
    with DrgGrouper() as grouper:

        def regroup_for(unit: Unit) -> Callable[[Change], str] | None:
            if _setting_of(unit) != "inpatient":
                return None
            return partial(_audited_drg, unit, grouper=grouper)

        for coder in sorted(by_coder):
            group = by_coder[coder]
            profile = known.get(coder, DEFAULT_PROFILE)
            rng = _coder_rng(seed, coder)
            order = [group[int(i)] for i in rng.permutation(len(group))]
            n_not = min(profile.not_reviewed, len(order))
            n_missing = min(profile.record_missing, len(order) - n_not)
            reviewed = len(order) - n_not
            n_errors = max(0, round(profile.error_share * reviewed) - n_missing)
            n_errors = min(n_errors, len(order) - n_not - n_missing)
            pool = order[n_not + n_missing :]
            errors: dict[str, tuple[str, Change]] = {}
            for _ in range(n_errors):
                first = pool[0]
                direction = KIND_EFFECT[_draw_order(_kinds_for(first, profile), rng)[0]]
                picked: tuple[Unit, tuple[str, Change]] | None = None
                for unit in pool:
                    names = [
                        n
                        for n in _draw_order(_kinds_for(unit, profile), rng)
                        if KIND_EFFECT[n] == direction
                    ]
                    regroup = regroup_for(unit)
                    found = _first_change(unit, names, rng, regroup)
                    if found is None:
                        continue
                    picked = picked or (unit, found)
                    if direction != "overpayment" or regroup is None:
                        break
                    if regroup(found[1]) != unit.drg:
                        picked = (unit, found)  # targeted: where it raises the DRG
                        break
                if picked is None:
                    picked = (first, _choose_change(first, profile, rng, regroup_for(first)))
                pool.remove(picked[0])
                errors[picked[0].unit_id] = picked[1]
            for k, unit in enumerate(order):
                base = SimulatedFinding(
                    unit_id=unit.unit_id,
                    coder=coder,
                    status="reviewed",
                    dx=tuple(unit.dx),
                    px=tuple(unit.px),
                    cpt=tuple(unit.cpt),
                    drg=unit.drg,
                    amount=unit.paid,
                )
                if k < n_not:
                    finding = replace(
                        base,
                        status="not reviewed",
                        amount=None,
                        rationale=f"{SIMULATED} Not reviewed: encounter voided and rebilled "
                        "after the sample was drawn.",
                    )
                elif k < n_not + n_missing:
                    finding = replace(
                        base,
                        status="record missing",
                        amount=0.0,
                        category="documentation",
                        rationale=f"{SIMULATED} Record not provided after two requests.",
                        reference="CMS Program Integrity Manual ch. 3 (documentation requests)",
                    )
                elif unit.unit_id in errors:
                    kind, change = errors[unit.unit_id]
                    drg = _audited_drg(unit, change, grouper=grouper)
                    finding = replace(
                        base,
                        kind=kind,
                        dx=tuple(change.dx),
                        px=tuple(change.px),
                        cpt=tuple(change.cpt),
                        drg=drg,
                        amount=_audited_amount(unit, change, drg),
                        category=change.category,
                        rationale=f"{SIMULATED} {change.rationale}",
                        reference=change.reference,
                    )
                else:
                    finding = base
                out[unit.unit_id] = finding
    return out
