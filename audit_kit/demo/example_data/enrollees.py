"""A synthetic universe of Medicare Advantage enrollee-years for the hcc basis (no real member).

One row per enrollee-year of payment year 2026: fake member names (``Testmember ...``), the
CMS-HCC demographics (age, sex, original reason for entitlement, dual status, institutional,
months enrolled), the diagnoses submitted for the year (billable ICD-10-CM codes, most of them
mapping to a V28 HCC, a few to none) and ``raf_score``, the V28 risk score of those codes as the
plan's own records would hold it (the mock RADV preset stratifies on it). The same seed gives
the same frame, byte for byte.

:func:`supported_diagnoses` is the demo's simulated medical-record review: each submitted code
the record does not support is dropped with a fixed probability per coder, from the same seed.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from audit_kit.scoring.hcc import HccDemographics, raf_score

HCC_EXAMPLE_SEED = 2026
HCC_DEFAULT_ROWS = 2_000

#: (ICD-10-CM code, share of enrollee-years with it). Codes and their V28 HCCs: E11.69 37,
#: E11.9 38, I50.30 226, J44.9 280, N18.4 327, I48.91 238, F33.1 155, G30.9 127, C50.911 23;
#: I10 and E78.5 map to no HCC (they move nothing).
CONDITIONS: tuple[tuple[str, float], ...] = (
    ("E11.69", 0.14),
    ("E11.9", 0.12),
    ("I50.30", 0.10),
    ("J44.9", 0.11),
    ("N18.4", 0.05),
    ("I48.91", 0.09),
    ("F33.1", 0.06),
    ("G30.9", 0.03),
    ("C50.911", 0.02),
    ("I10", 0.55),
    ("E78.5", 0.40),
)
CODERS = ("rc01", "rc02", "rc03", "rc04")
#: share of each coder's submitted codes the records do not support (the simulated truth)
UNSUPPORTED = {"rc01": 0.05, "rc02": 0.10, "rc03": 0.20, "rc04": 0.30}
PROVIDERS = tuple(f"PG{i:02d}" for i in range(1, 7))


def generate_enrollees(rows: int = HCC_DEFAULT_ROWS, seed: int = HCC_EXAMPLE_SEED) -> pl.DataFrame:
    """Return ``rows`` synthetic enrollee-years (see the module doc)."""
    rng = np.random.default_rng(seed)
    ages = np.clip(np.round(rng.normal(74, 8, rows)), 45, 99).astype(int)
    records: list[dict[str, object]] = []
    for i in range(rows):
        age = int(ages[i])
        codes = [code for code, share in CONDITIONS if rng.random() < share]
        if not codes:
            codes = ["I10"]
        demo = HccDemographics(
            age=age,
            sex="F" if rng.random() < 0.55 else "M",
            orec="1" if age < 65 or rng.random() < 0.08 else "0",
            dual_status="02" if rng.random() < 0.18 else "00",
            institutional=bool(rng.random() < 0.03),
            months=12 if rng.random() < 0.85 else int(rng.integers(1, 12)),
        )
        raf = raf_score(codes, demo, weights={"V28": 1.0}).raf
        records.append(
            {
                "enrollee_year_id": f"EY{i + 1:06d}",
                "member_name": f"Testmember {_NAMES[i % len(_NAMES)]}-{i + 1:05d}",
                "provider_id": PROVIDERS[int(rng.integers(len(PROVIDERS)))],
                "coder_id": CODERS[int(rng.integers(len(CODERS)))],
                "year_start": "2026-01-01",
                "submitted_dx": ";".join(codes),
                "age": age,
                "sex": demo.sex,
                "orec": demo.orec,
                "dual_status": demo.dual_status,
                "institutional": "Y" if demo.institutional else "N",
                "months_enrolled": demo.months,
                "raf_score": round(raf, 3),
            }
        )
    return pl.DataFrame(records)


_NAMES = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel")


def write_enrollees(
    path: Path, *, rows: int = HCC_DEFAULT_ROWS, seed: int = HCC_EXAMPLE_SEED
) -> pl.DataFrame:
    frame = generate_enrollees(rows, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return frame


def supported_diagnoses(
    unit_id: str, coder: str, submitted: Sequence[str], *, seed: int = HCC_EXAMPLE_SEED
) -> list[str]:
    """The submitted codes a simulated record review finds supported (deterministic)."""
    rng = np.random.default_rng(zlib.crc32(f"{seed}:{unit_id}".encode()))
    rate = UNSUPPORTED.get(coder, 0.1)
    return [code for code in submitted if rng.random() >= rate]


def supported_by_unit(
    sample: pl.DataFrame, *, seed: int = HCC_EXAMPLE_SEED
) -> Mapping[str, list[str]]:
    """unit id -> supported codes for every row of a sample of this universe."""
    return {
        str(row["enrollee_year_id"]): supported_diagnoses(
            str(row["enrollee_year_id"]),
            str(row["coder_id"]),
            [c for c in str(row["submitted_dx"] or "").split(";") if c],
            seed=seed,
        )
        for row in sample.iter_rows(named=True)
    }
