"""A realistic audit folder for report tests and benchmarks, following docs/architecture.md.

``make_results`` builds a results.json document as scoring.py is specified to write it (with
plausible statistics: Clopper-Pearson limits, a t-based dollar extrapolation), ``make_sampling``
the matching sampling record, and ``make_audit`` an audit folder holding both, plus a sample.csv
with patient names (PHI that must never reach a PDF) and a findings.csv whose hash is the
``findings_sha256`` printed in every footer.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import random
from pathlib import Path
from typing import Any

import polars as pl
from scipy import stats as sps

from audit_kit.folder.manifest import AuditFolder

#: Patient names written to sample.csv only; a test checks none of them reaches a PDF.
PATIENT_NAMES = (
    "Zebulon Quartermaine",
    "Philippa Vandersloot",
    "Ignatius Wolfenbarger",
    "Marguerite Oyelaran",
    "Thaddeus Brightwater",
)
SCORED_AT = "2026-11-27T10:00:00Z"
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


def _cp(successes: int, trials: int, confidence: float) -> tuple[float, float]:
    alpha = 1 - confidence
    lower = (
        0.0 if successes == 0 else float(sps.beta.ppf(alpha / 2, successes, trials - successes + 1))
    )
    upper = (
        1.0
        if successes == trials
        else float(sps.beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    )
    return lower, upper


def _interval(successes: int, trials: int, confidence: float) -> dict[str, Any]:
    lower, upper = _cp(successes, trials, confidence)
    return {
        "value": successes / trials if trials else None,
        "lower": lower,
        "upper": upper,
        "confidence": confidence,
        "method": "Clopper-Pearson (exact binomial)",
    }


def _verdict(interval: dict[str, Any], target: float) -> str:
    if interval["lower"] >= target:
        return "meets"
    if interval["upper"] < target:
        return "below"
    return "inconclusive"


def _group(units: list[dict[str, Any]], target: float, confidence: float) -> dict[str, Any]:
    n = len(units)
    with_error = sum(1 for u in units if u["error"])
    codes = {k: sum(u["codes"][k] for u in units) for k in ("kept", "added", "deleted", "revised")}
    codes["principal_dx_changed"] = sum(u["codes"]["principal_dx_changed"] for u in units)
    codes["sequencing_changed"] = sum(u["codes"]["sequencing_changed"] for u in units)
    codes["reviewed"] = codes["kept"] + codes["added"] + codes["deleted"] - codes["revised"]
    codes["correct"] = codes["kept"]
    record = _interval(n - with_error, n, confidence)
    code = _interval(codes["correct"], codes["reviewed"], confidence)
    examined = sum(u["examined"] for u in units)
    audited = sum(u["audited_amount"] for u in units)
    over = sum(max(u["difference"], 0.0) for u in units)
    under = sum(max(-u["difference"], 0.0) for u in units)
    return {
        "units_reviewed": n,
        "units_with_error": with_error,
        "units_not_reviewed": 0,
        "record_accuracy": record,
        "code_accuracy": code,
        "drg_accuracy": None,
        "financial_accuracy": _interval(
            sum(1 for u in units if abs(u["difference"]) < 0.005), n, confidence
        ),
        "dollar_accuracy": 1 - sum(abs(u["difference"]) for u in units) / examined,
        "verdict": _verdict(code, target),
        "codes": codes,
        "financial": {
            "examined": round(examined, 2),
            "audited": round(audited, 2),
            "overpayment": round(over, 2),
            "underpayment": round(under, 2),
            "net": round(over - under, 2),
            "gross": round(over + under, 2),
        },
        "extrapolation": None,
    }


def _extrapolation(diffs: list[float], population: int, rule: str) -> dict[str, Any]:
    n = len(diffs)
    mean = sum(diffs) / n
    m2 = sum((d - mean) ** 2 for d in diffs) / n
    m3 = sum((d - mean) ** 3 for d in diffs) / n
    m4 = sum((d - mean) ** 4 for d in diffs) / n
    sd = math.sqrt(m2 * n / (n - 1))
    se_mean = sd / math.sqrt(n) * math.sqrt((population - n) / population)
    se_total = population * se_mean
    point = population * mean
    limits = {}
    for level in ("80", "90", "95"):
        t = float(sps.t.ppf((1 + int(level) / 100) / 2, n - 1))
        precision = t * se_total
        limits[level] = {
            "lower": point - precision,
            "upper": point + precision,
            "precision": precision,
            "precision_percent": 100 * precision / point if mean > 0 else 0.0,
            "critical_value": t,
        }
    demand = {
        "point_estimate": point,
        "cms_one_sided_90": limits["80"]["lower"],
        "oig_two_sided_90": limits["90"]["lower"],
    }[rule]
    errors = sum(1 for d in diffs if abs(d) >= 0.005)
    rate = errors / n
    se_rate = math.sqrt(rate * (1 - rate) / (n - 1) * (1 - n / population))
    att_limits = {}
    for level in ("80", "90", "95"):
        z = float(sps.norm.ppf((1 + int(level) / 100) / 2))
        lo, hi = max(rate - z * se_rate, 0.0), min(rate + z * se_rate, 1.0)
        att_limits[level] = {
            "lower": math.floor(lo * population),
            "upper": math.ceil(hi * population),
            "lower_rate": lo,
            "upper_rate": hi,
        }
    return {
        "measure": "difference",
        "netting": "net",
        "population": population,
        "sample": n,
        "point_estimate": point,
        "se_total": se_total,
        "limits": limits,
        "one_sided_90_lower": limits["80"]["lower"],
        "two_sided_90_lower": limits["90"]["lower"],
        "demand_rule": rule,
        "demand_amount": demand,
        "demand_reason": "Plan demand_rule; CMS PIM ch. 8 for a post-payment review.",
        "critical_value_rule": "ratstats",
        "skewness": m3 / m2**1.5 if m2 > 0 else 0.0,
        "kurtosis": m4 / m2**2 if m2 > 0 else 0.0,
        "mean": mean,
        "sd": sd,
        "nonzero": errors,
        "error_rate": {
            "population": population,
            "sample": n,
            "errors": errors,
            "rate": rate,
            "quantity": rate * population,
            "se_rate": se_rate,
            "se_quantity": se_rate * population,
            "limits": att_limits,
        },
    }


def _coder_names(n: int) -> list[str]:
    return [f"C{i + 1:03d}" for i in range(n)]


def make_units(
    *, coders: int, units_per_coder: int, error_rate: float, seed: int
) -> list[dict[str, Any]]:
    """Simulate scored units: codes, amounts and findings (no patient field among them)."""
    rng = random.Random(seed)
    units = []
    for ci, coder in enumerate(_coder_names(coders)):
        # Coders differ: some well above the target, some below.
        coder_rate = min(0.9, error_rate * (0.2 + 1.6 * (ci % 5) / 4))
        for j in range(units_per_coder):
            unit_id = f"ENC-{ci + 1:03d}{j + 1:04d}"
            dx = rng.sample(DX_POOL, rng.randint(2, 5))
            cpt = rng.sample(CPT_POOL, rng.randint(1, 3))
            px = rng.sample(PX_POOL, rng.randint(0, 1))
            examined = round(math.exp(rng.gauss(6.5, 0.9)), 2)
            error = rng.random() < coder_rate
            a_dx, a_cpt = list(dx), list(cpt)
            changes: dict[str, Any] = {
                "added": [],
                "deleted": [],
                "revised": [],
                "principal_dx_changed": False,
                "sequencing_changed": False,
            }
            counts = {"added": 0, "deleted": 0, "revised": 0}
            difference = 0.0
            category = None
            rationale = reference = ""
            if error:
                kind = rng.randrange(3)
                if kind == 0:
                    new = rng.choice([d for d in DX_POOL if d not in dx])
                    old = a_dx[-1]
                    a_dx[-1] = new
                    changes["revised"].append([old, new])
                    counts["revised"] = 1
                    counts["added"] = counts["deleted"] = 1
                elif kind == 1:
                    old = a_cpt[0]
                    new = "99213" if old != "99213" else "99212"
                    a_cpt[0] = new
                    changes["revised"].append([old, new])
                    counts["revised"] = counts["added"] = counts["deleted"] = 1
                else:
                    old = a_dx.pop()
                    new = old
                    changes["deleted"].append(old)
                    counts["deleted"] = 1
                if rng.random() < 0.15:
                    changes["principal_dx_changed"] = True
                over = rng.random() < 0.7
                share = rng.uniform(0.05, 0.6)
                difference = round(examined * share * (1 if over else -1), 2)
                category = rng.choices(CATEGORIES, weights=(6, 3, 1.5, 0.5))[0]
                rationale = rng.choice(RATIONALES).format(old=old, new=new)
                reference = rng.choice(REFERENCES)
            kept = len(dx) + len(cpt) + len(px) - counts["deleted"]
            units.append(
                {
                    "unit_id": unit_id,
                    "coder": coder,
                    "provider": f"P{ci % 7 + 1:02d}",
                    "auditor": ("ann", "bob", "cyd")[ci % 3],
                    "stratum": coder,
                    "error": error,
                    "category": category,
                    "original": {"dx": dx, "px": px, "cpt": cpt, "drg": None},
                    "audited": {"dx": a_dx, "px": px, "cpt": a_cpt, "drg": None},
                    "changes": changes,
                    "codes": {
                        "kept": kept,
                        "added": counts["added"],
                        "deleted": counts["deleted"],
                        "revised": counts["revised"],
                        "principal_dx_changed": int(changes["principal_dx_changed"]),
                        "sequencing_changed": 0,
                    },
                    "examined": examined,
                    "audited_amount": round(examined - difference, 2),
                    "difference": difference,
                    "rationale": rationale,
                    "reference": reference,
                }
            )
    return units


def make_sampling(
    *, coders: int, units_per_coder: int, generator: str = "ratstats", audit_id: str = "AK-TEST"
) -> dict[str, Any]:
    """A sampling record with the stable keys of SPEC 4.4."""
    strata = [
        {
            "stratum": name,
            "population": units_per_coder * 12 + i,
            "sample": units_per_coder,
            "census": False,
            "certainty": False,
        }
        for i, name in enumerate(_coder_names(coders))
    ]
    gen: dict[str, Any] = {
        "name": generator,
        "version": "1",
        "seed": 20261127,
        "seed_used": 20261127,
    }
    if generator == "ratstats":
        gen["wh_seeds"] = [22684, 11141, 1666]
    return {
        "audit": {
            "id": audit_id,
            "name": "Q3 2026 inpatient coder review",
            "objective": "Coding accuracy per coder; net financial impact.",
        },
        "universe": {
            "file": "encounters_2026q3.csv",
            "sha256": "ab" * 32,
            "rows": sum(s["population"] for s in strata) + 57,
        },
        "frame": {
            "size": sum(s["population"] for s in strata),
            "excluded": [
                {"filter": "paid > 0", "rows": 41},
                {"filter": "setting in ['inpatient']", "rows": 16},
            ],
        },
        "sampling_unit": "encounter",
        "design": {"method": "stratified", "strata": {"by": ["coder"]}},
        "strata": strata,
        "sample_size": {
            "rule": "per_stratum",
            "per_stratum": units_per_coder,
            "rationale": "fixed by the quarterly per-coder review preset",
        },
        "generator": gen,
        "spares": {"count": 0, "policy": "no spares; a unit without a record counts as an error"},
        "tool_version": "0.1.0",
        "created_at": "2026-10-01T09:00:00Z",
    }


def make_results(
    *,
    coders: int = 3,
    units_per_coder: int = 10,
    error_rate: float = 0.2,
    seed: int = 1,
    target: float = 0.95,
    confidence: float = 0.95,
    demand_rule: str = "cms_one_sided_90",
    findings_sha256: str = "0" * 64,
    audit_id: str = "AK-TEST",
    sampling: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A results.json document per the contract in docs/architecture.md."""
    units = make_units(
        coders=coders, units_per_coder=units_per_coder, error_rate=error_rate, seed=seed
    )
    sampling = sampling or make_sampling(
        coders=coders, units_per_coder=units_per_coder, audit_id=audit_id
    )
    population = sampling["frame"]["size"]

    def by(key: str) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for u in units:
            out.setdefault(u[key], []).append(u)
        return out

    overall = _group(units, target, confidence)
    overall["extrapolation"] = _extrapolation(
        [u["difference"] for u in units], population, demand_rule
    )
    coder_groups = [
        {"coder": name, **_group(us, target, confidence)}
        for name, us in sorted(by("coder").items())
    ]
    strata_groups = [
        {
            "stratum": name,
            "population": s["population"],
            "sample": s["sample"],
            **_group(by("stratum")[name], target, confidence),
        }
        for s in sampling["strata"]
        for name in [s["stratum"]]
    ]
    errors = [u for u in units if u["error"]]
    if errors:  # one record the auditor could not get: an error with every code deleted
        missing = errors[-1]
        missing["status"] = "record missing"
        missing["audited"] = {"dx": [], "px": [], "cpt": [], "drg": None}
        missing["changes"] = {
            "added": [],
            "deleted": missing["original"]["dx"] + missing["original"]["cpt"],
            "revised": [],
            "principal_dx_changed": False,
            "sequencing_changed": False,
        }
        missing["rationale"] = "Record not provided after two requests."
    cats = []
    cumulative = 0
    total_errors = len(errors) or 1
    for cat in sorted(CATEGORIES, key=lambda c: -sum(1 for e in errors if e["category"] == c)):
        members = [e for e in errors if e["category"] == cat]
        if not members:
            continue
        cumulative += len(members)
        over = sum(max(e["difference"], 0) for e in members)
        under = sum(max(-e["difference"], 0) for e in members)
        cats.append(
            {
                "category": cat,
                "units": len(members),
                "share": len(members) / total_errors,
                "cumulative_share": cumulative / total_errors,
                "overpayment": round(over, 2),
                "underpayment": round(under, 2),
                "net": round(over - under, 2),
            }
        )
    return {
        "audit": {
            "id": audit_id,
            "name": "Q3 2026 inpatient coder review",
            "objective": "Coding accuracy per coder; net financial impact.",
            "organisation": "Riverside Community Hospital",
            "period": "2026-07-01 to 2026-09-30",
            "sampling_unit": "encounter",
            "preset": "quarterly_coder_review",
            "tool_version": "0.1.0",
            "scored_at": SCORED_AT,
            "findings_sha256": findings_sha256,
        },
        "settings": {
            "target_accuracy": target,
            "confidence": confidence,
            "netting": "net",
            "demand_rule": demand_rule,
            "basis": "entered",
            "critical_value_rule": "ratstats",
        },
        "progress": {
            "units_sampled": len(units),
            "units_returned": len(units),
            "units_reviewed": len(units),
            "units_record_missing": 0,
            "units_not_reviewed": 0,
        },
        "overall": overall,
        "coders": coder_groups,
        "providers": [
            {"provider": k, **_group(v, target, confidence)}
            for k, v in sorted(by("provider").items())
        ],
        "auditors": [
            {"auditor": k, **_group(v, target, confidence)}
            for k, v in sorted(by("auditor").items())
        ],
        "settings_groups": [],
        "strata": strata_groups,
        "categories": cats,
        "errors": [
            {
                "unit_id": e["unit_id"],
                "coder": e["coder"],
                "provider": e["provider"],
                "auditor": e["auditor"],
                "stratum": e["stratum"],
                "status": e.get("status", "reviewed"),
                "category": e["category"],
                "original": e["original"],
                "audited": e["audited"],
                "changes": e["changes"],
                "examined": e["examined"],
                "audited_amount": e["audited_amount"],
                "difference": e["difference"],
                "rationale": e["rationale"],
                "reference": e["reference"],
            }
            for e in errors
        ],
        "sampling": sampling,
    }


