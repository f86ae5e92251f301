"""Sampling a universe that lives in an engine (DuckDB, PostgreSQL, Spark): push-down.

The same plan and seed give the same sample as from a file holding the same rows: the
strata, their order and labels, the sizes and the random streams are those of
:mod:`audit_kit.sampling._design` and :mod:`audit_kit.sampling._select`; only where the
counts come from and how the drawn frame numbers are found differ. The engine returns
per-group counts (and, for Neyman, the variable's sums in cents), then the sampled rows by
numbered frame (:mod:`audit_kit.sampling.engines.frame_sql`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from audit_kit.errors import InputError, Problem, SamplingError
from audit_kit.plan import SamplingPlan
from audit_kit.sampling._design import Strata, StratumDef, band_label, sample_sizes
from audit_kit.sampling._frame import Frame, money
from audit_kit.sampling._record import (
    DESIGN_COLUMNS,
    ORDER_NUMERIC,
    ORDER_TEXT,
    SIMPLE_LABEL,
    Progress,
)
from audit_kit.sampling._select import Drawn, draw_strata, generator_record, seed_used
from audit_kit.sampling.engines import EngineUniverse
from audit_kit.sampling.engines.fingerprint import fingerprint_record, frame_fingerprint
from audit_kit.sampling.engines.frame_sql import FrameQueries, spec_from_plan
from audit_kit.universe import Universe
from audit_kit.values.money import money_series

_EXAMPLES = 5


@dataclass(slots=True)
class EngineFrame:
    """What the sampling record needs of a frame counted in an engine."""

    order_rule: str
    file_rows: int
    excluded: list[dict[str, Any]]


@dataclass(slots=True)
class _Group:
    certain: bool
    labels: tuple[str, ...]
    band: int
    units: int
    slices: tuple[int, int, int, int]
    sum_cents: int
    sum_squares: int


def _run(uni: EngineUniverse, sql: str, what: str) -> list[tuple[Any, ...]]:
    try:
        return uni.connection.rows(sql)
    except InputError:
        raise
    except Exception as exc:  # each client has its own error classes
        raise uni.connection.query_error(exc, relation=f"{what} ({uni.where})") from None


def _wanted_columns(plan: SamplingPlan) -> dict[str, str]:
    cols = plan.columns
    wanted: dict[str, str] = {}
    for name, mapped in cols.mapped().items():
        for j, col in enumerate(mapped):
            wanted[f"columns.{name}" + (f"[{j}]" if len(mapped) > 1 else "")] = col
    for j, col in enumerate(cols.keep):
        wanted[f"columns.keep[{j}]"] = col
    for key, name in plan.references().items():
        wanted.setdefault(key, plan.column_for(name))
    return wanted


def _missing_columns(plan: SamplingPlan, uni: EngineUniverse) -> list[Problem]:
    present = set(uni.columns)
    listing = ", ".join(uni.columns[:40]) + (" ..." if len(uni.columns) > 40 else "")
    return [
        Problem(
            where=f"{uni.where}: column '{col}' ({key})",
            expected=f"a column of the relation; it has: {listing}",
            found="no such column",
            fix="map the plan to the relation's column names (their case counts), or select "
            "the column in --query.",
        )
        for key, col in _wanted_columns(plan).items()
        if col not in present
    ]


def _census_problems(
    plan: SamplingPlan, uni: EngineUniverse, q: FrameQueries, census: dict[str, int]
) -> list[Problem]:
    """The frame's problems, each with a count and a few example unit ids."""
    spec = q.spec
    where = uni.where
    problems: list[Problem] = []

    def examples(condition: str) -> str:
        found = _run(uni, q.examples_sql(condition, _EXAMPLES), "examples")
        ids = [str(r[0]) for r in found if r[0] is not None]
        return f", e.g. unit ids {', '.join(ids)}" if ids else ""

    if census["frame"] == 0:
        left = [census["rows"], *(census[f"after_{i}"] for i in range(len(spec.filters)))]
        detail = "; ".join(
            f"{f.describe()}: {left[i] - left[i + 1]} rows" for i, (_, f) in enumerate(spec.filters)
        )
        problems.append(
            Problem(
                where=f"{where}: frame",
                expected="at least one unit left after the frame filters",
                found=f"none of {census['rows']} rows" + (f" ({detail})" if detail else ""),
                fix="check the relation, and the filters under frame.filters.",
            )
        )
        return problems
    id_col = spec.id_column
    if census["empty_ids"]:
        problems.append(
            Problem(
                where=f"{where}: column '{id_col}' (unit_id)",
                expected="a unit id in every row of the frame",
                found=f"a NULL or empty unit id in {census['empty_ids']} rows",
                fix=f"fill in the ids, or exclude those rows (WHERE {id_col} IS NOT NULL in "
                "--query): numbering rows without an id would not be reproducible.",
            )
        )
    repeated = census["frame"] - census["empty_ids"] - census["distinct_ids"]
    if repeated > 0:
        found = _run(uni, q.duplicates_sql(_EXAMPLES), "duplicate ids")
        shown = "; ".join(f"{r[0]} ({r[1]} rows)" for r in found[:3])
        problems.append(
            Problem(
                where=f"{where}: column '{id_col}' (unit_id)",
                expected="each unit id once (one row per sampling unit)",
                found=f"ids on more than one row ({repeated} extra rows), e.g. {shown}",
                fix="remove the repeated rows, or sample another unit (claim lines need a "
                "line id as unit_id); ROW_NUMBER over a repeated id is not reproducible.",
            )
        )
    for i, col in enumerate(spec.by_columns):
        count = census[f"empty_label_{i}"]
        if count:
            cond = f"(k_l{i} IS NULL OR k_l{i} = '')"
            problems.append(
                Problem(
                    where=f"{where}: column '{col}' (strata)",
                    expected="a value in every row (it defines the strata)",
                    found=f"an empty value in {count} rows{examples(cond)}",
                    fix="fill it in, or exclude those rows with a frame filter "
                    f"{{column: {col}, op: not empty}}.",
                )
            )
    for j, col in enumerate(spec.fingerprint_numbers):
        bad = census[f"bad_number_{j}"]
        if bad:
            problems.append(
                Problem(
                    where=f"{where}: column '{col}'",
                    expected="a number (e.g. 1234.56)",
                    found=f"a value that is not a number in {bad} rows"
                    f"{examples(q.bad_number(col))}",
                    fix="correct those values, or cast the column in --query.",
                )
            )
        negative = census[f"negative_{j}"]
        if negative:
            problems.append(
                Problem(
                    where=f"{where}: column '{col}'",
                    expected="an amount >= 0",
                    found=f"a negative amount in {negative} rows{examples(f'{q.number(col)} < 0')}",
                    fix=f"exclude adjustments with a frame filter, e.g. {{column: {col}, op: "
                    "'>=', value: 0}.",
                )
            )
        empty = census.get(f"null_number_{j}", 0)
        if empty:
            problems.append(
                Problem(
                    where=f"{where}: column '{col}'",
                    expected="an amount in every row (the design uses it)",
                    found=f"an empty value in {empty} rows{examples(f'{q.number(col)} IS NULL')}",
                    fix=f"fill it in, or exclude those rows: {{column: {col}, op: not empty}}.",
                )
            )
    for j, (col, flt) in enumerate(spec.filters):
        bad = census.get(f"bad_filter_{j}", 0)
        if bad:
            problems.append(
                Problem(
                    where=f"{where}: column '{col}' (frame.filters[{j}])",
                    expected="a number" if isinstance(flt.value, int | float) else "a date",
                    found=f"a value the filter cannot judge in {bad} rows",
                    fix="correct those values (a frame filter cannot judge them), or cast the "
                    "column in --query.",
                )
            )
    below = census.get("below_bands", 0)
    if below and spec.band_column is not None:
        low = spec.band_edges[0]
        problems.append(
            Problem(
                where=f"{where}: column '{spec.band_column}'",
                expected=f"a value >= the first band edge ({money(low)})",
                found=f"a value below every band in {below} rows",
                fix="lower the first edge to 0, or add a frame filter "
                f"{{column: {spec.band_column}, op: '>=', value: {low:g}}}.",
            )
        )
    return problems


