"""``audit-kit score``: accuracy, financial impact and extrapolation (results.json / .xlsx)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from audit_kit.cli import cli
from audit_kit.cli._common import (
    audit_dir_argument,
    echo_json,
    json_option,
    progress_printer,
    quiet_option,
)
from audit_kit.values.counts import COUNT_WORDS, counts_line, scored_of_sampled

__all__ = ["score_command"]


def _interval(block: Mapping[str, Any] | None, scored: str) -> str:
    from audit_kit.reporting.formatting import pct, pct_lower, pct_upper

    if block is None:
        return "n/a (nothing scored)"
    # rounded as the PDF rounds them: the lower limit down, the upper limit up
    return (
        f"{pct(block['value'])} ({block['confidence']:.0%} limits "
        f"{pct_lower(block['lower'])} to {pct_upper(block['upper'])}), {scored}"
    )


def _pct(value: float | None) -> str:
    from audit_kit.reporting.formatting import pct

    return pct(value)


def _money(value: float, *, cents: bool = True) -> str:
    from audit_kit.reporting.formatting import money

    # as the PDF shows it: sample amounts to the cent, extrapolated ones to whole dollars
    return money(value, cents=cents)


def preliminary_line(results: Mapping[str, Any]) -> str | None:
    """The warning that results are preliminary, or None when they are final."""
    if results.get("status") != "preliminary":
        return None
    progress = results["progress"]
    return (
        f"PRELIMINARY: {progress['units_outstanding']:,} of {progress['units_sampled']:,} "
        f"{COUNT_WORDS['units_sampled']} {COUNT_WORDS['units_outstanding']}; every result below "
        "will change as they come in (collect them, then score again)."
    )


def summary_lines(results: Mapping[str, Any]) -> list[str]:
    """Return the human summary of a results dict."""
    overall = results["overall"]
    progress = results["progress"]
    settings = results["settings"]
    money = overall["financial"]
    scored = scored_of_sampled(overall["units_reviewed"], progress["units_sampled"])
    warning = preliminary_line(results)
    lines = [
        *([warning] if warning else []),
        f"Units: {counts_line(progress)}.",
        f"Record accuracy: {_interval(overall['record_accuracy'], scored)}",
        f"Code accuracy:   {_interval(overall['code_accuracy'], scored)}",
        f"Verdict against the {settings['target_accuracy']:.1%} target: {overall['verdict']}"
        + (" (preliminary)" if warning else ""),
        f"Sample: overpaid {_money(money['overpayment'])}, underpaid "
        f"{_money(money['underpayment'])}, net {_money(money['net'])}, "
        f"gross {_money(money['gross'])}",
    ]
    ext = overall.get("extrapolation")
    if ext is not None:
        lines.append(
            f"Extrapolated ({ext['measure']}): point estimate "
            f"{_money(ext['point_estimate'], cents=False)}; demand amount "
            f"{_money(ext['demand_amount'], cents=False)} ({ext['demand_rule']})"
        )
    cia = results.get("cia_discovery")
    if cia is not None and cia["net_error_rate"] is not None:
        full = cia.get("full_sample") or {}
        lines.append(
            f"CIA discovery: net error rate {_pct(cia['net_error_rate'])} "
            f"(threshold {_pct(cia['threshold'])})"
            + (f"; full sample of {full['sample_size']} needed" if full.get("sample_size") else "")
        )
    lines.extend(f"Note: {note}" for note in results.get("notes", []))
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
    the plan's demand rule. While sampled units are not returned yet, the
    results are preliminary (results.json "status"), and the summary says so.
    With --json, prints the overall block (the warning goes to stderr).

    \b
    Example:
      audit-kit score audits/q3
      audit-kit score audits/q3 --json
    """
    from audit_kit import scoring
    from audit_kit.reporting.results_workbook import results_workbook_bytes

    scored = scoring.score(
        audit_dir,
        progress=progress_printer(quiet=quiet or as_json),
        results_workbook=results_workbook_bytes,
    )
    results = scored.to_json_dict()  # the summary reads the file's keys, as results.json has them
    warning = preliminary_line(results)
    if as_json:
        echo_json(results["overall"])
        if warning and not quiet:
            click.echo(warning, err=True)  # stdout holds exactly one JSON document
        return
    for line in summary_lines(results):
        click.echo(line)
    click.echo(f"Wrote {audit_dir / 'results.json'} and {audit_dir / 'results.xlsx'}.")
