"""``audit-kit score``: accuracy, financial impact and extrapolation (results.json / .xlsx)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from audit_kit.cli import cli

if TYPE_CHECKING:
    from audit_kit.folder.results import Interval, Results

from audit_kit.cli._common import (
    audit_dir_argument,
    echo_json,
    json_option,
    progress_printer,
    quiet_option,
)

__all__ = ["score_command"]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _interval(block: Interval | None) -> str:
    if block is None:
        return "n/a (nothing scored)"
    return (
        f"{_pct(block.value)} ({block.confidence:.0%} limits "
        f"{_pct(block.lower)} to {_pct(block.upper)})"
    )


def _money(value: float) -> str:
    return f"${value:,.2f}"


def summary_lines(results: Results) -> list[str]:
    """Return the human summary of the results."""
    overall, progress, money = results.overall, results.progress, results.overall.financial
    lines = [
        f"Scored {overall.units_reviewed} unit(s) of {progress.units_sampled} sampled "
        f"({progress.units_not_reviewed} not reviewed, "
        f"{progress.units_outstanding} not returned yet).",
        f"Record accuracy: {_interval(overall.record_accuracy)}",
        f"Code accuracy:   {_interval(overall.code_accuracy)}",
        f"Verdict against the {results.settings.target_accuracy:.1%} target: {overall.verdict}",
        f"Sample: overpaid {_money(money.overpayment)}, underpaid "
        f"{_money(money.underpayment)}, net {_money(money.net)}, "
        f"gross {_money(money.gross)}",
    ]
    ext = overall.extrapolation
    if ext is not None:
        lines.append(
            f"Extrapolated ({ext.measure}): point estimate {_money(ext.point_estimate)}; "
            f"demand amount {_money(ext.demand_amount)} ({ext.demand_rule})"
        )
    cia = results.cia_discovery
    if cia is not None and cia.net_error_rate is not None:
        full = cia.full_sample
        lines.append(
            f"CIA discovery: net error rate {_pct(cia.net_error_rate)} "
            f"(threshold {_pct(cia.threshold)})"
            + (f"; full sample of {full.sample_size} needed" if full and full.sample_size else "")
        )
    lines.extend(f"Note: {note}" for note in results.notes)
    return lines


@cli.command("score")
@audit_dir_argument
@json_option
@quiet_option
def score_command(audit_dir: Path, as_json: bool, quiet: bool) -> None:
    """Score the findings: accuracy per coder, financial impact, extrapolation.

    \b
    Reads findings.csv (from `audit-kit collect`) and writes results.json and
    results.xlsx into AUDIT_DIR in one step recorded in audit.json: record,
    code and financial accuracy with confidence limits per coder, provider,
    auditor and stratum, and the overpayment extrapolated to the universe with
    the plan's demand rule. With --json, prints the overall block.

    \b
    Example:
      audit-kit score audits/q3
      audit-kit score audits/q3 --json
    """
    from audit_kit import scoring
    from audit_kit.reporting.results_workbook import results_workbook_bytes

    results = scoring.score(
        audit_dir,
        progress=progress_printer(quiet=quiet or as_json),
        results_workbook=results_workbook_bytes,
    )
    if as_json:
        echo_json(results.overall.to_json_dict())
        return
    for line in summary_lines(results):
        click.echo(line)
    click.echo(f"Wrote {audit_dir / 'results.json'} and {audit_dir / 'results.xlsx'}.")
