"""The blind double-review subsample (plan ``double_review:``), drawn with the sample.

The sampled units (spares excluded) are numbered 1..n in sample.csv order (stratum, then order
of selection). The subsample is ``draw_distinct("pcg64", s, 1..n, k)`` with its own seed
``s`` = the first 8 bytes (big-endian) of SHA-256("double-review|<seed>"), <seed> the audit seed
as recorded: a function of the seed alone, so re-sampling with the seed re-creates it, and it
cannot collide with a stratum stream (those hash "<seed>|<stratum>").
"""

from __future__ import annotations

import hashlib
from typing import Any

import polars as pl

from audit_kit.errors import PlanError, Problem
from audit_kit.plan import SamplingPlan
from audit_kit.stats import rng as rng_mod

DOUBLE_REVIEW_RULE = (
    "The double-review units were drawn from the sampled units (spares excluded), numbered "
    "1..n in sample order, with PCG64 seeded by the first 8 bytes of "
    "SHA-256('double-review|<seed>'), without replacement."
)


def double_review_seed(seed: int | float) -> int:
    """The subsample's own seed, derived from the audit seed (see the module docstring)."""
    digest = hashlib.sha256(f"double-review|{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def double_review_record(
    plan: SamplingPlan, sample: pl.DataFrame, seed: int | float, *, source: str
) -> dict[str, Any] | None:
    """Draw the plan's double-review subsample from ``sample``; None without ``double_review``.

    Raises PlanError when the subsample asks for more units than were sampled.
    """
    spec = plan.double_review
    if spec is None:
        return None
    unit_col = plan.columns.unit_id
    spare = sample["spare"].cast(pl.Boolean) if "spare" in sample.columns else None
    units = [
        str(u) for i, u in enumerate(sample[unit_col].to_list()) if spare is None or not spare[i]
    ]
    size = spec.size(len(units))
    if size > len(units):
        raise PlanError(
            "The double-review subsample is larger than the sample.",
            [
                Problem(
                    where=f"{source}: double_review.units",
                    expected=f"at most the {len(units)} sampled unit(s)",
                    found=str(size),
                    fix=f"set double_review.units to {len(units)} or fewer, or use "
                    "double_review.share (e.g. 0.1 for 10 %).",
                )
            ],
        )
    sub_seed = double_review_seed(seed)
    draw = rng_mod.draw_distinct("pcg64", sub_seed, low=1, high=len(units), sample_size=size)
    return {
        "rule": {"units": spec.units} if spec.units is not None else {"share": spec.share},
        "size": size,
        "reference": spec.reference,
        "seed": sub_seed,
        "derivation": DOUBLE_REVIEW_RULE,
        # in the order drawn; positions are 1-based in sample order
        "positions": list(draw.sample),
        "units": [units[p - 1] for p in draw.sample],
    }
