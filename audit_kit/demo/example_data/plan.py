"""The demo plan, kept in the package so that ``audit-kit demo`` works from an installed wheel.

``examples/plan.yaml`` is an identical copy (a test keeps them equal).
"""

from __future__ import annotations

DEMO_PLAN_YAML = """\
# Demo plan: quarterly per-coder accuracy review of the synthetic example universe.
#
# Made for examples/universe.csv (python examples/generate_universe.py, or `audit-kit demo`):
# 12 coders, Q1 2026, inpatient, outpatient and professional encounters. Synthetic data only.
# Stratified by coder, 50 encounters per coder (an error-free coder needs at least 45 to show a
# 95% target at 90% one-sided confidence), drawn with NumPy PCG64 from a fixed seed so that
# the sample can be re-drawn (`audit-kit verify AUDIT --universe examples/universe.csv`).
name: Q1 2026 per-coder accuracy review (synthetic demo)
objective: >-
  Coding accuracy per coder against a 95% target; net financial impact of coding errors
  extrapolated to the paid encounters of the quarter.
organisation: Example Health (fictitious)
period: 2026-01-01 to 2026-03-31
sampling_unit: encounter
columns:                      # audit-kit field: column of universe.csv
  unit_id: encounter_id
  coder: coder_id
  provider: provider_id
  patient: patient_name       # PHI: kept in sample.csv, never in workbooks or PDFs
  service_date: service_date
  setting: setting
  payer: payer
  dx: dx_codes                # principal diagnosis first, ';'-separated
  px: px_codes                # ICD-10-PCS (inpatient)
  cpt: cpt_codes              # CPT/HCPCS with modifiers, e.g. 99214-25
  units: units
  drg: drg
  billed: billed_amount
  paid: paid_amount
  age: age
  sex: sex
  discharge_status: discharge_status
frame:
  filters:
    - {column: paid, op: ">", value: 0}   # self-pay encounters with nothing paid are out
design:
  method: stratified
  strata:
    by: [coder]
size:
  per_stratum: 50
spares: 0
rng:
  generator: pcg64
  seed: 20260415
workbook:
  columns: [unit_id, coder, provider, setting, service_date, dx, px, cpt, units, drg, paid]
financial:
  basis: entered              # auditors enter the correct amount
  netting: net
  demand_rule: cms_one_sided_90
scoring:
  target_accuracy: 0.95
  confidence: 0.90
"""

#: Added to the demo's plan by ``audit-kit demo`` (not to examples/plan.yaml, whose quickstarts
#: issue one workbook for all auditors): a blind second review of 10 % of the units.
DEMO_DOUBLE_REVIEW_YAML = """\
double_review:                # 10 % of the units also go to a second auditor, blind
  share: 0.10
"""
