"""RAT-STATS-style commands: random-numbers, appraise attribute|variable, size variable|attribute.

Each command parses its options, reads its small input file (:mod:`audit_kit.cli.ratstats_input`),
makes one call into :mod:`audit_kit.stats` (or :mod:`audit_kit.stats.rng`) and prints either a
RAT-STATS-like report (:mod:`audit_kit.cli.ratstats_printout`) or, with ``--json``, exactly one
JSON document (docs/cli.md). The library modules are imported when a command runs, so that
``audit-kit --help`` does not load SciPy.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from audit_kit.cli import cli
from audit_kit.cli._common import echo_json, json_option

__all__ = ["CRITICAL_VALUE_RULES", "GENERATORS", "appraise", "random_numbers", "size"]

# The values of audit_kit.stats.rng.GeneratorName and audit_kit.stats.CriticalValueRule, written out
# so that the options need no library import (tests/test_cli_stats.py checks they agree).
GENERATORS = ("pcg64", "ratstats")
CRITICAL_VALUE_RULES = ("ratstats", "t", "z")

# ---------------------------------------------------------------------------------------------
# random-numbers
# ---------------------------------------------------------------------------------------------


def _parse_seed(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> int | float | None:
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a number.") from None
    if not number.is_finite():
        raise click.BadParameter(f"{value!r} is not a finite number.")
    if number == number.to_integral_value() and "." not in value and "e" not in value.lower():
        return int(number)
    return float(number)


RANDOM_HELP = """\
Draw distinct random numbers in [LOW, HIGH] (RAT-STATS "Single Stage Random Numbers").

The first COUNT numbers are the sample, listed sorted with their order of selection; the
next SPARES are spares in the order drawn. RAT-STATS also prints the sum of all numbers.
With --generator ratstats (the default here) the numbers are exactly those RAT-STATS 2010
prints for the seed; that generator keeps only 16 bits of the seed (at most 65,536 distinct
streams), so a warning is printed on stderr. pcg64 takes a whole-number seed.

\b
Example:
  audit-kit random-numbers --seed 48863.78 --low 1 --high 1000 --count 10 --spares 4
"""


@cli.command("random-numbers", help=RANDOM_HELP)
@click.option(
    "--seed",
    required=True,
    callback=_parse_seed,
    help="Seed as entered in RAT-STATS (rounded to 2 decimals for ratstats).",
)
@click.option("--low", type=int, default=1, show_default=True, help="Lowest number.")
@click.option("--high", type=int, required=True, help="Highest number (frame size).")
@click.option(
    "--count", type=click.IntRange(min=0), required=True, help="Numbers in sequential order."
)
@click.option(
    "--spares", type=click.IntRange(min=0), default=0, show_default=True, help="Spare numbers."
)
@click.option(
    "--generator",
    type=click.Choice(GENERATORS),
    default="ratstats",
    show_default=True,
    help="ratstats: bit-exact RAT-STATS 2010; pcg64: NumPy PCG64.",
)
@json_option
def random_numbers(
    seed: int | float,
    low: int,
    high: int,
    count: int,
    spares: int,
    generator: str,
    as_json: bool,
) -> None:
    from audit_kit.cli.ratstats_printout import print_random_numbers
    from audit_kit.stats.rng import RATSTATS_STREAMS, GeneratorName, draw_distinct

    if generator == GeneratorName.RATSTATS.value:
        click.echo(
            f"Warning: the ratstats generator keeps only 16 bits of the seed: at most "
            f"{RATSTATS_STREAMS:,} distinct streams (seeds 4194304..4194307 give one sample). "
            "Use it to reproduce RAT-STATS; prefer pcg64 for new audits.",
            err=True,
        )
    draw = draw_distinct(generator, seed, low=low, high=high, sample_size=count, spares=spares)
    sample = sorted(
        ({"value": v, "order": i + 1} for i, v in enumerate(draw.sample)),
        key=lambda item: item["value"],
    )
    spare_items = [{"value": v, "order": count + i + 1} for i, v in enumerate(draw.spares)]
    payload: dict[str, Any] = {
        "generator": draw.generator.value,
        "seed": seed,
        "seed_used": draw.seed_used,
        "wh_seeds": None if draw.wh_seeds is None else list(draw.wh_seeds),
        "low": low,
        "high": high,
        "sample": sample,
        "spares": spare_items,
        "sum": draw.total,
    }
    if as_json:
        echo_json(payload)
        return
    print_random_numbers(payload)


# ---------------------------------------------------------------------------------------------
# appraise attribute | variable
# ---------------------------------------------------------------------------------------------


@cli.group("appraise", help="RAT-STATS appraisal modules: attribute (error rate), variable ($).")
def appraise() -> None:
    pass


ATTRIBUTE_HELP = """\
Appraise an error rate (RAT-STATS "Attribute Appraisal").

