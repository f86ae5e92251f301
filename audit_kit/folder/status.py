"""Where an audit stands: which steps have run, progress per auditor, and the next command.

:func:`audit_status` reads only the audit folder: the manifest and its event log (``audit.json``),
and the artifacts it records (``sample.csv``, ``workbooks/<id>.json``, ``findings.csv``,
``results.json``, reports), each read hash-checked. It changes nothing. The hashes of every file
are checked too, so ``status`` also says whether the folder is still intact; the re-draw proof
needs the universe file and is ``audit-kit verify``'s job.

Steps, in order: sampled, workbooks issued, returned (x of n units per auditor), scored,
reported, verified. A later step is *out of date* when an earlier one ran again after it (new
returns collected after scoring: score again). *Verified* is read from the ``verify`` event that
``audit-kit verify`` records (details ``redrawn``, ``universe_sha256``, ``hashes_checked``): it is
done when the last verification re-drew the sample from the universe; one that checked only the
hashes is noted; any other step run after it makes it out of date. Folders without such an event
(older audits, read-only archives) simply show the step as not done.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_kit.errors import AuditError, Problem
from audit_kit.folder.manifest import AuditFolder
from audit_kit.values.counts import COUNT_WORDS

__all__ = ["AuditStatus", "AuditorStatus", "Step", "audit_status", "status"]

STEPS = ("sampled", "workbooks", "returned", "scored", "reported", "verified")


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One step of the audit cycle and whether it is done."""

    name: str
    done: bool
    detail: str
    at: str | None = None
    stale: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "done": self.done,
            "stale": self.stale,
            "detail": self.detail,
            "at": self.at,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditorStatus:
    """Returned work of one auditor: of ``assigned`` sampled units, how many have a status."""

    auditor: str
    workbooks: tuple[str, ...]
    assigned: int
    reviewed: int = 0
    record_missing: int = 0
    not_reviewed: int = 0

    @property
    def returned(self) -> int:
        return self.reviewed + self.record_missing + self.not_reviewed

    @property
    def pending(self) -> int:
        return self.assigned - self.returned

    def to_dict(self) -> dict[str, Any]:
        return {
            "auditor": self.auditor,
            "workbooks": list(self.workbooks),
            "assigned": self.assigned,
            "returned": self.returned,
            "reviewed": self.reviewed,
            "record_missing": self.record_missing,
            "not_reviewed": self.not_reviewed,
            "pending": self.pending,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditStatus:
    """The state of one audit folder and what to do next."""

    audit_dir: Path
    audit_id: str
    name: str
    steps: tuple[Step, ...]
    auditors: tuple[AuditorStatus, ...]
    units_sampled: int
    spares: int
    next_step: str
    next_command: str | None
    integrity: tuple[Problem, ...] = field(default_factory=tuple)
    universe_file: str | None = None

    @property
    def intact(self) -> bool:
        return not self.integrity

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "audit_dir": str(self.audit_dir),
            "audit_id": self.audit_id,
            "name": self.name,
            "units_sampled": self.units_sampled,
            "spares": self.spares,
            "steps": [s.to_dict() for s in self.steps],
            "auditors": [a.to_dict() for a in self.auditors],
            "intact": self.intact,
            "integrity_problems": [p.to_dict() for p in self.integrity],
            "next_step": self.next_step,
            "next_command": self.next_command,
        }


def _last(events: Sequence[Mapping[str, Any]], command: str) -> Mapping[str, Any] | None:
    found = [e for e in events if e.get("command") == command]
    return found[-1] if found else None


