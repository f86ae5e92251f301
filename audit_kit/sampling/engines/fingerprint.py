"""The content fingerprint of a frame, computed alike by every engine and for a file.

Each frame row is written as a canonical text: the unit id, the strata labels, and each
money column of the design and the plan's amounts as integer cents (``floor(x * 100 + 0.5)``),
joined by U+001F, a missing value written ``\\N``. The md5 of that text (the one hash every
engine computes alike) is cut into four 32-bit slices; per stratum the engine sums each slice
(below 2^31 rows a sum cannot overflow BIGINT) and counts the rows. The sums do not depend on
the order of the rows, so equal frames give equal fingerprints in DuckDB, PostgreSQL, Spark
and for a file, and a changed row changes its stratum's sums. This detects accidental change
(a reloaded table, a corrected amount), not a deliberate search for a collision.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from audit_kit.sampling.engines.dialects import DuckDBDialect
from audit_kit.sampling.engines.frame_sql import FrameQueries, FrameSpec, label

FINGERPRINT_METHOD = (
    "per stratum: rows, and the sums of the four 32-bit slices of md5(unit id, strata labels, "
    "money as integer cents; U+001F between fields, \\N for a missing value) over its rows; "
    "detects accidental change, not a deliberate collision"
)


def fingerprint_record(
    spec: FrameSpec, per_stratum: Mapping[str, tuple[int, Sequence[int]]]
) -> dict[str, Any]:
    """The ``universe.fingerprint`` entry of sampling.json."""
    columns = [
        spec.id_column,
        *spec.by_columns,
        *(f"{c} (cents)" for c in spec.fingerprint_numbers),
    ]
    strata = [
        {"stratum": label_, "rows": rows, "md5_slice_sums": [int(v) for v in sums]}
        for label_, (rows, sums) in per_stratum.items()
    ]
    body = json.dumps({"columns": columns, "strata": strata}, sort_keys=True)
    return {
        "method": FINGERPRINT_METHOD,
        "columns": columns,
        "strata": strata,
        "digest": hashlib.sha256(body.encode("utf-8")).hexdigest(),
    }


class _Stream:
    """A polars frame seen by DuckDB through the Arrow C stream interface (no pyarrow)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self.frame.__arrow_c_stream__(requested_schema)


def frame_fingerprint(
    spec: FrameSpec,
    *,
    ids: pl.Series,
    labels: Sequence[pl.Series],
    money: Sequence[np.ndarray[Any, np.dtype[np.float64]]],
    stratum: np.ndarray[Any, np.dtype[np.integer[Any]]],
    stratum_labels: Mapping[int, str],
) -> dict[str, Any]:
    """The fingerprint of a frame held in memory (a universe file's), computed by DuckDB
    with the same SQL as for a DuckDB table: ``labels`` per ``spec.by_columns``, ``money``
    per ``spec.fingerprint_numbers`` in dollars (NaN for missing), in frame order."""
    import duckdb

    data: dict[str, pl.Series] = {"k_id": ids.cast(pl.String).rename("k_id")}
    for i, series in enumerate(labels):
        data[label(i)] = series.cast(pl.String).rename(label(i))
    for j, values in enumerate(money):
        cents = np.floor(values * 100 + 0.5)
        data[f"k_m{j}"] = pl.Series(f"k_m{j}", cents).fill_nan(None).cast(pl.Int64)
    data["k_s"] = pl.Series("k_s", stratum.astype(np.int64))
    frame = _Stream(pl.DataFrame(data))  # noqa: F841 (DuckDB finds it by name)
    q = FrameQueries(DuckDBDialect(), spec)
    slices = ", ".join(
        f"SUM({q.d.hex_to_bigint(f'SUBSTRING(k_h, {8 * j + 1}, 8)')})" for j in range(4)
    )
    keyed = ", ".join(
        [
            f"{q.d.key('k_id')} AS k_id",
            *(f"{q.d.key(label(i))} AS {label(i)}" for i in range(len(labels))),
            *(f"k_m{j}" for j in range(len(money))),
            "k_s",
        ]
    )
    sql = (
        f"SELECT k_s, COUNT(*), {slices} FROM (SELECT k_s, {q.d.md5_hex(q.row_text())} AS k_h "
        f"FROM (SELECT {keyed} FROM frame)) GROUP BY k_s"
    )
    con = duckdb.connect()
    try:
        found = {
            int(r[0]): (int(r[1]), tuple(int(v) for v in r[2:]))
            for r in con.execute(sql).fetchall()
        }
    finally:
        con.close()
    per = {name: found.get(i, (0, (0, 0, 0, 0))) for i, name in stratum_labels.items()}
    return fingerprint_record(spec, per)


def changed_strata(recorded: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    """The strata whose rows or sums differ between two fingerprints (any order)."""
    a = {s["stratum"]: (s["rows"], s["md5_slice_sums"]) for s in recorded.get("strata", [])}
    b = {s["stratum"]: (s["rows"], s["md5_slice_sums"]) for s in found.get("strata", [])}
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
