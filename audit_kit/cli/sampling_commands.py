"""Commands of the sampling stage: `sample` and `plans` (registered on import by audit_kit.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from audit_kit.cli import cli
from audit_kit.cli._common import (
    echo_json,
    engine_options,
    json_option,
    quiet_option,
    universe_source,
)
from audit_kit.errors import PlanError

if TYPE_CHECKING:
    from audit_kit.sampling import SampleSummary

__all__ = ["SeedType"]

_MAX_STRATA_SHOWN = 12


class SeedType(click.ParamType[int | float]):
    """A seed: a whole number, or a decimal number (RAT-STATS seeds have 2 decimals)."""

    name = "seed"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            self.fail(f"{value!r} is not a number (e.g. 20261127 or 48863.78).", param, ctx)
        if number != number or number in (float("inf"), float("-inf")):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


SAMPLE_HELP = """\
Draw the plan's random sample from a universe file and create the audit folder.

\b
Reads the universe (CSV, Parquet or XLSX, or a table or query in DuckDB,
PostgreSQL or Spark, counted and fetched in the engine), applies the plan's frame filters,
sorts the frame by unit id, draws the sample (and spares) and writes, in one
step: plan.yaml (the plan as used, with its seed), sampling.json (the
sampling record), sampling.txt (the sampling statement) and sample.csv.
Nothing is written if any check fails; an existing audit is never replaced
unless --force is given.

\b
Example:
  audit-kit sample --plan quarterly-coder-review --universe q3_export.csv --out audits/q3
  audit-kit sample --plan my_plan.yaml --universe claims.parquet --out audits/cia --seed 48863.78
  audit-kit sample --plan my_plan.yaml --universe duckdb:///claims.duckdb --table claims \\
      --out audits/q3
  audit-kit sample --plan my_plan.yaml --universe postgresql://auditor@db:5432/claims \\
      --query "SELECT * FROM claims WHERE period = '2026Q3'" --out audits/q3
"""


@cli.command("sample", help=SAMPLE_HELP)
@click.option(
    "--plan",
    "plan",
    required=True,
    metavar="PLAN",
    help="Sampling plan: a YAML file, or a preset name (see `audit-kit plans`).",
)
@click.option(
    "--universe",
    required=True,
    metavar="FILE|URL",
    help="The universe file: CSV (any delimiter), Parquet or XLSX; or a database URL "
    "(duckdb:///file.duckdb, postgresql://user@host:port/db, spark:MASTER, sc://host:port) "
    "with --table or --query.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=True, path_type=Path),
    help="The audit folder to create (new or empty).",
)
@click.option(
    "--seed",
    type=SeedType(),
    default=None,
    help="Random seed, when the plan has none (else one is generated and recorded).",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Pseudonymisation key (plans with `pseudonymise: true`); keep it outside the audit.",
)
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "latin-1"]),
    default="auto",
    show_default=True,
    help="Text encoding of a CSV universe (auto: UTF-8, else Latin-1 with a note).",
)
@click.option("--sheet", default=None, help="Worksheet of an XLSX universe (default: the first).")
@click.option("--force", is_flag=True, help="Replace an existing audit folder at --out.")
@engine_options
@json_option
@quiet_option
def sample_command(
    plan: str,
    universe: str,
    out: Path,
    seed: int | float | None,
    key_file: Path | None,
    encoding: str,
    sheet: str | None,
    force: bool,
    table: str | None,
    query: str | None,
    password_file: Path | None,
    as_json: bool,
    quiet: bool,
) -> None:
    from audit_kit import sampling

    def progress(message: str) -> None:
        click.echo(f"... {message}", err=True)

    source = universe_source(universe)
    assert source is not None
    summary = sampling.sample(
        plan,
        source,
        out,
        seed=seed,
        force=force,
        progress=None if quiet or as_json else progress,
        key_file=key_file,
        encoding=encoding,  # type: ignore[arg-type]  # click.Choice guarantees the literal
        sheet=sheet,
        table=table,
        query=query,
        password_file=password_file,
    )
    if as_json:
        echo_json(summary)
        return
    click.echo(_summary_text(summary))


def _summary_text(summary: SampleSummary) -> str:
    lines = [
        f"Sampled {summary.sample_size:,} units (+{summary.spares} spares) from a frame of "
        f"N = {summary.population:,} ({summary.universe_rows:,} rows in {summary.universe_file}).",
    ]
    for name, rows in summary.excluded:
        lines.append(f"  excluded by {name}: {rows:,} rows")
    if len(summary.strata) > 1 or summary.strata[0].label != "all":
        lines.append(f"  {len(summary.strata)} strata (N_h -> n_h):")
        for s in summary.strata[:_MAX_STRATA_SHOWN]:
            flag = " certainty" if s.certainty else " census" if s.census else ""
            lines.append(f"    {s.label}: {s.population:,} -> {s.sample:,}{flag}")
        if len(summary.strata) > _MAX_STRATA_SHOWN:
            lines.append(f"    ... {len(summary.strata) - _MAX_STRATA_SHOWN} more in sampling.json")
    elif summary.strata[0].census:
        lines.append("  census: every unit of the frame is reviewed")
    seed_note = " (generated, recorded in plan.yaml)" if summary.seed_generated else ""
    lines.append(f"Generator {summary.generator}, seed {summary.seed}{seed_note}.")
    for note in summary.notes:
        lines.append(f"Note: {note}")
    lines.append(f"Audit {summary.audit_id} in {summary.audit_dir}: {', '.join(summary.files)}.")
    lines.append(f"Next: audit-kit workbooks {summary.audit_dir}")
    return "\n".join(lines)


PLANS_HELP = """\
List the shipped sampling-plan presets, or print one to start your own plan.

\b
Each preset's header says when to use it and which regulation or guidance it
follows. Its column names are placeholders: copy it, map `columns` to your
export's headers, then pass the file (or, if the names match, the preset
name) to `audit-kit sample --plan`.

\b
Example:
  audit-kit plans
  audit-kit plans --show cia-discovery > my_plan.yaml
"""


@cli.command("plans", help=PLANS_HELP)
@click.option("--show", "show", metavar="NAME", default=None, help="Print this preset's YAML.")
@json_option
def plans_command(show: str | None, as_json: bool) -> None:
    from audit_kit.plan.presets import list_presets, preset_summary

    presets = list_presets()
    if show is not None:
        if show not in presets:
            raise PlanError.one(
                "No such preset.",
                where=show,
                expected="one of: " + ", ".join(presets),
                found="no such preset",
                fix="run `audit-kit plans` for the list.",
            )
        text = presets[show].read_text("utf-8")
        if as_json:
            echo_json({"name": show, "file": str(presets[show]), "yaml": text})
        else:
            click.echo(text, nl=False)
        return
    entries = [
        {"name": name, "summary": preset_summary(path), "file": str(path)}
        for name, path in presets.items()
    ]
    if as_json:
        echo_json({"presets": entries})
        return
    width = max((len(e["name"]) for e in entries), default=0)
    for entry in entries:
        click.echo(f"{entry['name']:<{width}}  {entry['summary']}")
    click.echo("\nShow one with `audit-kit plans --show NAME`; use it with `--plan NAME`.")