def _strata(
    plan: SamplingPlan, groups: list[_Group], source: str
) -> tuple[list[StratumDef], list[str], dict[tuple[Any, ...], int]]:
    """The design's strata in design order (as :func:`audit_kit.sampling._design.assign_strata`
    orders them for a file), the notes, and each stratum key's index."""
    design = plan.design.strata
    if plan.design.method == "simple" or design is None:
        only = StratumDef(SIMPLE_LABEL, {}, False, 0, sum(g.units for g in groups))
        return [only], [], {(0, 0): 0}
    bands = design.dollar_bands
    cert = design.certainty
    band_count = len(bands.edges) if bands is not None else 1
    combos = sorted({g.labels for g in groups if not g.certain}) if design.by else [()]
    defs: list[StratumDef] = []
    keys: dict[tuple[Any, ...], int] = {}
    for by_value in combos:
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
            if not parts:
                assert cert is not None
                parts = [f"{cert.column} < {money(cert.at_least)}"]
                definition["below"] = {"column": cert.column, "value": cert.at_least}
            keys[(0, *by_value, b)] = len(defs)
            defs.append(StratumDef(" / ".join(parts), definition, False, len(defs)))
    if cert is not None:
        label = f"certainty: {cert.column} >= {money(cert.at_least)}"
        definition = {"certainty": {"column": cert.column, "at_least": cert.at_least}}
        keys[(1, *("" for _ in design.by), -1)] = len(defs)
        defs.append(StratumDef(label, definition, True, len(defs)))
    for g in groups:
        defs[keys[_key(g, len(design.by))]].population += g.units
    empty = [d.label for d in defs if d.population == 0]
    notes: list[str] = []
    if empty and design.skip_empty:
        notes.append(
            f"{len(empty)} strata had no units and were left out (skip_empty): "
            f"{', '.join(empty[:10])}{' ...' if len(empty) > 10 else ''}"
        )
        kept = [d for d in defs if d.population]
        keys = {k: kept.index(defs[i]) for k, i in keys.items() if defs[i].population}
        for position, d in enumerate(kept):  # here a stratum's index is its place in the list
            d.index = position
        defs = kept
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
    return defs, notes, keys


