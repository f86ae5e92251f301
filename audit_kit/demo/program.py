"""The demo's audit program: two more quarters after the demo audit, and their trend.

The demo audit is Q1 2026. :func:`run_program_demo` draws Q2 and Q3 2026 from the same synthetic
universe with other seeds (the synthetic data stands in for later quarters), with **simulated**
coders improving (their error shares scaled down) and coder C12 on leave in Q2 (left out of the
Q2 frame, so absent from that period). Q2 and Q3 draw 20 and 15 units per coder instead of
30 (a shorter demo), so the trend report also shows how it states a difference of design.
Each quarter runs the real cycle (sample, workbooks, simulated auditors, collect, score) and
``audit-kit trend`` is run over the three.

The quarters and the trend go to ``<out>-program/`` beside the demo audit, a folder marked as
the demo's own (replaced with ``--force``, never when it holds anything else).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit_kit.demo.example_data import DEMO_PLAN_YAML
from audit_kit.errors import AuditError, Problem
from audit_kit.folder.manifest import atomic_write_bytes

__all__ = ["QUARTERS", "ProgramDemo", "check_program_target", "program_dir_for", "run_program_demo"]

_MARKER = "DEMO-PROGRAM.txt"
_MARKER_TEXT = (
    "Audit program of `audit-kit demo`: two later quarters (synthetic data, simulated auditors)\n"
    "and the trend of the three. Safe to delete.\n"
)

#: (label, period, seed, units per coder, error-share factor, coders left out of the frame)
QUARTERS: tuple[tuple[str, str, int, int, float, tuple[str, ...]], ...] = (
    ("2026-Q2", "2026-04-01 to 2026-06-30", 20260715, 20, 0.7, ("C12",)),
    ("2026-Q3", "2026-07-01 to 2026-09-30", 20261015, 15, 0.45, ()),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramDemo:
    folder: Path
    audits: tuple[Path, ...]
    trend_dir: Path
    files: tuple[Path, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "audits": [str(p) for p in self.audits],
            "trend_dir": str(self.trend_dir),
            "files": [str(p) for p in self.files],
            "seconds": round(self.seconds, 2),
        }


def program_dir_for(out: Path) -> Path:
    """Return the folder of the demo's later quarters and trend (``<out>-program``)."""
    return out.parent / f"{out.name}-program"


def check_program_target(out: Path) -> None:
    """Refuse a ``<out>-program`` folder that is not the demo's own (checked before the demo)."""
    folder = program_dir_for(out)
    if folder.exists() and (
        not folder.is_dir() or (any(folder.iterdir()) and not (folder / _MARKER).is_file())
    ):
        raise AuditError(
            "Cannot run the demo there.",
            [
                Problem(
                    where=str(folder),
                    expected="the demo's own program folder (or nothing)",
                    found="other files",
                    fix="move that folder away or choose another --out.",
                )
            ],
        )


def _plan_text(label: str, period: str, seed: int, per_stratum: int, leave: tuple[str, ...]) -> str:
    text = DEMO_PLAN_YAML
    replacements = {
        "name: Q1 2026 per-coder accuracy review (synthetic demo)": (
            f"name: {label} per-coder accuracy review (synthetic demo)"
        ),
        "period: 2026-01-01 to 2026-03-31": f"period: {period}",
        "  seed: 20260415": f"  seed: {seed}",
        "  per_stratum: 30": f"  per_stratum: {per_stratum}",
    }
    for old, new in replacements.items():
        if old not in text:  # the demo plan changed: fail loudly rather than draw Q1 again
            raise AssertionError(f"demo plan line not found: {old}")
        text = text.replace(old, new)
    if leave:
        names = ", ".join(leave)
        text = text.replace(
            '    - {column: paid, op: ">", value: 0}',
            '    - {column: paid, op: ">", value: 0}\n'
            f'    - {{column: coder, op: "not in", value: [{names}]}}   # on leave this quarter',
        )
    return text


def run_program_demo(
    out: Path,
    universe: Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> ProgramDemo:
    """Run Q2 and Q3 after the demo audit ``out`` (Q1) and the trend of the three."""
    from audit_kit import findings, sampling, scoring, workbook
    from audit_kit.demo import simulation
    from audit_kit.demo.cycle import DEMO_AUDITORS
    from audit_kit.demo.simulation.profiles import PROFILES
    from audit_kit.program import run_trend

    say = progress or (lambda _: None)
    started = time.perf_counter()
    folder = program_dir_for(out)
    check_program_target(out)
    if folder.exists():
        shutil.rmtree(folder)  # the demo's own folder, checked above
    folder.mkdir(parents=True)
    (folder / _MARKER).write_text(_MARKER_TEXT, "utf-8")
    audits = [out]
    for label, period, seed, per_stratum, factor, leave in QUARTERS:
        t = time.perf_counter()
        plan = folder / f"{label}-plan.yaml"
        atomic_write_bytes(plan, _plan_text(label, period, seed, per_stratum, leave).encode())
        audit = folder / label
        sampling.draw_sample(plan, universe, audit)
        workbook.write_workbooks(audit, auditors=list(DEMO_AUDITORS))
        improved = {
            coder: dataclasses.replace(p, error_share=p.error_share * factor)
            for coder, p in PROFILES.items()
        }
        returned = simulation.fill_workbooks(
            audit, folder / f"{label}-returned", seed=seed % 1000, profiles=improved
        )
        findings.collect(audit, returned)
        scoring.score_audit(audit)
        audits.append(audit)
        seconds = time.perf_counter() - t
        say(f"program  {label}: sampled, simulated, collected, scored ({seconds:.1f} s)")
    t = time.perf_counter()
    trend_dir = folder / "trend"
    summary = run_trend(audits, trend_dir)
    say(f"program  trend of Q1-Q3 2026 -> {trend_dir} ({time.perf_counter() - t:.1f} s)")
    return ProgramDemo(
        folder=folder,
        audits=tuple(audits),
        trend_dir=trend_dir,
        files=summary.files,
        seconds=time.perf_counter() - started,
    )
