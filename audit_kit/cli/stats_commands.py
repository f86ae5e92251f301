"""RAT-STATS-style commands: random-numbers, appraise attribute|variable, size variable|attribute.

Each command parses its options, reads its small input file (CSV or XLSX), makes one call into
:mod:`audit_kit.stats` (or :mod:`audit_kit.rng`) and prints either a RAT-STATS-like report or,
with ``--json``, exactly one JSON document (SPEC 10b).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from audit_kit import stats
from audit_kit.cli import cli
from audit_kit.cli._common import echo_json, json_option
from audit_kit.errors import InputError, Problem
from audit_kit.rng import RATSTATS_STREAMS, GeneratorName, draw_distinct

__all__ = ["appraise", "random_numbers", "size"]

_MAX_LISTED = 50  # problems listed one by one; the rest are counted

# ---------------------------------------------------------------------------------------------
# Reading small tables (CSV with any delimiter, UTF-8 or Latin-1; XLSX first or named sheet)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Table:
    path: Path
    columns: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the user sees it, cells)

    def where(self, row: int | None = None, column: str | None = None) -> str:
        text = self.path.name
        if row is not None:
            text += f" row {row}"
        if column is not None:
            text += f", column {column!r}" if row is not None else f" column {column!r}"
        return text

    def find(self, name: str) -> int | None:
        wanted = name.strip().casefold()
        for index, column in enumerate(self.columns):
            if column.strip().casefold() == wanted:
                return index
        return None

    def cell(self, cells: list[str], index: int) -> str:
        return cells[index].strip() if index < len(cells) else ""


def _read_table(path: Path, *, sheet: str | None = None) -> _Table:
    if not path.is_file():
        raise InputError(
            "Cannot read the input file.",
            [Problem(where=str(path), expected="an existing CSV or XLSX file", found="no file")],
        )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # every byte decodes; amounts and labels are ASCII anyway
    sample = text[:4096]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
        else:
            rows.append((reader.line_num, cells))
    if header is None:
        raise InputError(
            "The input file is empty.",
            [Problem(where=path.name, expected="a header row and data rows", found="no rows")],
        )
    return _Table(path=path, columns=header, rows=rows)


def _read_xlsx(path: Path, sheet: str | None) -> _Table:
    import polars as pl

    try:
        frame = (
            pl.read_excel(path, sheet_name=sheet, infer_schema_length=0)
            if sheet
            else pl.read_excel(path, infer_schema_length=0)
        )
    except Exception as exc:  # fastexcel raises its own types; report them as input errors
        raise InputError(
            "Cannot read the workbook.",
            [
                Problem(
                    where=path.name + (f" sheet {sheet!r}" if sheet else ""),
                    expected="a readable .xlsx workbook with a header row",
                    found=type(exc).__name__,
                    fix="save the file again as .xlsx, or export it as CSV.",
                )
            ],
        ) from None
    rows = [
        (index + 2, ["" if v is None else str(v) for v in values])
        for index, values in enumerate(frame.iter_rows())
    ]
    return _Table(path=path, columns=[str(c) for c in frame.columns], rows=rows)


_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d*)?$")


def _parse_number(text: str) -> float | None:
    cleaned = text.replace("$", "").replace(" ", "")
    if _THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _label(text: str) -> str:
    """Stratum label as text; ``1.0`` (a number cell read from Excel) is the label ``1``."""
    text = text.strip()
    return text[: text.index(".")] if re.fullmatch(r"-?\d+\.0+", text) else text


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, where: str, expected: str, found: str, fix: str = "") -> None:
        self.problems.append(Problem(where=where, expected=expected, found=found, fix=fix))

    def raise_if_any(self, summary: str) -> None:
        if not self.problems:
            return
        shown = self.problems[:_MAX_LISTED]
        if len(self.problems) > _MAX_LISTED:
            shown.append(
                Problem(
                    where="...",
                    expected="",
                    found=f"{len(self.problems) - _MAX_LISTED} more problem(s) of the same kind",
                )
            )
        raise InputError(summary, shown)


def _require_columns(table: _Table, names: Sequence[str], out: _Collector) -> dict[str, int]:
    found: dict[str, int] = {}
    for name in names:
        index = table.find(name)
        if index is None:
            out.add(
                table.where(column=name),
                f"a column named {name!r}",
                "columns " + ", ".join(repr(c) for c in table.columns),
                "rename the column or choose another with the command's options.",
            )
        else:
            found[name] = index
    return found


def _numbers(table: _Table, index: int, column: str, out: _Collector) -> list[float]:
    values: list[float] = []
    for row, cells in table.rows:
        text = table.cell(cells, index)
        value = _parse_number(text)
        if value is None:
            out.add(
                table.where(row, column),
                "a number",
                "an empty cell" if not text else "a value that is not a number",
                "enter the amount as a plain number (0 for none).",
            )
        else:
            values.append(value)
    return values


def _whole(table: _Table, row: int, column: str, text: str, out: _Collector) -> int | None:
    value = _parse_number(text)
    if value is None or not value.is_integer():
        out.add(
            table.where(row, column),
            "a whole number",
            "an empty cell" if not text else "a value that is not a whole number",
        )
        return None
    return int(value)


# ---------------------------------------------------------------------------------------------
# Formatting helpers (RAT-STATS prints totals and limits as integers, percents with 2 or 3
# decimals and critical values with 12)
# ---------------------------------------------------------------------------------------------


def _int(value: float | None) -> str:
    return "---" if value is None else f"{value:,.0f}"


def _dec(value: float | None, places: int = 2) -> str:
    return "---" if value is None else f"{value:,.{places}f}"


def _pct(rate: float | None, places: int = 3) -> str:
    return "---" if rate is None else f"{rate * 100:.{places}f}%"


def _out(lines: list[str]) -> None:
    click.echo("\n".join(lines))


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
    type=click.Choice([g.value for g in GeneratorName]),
    default=GeneratorName.RATSTATS.value,
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
    lines = [
        "SINGLE STAGE RANDOM NUMBERS",
        f"Generator:                   {draw.generator.value}",
        f"Seed:                        {seed}   (used: {draw.seed_used})",
    ]
    if draw.wh_seeds is not None:
        lines.append(f"Wichmann-Hill seeds:         {' '.join(str(s) for s in draw.wh_seeds)}")
    lines += [
        f"Frame:                       {low:,} to {high:,}",
        f"Numbers in sequential order: {count:,}",
        f"Spares:                      {spares:,}",
        f"Sum of all numbers:          {draw.total:,}",
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


# ---------------------------------------------------------------------------------------------
# appraise attribute
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
        result_s = stats.appraise_attribute_stratified(_attribute_strata(strata_file))
        if as_json:
            echo_json(result_s)
        else:
            _print_stratified_attribute(result_s)
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
        _print_attribute(result)


def _attribute_strata(path: Path) -> list[stats.AttributeStratum]:
    table = _read_table(path)
    out = _Collector()
    columns = _require_columns(table, ("stratum", "population", "sample", "errors"), out)
    out.raise_if_any("The strata file is missing columns.")
    strata: list[stats.AttributeStratum] = []
    for row, cells in table.rows:
        name = _label(table.cell(cells, columns["stratum"]))
        if not name:
            out.add(table.where(row, "stratum"), "a stratum label", "an empty cell")
        numbers = {
            key: _whole(table, row, key, table.cell(cells, columns[key]), out)
            for key in ("population", "sample", "errors")
        }
        if name and all(v is not None for v in numbers.values()):
            strata.append(
                stats.AttributeStratum(
                    name=name,
                    population=numbers["population"] or 0,
                    sample=numbers["sample"] or 0,
                    errors=numbers["errors"] or 0,
                )
            )
    if not table.rows:
        out.add(table.where(), "one row per stratum", "no data rows")
    out.raise_if_any("The strata file has invalid values.")
    return strata


def _print_attribute(result: stats.AttributeAppraisal) -> None:
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


def _print_stratified_attribute(result: stats.StratifiedAttributeAppraisal) -> None:
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


# ---------------------------------------------------------------------------------------------
# appraise variable
# ---------------------------------------------------------------------------------------------

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
    type=click.Choice([r.value for r in stats.CriticalValueRule]),
    default=stats.CriticalValueRule.RATSTATS.value,
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
    table = _read_table(file, sheet=sheet)
    out = _Collector()
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
    indexes = _require_columns(table, list(wanted.values()), out)
    strat_index = None
    if stratum_column is not None:
        strat_index = _require_columns(table, [stratum_column], out).get(stratum_column)
    out.raise_if_any("Cannot read the sample file.")
    if not table.rows:
        out.add(table.where(), "one row per sampled item", "no data rows")
        out.raise_if_any("The sample file is empty.")
    columns = {m: _numbers(table, indexes[c], c, out) for m, c in wanted.items()}
    labels = (
        [_label(table.cell(cells, strat_index)) for _, cells in table.rows]
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
            _print_variable(result)
        return
    assert strata_file is not None
    sizes = _strata_sizes(strata_file, labels)
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
        _print_stratified_variable(result_s)


_POPULATION_ALIASES = ("population", "universe_size", "universe", "n_universe")


def _strata_sizes(path: Path, labels: list[str]) -> dict[str, int]:
    """Read stratum,population (and optional sample_size, checked) in the file's order."""
    table = _read_table(path)
    out = _Collector()
    name_index = table.find("stratum")
    pop_index = next(
        (table.find(a) for a in _POPULATION_ALIASES if table.find(a) is not None), None
    )
    sample_index = table.find("sample_size")
    if sample_index is None:
        sample_index = table.find("sample")
    if name_index is None or pop_index is None:
        out.add(
            table.where(),
            "columns stratum and population",
            "columns " + ", ".join(repr(c) for c in table.columns),
            "name the columns stratum,population.",
        )
        out.raise_if_any("The strata file is missing columns.")
    assert name_index is not None and pop_index is not None
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    sizes: dict[str, int] = {}
    for row, cells in table.rows:
        name = _label(table.cell(cells, name_index))
        size = _whole(table, row, table.columns[pop_index], table.cell(cells, pop_index), out)
        if not name:
            out.add(table.where(row, "stratum"), "a stratum label", "an empty cell")
            continue
        if name in sizes:
            out.add(table.where(row, "stratum"), "each stratum once", f"stratum {name!r} again")
            continue
        if size is not None:
            sizes[name] = size
        if sample_index is not None and table.cell(cells, sample_index):
            expected = _whole(
                table, row, table.columns[sample_index], table.cell(cells, sample_index), out
            )
            if expected is not None and expected != counts.get(name, 0):
                out.add(
                    table.where(row, table.columns[sample_index]),
                    f"the number of sample rows of stratum {name!r} ({counts.get(name, 0)})",
                    str(expected),
                    "check that the sample file holds every sampled item.",
                )
    for name in sizes:
        if name not in counts:
            out.add(
                f"{path.name} stratum {name!r}",
                "sampled items in the sample file",
                "none",
                "remove the stratum or add its sample.",
            )
    for name in counts:
        if name not in sizes:
            out.add(
                f"{path.name}",
                f"a population for stratum {name!r} (it has {counts[name]} sampled items)",
                "no row for it",
                "add the stratum with its universe size.",
            )
    out.raise_if_any("The strata file does not match the sample.")
    return sizes


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


