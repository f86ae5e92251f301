"""The error kinds a simulated auditor finds: each turns a unit's codes into audited ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from audit_kit.demo.example_data.fees import base_code


@dataclass(slots=True)
class Unit:
    """One sampled unit as the simulated auditor sees it: its canonical codes and amounts."""

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
class Change:
    """The audited codes of a unit after one error kind, with the finding's wording."""

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


def _em_of(unit: Unit) -> tuple[int, str, tuple[str, ...]] | None:
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


def _specificity(unit: Unit, rng: np.random.Generator) -> Change | None:
    for i, code in enumerate(unit.dx):
        new = _MORE_SPECIFIC.get(code)
        if new and not any(c[:3] == new[:3] and c != code for c in unit.dx):
            dx = list(unit.dx)
            dx[i] = new
            return Change(
                dx,
                unit.px,
                unit.cpt,
                "coding",
                f"Documentation supports a more specific code: {code} -> {new}.",
                _SPECIFICITY_REFERENCE.get(code[:3], _LEVEL_OF_DETAIL),
            )
    return None


def _unspecified(unit: Unit, rng: np.random.Generator) -> Change | None:
    for i, code in enumerate(unit.dx[1:], start=1):
        new = _LESS_SPECIFIC.get(code)
        if new and not any(c[:3] == new[:3] for k, c in enumerate(unit.dx) if k != i):
            dx = list(unit.dx)
            dx[i] = new
            return Change(
                dx,
                unit.px,
                unit.cpt,
                "coding",
                f"Documentation does not support the specificity of {code}; {new} assigned.",
                _LEVEL_OF_DETAIL,
            )
    return None


def _acuity(unit: Unit, rng: np.random.Generator) -> Change | None:
    for i, code in enumerate(unit.dx[1:], start=1):
        new = _LESS_ACUTE.get(code)
        if new:
            dx = list(unit.dx)
            dx[i] = new
            return Change(
                dx,
                unit.px,
                unit.cpt,
                "coding",
                f"Acuity documented does not support {code}; {new} assigned.",
                "ICD-10-CM Official Guidelines I.A.19 (code assignment and clinical criteria)",
            )
    return None


def _added_cc(unit: Unit, rng: np.random.Generator) -> Change | None:
    categories = {c[:3] for c in unit.dx}
    options = [c for c in _DOCUMENTED_CC if c[:3] not in categories]
    if not options or not unit.dx:
        return None
    new = options[int(rng.integers(len(options)))]
    return Change(
        [*unit.dx, new],
        unit.px,
        unit.cpt,
        "coding",
        f"Condition documented, monitored and treated but not coded: {new} added.",
        "ICD-10-CM Official Guidelines Section III (reporting additional diagnoses)",
    )


def _unsupported_dx(unit: Unit, rng: np.random.Generator) -> Change | None:
    for code in unit.dx[1:]:
        if code in _UNSUPPORTED:
            return Change(
                [c for c in unit.dx if c != code],
                unit.px,
                unit.cpt,
                "documentation",
                f"Clinical indicators do not support {code}; no query response. Code removed.",
                "ICD-10-CM Official Guidelines I.A.19; Section III",
            )
    return None


def _sepsis(unit: Unit, rng: np.random.Generator) -> Change | None:
    if not unit.dx or not unit.dx[0].startswith("A41"):
        return None
    local = next((c for c in unit.dx[1:] if c in _LOCAL_INFECTIONS), None)
    if local is None:
        return None
    return Change(
        [local, *(c for c in unit.dx[1:] if c != local)],
        unit.px,
        unit.cpt,
        "documentation",
        f"Clinical criteria for sepsis not documented; {unit.dx[0]} removed, {local} sequenced "
        "as principal diagnosis.",
        "ICD-10-CM Official Guidelines I.A.19 (clinical criteria) and I.C.1.d.4",
    )


