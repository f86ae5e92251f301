"""Benchmark: sampling a large universe against polars alone reading it (docs/performance.md).

    python benchmarks/bench_sampling.py              # 5,000,000 rows (~400 MB CSV)
    python benchmarks/bench_sampling.py --rows 200000 --repeat 1   # a quick run

Writes a synthetic universe (deterministic: same --rows, same bytes) to benchmarks/_work/
(git-ignored) as CSV and Parquet, then measures, each in a fresh Python process:

(a) polars alone reading the file: ``pl.read_csv(path)`` / ``pl.scan_parquet(path).collect()``;
(b) ``audit_kit.sampling.draw_sample``: a plan stratified by coder (200 coders) with three dollar
    bands on the paid amount, 10 units per stratum, into a new audit folder;
(c) for context, the part of (b) no implementation can skip: polars reading the four frame
    columns while another thread computes the file's SHA-256 (recorded in sampling.json).

Time is the operation's wall time inside the child (imports excluded), the median of --repeat
runs after one warm-up read that puts the file in the page cache; memory is the child's peak
resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, imports included for both).
Target: (b) / (a) <= 1.3 for time and for memory.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

WORK = Path(__file__).resolve().parent / "_work"
TARGET = 1.3
CODERS = 200

PLAN = """\
name: Benchmark - stratified by coder with dollar bands
sampling_unit: encounter
columns:
  unit_id: encounter_id
  coder: coder_id
  provider: provider_id
  patient: patient_name
  service_date: service_date
  setting: setting
  dx: dx_codes
  cpt: cpt_codes
  billed: billed_amount
  paid: paid_amount
frame:
  filters:
    - {column: paid, op: ">", value: 0}
design:
  method: stratified
  strata:
    by: [coder]
    dollar_bands: {column: paid, edges: [0, 250, 1500]}
size:
  per_stratum: 10
rng:
  generator: pcg64
  seed: 20261127
