"""``rebuttals``, ``decisions`` and ``close``: the rebuttal round.

Coders answer each finding with an error (agree, or disagree with a comment); the audit lead
decides each dispute (upheld, overturned, modified); ``close`` ends the round and the results
become final. Returned workbooks of both kinds are taken back by ``collect``.
"""

from __future__ import annotations

from pathlib import Path

import click

from audit_kit.cli import cli
from audit_kit.cli._common import (
    audit_dir_argument,
    echo_json,
    json_option,
    progress_printer,
    quiet_option,
)
from audit_kit.cli.workbook_commands import (
    password_file_option,
    plan_wants_password,
    read_password,
)

__all__ = ["close_command", "decisions_command", "rebuttals_command"]


@cli.command("rebuttals")
@audit_dir_argument
@click.option(
    "--due",
    metavar="YYYY-MM-DD",
    help="The date the coders must respond by. Default: today plus the plan's rebuttal.days "
    "(14 unless the plan says otherwise).",
)
@password_file_option
@json_option
@quiet_option
def rebuttals_command(
    audit_dir: Path, due: str | None, password_file: Path | None, as_json: bool, quiet: bool
) -> None:
    """Open the rebuttal round: one workbook per coder in AUDIT_DIR/rebuttals/.

    \b
    Each coder with at least one finding with an error gets rebuttals/<coder>.xlsx:
    every such finding with the original and audited codes and amounts, the
    error category and the auditor's rationale and reference. The coder fills
    Coder response (agree, disagree) and Coder comment (required for disagree).
    Every sampled unit must be returned first. Collect the returns with
    `audit-kit collect`.

    \b
    Example:
      audit-kit rebuttals audits/q3 --due 2026-05-15
    """
    from audit_kit.rebuttal import open_round

    prompt = password_file is None and plan_wants_password(audit_dir)
    password = read_password(password_file, prompt=prompt, confirm=True)
    summary = open_round(
        audit_dir, due=due, password=password, progress=progress_printer(quiet=quiet or as_json)
    )
    if as_json:
        echo_json(summary)
        return
    for path in summary.files:
        click.echo(f"wrote {path}")
    click.echo(
        f"Rebuttal round open: {summary.findings} finding(s) with an error, "
        f"{len(summary.files)} coder(s), due {summary.due}."
    )
    if password:
        click.echo("Workbooks are encrypted: give coders the password by another channel.")
    click.echo(f"Next: {summary.next_step}")


@cli.command("decisions")
@audit_dir_argument
@password_file_option
@json_option
@quiet_option
def decisions_command(
    audit_dir: Path, password_file: Path | None, as_json: bool, quiet: bool
) -> None:
    """Write the audit lead's workbook of disputes: AUDIT_DIR/decisions/decisions.xlsx.

    \b
    Every finding a coder disagreed with, with both sides (the auditor's codes,
    rationale and reference; the coder's comment). The lead fills Decision
    (upheld, overturned, modified), Decision rationale, Decided by, Decision
    date, and for modified the final codes and amount. Run it again after more
    responses came in: decisions already collected are pre-filled.

    \b
    Example:
      audit-kit decisions audits/q3
    """
    from audit_kit.rebuttal import write_decisions

    prompt = password_file is None and plan_wants_password(audit_dir)
    password = read_password(password_file, prompt=prompt, confirm=True)
    summary = write_decisions(
        audit_dir, password=password, progress=progress_printer(quiet=quiet or as_json)
    )
    if as_json:
        echo_json(summary)
        return
    for path in summary.files:
        click.echo(f"wrote {path} ({summary.disputes} dispute(s))")
    click.echo(f"Next: {summary.next_step}")


@cli.command("close")
@audit_dir_argument
@click.option(
    "--early",
    is_flag=True,
    help="Close before the due date although some findings have no response (they count as "
    "agreed).",
)
@json_option
def close_command(audit_dir: Path, early: bool, as_json: bool) -> None:
    """End the rebuttal round; refused while a dispute has no decision.

    \b
    Findings without a response count as agreed, and the record says so.
    Before the due date, closing with findings still unanswered needs --early.
    Score again afterwards: the results are final once the round is closed and
    every sampled unit is in.

    \b
    Example:
      audit-kit close audits/q3
    """
    from audit_kit.rebuttal import close_round

    summary = close_round(audit_dir, early=early)
    if as_json:
        echo_json(summary)
        return
    click.echo(
        f"Rebuttal round closed: {summary.findings} finding(s) with an error, "
        f"{summary.disputes} disputed and decided."
    )
    for coder, units in summary.no_response.items():
        click.echo(
            f"  no response from {coder} by {summary.due}: {len(units)} finding(s) count as "
            f"agreed ({', '.join(units[:8])}{', ...' if len(units) > 8 else ''})"
        )
    click.echo(f"Next: {summary.next_step}")
