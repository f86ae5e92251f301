"""Print RAT-STATS-layout text reports of the appraisal, sample-size and random-number results.

RAT-STATS prints totals and limits as integers, percents with 2 or 3 decimals and critical
values with 12; these functions follow that layout. They only format finished results from
:mod:`audit_kit.stats`; the commands in :mod:`audit_kit.cli.stats_commands` import them when
they run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from audit_kit import stats

__all__ = [
    "print_allocation",
    "print_attribute",
    "print_random_numbers",
    "print_size_attribute",
    "print_stratified_attribute",
    "print_stratified_size",
    "print_stratified_variable",
    "print_variable",
    "print_variable_size",
]


def _int(value: float | None) -> str:
    return "---" if value is None else f"{value:,.0f}"


def _dec(value: float | None, places: int = 2) -> str:
    return "---" if value is None else f"{value:,.{places}f}"


def _pct(rate: float | None, places: int = 3) -> str:
    return "---" if rate is None else f"{rate * 100:.{places}f}%"


def _out(lines: list[str]) -> None:
    click.echo("\n".join(lines))


_MEASURE_ROWS: tuple[tuple[str, Callable[[stats.VariableMeasure], str]], ...] = (
    ("Sample size", lambda m: f"{m.sample:,}"),
    ("Values not zero", lambda m: f"{m.nonzero:,}"),
    ("Total of sample values", lambda m: _dec(m.total)),
    ("Mean", lambda m: _dec(m.mean)),
    ("Standard deviation", lambda m: _dec(m.sd)),
    ("Skewness", lambda m: _dec(m.skewness)),
    ("Kurtosis", lambda m: _dec(m.kurtosis)),
    ("Standard error (mean)", lambda m: _dec(m.se_mean)),
    ("Standard error (total)", lambda m: _int(m.se_total)),
    ("Point estimate", lambda m: _int(m.point_estimate)),
)


def _measure_lines(measures: dict[str, stats.VariableMeasure]) -> list[str]:
    names = list(measures)
    lines = [f"{'':<26}" + "".join(f"{n.upper():>18}" for n in names)]
    for label, fmt in _MEASURE_ROWS:
        lines.append(f"{label:<26}" + "".join(f"{fmt(measures[n]):>18}" for n in names))
    for key in stats.APPRAISAL_CONFIDENCES:
        limits = {n: measures[n].limits[key] for n in names}
        lines += [
            "",
            f"{key}% CONFIDENCE LEVEL (two-sided)",
            f"{'Lower limit':<26}" + "".join(f"{_int(limits[n].lower):>18}" for n in names),
            f"{'Upper limit':<26}" + "".join(f"{_int(limits[n].upper):>18}" for n in names),
            f"{'Precision amount':<26}"
            + "".join(f"{_int(limits[n].precision):>18}" for n in names),
            f"{'Precision percent':<26}"
            + "".join(f"{_dec(limits[n].precision_percent) + '%':>18}" for n in names),
            f"{'t-value used':<26}"
            + "".join(f"{_dec(limits[n].critical_value, 12):>18}" for n in names),
        ]
    notes = sorted({note for m in measures.values() for note in m.notes})
    if notes:
        lines += ["", "Notes: " + ", ".join(_NOTE_TEXT.get(n, n) for n in notes)]
    return lines


_NOTE_TEXT = {
    "census": "census (n = N): no sampling error",
    "single_unit": "one sampled item: SD taken as 0, no variance estimate",
    "zero_variance": "all values equal: skewness and kurtosis undefined",
    "mean_not_positive": "mean <= 0: precision percent reported as 0",
}


def print_attribute(result: stats.AttributeAppraisal) -> None:
    kind = "one-sided" if result.one_sided else "two-sided"
    lines = [
        "ATTRIBUTE APPRAISAL (unrestricted, exact hypergeometric limits)",
        f"Universe size:                 {result.population:>12,}",
        f"Sample size:                   {result.sample:>12,}",
        f"Errors (items in error):       {result.errors:>12,}",
        f"Projected quantity:            {_int(result.quantity):>12}   {_pct(result.rate)}",
        f"Standard error:                {_int(result.se_quantity):>12}   {_pct(result.se_rate)}",
        "",
        f"Confidence ({kind})  {'Lower limit':>12} {'':>9}  {'Upper limit':>12}",
    ]
    for key, limit in result.limits.items():
        lines.append(
            f"{key + '%':>20}  {_int(limit.lower):>12} {_pct(limit.lower_rate):>9}"
            f"  {_int(limit.upper):>12} {_pct(limit.upper_rate):>9}"
        )
    _out(lines)


def print_stratified_attribute(result: stats.StratifiedAttributeAppraisal) -> None:
    lines = [
        "ATTRIBUTE APPRAISAL (stratified, normal approximation with z)",
        "",
        f"{'Stratum':<14}{'Universe':>10}{'Sample':>8}{'Errors':>8}{'Rate':>10}"
        f"{'Projected':>11}{'SE':>9}   precision 80 / 90 / 95%",
    ]
    for s in result.strata:
        precision = " / ".join(_pct(s.precision_rate[k]) for k in stats.APPRAISAL_CONFIDENCES)
        lines.append(
            f"{s.name:<14}{s.population:>10,}{s.sample:>8,}{s.errors:>8,}{_pct(s.rate):>10}"
            f"{_int(s.quantity):>11}{_int(s.se_quantity):>9}   {precision}"
        )
    lines += [
        "",
        f"Overall: universe {result.population:,}, sample {result.sample:,}, "
        f"errors {result.errors:,}",
        f"Projected quantity:   {_int(result.quantity):>10}   {_pct(result.rate)}",
        f"Standard error:       {_int(result.se_quantity):>10}   {_pct(result.se_rate)}",
        "",
        f"{'Confidence':>10}  {'Lower limit':>18}  {'Upper limit':>18}  {'Precision':>9}",
    ]
    for key, limit in result.limits.items():
        lines.append(
            f"{key + '%':>10}  {_int(limit.lower):>8} {_pct(limit.lower_rate):>9}"
            f"  {_int(limit.upper):>8} {_pct(limit.upper_rate):>9}  {_pct(limit.precision_rate):>9}"
        )
    _out(lines)


def print_variable(result: stats.VariableAppraisal) -> None:
    lines = [
        "VARIABLE APPRAISAL (unrestricted)",
        f"Universe size: {result.population:,}    Sample size: {result.sample:,}",
        "",
    ]
    _out(lines + _measure_lines(result.measures))


def print_stratified_variable(result: stats.StratifiedVariableAppraisal) -> None:
    rule = result.critical_value_rule
    lines = [
        "VARIABLE APPRAISAL (stratified)",
        f"Universe size: {result.population:,}    Sample size: {result.sample:,}    "
        f"Overall critical value rule: {rule.value}",
    ]
    first = next(iter(result.measures.values()))
    for index, stratum in enumerate(first.strata):
        lines += [
            "",
            f"STRATUM {stratum.stratum}: universe {stratum.population:,}, sample "
            f"{stratum.sample:,}",
        ]
        lines += _measure_lines({n: m.strata[index] for n, m in result.measures.items()})
    names = list(result.measures)
    lines += ["", "OVERALL", f"{'':<26}" + "".join(f"{n.upper():>18}" for n in names)]
    lines.append(
        f"{'Point estimate':<26}"
        + "".join(f"{_int(result.measures[n].point_estimate):>18}" for n in names)
    )
    lines.append(
        f"{'Standard error (total)':<26}"
        + "".join(f"{_int(result.measures[n].se_total):>18}" for n in names)
    )
    label = "t-value used" if rule is stats.CriticalValueRule.T else "z-value used"
    for key in stats.APPRAISAL_CONFIDENCES:
        limits = {n: result.measures[n].limits[key] for n in names}
        lines += [
            "",
            f"{key}% CONFIDENCE LEVEL (two-sided)",
            f"{'Lower limit':<26}" + "".join(f"{_int(limits[n].lower):>18}" for n in names),
            f"{'Upper limit':<26}" + "".join(f"{_int(limits[n].upper):>18}" for n in names),
            f"{'Precision amount':<26}"
            + "".join(f"{_int(limits[n].precision):>18}" for n in names),
            f"{'Precision percent':<26}"
            + "".join(f"{_dec(limits[n].precision_percent) + '%':>18}" for n in names),
            f"{label:<26}" + "".join(f"{_dec(limits[n].critical_value, 12):>18}" for n in names),
        ]
    _out(lines)


def print_variable_size(result: stats.VariableSampleSize) -> None:
    source = {
        "entered": "entered mean and standard deviation",
        "probe": f"probe sample of {result.probe_size} items",
        "error_rate": f"expected error rate {_pct(result.error_rate, 2)}",
    }[result.source]
    levels = list(next(iter(result.table.values())))
    lines = [
        "VARIABLE SAMPLE SIZE (unrestricted)",
        f"Universe size: {result.population:,}   Mean: {_dec(result.mean)}   "
        f"Standard deviation: {_dec(result.sd)}   ({source})",
        "",
        f"{'Precision':>10}" + "".join(f"{k + '%':>10}" for k in levels),
    ]
    for precision, row in result.table.items():
        lines.append(f"{precision + '%':>10}" + "".join(f"{_int(row[k]):>10}" for k in levels))
    _out(lines)


def print_stratified_size(result: stats.StratifiedSampleSize) -> None:
    lines = ["VARIABLE SAMPLE SIZE (stratified, Neyman allocation)"]
    for precision, row in result.table.items():
        lines += ["", f"Precision {precision}%"]
        for level, cell in row.items():
            parts = ", ".join(f"{name}: {n:,}" for name, n in cell.strata.items())
            lines.append(f"  {level + '%':>4} confidence: total {cell.total:>8,}   ({parts})")
    _out(lines)


def print_allocation(result: stats.StratifiedAllocation) -> None:
    lines = [
        "VARIABLE SAMPLE SIZE (stratified, total known, Neyman allocation)",
        f"Total sample: {result.total_sample:,}",
        "",
        f"{'Stratum':<20}{'Sample':>10}",
    ]
    lines += [f"{name:<20}{n:>10,}" for name, n in result.allocation.items()]
    lines += ["", "Achieved precision (percent of the estimated total):"]
    lines += [
        f"  {level + '%':>4} confidence: " + ("---" if value is None else f"{value:.2f}%")
        for level, value in result.precision_percent.items()
    ]
    _out(lines)


def print_random_numbers(payload: dict[str, Any]) -> None:
    """Print the RAT-STATS "Single Stage Random Numbers" listing of a random-numbers payload."""
    sample, spare_items = payload["sample"], payload["spares"]
    lines = [
        "SINGLE STAGE RANDOM NUMBERS",
        f"Generator:                   {payload['generator']}",
        f"Seed:                        {payload['seed']}   (used: {payload['seed_used']})",
    ]
    if payload["wh_seeds"] is not None:
        lines.append(
            f"Wichmann-Hill seeds:         {' '.join(str(s) for s in payload['wh_seeds'])}"
        )
    lines += [
        f"Frame:                       {payload['low']:,} to {payload['high']:,}",
        f"Numbers in sequential order: {len(sample):,}",
        f"Spares:                      {len(spare_items):,}",
        f"Sum of all numbers:          {payload['sum']:,}",
        "",
        f"{'Sequential':>10}  {'Selection':>9}  {'Random':>12}",
        f"{'order':>10}  {'order':>9}  {'number':>12}",
    ]
    for index, item in enumerate(sample, start=1):
        lines.append(f"{index:>10}  {item['order']:>9}  {item['value']:>12,}")
    if spare_items:
        lines += ["", "SPARES (in the order drawn)", f"{'Selection order':>15}  {'number':>12}"]
        for item in spare_items:
            lines.append(f"{item['order']:>15}  {item['value']:>12,}")
    _out(lines)


def print_size_attribute(result: stats.AttributeSampleSize) -> None:
    lines = [
        "ATTRIBUTE SAMPLE SIZE",
        f"Universe size: {result.population:,}   Anticipated rate: "
        f"{_pct(result.expected_rate)}   Precision range: {result.precision_range_percent:g}%",
        "",
        f"{'Confidence':>10}{'Sample size':>14}",
    ]
    lines += [f"{level + '%':>10}{_int(n):>14}" for level, n in result.sample_sizes.items()]
    lines += ["", f"Method: {result.method}."]
    _out(lines)
