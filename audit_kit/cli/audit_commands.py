"""Commands on a whole audit folder: `verify` (registered on import by audit_kit.cli)."""

from __future__ import annotations

from pathlib import Path

import click

from audit_kit.cli import cli
from audit_kit.cli._common import (
    audit_dir_argument,
    echo_json,
    engine_options,
    json_option,
    quiet_option,
    universe_source,
)

VERIFY_HELP = """\
Check an audit folder: every file's SHA-256, and (with --universe) the sample.

\b
Without --universe, every artifact is checked against the SHA-256 recorded in
audit.json, and files audit-kit did not write are reported. With --universe,
the sample is also re-drawn from plan.yaml, the recorded seed and that file,
and proved identical to sample.csv (same units, frame numbers and order).
A database universe (--universe URL with --table or --query) is counted
again in the engine: its content fingerprint is compared with the one in
sampling.json (a changed stratum is named) and the sample re-drawn.
Exit code 1 names every failing file.

\b
Example:
  audit-kit verify audits/q3
  audit-kit verify audits/q3 --universe q3_export.csv --json
  audit-kit verify audits/q3 --universe duckdb:///claims.duckdb --table claims
"""


@cli.command("verify", help=VERIFY_HELP)
@audit_dir_argument
@click.option(
    "--universe",
    default=None,
    metavar="FILE|URL",
    help="The universe the sample was drawn from (a file, or a database URL with --table "
    "or --query): re-draw and compare.",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Pseudonymisation key, to compare pseudonymised columns too.",
)
@engine_options
@json_option
@quiet_option
def verify_command(
    audit_dir: Path,
    universe: str | None,
    key_file: Path | None,
    table: str | None,
    query: str | None,
    password_file: Path | None,
    as_json: bool,
    quiet: bool,
) -> None:
    from audit_kit import sampling

    def progress(message: str) -> None:
        click.echo(f"... {message}", err=True)

    report = sampling.verify(
        audit_dir,
        universe_source(universe),
        key_file=key_file,
        table=table,
        query=query,
        password_file=password_file,
        progress=None if quiet or as_json else progress,
    )
    if as_json:
        echo_json(report)
        return
    click.echo(
        f"OK: {report.files_checked} files of audit {report.audit_id} match the SHA-256 "
        "recorded in audit.json."
    )
    if report.redrawn:
        click.echo(
            f"OK: the sample re-drawn from plan.yaml, its seed and {report.universe_file} is "
            f"identical to sample.csv ({report.units:,} rows, {report.strata} strata)."
        )
    else:
        click.echo("Pass --universe FILE to re-draw the sample and prove it identical.")
    for note in report.notes:
        click.echo(f"Note: {note}")
