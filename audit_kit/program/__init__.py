"""Audit programs: several audits as periods, their trends, control charts and cadence.

:func:`run_trend` is ``audit-kit trend``: it verifies every audit folder (the hash check of
``audit-kit verify``), orders the audits by the plan's ``period`` (else the sampling date),
builds the :class:`~audit_kit.program.model.Trend` (per coder, provider and auditor per period,
overall, p-chart, funnel plot, what differs between the audits, next audit per coder) and writes
``trend.json``, ``trend.xlsx`` and ``trend.pdf`` into the output folder. The audits themselves
are only read. :func:`program_status` builds the same model without writing anything
(``audit-kit status DIR1 DIR2 ...``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit_kit.errors import InputError, Problem
from audit_kit.folder.manifest import MANIFEST, atomic_write_bytes
from audit_kit.plan.loading import load_cadence_rules
from audit_kit.program._audits import ProgramAudit, read_audits
from audit_kit.program.cadence import add_months, next_audit
from audit_kit.program.model import Trend
from audit_kit.program.trend import build_trend

__all__ = [
    "TREND_FILES",
    "ProgramAudit",
    "Trend",
    "TrendSummary",
    "add_months",
    "build_trend",
    "next_audit",
    "program_status",
    "read_audits",
    "run_trend",
    "summary_dict",
]

TREND_FILES = ("trend.json", "trend.xlsx", "trend.pdf")

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendSummary:
    """What ``audit-kit trend`` wrote and the headline of the trend."""

    out: Path
    files: tuple[Path, ...]
    trend: Trend
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "files": [str(f) for f in self.files],
            "seconds": round(self.seconds, 2),
            **summary_dict(self.trend),
        }


def summary_dict(trend: Trend) -> dict[str, Any]:
    """The short form of a trend: periods, p-chart signals, next audit per coder."""
    return {
        "periods": [p.to_dict() for p in trend.periods],
        "out_of_control": [p.period for p in trend.p_chart.periods if p.out_of_control],
        "same_design_and_targets": trend.comparability.comparable,
        "differences": [d.setting for d in trend.comparability.differences],
        "cadence_source": trend.cadence.get("source"),
        "coders": [
            {
                "coder": c.name,
                "last_seen": c.last_seen,
                "absent": list(c.absent),
                "next_audit": None if c.next_audit is None else c.next_audit.to_dict(),
            }
            for c in trend.coders
        ],
    }


def _rules(rules_file: Path | None) -> tuple[Any, str | None]:
    if rules_file is None:
        return None, None
    return load_cadence_rules(Path(rules_file)), str(rules_file)


def program_status(audit_dirs: Sequence[Path], *, rules_file: Path | None = None) -> Trend:
    """Verify and read the audits and return their trend; writes nothing."""
    rules, source = _rules(rules_file)
    audits = read_audits(audit_dirs)
    return build_trend(audits, rules=rules, rules_source=source)


def _check_out(out: Path, force: bool) -> None:
    """Refuse an output folder that is an audit, a file, or holds more than a trend report."""
    problems: list[Problem] = []
    if (out / MANIFEST).exists():
        problems.append(
            Problem(
                where=str(out),
                expected="a folder for the trend report, outside every audit folder",
                found="an audit folder",
                fix="choose another --out (audit folders are never written by trend).",
            )
        )
    elif out.exists() and not out.is_dir():
        problems.append(
            Problem(
                where=str(out),
                expected="a folder for the trend report",
                found="a file",
                fix="choose another --out.",
            )
        )
    elif out.is_dir() and any(out.iterdir()):
        names = {p.name for p in out.iterdir()}
        if not names <= set(TREND_FILES):
            problems.append(
                Problem(
                    where=str(out),
                    expected="an empty folder or an earlier trend report",
                    found="other files",
                    fix="choose another --out; only trend.json, trend.xlsx and trend.pdf are "
                    "ever replaced.",
                )
            )
        elif not force:
            problems.append(
                Problem(
                    where=str(out),
                    expected="a new folder (an earlier trend is replaced only with --force)",
                    found="an earlier trend report",
                    fix="pass --force to replace it, or choose another --out.",
                )
            )
    if problems:
        raise InputError("Cannot write the trend report there.", problems)


def run_trend(
    audit_dirs: Sequence[Path],
    out: Path,
    *,
    rules_file: Path | None = None,
    force: bool = False,
    template_dir: Path | None = None,
    progress: Progress | None = None,
) -> TrendSummary:
    """Verify the audits, build their trend and write trend.json, trend.xlsx and trend.pdf.

    Nothing is written unless every audit is intact and scored and every file rendered; each
    file is written atomically (an interrupted run leaves the previous file or none).
    """
    from audit_kit.reporting.trend import trend_pdf_bytes
    from audit_kit.reporting.trend_workbook import trend_workbook_bytes

    say = progress or (lambda _: None)
    started = time.perf_counter()
    rules, source = _rules(rules_file)
    out = Path(out).expanduser()
    _check_out(out, force)  # before the audits are read: a wrong --out fails at once
    audits = read_audits(audit_dirs)
    say(f"verified {len(audits)} audit(s): " + ", ".join(a.label for a in audits))
    trend = build_trend(audits, rules=rules, rules_source=source)
    data = trend.to_dict()
    json_bytes = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    xlsx = trend_workbook_bytes(data)
    say("wrote the trend workbook")
    pdf = trend_pdf_bytes(data, json_bytes=json_bytes, template_dir=template_dir)
    say("rendered trend.pdf")
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, payload in zip(TREND_FILES, (json_bytes, xlsx, pdf), strict=True):
        atomic_write_bytes(out / name, payload)
        files.append(out / name)
    return TrendSummary(
        out=out, files=tuple(files), trend=trend, seconds=time.perf_counter() - started
    )
