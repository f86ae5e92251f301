"""Plan keys for audit programs: the audit's ``period`` and the ``cadence`` rule table.

``period`` places the audit on a time line (``audit-kit trend`` orders audits by it); it is
either ``{start: 2026-07-01, end: 2026-09-30}`` or, as plans have always allowed, free text. A
text of the form ``2026-07-01 to 2026-09-30`` is read as that range; other text is kept as a
label and the audit is then placed by its sampling date.

``cadence`` decides when each coder is audited next, from the **lower** confidence limit of
their accuracy in their latest period (a small sample that happens to score 100% does not earn a
long interval). Rules are tried top to bottom and the first whose ``lower_at_least`` the lower
limit reaches fires; the last rule must catch everything (``lower_at_least: 0``). A coder first
seen in the latest period is audited again within ``new_coders.within_months`` at the latest.
The defaults follow re-audit rules in use (docs/plans.md cites them).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from audit_kit.values.dates import NotADate, parse_date

__all__ = [
    "DEFAULT_CADENCE",
    "CadenceKind",
    "CadenceMeasure",
    "CadenceRule",
    "CadenceRules",
    "NewCoderRule",
    "PeriodValue",
    "PlanPeriod",
    "period_range",
]

_RANGE_TEXT = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(?:to|–|—|\.\.)\s*(\d{4}-\d{2}-\d{2})\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanPeriod(_Strict):
    """The period an audit covers (dates of service, discharge or coding), both days included."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> PlanPeriod:
        if self.end < self.start:
            raise ValueError(f"an end on or after the start ({self.start.isoformat()})")
        return self

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def _period_kind(value: object) -> str:
    return "period-text" if isinstance(value, str) else "period-range"


#: ``period:`` in a plan: text, or a ``{start, end}`` mapping (only that branch's errors shown).
PeriodValue = Annotated[
    Annotated[str, Tag("period-text")] | Annotated[PlanPeriod, Tag("period-range")],
    Discriminator(_period_kind),
]


def period_range(period: str | PlanPeriod) -> PlanPeriod | None:
    """Return the period as a date range, reading ``YYYY-MM-DD to YYYY-MM-DD`` text; else None."""
    if isinstance(period, PlanPeriod):
        return period
    match = _RANGE_TEXT.match(period or "")
    if match is None:
        return None
    try:
        start, end = (parse_date(g) for g in match.groups())
    except NotADate:
        return None
    if start is None or end is None:
        return None
    return PlanPeriod(start=start, end=end) if end >= start else None


class CadenceKind(StrEnum):
    ROUTINE = "routine"
    WITH_FEEDBACK = "with_feedback"
    FOCUSED_REVIEW = "focused_review"


class CadenceMeasure(StrEnum):
    CODE_ACCURACY = "code_accuracy"
    RECORD_ACCURACY = "record_accuracy"


class CadenceRule(_Strict):
    """One row of the rule table: lower limit at least ``lower_at_least`` -> next audit."""

    name: str = Field(min_length=1)
    lower_at_least: float = Field(ge=0, le=1)
    next_in_months: int = Field(ge=1, le=60)
    kind: CadenceKind


class NewCoderRule(_Strict):
    """A coder first seen in the latest period is audited again within this many months."""

    within_months: int = Field(default=6, ge=1, le=60)
    kind: CadenceKind = CadenceKind.ROUTINE


class CadenceRules(_Strict):
    """The rule table of ``audit-kit trend`` (a plan's ``cadence:`` or ``--rules FILE``)."""

    measure: CadenceMeasure = CadenceMeasure.CODE_ACCURACY
    #: The date the months count from: the end of the coder's latest period (the sampling date
    #: when the plan has no period range).
    counted_from: Literal["period_end"] = "period_end"
    rules: list[CadenceRule] = Field(min_length=1)
    new_coders: NewCoderRule | None = Field(default_factory=NewCoderRule)

    @field_validator("rules")
    @classmethod
    def _table(cls, rules: list[CadenceRule]) -> list[CadenceRule]:
        thresholds = [r.lower_at_least for r in rules]
        if any(b >= a for a, b in zip(thresholds, thresholds[1:], strict=False)):
            raise ValueError(
                "rules ordered from the highest lower_at_least to the lowest, each threshold "
                f"strictly below the one before (found {', '.join(f'{t:g}' for t in thresholds)})"
            )
        if thresholds[-1] != 0:
            raise ValueError(
                "a last rule with lower_at_least: 0 that catches every coder "
                f"(the last threshold is {thresholds[-1]:g})"
            )
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise ValueError("rule names that differ from each other")
        return rules


#: Lower limit >= 90%: routine audit in 12 months; 80-90%: 6 months with feedback; < 80%:
#: focused review in 3 months; a new coder within 6 months (docs/plans.md gives the sources).
DEFAULT_CADENCE = CadenceRules(
    rules=[
        CadenceRule(
            name="lower limit at least 90%",
            lower_at_least=0.90,
            next_in_months=12,
            kind=CadenceKind.ROUTINE,
        ),
        CadenceRule(
            name="lower limit 80% to 90%",
            lower_at_least=0.80,
            next_in_months=6,
            kind=CadenceKind.WITH_FEEDBACK,
        ),
        CadenceRule(
            name="lower limit below 80%",
            lower_at_least=0.0,
            next_in_months=3,
            kind=CadenceKind.FOCUSED_REVIEW,
        ),
    ],
    new_coders=NewCoderRule(within_months=6, kind=CadenceKind.ROUTINE),
)
