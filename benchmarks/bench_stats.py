"""Benchmark: exact attribute limits at N = 2,131,341,220 and a 100 x 1,000 stratified appraisal.

Targets (docs/performance.md):
* exact attribute limits for N = 2,131,341,220: under 50 ms;
* stratified variable appraisal of 100 strata x 1,000 units: under 100 ms.

    .venv/bin/python benchmarks/bench_stats.py [--repeat 7]

Each figure is the best of ``--repeat`` runs of the whole public call (input validation
included): ``appraise_attribute`` computes the exact two-sided limits at 80, 90 and 95%
(six bisections on K); ``appraise_variable_stratified`` computes every stratum (moments, t
values, limits) and the combined z interval. The first, cold call (scipy's special functions
and the t-value cache warming up) is printed as well.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from audit_kit.stats import VariableStratum, appraise_attribute, appraise_variable_stratified

ATTRIBUTE_TARGET_S = 0.050
STRATIFIED_TARGET_S = 0.100
BIG_N = 2_131_341_220


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Return (first call, best of ``repeat`` further calls) in seconds."""
    start = time.perf_counter()
    call()
    first = time.perf_counter() - start
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return first, best


def report(label: str, first: float, best: float, target: float) -> bool:
    ratio = best / target
    verdict = "OK" if best < target else "OVER TARGET"
    print(
        f"{label:<58} best {best * 1000:8.2f} ms   first {first * 1000:8.2f} ms   "
        f"target {target * 1000:.0f} ms   ratio {ratio:5.2f}  {verdict}"
    )
    return best < target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    ok = True
    for n, x in ((400, 82), (100, 0), (2_000, 410), (10_000, 2_050)):
        first, best = timed(lambda n=n, x=x: appraise_attribute(BIG_N, n, x), args.repeat)
        label = f"exact attribute limits N={BIG_N:,} n={n:,} x={x:,}"
        ok &= report(label, first, best, ATTRIBUTE_TARGET_S)
    result = appraise_attribute(BIG_N, 400, 82)
    print(
        "    (n=400, x=82: 90% limits "
        f"{result.limits['90'].lower:,} .. {result.limits['90'].upper:,})"
    )

    rng = np.random.default_rng(20261127)
    strata = [
        VariableStratum(
            name=f"stratum {h:03d}",
            population=int(rng.integers(5_000, 50_000)),
            values=np.round(rng.lognormal(4.0, 1.0, 1_000) * (rng.random(1_000) < 0.3), 2).tolist(),
        )
        for h in range(100)
    ]
    first, best = timed(lambda: appraise_variable_stratified(strata), args.repeat)
    ok &= report("stratified variable appraisal, 100 strata x 1,000 units", first, best,
                 STRATIFIED_TARGET_S)  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
