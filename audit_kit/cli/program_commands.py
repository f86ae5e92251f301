"""Command `trend`: several audits as periods, their trends and the next audit per coder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from audit_kit.cli import cli
from audit_kit.cli._common import echo_json, json_option, progress_printer, quiet_option

if TYPE_CHECKING:
    from audit_kit.program import Trend

F = TypeVar("F", bound=Callable[..., Any])

TREND_HELP = """\
Compare several audits over time and set each coder's next audit.

\b
Verifies every audit folder (the file hashes, as `audit-kit verify` does),
orders the audits by the plan's `period` (else the sampling date), and
writes into --out:
  trend.json   every number: per coder, provider and auditor per period,
               overall, p-chart, funnel plot, next audit per coder
  trend.xlsx   the same for people
  trend.pdf    the trend report (trend.json attached)
A coder absent from an audit is shown as absent, never as 0%. Audits with
different designs, targets or confidence are compared as they are, and the
differences are listed. The audit folders are only read.

\b
The next audit per coder comes from the rule table (--rules FILE, else the
latest plan's `cadence:` section, else the defaults in docs/plans.md),
comparing the LOWER confidence limit with each threshold.

\b
Example:
  audit-kit trend audits/2026-q1 audits/2026-q2 audits/2026-q3 --out trend-2026
  audit-kit trend audits/* --out trend --rules cadence.yaml --force --json
"""


def audit_dirs_argument(func: F) -> F:
    return click.argument(
        "audit_dirs",
        metavar="AUDIT_DIR...",
        nargs=-1,
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
    )(func)


@cli.command("trend", help=TREND_HELP)
@audit_dirs_argument
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write trend.json, trend.xlsx and trend.pdf into.",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A YAML cadence rule table (the keys of a plan's cadence: section).",
)
@click.option("--force", is_flag=True, help="Replace an earlier trend report in --out.")
@click.option(
    "--templates",
    "templates",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A folder of templates overriding the shipped ones (trend.html, report.css...).",
)
@json_option
@quiet_option
def trend_command(
    audit_dirs: tuple[Path, ...],
    out: Path,
    rules_file: Path | None,
    force: bool,
    templates: Path | None,
    as_json: bool,
    quiet: bool,
) -> None:
    from audit_kit.program import run_trend

    summary = run_trend(
        list(audit_dirs),
        out,
        rules_file=rules_file,
        force=force,
        template_dir=templates,
        progress=progress_printer(quiet=quiet or as_json),
    )
    if as_json:
        echo_json(summary)
        return
    print_trend(summary.trend)
    click.echo("Wrote:")
    for path in summary.files:
        click.echo(f"  {path}")


def print_trend(trend: Trend) -> None:
    """Print the periods, the p-chart signals and the next audit per coder."""
    echo = click.echo
    echo(f"{len(trend.periods)} audit(s), earliest first:")
    for i, (period, overall) in enumerate(zip(trend.periods, trend.overall, strict=True), 1):
        code = overall.code_accuracy
        value = "n/a" if code is None or code.value is None else f"{code.value:.1%}"
        lower = "n/a" if code is None or code.lower is None else f"{code.lower:.1%}"
        echo(
            f"  {i}. {period.period:<26} {period.audit}  {period.units_scored} units, "
            f"code accuracy {value} (lower {lower}), {overall.verdict or 'no verdict'}"
        )
    flagged = [p.period for p in trend.p_chart.periods if p.out_of_control]
    if flagged:
        echo("p-chart: record error rate outside its limits in " + ", ".join(flagged))
    else:
        echo("p-chart: the record error rate is within its limits in every period")
    if not trend.comparability.comparable:
        echo(
            "The audits differ in: " + ", ".join(d.setting for d in trend.comparability.differences)
        )
    echo(f"Next audit per coder (rules: {trend.cadence.get('source')}):")
    for coder in trend.coders:
        decision = coder.next_audit
        if decision is None:
            continue
        note = "" if decision.in_latest_period else f" [last seen {coder.last_seen}]"
        echo(
            f"  {coder.name:<14} {decision.date}  {decision.kind.replace('_', ' '):<15} "
            f"{decision.rule}{note}"
        )