Unrestricted (--population, --sample, --errors): exact hypergeometric limits at 80, 90 and
95% confidence, as RAT-STATS 2010. --one-sided (only with 0 errors, or all in error) reports
only the relevant limit with tail 1 - CL. Stratified (--strata FILE.csv with columns
stratum,population,sample,errors): normal approximation with z, as RAT-STATS.

\b
Examples:
  audit-kit appraise attribute --population 10000 --sample 400 --errors 82
  audit-kit appraise attribute --strata strata.csv --json
"""


@appraise.command("attribute", help=ATTRIBUTE_HELP)
@click.option("--population", type=int, help="Universe size N.")
@click.option("--sample", type=int, help="Sample size n.")
@click.option("--errors", type=int, help="Sampled items in error x.")
@click.option("--one-sided", is_flag=True, help="One-sided limit (x = 0 or x = n only).")
@click.option(
    "--strata",
    "strata_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV/XLSX with columns stratum,population,sample,errors.",
)
@json_option
def appraise_attribute_command(
    population: int | None,
    sample: int | None,
    errors: int | None,
    one_sided: bool,
    strata_file: Path | None,
    as_json: bool,
) -> None:
    from audit_kit import stats
    from audit_kit.cli.ratstats_input import attribute_strata
    from audit_kit.cli.ratstats_printout import print_attribute, print_stratified_attribute

    given = [
        name
        for name, v in (("--population", population), ("--sample", sample), ("--errors", errors))
        if v is not None
    ]
    if strata_file is not None:
        if given or one_sided:
            raise click.UsageError(
                "--strata cannot be combined with --population/--sample/--errors/--one-sided."
            )
        result_s = stats.appraise_attribute_stratified(attribute_strata(strata_file))
        if as_json:
            echo_json(result_s)
        else:
            print_stratified_attribute(result_s)
        return
    if len(given) < 3:
        missing = [n for n in ("--population", "--sample", "--errors") if n not in given]
        raise click.UsageError(
            f"Missing {', '.join(missing)} (or give --strata FILE for a stratified appraisal)."
        )
    assert population is not None and sample is not None and errors is not None
    result = stats.appraise_attribute(population, sample, errors, one_sided=one_sided)
    if as_json:
        echo_json(result)
    else:
        print_attribute(result)


VARIABLE_HELP = """\
Appraise dollar values (RAT-STATS "Variable Appraisal"): examined, audited, difference.

FILE is a CSV or XLSX with one row per sampled item. Name the columns with --examined,
--audited and/or --difference (without them, columns named examined, audited, difference
are used). Any two give the third: difference = examined - audited (positive = overpaid).
Unrestricted: --population N, t with n-1 df. Stratified: --stratum-column COL and
--strata SIZES.csv (columns stratum,population); each stratum with its own t, the overall
limits with the --rule critical value (ratstats = z, as RAT-STATS 2010).

\b
Examples:
  audit-kit appraise variable sample.csv --population 10000 --examined paid --audited correct
  audit-kit appraise variable diffs.csv --stratum-column stratum --strata sizes.csv --json
