"""Read the audits of a program: verify each folder, read its results, place it in time.

Every folder is checked with the same hash verification as ``audit-kit verify`` (each artifact
against its SHA-256 in audit.json) before anything is read, and read only through the folder
(hash-checked reads). Nothing is written into an audit folder. Every problem of every folder is
collected and raised once: a trend is made only from intact, scored audits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from audit_kit.errors import AuditError, InputError, IntegrityError, PlanError, Problem
from audit_kit.folder.manifest import AuditFolder
from audit_kit.plan.loading import parse_cadence
from audit_kit.plan.program import CadenceRules, PeriodValue, PlanPeriod, period_range
from audit_kit.values.dates import NotADate, parse_date

__all__ = ["ProgramAudit", "read_audits"]

_PERIOD = TypeAdapter(PeriodValue)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramAudit:
    """One verified, scored audit with its place on the program's time line."""

    path: Path
    audit_id: str
    name: str
    label: str
    start: dt.date | None
    end: dt.date | None
    sampling_date: dt.date | None
    results: Mapping[str, Any]
    sampling: Mapping[str, Any]
    cadence: CadenceRules | None
    files_checked: int
    results_sha256: str

    @property
    def placed_by(self) -> str:
        return "plan period" if self.start is not None else "sampling date"

    @property
    def order(self) -> tuple[dt.date, str]:
        when = self.start or self.sampling_date or dt.date.min
        return (when, self.audit_id)

    @property
    def counted_from(self) -> dt.date | None:
        """The date the next-audit months count from: the period's end, else the sampling date."""
        return self.end or self.sampling_date


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return parse_date(value[:10])  # the date part of a recorded ISO timestamp
    except NotADate:
        return None


