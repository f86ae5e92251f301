"""Draw the units: strata, sizes, random numbers, and the full rows of the sample."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from audit_kit.errors import PlanError
from audit_kit.plan import SamplingPlan
from audit_kit.sampling._design import Sizes, StratumDef, assign_strata, sample_sizes
from audit_kit.sampling._frame import Frame, build_frame
from audit_kit.sampling._record import (
    DESIGN_COLUMNS,
    RATSTATS_CAVEAT,
    STREAM_RULE,
    Progress,
    Stratum,
    generator_version,
)
from audit_kit.stats import rng as rng_mod
from audit_kit.universe import ROW, Universe

if TYPE_CHECKING:
    from audit_kit.sampling._engine import EngineFrame
    from audit_kit.sampling.engines import EngineUniverse

# -- the draw --------------------------------------------------------------------------------


@dataclass(slots=True)
class Drawn:
    """A drawn sample before it is written: the sample.csv rows and how they were drawn."""

    universe: Universe | EngineUniverse
    frame: Frame | EngineFrame
    strata: list[Stratum]
    sample: pl.DataFrame  # sample.csv before pseudonymisation
    sizes: Sizes
    generator: dict[str, Any]
    notes: list[str]
    #: A file's frame: each frame position's stratum index (for its fingerprint).
    of_unit: np.ndarray[Any, np.dtype[np.integer[Any]]] | None = None
    #: The index in ``of_unit`` of each stratum in ``strata``.
    strata_index: tuple[int, ...] = ()


def seed_used(generator: str, seed: int | float) -> int | float:
    """The seed as the generator uses it (RAT-STATS: rounded to 2 decimals)."""
    if generator == "ratstats":
        return rng_mod.ratstats_seed(float(seed))
    if isinstance(seed, float) and not seed.is_integer():
        raise PlanError.one(
            "The seed does not suit the generator.",
            where="seed",
            expected="a whole number for generator pcg64",
            found=repr(seed),
            fix="use a whole number, or rng.generator: ratstats for decimal seeds.",
        )
    return int(seed)


def draw_units(
    plan: SamplingPlan,
    universe: Universe,
    seed: int | float,
    *,
    say: Progress,
    plan_dir: Path | None,
    probe: dict[str, Any] | None = None,
    plan_source: str = "plan",
) -> Drawn:
    """Build the frame, assign strata and sizes, draw each stratum, fetch the sampled rows.

    Writes nothing: :func:`audit_kit.sampling.draw_sample` records the result, and
    :func:`audit_kit.sampling.verify_audit` compares it with the recorded sample. ``probe``
    (mean and SD recorded at sampling time) replaces a ``size.target`` probe file.
    """
    generator = plan.rng.generator
    used = seed_used(generator, seed)
    frame = build_frame(plan, universe, say)
    design = assign_strata(plan, frame, source=plan_source)
    defs, notes = design.defs, design.notes
    sizes = sample_sizes(plan, design, frame, plan_dir=plan_dir, probe=probe, source=plan_source)
    say(f"Drawing {sizes.record['n']:,} units from {len(defs):,} strata ({generator})")
    strata, requests = draw_strata(plan, defs, sizes, used)
    picked = np.concatenate(frame.pick(design.of_unit, requests)).astype(np.int64)
    table = pl.DataFrame(
        {
            "__stratum": np.repeat(np.arange(len(strata)), [len(n) for _, n in requests]),
            "__pos": picked,
            "frame_number": np.concatenate([n for _, n in requests]).astype(np.int64),
            "selection_order": np.concatenate([np.arange(1, len(n) + 1) for _, n in requests]),
            "spare": np.concatenate(
                [
                    np.arange(1, len(n) + 1) > s.sample
                    for s, (_, n) in zip(strata, requests, strict=True)
                ]
            ),
            ROW: frame.rows[picked],
            "__id": frame.ids.gather(picked),
        },
        schema_overrides={"__stratum": pl.Int64, "selection_order": pl.Int64, ROW: pl.UInt32},
    )
    labels = pl.Series([s.label for s in strata])
    weights = pl.Series([s.weight for s in strata])
    table = table.with_columns(
        labels.gather(table["__stratum"]).alias("stratum"),
        weights.gather(table["__stratum"]).alias("weight"),
    )
    # The pass over the file's bytes (hash, encoding, field counts) ran beside all of the above;
    # its verdict is needed from here on. Not UTF-8: the frame is read again, as Latin-1.
    if universe.finish():  # the bytes were not UTF-8: the frame is read again as Latin-1
        return draw_units(
            plan,
            universe,
            seed,
            say=say,
            plan_dir=plan_dir,
            probe=probe,
            plan_source=plan_source,
        )
    say(f"Fetching the full rows of {table.height:,} sampled units")
    by_row = table.sort(ROW)
    kept = plan.columns.all_columns()
    fetched = universe.fetch(
        by_row[ROW].to_list(), kept, id_column=plan.columns.unit_id, ids=by_row["__id"].to_list()
    )
    sample = (
        table.join(fetched, on=ROW, how="left")
        .sort(["__stratum", "frame_number"])
        .select([*kept, *DESIGN_COLUMNS])
    )
    return Drawn(
        universe,
        frame,
        strata,
        sample,
        sizes,
        generator_record(plan, used),
        notes,
        design.of_unit,
        tuple(d.index for d in defs),
    )


def draw_strata(
    plan: SamplingPlan, defs: list[StratumDef], sizes: Sizes, used: int | float
) -> tuple[list[Stratum], list[tuple[int, tuple[int, ...]]]]:
    """Draw each stratum's frame numbers (and spares) from its stream; a stratum with
    N_h <= n_h is taken in full. Returns the strata and, per stratum, (index, numbers in
    selection order)."""
    generator = plan.rng.generator
    simple = plan.design.method == "simple"
    gen_name = rng_mod.GeneratorName(generator)
    strata: list[Stratum] = []
    requests: list[tuple[int, tuple[int, ...]]] = []
    for d in defs:
        pop = d.population
        n_h = sizes.n[d.label]
        census = n_h >= pop
        wh: tuple[int, int, int] | None = None
        stream_seed: int | float | None = None
        if census:
            numbers: tuple[int, ...] = tuple(range(1, pop + 1))
            k = 0
        else:
            k = min(plan.spares, pop - n_h)
            stream_seed = used if simple else rng_mod.stratum_seed(used, d.label, gen_name)
            draw = rng_mod.draw_distinct(
                generator, stream_seed, low=1, high=pop, sample_size=n_h, spares=k
            )
            numbers, wh = draw.values, draw.wh_seeds
        requests.append((d.index, numbers))
        strata.append(
            Stratum(
                label=d.label,
                population=pop,
                sample=n_h if not census else pop,
                spares=k,
                census=census,
                certainty=d.certainty,
                seed=stream_seed,
                wh_seeds=wh,
                definition=d.definition,
                frame_numbers=numbers,
            )
        )
    return strata, requests


def generator_record(plan: SamplingPlan, used: int | float) -> dict[str, Any]:
    """The generator part of the sampling record."""
    generator = plan.rng.generator
    gen: dict[str, Any] = {
        "name": generator,
        "seed_used": used,
        "version": generator_version(generator),
    }
    if generator == "ratstats":
        gen["caveat"] = RATSTATS_CAVEAT
        if plan.design.method == "simple":
            gen["wh_seeds"] = list(rng_mod.ratstats_wh_seeds(float(used)))
    if plan.design.method != "simple":
        gen["stratum_streams"] = STREAM_RULE
    return gen
