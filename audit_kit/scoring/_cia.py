"""CIA discovery: the net error rate against the plan's threshold (OIG CIA Appendix B)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from audit_kit.scoring._groups import overall_population
from audit_kit.scoring._units import ScoredUnit, ScoringContext
from audit_kit.scoring.financial import totals
from audit_kit.stats import cia_full_sample_size


def discover_cia(
    scored: Sequence[ScoredUnit], ctx: ScoringContext, sampling: Mapping[str, Any]
) -> dict[str, Any] | None:
    threshold = ctx.plan.scoring.error_threshold
    if threshold is None:
        return None
    amounts = [u.amount for u in scored if u.amount is not None]
    money = totals(amounts)
    rate = money["net"] / money["examined"] if money["examined"] > 0 else None
    exceeded = rate is not None and rate >= threshold
    full: dict[str, Any] | None = None
    population = overall_population(ctx, sampling)
    if exceeded and population is not None and len(amounts) >= 2:
        # Underpayments enter as 0 (OIG CIA Appendix B); 90% confidence, 25% precision.
        full = cia_full_sample_size(
            [a.difference for a in amounts], population=population
        ).to_dict()
    return {
        "threshold": threshold,
        "net_error_rate": rate,
        "net_overpayment": money["net"],
        "examined": money["examined"],
        "exceeded": exceeded,
        "rule": "net error rate = net overpayment / amount examined in the discovery sample; "
        "at or above the threshold a full sample is required",
        "full_sample": full,
    }
