"""The findings table's columns, what ``collect`` returns, and one parsed return."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from audit_kit.workbook import (
    WorkbookLayout,
)

FINDINGS_COLUMNS: tuple[str, ...] = (
    "unit_id",
    "workbook_id",
    "auditor",
    "review_status",
    "audited_principal_dx",
    "audited_other_dx",
    "audited_procedures",
    "audited_cpt",
    "audited_drg",
    "audited_amount",
    "error_category",
    "rationale",
    "reference",
    "review_date",
    "coder_response",
    "coder_comment",
    "source_sha256",
    "collected_at",
)


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """What happened to one returned file."""

    path: str
    sha256: str
    status: Literal["accepted", "already collected", "duplicate", "nothing to collect"]
    workbook_id: str = ""
    auditor: str = ""
    units_returned: int = 0
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "status": self.status,
            "workbook_id": self.workbook_id,
            "auditor": self.auditor,
            "units_returned": self.units_returned,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditorProgress:
    """Progress of one auditor: of ``assigned`` sampled units, how many have which status."""

    auditor: str
    assigned: int
    reviewed: int
    record_missing: int
    not_reviewed: int

    @property
    def done(self) -> int:
        return self.reviewed + self.record_missing

    @property
    def pending(self) -> int:
        return self.assigned - self.done - self.not_reviewed

    def to_dict(self) -> dict[str, Any]:
        return {
            "auditor": self.auditor,
            "assigned": self.assigned,
            "reviewed": self.reviewed,
            "record_missing": self.record_missing,
            "not_reviewed": self.not_reviewed,
            "pending": self.pending,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectSummary:
    """The outcome of one ``collect``: files, progress, supersessions, and the next step."""

    audit_dir: Path
    files: tuple[FileResult, ...]
    progress: tuple[AuditorProgress, ...]
    findings: int
    double_review: int
    superseded: tuple[dict[str, str], ...]
    changed: bool
    next_step: str
    units_sampled: int
    units_done: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "audit_dir": str(self.audit_dir),
            "changed": self.changed,
            "files": [f.to_dict() for f in self.files],
            "progress": [p.to_dict() for p in self.progress],
            "units_sampled": self.units_sampled,
            "units_reviewed": self.units_done,
            "findings": self.findings,
            "double_review": self.double_review,
            "superseded": list(self.superseded),
            "next_step": self.next_step,
        }


# -- a parsed return ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Return:
    path: Path
    name: str
    order: int
    sha: str
    raw: bytes
    layout: WorkbookLayout
    modified: str
    records: dict[str, dict[str, str]] = field(default_factory=dict)  # unit -> findings row
    roles: dict[str, str] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # what each problem is about, for summaries
