"""Open the round (rebuttal workbooks), issue the decisions workbook, close the round."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from audit_kit.errors import AuditError, InputError, Problem
from audit_kit.folder.manifest import AuditFolder, now_iso, sha256_bytes
from audit_kit.folder.rebuttal_round import (
    ROUND,
    IssuedBook,
    RebuttalRound,
    read_decisions,
    read_responses,
    read_round,
)
from audit_kit.plan import SamplingPlan, parse_plan
from audit_kit.rebuttal._books import decisions_book, rebuttal_book
from audit_kit.values.dates import NotADate, parse_date
from audit_kit.values.names import file_stem
from audit_kit.workbook import ReviewBook, render_review, review_digest
from audit_kit.workbook.safety import encrypt_xlsx

DECISIONS_FILE = "decisions/decisions.xlsx"


class NoDisputes(AuditError):
    """No coder disagreed with a finding: there is no decisions workbook to write."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundSummary:
    """What one round command did, and the state it left."""

    audit_dir: Path
    command: str
    files: tuple[Path, ...] = ()
    due: str = ""
    findings: int = 0
    disputes: int = 0
    no_response: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    next_step: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "audit_dir": str(self.audit_dir),
            "command": self.command,
            "files": [str(p) for p in self.files],
            "due": self.due,
            "findings": self.findings,
            "disputes": self.disputes,
            "no_response": {k: list(v) for k, v in self.no_response.items()},
            "next_step": self.next_step,
        }


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _plan(folder: AuditFolder) -> SamplingPlan:
    return parse_plan(yaml.safe_load(folder.read_bytes("plan.yaml")), source="plan.yaml")


def _round_or_fail(folder: AuditFolder, command: str) -> RebuttalRound:
    found = read_round(folder)
    if found is None:
        raise AuditError(
            "No rebuttal round has been opened for this audit.",
            [
                Problem(
                    where=str(folder.file(ROUND)),
                    expected="a round opened by `audit-kit rebuttals`",
                    found="none",
                    fix=f"run `audit-kit rebuttals {folder.path}` first, then `{command}`.",
                )
            ],
        )
    return found


def _closed_problem(folder: AuditFolder, found: RebuttalRound) -> Problem:
    return Problem(
        where=str(folder.file(ROUND)),
        expected="an open rebuttal round",
        found=f"the round closed at {found.closed_at}",
        fix="a closed round is final; its results are scored as they stand.",
    )


def parse_due(text: str | None, *, days: int) -> str:
    """The due date: ``text`` (YYYY-MM-DD, today or later) or today plus ``days``."""
    if text is None:
        return (_today() + dt.timedelta(days=days)).isoformat()
    try:
        day = parse_date(text.strip())
    except NotADate:
        day = None
    if day is None or len(text.strip()) != 10:
        raise InputError(
            "The due date is not a date.",
            [
                Problem(
                    where="--due",
                    expected="a date YYYY-MM-DD",
                    found=repr(text),
                    fix="give the date the coders must respond by, e.g. --due 2026-05-15.",
                )
            ],
        )
    if day < _today():
        raise InputError(
            "The due date has passed.",
            [
                Problem(
                    where="--due",
                    expected=f"today ({_today()}) or later",
                    found=day.isoformat(),
                    fix="give a date in the future (the coders need time to respond).",
                )
            ],
        )
    return day.isoformat()


def _finding_hashes(folder: AuditFolder) -> dict[str, str]:
    frame = folder.read_csv("findings.csv", infer_schema=False)
    out = {}
    for row in frame.to_dicts():
        text = "\x1f".join(
            "" if v is None else str(v) for k, v in row.items() if k != "collected_at"
        )
        out[str(row["unit_id"])] = sha256_bytes(text.encode("utf-8"))
    return out


