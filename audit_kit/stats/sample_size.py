"""Variable sample sizes (unrestricted and stratified), allocation, the CIA full-sample rule.

Sources: RAT-STATS 2010 User Guide (UG2010) ch. 5 "Sample Size Determination" (variable,
unrestricted pp. 5-6..5-11) and Companion Manual (CM2010) ch. 4 (pp. 4-5, 4-18); Cochran,
Sampling Techniques, 3rd ed. (1977) ch. 4 (n for a total) and ch. 5 (Neyman allocation);
OIG Corporate Integrity Agreement Appendix B (Claims Review: discovery and full samples).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from audit_kit.stats._core import (
    SIZE_CONFIDENCES,
    SIZE_PRECISIONS,
    Problems,
    json_float,
    z_critical,
)

__all__ = [
    "CiaFullSample",
    "SizeStratum",
    "StratifiedAllocation",
    "StratifiedSampleSize",
    "StratifiedSize",
    "VariableSampleSize",
    "achieved_precision",
    "allocate",
    "cia_full_sample_size",
    "required_sample_size",
    "stratified_allocation",
    "stratified_sample_size",
    "variable_sample_size",
    "variable_sample_size_from_error_rate",
    "variable_sample_size_from_probe",
]

AllocationMethod = Literal["neyman", "proportional", "equal"]


def _key(value: float) -> str:
    return f"{value:g}"


def _levels(problems: Problems, confidences: Sequence[str]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    for key in confidences:
        try:
            level = float(key) / 100
        except (TypeError, ValueError):
            level = math.nan
        if not 0.0 < level < 1.0:
            problems.add("confidences", "confidence levels in percent, e.g. 90", repr(key))
        else:
            out.append((str(key), level))
    return out


def _precisions(problems: Problems, precisions: Sequence[float]) -> list[float]:
    out: list[float] = []
    for value in precisions:
        number = problems.number("precisions", value)
        if number is not None and number <= 0.0:
            problems.add("precisions", "precision percentages above 0", repr(value))
        elif number is not None:
            out.append(number)
    return out


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def required_sample_size(
    *, mean: float, sd: float, population: int, confidence: float, precision_percent: float
) -> float:
    """Return the unrounded unrestricted variable sample size for one (CL, precision) cell.

    Formula (UG2010 p. 5-6; Cochran 1977 ch. 4, n for a total): E = precision% * mean * N,
    n = (SD*N)^2 / ((E/z)^2 + N*SD^2), z = Phi^-1((1+CL)/2). ``confidence`` is a fraction.
    Inputs are assumed valid (see :func:`variable_sample_size`).
    """
    z = z_critical(confidence)
    error = precision_percent / 100.0 * mean * population
    numerator = (sd * population) ** 2
    return numerator / ((error / z) ** 2 + population * sd * sd) if numerator else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class VariableSampleSize:
    """Unrestricted variable sample-size table: precision % rows x confidence % columns."""

    population: int
    mean: float
    sd: float
    source: Literal["entered", "probe", "error_rate"]
    table: dict[str, dict[str, int | None]]
    probe_size: int | None = None
    error_rate: float | None = None
    universe_total: float | None = None
    reported_sd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "table": {p: dict(row) for p, row in self.table.items()},
            "population": self.population,
            "mean": self.mean,
            "sd": self.sd,
            "source": self.source,
        }
        if self.probe_size is not None:
            out["probe_size"] = self.probe_size
        if self.error_rate is not None:
            out["error_rate"] = self.error_rate
            out["universe_total"] = self.universe_total
            out["reported_sd"] = self.reported_sd
        return out


def _check_mean_sd(
    problems: Problems, mean: object, sd: object, population: object
) -> tuple[float, float, int] | None:
    m = problems.number("mean", mean)
    s = problems.number("sd", sd)
    big_n = problems.count("population", population, minimum=1)
    if m is not None and m <= 0:
        problems.add(
            "mean",
            "a positive mean (precision is a percentage of the estimated total)",
            m,
            "sample sizes for a zero or negative mean are undefined.",
        )
        m = None
    if s is not None and s < 0:
        problems.add("sd", "a standard deviation >= 0", s)
        s = None
    if m is None or s is None or big_n is None:
        return None
    return m, s, big_n


def variable_sample_size(
    *,
    mean: float,
    sd: float,
    population: int,
    precisions: Sequence[float] = SIZE_PRECISIONS,
    confidences: Sequence[str] = SIZE_CONFIDENCES,
) -> VariableSampleSize:
    """Return the unrestricted variable sample-size table for an entered mean and SD.

    Each cell is :func:`required_sample_size` rounded to the nearest whole number (halves up),
    ``None`` where that is 0 (RAT-STATS prints ``---``). z, not t (UG2010 p. 5-6).
    Validated against UG2010 p. 5-11 / CM2010 p. 4-5 (mean 400, SD 50, N = 100,000).
    """
    problems = Problems()
    checked = _check_mean_sd(problems, mean, sd, population)
    levels = _levels(problems, confidences)
    rows = _precisions(problems, precisions)
    problems.raise_if_any("Cannot compute a variable sample size.")
    assert checked is not None
    m, s, big_n = checked
    return VariableSampleSize(
        population=big_n, mean=m, sd=s, source="entered", table=_table(m, s, big_n, rows, levels)
    )


def _table(
    mean: float, sd: float, population: int, rows: list[float], levels: list[tuple[str, float]]
) -> dict[str, dict[str, int | None]]:
    table: dict[str, dict[str, int | None]] = {}
    for precision in rows:
        row: dict[str, int | None] = {}
        for key, level in levels:
            n = _round_half_up(
                required_sample_size(
                    mean=mean,
                    sd=sd,
                    population=population,
                    confidence=level,
                    precision_percent=precision,
                )
            )
            row[key] = n if n > 0 else None
        table[_key(precision)] = row
    return table


def variable_sample_size_from_probe(
    values: Sequence[float],
    *,
    population: int,
    precisions: Sequence[float] = SIZE_PRECISIONS,
    confidences: Sequence[str] = SIZE_CONFIDENCES,
) -> VariableSampleSize:
    """Return the sample-size table from a probe sample's mean and SD (divisor n-1).

    UG2010 pp. 5-8..5-11: the probe's mean and standard deviation replace entered values.
    A probe needs at least 2 values.
    """
    problems = Problems()
    array = problems.values("probe", values)
    if array is not None and array.size < 2:
        problems.add("probe", "at least 2 values", f"{array.size} value", "use a larger probe.")
    problems.raise_if_any("Cannot use this probe sample.")
    assert array is not None
    mean = float(array.mean())
    sd = float(array.std(ddof=1))
    result = variable_sample_size(
        mean=mean, sd=sd, population=population, precisions=precisions, confidences=confidences
    )
    return VariableSampleSize(
        population=result.population,
        mean=mean,
        sd=sd,
        source="probe",
        table=result.table,
        probe_size=int(array.size),
    )


def variable_sample_size_from_error_rate(
    *,
    error_rate: float,
    universe_total: float,
    sd: float,
    population: int,
    precisions: Sequence[float] = SIZE_PRECISIONS,
    confidences: Sequence[str] = SIZE_CONFIDENCES,
) -> VariableSampleSize:
    """Return the sample-size table for the differences implied by an expected error rate.

    Formula (UG2010 ch. 5, "expected error rate" entry): mean_R = T_R/N;
    mean_D = p*mean_R; SD_D = sqrt(p*(SD_R^2 + mean_R^2*(1-p))) (an item is in error with
    probability p and then its whole reported value is the difference), then as
    :func:`variable_sample_size` with mean_D and SD_D. ``error_rate`` is a fraction.
    """
    problems = Problems()
    p = problems.number("error_rate", error_rate)
    total = problems.number("universe_total", universe_total)
    sd_r = problems.number("sd", sd)
    big_n = problems.count("population", population, minimum=1)
    if p is not None and not 0.0 < p <= 1.0:
        problems.add("error_rate", "a rate above 0 and at most 1 (0.15 for 15%)", p)
    if total is not None and total <= 0:
        problems.add("universe_total", "a positive universe total", total)
    if sd_r is not None and sd_r < 0:
        problems.add("sd", "a standard deviation >= 0", sd_r)
    problems.raise_if_any("Cannot compute a variable sample size from an error rate.")
    assert p is not None and total is not None and sd_r is not None and big_n is not None
    mean_r = total / big_n
    mean_d = p * mean_r
    sd_d = math.sqrt(p * (sd_r * sd_r + mean_r * mean_r * (1.0 - p)))
    result = variable_sample_size(
        mean=mean_d, sd=sd_d, population=big_n, precisions=precisions, confidences=confidences
    )
    return VariableSampleSize(
        population=big_n,
        mean=mean_d,
        sd=sd_d,
        source="error_rate",
        table=result.table,
        error_rate=p,
        universe_total=total,
        reported_sd=sd_r,
    )


# ---------------------------------------------------------------------------------------------
# Stratified
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SizeStratum:
    """A stratum for sample-size work: universe size and the expected mean and SD."""

    name: str
    population: int
    mean: float
    sd: float


@dataclass(frozen=True, slots=True, kw_only=True)
class StratifiedSize:
    """One cell of a stratified sample-size table: the total and its Neyman allocation."""

    total: int
    strata: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "strata": dict(self.strata)}


@dataclass(frozen=True, slots=True, kw_only=True)
class StratifiedSampleSize:
    """Stratified variable sample-size table (n unknown), Neyman allocation per cell."""

    population: int
    table: dict[str, dict[str, StratifiedSize]]
    method: str = "Neyman allocation, ceil(n * N_h SD_h / sum N_h SD_h), capped at N_h"

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": {
                p: {c: cell.to_dict() for c, cell in row.items()} for p, row in self.table.items()
            },
            "population": self.population,
            "method": self.method,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StratifiedAllocation:
    """A known total sample allocated to strata, with the precision it achieves."""

    total_sample: int
    allocation: dict[str, int]
    point_estimate: float
    se_total: float
    precision_percent: dict[str, float | None]
    method: str = "neyman"

    def to_dict(self) -> dict[str, Any]:
        return {
            "allocation": dict(self.allocation),
            "precision_percent": dict(self.precision_percent),
            "total_sample": self.total_sample,
            "point_estimate": self.point_estimate,
            "se_total": json_float(self.se_total),
            "method": self.method,
        }


def _check_size_strata(problems: Problems, strata: Sequence[SizeStratum]) -> None:
    if not strata:
        problems.add("strata", "at least one stratum", "none", "list the strata.")
    seen: set[str] = set()
    for index, s in enumerate(strata):
        where = f"strata[{index}] ({s.name})"
        if s.name in seen:
            problems.add(where, "unique stratum names", f"{s.name!r} twice")
        seen.add(s.name)
        problems.count(f"{where}: population", s.population, minimum=1)
        problems.number(f"{where}: mean", s.mean)
        sd = problems.number(f"{where}: sd", s.sd)
        if sd is not None and sd < 0:
            problems.add(f"{where}: sd", "a standard deviation >= 0", sd)


def _neyman_ceil(n: float, strata: Sequence[SizeStratum]) -> dict[str, int]:
    """Neyman shares rounded up, capped at N_h, the remainder re-allocated to the others."""
    fixed: dict[str, int] = {}
    while True:
        free = [s for s in strata if s.name not in fixed]
        remaining = n - sum(fixed.values())
        weight = math.fsum(s.population * s.sd for s in free)
        quota = {
            s.name: math.ceil(remaining * s.population * s.sd / weight) if weight > 0 else 0
            for s in free
        }
        over = [s for s in free if quota[s.name] > s.population]
        if not over:
            break
        for s in over:
            fixed[s.name] = s.population
    return {s.name: fixed.get(s.name, quota.get(s.name, 0)) for s in strata}


def stratified_sample_size(
    strata: Sequence[SizeStratum],
    *,
    precisions: Sequence[float] = SIZE_PRECISIONS,
    confidences: Sequence[str] = SIZE_CONFIDENCES,
) -> StratifiedSampleSize:
    """Return the stratified variable sample-size table (total n unknown).

    Formula (UG2010 ch. 5 "Stratified Variable Sample Size", n unknown; Cochran 1977
    ch. 5, n with Neyman allocation): E = precision% * sum N_h mean_h,
    n = (sum N_h SD_h)^2 / ((E/z)^2 + sum N_h SD_h^2); n_h = ceil(n * N_h SD_h / sum N_h SD_h),
    capped at N_h with the remainder re-allocated to the other strata by the same rule; the
    cell's total is sum n_h. A stratum with SD_h = 0 gets n_h = 0 (set a minimum when drawing).
    """
    problems = Problems()
    _check_size_strata(problems, strata)
    levels = _levels(problems, confidences)
    rows = _precisions(problems, precisions)
    problems.raise_if_any("Cannot compute a stratified sample size.")
    total_mean = math.fsum(s.population * s.mean for s in strata)
    if total_mean <= 0:
        problems.add(
            "strata",
            "a positive expected universe total (sum N_h * mean_h)",
            f"{total_mean:g}",
            "precision is a percentage of the total; check the means.",
        )
        problems.raise_if_any("Cannot compute a stratified sample size.")
    sum_nsd = math.fsum(s.population * s.sd for s in strata)
    sum_nsd2 = math.fsum(s.population * s.sd * s.sd for s in strata)
    table: dict[str, dict[str, StratifiedSize]] = {}
    for precision in rows:
        row: dict[str, StratifiedSize] = {}
        error = precision / 100.0 * total_mean
        for key, level in levels:
            z = z_critical(level)
            n = sum_nsd**2 / ((error / z) ** 2 + sum_nsd2) if sum_nsd else 0.0
            allocation = _neyman_ceil(n, strata)
            row[key] = StratifiedSize(total=sum(allocation.values()), strata=allocation)
        table[_key(precision)] = row
    return StratifiedSampleSize(population=sum(s.population for s in strata), table=table)


def allocate(
    total: int,
    populations: Mapping[str, int],
    *,
    method: AllocationMethod = "neyman",
    sds: Mapping[str, float] | None = None,
    minimum: int = 0,
) -> dict[str, int]:
    """Allocate a total sample to strata; every n_h within [min(minimum, N_h), N_h].

    Shares n_h = clip(lambda * w_h, min(minimum, N_h), N_h) with w_h = N_h SD_h (``neyman``,
    Cochran 1977 ch. 5), N_h (``proportional``) or 1 (``equal``) and lambda such that they sum
    to min(total, sum N_h): strata whose share would exceed N_h are taken in full and the rest
    re-allocated among the others, strata below the minimum get the minimum. Shares are then
    rounded by largest remainder (ties to the earlier stratum) so the sum is exact. Neyman
    with every SD 0 falls back to proportional; strata with SD 0 get the minimum unless the
    others, taken in full, cannot reach the total.
    """
    problems = Problems()
    n = problems.count("total", total, minimum=0)
    low = problems.count("minimum", minimum, minimum=0)
    if method not in ("neyman", "proportional", "equal"):
        problems.add("method", "neyman, proportional or equal", repr(method))
    if not populations:
        problems.add("populations", "at least one stratum", "none")
    sizes: dict[str, int] = {}
    for name, size in populations.items():
        checked = problems.count(f"populations[{name!r}]", size, minimum=1)
        if checked is not None:
            sizes[name] = checked
    weights: dict[str, float] = {}
    if method == "neyman":
        if sds is None:
            problems.add("sds", "a standard deviation per stratum for Neyman allocation", "none")
        else:
            for name in populations:
                sd = problems.number(f"sds[{name!r}]", sds.get(name))
                if sd is not None and sd < 0:
                    problems.add(f"sds[{name!r}]", "a standard deviation >= 0", sd)
                elif sd is not None and name in sizes:
                    weights[name] = sizes[name] * sd
    problems.raise_if_any("Cannot allocate the sample.")
    assert n is not None and low is not None
    if method == "proportional" or (method == "neyman" and not any(weights.values())):
        weights = {name: float(size) for name, size in sizes.items()}
    elif method == "equal":
        weights = {name: 1.0 for name in sizes}
    target = min(n, sum(sizes.values()))
    floor_total = sum(min(low, size) for size in sizes.values())
    if floor_total > target:
        problems.add(
            "minimum",
            f"a minimum the total allows ({target} over {len(sizes)} strata)",
            low,
            "lower the minimum per stratum or raise the total.",
        )
        problems.raise_if_any("Cannot allocate the sample.")
    floors = {name: min(low, size) for name, size in sizes.items()}
    shares = _water_fill(target, sizes, floors, weights)
    return _round_shares(target, shares, sizes, floors)


def _water_fill(
    target: float, caps: Mapping[str, int], floors: Mapping[str, int], weights: Mapping[str, float]
) -> dict[str, float]:
    """Real shares n_h = clip(lambda * w_h, floor_h, cap_h) summing to ``target``.

    The constrained optimum of Neyman (or proportional, equal) allocation: lambda is found by
    bisection, the sum being continuous and increasing in lambda. Strata of weight 0 stay at
    their floor unless the others, taken in full, cannot reach the target; they then share
    the rest in proportion to their size.
    """
    positive = [name for name in caps if weights[name] > 0]
    zero = [name for name in caps if weights[name] <= 0]
    reachable = sum(caps[h] for h in positive) + sum(floors[h] for h in zero)
    if reachable < target:
        shares: dict[str, float] = {h: float(caps[h]) for h in positive}
        rest = target - sum(caps[h] for h in positive)
        shares.update(
            _water_fill(
                rest,
                {h: caps[h] for h in zero},
                {h: floors[h] for h in zero},
                {h: float(caps[h]) for h in zero},
            )  # fmt: skip
        )
        return shares

    def total(scale: float) -> float:
        return math.fsum(min(caps[h], max(floors[h], scale * weights[h])) for h in caps)

    low, high = 0.0, max((caps[h] / weights[h] for h in positive), default=0.0)
    for _ in range(100):  # far past double precision on lambda
        middle = (low + high) / 2
        if total(middle) < target:
            low = middle
        else:
            high = middle
    return {h: min(caps[h], max(floors[h], high * weights[h])) for h in caps}


def _round_shares(
    target: int, shares: Mapping[str, float], caps: Mapping[str, int], floors: Mapping[str, int]
) -> dict[str, int]:
    """Round real shares to whole numbers summing to ``target`` (largest remainder, ties to
    the earlier stratum), each within [floor_h, cap_h]."""
    result = {h: min(caps[h], max(floors[h], math.floor(v + 1e-9))) for h, v in shares.items()}
    order = list(shares)
    while (short := target - sum(result.values())) != 0:
        if short > 0:
            room = [h for h in order if result[h] < caps[h]]
            pick = max(room, key=lambda h: (shares[h] - result[h], -order.index(h)))
            result[pick] += 1
        else:
            room = [h for h in order if result[h] > floors[h]]
            pick = min(room, key=lambda h: (shares[h] - result[h], order.index(h)))
            result[pick] -= 1
    return result


def achieved_precision(
    strata: Sequence[SizeStratum],
    allocation: Mapping[str, int],
    *,
    confidences: Sequence[str] = SIZE_CONFIDENCES,
) -> tuple[float, float, dict[str, float | None]]:
    """Return (estimate, SE(total), precision % per level) of a stratified allocation.

    Formula (CM2010 p. 4-18; Cochran 1977 ch. 5): estimate sum N_h mean_h,
    SE(total)^2 = sum N_h^2 SD_h^2 / n_h * (1 - n_h/N_h), precision% = 100 z SE / estimate.
    A stratum with SD_h > 0 and n_h = 0 makes the precision unbounded (``None``).
    """
    estimate = math.fsum(s.population * s.mean for s in strata)
    variance = 0.0
    for s in strata:
        n_h = allocation.get(s.name, 0)
        if s.sd == 0:
            continue
        if n_h <= 0:
            variance = math.inf
            break
        variance += s.population**2 * s.sd**2 / n_h * (1.0 - n_h / s.population)
    se = math.sqrt(variance)
    precision: dict[str, float | None] = {}
    for key in confidences:
        level = float(key) / 100
        if estimate <= 0 or not math.isfinite(se):
            precision[str(key)] = None
        else:
            precision[str(key)] = 100.0 * z_critical(level) * se / estimate
    return estimate, se, precision


def stratified_allocation(
    strata: Sequence[SizeStratum],
    total_sample: int,
    *,
    confidences: Sequence[str] = SIZE_CONFIDENCES,
) -> StratifiedAllocation:
    """Allocate a known total sample by Neyman allocation and report the precision achieved.

    See :func:`allocate` (``neyman``) and :func:`achieved_precision`.
    Validated against CM2010 p. 4-18 (n = 500: allocation 100 / 400, precision 4.09, 5.25,
    6.26, 8.22% at 80/90/95/99%).
    """
    problems = Problems()
    _check_size_strata(problems, strata)
    n = problems.count("total_sample", total_sample, minimum=1)
    _levels(problems, confidences)
    problems.raise_if_any("Cannot allocate this stratified sample.")
    assert n is not None
    allocation = allocate(
        n,
        {s.name: s.population for s in strata},
        method="neyman",
        sds={s.name: s.sd for s in strata},
    )
    estimate, se, precision = achieved_precision(strata, allocation, confidences=confidences)
    return StratifiedAllocation(
        total_sample=sum(allocation.values()),
        allocation=allocation,
        point_estimate=estimate,
        se_total=se,
        precision_percent=precision,
    )


# ---------------------------------------------------------------------------------------------
# CIA full sample
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CiaFullSample:
    """Full-sample size from a CIA discovery sample (90% confidence, 25% precision)."""

    sample_size: int | None
    mean: float
    sd: float
    discovery_sample: int
    population: int
    confidence: str = "90"
    precision_percent: float = 25.0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample_size": self.sample_size,
            "mean": self.mean,
            "sd": self.sd,
            "discovery_sample": self.discovery_sample,
            "population": self.population,
            "confidence": self.confidence,
            "precision_percent": self.precision_percent,
            "note": self.note,
        }


def cia_full_sample_size(differences: Sequence[float], *, population: int) -> CiaFullSample:
    """Return the CIA full-sample size from the discovery sample's payment differences.

    Rule (OIG CIA Appendix B, Claims Review; docs/methods.md 5.4): overpayments of the sample,
    underpayments entered as 0 (d_i -> max(d_i, 0)); their mean and SD (divisor n-1) feed
    :func:`required_sample_size` at 90% confidence and 25% precision, rounded to the nearest
    whole number. With no overpayment the size is undefined (``None``, with a note).
    """
    problems = Problems()
    array = problems.values("differences", differences)
    big_n = problems.count("population", population, minimum=1)
    if array is not None and array.size < 2:
        problems.add("differences", "a discovery sample of at least 2 units", array.size)
    if array is not None and big_n is not None and array.size > big_n:
        problems.add("population", f"at least the {array.size} units sampled", big_n)
    problems.raise_if_any("Cannot compute the CIA full-sample size.")
    assert array is not None and big_n is not None
    overpayments = np.maximum(array, 0.0)
    mean = float(overpayments.mean())
    sd = float(overpayments.std(ddof=1))
    if mean <= 0:
        return CiaFullSample(
            sample_size=None,
            mean=mean,
            sd=sd,
            discovery_sample=int(array.size),
            population=big_n,
            note="no overpayment in the discovery sample: no full sample size can be computed.",
        )
    n = _round_half_up(
        required_sample_size(
            mean=mean, sd=sd, population=big_n, confidence=0.90, precision_percent=25.0
        )
    )
    return CiaFullSample(
        sample_size=n if n > 0 else None,
        mean=mean,
        sd=sd,
        discovery_sample=int(array.size),
        population=big_n,
        note="" if n > 0 else "fewer than one unit needed (RAT-STATS prints ---).",
    )