def _key(g: _Group, by: int) -> tuple[Any, ...]:
    if g.certain:
        return (1, *("" for _ in range(by)), -1)
    return (0, *g.labels, g.band)


def _sd(units: int, total: int, squares: int) -> float:
    """The sample SD (ddof 1) in dollars, from exact sums of cents."""
    if units < 2:
        return 0.0
    variance = Fraction(units * squares - total * total, units * (units - 1) * 10_000)
    return math.sqrt(variance)


def draw_engine_units(
    plan: SamplingPlan,
    uni: EngineUniverse,
    seed: int | float,
    *,
    say: Progress,
    plan_dir: Path | None,
    probe: dict[str, Any] | None = None,
    plan_source: str = "plan",
) -> Drawn:
    """Census in the engine, strata and sizes, the draw in Python, the fetch by frame number."""
    used = seed_used(plan.rng.generator, seed)
    problems = _missing_columns(plan, uni)
    if problems:
        raise InputError(f"The universe has {len(problems)} problem(s).", problems)
    spec = spec_from_plan(plan, uni.relation, uni.kinds)
    q = FrameQueries(uni.connection.dialect, spec)
    say(f"Counting the frame in {uni.connection.engine} ({uni.name})")
    sql, names = q.census_sql()
    row = _run(uni, sql, "census")[0]
    census = {n: int(v or 0) for n, v in zip(names, row, strict=True)}
    uni.rows = census["rows"]
    problems = _census_problems(plan, uni, q, census)
    if problems:
        raise InputError(f"The universe has {len(problems)} problem(s).", problems)
    numeric = census["not_digits"] == 0
    excluded: list[dict[str, Any]] = []
    before = census["rows"]
    for i, (_, flt) in enumerate(spec.filters):
        after = census[f"after_{i}"]
        excluded.append({"filter": flt.describe(), "rows": before - after})
        before = after
    frame = EngineFrame(
        order_rule=ORDER_NUMERIC if numeric else ORDER_TEXT,
        file_rows=census["rows"],
        excluded=excluded,
    )
    say(f"Frame: {census['frame']:,} units after filters; counting the strata")
    groups = []
    width = len(spec.by_columns)
    for r in _run(uni, q.strata_sql(), "strata"):
        groups.append(
            _Group(
                certain=int(r[0]) == 1,
                labels=tuple(str(v) for v in r[1 : 1 + width]),
                band=int(r[1 + width]),
                units=int(r[2 + width]),
                slices=tuple(int(v or 0) for v in r[3 + width : 7 + width]),  # type: ignore[arg-type]
                sum_cents=int(r[7 + width]) if len(r) > 7 + width else 0,
                sum_squares=int(r[8 + width]) if len(r) > 8 + width else 0,
            )
        )
    defs, notes, keys = _strata(plan, groups, plan_source)
    by_key = {i: k for k, i in keys.items()}
    strata = Strata(defs, np.zeros(0, dtype=np.uint8), notes)
    sds: dict[str, float] | None = None
    if spec.variable_column is not None:
        sums: dict[int, list[int]] = {}
        for g in groups:
            index = keys.get(_key(g, width))
            if index is None:
                continue
            acc = sums.setdefault(index, [0, 0, 0])
            acc[0] += g.units
            acc[1] += g.sum_cents
            acc[2] += g.sum_squares
        sds = {defs[i].label: round(_sd(*acc), 6) for i, acc in sums.items()}
    sizes = sample_sizes(
        plan, strata, None, plan_dir=plan_dir, probe=probe, source=plan_source, sds=sds
    )
    uni.fingerprint = fingerprint_record(
        spec,
        {
            defs[i].label: (
                sum(g.units for g in groups if keys.get(_key(g, width)) == i),
                tuple(
                    sum(g.slices[s] for g in groups if keys.get(_key(g, width)) == i)
                    for s in range(4)
                ),
            )
            for i in range(len(defs))
        },
    )
    say(f"Drawing {sizes.record['n']:,} units from {len(defs):,} strata ({plan.rng.generator})")
    drawn_strata, requests = draw_strata(plan, defs, sizes, used)
    picks: list[tuple[tuple[Any, ...], int, int]] = []
    full: list[tuple[Any, ...]] = []
    for s, (index, numbers) in zip(drawn_strata, requests, strict=True):
        key = by_key[index]
        if s.census:
            full.append(key)
        else:
            picks.extend((key, int(n), order) for order, n in enumerate(numbers, start=1))
    say(f"Fetching the {sum(len(n) for _, n in requests):,} sampled rows by frame number")
    fetched = _run(uni, q.fetch_sql(picks, full, numeric=numeric), "fetch")
    sample = _sample_frame(plan, uni, spec.kept_columns, fetched, keys, drawn_strata, width)
    return Drawn(uni, frame, drawn_strata, sample, sizes, generator_record(plan, used), notes)


