"""Coverage study: how often the truth falls below each lower limit the reports print.

    .venv/bin/python benchmarks/bench_coverage.py [--reps 2000] [--seed 20261202] [--quick]

Every interval audit-kit prints is simulated on known universes (docs/methods.md quotes the
table this prints). For each scenario and method: the share of samples whose lower limit lies
above the truth ("fails"; nominal 5% for the lower limit of a two-sided 90% interval, 10% for a
one-sided 90% bound), and the mean distance of the bound below the truth (how tight it is).

Accuracy scenarios (coders: units carry 1 + Poisson(4) codes; a share q of units has errors,
clumped within the unit: 1 + Binomial(r - 1, 0.4) wrong codes of r):
clumped rare errors, high error rates, tiny groups, zero-error samples, errors in the largest
units, a stratified design (overall and a provider cutting across strata, i.e. a domain), and
record accuracy (error-free share of units). The old linearised ratio interval with t limits
(``stats.ratio_interval``) is printed beside the Korn-Graubard interval for comparison.

Overpayment scenarios (N = 3,000 claims, simple random samples without replacement): the
RAT-STATS t limits, the Kaplan-Wald and minimum-sum bounds, on lognormal paid amounts with 15%
partial errors, and on mostly full denials of similar amounts (the case where the t limit fails).

Statistics only: no timing, so machine load does not change the numbers (seeded).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from audit_kit.stats import (
    accuracy_interval,
    clopper_pearson,
    design_accuracy,
    hypergeometric_limits,
    kaplan_wald_lower_bound,
    minimum_sum_lower_bound,
    paid_steps,
    ratio_interval,
)

Array = npt.NDArray[np.float64]


@dataclass
class Row:
    scenario: str
    method: str
    nominal: float
    fails: float
    gap: float  # mean (truth - bound), in the measure's units


def coder(
    rng: np.random.Generator, size: int, share: float, *, big_first: bool = False
) -> tuple[Array, Array]:
    reviewed = 1 + rng.poisson(4, size)
    if big_first:  # errors where the codes are: the largest units err most often
        prob = np.clip(share * reviewed / reviewed.mean(), 0, 1)
        err = rng.random(size) < prob
    else:
        err = rng.random(size) < share
    wrong = np.where(err, 1 + rng.binomial(reviewed - 1, 0.4), 0)
    return (reviewed - wrong).astype(float), reviewed.astype(float)


def accuracy_rows(
    rng: np.random.Generator, reps: int, name: str, size: int, n: int, share: float, **kw: bool
) -> list[Row]:
    correct, reviewed = coder(rng, size, share, **kw)
    truth = correct.sum() / reviewed.sum()
    kg2 = kg1 = old = 0
    gap1 = gap_old = 0.0
    for _ in range(reps):
        pick = rng.choice(size, n, replace=False)
        est = accuracy_interval(correct[pick], reviewed[pick], confidence=0.90, population=size)
        assert est.one_sided_lower is not None
        kg2 += truth < est.lower
        kg1 += truth < est.one_sided_lower
        gap1 += truth - est.one_sided_lower
        lin = ratio_interval(correct[pick], reviewed[pick], 0.80, population=size)
        lin_lower = lin.lower
        if lin.se == 0.0:  # what scoring did before: Clopper-Pearson on the code counts
            ok, total = int(correct[pick].sum()), int(reviewed[pick].sum())
            lin_lower = min(clopper_pearson(ok, total, 0.80)[0], lin.value)
        old += truth < lin_lower
        gap_old += truth - lin_lower
    label = f"{name} (N={size}, n={n}, q={share:.0%}; truth {truth:.4f})"
    return [
        Row(label, "Korn-Graubard, two-sided 90% lower", 0.05, kg2 / reps, math.nan),
        Row(label, "Korn-Graubard, one-sided 90%", 0.10, kg1 / reps, gap1 / reps),
        Row(
            label,
            "before: linearised ratio + t (CP on codes if var 0), one-sided 90%",
            0.10,
            old / reps,
            gap_old / reps,
        ),
    ]


def stratified_rows(rng: np.random.Generator, reps: int) -> list[Row]:
    sizes = {"A": 1500, "B": 600, "C": 300}
    shares = {"A": 0.03, "B": 0.10, "C": 0.25}
    samples = {"A": 40, "B": 30, "C": 20}
    frames = {h: coder(rng, sizes[h], shares[h]) for h in sizes}
    member = {h: rng.random(sizes[h]) < 0.4 for h in sizes}
    truth = sum(f[0].sum() for f in frames.values()) / sum(f[1].sum() for f in frames.values())
    truth_d = sum(frames[h][0][member[h]].sum() for h in sizes) / sum(
        frames[h][1][member[h]].sum() for h in sizes
    )
    ok = {h: (frames[h][0] == frames[h][1]).astype(float) for h in sizes}
    truth_rec = sum(ok[h][member[h]].sum() for h in sizes) / sum(member[h].sum() for h in sizes)
    labels = [h for h in sizes for _ in range(samples[h])]
    counts = {"overall": 0, "domain": 0, "record": 0}
    gaps = {"overall": 0.0, "domain": 0.0, "record": 0.0}
    for _ in range(reps):
        picks = {h: rng.choice(sizes[h], samples[h], replace=False) for h in sizes}
        y = np.concatenate([frames[h][0][picks[h]] for h in sizes])
        x = np.concatenate([frames[h][1][picks[h]] for h in sizes])
        d = np.concatenate([member[h][picks[h]] for h in sizes])
        good = np.concatenate([ok[h][picks[h]] for h in sizes])
        for key, value, yy, xx, dom in (
            ("overall", truth, y, x, None),
            ("domain", truth_d, y, x, d),
            ("record", truth_rec, good, np.ones_like(good), d),
        ):
            est = design_accuracy(
                yy, xx, strata=labels, populations=sizes, confidence=0.90, domain=dom
            )
            assert est.one_sided_lower is not None
            counts[key] += value < est.one_sided_lower
            gaps[key] += (value - est.one_sided_lower) / reps
    label = "stratified design, 3 strata (n_h = 40/30/20 of 1,500/600/300; q = 3/10/25%)"
    return [
        Row(
            label,
            "overall code accuracy, one-sided 90%",
            0.10,
            counts["overall"] / reps,
            gaps["overall"],
        ),
        Row(
            label,
            "provider across strata (domain), one-sided 90%",
            0.10,
            counts["domain"] / reps,
            gaps["domain"],
        ),
        Row(
            label,
            "provider record accuracy (domain), one-sided 90%",
            0.10,
            counts["record"] / reps,
            gaps["record"],
        ),
    ]


def record_rows(rng: np.random.Generator, reps: int) -> list[Row]:
    size, n = 800, 40
    correct, reviewed = coder(rng, size, 0.08)
    ok = correct == reviewed
    truth = ok.mean()
    fails = 0
    gap = 0.0
    for _ in range(reps):
        pick = rng.choice(size, n, replace=False)
        errors = int((~ok[pick]).sum())
        _, k_high = hypergeometric_limits(size, n, errors, 0.80)
        assert k_high is not None
        lower = 1.0 - k_high / size
        fails += truth < lower
        gap += (truth - lower) / reps
    label = f"record accuracy of one stratum (N={size}, n={n}; truth {truth:.4f})"
    return [Row(label, "hypergeometric (RAT-STATS rule), one-sided 90%", 0.10, fails / reps, gap)]


def money_rows(
    rng: np.random.Generator, reps: int, name: str, paid: Array, over: Array, n: int
) -> list[Row]:
    size = paid.size
    truth = over.sum()
    steps = paid_steps(paid)
    t80 = float(special.stdtrit(n - 1, 0.90))
    t90 = float(special.stdtrit(n - 1, 0.95))
    keys = (
        "t one-sided 90%",
        "t two-sided 90% lower",
        "Kaplan-Wald one-sided 90%",
        "minimum-sum one-sided 90%",
    )
    fails = dict.fromkeys(keys, 0)
    gaps = dict.fromkeys(keys, 0.0)
    for _ in range(reps):
        pick = rng.choice(size, n, replace=False)
        x = over[pick]
        se = size * x.std(ddof=1) / math.sqrt(n) * math.sqrt((size - n) / size)
        point = size * x.mean()
        bounds = {
            keys[0]: point - t80 * se,
            keys[1]: point - t90 * se,
            keys[2]: kaplan_wald_lower_bound(x, size, confidence=0.90),
            keys[3]: minimum_sum_lower_bound(x, size, steps, confidence=0.90),
        }
        for key, value in bounds.items():
            fails[key] += truth < value
            gaps[key] += (truth - value) / reps
    label = f"{name} (N={size}, n={n}; total {truth:,.0f})"
    nominal = {keys[0]: 0.10, keys[1]: 0.05, keys[2]: 0.10, keys[3]: 0.10}
    return [Row(label, k, nominal[k], fails[k] / reps, gaps[k]) for k in keys]


def lognormal(rng: np.random.Generator) -> tuple[Array, Array]:
    paid = rng.lognormal(6.0, 1.0, 3000)
    err = rng.random(3000) < 0.15
    return paid, np.where(err, paid * rng.uniform(0.2, 1.0, 3000), 0.0)


def denials(rng: np.random.Generator, share: float) -> tuple[Array, Array]:
    paid = rng.choice(np.array([138.0, 148.0, 161.0]), 3000) * rng.uniform(0.98, 1.02, 3000)
    return paid, np.where(rng.random(3000) < share, paid, 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--quick", action="store_true", help="200 repetitions (a smoke run)")
    args = parser.parse_args(argv)
    reps = 200 if args.quick else args.reps
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    scenarios: list[Callable[[], list[Row]]] = [
        lambda: accuracy_rows(rng, reps, "clumped rare errors", 600, 30, 0.03),
        lambda: accuracy_rows(rng, reps, "clumped rare errors", 5000, 100, 0.03),
        lambda: accuracy_rows(rng, reps, "moderate errors", 2000, 50, 0.10),
        lambda: accuracy_rows(rng, reps, "high error rate", 600, 30, 0.20),
        lambda: accuracy_rows(rng, reps, "tiny group", 2000, 5, 0.10),
        lambda: accuracy_rows(rng, reps, "tiny group", 300, 10, 0.05),
        lambda: accuracy_rows(rng, reps, "zero-error samples (no errors)", 800, 30, 0.0),
        lambda: accuracy_rows(
            rng, reps, "errors in the largest units", 1500, 40, 0.05, big_first=True
        ),
        lambda: stratified_rows(rng, reps),
        lambda: record_rows(rng, reps),
        lambda: money_rows(rng, reps, "lognormal paid, 15% partial errors", *lognormal(rng), 50),
        lambda: money_rows(rng, reps, "97% full denials, similar amounts", *denials(rng, 0.97), 30),
        lambda: money_rows(rng, reps, "90% full denials, similar amounts", *denials(rng, 0.90), 50),
        lambda: money_rows(rng, reps, "5% full denials (rare)", *denials(rng, 0.05), 60),
    ]
    rows: list[Row] = []
    for make in scenarios:
        rows.extend(make())
    print(f"Coverage study: {reps} repetitions per scenario, seed {args.seed} (numpy PCG64).")
    print("fails = share of samples whose lower bound is above the truth; a bound holds when")
    print("fails <= nominal (+ 2 points of simulation noise). gap = mean (truth - bound).\n")
    print("| scenario | method | nominal | fails | gap |")
    print("|---|---|---|---|---|")
    for r in rows:
        gap = "" if math.isnan(r.gap) else (f"{r.gap:.4f}" if abs(r.gap) < 2 else f"{r.gap:,.0f}")
        flag = " **over**" if r.fails > r.nominal + 0.02 else ""
        print(f"| {r.scenario} | {r.method} | {r.nominal:.0%} | {r.fails:.1%}{flag} | {gap} |")
    print(f"\n({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
