"""audit-kit: coding compliance audits for US healthcare.

RAT-STATS-compatible sampling and appraisal, auditor workbooks, validated collection, scoring
with confidence limits, financial impact extrapolated to the universe, and PDF reports.
"""

from __future__ import annotations

from audit_kit._version import __version__
from audit_kit.audit import AuditFolder
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
