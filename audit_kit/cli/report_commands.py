"""Command `report`: render the PDF reports of a scored audit (registered by audit_kit.cli)."""

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

REPORT_HELP = """\
Render the PDF reports of a scored audit.

\b
Writes, in one step recorded in audit.json:
  report.pdf        executive report with the methodology appendix
                    (results.json attached)
  coders/<id>.pdf   feedback for each coder (their own results only)
  attestation.pdf   one-page accuracy attestation
All are PDF/A-3b and carry no patient identifiers. Run `audit-kit score` first.

\b
--templates DIR overrides shipped templates file by file (report.html,
report.css, coder.html, attestation.html, partials/...). Templates can load
files only from the template folders, never from elsewhere or from a URL.

\b
Example:
  audit-kit report audits/q3
  audit-kit report audits/q3 --templates my_templates --json
"""


@cli.command("report", help=REPORT_HELP)
@audit_dir_argument
@click.option(
    "--templates",
    "templates",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A folder of templates overriding the shipped ones.",
)
@json_option
@quiet_option
def report_command(audit_dir: Path, templates: Path | None, as_json: bool, quiet: bool) -> None:
    from audit_kit import reporting
    from audit_kit.reporting import REPORT_FILES

    paths = reporting.report(
        audit_dir, template_dir=templates, progress=progress_printer(quiet=quiet or as_json)
    )
    executive = audit_dir / REPORT_FILES["executive"]
    attestation = audit_dir / REPORT_FILES["attestation"]
    coders = [p for p in paths if p not in (executive, attestation)]
    if as_json:
        echo_json(
            {
                "audit_dir": audit_dir,
                "executive": executive,
                "attestation": attestation,
                "coders": coders,
                "files": paths,
            }
        )
        return
    click.echo(f"Executive report: {executive}")
    click.echo(f"Attestation:      {attestation}")
    click.echo(f"Coder feedback:   {len(coders)} PDF(s) in {audit_dir / REPORT_FILES['coders']}/")
