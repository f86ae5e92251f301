"""Risk-based cadence: the next audit of each coder from the lower limit of their accuracy.

The rule table (:class:`~audit_kit.plan.program.CadenceRules`) is tried top to bottom with the
**lower** confidence limit of the coder's accuracy (the table's ``measure``) in the latest
period the coder appears in; the first rule whose ``lower_at_least`` it reaches fires. The next
audit is that many months after the end of that period (the sampling date when the plan has no
period range). A coder first seen in the latest period, when there are earlier periods, is
audited again within ``new_coders.within_months`` at the latest: the sooner of the two wins and
is named as the rule that fired. A coder with no lower limit (nothing scored) gets the last rule.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from audit_kit.plan.program import CadenceRules
from audit_kit.program.model import GroupPeriod, NextAudit

__all__ = ["add_months", "describe_rules", "next_audit"]


def add_months(day: dt.date, months: int) -> dt.date:
    """Return the same day ``months`` later, clamped to the month's last day (Jan 31 -> Apr 30)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_audit(
    rules: CadenceRules,
    last: GroupPeriod,
    *,
    counted_from: dt.date,
    new_coder: bool,
    in_latest_period: bool,
) -> NextAudit:
    """Apply the rule table to a coder's latest period; see the module doc."""
    measure = rules.measure.value
    interval = last.code_accuracy if measure == "code_accuracy" else last.record_accuracy
    lower = None if interval is None else interval.lower
    fired = rules.rules[-1]
    if lower is not None:
        fired = next(r for r in rules.rules if lower >= r.lower_at_least)
    months, kind = fired.next_in_months, fired.kind.value
    rule = f"{fired.name} (lower limit {_pct(lower)} of {measure.replace('_', ' ')}"
    rule += f" -> {kind.replace('_', ' ')} in {months} months)"
    if new_coder and rules.new_coders is not None:
        cap = rules.new_coders
        if cap.within_months < months:
            months, kind = cap.within_months, cap.kind.value
            rule = (
                f"new coder (first seen in {last.period}) -> {kind.replace('_', ' ')} within "
                f"{months} months"
            )
    return NextAudit(
        date=add_months(counted_from, months).isoformat(),
        kind=kind,
        rule=rule,
        measure=measure,
        lower=lower,
        threshold=fired.lower_at_least,
        months=months,
        counted_from=counted_from.isoformat(),
        based_on_period=last.period,
        new_coder=new_coder,
        in_latest_period=in_latest_period,
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def describe_rules(rules: CadenceRules, *, source: str) -> dict[str, Any]:
    """The rule table as trend.json records it, with where it came from."""
    return {
        "source": source,
        "measure": rules.measure.value,
        "counted_from": rules.counted_from,
        "rules": [
            {
                "name": r.name,
                "lower_at_least": r.lower_at_least,
                "next_in_months": r.next_in_months,
                "kind": r.kind.value,
            }
            for r in rules.rules
        ],
        "new_coders": None
        if rules.new_coders is None
        else {
            "within_months": rules.new_coders.within_months,
            "kind": rules.new_coders.kind.value,
        },
    }
