"""The known pattern: per coder, how often the simulated auditors find errors, of which kinds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


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
DEFAULT_PROFILE = CoderProfile(0.10)
