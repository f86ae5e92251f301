"""``workbooks`` and ``collect``: hand out auditor workbooks, take them back validated.

Passwords come from a file (``--password-file``, first line) or a hidden prompt, never from the
command line, where they would land in shell history and process listings.
"""

from __future__ import annotations

import sys
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
from audit_kit.errors import InputError
from audit_kit.files.text import read_text

__all__ = ["collect_command", "workbooks_command"]


def _read_password(path: Path | None, *, prompt: bool, confirm: bool) -> str | None:
    """Return the password from the file (first line), a hidden prompt, or None."""
    if path is not None:
        text = read_text(
            path,
            summary="Cannot read the password file.",
            expected="a readable UTF-8 text file holding the password on line 1",
            fix="check the path and permissions of --password-file.",
            encoding="utf-8-sig",
        )
        lines = text.splitlines()
        password = lines[0] if lines else ""
        if not password:
            raise InputError.one(
                "The password file is empty.",
                where=str(path),
                expected="the password on the first line",
                found="an empty first line",
                fix="write the password on line 1 of the file.",
            )
        return password
    if prompt and sys.stdin.isatty():
        value: str = click.prompt(
            "Workbook password", hide_input=True, confirmation_prompt=confirm, err=True
        )
        return value
    return None


def _plan_wants_password(audit_dir: Path) -> bool:
    from audit_kit.folder.manifest import AuditFolder
    from audit_kit.workbook import load_audit

    plan, _ = load_audit(AuditFolder.open(audit_dir))
    return plan.workbook.password


password_file_option = click.option(
    "--password-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File whose first line is the workbook password (never pass it as an argument).",
)


@cli.command("workbooks")
@audit_dir_argument
@click.option(
    "--auditors",
    metavar="A,B,...",
    help="Auditor names, comma-separated: one workbook each. Without: one workbook for all.",
)
@click.option(
    "--by",
    type=click.Choice(["round_robin", "stratum"]),
    default="round_robin",
    show_default=True,
    help="Deal units one by one in sample order, or whole strata per auditor.",
)
@click.option(
    "--assignment",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="CSV with columns unit_id,auditor (instead of --auditors).",
)
@click.option(
    "--open-units-only",
    is_flag=True,
    help="After returns were collected: issue only the units without findings (each unit "
    "whose findings are in stays with its auditor).",
)
@password_file_option
@json_option
@quiet_option
def workbooks_command(
    audit_dir: Path,
    auditors: str | None,
    by: str,
    assignment: Path | None,
    open_units_only: bool,
    password_file: Path | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Write the auditor workbooks into AUDIT_DIR/workbooks/.

    \b
    One .xlsx per auditor (or one for all without --auditors): a Sample sheet
    with each unit's original columns (locked) and the finding columns to fill
    in, the audited codes pre-filled with the original ones. The password, if
    the plan asks for one, comes from --password-file or a hidden prompt,
    never from the command line. Once returns have been collected, running it
    again is refused (it would re-assign units whose findings are in);
    --open-units-only issues only the units still without findings.

    \b
    Example:
      audit-kit workbooks audits/q3 --auditors ann,bob
      audit-kit workbooks audits/q3 --auditors cy --open-units-only
      audit-kit workbooks audits/q3 --assignment assign.csv --password-file pw.txt
    """
    from audit_kit import workbook

    names = auditors.split(",") if auditors else None
    prompt = password_file is None and _plan_wants_password(audit_dir)
    password = _read_password(password_file, prompt=prompt, confirm=True)
    paths = workbook.workbooks(
        audit_dir,
        auditors=names,
        by="stratum" if by == "stratum" else "round_robin",
        assignment=assignment,
        password=password,
        open_units_only=open_units_only,
        progress=progress_printer(quiet=quiet or as_json),
    )
    if as_json:
        echo_json({"workbooks": [str(p) for p in paths], "encrypted": bool(password)})
        return
    for path in paths:
        click.echo(f"wrote {path}")
    if password:
        click.echo("Workbooks are encrypted: give auditors the password by another channel.")
    click.echo(
        f"Next: hand out the workbooks; when they come back run "
        f"`audit-kit collect {audit_dir} RETURNED.xlsx...`."
    )


@cli.command("collect")
@audit_dir_argument
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="PATH..."
)
@password_file_option
@json_option
@quiet_option
def collect_command(
    audit_dir: Path,
    paths: tuple[Path, ...],
    password_file: Path | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Validate returned workbooks (files or folders) and merge them into findings.csv.

    \b
    Each returned workbook is checked cell by cell (statuses, codes, amounts,
    dates) and every problem is listed with its sheet and cell; if any file
    has a problem, nothing from this run is accepted. Accepted files are stored by SHA-256 under
    returned/, a later return of a unit supersedes the earlier one, and the
    progress per auditor is printed. Collect again as more workbooks come back.

    \b
    Example:
      audit-kit collect audits/q3 returned/ann.xlsx returned/bob.xlsx
      audit-kit collect audits/q3 returned/ --json
    """
    from audit_kit.findings import collect

    prompt = password_file is None and _plan_wants_password(audit_dir)
    password = _read_password(password_file, prompt=prompt, confirm=False)
    summary = collect(
        audit_dir,
        list(paths),
        password=password,
        progress=progress_printer(quiet=quiet or as_json),
    )
    if as_json:
        echo_json(summary)
        return
    for item in summary.files:
        line = f"{item.status:<17} {item.path}"
        if item.status == "accepted":
            line += f"  ({item.workbook_id}, {item.units_returned} unit(s) with a status)"
        click.echo(line)
        for note in item.notes:
            click.echo(f"    note: {note}")
    for entry in summary.superseded:
        click.echo(
            f"superseded: unit {entry['unit_id']} ({entry['reason']}; previous return "
            f"{entry['previous_sha256'][:12]})"
        )
    click.echo("Progress:")
    for p in summary.progress:
        extra = f", {p.not_reviewed} not reviewed" if p.not_reviewed else ""
        click.echo(f"  {p.auditor}: {p.done} of {p.assigned} reviewed{extra}")
    if summary.double_review:
        click.echo(f"Double-review findings: {summary.double_review} unit(s).")
    click.echo(f"Next: {summary.next_step}")
