"""Audit folders for the trend tests and benchmark: one scored audit per period.

Each folder holds plan.yaml (with the period under test), sampling.json, findings.csv and a
results.json made by ``report_helpers.make_results`` (Clopper-Pearson limits computed there
with scipy), written through the audit folder's transactions so that their hashes verify.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from report_helpers import make_results, make_sampling

from audit_kit.folder.manifest import AuditFolder


def make_period_audit(
    path: Path,
    *,
    period: Any = None,
    sampled_at: str = "2026-10-01T09:00:00Z",
    coders: int = 4,
    units_per_coder: int = 20,
    error_rate: float = 0.2,
    seed: int = 1,
    target: float = 0.95,
    confidence: float = 0.95,
    keep_coders: Sequence[str] | None = None,
    cadence: Any = None,
    mutate: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Create a scored audit folder for one period; return (path, results.json as written)."""
    folder = AuditFolder.create(path, name=f"Audit {path.name}")
    sampling = make_sampling(
        coders=coders, units_per_coder=units_per_coder, audit_id=folder.audit_id
    )
    sampling["created_at"] = sampled_at
    results = make_results(
        coders=coders,
        units_per_coder=units_per_coder,
        error_rate=error_rate,
        seed=seed,
        target=target,
        confidence=confidence,
        audit_id=folder.audit_id,
        sampling=sampling,
    )
    # as scoring records it: the plan's period as text
    if isinstance(period, dict):
        results["audit"]["period"] = f"{period['start']} to {period['end']}"
    else:
        results["audit"]["period"] = period or ""
    if keep_coders is not None:
        keep = set(keep_coders)
        results["coders"] = [c for c in results["coders"] if c["coder"] in keep]
        results["errors"] = [e for e in results["errors"] if e["coder"] in keep]
    if mutate is not None:
        mutate(results)
    plan: dict[str, Any] = {"name": f"Audit {path.name}", "columns": {"unit_id": "enc"}}
    if period is not None:
        plan["period"] = period
    if cadence is not None:
        plan["cadence"] = cadence
    with folder.transaction("sample") as tx:
        tx.write_text("plan.yaml", yaml.safe_dump(plan, sort_keys=False))
        tx.write_json("sampling.json", sampling)
    with folder.transaction("collect") as tx:
        tx.write_bytes("findings.csv", b"unit_id,review_status\n")
    with folder.transaction("score") as tx:
        tx.write_bytes("results.json", json.dumps(results, indent=2).encode())
    return path, results


def quarter(year: int, q: int) -> dict[str, str]:
    """The plan period of a calendar quarter."""
    ends = {1: "03-31", 2: "06-30", 3: "09-30", 4: "12-31"}
    return {"start": f"{year}-{3 * q - 2:02d}-01", "end": f"{year}-{ends[q]}"}
