"""Errors a user can meet, each carrying every problem found, never just the first.

The tree::

    AuditError                  anything the CLI turns into a message and exit code 1
    ├── PlanError               the sampling plan (YAML) is invalid
    ├── InputError              a universe, value or reference file is unreadable or invalid
    ├── SamplingError           the design cannot be drawn (empty stratum, n > N without census)
    ├── WorkbookError           a returned workbook fails validation
    ├── IntegrityError          the audit folder fails its hashes, or a re-draw differs
    └── StatisticsError         numbers outside what a statistical method accepts

Every error holds a list of :class:`Problem`, each saying where (file, sheet/cell, row or key),
what was expected, what was found and how to fix it. Messages never carry row contents beyond
unit ids and cell references (PHI discipline).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "AuditError",
    "InputError",
    "IntegrityError",
    "PlanError",
    "Problem",
    "SamplingError",
    "StatisticsError",
    "WorkbookError",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong, located precisely enough to be fixed without reading the source."""

    where: str
    expected: str
    found: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: expected {self.expected}; found {self.found}."
        if self.fix:
            text += f" Fix: {self.fix}"
        return text

    def to_dict(self) -> dict[str, str]:
        return {
            "where": self.where,
            "expected": self.expected,
            "found": self.found,
            "fix": self.fix,
        }


class AuditError(Exception):
    """Base of every error a user can cause; the CLI prints it and exits with code 1."""

    def __init__(self, summary: str, problems: Iterable[Problem] = ()) -> None:
        self.summary = summary
        self.problems: Sequence[Problem] = tuple(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """Return the summary followed by one line per problem."""
        lines = [self.summary]
        lines.extend(f"  - {p}" for p in self.problems)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "summary": self.summary,
            "problems": [p.to_dict() for p in self.problems],
        }


class PlanError(AuditError):
    """The sampling plan is invalid."""


class InputError(AuditError):
    """An input file is unreadable or its contents are invalid."""


class SamplingError(AuditError):
    """The design cannot be drawn from this frame."""


class WorkbookError(AuditError):
    """A returned workbook fails validation."""


class IntegrityError(AuditError):
    """The audit folder fails its hashes, or a re-drawn sample differs from the recorded one."""


class StatisticsError(AuditError):
    """Numbers a statistical method cannot accept (n > N, errors > n, negative sizes...)."""
