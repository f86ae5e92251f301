"""Strata and sample sizes of the design."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from audit_kit.errors import InputError, Problem, SamplingError, StatisticsError
from audit_kit.folder.manifest import sha256_bytes
from audit_kit.plan import SamplingPlan
from audit_kit.sampling._frame import Frame, Positions, money
from audit_kit.sampling._record import SIMPLE_LABEL
from audit_kit.values.money import money_series

# -- strata ----------------------------------------------------------------------------------


@dataclass(slots=True)
class StratumDef:
    label: str
    definition: dict[str, Any]
    certainty: bool
    index: int = 0  # the stratum's value in :attr:`Strata.of_unit`
    population: int = 0  # N_h


@dataclass(slots=True)
class Strata:
    """The design's strata (in design order) and each frame unit's stratum."""

    defs: list[StratumDef]
    of_unit: np.ndarray[Any, np.dtype[np.integer[Any]]]  # per frame position: StratumDef.index
    notes: list[str]

    def positions(self) -> dict[int, Positions]:
        """Frame positions of each stratum's units, by stratum index (in no set order)."""
        grouped = np.argsort(self.of_unit, kind="stable")  # a radix sort for small indexes
        bounds = np.searchsorted(self.of_unit[grouped], [d.index for d in self.defs], "left")
        return {
            d.index: grouped[a : a + d.population] for d, a in zip(self.defs, bounds, strict=True)
        }


def band_label(name: str, edges: Sequence[float], index: int, cap: float | None) -> str:
    low = edges[index]
    high = edges[index + 1] if index + 1 < len(edges) else cap
    if high is None:
        return f"{name} >= {money(low)}"
    return f"{name} {money(low)} to <{money(high)}"