"""


def generate(rows: int) -> tuple[Path, Path]:
    """Write the universe as CSV and Parquet (skipped when already there for this size)."""
    import numpy as np
    import polars as pl

    WORK.mkdir(parents=True, exist_ok=True)
    csv_path = WORK / f"universe_{rows}.csv"
    parquet_path = WORK / f"universe_{rows}.parquet"
    if csv_path.is_file() and parquet_path.is_file():
        return csv_path, parquet_path
    print(f"generating {rows:,} rows in {WORK} ...", flush=True)
    rng = np.random.default_rng(20261127)
    ids = rng.permutation(rows) + 100_000_000
    paid = np.round(rng.lognormal(5.5, 1.3, rows), 2)
    paid[rng.random(rows) < 0.03] = 0.0
    dx_pool = np.array(["E11.9;I10", "J18.9;E87.1", "I50.23;N18.3;E11.22", "Z00.00", "M54.50"])
    cpt_pool = np.array(["99214-25", "99213", "93000;99215", "G0439", "36415;80053"])
    settings = np.array(["inpatient", "outpatient", "professional"])
    day = rng.integers(1, 29, rows)
    frame = pl.DataFrame(
        {
            "encounter_id": pl.Series(ids).cast(pl.String).str.pad_start(10, "E"),
            "coder_id": pl.Series(rng.integers(1, CODERS + 1, rows))
            .cast(pl.String)
            .str.pad_start(3, "0"),
            "provider_id": pl.Series(rng.integers(1, 800, rows)).cast(pl.String),
            "patient_name": pl.Series(rng.integers(100_000, 999_999, rows)).cast(pl.String),
            "service_date": pl.Series(day).cast(pl.String).str.pad_start(2, "0"),
            "setting": settings[rng.integers(0, 3, rows)],
            "dx_codes": dx_pool[rng.integers(0, len(dx_pool), rows)],
            "cpt_codes": cpt_pool[rng.integers(0, len(cpt_pool), rows)],
            "billed_amount": np.round(paid * 1.8 + 20, 2),
            "paid_amount": paid,
        }
    ).with_columns(
        ("C" + pl.col("coder_id")).alias("coder_id"),
        ("2026-07-" + pl.col("service_date")).alias("service_date"),
        ("Pt " + pl.col("patient_name")).alias("patient_name"),
    )
    frame.write_csv(csv_path)
    frame.write_parquet(parquet_path)
    size = csv_path.stat().st_size / 1e6
    print(f"  {csv_path.name}: {size:,.0f} MB; {parquet_path.name}", flush=True)
    return csv_path, parquet_path


CHILD = textwrap.dedent(
    """
    import json, resource, sys, time, shutil
    from pathlib import Path
    import polars as pl
    mode, path, out, plan = sys.argv[1:5]
    if mode == "sample":
        from audit_kit.sampling import draw_sample
    start = time.perf_counter()
    if mode == "read_csv":
        rows = pl.read_csv(path).height
    elif mode == "read_parquet":
        rows = pl.scan_parquet(path).collect().height
    elif mode == "warm":
        rows = len(Path(path).read_bytes())
    elif mode.startswith("floor"):
        # What draw_sample cannot skip: the frame columns read while the file is hashed.
        import hashlib, threading
        def digest():
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
        worker = threading.Thread(target=digest)
        worker.start()
        cols = ["encounter_id", "coder_id", "billed_amount", "paid_amount"]
        if mode == "floor_csv":
            types = {"billed_amount": pl.Float64, "paid_amount": pl.Float64}
            lf = pl.scan_csv(path, infer_schema=False, schema_overrides=types)
        else:
            lf = pl.scan_parquet(path)
        rows = lf.select(cols).collect().height
        worker.join()
    else:
        rows = draw_sample(Path(plan), Path(path), Path(out), force=True).sample_size
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "rows": rows}))
    """
)


def child(mode: str, path: Path, out: Path, plan: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path), str(out), str(plan)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(label: str, base_mode: str, path: Path, plan: Path, repeat: int) -> list[str]:
    out = WORK / "audit"
    child("warm", path, out, plan)
    base, ours, floor = [], [], []
    floor_mode = "floor_csv" if base_mode == "read_csv" else "floor_parquet"
    for _ in range(repeat):
        base.append(child(base_mode, path, out, plan))
        ours.append(child("sample", path, out, plan))
        floor.append(child(floor_mode, path, out, plan))
    shutil.rmtree(out, ignore_errors=True)
    b_time = statistics.median(r["seconds"] for r in base)
    o_time = statistics.median(r["seconds"] for r in ours)
    b_mem = max(r["peak_mb"] for r in base)
    o_mem = max(r["peak_mb"] for r in ours)
    f_time = statistics.median(r["seconds"] for r in floor)
    t_ratio, m_ratio = o_time / b_time, o_mem / b_mem
    verdict = "OK" if t_ratio <= TARGET and m_ratio <= TARGET else "ABOVE TARGET"
    return [
        f"{label}: {path.name} ({path.stat().st_size / 1e6:,.0f} MB)",
        f"  polars alone ({base_mode}): {b_time:7.2f} s  peak {b_mem:8,.0f} MB",
        f"  draw_sample:{'':{len(base_mode) + 3}} {o_time:7.2f} s  peak {o_mem:8,.0f} MB"
        f"  ({int(ours[0]['rows']):,} units drawn)",
        f"  ratio: time {t_ratio:.2f}x, memory {m_ratio:.2f}x (target <= {TARGET}x): {verdict}",
        f"  of which unskippable (frame columns read while the file is hashed): {f_time:.2f} s"
        f" = {f_time / b_time:.2f}x",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()
    csv_path, parquet_path = generate(args.rows)
    plan = WORK / "plan.yaml"
    plan.write_text(PLAN, "utf-8")
    lines = [f"bench_sampling: {args.rows:,} rows, {CODERS} coders x 3 dollar bands"]
    lines += measure("CSV", "read_csv", csv_path, plan, args.repeat)
    lines += measure("Parquet", "read_parquet", parquet_path, plan, args.repeat)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