"""


@appraise.command("variable", help=VARIABLE_HELP)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--population", type=int, help="Universe size N (unrestricted appraisal).")
@click.option("--examined", "examined_col", help="Column with the examined (billed/paid) amount.")
@click.option("--audited", "audited_col", help="Column with the audited (correct) amount.")
@click.option("--difference", "difference_col", help="Column with examined - audited.")
@click.option("--stratum-column", help="Column naming each item's stratum (stratified).")
@click.option(
    "--strata",
    "strata_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV/XLSX with columns stratum,population (stratified).",
)
@click.option(
    "--rule",
    type=click.Choice(CRITICAL_VALUE_RULES),
    default="ratstats",
    show_default=True,
    help="Critical value of the overall stratified interval.",
)
@click.option("--sheet", help="Worksheet to read when FILE is .xlsx (default: the first).")
@json_option
def appraise_variable_command(
    file: Path,
    population: int | None,
    examined_col: str | None,
    audited_col: str | None,
    difference_col: str | None,
    stratum_column: str | None,
    strata_file: Path | None,
    rule: str,
    sheet: str | None,
    as_json: bool,
) -> None:
    from audit_kit import stats
    from audit_kit.cli import ratstats_input as read
    from audit_kit.cli.ratstats_printout import print_stratified_variable, print_variable

    stratified = stratum_column is not None or strata_file is not None
    rule_source = click.get_current_context().get_parameter_source("rule")
    if not stratified and rule_source is click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--rule applies to stratified appraisals (--strata) only.")
    if stratified and (stratum_column is None or strata_file is None):
        raise click.UsageError("A stratified appraisal needs both --stratum-column and --strata.")
    if stratified and population is not None:
        raise click.UsageError("--population is for unrestricted appraisals; use --strata.")
    if not stratified and population is None:
        raise click.UsageError("Missing --population (or --stratum-column with --strata).")
    table = read.read_table(file, sheet=sheet)
    out = read.Collector()
    chosen = {
        "examined": examined_col,
        "audited": audited_col,
        "difference": difference_col,
    }
    if not any(chosen.values()):
        chosen = {m: m for m in stats.MEASURES if table.find(m) is not None}
        if not chosen:
            out.add(
                table.where(),
                "columns named examined, audited or difference, or --examined/--audited/"
                "--difference naming the columns",
                "columns " + ", ".join(repr(c) for c in table.columns),
            )
    wanted = {m: c for m, c in chosen.items() if c}
    indexes = read.require_columns(table, list(wanted.values()), out)
    strat_index = None
    if stratum_column is not None:
        strat_index = read.require_columns(table, [stratum_column], out).get(stratum_column)
    out.raise_if_any("Cannot read the sample file.")
    if not table.rows:
        out.add(table.where(), "one row per sampled item", "no data rows")
        out.raise_if_any("The sample file is empty.")
    columns = {m: read.numbers(table, indexes[c], c, out) for m, c in wanted.items()}
    labels = (
        [read.stratum_label(table.cell(cells, strat_index)) for _, cells in table.rows]
        if strat_index is not None
        else []
    )
    if stratum_column is not None:
        for (row, _), label in zip(table.rows, labels, strict=True):
            if not label:
                out.add(table.where(row, stratum_column), "a stratum label", "an empty cell")
    out.raise_if_any("The sample file has invalid values.")
    if not stratified:
        assert population is not None
        result = stats.appraise_variables(population, **columns)
        if as_json:
            echo_json(result)
        else:
            print_variable(result)
        return
    assert strata_file is not None
    sizes = read.strata_sizes(strata_file, labels)
    strata = []
    for name, size in sizes.items():
        picked = [i for i, label in enumerate(labels) if label == name]
        strata.append(
            stats.MeasuredStratum(
                name=name,
                population=size,
                **{m: [values[i] for i in picked] for m, values in columns.items()},
            )
        )
    result_s = stats.appraise_variables_stratified(strata, rule=rule)
    if as_json:
        echo_json(result_s)
    else:
        print_stratified_variable(result_s)


# ---------------------------------------------------------------------------------------------
# size variable | attribute
# ---------------------------------------------------------------------------------------------


@cli.group("size", help="RAT-STATS sample-size modules: variable ($) and attribute (rate).")
def size() -> None:
    pass


SIZE_VARIABLE_HELP = """\
Compute variable (dollar) sample sizes (RAT-STATS "Variable Sample Size").

\b
One of:
  --probe FILE [--column COL] --population N   mean and SD of a probe sample
  --mean M --sd S --population N               entered mean and SD
  --error-rate P --universe-total T --sd S --population N
                                               expected error rate (0.15 for 15%)
  --strata FILE [--total-sample n]             stratified (stratum,population,mean,sd),
                                               Neyman allocation

Prints n for precision 1, 2, 5, 10, 15, 25% of the estimate at 80, 90, 95 and 99%
confidence (--- where fewer than one item is needed); with --total-sample, the allocation
and the precision it achieves.

\b
Examples:
  audit-kit size variable --probe probe.csv --population 100000
  audit-kit size variable --strata strata.csv --total-sample 500 --json