def _sample_csv(results: dict[str, Any], units_per_coder: int) -> bytes:
    rows = []
    for ci, group in enumerate(results["coders"]):
        for j in range(units_per_coder):
            rows.append(
                {
                    "encounter_id": f"ENC-{ci + 1:03d}{j + 1:04d}",
                    "coder_id": group["coder"],
                    "patient_name": PATIENT_NAMES[(ci + j) % len(PATIENT_NAMES)],
                    "paid_amount": 100.0 + j,
                    "stratum": group["coder"],
                    "frame_number": j + 1,
                    "selection_order": j + 1,
                    "spare": False,
                    "weight": 12.0,
                }
            )
    buffer = io.BytesIO()
    pl.DataFrame(rows).write_csv(buffer)
    return buffer.getvalue()


def make_audit(
    path: Path,
    *,
    results: dict[str, Any] | None = None,
    coders: int = 3,
    units_per_coder: int = 10,
    error_rate: float = 0.2,
    seed: int = 1,
    with_sampling_txt: bool = True,
    mutate: Any = None,
) -> tuple[Path, dict[str, Any]]:
    """Create an audit folder with sample, findings and results; return (path, results).

    ``mutate(results)`` may edit the generated results before they are written.
    """
    folder = AuditFolder.create(path, name="Q3 2026 inpatient coder review")
    sampling = make_sampling(
        coders=coders, units_per_coder=units_per_coder, audit_id=folder.audit_id
    )
    findings = b"unit_id,review_status,rationale\n" + b"".join(
        f"ENC-{i:07d},reviewed,\n".encode() for i in range(coders * units_per_coder)
    )
    findings_sha = hashlib.sha256(findings).hexdigest()
    if results is None:
        results = make_results(
            coders=coders,
            units_per_coder=units_per_coder,
            error_rate=error_rate,
            seed=seed,
            findings_sha256=findings_sha,
            audit_id=folder.audit_id,
            sampling=sampling,
        )
    if mutate is not None:
        mutate(results)
    with folder.transaction("sample") as tx:
        tx.write_text(
            "plan.yaml", "name: Q3 2026 inpatient coder review\ncolumns:\n  patient: patient_name\n"
        )
        tx.write_json("sampling.json", sampling)
        if with_sampling_txt:
            tx.write_text(
                "sampling.txt",
                "SAMPLING STATEMENT\nUniverse encounters_2026q3.csv, stratified by coder, "
                f"{units_per_coder} per stratum, generator ratstats seed 20261127.\n",
            )
        tx.write_bytes("sample.csv", _sample_csv(results, units_per_coder))
    with folder.transaction("collect") as tx:
        tx.write_bytes("findings.csv", findings)
    with folder.transaction("score") as tx:
        tx.write_bytes("results.json", json.dumps(results, indent=2).encode())
    return folder.path, results