def _sample_frame(
    plan: SamplingPlan,
    uni: EngineUniverse,
    kept: list[str],
    fetched: list[tuple[Any, ...]],
    keys: dict[tuple[Any, ...], int],
    strata: list[Any],
    width: int,
) -> pl.DataFrame:
    """sample.csv's rows from the fetched rows, checked against the census."""
    key_len = width + 2
    expected = sum(len(s.frame_numbers) for s in strata)
    index_of: list[int] = []
    columns: dict[str, list[Any]] = {c: [] for c in kept}
    frame_numbers: list[int] = []
    orders: list[int] = []
    changed: set[str] = set()
    for r in fetched:
        key = (int(r[0]), *(str(v) for v in r[1 : 1 + width]), int(r[1 + width]))
        index = keys[key]
        frame_no, order, size = int(r[key_len]), int(r[key_len + 1]), int(r[key_len + 2])
        if size != strata[index].population:
            changed.add(strata[index].label)
        index_of.append(index)
        frame_numbers.append(frame_no)
        orders.append(order)
        for c, v in zip(kept, r[key_len + 4 :], strict=True):
            columns[c].append(None if v is None else str(v))
    if changed or len(fetched) != expected:
        raise InputError(
            "The universe changed while it was sampled.",
            [
                Problem(
                    where=uni.where,
                    expected=f"the {expected} rows drawn, in strata of the sizes counted",
                    found=f"{len(fetched)} rows"
                    + (
                        f"; other stratum sizes in: {', '.join(sorted(changed)[:5])}"
                        if changed
                        else ""
                    ),
                    fix="sample again when the table is not being loaded, or from a fixed "
                    "snapshot (a copy, or a pinned table version).",
                )
            ],
        )
    labels = [s.label for s in strata]
    weights = [s.weight for s in strata]
    table = pl.DataFrame(
        {
            **{c: pl.Series(c, v, dtype=pl.String) for c, v in columns.items()},
            "__stratum": pl.Series(index_of, dtype=pl.Int64),
            "stratum": pl.Series([labels[i] for i in index_of], dtype=pl.String),
            "frame_number": pl.Series(frame_numbers, dtype=pl.Int64),
            "selection_order": pl.Series(orders, dtype=pl.Int64),
            "spare": pl.Series(
                [o > strata[i].sample for o, i in zip(orders, index_of, strict=True)],
                dtype=pl.Boolean,
            ),
            "weight": pl.Series([weights[i] for i in index_of], dtype=pl.Float64),
        }
    )
    return table.sort(["__stratum", "frame_number"]).select([*kept, *DESIGN_COLUMNS])


def file_fingerprint(plan: SamplingPlan, universe: Universe, drawn: Drawn) -> dict[str, Any]:
    """The fingerprint of a universe file's frame, as an engine computes it for a table (to
    prove a file and a table hold the same frame). Reads the money columns again."""
    frame = drawn.frame
    assert isinstance(frame, Frame) and drawn.of_unit is not None
    spec = spec_from_plan(plan, "", {})
    labels: list[pl.Series] = []
    code = frame.by_code.astype(np.int64)
    for values in reversed(frame.by_values):
        radix = max(len(values), 1)
        labels.append(pl.Series(values or [""]).gather(code % radix))
        code = code // radix
    labels.reverse()
    money: list[np.ndarray[Any, np.dtype[np.float64]]] = []
    if spec.fingerprint_numbers:
        raw = universe.read(spec.fingerprint_numbers)
        for col in spec.fingerprint_numbers:
            amounts, _ = money_series(raw[col], decimal_comma=plan.frame.decimal_comma)
            money.append(amounts.to_numpy()[frame.rows])
    return frame_fingerprint(
        spec,
        ids=frame.ids,
        labels=labels,
        money=money,
        stratum=drawn.of_unit,
        stratum_labels={i: s.label for i, s in zip(drawn.strata_index, drawn.strata, strict=True)},
    )
