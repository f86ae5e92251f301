"""A realistic audit folder for report tests and benchmarks, scored by audit-kit itself.

``make_audit`` writes a plan, a sampling record, a sample.csv with patient names (PHI that must
never reach a PDF) and findings.csv, then runs the real scoring on them: every number a report
shows comes from :func:`audit_kit.scoring.score_audit`, not from a re-implementation.
``make_results`` does the same in a scratch folder and returns results.json's content;
``make_sampling`` is the matching sampling record (the contract's keys).
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

import score_helpers

from audit_kit.folder.manifest import AuditFolder
from audit_kit.folder.sampling_record import SamplingRecord

#: Patient names written to sample.csv only; a test checks none of them reaches a PDF.
PATIENT_NAMES = (
    "Zebulon Quartermaine",
    "Philippa Vandersloot",
    "Ignatius Wolfenbarger",
    "Marguerite Oyelaran",
    "Thaddeus Brightwater",
)
CATEGORIES = ("coding", "documentation", "medical necessity", "other")
DX_POOL = ("E11.9", "I10", "E78.5", "N18.3", "J44.1", "I50.9", "E66.9", "Z79.4", "K21.9", "F32.9")
CPT_POOL = ("99213", "99214", "99215", "93000", "36415", "80053", "71046", "99232")
PX_POOL = ("0DJ08ZZ", "02HV33Z", "0BH17EZ", "3E0234Z")
RATIONALES = (
    "Documentation supports {new} rather than {old}; the progress note states the condition "
    "is controlled without complications.",
    "Medical decision making is moderate, not high: one chronic illness with exacerbation and "
    "prescription drug management.",
    "{old} is not supported by provider documentation; query not answered before the claim "
    "dropped.",
    "Sequencing: the condition chiefly responsible for the admission is {new}.",
)
REFERENCES = (
    "ICD-10-CM Official Guidelines I.A.19",
    "CPT 2026 E/M guidelines, MDM table",
    "Coding Clinic 2Q 2024 p. 12",
    "ICD-10-CM Official Guidelines II.B",
)
AUDIT_NAME = "Q3 2026 inpatient coder review"


def _coder_names(n: int) -> list[str]:
    return [f"C{i + 1:03d}" for i in range(n)]


def make_units(
    *,
    coders: int,
    units_per_coder: int,
    error_rate: float,
    seed: int,
    unscored_coders: int = 0,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Simulate sample.csv rows and the auditors' findings for them (seeded).

    The first unit of the last scored coder has its record missing; the last
    ``unscored_coders`` coders' units are all "not reviewed" (returned, nothing scored).
    """
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    found: list[dict[str, Any]] = []
    for ci, coder in enumerate(_coder_names(coders)):
        # Coders differ: some well above the target, some below.
        coder_rate = min(0.9, error_rate * (0.2 + 1.6 * (ci % 5) / 4))
        for j in range(units_per_coder):
            dx = rng.sample(DX_POOL, rng.randint(2, 5))
            cpt = rng.sample(CPT_POOL, rng.randint(1, 3))
            px = rng.sample(PX_POOL, rng.randint(0, 1))
            paid = round(2.718281828 ** rng.gauss(6.5, 0.9), 2)
            row = score_helpers.unit(
                f"ENC-{ci + 1:03d}{j + 1:04d}",
                coder=coder,
                dx=";".join(dx),
                px=";".join(px),
                cpt=";".join(cpt),
                paid=paid,
                stratum=coder,
                provider=f"P{ci % 7 + 1:02d}",
                setting="inpatient",
                patient=PATIENT_NAMES[(ci + j) % len(PATIENT_NAMES)],
            )
            rows.append(row)
            auditor = ("ann", "bob", "cyd")[ci % 3]
            if ci >= coders - unscored_coders:
                found.append(score_helpers.finding(row, auditor=auditor, status="not reviewed"))
                continue
            if ci == coders - unscored_coders - 1 and j == 0:
                missing = score_helpers.finding(
                    row, auditor=auditor, status="record missing", dx=[], cpt=[], px=[]
                )
                missing["rationale"] = "record missing: no code is supported"
                found.append(missing)
                continue
            if rng.random() >= coder_rate:
                found.append(score_helpers.finding(row, auditor=auditor, amount=paid))
                continue
            a_dx, a_cpt = list(dx), list(cpt)
            kind = rng.randrange(3)
            if kind == 0:
                new = rng.choice([d for d in DX_POOL if d not in dx])
                old, a_dx[-1] = a_dx[-1], new
            elif kind == 1:
                old = a_cpt[0]
                new = "99213" if old != "99213" else "99212"
                a_cpt[0] = new
            else:
                old = new = a_dx.pop()
            over = rng.random() < 0.7
            difference = round(paid * rng.uniform(0.05, 0.6) * (1 if over else -1), 2)
            finding = score_helpers.finding(
                row,
                auditor=auditor,
                dx=a_dx,
                cpt=a_cpt,
                amount=round(paid - difference, 2),
                category=rng.choices(CATEGORIES, weights=(6, 3, 1.5, 0.5))[0],
                rationale=rng.choice(RATIONALES).format(old=old, new=new),
            )
            finding["reference"] = rng.choice(REFERENCES)
            found.append(finding)
    return rows, found