def _plan_keys(
    folder: AuditFolder, problems: list[Problem]
) -> tuple[str | PlanPeriod, CadenceRules | None]:
    """Read only ``period`` and ``cadence`` of plan.yaml (an archived plan may predate keys)."""
    source = str(folder.file("plan.yaml"))
    try:
        data = yaml.safe_load(folder.read_bytes("plan.yaml").decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        return "", None
    period: str | PlanPeriod = ""
    raw = data.get("period")
    if raw is not None:
        try:
            period = _PERIOD.validate_python(raw)
        except ValidationError as exc:
            problems.append(
                Problem(
                    where=f"{source}: period",
                    expected="start: and end: dates (YYYY-MM-DD), the end on or after the start",
                    found=repr(raw)[:80],
                    fix=f"correct the plan's period ({exc.error_count()} problem(s)); see "
                    "docs/plans.md.",
                )
            )
    cadence = None
    if data.get("cadence") is not None:
        try:
            cadence = parse_cadence(data["cadence"], source=f"{source}: cadence")
        except PlanError as exc:
            problems.extend(exc.problems)
    return period, cadence


def _read_one(path: Path, problems: list[Problem], integrity: list[Problem]) -> ProgramAudit | None:
    if not path.is_dir():
        problems.append(
            Problem(
                where=str(path),
                expected="an audit folder",
                found="a file" if path.exists() else "no such folder",
                fix="pass the folders of scored audits.",
            )
        )
        return None
    try:
        folder = AuditFolder.open(path)
    except AuditError as exc:
        problems.extend(
            exc.problems
            or [Problem(where=str(path), expected="an audit folder", found=exc.summary)]
        )
        return None
    broken = folder.verify_hashes()
    if broken:
        integrity.extend(
            Problem(
                where=p.where,
                expected=f"audit {folder.audit_id} intact: {p.expected}",
                found=p.found,
                fix=p.fix or "restore the file from the archive, then run `audit-kit verify`.",
            )
            for p in broken
        )
        return None
    if not folder.has("results.json"):
        problems.append(
            Problem(
                where=str(folder.path / "results.json"),
                expected=f"audit {folder.audit_id} scored",
                found="no results.json",
                fix=f"run `audit-kit score {folder.path}` first.",
            )
        )
        return None
    results = folder.read_json("results.json")
    sampling = folder.read_json("sampling.json") if folder.has("sampling.json") else {}
    if not isinstance(results, Mapping) or not isinstance(results.get("overall"), Mapping):
        problems.append(
            Problem(
                where=str(folder.path / "results.json"),
                expected="the results written by `audit-kit score` (with `overall`)",
                found="another document",
                fix=f"score the audit again: `audit-kit score {folder.path}`.",
            )
        )
        return None
    local: list[Problem] = []
    period, cadence = _plan_keys(folder, local) if folder.has("plan.yaml") else ("", None)
    problems.extend(local)
    if local:
        return None
    if not period:
        period = str((results.get("audit") or {}).get("period") or "")
    span = period_range(period)
    sampling_date = _date(sampling.get("created_at")) if isinstance(sampling, Mapping) else None
    if span is None and sampling_date is None:
        problems.append(
            Problem(
                where=str(folder.file("plan.yaml")),
                expected="a period (start, end) in the plan, or a sampling date in sampling.json",
                found="neither",
                fix="add `period: {start: YYYY-MM-DD, end: YYYY-MM-DD}` to the plan.",
            )
        )
        return None
    text = period if isinstance(period, str) else ""
    if span is not None:
        label = span.label
    elif text.strip():
        label = text.strip()
    else:
        label = sampling_date.isoformat() if sampling_date else folder.audit_id
    digest = hashlib.sha256(folder.read_bytes("results.json")).hexdigest()
    return ProgramAudit(
        path=folder.path,
        audit_id=folder.audit_id,
        name=str((results.get("audit") or {}).get("name") or folder.audit_id),
        label=label,
        start=span.start if span else None,
        end=span.end if span else None,
        sampling_date=sampling_date,
        results=results,
        sampling=sampling if isinstance(sampling, Mapping) else {},
        cadence=cadence,
        files_checked=len(folder.artifacts()),
        results_sha256=digest,
    )


def read_audits(audit_dirs: Sequence[Path]) -> list[ProgramAudit]:
    """Verify and read every audit folder; return them ordered by period (earliest first).

    Raises :class:`IntegrityError` when any folder fails its hashes, :class:`InputError` for
    folders that are not scored audits or periods that cannot be told apart; every problem of
    every folder is listed.
    """
    problems: list[Problem] = []
    integrity: list[Problem] = []
    audits: list[ProgramAudit] = []
    seen: dict[Path, str] = {}
    if not audit_dirs:
        raise InputError(
            "No audit folder was given.",
            [Problem(where="AUDIT_DIR", expected="one or more audit folders", found="none")],
        )
    for raw in audit_dirs:
        path = Path(raw).expanduser()
        key = path.resolve()
        if key in seen:
            problems.append(
                Problem(
                    where=str(path),
                    expected="each audit folder once",
                    found=f"the same folder as {seen[key]}",
                    fix="remove the repeated folder.",
                )
            )
            continue
        seen[key] = str(path)
        audit = _read_one(path, problems, integrity)
        if audit is not None:
            audits.append(audit)
    by_label: dict[str, ProgramAudit] = {}
    by_id: dict[str, ProgramAudit] = {}
    for audit in audits:
        if audit.audit_id in by_id:
            problems.append(
                Problem(
                    where=str(audit.path),
                    expected="distinct audits",
                    found=f"audit id {audit.audit_id}, also in {by_id[audit.audit_id].path}",
                    fix="pass one copy of each audit.",
                )
            )
        by_id.setdefault(audit.audit_id, audit)
        if audit.label in by_label and by_label[audit.label].audit_id != audit.audit_id:
            problems.append(
                Problem(
                    where=str(audit.path),
                    expected="one audit per period",
                    found=f"period {audit.label}, also the period of {by_label[audit.label].path}",
                    fix="trend audits of different periods (run one trend per scope), or give "
                    "each plan its own `period`.",
                )
            )
        by_label.setdefault(audit.label, audit)
    if integrity:
        raise IntegrityError(
            "An audit fails verification; a trend is made only from intact audits.",
            integrity + problems,
        )
    if problems:
        raise InputError(f"The audits cannot be compared ({len(problems)} problem(s)).", problems)
    return sorted(audits, key=lambda a: a.order)
