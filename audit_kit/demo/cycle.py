"""Run a whole audit on synthetic data with simulated auditors (``audit-kit demo``).

The cycle is the real one, through the same stage entry points the commands use
(docs/architecture.md): the example universe is generated (:mod:`audit_kit.demo.example_data`), the
demo plan draws 30 encounters per coder, three workbooks are issued, **simulated** auditors fill
them (:mod:`audit_kit.demo.simulation`; every rationale says ``[simulated]``), the returns are
collected and validated, scored, reported, and the folder is verified by re-drawing the sample
from the universe.

The audit folder is ``out``; the inputs that do not belong in it (the universe, the plan file,
the filled workbooks) go to a sibling folder ``<out>-inputs`` marked as the demo's own, so that
``audit-kit verify OUT --universe OUT-inputs/universe.csv`` can be run again later.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_kit.demo.example_data import DEFAULT_ROWS, DEMO_PLAN_YAML, EXAMPLE_SEED
from audit_kit.demo.program import ProgramDemo, check_program_target, run_program_demo
from audit_kit.errors import AuditError, Problem
from audit_kit.folder.manifest import MANIFEST, atomic_write_bytes
from audit_kit.folder.results import Results

__all__ = ["DEMO_AUDITORS", "DemoResult", "DemoStep", "demo", "inputs_dir_for", "run_demo"]

DEMO_AUDITORS = ("sim-auditor-1", "sim-auditor-2", "sim-auditor-3")
_MARKER = "DEMO-INPUTS.txt"
_MARKER_TEXT = (
    "Inputs of `audit-kit demo` (synthetic data, simulated auditors). Safe to delete.\n"
    "universe.csv: the synthetic universe; plan.yaml: the demo plan;\n"
    "returned/: the workbooks as the simulated auditors filled them.\n"
)

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoStep:
    name: str
    seconds: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.name, "seconds": round(self.seconds, 2), "detail": self.detail}


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoResult:
    """What the demo made: the audit folder, its inputs, the reports and the headline numbers."""

    audit_dir: Path
    audit_id: str
    universe: Path
    plan: Path
    returned: tuple[Path, ...]
    reports: tuple[Path, ...]
    steps: tuple[DemoStep, ...]
    summary: dict[str, Any] = field(default_factory=dict)
    program: ProgramDemo | None = None  # the later quarters and their trend (demo_program)

    @property
    def report(self) -> Path:
        return self.audit_dir / "report.pdf"

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "audit_dir": str(self.audit_dir),
            "audit_id": self.audit_id,
            "simulated": True,
            "report": str(self.report),
            "reports": [str(p) for p in self.reports],
            "inputs": {
                "universe": str(self.universe),
                "plan": str(self.plan),
                "returned": [str(p) for p in self.returned],
            },
            "steps": [s.to_dict() for s in self.steps],
            "seconds": round(self.seconds, 2),
            "summary": self.summary,
            "program": None if self.program is None else self.program.to_dict(),
        }


def inputs_dir_for(out: Path) -> Path:
    """Return the sibling folder that holds a demo audit's inputs (``<out>-inputs``)."""
    return out.parent / f"{out.name}-inputs"


def _check_targets(out: Path, inputs: Path, force: bool) -> None:
    problems: list[Problem] = []
    if out.exists() and not out.is_dir():
        problems.append(
            Problem(
                where=str(out),
                expected="a folder for the demo audit (or a path that does not exist yet)",
                found="a file",
                fix="choose another --out.",
            )
        )
    elif out.is_dir() and any(out.iterdir()):
        if not (out / MANIFEST).is_file():
            problems.append(
                Problem(
                    where=str(out),
                    expected="an empty folder, or an earlier demo audit (with --force)",
                    found="a folder with other files",
                    fix="choose another --out; only audit folders are ever replaced.",
                )
            )
        elif not force:
            problems.append(
                Problem(
                    where=str(out),
                    expected="a new folder (an audit is never overwritten)",
                    found="an existing audit",
                    fix="pass --force to replace the demo audit, or choose another --out.",
                )
            )
    if inputs.exists() and (
        not inputs.is_dir() or (any(inputs.iterdir()) and not (inputs / _MARKER).is_file())
    ):
        problems.append(
            Problem(
                where=str(inputs),
                expected="the demo's own inputs folder (or nothing)",
                found="other files",
                fix="move that folder away or choose another --out.",
            )
        )
    if problems:
        raise AuditError("Cannot run the demo there.", problems)


