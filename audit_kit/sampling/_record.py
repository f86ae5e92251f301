"""The sampling record: results of a draw, sampling.json and the sampling statement."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from audit_kit._version import __version__
from audit_kit.plan import SamplingPlan

if TYPE_CHECKING:
    from audit_kit.sampling._select import Drawn

Progress = Callable[[str], None]

#: Columns sampling adds to the universe columns in sample.csv.
DESIGN_COLUMNS = ("stratum", "frame_number", "selection_order", "spare", "weight")
SIMPLE_LABEL = "all"
RATSTATS_CAVEAT = (
    "RAT-STATS seeds its generator through Visual Basic's Randomize, which keeps only 16 bits "
    "of the seed: there are at most 65,536 distinct random-number streams, and different seeds "
    "can give the same sample (e.g. seeds 4194304 to 4194307)."
)
STREAM_RULE = (
    'Each stratum draws from its own stream seeded with SHA-256("<seed used>|<stratum label>"): '
    "the first 8 bytes as a big-endian integer; for ratstats reduced to 1..999,999,999 "
    "(mod 999,999,999, plus 1), a seed RAT-STATS accepts. Strata taken in full draw nothing."
)
ORDER_NUMERIC = "unit ids compared as whole numbers (every unit id is a number)"
ORDER_TEXT = "unit ids compared as text, character by character (Unicode code-point order)"
SPARE_POLICY = (
    "Spares are drawn after the sample in each stratum and listed in the order drawn. A spare "
    "replaces a sampled unit only when that unit is outside the universe's definition (for "
    "example a voided claim), the first unused spare of the same stratum first; a missing record "
    "is not replaced (it is an error). Every replacement is documented."
)


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Stratum:
    """One stratum as drawn: sizes, how it was drawn, and the frame numbers in draw order."""

    label: str
    population: int
    sample: int
    spares: int
    census: bool
    certainty: bool
    seed: int | float | None
    wh_seeds: tuple[int, int, int] | None
    definition: dict[str, Any]
    frame_numbers: tuple[int, ...] = field(repr=False)

    @property
    def weight(self) -> float:
        return self.population / self.sample if self.sample else 0.0

    def to_record(self) -> dict[str, Any]:
        """The stratum's entry in sampling.json."""
        out: dict[str, Any] = {
            "stratum": self.label,
            "population": self.population,
            "sample": self.sample,
            "census": self.census,
            "certainty": self.certainty,
            "spares": self.spares,
            "weight": self.weight,
            "definition": self.definition,
            "seed_used": self.seed,
        }
        if self.wh_seeds is not None:
            out["wh_seeds"] = list(self.wh_seeds)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleSummary:
    """What `audit-kit sample` did: sizes, seed, where the files are."""

    audit_dir: Path
    audit_id: str
    plan_name: str
    universe_file: str
    universe_rows: int
    population: int
    sample_size: int
    spares: int
    strata: tuple[Stratum, ...]
    generator: str
    seed: int | float
    seed_generated: bool
    excluded: tuple[tuple[str, int], ...]
    files: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "audit_dir": str(self.audit_dir),
            "audit_id": self.audit_id,
            "plan": self.plan_name,
            "universe": {"file": self.universe_file, "rows": self.universe_rows},
            "population": self.population,
            "sample_size": self.sample_size,
            "spares": self.spares,
            "strata": [
                {
                    "stratum": s.label,
                    "population": s.population,
                    "sample": s.sample,
                    "spares": s.spares,
                    "census": s.census,
                    "certainty": s.certainty,
                }
                for s in self.strata
            ],
            "generator": self.generator,
            "seed": self.seed,
            "seed_generated": self.seed_generated,
            "excluded": [{"filter": f, "rows": r} for f, r in self.excluded],
            "files": list(self.files),
            "notes": list(self.notes),
            "next": f"audit-kit workbooks {self.audit_dir}",
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    """Outcome of `audit-kit verify`: hashes checked, and whether the sample was re-drawn."""

    audit_dir: Path
    audit_id: str
    files_checked: int
    redrawn: bool
    units: int | None = None
    strata: int | None = None
    universe_file: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "audit_dir": str(self.audit_dir),
            "audit_id": self.audit_id,
            "ok": True,
            "files_checked": self.files_checked,
            "hashes_ok": True,
            "redrawn": self.redrawn,
            "sample_identical": True if self.redrawn else None,
            "units": self.units,
            "strata": self.strata,
            "universe": self.universe_file,
            "notes": list(self.notes),
        }