def _principal(unit: Unit, rng: np.random.Generator) -> Change | None:
    if not unit.dx or not unit.dx[0].startswith("I50") or "I10" not in unit.dx:
        return None
    hf = unit.dx[0]
    rest = [c for c in unit.dx[1:] if c != "I10"]
    return Change(
        ["I11.0", hf, *rest],
        unit.px,
        unit.cpt,
        "coding",
        f"Heart failure with hypertension is presumed linked: I11.0 sequenced first, {hf} "
        "secondary, I10 removed.",
        "ICD-10-CM Official Guidelines I.C.9.a.1",
    )


def _pcs_qualifier(unit: Unit, rng: np.random.Generator) -> Change | None:
    for i, code in enumerate(unit.px):
        new = _PCS_QUALIFIER.get(code)
        if new:
            px = list(unit.px)
            px[i] = new
            fixation = "uncemented" if new.endswith("A") else "cemented"
            return Change(
                unit.dx,
                px,
                unit.cpt,
                "coding",
                f"Operative report documents a {fixation} prosthesis: {code} -> {new}.",
                "ICD-10-PCS table 0SR, 7th character qualifier (9 cemented, A uncemented)",
            )
    return None


def _em_step(unit: Unit, step: int) -> Change | None:
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
    return Change(
        unit.dx,
        unit.px,
        cpt,
        "coding",
        f"Documentation {what} {code}; {family[j]} assigned.",
        reference,
    )


def _em_down(unit: Unit, rng: np.random.Generator) -> Change | None:
    return _em_step(unit, -1)


def _em_up(unit: Unit, rng: np.random.Generator) -> Change | None:
    return _em_step(unit, +1)


def _g2211(unit: Unit, rng: np.random.Generator) -> Change | None:
    if "G2211" not in unit.cpt:
        return None
    return Change(
        unit.dx,
        unit.px,
        [c for c in unit.cpt if c != "G2211"],
        "documentation",
        "No longitudinal care relationship documented; G2211 removed.",
        "CMS CY 2024 PFS final rule, O/O E/M visit complexity add-on G2211",
    )


def _modifier25_missing(unit: Unit, rng: np.random.Generator) -> Change | None:
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
    return Change(
        unit.dx,
        unit.px,
        cpt,
        "coding",
        f"Significant, separately identifiable E/M documented beside {procedure}; "
        f"modifier 25 appended to {code}.",
        _MOD25_REFERENCE,
    )


def _modifier25_unsupported(unit: Unit, rng: np.random.Generator) -> Change | None:
    found = _em_of(unit)
    if found is None:
        return None
    i, code, _ = found
    if not unit.cpt[i].endswith("-25"):
        return None
    return Change(
        unit.dx,
        unit.px,
        [c for k, c in enumerate(unit.cpt) if k != i],
        "documentation",
        f"E/M {code} is not significant and separately identifiable from the procedure; "
        "E/M line removed.",
        _MOD25_REFERENCE,
    )


def _missed_charge(unit: Unit, rng: np.random.Generator) -> Change | None:
    codes = {base_code(c) for c in unit.cpt}
    if codes & {"J1885", "J2405"} and "96374" not in codes:
        new, what = "96374", "IV push of the documented medication"
    elif codes & {"80053", "85025"} and "36415" not in codes:
        new, what = "36415", "venipuncture for the documented labs"
    else:
        return None
    return Change(
        unit.dx,
        unit.px,
        [*unit.cpt, new],
        "coding",
        f"Documented service not charged: {what}; {new} added.",
        "CPT Manual section guidelines; hospital charge capture policy",
    )


def _unsupported_service(unit: Unit, rng: np.random.Generator) -> Change | None:
    for item in unit.cpt:
        info = _UNSUPPORTED_SERVICES.get(base_code(item))
        if info:
            category, rationale, reference = info
            return Change(
                unit.dx,
                unit.px,
                [c for c in unit.cpt if c != item],
                category,
                rationale,
                reference,
            )
    return None


KINDS: dict[str, Callable[[Unit, np.random.Generator], Change | None]] = {
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
FALLBACK = ("unspecified", "specificity", "em_down", "added_cc", "unsupported_service", "em_up")
