"""audit-kit: coding compliance audits for US healthcare.

RAT-STATS-compatible sampling and appraisal, auditor workbooks, validated collection, scoring
with confidence limits, financial impact extrapolated to the universe, and PDF reports.

The stages are modules: ``sampling``, ``workbook``, ``findings``, ``scoring``, ``reporting``,
``stats``. Names below are re-exported lazily so that importing the package (and so starting the
command line) does not load polars, pydantic or the PDF engine until they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from audit_kit._version import __version__
from audit_kit.errors import (
    AuditError,
    InputError,
    IntegrityError,
    PlanError,
    Problem,
    SamplingError,
    StatisticsError,
    WorkbookError,
)

if TYPE_CHECKING:
    from audit_kit.folder.manifest import AuditFolder
    from audit_kit.plan import SamplingPlan, load_plan

__all__ = [
    "AuditError",
    "AuditFolder",
    "InputError",
    "IntegrityError",
    "PlanError",
    "Problem",
    "SamplingError",
    "SamplingPlan",
    "StatisticsError",
    "WorkbookError",
    "__version__",
    "load_plan",
]

_LAZY = {
    "AuditFolder": "audit_kit.folder.manifest",
    "SamplingPlan": "audit_kit.plan",
    "load_plan": "audit_kit.plan",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'audit_kit' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
