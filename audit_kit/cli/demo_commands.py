"""Command `demo`: the whole audit cycle on synthetic data with simulated auditors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from audit_kit.cli import cli
from audit_kit.cli._common import echo_json, json_option, progress_printer, quiet_option

if TYPE_CHECKING:
    from audit_kit.demo.cycle import DemoResult

DEMO_HELP = """\
Run a whole audit on synthetic data, with SIMULATED auditors.

\b
Generates the example universe (20,000 synthetic encounters of 12 coders,
fake patients), draws 30 encounters per coder, writes three auditor
workbooks, lets simulated auditors fill them with a known pattern of
findings (every rationale says [simulated]), collects, scores, renders the
PDF reports and verifies the folder by re-drawing the sample. The audit
folder is --out; the universe, the plan and the filled workbooks go to
<out>-inputs beside it. Then two later quarters (simulated coders
improving) are audited into <out>-program/ and `audit-kit trend` compares
the three. An existing demo audit is replaced only with --force.

\b
Example:
  audit-kit demo
  audit-kit demo --out /tmp/demo-audit --force
"""


@cli.command("demo", help=DEMO_HELP)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-audit"),
    show_default=True,
    help="The demo audit folder to create.",
)
@click.option("--force", is_flag=True, help="Replace an earlier demo audit in --out.")
@json_option
@quiet_option
def demo_command(out: Path, force: bool, as_json: bool, quiet: bool) -> None:
    from audit_kit.demo import cycle

    # The steps go to stderr with --json too (the demo is long; stdout stays one document).
    say = progress_printer(quiet=quiet)
    if say is not None:
        say(f"audit-kit demo: synthetic data, simulated auditors -> {out}")
    result = cycle.demo(out, force=force, progress=say)
    if as_json:
        echo_json(result)
        return
    _print_result(result)


def _print_result(result: DemoResult) -> None:
    from audit_kit.demo.cycle import inputs_dir_for

    echo = click.echo
    summary = result.summary
    code = summary.get("code_accuracy") or {}
    if code.get("value") is not None:
        echo(
            f"Overall code accuracy {code['value']:.1%} "
            f"({code.get('lower', 0):.1%} to {code.get('upper', 0):.1%}), "
            f"verdict: {summary.get('verdict')}"
        )
    financial = summary.get("financial") or {}
    if financial:
        echo(
            f"Sample: overpaid ${financial.get('overpayment', 0):,.2f}, underpaid "
            f"${financial.get('underpayment', 0):,.2f}, net ${financial.get('net', 0):,.2f}"
        )
    if summary.get("point_estimate") is not None:
        echo(f"Extrapolated net difference (point estimate): ${summary['point_estimate']:,.2f}")
    demand = summary.get("demand_amount")
    if demand is not None:
        note = " (not positive at this confidence: nothing to demand)" if demand == 0 else ""
        echo(f"Demand under {summary.get('demand_rule')}: ${demand:,.2f}{note}")
    echo(f"Done in {result.seconds:.1f} s. The executive report is:")
    echo(f"  {result.report}")
    echo(
        f"Per-coder reports: {result.audit_dir / 'coders'}/, attestation: "
        f"{result.audit_dir / 'attestation.pdf'}"
    )
    if result.program is not None:
        echo(f"Audit program: Q2 and Q3 2026 in {result.program.folder}/, trend report:")
        echo(f"  {result.program.trend_dir / 'trend.pdf'}")
    echo("Next:")
    echo(f"  audit-kit status {result.audit_dir}")
    echo(
        f"  audit-kit verify {result.audit_dir} --universe "
        f"{inputs_dir_for(result.audit_dir) / 'universe.csv'}"
    )
