"""The ``audit-kit`` command line: one click group, one thin command per library function.

Only this package imports click. Each command parses, loads, makes one library call, and writes
or echoes. Every :class:`~audit_kit.errors.AuditError` is turned into a clear message and exit
code 1 here, in one place; usage errors exit 2; a traceback reaching a user is a bug.
Commands live in the modules of this package, one per stage, and register themselves below.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from audit_kit._version import __version__
from audit_kit.cli._common import JSON_REQUESTED
from audit_kit.errors import AuditError

__all__ = ["cli", "main"]

HELP = """\
audit-kit: coding compliance audits, end to end.

\b
The audit cycle:
  audit-kit sample --plan PLAN.yaml --universe export.csv --out AUDIT
  audit-kit workbooks AUDIT --auditors ann,bob
  audit-kit collect AUDIT returned/*.xlsx
  audit-kit score AUDIT
  audit-kit rebuttals AUDIT        (coders respond; then decisions, close)
  audit-kit report AUDIT
  audit-kit verify AUDIT --universe export.csv

Start with `audit-kit demo` to see a whole audit on synthetic data, or
`audit-kit init --universe export.csv` to write a plan for your own export.
RAT-STATS modules: random-numbers, appraise, size.
"""


@click.group(help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audit-kit")
def cli() -> None:
    pass


def _register() -> None:
    # Imported for their side effect of adding commands to `cli`.
    from audit_kit.cli import (  # noqa: F401
        audit_commands,
        demo_commands,
        program_commands,
        rebuttal_commands,
        report_commands,
        sampling_commands,
        scoring_commands,
        setup_commands,
        stats_commands,
        workbook_commands,
    )


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; map errors to exit codes (0 ok, 1 audit error, 2 usage error)."""
    args = sys.argv[1:] if argv is None else argv
    JSON_REQUESTED.set("--json" in args)
    try:
        cli.main(args=args, prog_name="audit-kit", standalone_mode=False)
    except AuditError as exc:
        _report_error(exc.render(), exc.to_dict())
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.UsageError as exc:
        exc.show()
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted; the audit folder keeps its previous state.", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, traceback only on request
        if os.environ.get("AUDIT_KIT_DEBUG"):
            raise
        msg = (
            f"Internal error ({type(exc).__name__}). This is a bug in audit-kit, not in your "
            "data. Re-run with AUDIT_KIT_DEBUG=1 for details and report it."
        )
        _report_error(msg, {"error": "InternalError", "summary": msg, "problems": []})
        sys.exit(1)
    sys.exit(0)


def _report_error(text: str, payload: dict[str, Any]) -> None:
    click.echo(f"Error: {text}", err=True)
    if JSON_REQUESTED.get():
        click.echo(json.dumps(payload, ensure_ascii=False))
