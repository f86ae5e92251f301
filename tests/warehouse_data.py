"""Synthetic universes for the engine tests, and loading them into DuckDB and PostgreSQL.

Ids are chosen to tell orders apart: mixed case, accented (precomposed ``é``), digits only
(``10`` sorts after ``9`` as a number, before it as text), leading zeros, punctuation.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

COLUMNS = ["Claim ID", "coder", "provider", "service_date", "setting", "paid"]

PLAN_COLUMNS = {
    "unit_id": "Claim ID",
    "coder": "coder",
    "provider": "provider",
    "service_date": "service_date",
    "setting": "setting",
    "paid": "paid",
}

_PREFIXES = ["a", "A", "b", "B", "é", "e", "É", "z-", "Z", "a-", "", "0", "ß", "e\u0301"]


def rows(count: int, *, seed: int = 7, digits_only: bool = False) -> list[dict[str, Any]]:
    """``count`` claims with distinct ids; amounts with cents, some round."""
    rnd = random.Random(seed)
    ids: set[str] = set()
    while len(ids) < count:
        number = rnd.randint(0, 3 * count)
        if digits_only:
            ids.add(f"{number:0{rnd.choice([1, 3, 5])}d}")
        else:
            ids.add(f"{rnd.choice(_PREFIXES)}{number}")
    out = []
    for unit in sorted(ids, key=lambda _: rnd.random()):  # file order is not id order
        out.append(
            {
                "Claim ID": unit,
                "coder": rnd.choice(["Ann", "bob", "Émile", "Bob", "zoë"]),
                "provider": f"P{rnd.randint(1, 3)}",
                "service_date": f"2026-0{rnd.randint(1, 6)}-{rnd.randint(1, 28):02d}",
                "setting": rnd.choice(["inpatient", "outpatient"]),
                "paid": f"{rnd.choice([rnd.uniform(0, 400), rnd.uniform(0, 9000)]):.2f}",
            }
        )
    return out


def write_csv(path: Path, data: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(data)
    return path


def duckdb_table(path: Path, data: list[dict[str, Any]], *, table: str = "claims") -> Path:
    """A DuckDB database with the rows typed as a warehouse holds them."""
    import duckdb

    con = duckdb.connect(str(path))
    con.execute(
        f'CREATE TABLE "{table}" ("Claim ID" VARCHAR, coder VARCHAR, provider VARCHAR, '
        "service_date DATE, setting VARCHAR, paid DECIMAL(12, 2))"
    )
    con.executemany(
        f'INSERT INTO "{table}" VALUES (?, ?, ?, ?, ?, ?)',
        [[r[c] for c in COLUMNS] for r in data],
    )
    con.close()
    return path