def _seq(event: Mapping[str, Any] | None) -> int:
    return int(event.get("seq", 0)) if event else 0


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def audit_status(audit_dir: Path) -> AuditStatus:
    """Return where the audit in ``audit_dir`` stands (reads only; changes nothing)."""
    folder = AuditFolder.open(Path(audit_dir))
    events = folder.events
    integrity = tuple(folder.verify_hashes())
    broken = {Path(p.where).resolve() for p in integrity}
    where = shlex.quote(str(audit_dir))

    def readable(rel: str) -> bool:
        return folder.has(rel) and folder.file(rel).resolve() not in broken

    # sampled
    units = spares = 0
    universe_file: str | None = None
    sample_event = _last(events, "sample")
    sample_rows: list[dict[str, Any]] = []
    if readable("sample.csv"):
        sample = folder.read_sample()
        sample_rows = sample.to_dicts()
        spare_flags = [_truthy(r.get("spare")) for r in sample_rows]
        spares = sum(spare_flags)
        units = len(sample_rows) - spares
    if readable("sampling.json"):
        record = folder.read_json("sampling.json")
        universe_file = (record.get("universe") or {}).get("file")
    strata = len({r.get("stratum") for r in sample_rows})
    sampled = Step(
        name="sampled",
        done=folder.has("sample.csv"),
        detail=(
            f"{units} units in {strata} strat{'um' if strata == 1 else 'a'}"
            + (f", {spares} spares" if spares else "")
            + (f", from {universe_file}" if universe_file else "")
            if folder.has("sample.csv")
            else "no sample drawn"
        ),
        at=sample_event.get("at") if sample_event else None,
    )

    # workbooks and returns
    auditors = _auditors(folder, readable, sample_rows)
    wb_event = _last(events, "workbooks")
    n_workbooks = sum(
        1 for rel in folder.artifacts() if rel.startswith("workbooks/") and rel.endswith(".xlsx")
    )
    workbooks = Step(
        name="workbooks",
        done=n_workbooks > 0,
        detail=(
            f"{n_workbooks} workbook(s) for {len(auditors)} auditor(s)"
            if n_workbooks
            else "no workbooks issued"
        ),
        at=wb_event.get("at") if wb_event else None,
    )
    assigned = sum(a.assigned for a in auditors)
    returned_units = sum(a.returned for a in auditors)
    collect_event = _last(events, "collect")
    returned = Step(
        name="returned",
        done=assigned > 0 and returned_units >= assigned,
        detail=(
            f"{returned_units} of {assigned} units returned"
            + (
                " (" + ", ".join(f"{a.auditor} {a.returned}/{a.assigned}" for a in auditors) + ")"
                if auditors
                else ""
            )
            if folder.has("findings.csv") or assigned
            else "nothing returned yet"
        ),
        at=collect_event.get("at") if collect_event else None,
    )

    # scored / reported
    score_event = _last(events, "score")
    scored_stale = folder.has("results.json") and _seq(collect_event) > _seq(score_event)
    scored = Step(
        name="scored",
        done=folder.has("results.json"),
        stale=scored_stale,
        detail=(_score_detail(folder) if readable("results.json") else "not scored")
        + (" (out of date: returns collected since)" if scored_stale else ""),
        at=score_event.get("at") if score_event else None,
    )
    report_event = _last(events, "report")
    reported_stale = folder.has("report.pdf") and _seq(score_event) > _seq(report_event)
    n_coder_pdfs = sum(1 for rel in folder.artifacts() if rel.startswith("coders/"))
    reported = Step(
        name="reported",
        done=folder.has("report.pdf"),
        stale=reported_stale,
        detail=(
            f"report.pdf, {n_coder_pdfs} coder report(s)"
            + (", attestation.pdf" if folder.has("attestation.pdf") else "")
            if folder.has("report.pdf")
            else "no reports"
        )
        + (" (out of date: scored again since)" if reported_stale else ""),
        at=report_event.get("at") if report_event else None,
    )
    verified = _verified_step(events, integrity, files=len(folder.artifacts()))
    steps = (sampled, workbooks, returned, scored, reported, verified)
    step_text, command = _next(steps, auditors, where, universe_file, integrity)
    return AuditStatus(
        audit_dir=folder.path,
        audit_id=folder.audit_id,
        name=str(folder.manifest.get("name", "")),
        steps=steps,
        auditors=tuple(auditors),
        units_sampled=units,
        spares=spares,
        next_step=step_text,
        next_command=command,
        integrity=integrity,
        universe_file=universe_file,
    )


def _verified_step(
    events: Sequence[Mapping[str, Any]], integrity: Sequence[Problem], *, files: int
) -> Step:
    """Return the verified step from the last ``verify`` event (absent: not verified)."""
    hashes = (
        f"hashes of {files} files ok now"
        if not integrity
        else f"{len(integrity)} file(s) fail their hash or are not recorded"
    )
    event = _last(events, "verify")
    details = (event or {}).get("details") or {}
    redrawn = event is not None and details.get("redrawn") is True
    later = [e for e in events if e.get("command") != "verify" and _seq(e) > _seq(event)]
    stale = redrawn and bool(later)
    if event is None:
        note = "; not verified yet (re-draw with the universe: audit-kit verify)"
    elif not redrawn:
        note = "; last verify checked hashes only (re-draw with --universe)"
    else:
        note = "; verified: sample re-drawn from the universe and identical"
        if stale:
            note += f" (out of date: {later[-1].get('command')} ran since)"
    return Step(
        name="verified",
        done=not integrity and redrawn,
        stale=stale,
        detail=hashes + note,
        at=event.get("at") if event else None,
    )


