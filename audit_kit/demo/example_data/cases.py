"""The example's clinical case tables: which codes an encounter of each setting carries.

Inpatient stays are drawn from :data:`INPATIENT_CASES` (a principal diagnosis, required
secondaries, ICD-10-PCS procedures) plus chronic conditions, CCs and MCCs; outpatient and
professional encounters from :data:`OUTPATIENT_VISITS` and :data:`PROFESSIONAL_VISITS` (diagnoses,
CPT/HCPCS lines, an E/M level picked by :data:`EM_SHARE`). Every ICD-10-CM code is billable and
every ICD-10-PCS code passes the CMS Medicare Code Editor (the tests check both).
"""

from __future__ import annotations

from dataclasses import dataclass

Setting = str  # "inpatient" | "outpatient" | "professional"

# -- inpatient case mix -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    weight: float
    pdx: tuple[str, ...]
    with_one_of: tuple[tuple[str, ...], ...] = ()
    px: tuple[tuple[str, ...], ...] = ((),)


INPATIENT_CASES: tuple[Case, ...] = (
    # hypertensive heart disease with heart failure (ICD-10-CM I.C.9.a.1)
    Case(10, ("I11.0",), (("I50.23", "I50.33", "I50.22", "I50.9", "I50.32"),)),
    Case(3, ("I13.0",), (("I50.23", "I50.33", "I50.22"), ("N18.30", "N18.4"))),
    # heart failure coded without the presumed hypertensive link (an audit finding waiting)
    Case(2, ("I50.23", "I50.33", "I50.9"), (("I10",),)),
    Case(9, ("A41.9", "A41.51"), (("N39.0", "J18.9", "L03.115", "N17.9"),)),
    Case(8, ("J18.9", "J15.9")),
    Case(6, ("J44.1",)),
    Case(2, ("J44.0",), (("J18.9",),)),
    Case(3, ("I21.4",), (("I25.10",),), (("4A023N7", "B2111ZZ"), ())),
    Case(3, ("I21.4",), (("I25.10",),), (("027034Z", "4A023N7", "B2111ZZ"),)),
    Case(2, ("M17.11",), (), (("0SRC0J9",), ("0SRC0JA",))),
    Case(2, ("M17.12",), (), (("0SRD0J9",), ("0SRD0JA",))),
    Case(1, ("M16.11",), (), (("0SR90J9",), ("0SR90JA",))),
    Case(1, ("M16.12",), (), (("0SRB0J9",), ("0SRB0JA",))),
    Case(4, ("I63.9", "I63.512")),
    Case(5, ("N39.0",), (("B96.20", "N30.00"),)),
    Case(3, ("K80.00", "K80.10"), (), (("0FT44ZZ",),)),
    Case(3, ("K92.2",), (), (("0DB68ZX",), ())),
    Case(2, ("K25.4",), (("D62",),), (("0DJ08ZZ",),)),
    Case(4, ("L03.115", "L03.116", "L03.90")),
    Case(4, ("N17.9",)),
    Case(3, ("E11.65",), (("Z79.4",),)),
    Case(3, ("I48.91", "I48.0"), (("Z79.01",),)),
    Case(2, ("I26.99",)),
    Case(2, ("K85.90",)),
)

