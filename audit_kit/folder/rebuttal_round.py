"""The rebuttal round's record in the audit folder, and its tables (typed readers).

Files (all recorded in ``audit.json``, written through the folder's transactions):

``rebuttals/round.json``   the round: when it was opened and is due, its state (``open`` or
                           ``closed``), the findings with an error it covers (a snapshot of both
                           sides, no patient data), and every rebuttal and decisions workbook
                           issued with its locked columns and row hashes.
``rebuttals/<coder>.xlsx`` one rebuttal workbook per coder (``audit-kit rebuttals``).
``decisions/decisions.xlsx`` the audit lead's workbook of disputes (``audit-kit decisions``).
``responses.csv``          the coders' responses, one row per finding (``collect``).
``decisions.csv``          the lead's decisions, one row per dispute (``collect``).

A dispute is keyed by its ``kind`` and unit id: ``rebuttal`` (a coder disagreed with a
finding); other kinds (a disagreement between two auditors) can use the same decisions
workbook and table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from audit_kit.folder.manifest import AuditFolder

__all__ = [
    "DECISIONS",
    "DECISIONS_COLUMNS",
    "DECISION_CHOICES",
    "DISPUTE_KINDS",
    "RESPONSES",
    "RESPONSES_COLUMNS",
    "RESPONSE_CHOICES",
    "ROUND",
    "ROUND_FORMAT",
    "IssuedBook",
    "RebuttalRound",
    "read_decisions",
    "read_responses",
    "read_round",
]

ROUND = "rebuttals/round.json"
ROUND_FORMAT = "audit-kit-rebuttal-round/1"
RESPONSES = "responses.csv"
DECISIONS = "decisions.csv"
RESPONSE_CHOICES: tuple[str, ...] = ("agree", "disagree")
DECISION_CHOICES: tuple[str, ...] = ("upheld", "overturned", "modified")
#: The kinds of dispute the decisions workbook carries (helpers may add more).
DISPUTE_KINDS: tuple[str, ...] = ("rebuttal",)

RESPONSES_COLUMNS: tuple[str, ...] = (
    "unit_id",
    "workbook_id",
    "coder",
    "response",
    "comment",
    "source_sha256",
    "collected_at",
)
DECISIONS_COLUMNS: tuple[str, ...] = (
    "kind",
    "unit_id",
    "workbook_id",
    "decision",
    "rationale",
    "decided_by",
    "decision_date",
    "final_principal_dx",
    "final_other_dx",
    "final_procedures",
    "final_cpt",
    "final_drg",
    "final_amount",
    "source_sha256",
    "collected_at",
)

BookKind = Literal["rebuttal", "decisions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedBook:
    """One issued rebuttal or decisions workbook: its locked columns and rows (by hash)."""

    workbook_id: str
    kind: BookKind
    file: str
    coder: str  # the coder of a rebuttal workbook; "" for decisions
    encrypted: bool
    columns: tuple[dict[str, str], ...]  # locked columns: {header, kind}
    inputs: tuple[str, ...]  # the headers the recipient fills in
    units: tuple[dict[str, str], ...]  # {unit_id, kind, row_sha256}

    def to_dict(self) -> dict[str, Any]:
        return {
            "workbook_id": self.workbook_id,
            "kind": self.kind,
            "file": self.file,
            "coder": self.coder,
            "encrypted": self.encrypted,
            "columns": [dict(c) for c in self.columns],
            "inputs": list(self.inputs),
            "units": [dict(u) for u in self.units],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IssuedBook:
        return cls(
            workbook_id=str(data["workbook_id"]),
            kind="decisions" if data.get("kind") == "decisions" else "rebuttal",
            file=str(data.get("file", "")),
            coder=str(data.get("coder", "")),
            encrypted=bool(data.get("encrypted", False)),
            columns=tuple(dict(c) for c in data.get("columns", [])),
            inputs=tuple(str(h) for h in data.get("inputs", [])),
            units=tuple(dict(u) for u in data.get("units", [])),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RebuttalRound:
    """The round as ``rebuttals/round.json`` records it."""

    audit_id: str
    round: int
    opened_at: str
    due: str  # ISO date
    state: Literal["open", "closed"]
    findings_sha256: str
    #: per unit id: the finding with an error as it stood when the round opened (both sides)
    findings: dict[str, dict[str, Any]]
    books: tuple[IssuedBook, ...] = ()
    closed_at: str | None = None
    no_response: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    def book(self, workbook_id: str) -> IssuedBook | None:
        return next((b for b in self.books if b.workbook_id == workbook_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": ROUND_FORMAT,
            "audit_id": self.audit_id,
            "round": self.round,
            "opened_at": self.opened_at,
            "due": self.due,
            "state": self.state,
            "closed_at": self.closed_at,
            "no_response": list(self.no_response),
            "findings_sha256": self.findings_sha256,
            "findings": [self.findings[u] for u in self.findings],
            "workbooks": [b.to_dict() for b in self.books],
            **self.extra,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RebuttalRound:
        known = {
            "format",
            "audit_id",
            "round",
            "opened_at",
            "due",
            "state",
            "closed_at",
            "no_response",
            "findings_sha256",
            "findings",
            "workbooks",
        }
        return cls(
            audit_id=str(data["audit_id"]),
            round=int(data.get("round", 1)),
            opened_at=str(data["opened_at"]),
            due=str(data["due"]),
            state="closed" if data.get("state") == "closed" else "open",
            findings_sha256=str(data.get("findings_sha256", "")),
            findings={str(f["unit_id"]): dict(f) for f in data.get("findings", [])},
            books=tuple(IssuedBook.from_dict(b) for b in data.get("workbooks", [])),
            closed_at=data.get("closed_at"),
            no_response=tuple(str(u) for u in data.get("no_response", [])),
            extra={k: v for k, v in data.items() if k not in known},
        )


def read_round(folder: AuditFolder) -> RebuttalRound | None:
    """Return the audit's rebuttal round (hash-checked), or None when none was opened."""
    if not folder.has(ROUND):
        return None
    return RebuttalRound.from_dict(folder.read_json(ROUND))


def _read_table(folder: AuditFolder, rel: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if not folder.has(rel):
        return []
    frame = folder.read_csv(rel, infer_schema=False)
    return [
        {c: "" if row.get(c) is None else str(row[c]) for c in columns} for row in frame.to_dicts()
    ]


def read_responses(folder: AuditFolder) -> dict[str, dict[str, str]]:
    """The coders' responses by unit id (empty before any rebuttal workbook is collected)."""
    return {r["unit_id"]: r for r in _read_table(folder, RESPONSES, RESPONSES_COLUMNS)}


def read_decisions(folder: AuditFolder) -> dict[tuple[str, str], dict[str, str]]:
    """The lead's decisions by (kind, unit id)."""
    return {(r["kind"], r["unit_id"]): r for r in _read_table(folder, DECISIONS, DECISIONS_COLUMNS)}
