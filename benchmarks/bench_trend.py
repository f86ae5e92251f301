"""Benchmark: the trend report over 8 periods x 50 coders (target: under 10 s for the PDF).

Builds 8 scored audit folders of 50 coders x 20 units (tests/trend_helpers.py; not timed), then
times ``audit-kit trend``'s work: verifying and reading the audits and building the trend, the
workbook, and the PDF. Prints each figure and the PDF's share of the 10 s target. Timings are
noisy on a shared machine; the ratio to the target is what to compare between runs.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from trend_helpers import make_period_audit  # noqa: E402

from audit_kit.program import build_trend, read_audits  # noqa: E402
from audit_kit.reporting.trend import trend_pdf_bytes  # noqa: E402
from audit_kit.reporting.trend_workbook import trend_workbook_bytes  # noqa: E402

PERIODS, CODERS, UNITS = 8, 50, 20
TARGET_SECONDS = 10.0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        dirs = []
        for i in range(PERIODS):
            year, q = 2025 + i // 4, i % 4 + 1
            end = {1: "03-31", 2: "06-30", 3: "09-30", 4: "12-31"}[q]
            path, _ = make_period_audit(
                base / f"p{i}",
                period={"start": f"{year}-{3 * q - 2:02d}-01", "end": f"{year}-{end}"},
                coders=CODERS,
                units_per_coder=UNITS,
                error_rate=0.25 - 0.015 * i,
                seed=100 + i,
            )
            dirs.append(path)
        t = time.perf_counter()
        trend = build_trend(read_audits(dirs))
        data = trend.to_dict()
        model = time.perf_counter() - t
        t = time.perf_counter()
        trend_workbook_bytes(data)
        workbook = time.perf_counter() - t
        t, cpu = time.perf_counter(), time.process_time()
        pdf = trend_pdf_bytes(data, json_bytes=b"{}")
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"trend of {PERIODS} periods x {CODERS} coders ({UNITS} units each)")
    print(f"  verify + read + model: {model:.2f} s")
    print(f"  trend.xlsx:            {workbook:.2f} s")
    size = len(pdf) / 1024
    print(f"  trend.pdf:             {seconds:.2f} s wall, {cpu:.2f} s CPU ({size:.0f} KiB)")
    total = model + workbook + seconds
    print(
        f"  all three:             {total:.2f} s = {total / TARGET_SECONDS:.2f} x the 10 s target"
    )
    print(f"  PDF alone: {seconds / TARGET_SECONDS:.2f} x the 10 s target (wall)")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time is noisy)")


if __name__ == "__main__":
    main()
