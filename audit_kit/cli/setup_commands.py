"""Commands `init` (propose a plan for an export) and `status` (where an audit stands)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from audit_kit.cli import cli
from audit_kit.cli._common import echo_json, json_option

if TYPE_CHECKING:
    from audit_kit.folder.status import AuditStatus
    from audit_kit.plan.mapping import InitSummary

# audit_kit.plan.mapping.DEFAULT_SAMPLE_ROWS, written out so that `--help` imports no library module
# (tests/test_init.py checks that the two agree).
INIT_DEFAULT_ROWS = 1000

INIT_HELP = """\
Write a sampling plan for your universe export, with the column mapping guessed.

\b
Reads the header and the first rows of the export and proposes which column
holds which audit-kit field (unit id, coder, diagnoses, CPT/HCPCS, paid...),
by header name (Acct #, Coder Name, DX1..DX25, Total Paid, Svc Dt...) and by
the values (ICD-10-CM, ICD-10-PCS and CPT/HCPCS codes, money, dates, unique
ids). Patient names, MRN, date of birth, SSN, address and phone are marked as
PHI and never put in the auditor workbooks. The plan starts from a preset (or
a per-coder review by default); every guessed line is marked
`# review: guessed from ...`. An existing plan is never overwritten without
--force.

\b
Example:
  audit-kit init --universe q3_export.csv --out q3_plan.yaml
  audit-kit init --universe claims.xlsx --preset cms-probe --out probe.yaml
"""


@cli.command("init", help=INIT_HELP)
@click.option(
    "--universe",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The universe export: CSV (any delimiter), Parquet or XLSX.",
)
@click.option(
    "--preset",
    metavar="NAME",
    default=None,
    help="Start from this preset (see `audit-kit plans`); default: a per-coder review.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the plan (YAML).",
)
@click.option("--force", is_flag=True, help="Replace an existing plan file.")
@click.option(
    "--rows",
    type=click.IntRange(min=10),
    default=INIT_DEFAULT_ROWS,
    show_default=True,
    help="How many rows to inspect.",
)
@click.option("--sheet", default=None, help="XLSX: the sheet to read (default: the first).")
@json_option
def init_command(
    universe: Path,
    preset: str | None,
    out: Path,
    force: bool,
    rows: int,
    sheet: str | None,
    as_json: bool,
) -> None:
    from audit_kit.plan import mapping

    summary = mapping.init(universe, out, preset=preset, force=force, rows=rows, sheet=sheet)
    if as_json:
        echo_json(summary)
        return
    _print_init(summary)


def _print_init(summary: InitSummary) -> None:
    proposal = summary.proposal
    echo = click.echo
    echo(
        f"Read the header and {proposal.rows_read:,} rows of {summary.universe.name} "
        f"({len(proposal.columns)} columns)."
    )
    for note in summary.notes:
        echo(f"Note: {note}")
    if proposal.fields:
        echo("Mapped:")
        width = max(len(name) for name in proposal.fields)
        for name, guess in proposal.fields.items():
            cols = guess.columns
            shown = cols[0] if len(cols) == 1 else f"{cols[0]} .. {cols[-1]} ({len(cols)} columns)"
            echo(f"  {name.ljust(width)}  {shown}   <- {guess.reason}")
            for note in guess.notes:
                echo(f"  {' ' * width}  ! {note}")
    phi = [c for g in proposal.phi for c in g.columns]
    if "patient" in proposal.fields:
        phi = [*proposal.fields["patient"].columns, *phi]
    if phi:
        echo("PHI (kept in sample.csv only, never in workbooks or PDFs): " + ", ".join(phi))
    if proposal.phi_not_kept:
        names = ", ".join(c for g in proposal.phi_not_kept for c in g.columns)
        echo(f"PHI left out of the plan (not needed for the audit): {names}")
    if proposal.unmapped:
        echo("Not mapped: " + ", ".join(proposal.unmapped))
    if proposal.missing:
        echo("Could not find: " + ", ".join(proposal.missing) + " (map them by hand)")
    for note in proposal.notes:
        echo(f"Note: {note}")
    source = f"the preset '{summary.preset}'" if summary.preset else "a per-coder review"
    echo(f"Wrote {summary.plan} from {source}. Review every line marked '# review:'.")
    if summary.problems:
        echo(f"The plan does not validate yet ({len(summary.problems)} problem(s)):")
        for problem in summary.problems:
            echo(f"  - {problem}")
    echo("Next:")
    echo(f"  {summary.next_command}")


STATUS_HELP = """\
Show where an audit stands and the next step.

\b
Reads the audit folder's manifest, event log and artifacts (hash-checked):
sampled, workbooks issued, returned (x of n units per auditor), scored,
reported, verified; a step run again makes the later ones out of date.
Changes nothing.

\b
With several audit folders: the program summary of `audit-kit trend` (each
audit verified, ordered by period; next audit per coder), without writing
anything.

\b
Example:
  audit-kit status audits/q3
  audit-kit status audits/q3 --json
  audit-kit status audits/q1 audits/q2 audits/q3
"""


@cli.command("status", help=STATUS_HELP)
@click.argument(
    "audit_dirs",
    metavar="AUDIT_DIR...",
    nargs=-1,
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
)
@json_option
def status_command(audit_dirs: tuple[Path, ...], as_json: bool) -> None:
    if len(audit_dirs) > 1:
        _program_status(audit_dirs, as_json=as_json)
        return
    from audit_kit.folder import status as status_module

    status = status_module.status(audit_dirs[0])
    if as_json:
        echo_json(status)
        return
    _print_status(status)


def _program_status(audit_dirs: tuple[Path, ...], *, as_json: bool) -> None:
    from audit_kit.cli.program_commands import print_trend
    from audit_kit.program import program_status, summary_dict

    trend = program_status(list(audit_dirs))
    if as_json:
        echo_json(summary_dict(trend))
        return
    print_trend(trend)


def _print_status(status: AuditStatus) -> None:
    echo = click.echo
    echo(f"{status.name} ({status.audit_id})")
    echo(f"  folder: {status.audit_dir}")
    for step in status.steps:
        mark = "!" if step.stale else "x" if step.done else " "
        when = f"  [{step.at}]" if step.at else ""
        echo(f"  [{mark}] {step.name:<10} {step.detail}{when}")
    if status.auditors:
        echo("  auditors:")
        for a in status.auditors:
            parts = [f"{a.returned}/{a.assigned} returned"]
            if a.record_missing:
                parts.append(f"{a.record_missing} record missing")
            if a.not_reviewed:
                parts.append(f"{a.not_reviewed} not reviewed")
            echo(f"    {a.auditor}: " + ", ".join(parts))
    for problem in status.integrity:
        echo(f"  ! {problem}")
    echo(f"Next: {status.next_step}")
    if status.next_command:
        echo(f"  {status.next_command}")