def _print_variable(result: stats.VariableAppraisal) -> None:
    lines = [
        "VARIABLE APPRAISAL (unrestricted)",
        f"Universe size: {result.population:,}    Sample size: {result.sample:,}",
        "",
    ]
    _out(lines + _measure_lines(result.measures))


def _print_stratified_variable(result: stats.StratifiedVariableAppraisal) -> None:
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


# ---------------------------------------------------------------------------------------------
# size variable / size attribute
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
        strata = _size_strata(strata_file)
        if total_sample is not None:
            allocation = stats.stratified_allocation(strata, total_sample)
            if as_json:
                echo_json(allocation)
            else:
                _print_allocation(allocation)
            return
        table = stats.stratified_sample_size(strata)
        if as_json:
            echo_json(table)
        else:
            _print_stratified_size(table)
        return
    if total_sample is not None:
        raise click.UsageError("--total-sample applies to --strata only.")
    if population is None:
        raise click.UsageError("Missing --population.")
    if mode == "--probe":
        assert probe is not None
        result = stats.variable_sample_size_from_probe(
            _probe_values(probe, column), population=population
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
        _print_variable_size(result)


def _probe_values(path: Path, column: str | None) -> list[float]:
    table = _read_table(path)
    out = _Collector()
    if column is None:
        numeric = [
            (i, c)
            for i, c in enumerate(table.columns)
            if table.rows
            and all(_parse_number(table.cell(cells, i)) is not None for _, cells in table.rows)
        ]
        if len(numeric) != 1:
            out.add(
                table.where(),
                "one numeric column, or --column naming the one to use",
                f"{len(numeric)} numeric columns among "
                + ", ".join(repr(c) for c in table.columns),
            )
            out.raise_if_any("Cannot choose the probe column.")
        index, column = numeric[0]
    else:
        found = _require_columns(table, [column], out)
        out.raise_if_any("Cannot read the probe file.")
        index = found[column]
    values = _numbers(table, index, column, out)
    out.raise_if_any("The probe file has invalid values.")
    return values


def _size_strata(path: Path) -> list[stats.SizeStratum]:
    table = _read_table(path)
    out = _Collector()
    columns = _require_columns(table, ("stratum", "population", "mean", "sd"), out)
    out.raise_if_any("The strata file is missing columns.")
    strata: list[stats.SizeStratum] = []
    for row, cells in table.rows:
        name = _label(table.cell(cells, columns["stratum"]))
        big_n = _whole(table, row, "population", table.cell(cells, columns["population"]), out)
        values = {}
        for key in ("mean", "sd"):
            text = table.cell(cells, columns[key])
            values[key] = _parse_number(text)
            if values[key] is None:
                out.add(
                    table.where(row, key),
                    "a number",
                    "an empty cell" if not text else "a value that is not a number",
                )
        if not name:
            out.add(table.where(row, "stratum"), "a stratum label", "an empty cell")
        mean, sd = values["mean"], values["sd"]
        if name and big_n is not None and mean is not None and sd is not None:
            strata.append(stats.SizeStratum(name=name, population=big_n, mean=mean, sd=sd))
    if not table.rows:
        out.add(table.where(), "one row per stratum", "no data rows")
    out.raise_if_any("The strata file has invalid values.")
    return strata


def _print_variable_size(result: stats.VariableSampleSize) -> None:
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


def _print_stratified_size(result: stats.StratifiedSampleSize) -> None:
    lines = ["VARIABLE SAMPLE SIZE (stratified, Neyman allocation)"]
    for precision, row in result.table.items():
        lines += ["", f"Precision {precision}%"]
        for level, cell in row.items():
            parts = ", ".join(f"{name}: {n:,}" for name, n in cell.strata.items())
            lines.append(f"  {level + '%':>4} confidence: total {cell.total:>8,}   ({parts})")
    _out(lines)


def _print_allocation(result: stats.StratifiedAllocation) -> None:
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
    result = stats.attribute_sample_size(
        population, expected_rate=rate, precision_range_percent=precision_range
    )
    if as_json:
        echo_json(result)
        return
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
