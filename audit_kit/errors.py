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

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

__all__ = [
    "AuditError",
    "InputError",
    "IntegrityError",
    "PlanError",
    "Problem",
    "Problems",
    "SamplingError",
    "StatisticsError",
    "WorkbookError",
    "bad_value",
    "missing_file",
    "missing_key",
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

    @classmethod
    def one(cls, summary: str, *, where: str, expected: str, found: str, fix: str = "") -> Self:
        """Return the error of a single problem (the common case of a check that stops)."""
        return cls(summary, [Problem(where=where, expected=expected, found=found, fix=fix)])

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


class Problems:
    """Collect every problem of an input, then raise them together, once.

    ``error`` is the class raised; ``limit`` caps the problems listed (the rest are counted in
    one last line), for inputs that can hold thousands of the same mistake.
    """

    def __init__(self, error: type[AuditError] = InputError, *, limit: int | None = None) -> None:
        self.error = error
        self.limit = limit
        self.items: list[Problem] = []

    def add(self, where: str, expected: str, found: object, fix: str = "") -> None:
        """Record one problem (``found`` is shown as text)."""
        self.items.append(Problem(where=where, expected=expected, found=str(found), fix=fix))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)

    def raise_if_any(self, summary: str) -> None:
        """Raise ``error(summary, problems)`` when any problem was recorded."""
        if not self.items:
            return
        shown = list(self.items)
        if self.limit is not None and len(shown) > self.limit:
            shown = shown[: self.limit]
            shown.append(
                Problem(
                    where="...",
                    expected="",
                    found=f"{len(self.items) - self.limit} more problem(s) of the same kind",
                )
            )
        raise self.error(summary, shown)


# -- named problems: the wording of the common cases, written once ---------------------------


def missing_file(path: Path | str, *, expected: str, fix: str) -> Problem:
    """A file that should be there and is not."""
    return Problem(where=str(path), expected=expected, found="no such file", fix=fix)


def missing_key(where: str, key: str, *, expected: str = "this key", fix: str = "") -> Problem:
    """A key (of a plan, a JSON record, a mapping) that is absent."""
    return Problem(where=f"{where}: {key}", expected=expected, found="nothing", fix=fix)


def bad_value(where: str, *, expected: str, found: object, fix: str = "") -> Problem:
    """A value at a cell, row or key that is not what it should be (shown with repr)."""
    return Problem(where=where, expected=expected, found=repr(found), fix=fix)