def make_sampling(
    *, coders: int, units_per_coder: int, generator: str = "ratstats", audit_id: str = "AK-TEST"
) -> dict[str, Any]:
    """A sampling record as `audit-kit sample` writes it (checked against the contract)."""
    strata = [
        {
            "stratum": name,
            "population": units_per_coder * 12 + i,
            "sample": units_per_coder,
            "census": False,
            "certainty": False,
            "spares": 0,
            "weight": (units_per_coder * 12 + i) / units_per_coder,
            "definition": {"by": {"coder": name}},
        }
        for i, name in enumerate(_coder_names(coders))
    ]
    gen: dict[str, Any] = {
        "name": generator,
        "seed": 20261127,
        "seed_generated": False,
        "seed_used": 20261127,
        "version": "1",
    }
    if generator == "ratstats":
        gen["wh_seeds"] = [22684, 11141, 1666]
    record = {
        "audit": {
            "id": audit_id,
            "name": AUDIT_NAME,
            "objective": "Coding accuracy per coder; net financial impact.",
            "plan_sha256": "cd" * 32,
        },
        "universe": {
            "file": "encounters_2026q3.csv",
            "sha256": "ab" * 32,
            "rows": sum(int(s["population"]) for s in strata) + 57,
            "format": "csv",
            "bytes": 1_000_000,
            "read_options": {"encoding": "auto"},
        },
        "frame": {
            "size": sum(int(s["population"]) for s in strata),
            "rows_read": sum(int(s["population"]) for s in strata) + 57,
            "excluded": [
                {"filter": "paid > 0", "rows": 41},
                {"filter": "setting in ['inpatient']", "rows": 16},
            ],
            "filters": ["paid > 0", "setting in ['inpatient']"],
        },
        "sampling_unit": "encounter",
        "design": {
            "method": "stratified",
            "frame_order": "unit ids compared as text",
            "numbering": "1..N_h in unit-id order within each stratum",
            "strata": {"by": ["coder"]},
        },
        "strata": strata,
        "sample_size": {
            "rule": "per_stratum",
            "per_stratum": units_per_coder,
            "rationale": "fixed by the quarterly per-coder review preset",
        },
        "generator": gen,
        "spares": {
            "per_stratum": 0,
            "total": 0,
            "allowed": False,
            "policy": "no spares; a unit without a record counts as an error",
        },
        "pseudonymisation": {
            "enabled": False,
            "columns": [],
            "method": None,
            "key_fingerprint": None,
        },
        "notes": [],
        "tool_version": "0.1.0",
        "created_at": "2026-10-01T09:00:00Z",
    }
    return SamplingRecord.model_validate(record).to_json_dict()


def _plan(*, units_per_coder: int, target: float, confidence: float, rule: str) -> dict[str, Any]:
    return score_helpers.plan_with(
        name=AUDIT_NAME,
        organisation="Riverside Community Hospital",
        period="2026-07-01 to 2026-09-30",
        design={"method": "stratified", "strata": {"by": ["coder"]}},
        size={"per_stratum": units_per_coder},
        scoring={"target_accuracy": target, "confidence": confidence},
        financial={"demand_rule": rule},
    )


def make_audit(
    path: Path,
    *,
    coders: int = 3,
    units_per_coder: int = 10,
    error_rate: float = 0.2,
    seed: int = 1,
    target: float = 0.95,
    confidence: float = 0.95,
    demand_rule: str = "cms_one_sided_90",
    with_sampling_txt: bool = True,
    unscored_coders: int = 0,
    mutate: Any = None,
) -> tuple[Path, dict[str, Any]]:
    """Create an audit folder with sample and findings, score it; return (path, results).

    ``mutate(results)`` may edit the scored results, which are then written again (a
    results.json from elsewhere: the reports must refuse what they cannot render).
    """
    rows, found = make_units(
        coders=coders,
        units_per_coder=units_per_coder,
        error_rate=error_rate,
        seed=seed,
        unscored_coders=unscored_coders,
    )
    plan = _plan(
        units_per_coder=units_per_coder, target=target, confidence=confidence, rule=demand_rule
    )
    populations = {name: units_per_coder * 12 + i for i, name in enumerate(_coder_names(coders))}
    score_helpers.make_audit(path, plan=plan, populations=populations, sample=rows, findings=found)
    folder = AuditFolder.open(path)
    sampling = make_sampling(
        coders=coders, units_per_coder=units_per_coder, audit_id=folder.audit_id
    )
    with folder.transaction("sample") as tx:
        tx.write_json("sampling.json", sampling)
        if with_sampling_txt:
            tx.write_text(
                "sampling.txt",
                "SAMPLING STATEMENT\nUniverse encounters_2026q3.csv, stratified by coder, "
                f"{units_per_coder} per stratum, generator ratstats seed 20261127.\n",
            )
    results = score_helpers.score_json(path)
    if mutate is not None:
        mutate(results)
        with AuditFolder.open(path).transaction("score") as tx:
            tx.write_bytes("results.json", json.dumps(results, indent=2).encode())
    return path, results


def make_results(
    *,
    coders: int = 3,
    units_per_coder: int = 10,
    error_rate: float = 0.2,
    seed: int = 1,
    target: float = 0.95,
    confidence: float = 0.95,
    demand_rule: str = "cms_one_sided_90",
    findings_sha256: str | None = None,
    audit_id: str | None = None,
    sampling: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score a generated audit in a scratch folder; return results.json's content.

    ``audit_id`` and ``findings_sha256`` freeze those values (for snapshots); ``sampling``
    replaces the embedded sampling record.
    """
    with tempfile.TemporaryDirectory() as scratch:
        _, results = make_audit(
            Path(scratch) / "audit",
            coders=coders,
            units_per_coder=units_per_coder,
            error_rate=error_rate,
            seed=seed,
            target=target,
            confidence=confidence,
            demand_rule=demand_rule,
        )
    if audit_id is not None:
        results["audit"]["id"] = audit_id
    if findings_sha256 is not None:
        results["audit"]["findings_sha256"] = findings_sha256
    results["audit"]["scored_at"] = "2026-11-27T10:00:00Z"
    if sampling is not None:
        results["sampling"] = sampling
    return results