def _score_detail(folder: AuditFolder) -> str:
    try:
        results = folder.read_json("results.json")
        overall = results.get("overall") or {}
        value = (overall.get("code_accuracy") or {}).get("value")
        verdict = overall.get("verdict")
        coders = results.get("coders") or []
        below = sum(1 for c in coders if c.get("verdict") == "below")
        preliminary = results.get("status") == "preliminary"
        progress = results.get("progress") or {}
    except (AuditError, ValueError, AttributeError):
        return "results.json present"
    text = "scored (PRELIMINARY)" if preliminary else "scored"
    if isinstance(value, int | float):
        text += f": code accuracy {value:.1%}"
    if verdict:
        text += f", verdict {verdict}"
    if coders:
        text += f"; {below} of {len(coders)} coders below target"
    if preliminary and isinstance(progress, dict):
        text += (
            f"; {progress.get('units_scored', 0)} {COUNT_WORDS['units_scored']} of "
            f"{progress.get('units_sampled', 0)} {COUNT_WORDS['units_sampled']}, "
            f"{progress.get('units_outstanding', 0)} {COUNT_WORDS['units_outstanding']}"
        )
    return text


def _auditors(
    folder: AuditFolder,
    readable: Callable[[str], bool],
    sample_rows: Sequence[Mapping[str, Any]],
) -> list[AuditorStatus]:
    layouts = folder.read_layouts()
    if not layouts:
        return []
    unit_col = None
    sampled: set[str] | None = None
    if readable("plan.yaml") and sample_rows:
        plan = folder.read_plan()
        unit_col = plan.columns.unit_id
        sampled = {str(r.get(unit_col)) for r in sample_rows if not _truthy(r.get("spare"))}
    owner: dict[str, tuple[int, str]] = {}
    books: dict[str, list[str]] = {}
    for layout in layouts.values():
        books.setdefault(layout.auditor, []).append(layout.workbook_id)
        for unit in layout.units:
            if unit.get("role") != "primary" or unit.get("spare"):
                continue
            uid = str(unit["unit_id"])
            if sampled is not None and uid not in sampled:
                continue
            if uid not in owner or layout.batch >= owner[uid][0]:
                owner[uid] = (layout.batch, layout.auditor)
    statuses: dict[str, str] = {}
    if readable("findings.csv"):
        findings = folder.read_findings()
        for row in findings.iter_rows(named=True):
            statuses[str(row.get("unit_id"))] = str(row.get("review_status") or "")
    counts: dict[str, list[int]] = {name: [0, 0, 0, 0] for name in books}
    for uid, (_, auditor) in owner.items():
        c = counts.setdefault(auditor, [0, 0, 0, 0])
        c[0] += 1
        status = statuses.get(uid, "")
        if status == "reviewed":
            c[1] += 1
        elif status == "record missing":
            c[2] += 1
        elif status == "not reviewed":
            c[3] += 1
    return [
        AuditorStatus(
            auditor=name or "all auditors",
            workbooks=tuple(sorted(books.get(name, []))),
            assigned=c[0],
            reviewed=c[1],
            record_missing=c[2],
            not_reviewed=c[3],
        )
        for name, c in sorted(counts.items())
    ]


def _next(
    steps: Sequence[Step],
    auditors: Sequence[AuditorStatus],
    where: str,
    universe_file: str | None,
    integrity: Sequence[Problem],
) -> tuple[str, str | None]:
    by = {s.name: s for s in steps}
    if integrity:
        return (
            "the folder fails its hashes: restore the changed files from your archive copy",
            f"audit-kit verify {where}",
        )
    if not by["sampled"].done:
        return (
            "draw the sample",
            "audit-kit sample --plan PLAN.yaml --universe UNIVERSE --out " + where,
        )
    if not by["workbooks"].done:
        return ("write the auditor workbooks", f"audit-kit workbooks {where} --auditors NAME,NAME")
    if not by["returned"].done:
        pending = [a for a in auditors if a.pending]
        who = ", ".join(f"{a.auditor} ({a.pending} to go)" for a in pending)
        return (
            f"collect the returned workbooks; waiting for {who}" if who else "collect returns",
            f"audit-kit collect {where} RETURNED_WORKBOOKS...",
        )
    if not by["scored"].done or by["scored"].stale:
        return ("score the findings", f"audit-kit score {where}")
    if not by["reported"].done or by["reported"].stale:
        return ("render the reports", f"audit-kit report {where}")
    if not by["verified"].done or by["verified"].stale:
        universe = shlex.quote(universe_file) if universe_file else "UNIVERSE"
        return (
            "verify the folder and re-draw the sample from the universe, then archive the folder",
            f"audit-kit verify {where} --universe {universe}",
        )
    return ("nothing: the audit is complete; archive the folder", None)


# The library name of the command (`audit-kit status`).
status = audit_status
