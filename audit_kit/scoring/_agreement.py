"""Agreement between the two reviews of the double-review units (results.json ``agreement``).

Each double unit has a primary finding (findings.csv) and a second one (double_review.csv).
Both are compared with the unit's original coding as scoring compares them, and each review is
turned into labels per level:

* ``record``: the unit has an error or not (scoring's rule, :attr:`ScoredUnit.has_error`);
* ``codes``: every original code (dx, px, CPT lines) kept or changed;
* ``drg``: the audited DRG (the original when left as is), for units with a DRG.

Units either review marks ``not reviewed`` are left out. Agreement statistics come from
:mod:`audit_kit.stats.agreement`. With a reference reviewer, each other auditor's accuracy is the
share of their double units on which they agree with the reference at every level (Clopper-Pearson
limits), compared with ``scoring.auditor_target``.

Where the two reviews disagree, scoring uses the reference reviewer's finding when a reference
is named and gave one, else the primary finding (:func:`resolved_units`); the lead can overrule
either by correcting the finding and collecting again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from audit_kit.scoring._groups import accuracy_verdict
from audit_kit.scoring._units import ScoredUnit
from audit_kit.stats import clopper_pearson
from audit_kit.stats.agreement import (
    fleiss_kappa_counts,
    krippendorff_alpha_nominal,
    pair_agreement,
)

LEVELS = ("record", "codes", "drg")


def _code_labels(u: ScoredUnit) -> dict[str, str]:
    comp = u.comparison
    if comp is None:
        return {}
    out: dict[str, str] = {}
    for code_type, tc in comp.by_type.items():
        for code in tc.kept:
            out[f"{code_type}:{code}"] = "kept"
        for code in tc.deleted:
            out[f"{code_type}:{code}"] = "changed"
        for old, _new in tc.revised:
            out[f"{code_type}:{old}"] = "changed"
    if u.status == "record missing":
        # nothing could be confirmed: every original code counts as not kept
        for key in list(out):
            out[key] = "changed"
    return out


def _labels(u: ScoredUnit) -> dict[str, dict[str, str]]:
    """level -> item key -> label of one review of one unit."""
    labels: dict[str, dict[str, str]] = {
        "record": {"": "error" if u.has_error else "no error"},
        "codes": _code_labels(u),
        "drg": {},
    }
    if u.original.drg:
        labels["drg"][""] = u.audited.drg or u.original.drg
    return labels


def _pairs(
    primary: Sequence[ScoredUnit], second: Sequence[ScoredUnit]
) -> list[tuple[ScoredUnit, ScoredUnit]]:
    by_id = {u.unit_id: u for u in primary}
    return [
        (by_id[s.unit_id], s)
        for s in second
        if s.unit_id in by_id and s.scored and by_id[s.unit_id].scored
    ]


def _disagreement(a: ScoredUnit, b: ScoredUnit) -> list[str]:
    la, lb = _labels(a), _labels(b)
    kinds = []
    if la["record"] != lb["record"]:
        kinds.append("record")
    codes = sorted(k for k in la["codes"] if la["codes"][k] != lb["codes"].get(k))
    if codes:
        kinds.append("codes")
    if la["drg"] != lb["drg"]:
        kinds.append("drg")
    return kinds


def resolved_units(
    primary: Sequence[ScoredUnit], second: Sequence[ScoredUnit], reference: str | None
) -> tuple[list[ScoredUnit], list[str]]:
    """The findings scoring uses: the reference's where the two reviews disagree, if named.

    Returns (units, ids of the units whose second review replaced the primary one).
    """
    if reference is None:
        return list(primary), []
    ref = reference.lower()
    second_by_id = {u.unit_id: u for u in second}
    out: list[ScoredUnit] = []
    replaced: list[str] = []
    for u in primary:
        other = second_by_id.get(u.unit_id)
        if (
            other is not None
            and other.scored
            and (other.auditor or "").lower() == ref
            and (u.auditor or "").lower() != ref
            and (not u.scored or _disagreement(u, other))
        ):
            out.append(other)
            replaced.append(u.unit_id)
        else:
            out.append(u)
    return out, replaced


def _level(
    pairs: Sequence[tuple[ScoredUnit, ScoredUnit]], level: str, confidence: float
) -> dict[str, Any] | None:
    first: list[str] = []
    second: list[str] = []
    items: list[tuple[str, str]] = []
    raters: set[str] = set()
    units: set[str] = set()
    for a, b in pairs:
        la, lb = _labels(a)[level], _labels(b)[level]
        for key in la:
            if key in lb:
                units.add(a.unit_id)
                first.append(la[key])
                second.append(lb[key])
                items.append((la[key], lb[key]))
                raters.update({a.auditor or "", b.auditor or ""})
    if not first:
        return None
    res = pair_agreement(first, second, confidence)
    out: dict[str, Any] = {**res.to_dict(), "units": len(units), "items": res.units}
    if len(raters) >= 3:
        cats = sorted({c for pair in items for c in pair})
        at = {c: i for i, c in enumerate(cats)}
        counts = np.zeros((len(items), len(cats)), dtype=np.int64)
        for i, (x, y) in enumerate(items):
            counts[i, at[x]] += 1
            counts[i, at[y]] += 1
        out["fleiss_kappa"] = fleiss_kappa_counts(counts)
        out["krippendorff_alpha"] = krippendorff_alpha_nominal(items)
    return out


def agreement_section(
    primary: Sequence[ScoredUnit],
    second: Sequence[ScoredUnit],
    *,
    planned: Sequence[str],
    reference: str | None,
    confidence: float,
    auditor_target: float,
    replaced: Sequence[str],
) -> dict[str, Any]:
    """results.json ``agreement``: per level statistics, per-auditor accuracy, disagreements."""
    pairs = _pairs(primary, second)
    primary_ids = {u.unit_id for u in primary}
    second_ids = {u.unit_id for u in second}
    doubled = list(planned) or sorted(second_ids)
    pending = [u for u in doubled if (u in primary_ids) != (u in second_ids)]
    levels = {name: _level(pairs, name, confidence) for name in LEVELS}
    auditors = sorted({u.auditor or "" for pair in pairs for u in pair})
    disagreements = []
    for a, b in pairs:
        kinds = _disagreement(a, b)
        if kinds:
            disagreements.append(
                {
                    "unit_id": a.unit_id,
                    "auditors": [a.auditor, b.auditor],
                    "kinds": kinds,
                    "resolved_by": "reference" if a.unit_id in replaced else "primary",
                }
            )
    per_auditor: list[dict[str, Any]] = []
    if reference is not None:
        ref = reference.lower()
        tally: dict[str, list[int]] = {}
        for a, b in pairs:
            names = {(a.auditor or "").lower(): a, (b.auditor or "").lower(): b}
            if ref not in names or len(names) < 2:
                continue
            other = a if (b.auditor or "").lower() == ref else b
            t = tally.setdefault(other.auditor or "", [0, 0])
            t[0] += 1
            t[1] += 0 if _disagreement(a, b) else 1
        for name, (units, agreed) in sorted(tally.items()):
            lower, upper = clopper_pearson(agreed, units, confidence)
            interval = {
                "value": agreed / units,
                "lower": lower,
                "upper": upper,
                "confidence": confidence,
                "method": "exact binomial (Clopper-Pearson)",
            }
            per_auditor.append(
                {
                    "auditor": name,
                    "units": units,
                    "agreed": agreed,
                    "accuracy": interval,
                    "target": auditor_target,
                    "verdict": accuracy_verdict(interval, auditor_target),
                }
            )
    return {
        "planned_units": len(doubled),
        "compared_units": len(pairs),
        "pending": pending,
        "reference": reference,
        "auditors": auditors,
        "confidence": confidence,
        "levels": {k: v for k, v in levels.items() if v is not None},
        "auditor_accuracy": per_auditor,
        "auditor_target": auditor_target,
        "disagreements": disagreements,
        "resolution": (
            "Where the two reviews disagree, the reference reviewer's finding is scored."
            if reference is not None
            else "Where the two reviews disagree, the primary auditor's finding is scored."
        ),
    }


def planned_units(sampling: Mapping[str, Any]) -> list[str]:
    """The double-review units sampling.json records (empty for older audits)."""
    record = sampling.get("double_review") or {}
    return [str(u) for u in record.get("units", [])]