# -- records ---------------------------------------------------------------------------------


def sampling_record(
    plan: SamplingPlan,
    drawn: Drawn,
    *,
    audit_id: str,
    seed: int | float,
    generated: bool,
    plan_sha: str,
    fingerprint: str | None,
    read_options: dict[str, Any],
    created_at: str,
) -> dict[str, Any]:
    design: dict[str, Any] = {
        "method": plan.design.method,
        "frame_order": drawn.frame.order_rule,
        "numbering": "1..N_h in unit-id order within each stratum",
    }
    strata_def = plan.design.strata
    if strata_def is not None:
        design["strata"] = strata_def.model_dump(mode="json", exclude_defaults=True)
    spares_total = sum(s.spares for s in drawn.strata)
    record: dict[str, Any] = {
        "audit": {
            "id": audit_id,
            "name": plan.name,
            "objective": plan.objective,
            "organisation": plan.organisation,
            "period": plan.period_label,
            "preset": plan.preset,
            "plan_sha256": plan_sha,
        },
        "universe": {**drawn.universe.describe(), "read_options": read_options},
        "frame": {
            "size": sum(s.population for s in drawn.strata),
            "rows_read": drawn.frame.file_rows,
            "excluded": drawn.frame.excluded,
            "filters": [f.describe() for f in plan.frame.filters],
        },
        "sampling_unit": plan.sampling_unit,
        "design": design,
        "strata": [s.to_record() for s in drawn.strata],
        "sample_size": drawn.sizes.record,
        "generator": {
            "name": drawn.generator["name"],
            "seed": seed,
            "seed_generated": generated,
            **{k: v for k, v in drawn.generator.items() if k != "name"},
        },
        "spares": {
            "per_stratum": plan.spares,
            "total": spares_total,
            "allowed": plan.spares_allowed,
            "policy": SPARE_POLICY
            if plan.spares_allowed
            else "Spares are not allowed by this "
            "plan (spares_allowed: false): the sample is reviewed exactly as drawn.",
        },
        "pseudonymisation": {
            "enabled": plan.pseudonymise,
            "columns": plan.columns.phi_columns() if plan.pseudonymise else [],
            "method": "HMAC-SHA256, key outside the audit folder" if plan.pseudonymise else None,
            "key_fingerprint": fingerprint,
        },
        "notes": [*plan.migration_notes, *drawn.notes, *drawn.universe.notes],
        "tool_version": __version__,
        "created_at": created_at,
    }
    return record


