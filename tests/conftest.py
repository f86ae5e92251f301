"""Shared test helpers: small synthetic universes and a valid plan for them.

Import them with ``from conftest import plan_dict, universe_rows, write_csv``. Synthetic data
only: patients are "Testpatient NNNN", ids and amounts come from a seeded generator, so the same
arguments give the same rows.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: A plan's column mapping for :func:`universe_rows` rows.
PLAN_COLUMNS = {
    "unit_id": "encounter_id",
    "coder": "coder_id",
    "provider": "provider_id",
    "patient": "patient_name",
    "service_date": "service_date",
    "setting": "setting",
    "dx": "dx_codes",
    "cpt": "cpt_codes",
    "paid": "paid_amount",
}


def universe_rows(rows: int, *, coders: int = 4, seed: int = 1) -> list[dict[str, str]]:
    """Synthetic encounters: ids E00001.., coders C1.., lognormal paid amounts."""
    rnd = random.Random(seed)
    out = []
    for i in range(1, rows + 1):
        out.append(
            {
                "encounter_id": f"E{i:05d}",
                "coder_id": f"C{rnd.randint(1, coders)}",
                "provider_id": f"P{rnd.randint(1, 3)}",
                "patient_name": f"Testpatient {rnd.randint(1000, 9999)}",
                "service_date": f"2026-07-{rnd.randint(1, 28):02d}",
                "setting": rnd.choice(["inpatient", "outpatient", "professional"]),
                "dx_codes": rnd.choice(["E11.9;I10", "J18.9", "I50.23;N18.3;E11.22"]),
                "cpt_codes": rnd.choice(["99214-25", "99213", "93000;99215"]),
                "paid_amount": f"{rnd.lognormvariate(6, 1.2):.2f}",
            }
        )
    return out


def write_csv(path: Path, rows: list[Mapping[str, Any]], *, delimiter: str = ",") -> Path:
    """Write rows (all with the same keys) as a CSV file, quoting only where needed."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def plan_dict(**overrides: Any) -> dict[str, Any]:
    """A valid plan for :func:`universe_csv` files (simple design, n = 20), with overrides."""
    plan: dict[str, Any] = {
        "name": "Test audit",
        "objective": "Tests",
        "sampling_unit": "encounter",
        "columns": dict(PLAN_COLUMNS),
        "design": {"method": "simple"},
        "size": {"n": 20},
        "rng": {"generator": "pcg64", "seed": 20261127},
    }
    plan.update(overrides)
    return plan
