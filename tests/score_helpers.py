"""Build small audit folders for the scoring tests: plan, sampling record, sample, findings.

The files follow the contracts in docs/architecture.md; they are written in one transaction,
as `audit-kit sample` and `audit-kit collect` would leave them.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from audit_kit.findings import FINDINGS_COLUMNS
from audit_kit.folder.manifest import AuditFolder
from audit_kit.folder.sampling_record import SamplingRecord

PLAN: dict[str, Any] = {
    "name": "Scoring test audit",
    "objective": "Coder accuracy and overpayments",
    "sampling_unit": "encounter",
    "columns": {
        "unit_id": "enc_id",
        "coder": "coder_id",
        "provider": "npi",
        "patient": "patient_name",
        "setting": "pos",
        "paid": "paid_amount",
        "dx": "dx_codes",
        "px": "px_codes",
        "cpt": "cpt_codes",
    },
    "design": {"method": "simple"},
    "size": {"n": 10},
    "scoring": {"target_accuracy": 0.90, "confidence": 0.90},
}


def plan_with(**changes: Any) -> dict[str, Any]:
    """Return the base plan with sections changed: scoring, financial, columns are merged,
    anything else (design, size...) replaced."""
    plan = copy.deepcopy(PLAN)
    for key, value in changes.items():
        if key in ("scoring", "financial", "columns") and key in plan:
            plan[key] = {**plan[key], **value}
        else:
            plan[key] = value
    return plan


def unit(
    uid: str,
    *,
    coder: str = "C1",
    dx: str = "I50.20;E11.9",
    px: str = "",
    cpt: str = "",
    paid: float = 100.0,
    stratum: str = "all",
    provider: str = "1234567890",
    setting: str = "11",
    patient: str = "Jane Roe",
    **extra: Any,
) -> dict[str, Any]:
    """One sample.csv row (universe columns under their own names + design columns)."""
    row = {
        "enc_id": uid,
        "coder_id": coder,
        "npi": provider,
        "patient_name": patient,
        "pos": setting,
        "paid_amount": paid,
        "dx_codes": dx,
        "px_codes": px,
        "cpt_codes": cpt,
        "stratum": stratum,
    }
    row.update(extra)
    return row


def finding(
    row: Mapping[str, Any],
    *,
    status: str = "reviewed",
    dx: Sequence[str] | None = None,
    px: Sequence[str] | None = None,
    cpt: Sequence[str] | None = None,
    drg: str | None = None,
    amount: float | None = None,
    category: str = "",
    auditor: str = "A1",
    rationale: str = "",
) -> dict[str, Any]:
    """One findings.csv row; audited codes default to the original ones (pre-filled)."""

    def split(text: str) -> list[str]:
        return [c for c in str(text or "").split(";") if c]

    dx_list = list(dx) if dx is not None else split(row["dx_codes"])
    return {
        "unit_id": row["enc_id"],
        "workbook_id": "WB1",
        "auditor": auditor,
        "review_status": status,
        "audited_principal_dx": dx_list[0] if dx_list else "",
        "audited_other_dx": ";".join(dx_list[1:]),
        "audited_procedures": ";".join(px if px is not None else split(row["px_codes"])),
        "audited_cpt": ";".join(cpt if cpt is not None else split(row["cpt_codes"])),
        "audited_drg": drg if drg is not None else str(row.get("drg", "") or ""),
        "audited_amount": "" if amount is None else amount,
        "error_category": category,
        "rationale": rationale,
        "reference": "",
        "review_date": "2026-11-01",
        "coder_response": "",
        "coder_comment": "",
        "source_sha256": "0" * 64,
        "collected_at": "2026-11-02T10:00:00Z",
    }


def _csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> bytes:
    frame = pl.DataFrame([{k: ("" if v is None else str(v)) for k, v in r.items()} for r in rows])
    if columns is not None:
        frame = frame.select(columns)
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


def make_audit(
    path: Path,
    *,
    plan: Mapping[str, Any],
    populations: Mapping[str, int],
    sample: Sequence[Mapping[str, Any]],
    findings: Sequence[Mapping[str, Any]] | None,
) -> Path:
    """Create an audit folder with plan.yaml, sampling.json, sample.csv (and findings.csv)."""
    folder = AuditFolder.create(path, name=str(plan["name"]))
    rows = []
    counters: dict[str, int] = {}
    for row in sorted(sample, key=lambda r: (r["stratum"], r["enc_id"])):
        counters[row["stratum"]] = counters.get(row["stratum"], 0) + 1
        rows.append(
            {
                **row,
                "frame_number": counters[row["stratum"]],
                "selection_order": counters[row["stratum"]],
                "spare": "false",
            }
        )
    sizes = {name: sum(1 for r in rows if r["stratum"] == name) for name in populations}
    for r in rows:
        r["weight"] = populations[r["stratum"]] / sizes[r["stratum"]]
    sampling = {
        "audit": {"id": folder.audit_id, "name": plan["name"], "plan_sha256": "0" * 64},
        "universe": {
            "file": "universe.csv",
            "sha256": "0" * 64,
            "rows": sum(populations.values()),
            "format": "csv",
            "bytes": 0,
            "read_options": {"encoding": "auto"},
        },
        "frame": {"size": sum(populations.values()), "rows_read": 0, "excluded": [], "filters": []},
        "sampling_unit": plan.get("sampling_unit", "encounter"),
        "design": {"method": plan["design"]["method"], "frame_order": "test", "numbering": "test"},
        "strata": [
            {
                "stratum": name,
                "population": population,
                "sample": sizes[name],
                "census": sizes[name] == population,
                "certainty": False,
                "spares": 0,
                "weight": population / sizes[name] if sizes[name] else 0,
                "definition": {},
            }
            for name, population in populations.items()
        ],
        "sample_size": {"rule": "fixed"},
        "generator": {
            "name": "pcg64",
            "seed": 1,
            "seed_generated": False,
            "seed_used": 1,
            "version": "test",
        },
        "spares": {"per_stratum": 0, "total": 0, "allowed": True, "policy": "test"},
        "pseudonymisation": {
            "enabled": False,
            "columns": [],
            "method": None,
            "key_fingerprint": None,
        },
        "notes": [],
        "tool_version": "test",
        "created_at": "2026-11-01T00:00:00Z",
    }
    # the record sampling writes: the contract refuses anything else
    sampling = SamplingRecord.model_validate(sampling).to_json_dict()
    with folder.transaction("sample") as tx:
        tx.write_text("plan.yaml", yaml.safe_dump(dict(plan), sort_keys=False))
        tx.write_json("sampling.json", sampling)
        tx.write_bytes("sample.csv", _csv(rows))
        if findings is not None:
            tx.write_bytes("findings.csv", _csv(findings, FINDINGS_COLUMNS))
    return path


def score_json(path: Path, **kwargs: Any) -> dict[str, Any]:
    """Score as the CLI does (results.json and results.xlsx); return results.json's content."""
    from audit_kit.reporting.results_workbook import results_workbook_bytes
    from audit_kit.scoring import score_audit

    return score_audit(path, results_workbook=results_workbook_bytes, **kwargs).to_json_dict()