#: Chronic conditions that are neither CC nor MCC in MS-DRG v43.
CHRONIC = (
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
CC = (
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
MCC = (
    "J96.01",
    "G93.41",
    "E43",
    "N17.0",
    "L89.154",
    "J18.9",
)
# A secondary code never goes with a code of these categories (ICD-10-CM combination codes).
CONFLICTS = {
    "I10": ("I11", "I12", "I13"),  # hypertension with heart or kidney disease: I11-I13 instead
    "N18": ("I11",),  # CKD with hypertensive heart disease would make it I13
    "E43": ("E44",),
    "E44": ("E43",),
}

# -- outpatient and professional visit mix -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visit:
    weight: float
    dx: tuple[tuple[str, ...], ...]  # pick one from each group, in order
    lines: tuple[tuple[str, ...], ...]  # pick one from each group ("" = no line)
    em: tuple[str, ...] = ()  # E/M levels, one picked by EM_SHARE
    extra_dx: int = 0  # up to this many chronic codes added


ED = ("99281", "99282", "99283", "99284", "99285")
_OFFICE_NEW = ("99202", "99203", "99204", "99205")
_OFFICE_EST = ("99212", "99213", "99214", "99215")
_HOSP_INIT = ("99221", "99222", "99223")
_HOSP_SUB = ("99231", "99232", "99233")
EM_SHARE: dict[tuple[str, ...], tuple[float, ...]] = {
    ED: (0.04, 0.14, 0.36, 0.31, 0.15),
    _OFFICE_NEW: (0.10, 0.45, 0.35, 0.10),
    _OFFICE_EST: (0.10, 0.46, 0.37, 0.07),
    _HOSP_INIT: (0.15, 0.40, 0.45),
    _HOSP_SUB: (0.20, 0.55, 0.25),
    ("99238", "99239"): (0.6, 0.4),
}

OUTPATIENT_VISITS: tuple[Visit, ...] = (
    Visit(
        14,
        (("R07.9", "R07.89"),),
        (("36415",), ("80053", ""), ("85025",), ("93005",), ("71046", "")),
        ED,
        2,
    ),
    Visit(
        10,
        (("R10.9", "R10.31", "R10.84", "R11.2"),),
        (("36415",), ("80053",), ("81001", "")),
        ED,
        1,
    ),
    Visit(8, (("S93.401A", "S93.411A"),), (("73610-RT",),), ED),
    Visit(6, (("S93.402A", "S93.412A"),), (("73610-LT",),), ED),
    Visit(7, (("R51.9", "G43.909"),), (("70450", ""), ("96374", ""), ("J1885", "")), ED, 1),
    Visit(7, (("J06.9", "J02.9", "R05.9", "J20.9"),), (("71046", ""),), ED, 1),
    Visit(6, (("S61.411A", "S61.412A", "S01.81XA"),), (("12002",),), ("99282-25", "99283-25")),
    Visit(5, (("N39.0", "R31.9"),), (("81001",), ("36415", "")), ED),
    Visit(5, (("R55",), ("I10", "")), (("93005",), ("36415",), ("80053",), ("96361", "")), ED, 1),
    Visit(9, (("Z12.11",), ("K63.5", "D12.5", "D12.3", "K64.8", "")), (("45378", "45380-PT"),)),
    Visit(5, (("K21.9", "R13.10", "K29.70"),), (("43239",),), extra_dx=1),
    Visit(5, (("H25.11",),), (("66984-RT",),), extra_dx=2),
    Visit(5, (("H25.12",),), (("66984-LT",),), extra_dx=2),
    Visit(3, (("M23.221",),), (("29881-RT",),)),
    Visit(2, (("M23.222",),), (("29881-LT",),)),
)

PROFESSIONAL_VISITS: tuple[Visit, ...] = (
    Visit(
        30,
        (("E11.9", "E11.65", "I10", "E78.5", "J45.909", "F41.1", "F32.A", "E03.9", "G47.33"),),
        (("G2211", "", ""), ("36415", ""), ("80053", "", "")),
        _OFFICE_EST,
        3,
    ),
    Visit(
        12,
        (("M54.50", "M25.561", "M25.562", "R53.83", "J02.9", "J01.90", "R05.9", "E55.9"),),
        (("",),),
        _OFFICE_EST,
        2,
    ),
    Visit(8, (("E11.9", "I10", "E78.5", "R73.03", "K21.9", "J30.9"),), (("",),), _OFFICE_NEW, 2),
    Visit(
        5, (("M17.11",),), (("20610-RT",), ("J3301",), ("96372", "")), ("99213-25", "99214-25"), 2
    ),
    Visit(4, (("M17.12",),), (("20610-LT",), ("J3301",)), ("99213-25", "99214-25"), 2),
    Visit(4, (("L57.0",),), (("17000",),), ("99212-25", "99213-25"), 1),
    Visit(3, (("H61.21", "H61.22", "H61.23"),), (("69210",),), ("99212-25", "99213-25"), 1),
    Visit(4, (("Z23",),), (("90686",), ("90471",)), ("",), 2),
    Visit(8, (("J18.9", "A41.9", "I50.23", "N17.9", "J44.1", "L03.115"),), (("",),), _HOSP_INIT, 3),
    Visit(10, (("J18.9", "A41.9", "I50.23", "N17.9", "J44.1", "L03.115"),), (("",),), _HOSP_SUB, 3),
    Visit(3, (("J18.9", "I50.23", "N17.9", "L03.115"),), (("",),), ("99238", "99239"), 2),
    Visit(5, (("R07.9", "R10.9", "S93.401A", "J06.9", "R51.9"),), (("",),), ED, 1),
    Visit(2, (("Z12.11",), ("K63.5", "")), (("45378", "45380"),), ("",)),
    Visit(2, (("H25.11", "H25.12"),), (("66984-RT",),), ("",), 1),
)
PRO_CHRONIC = (
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

# -- units, fee setting, discharge status --------------------------------------------------------

#: Units a line can carry (drugs billed per unit); every other line is 1 unit.
UNITS = {"J3301": (4,), "J1885": (1, 2), "J2405": (4,)}
#: E/M codes of a hospital setting: the facility RVUs apply (:func:`~.fees.code_fee`).
HOSPITAL_SETTING_EM = set(_HOSP_INIT + _HOSP_SUB + ED + ("99238", "99239"))
#: Inpatient discharge status codes, one picked uniformly from the tuple (mostly 01, home).
DISCHARGE_STATUS = ("01",) * 14 + ("06",) * 3 + ("03",) * 2 + ("62", "20")