def sampling_statement(plan: SamplingPlan, record: dict[str, Any], drawn: Drawn) -> str:
    """The human sampling statement (methodology appendix of the report)."""
    uni = record["universe"]
    frame = record["frame"]
    gen = record["generator"]
    n = record["sample_size"]["n"]
    lines = [
        f"SAMPLING STATEMENT -- {plan.name}",
        "",
        f"Audit {record['audit']['id']}. Objective: {plan.objective or 'not stated'}.",
        f"Sampling unit: {plan.sampling_unit}.",
        "",
        "Universe and frame",
        f"  The universe is the file {uni['file']} (SHA-256 {uni['sha256']}), {uni['rows']:,} rows."
        if uni.get("engine") is None
        else f"  The universe is the {_relation(uni)} in {uni['url']} ({uni['engine_version']}), "
        f"{uni['rows']:,} rows, read in {uni['consistency']}; content fingerprint "
        f"{uni.get('fingerprint', {}).get('digest')} (per-stratum md5 slice sums, computed in "
        "the engine).",
    ]
    for item in frame["excluded"]:
        lines.append(f"  Excluded by the filter '{item['filter']}': {item['rows']:,} rows.")
    lines += [
        f"  The sampling frame has N = {frame['size']:,} units. They were sorted by unit id "
        f"({record['design']['frame_order']}) and numbered 1..N"
        + ("_h within each stratum." if plan.design.method == "stratified" else "."),
        "",
        "Design and sample size",
    ]
    if plan.design.method == "simple":
        lines.append(f"  Simple random sample without replacement of n = {n:,} units.")
    else:
        lines.append(
            f"  Stratified random sample without replacement, {len(drawn.strata)} strata, "
            f"n = {n:,} units in total."
        )
    lines.append(f"  Sample size: {record['sample_size'].get('rationale', '')}.")
    lines += ["", f"  {'Stratum':<40} {'N_h':>10} {'n_h':>8} {'spares':>7}  note"]
    for s in drawn.strata:
        note = "certainty (all units)" if s.certainty else "census" if s.census else ""
        lines.append(
            f"  {s.label[:40]:<40} {s.population:>10,} {s.sample:>8,} {s.spares:>7}  {note}"
        )
    lines += ["", "Random numbers"]
    if gen["name"] == "ratstats":
        lines.append(
            "  Generator: RAT-STATS 2010 single-stage random numbers (bit-exact emulation of "
            "HHS-OIG RAT-STATS, Wichmann-Hill AS 183 seeded through Visual Basic's Rnd)."
        )
    else:
        lines.append(f"  Generator: {gen['version']}.")
    lines.append(
        f"  Seed: {gen['seed']}"
        + (" (generated by audit-kit and recorded)" if gen["seed_generated"] else "")
        + (f"; used as {gen['seed_used']}" if gen["seed_used"] != gen["seed"] else "")
        + "."
    )
    if "wh_seeds" in gen:
        lines.append(
            "  Wichmann-Hill seeds: " + ", ".join(str(v) for v in gen["wh_seeds"]) + ". "
            f"The frame numbers drawn are the values RAT-STATS single-stage prints for seed "
            f"{gen['seed_used']} over 1..{frame['size']}."
        )
    if plan.design.method == "stratified":
        lines.append("  " + STREAM_RULE)
    if gen["name"] == "ratstats":
        lines.append("  Note: " + RATSTATS_CAVEAT)
    lines += ["", "Spares", "  " + record["spares"]["policy"]]
    if record["pseudonymisation"]["enabled"]:
        lines += [
            "",
            "Pseudonymisation",
            "  Patient identifiers ("
            + ", ".join(record["pseudonymisation"]["columns"])
            + ") were replaced in sample.csv by keyed HMAC-SHA256 tokens; key fingerprint "
            f"{record['pseudonymisation']['key_fingerprint']}.",
        ]
    lines += [
        "",
        "Re-creating the sample",
        "  `audit-kit verify AUDIT_DIR --universe <the universe file>` re-draws the sample from "
        "plan.yaml and the recorded seed and proves it identical to sample.csv"
        + (
            " (for a database: --universe <URL> with the same --table or --query; the content "
            "fingerprint is recomputed in the engine)."
            if uni.get("engine") is not None
            else "."
        ),
        "",
        f"audit-kit {record['tool_version']}, {record['created_at']}.",
    ]
    return "\n".join(lines) + "\n"


def _relation(uni: dict[str, Any]) -> str:
    return f"table {uni['table']}" if uni.get("table") else f"query `{uni.get('query')}`"


def csv_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


def generator_version(generator: str) -> str:
    if generator == "ratstats":
        return f"RAT-STATS 2010 single-stage emulation (audit-kit {__version__})"
    return f"NumPy {np.__version__} PCG64, Generator.integers one value at a time"