def open_round(
    audit_dir: Path,
    *,
    due: str | None = None,
    password: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> RoundSummary:
    """Open the rebuttal round: one workbook per coder with a finding with an error."""
    from audit_kit.scoring import score_audit_frames

    folder = AuditFolder.open(Path(audit_dir))
    existing = read_round(folder)
    if existing is not None:
        raise AuditError(
            "A rebuttal round has already been opened for this audit.",
            [
                Problem(
                    where=str(folder.file(ROUND)),
                    expected="no round yet (an audit has one rebuttal round)",
                    found=f"round opened at {existing.opened_at}, {existing.state}",
                    fix="collect the returned rebuttal workbooks, then `audit-kit decisions` "
                    "and `audit-kit close`; `audit-kit status` shows where the round stands.",
                )
            ],
        )
    plan = _plan(folder)
    due_day = parse_due(due, days=plan.rebuttal.days)
    results = _current_results(folder)
    if results is None:
        if progress is not None:
            progress("scoring the findings to find the ones with an error")
        results = score_audit_frames(folder)
    outstanding = int(results["progress"].get("units_outstanding", 0))
    if outstanding:
        raise AuditError(
            "Sampled units are still outstanding: the round covers every finding, so it opens "
            "when every workbook is in.",
            [
                Problem(
                    where=str(folder.file("findings.csv")),
                    expected="a finding for every sampled unit",
                    found=f"{outstanding} unit(s) not returned yet",
                    fix=f"collect the remaining workbooks (`audit-kit status {folder.path}` "
                    "names the auditors), then open the round.",
                )
            ],
        )
    errors = list(results["errors"])
    no_coder = [str(e["unit_id"]) for e in errors if not e.get("coder")]
    if no_coder:
        raise AuditError(
            "Findings with an error have no coder to send them to.",
            [
                Problem(
                    where=f"sample.csv, unit {u}",
                    expected="the coder of the unit (the plan's columns.coder)",
                    found="no coder",
                    fix="map the coder column in plan.yaml before sampling; without it there "
                    "is nobody to respond.",
                )
                for u in no_coder[:20]
            ],
        )
    if not errors:
        raise AuditError(
            "No finding has an error: there is nothing for the coders to respond to.",
            [
                Problem(
                    where=str(folder.file("findings.csv")),
                    expected="at least one finding with an error",
                    found="none",
                    fix="no round is needed: the scores are final as they stand.",
                )
            ],
        )
    hashes = _finding_hashes(folder)
    snapshot: dict[str, dict[str, Any]] = {}
    by_coder: dict[str, list[dict[str, Any]]] = {}
    for e in errors:
        finding = {
            "unit_id": str(e["unit_id"]),
            "coder": str(e["coder"]),
            "auditor": e.get("auditor"),
            "status": e.get("status"),
            "category": e.get("category"),
            "original": e.get("original"),
            "audited": e.get("audited"),
            "changes": {
                k: (e.get("changes") or {}).get(k)
                for k in (
                    "added",
                    "deleted",
                    "revised",
                    "principal_dx_changed",
                    "sequencing_changed",
                    "drg_changed",
                )
            },
            "examined": e.get("examined"),
            "audited_amount": e.get("audited_amount"),
            "difference": e.get("difference"),
            "rationale": e.get("rationale"),
            "reference": e.get("reference"),
            "finding_sha256": hashes.get(str(e["unit_id"]), ""),
        }
        snapshot[finding["unit_id"]] = finding
        by_coder.setdefault(finding["coder"], []).append(finding)

    created = now_iso()
    taken: set[str] = set()
    books: list[tuple[IssuedBook, ReviewBook]] = []
    for coder in sorted(by_coder):
        stem = file_stem(coder, taken)
        book = rebuttal_book(
            plan, workbook_id=f"R1-{stem}", coder=coder, findings=by_coder[coder], due=due_day
        )
        books.append((_issued(book, f"rebuttals/{stem}.xlsx", coder, password), book))
    record = RebuttalRound(
        audit_id=folder.audit_id,
        round=1,
        opened_at=created,
        due=due_day,
        state="open",
        findings_sha256=str(folder.artifacts()["findings.csv"]["sha256"]),
        findings=snapshot,
        books=tuple(b for b, _ in books),
    )
    paths: list[Path] = []
    with folder.transaction(
        "rebuttals",
        inputs={"findings.csv": record.findings_sha256},
        details={
            "due": due_day,
            "findings_with_error": len(snapshot),
            "encrypted": bool(password),
            "workbooks": [
                {"workbook_id": b.workbook_id, "coder": b.coder, "findings": len(b.units)}
                for b, _ in books
            ],
        },
    ) as tx:
        for issued, book in books:
            data = render_review(
                book,
                audit_id=folder.audit_id,
                created=created,
                protect_password=_protection(plan, password),
            )
            if password and _encrypts(plan, password):
                data = encrypt_xlsx(data, password)
            tx.write_bytes(issued.file, data, kind="rebuttal-workbook")
            paths.append(folder.file(issued.file))
            if progress is not None:
                progress(f"wrote {issued.file} ({len(issued.units)} finding(s))")
        tx.write_json(ROUND, record.to_dict(), kind="rebuttal-round")
    return RoundSummary(
        audit_dir=Path(audit_dir),
        command="rebuttals",
        files=tuple(paths),
        due=due_day,
        findings=len(snapshot),
        next_step=f"send each coder their workbook; collect the returns with `audit-kit "
        f"collect {audit_dir} FILES` (due {due_day}).",
    )


def _current_results(folder: AuditFolder) -> dict[str, Any] | None:
    """results.json when it scores today's findings.csv (no need to score them again)."""
    if not folder.has("results.json") or not folder.has("findings.csv"):
        return None
    results: dict[str, Any] = folder.read_json("results.json")
    current = str(folder.artifacts()["findings.csv"]["sha256"])
    if results.get("audit", {}).get("findings_sha256") != current or results.get("rebuttal"):
        return None
    return results


def _issued(book: ReviewBook, file: str, coder: str, password: str | None) -> IssuedBook:
    return IssuedBook(
        workbook_id=book.workbook_id,
        kind="rebuttal" if coder else "decisions",
        file=file,
        coder=coder,
        encrypted=bool(password),
        columns=tuple({"header": c.header, "kind": c.kind} for c in book.locked),
        inputs=tuple(c.header for c in book.columns if not c.locked),
        units=tuple(
            {
                "unit_id": r.unit_id,
                "kind": r.kind,
                "row_sha256": review_digest(book.columns, r.values),
            }
            for r in book.rows
        ),
    )


def disputes(found: RebuttalRound, responses: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Units whose coder disagreed (in the round's order)."""
    return [u for u in found.findings if responses.get(u, {}).get("response") == "disagree"]


def write_decisions(
    audit_dir: Path,
    *,
    password: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> RoundSummary:
    """Write ``decisions/decisions.xlsx``: every disputed finding with both sides."""
    folder = AuditFolder.open(Path(audit_dir))
    found = _round_or_fail(folder, "audit-kit decisions")
    if not found.is_open:
        raise AuditError("The rebuttal round is closed.", [_closed_problem(folder, found)])
    plan = _plan(folder)
    responses = read_responses(folder)
    decided = read_decisions(folder)
    units = disputes(found, responses)
    if not units:
        answered = sum(1 for u in found.findings if responses.get(u, {}).get("response"))
        raise NoDisputes(
            "No finding is disputed: there is nothing for the lead to decide.",
            [
                Problem(
                    where=str(folder.file("responses.csv")),
                    expected="at least one response 'disagree'",
                    found=f"{answered} of {len(found.findings)} finding(s) answered, none disputed",
                    fix="collect the coders' rebuttal workbooks first; with no dispute, "
                    f"`audit-kit close {audit_dir}` ends the round.",
                )
            ],
        )
    batch = 1 + sum(1 for b in found.books if b.kind == "decisions")
    book = decisions_book(
        plan,
        workbook_id=f"D{batch}",
        disputes=[("rebuttal", found.findings[u], responses[u]) for u in units],
        decided=decided,
    )
    issued = _issued(book, DECISIONS_FILE, "", password)
    record = RebuttalRound(
        audit_id=found.audit_id,
        round=found.round,
        opened_at=found.opened_at,
        due=found.due,
        state=found.state,
        findings_sha256=found.findings_sha256,
        findings=found.findings,
        books=(*found.books, issued),
        extra=found.extra,
    )
    created = now_iso()
    inputs = {"responses.csv": str(folder.artifacts()["responses.csv"]["sha256"])}
    with folder.transaction(
        "decisions",
        inputs=inputs,
        details={
            "workbook_id": issued.workbook_id,
            "disputes": len(units),
            "already_decided": sum(1 for u in units if ("rebuttal", u) in decided),
            "encrypted": bool(password),
        },
    ) as tx:
        data = render_review(
            book,
            audit_id=folder.audit_id,
            created=created,
            protect_password=_protection(plan, password),
        )
        if password and _encrypts(plan, password):
            data = encrypt_xlsx(data, password)
        tx.write_bytes(DECISIONS_FILE, data, kind="decisions-workbook")
        tx.write_json(ROUND, record.to_dict(), kind="rebuttal-round")
    if progress is not None:
        progress(f"wrote {DECISIONS_FILE} ({len(units)} dispute(s))")
    return RoundSummary(
        audit_dir=Path(audit_dir),
        command="decisions",
        files=(folder.file(DECISIONS_FILE),),
        due=found.due,
        findings=len(found.findings),
        disputes=len(units),
        next_step=f"the audit lead fills {DECISIONS_FILE}; collect it with `audit-kit collect "
        f"{audit_dir} decisions.xlsx`, then `audit-kit close {audit_dir}`.",
    )


def close_round(audit_dir: Path, *, early: bool = False) -> RoundSummary:
    """Close the round: refused while a dispute has no decision (and, before the due date,
    while a finding has no response unless ``early``)."""
    folder = AuditFolder.open(Path(audit_dir))
    with folder.transaction("close") as tx:
        found = _round_or_fail(folder, "audit-kit close")
        if not found.is_open:
            raise AuditError(
                "The rebuttal round is already closed.", [_closed_problem(folder, found)]
            )
        responses = read_responses(folder)
        decided = read_decisions(folder)
        open_disputes = [u for u in disputes(found, responses) if ("rebuttal", u) not in decided]
        if open_disputes:
            raise AuditError(
                f"{len(open_disputes)} dispute(s) have no decision yet; the round stays open.",
                [
                    Problem(
                        where=f"{DECISIONS_FILE}, unit {u}",
                        expected="the audit lead's decision (upheld, overturned or modified)",
                        found=f"none (coder {found.findings[u].get('coder')} disagreed)",
                        fix=f"run `audit-kit decisions {audit_dir}`, have the lead decide, and "
                        "collect the workbook before closing.",
                    )
                    for u in open_disputes
                ],
            )
        silent: dict[str, list[str]] = {}
        for unit, finding in found.findings.items():
            if not responses.get(unit, {}).get("response"):
                silent.setdefault(str(finding.get("coder")), []).append(unit)
        due_day = parse_date(found.due)
        past_due = due_day is not None and _today() > due_day
        if silent and not past_due and not early:
            raise AuditError(
                f"The round is due {found.due} and {len(silent)} coder(s) have not responded "
                "to every finding yet.",
                [
                    Problem(
                        where=f"rebuttals, coder {coder}",
                        expected=f"a response to each finding by {found.due}",
                        found=f"no response to {len(units)} finding(s) ({', '.join(units[:5])}"
                        + (", ..." if len(units) > 5 else "")
                        + ")",
                        fix="collect their workbooks, wait until the due date, or pass --early "
                        "(the findings without a response then count as agreed).",
                    )
                    for coder, units in sorted(silent.items())
                ],
            )
        no_response = tuple(u for units in silent.values() for u in units)
        closed = RebuttalRound(
            audit_id=found.audit_id,
            round=found.round,
            opened_at=found.opened_at,
            due=found.due,
            state="closed",
            findings_sha256=found.findings_sha256,
            findings=found.findings,
            books=found.books,
            closed_at=now_iso(),
            no_response=no_response,
            extra={**found.extra, "closed_early": bool(silent) and not past_due},
        )
        counts = _counts(found, responses, decided)
        tx.inputs = {
            rel: str(folder.artifacts()[rel]["sha256"])
            for rel in ("responses.csv", "decisions.csv", ROUND)
            if folder.has(rel)
        }
        tx.details = {
            **counts,
            "due": found.due,
            "past_due": past_due,
            "no_response": {coder: units for coder, units in sorted(silent.items())},
            "no_response_counted_as": "agreed",
        }
        tx.write_json(ROUND, closed.to_dict(), kind="rebuttal-round")
    return RoundSummary(
        audit_dir=Path(audit_dir),
        command="close",
        due=found.due,
        findings=len(found.findings),
        disputes=counts["disputed"],
        no_response={k: tuple(v) for k, v in sorted(silent.items())},
        next_step=f"score the audit again: `audit-kit score {audit_dir}` (the results are "
        "final once every sampled unit is in), then `audit-kit report`.",
    )


def _counts(
    found: RebuttalRound,
    responses: Mapping[str, Mapping[str, str]],
    decided: Mapping[tuple[str, str], Mapping[str, str]],
) -> dict[str, int]:
    counts = dict.fromkeys(
        ("findings_with_error", "agreed", "disputed", "upheld", "overturned", "modified"), 0
    )
    counts["findings_with_error"] = len(found.findings)
    for unit in found.findings:
        response = responses.get(unit, {}).get("response")
        if response == "agree":
            counts["agreed"] += 1
        elif response == "disagree":
            counts["disputed"] += 1
            decision = decided.get(("rebuttal", unit), {}).get("decision")
            if decision in ("upheld", "overturned", "modified"):
                counts[decision] += 1
    return counts


def _protection(plan: SamplingPlan, password: str | None) -> str | None:
    """The sheet-protection password: the one given, when the plan asks for protected sheets."""
    return password if plan.workbook.protect_password else None


def _encrypts(plan: SamplingPlan, password: str | None) -> bool:
    """Whether to encrypt, as `workbooks` does: a password given only for protection does not."""
    return bool(password) and (plan.workbook.password or not plan.workbook.protect_password)
