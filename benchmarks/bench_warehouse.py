"""Benchmark: sampling a universe in DuckDB, pushed down, against DuckDB's own queries (SPEC 12).

    python benchmarks/bench_warehouse.py                       # 5M rows; memory 1M vs 50M
    python benchmarks/bench_warehouse.py --rows 1000000 --memory-rows 200000,2000000 --repeat 1

Builds DuckDB databases in benchmarks/_work/ (git-ignored; deterministic for a size): a claims
table of --rows rows, 200 coders, lognormal paid amounts in DECIMAL(12,2). Each measurement runs
in a fresh Python process:

(a) DuckDB alone: its census (``SELECT coder, band, count(*) ... GROUP BY``) plus one pass of
    the numbered frame (``ROW_NUMBER() OVER (PARTITION BY coder, band ORDER BY id)``, every row
    numbered: a filter ``n <= 10`` would let DuckDB keep a top-N per partition instead);
(b) ``audit_kit.sampling.draw_sample`` from ``duckdb:///...``: the stratified plan of
    bench_sampling.py (200 coders x 3 dollar bands, 10 per stratum): census and checks,
    strata with the content fingerprint (md5 of every frame row), draw, fetch.

Time: the operation's wall time in the child, the median of --repeat runs. Target (SPEC 12):
(b) / (a) <= 1.5. Memory: the Python heap's peak (tracemalloc: what the audit-kit process holds
in Python objects and numpy arrays; DuckDB's own buffers are the engine's and are not counted)
and the process's peak RSS (engine included), for --memory-rows sizes. Target: Python peak at
50M rows <= 1.2x that at 1M rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

WORK = Path(__file__).resolve().parent / "_work"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sampling import PLAN  # noqa: E402  (the same plan as for files)

TARGET_TIME = 1.5
TARGET_MEMORY = 1.2


def database(rows: int) -> Path:
    import duckdb

    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"warehouse_{rows}.duckdb"
    if path.is_file():
        return path
    print(f"building {path.name} ({rows:,} rows) ...", flush=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    con.execute("SELECT setseed(0.27)")
    con.execute(
        f"""CREATE TABLE claims AS
        SELECT 'E' || CAST(100000000 + i AS VARCHAR) AS encounter_id,
               'C' || lpad(CAST(1 + (hash(i) % 200) AS VARCHAR), 3, '0') AS coder_id,
               'P' || CAST(hash(i * 7) % 800 AS VARCHAR) AS provider_id,
               'Pt ' || CAST(100000 + hash(i * 13) % 899999 AS VARCHAR) AS patient_name,
               DATE '2026-07-01' + CAST(hash(i * 3) % 28 AS INTEGER) AS service_date,
               ['inpatient', 'outpatient', 'professional'][1 + CAST(hash(i * 5) % 3 AS INTEGER)]
                   AS setting,
               'E11.9;I10' AS dx_codes, '99214-25' AS cpt_codes,
               CAST(round(exp(5.5 + 1.3 * sqrt(-2 * ln(random() + 1e-12))
                    * cos(2 * pi() * random())), 2) AS DECIMAL(12, 2)) AS paid_amount,
               CAST(0 AS DECIMAL(12, 2)) AS billed_amount
        FROM range({rows}) t(i) ORDER BY hash(i * 11)"""
    )
    con.close()
    tmp.rename(path)
    return path


CHILD = textwrap.dedent(
    """
    import json, resource, shutil, sys, time, tracemalloc
    from pathlib import Path
    mode, db, out, plan = sys.argv[1:5]
    if mode == "sample":
        from audit_kit.sampling import draw_sample
        tracemalloc.start()
        start = time.perf_counter()
        draw_sample(plan, "duckdb:///" + db, Path(out), table="claims", force=True)
        seconds = time.perf_counter() - start
        python_peak = tracemalloc.get_traced_memory()[1]
        shutil.rmtree(out)
    else:
        import duckdb
        con = duckdb.connect(db, read_only=True)
        con.execute("SET enable_progress_bar = false")
        band = "CASE WHEN paid_amount >= 1500 THEN 2 WHEN paid_amount >= 250 THEN 1 ELSE 0 END"
        tracemalloc.start()
        start = time.perf_counter()
        census = con.execute(
            f"SELECT coder_id, {band} AS b, count(*) FROM claims WHERE paid_amount > 0 "
            "GROUP BY ALL"
        ).fetchall()
        picked = con.execute(
            f"SELECT count(*) FROM (SELECT ROW_NUMBER() OVER (PARTITION BY coder_id, {band} "
            "ORDER BY encounter_id) AS n FROM claims WHERE paid_amount > 0) WHERE n % 997 = 1"
        ).fetchall()
        seconds = time.perf_counter() - start
        python_peak = tracemalloc.get_traced_memory()[1]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "python_peak": python_peak, "rss": rss}))
    """
)


def child(mode: str, db: Path, plan: Path) -> dict[str, float]:
    out = WORK / "audit-warehouse"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(db), str(out), str(plan)],
        check=True,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return dict(json.loads(lines[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--memory-rows", default="1000000,50000000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    plan = WORK / "plan_warehouse.yaml"
    WORK.mkdir(parents=True, exist_ok=True)
    plan.write_text(PLAN, "utf-8")
    db = database(args.rows)
    child("duckdb", db, plan)  # warm: the file in the page cache
    engine = [child("duckdb", db, plan)["seconds"] for _ in range(args.repeat)]
    ours = [child("sample", db, plan)["seconds"] for _ in range(args.repeat)]
    a, b = statistics.median(engine), statistics.median(ours)
    print(f"{args.rows:,} rows in DuckDB, 200 coders x 3 bands, 10 per stratum")
    print(f"  DuckDB census + numbered frame: {a:.2f} s")
    print(
        f"  audit-kit sample (push-down):    {b:.2f} s  ratio {b / a:.2f}x (target {TARGET_TIME}x)"
    )
    sizes = [int(s) for s in args.memory_rows.split(",")]
    peaks = {}
    for size in sizes:
        result = child("sample", database(size), plan)
        peaks[size] = result
        print(
            f"  {size:>12,} rows: Python peak {result['python_peak'] / 1e6:.1f} MB, "
            f"process RSS {result['rss'] / 1e6:.0f} MB, {result['seconds']:.1f} s"
        )
    small, large = peaks[sizes[0]], peaks[sizes[-1]]
    ratio = large["python_peak"] / small["python_peak"]
    print(
        f"  Python peak {sizes[-1]:,} / {sizes[0]:,} rows: {ratio:.2f}x (target {TARGET_MEMORY}x); "
        f"RSS {large['rss'] / small['rss']:.2f}x (the engine's buffers included)"
    )


if __name__ == "__main__":
    main()
