"""workbooks/<workbook_id>.json: what the audit folder records about each issued workbook.

Written by ``workbooks`` (:mod:`audit_kit.workbook`), read back by ``collect`` and ``status``
through :meth:`AuditFolder.read_layouts <audit_kit.folder.manifest.AuditFolder.read_layouts>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from audit_kit._version import __version__

WORKBOOK_FORMAT = "audit-kit-workbook/1"

ColumnKind = Literal["text", "number", "date"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginalColumn:
    """An original (locked) column: header = the universe's column name."""

    header: str
    field: str | None
    kind: ColumnKind

    def to_dict(self) -> dict[str, Any]:
        return {"header": self.header, "field": self.field, "kind": self.kind}


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkbookLayout:
    """What the audit folder records about one issued workbook (``workbooks/<id>.json``)."""

    workbook_id: str
    auditor: str
    batch: int
    columns: tuple[OriginalColumn, ...]
    spare_header: str | None
    units: tuple[dict[str, Any], ...]  # {unit_id, row_sha256, spare, role, stratum}
    encrypted: bool = False

    def to_dict(self, audit_id: str, *, finding_headers: Sequence[str]) -> dict[str, Any]:
        return {
            "format": WORKBOOK_FORMAT,
            "audit_id": audit_id,
            "workbook_id": self.workbook_id,
            "auditor": self.auditor,
            "batch": self.batch,
            "columns": [c.to_dict() for c in self.columns],
            "spare_header": self.spare_header,
            "finding_headers": list(finding_headers),
            "encrypted": self.encrypted,
            "units": list(self.units),
            "tool_version": __version__,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkbookLayout:
        return cls(
            workbook_id=str(data["workbook_id"]),
            auditor=str(data["auditor"]),
            batch=int(data["batch"]),
            columns=tuple(
                OriginalColumn(header=c["header"], field=c["field"], kind=c["kind"])
                for c in data["columns"]
            ),
            spare_header=data.get("spare_header"),
            units=tuple(data["units"]),
            encrypted=bool(data.get("encrypted", False)),
        )