"""


@size.command("variable", help=SIZE_VARIABLE_HELP)
@click.option("--probe", type=click.Path(dir_okay=False, path_type=Path), help="Probe sample.")
@click.option("--column", help="Column of the probe file to use (default: the only numeric one).")
@click.option("--mean", type=float, help="Expected mean.")
@click.option("--sd", type=float, help="Expected standard deviation.")
@click.option("--error-rate", type=float, help="Expected error rate (fraction).")
@click.option("--universe-total", type=float, help="Total of the universe's reported values.")
@click.option("--population", type=int, help="Universe size N.")
@click.option(
    "--strata",
    "strata_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV/XLSX with columns stratum,population,mean,sd.",
)
@click.option("--total-sample", type=int, help="Known total sample to allocate (stratified).")
@json_option
def size_variable_command(
    probe: Path | None,
    column: str | None,
    mean: float | None,
    sd: float | None,
    error_rate: float | None,
    universe_total: float | None,
    population: int | None,
    strata_file: Path | None,
    total_sample: int | None,
    as_json: bool,
) -> None:
    from audit_kit import stats
    from audit_kit.cli.ratstats_input import probe_values, size_strata
    from audit_kit.cli.ratstats_printout import (
        print_allocation,
        print_stratified_size,
        print_variable_size,
    )

    modes = {
        "--probe": probe is not None,
        "--mean": mean is not None,
        "--error-rate": error_rate is not None,
        "--strata": strata_file is not None,
    }
    chosen = [name for name, on in modes.items() if on]
    if len(chosen) != 1:
        raise click.UsageError(
            "Give exactly one of --probe, --mean (with --sd), --error-rate (with "
            "--universe-total and --sd) or --strata; got "
            + (", ".join(chosen) if chosen else "none")
            + "."
        )
    mode = chosen[0]
    if mode == "--strata":
        if population is not None or column is not None or sd is not None:
            raise click.UsageError("--strata takes the sizes from the file; drop the others.")
        assert strata_file is not None
        strata = size_strata(strata_file)
        if total_sample is not None:
            allocation = stats.stratified_allocation(strata, total_sample)
            if as_json:
                echo_json(allocation)
            else:
                print_allocation(allocation)
            return
        table = stats.stratified_sample_size(strata)
        if as_json:
            echo_json(table)
        else:
            print_stratified_size(table)
        return
    if total_sample is not None:
        raise click.UsageError("--total-sample applies to --strata only.")
    if population is None:
        raise click.UsageError("Missing --population.")
    if mode == "--probe":
        assert probe is not None
        result = stats.variable_sample_size_from_probe(
            probe_values(probe, column), population=population
        )
    elif mode == "--mean":
        if sd is None:
            raise click.UsageError("--mean needs --sd.")
        assert mean is not None
        result = stats.variable_sample_size(mean=mean, sd=sd, population=population)
    else:
        if sd is None or universe_total is None:
            raise click.UsageError("--error-rate needs --universe-total and --sd.")
        assert error_rate is not None
        result = stats.variable_sample_size_from_error_rate(
            error_rate=error_rate, universe_total=universe_total, sd=sd, population=population
        )
    if as_json:
        echo_json(result)
    else:
        print_variable_size(result)


SIZE_ATTRIBUTE_HELP = """\
Compute attribute (error rate) sample sizes (RAT-STATS "Attribute Sample Size").

The smallest n whose exact two-sided interval, for the anticipated rate, is no wider than
the desired precision range (a percentage of the universe), at 80, 90, 95 and 99%.
RAT-STATS' own search differs from this rule by a few units in its published tables.

\b
Example:
  audit-kit size attribute --population 10000 --rate 0.20 --precision-range 6
"""


@size.command("attribute", help=SIZE_ATTRIBUTE_HELP)
@click.option("--population", type=int, required=True, help="Universe size N.")
@click.option("--rate", type=float, required=True, help="Anticipated error rate (0.20 for 20%).")
@click.option(
    "--precision-range",
    type=float,
    required=True,
    help="Desired width of the interval, percent of the universe (6 for 6%).",
)
@json_option
def size_attribute_command(
    population: int, rate: float, precision_range: float, as_json: bool
) -> None:
    from audit_kit import stats
    from audit_kit.cli.ratstats_printout import print_size_attribute

    result = stats.attribute_sample_size(
        population, expected_rate=rate, precision_range_percent=precision_range
    )
    if as_json:
        echo_json(result)
        return
    print_size_attribute(result)