def _fresh_inputs(inputs: Path) -> None:
    if inputs.exists():
        shutil.rmtree(inputs)  # the demo's own folder, checked by _check_targets
    inputs.mkdir(parents=True)
    (inputs / _MARKER).write_text(_MARKER_TEXT, "utf-8")


def run_demo(
    out: Path,
    *,
    force: bool = False,
    rows: int = DEFAULT_ROWS,
    progress: Progress | None = None,
    program: bool = True,
) -> DemoResult:
    """Run the whole audit cycle on the synthetic example into ``out``; see the module doc."""
    from audit_kit import findings, sampling, scoring, workbook
    from audit_kit.demo import simulation
    from audit_kit.demo.example_data import write_universe

    say = progress or (lambda _: None)
    out = Path(out).expanduser().resolve()
    inputs = inputs_dir_for(out)
    _check_targets(out, inputs, force)
    if program:
        check_program_target(out)
    steps: list[DemoStep] = []

    def step(name: str, started: float, detail: str) -> None:
        steps.append(DemoStep(name=name, seconds=time.perf_counter() - started, detail=detail))
        say(f"{len(steps)}/8 {name:<9} {detail} ({steps[-1].seconds:.1f} s)")

    t = time.perf_counter()
    _fresh_inputs(inputs)
    universe = inputs / "universe.csv"
    plan = inputs / "plan.yaml"
    atomic_write_bytes(plan, DEMO_PLAN_YAML.encode("utf-8"))
    frame = write_universe(universe, rows=rows, seed=EXAMPLE_SEED)
    step(
        "universe",
        t,
        f"{frame.height:,} synthetic encounters, {frame['coder_id'].n_unique()} coders "
        f"-> {universe}",
    )

    t = time.perf_counter()
    drawn = sampling.draw_sample(plan, universe, out, force=force)
    step(
        "sample",
        t,
        f"{drawn.sample_size} of {drawn.population:,} encounters in {len(drawn.strata)} strata "
        f"({drawn.generator}, seed {drawn.seed}) -> {out}",
    )

    t = time.perf_counter()
    books = workbook.write_workbooks(out, auditors=list(DEMO_AUDITORS))
    step("workbooks", t, f"{len(books)} workbooks for {', '.join(DEMO_AUDITORS)}")

    t = time.perf_counter()
    returned = simulation.fill_workbooks(out, inputs / "returned")
    step("simulate", t, f"SIMULATED auditors filled {len(returned)} workbooks")

    t = time.perf_counter()
    collected = findings.collect(out, returned)
    step(
        "collect",
        t,
        f"{collected.findings} units returned and validated "
        f"({collected.units_done} reviewed or record missing)",
    )

    t = time.perf_counter()
    from audit_kit.reporting.results_workbook import results_workbook_bytes

    results = scoring.score_audit(out, results_workbook=results_workbook_bytes)
    step("score", t, _score_line(results))

    t = time.perf_counter()
    from audit_kit import reporting

    reports = reporting.render_reports(out)
    step("report", t, f"{len(reports)} PDFs (report, attestation, one per coder)")

    t = time.perf_counter()
    verified = sampling.verify_audit(out, universe)
    step(
        "verify",
        t,
        f"{verified.files_checked} file hashes ok, sample re-drawn and identical",
    )
    return DemoResult(
        audit_dir=out,
        audit_id=drawn.audit_id,
        universe=universe,
        plan=plan,
        returned=tuple(returned),
        reports=tuple(reports),
        steps=tuple(steps),
        summary=_summary(results),
        program=run_program_demo(out, universe, progress=say) if program else None,
    )


def _score_line(results: Results) -> str:
    code = results.overall.code_accuracy
    meets = sum(1 for c in results.coders if c.verdict == "meets")
    below = sum(1 for c in results.coders if c.verdict == "below")
    text = f"code accuracy {code.value:.1%}" if code is not None else "scored"
    return f"{text}; coders: {meets} meet, {below} below the target"


def _summary(results: Results) -> dict[str, Any]:
    overall = results.to_json_dict()["overall"]
    extrapolation = overall["extrapolation"] or {}
    return {
        "code_accuracy": overall["code_accuracy"],
        "record_accuracy": overall["record_accuracy"],
        "verdict": overall["verdict"],
        "financial": overall["financial"],
        "point_estimate": extrapolation.get("point_estimate"),
        "demand_rule": extrapolation.get("demand_rule"),
        "demand_amount": extrapolation.get("demand_amount"),
        "demand_reason": extrapolation.get("demand_reason"),
        "coders": {c.coder: c.verdict for c in results.coders},
    }


# The library name of the command (`audit-kit demo`).
demo = run_demo