def assign_strata(plan: SamplingPlan, frame: Frame, *, source: str = "plan") -> Strata:
    """Assign units to strata: the strata in design order, each unit's stratum, and notes
    (dropped empty strata).

    Each unit gets an integer stratum code (by-values in sorted order, then band, certainty
    last), mapped to the index of its stratum in design order.
    """
    design = plan.design.strata
    if plan.design.method == "simple" or design is None:
        only = StratumDef(SIMPLE_LABEL, {}, False, 0, frame.size)
        return Strata([only], np.zeros(frame.size, dtype=np.uint8), [])
    n = frame.size
    values_by = frame.by_values
    bands = design.dollar_bands
    band_count = len(bands.edges) if bands is not None else 1
    # 32-bit codes when they fit: half the memory to write and read.
    radix = math.prod(max(len(v), 1) for v in values_by) * band_count + 1
    code: np.ndarray[Any, Any] = frame.by_code.astype(np.int64 if radix >= 2**31 else np.int32)
    code *= band_count
    if bands is not None:
        amounts = frame.variables[plan.column_for(bands.column)]
        for edge in bands.edges[1:]:  # band index = number of upper edges reached
            code += amounts >= edge
    cert = design.certainty
    certain = np.zeros(n, dtype=bool)
    if cert is not None:
        certain = frame.variables[plan.column_for(cert.column)] >= cert.at_least
    if not design.by:
        combos = np.zeros(1, dtype=np.int64)
    elif cert is None:  # the by-part of every unit's code, without a masked copy
        combos = _distinct(frame.by_code)
    else:
        combos = _distinct(code[~certain] // band_count)
    defs: list[StratumDef] = []
    codes: list[int] = []
    for combo in combos.tolist():
        by_value = _unpack(int(combo), values_by)
        for b in range(band_count):
            parts = list(by_value)
            definition: dict[str, Any] = {}
            if design.by:
                definition["by"] = dict(zip(design.by, by_value, strict=True))
            if bands is not None:
                cap = cert.at_least if cert is not None else None
                parts.append(band_label(bands.column, bands.edges, b, cap))
                definition["band"] = {
                    "column": bands.column,
                    "from": bands.edges[b],
                    "below": bands.edges[b + 1] if b + 1 < band_count else cap,
                }
            if not parts:  # certainty only: the other units form one stratum
                assert cert is not None
                parts = [f"{cert.column} < {money(cert.at_least)}"]
                definition["below"] = {"column": cert.column, "value": cert.at_least}
            defs.append(StratumDef(" / ".join(parts), definition, False, len(defs)))
            codes.append(int(combo) * band_count + b)
    certain_code = (max(codes) + 1) if codes else 0
    if cert is not None:
        label = f"certainty: {cert.column} >= {money(cert.at_least)}"
        definition = {"certainty": {"column": cert.column, "at_least": cert.at_least}}
        defs.append(StratumDef(label, definition, True, len(defs)))
        codes.append(certain_code)
        code = np.where(certain, certain_code, code)
    of_unit = _stratum_index(code, codes)
    populations = np.bincount(of_unit, minlength=len(defs)).tolist()
    for d, population in zip(defs, populations, strict=True):
        d.population = population
    empty = [d.label for d in defs if d.population == 0]
    notes: list[str] = []
    if empty and design.skip_empty:
        defs = [d for d in defs if d.population]
        notes.append(
            f"{len(empty)} strata had no units and were left out (skip_empty): "
            f"{', '.join(empty[:10])}{' ...' if len(empty) > 10 else ''}"
        )
    elif empty:
        raise SamplingError(
            f"The design has {len(empty)} empty stratum(s).",
            [
                Problem(
                    where=f"{source}: design.strata, stratum '{label}'",
                    expected="at least one unit in every stratum of the design",
                    found="no units in the frame",
                    fix="merge or drop that band (design.strata.dollar_bands.edges), lower the "
                    "certainty threshold, or set design.strata.skip_empty: true.",
                )
                for label in empty
            ],
        )
    return Strata(defs, of_unit, notes)


def _unpack(combo: int, values_by: list[list[str]]) -> list[str]:
    """The by-values of a mixed-radix combination code."""
    out: list[str] = []
    for values in reversed(values_by):
        combo, digit = divmod(combo, len(values))
        out.append(values[digit])
    return out[::-1]


def _stratum_index(
    code: np.ndarray[Any, np.dtype[np.integer[Any]]], codes: list[int]
) -> np.ndarray[Any, np.dtype[np.integer[Any]]]:
    """Map each unit's stratum code to the index of its stratum in ``codes``."""
    table = np.asarray(codes, dtype=np.int64)
    small = np.uint16 if len(table) < 65_535 else np.int64
    if int(table.max()) < 50_000_000:
        lookup = np.zeros(int(table.max()) + 1, dtype=small)
        lookup[table] = np.arange(len(table))
        out: np.ndarray[Any, np.dtype[np.integer[Any]]] = lookup[code]
        return out
    order = np.argsort(table)
    where = np.searchsorted(table[order], code)
    return order[np.minimum(where, len(table) - 1)].astype(np.int64)


def _distinct(
    values: np.ndarray[Any, np.dtype[np.integer[Any]]],
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The sorted distinct values of non-negative integer codes."""
    if values.size and int(values.max()) < 50_000_000:
        return np.flatnonzero(np.bincount(values)).astype(np.int64)
    return np.unique(values)


def _sd(values: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    return float(np.std(values, ddof=1)) if values.size > 1 else 0.0


# -- sizes -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Sizes:
    n: dict[str, int]
    record: dict[str, Any]


def sample_sizes(
    plan: SamplingPlan,
    strata: Strata,
    frame: Frame | None,
    *,
    plan_dir: Path | None,
    probe: dict[str, Any] | None,
    source: str = "plan",
    sds: dict[str, float] | None = None,
) -> Sizes:
    """Each stratum's sample size, and how it was chosen. ``sds`` (Neyman's per-stratum SDs)
    are given when the frame is counted in an engine; else they come from ``frame``."""
    size = plan.size
    defs = strata.defs
    pops = {d.label: d.population for d in defs}
    total_n = sum(pops.values())
    problems: list[Problem] = []
    n: dict[str, int] = {}
    for d in defs:
        if d.certainty:
            n[d.label] = pops[d.label]
    regular = [d for d in defs if not d.certainty]
    record: dict[str, Any] = {"rule": size.rule}
    if size.rule == "n":
        assert size.n is not None
        record.update(n=size.n, rationale=f"fixed sample size n = {size.n} set in the plan")
        if size.n > total_n:
            problems.append(
                Problem(
                    where=f"{source}: size.n",
                    expected=f"at most N = {total_n:,} (the units in the frame)",
                    found=f"{size.n:,}",
                    fix=f"lower size.n, or set it to {total_n} to review every unit (census).",
                )
            )
        n[SIMPLE_LABEL] = size.n
    elif size.rule == "target":
        n_target, detail = _target_size(plan, total_n, plan_dir=plan_dir, probe=probe)
        record.update(detail)
        n[SIMPLE_LABEL] = min(n_target, total_n)
        if n_target >= total_n:
            record["rationale"] += "; n >= N, so every unit is reviewed (census)"
    elif size.rule == "per_stratum":
        per = size.per_stratum
        if isinstance(per, int):
            record.update(per_stratum=per, rationale=f"{per} units per stratum (fewer: census)")
            for d in regular:
                n[d.label] = min(per, pops[d.label])
        else:
            assert per is not None
            record.update(per_stratum=dict(per), rationale="a sample size set per stratum")
            labels = [d.label for d in regular]
            unknown = [k for k in per if k not in labels]
            missing = [k for k in labels if k not in per]
            for key in unknown:
                close = difflib.get_close_matches(key, labels, n=2)
                problems.append(
                    Problem(
                        where=f"{source}: size.per_stratum.{key}",
                        expected="a stratum of the design: " + ", ".join(labels[:12]),
                        found=f"'{key}', which no unit falls in",
                        fix=f"did you mean {' or '.join(map(repr, close))}?"
                        if close
                        else "use the stratum labels shown (see docs/plans.md).",
                    )
                )
            if missing:
                problems.append(
                    Problem(
                        where=f"{source}: size.per_stratum",
                        expected="a size for every stratum",
                        found=f"{len(missing)} strata without one: " + ", ".join(missing[:12]),
                        fix="add them, or use per_stratum: <number> for all.",
                    )
                )
            for d in regular:
                if d.label in per:
                    n[d.label] = min(per[d.label], pops[d.label])
    else:
        total = size.total_rule
        assert total is not None
        certain = sum(pops[d.label] for d in defs if d.certainty)
        remaining = total.total - certain
        record.update(
            total=total.total,
            allocation=total.allocation.value,
            minimum_per_stratum=size.minimum,
            certainty_units=certain,
        )
        if total.total > total_n:
            problems.append(
                Problem(
                    where=f"{source}: size.total",
                    expected=f"at most N = {total_n:,} (the units in the frame)",
                    found=f"{total.total:,}",
                    fix="lower the total.",
                )
            )
        elif remaining < 0 or (remaining == 0 and regular):
            problems.append(
                Problem(
                    where=f"{source}: size.total",
                    expected=f"more than the {certain:,} certainty units (they count in the total)",
                    found=f"{total.total:,}",
                    fix="raise the total or the certainty threshold.",
                )
            )
        elif regular:
            if total.allocation.value == "neyman" and sds is not None:
                sds = {d.label: sds[d.label] for d in regular}
                record["variable"] = plan.allocation_variable()
                record["sd"] = sds
            elif total.allocation.value == "neyman":
                assert frame is not None
                values = frame.variables[plan.column_for(plan.allocation_variable() or "paid")]
                # In unit-id order, so that the sums (and the allocation) never depend on the
                # order of the export.
                positions = strata.positions()
                # Rounded to 1e-6 dollars: an engine's SD (from exact sums of cents) and this one
                # differ in the last bits; the rounded values, and so the allocations, agree.
                sds = {
                    d.label: round(_sd(values[frame.in_id_order(positions[d.index])]), 6)
                    for d in regular
                }
                record["variable"] = plan.allocation_variable()
                record["sd"] = sds
            else:
                sds = None
            try:
                from audit_kit.stats import allocate

                allocated = allocate(
                    remaining,
                    {d.label: pops[d.label] for d in regular},
                    method=total.allocation.value,
                    sds=sds,
                    minimum=size.minimum,
                )
            except StatisticsError as exc:
                problems.extend(
                    Problem(
                        where=f"{source}: size.total ({p.where})",
                        expected=p.expected,
                        found=p.found,
                        fix=p.fix,
                    )
                    for p in exc.problems
                )
                allocated = {}
            n.update(allocated)
            record["rationale"] = (
                f"total {total.total} with {total.allocation.value} allocation"
                + (f" (variable {record['variable']})" if "variable" in record else "")
                + (f", {certain} certainty units included" if certain else "")
                + f", at least {size.minimum} per stratum"
            )
    if problems:
        raise SamplingError("The sample sizes cannot be drawn from this frame.", problems)
    record["n"] = sum(n.values())
    return Sizes(n, record)


def _target_size(
    plan: SamplingPlan, population: int, *, plan_dir: Path | None, probe: dict[str, Any] | None
) -> tuple[int, dict[str, Any]]:
    """Sample size from a target confidence, precision and a probe (docs/methods.md 5.1)."""
    from audit_kit.stats import variable_sample_size

    target = plan.size.target
    assert target is not None
    level = f"{target.confidence * 100:g}"
    precision = target.precision * 100
    if probe is None:
        probe = _probe_stats(target, plan_dir)
    result = variable_sample_size(
        mean=probe["mean"],
        sd=probe["sd"],
        population=population,
        precisions=[precision],
        confidences=[level],
    )
    cell = next(iter(result.table.values()))[level]
    n = int(cell or 1)
    detail = {
        "confidence": target.confidence,
        "precision": target.precision,
        "probe": probe,
        "formula": "n = (SD*N)^2 / ((E/z)^2 + N*SD^2), E = precision * mean * N (RAT-STATS "
        "UG2010 p. 5-6), rounded to nearest",
        "computed_n": n,
        "rationale": f"n = {n} for {precision:g}% precision at {level}% confidence from a probe "
        f"sample (mean {probe['mean']:.2f}, SD {probe['sd']:.2f})",
    }
    return n, detail


def _probe_stats(target: Any, plan_dir: Path | None) -> dict[str, Any]:
    if target.probe_file is None:
        return {"mean": float(target.probe_mean), "sd": float(target.probe_sd), "source": "plan"}
    path = Path(target.probe_file)
    if not path.is_absolute() and plan_dir is not None:
        path = plan_dir / path
    try:
        probe = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError.one(
            "Cannot read the probe sample.",
            where=str(path),
            expected="a CSV of the probe sample's values",
            found=type(exc).__name__,
            fix="check size.target.probe_file (relative to the plan file).",
        ) from None
    column = target.probe_column or (probe.columns[-1] if probe.columns else "")
    if column not in probe.columns:
        raise InputError.one(
            "The probe sample has no such column.",
            where=f"{path}: column '{column}'",
            expected="one of " + ", ".join(probe.columns),
            found="no such column",
            fix="set size.target.probe_column.",
        )
    values, bad = money_series(probe[column])
    if bool(bad.any()) or values.null_count() or len(values) < 2:
        raise InputError.one(
            "The probe sample cannot be used.",
            where=f"{path}: column '{column}'",
            expected="at least 2 numbers, no empty or non-numeric cells",
            found=f"{len(values)} rows, {int(bad.sum()) + values.null_count()} unusable",
            fix="correct the probe file.",
        )
    array = values.to_numpy()
    return {
        "mean": float(array.mean()),
        "sd": float(array.std(ddof=1)),
        "size": int(array.size),
        "source": path.name,
        "sha256": sha256_bytes(path.read_bytes()),
    }
