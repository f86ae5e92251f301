"""Frame -> strata -> sizes -> draw -> sample.csv and the sampling record; re-draw for verify.

The steps, in the order they are applied (SPEC 4):

1. **Frame.** The universe's frame columns are read (unit id, strata, sampling variable, filter
   columns); the plan's filters are applied in order, each exclusion counted. Unit ids must be
   present and unique; amounts numbers >= 0.
2. **Order.** The frame is sorted by unit id -- as whole numbers when every id is a number,
   otherwise as text in Unicode code-point order -- so the sample never depends on the order of
   the export. Units are numbered 1..N_h in that order within each stratum.
3. **Strata.** By the values of ``strata.by`` columns, by dollar bands ``[e_i, e_i+1)`` of a
   numeric column (the last band open-ended), or both (every combination); units at or above the
   ``certainty`` threshold form one certainty stratum taken in full. An empty stratum is an error
   naming it (unless ``skip_empty``).
4. **Sizes.** ``n`` (simple), ``per_stratum`` (a number or one per stratum), ``total`` with
   proportional / Neyman / equal allocation (:func:`audit_kit.stats.allocate`; Neyman uses the
   frame's SD of the sampling variable per stratum), or ``target`` (confidence and precision with
   a probe sample, :mod:`audit_kit.stats`). A stratum with N_h <= n_h is taken in full (census).
5. **Draw.** A simple design draws frame numbers 1..N from the audit seed itself, so with the
   ``ratstats`` generator they are exactly what RAT-STATS single-stage prints for that seed.
   A stratified design gives each stratum its own stream, seeded by
   :func:`audit_kit.rng.stratum_seed` (SHA-256 of ``"<seed>|<stratum label>"``), so adding a
   stratum never changes another. Spares follow the sample in the order drawn.
6. **Record.** plan.yaml (as used, seed filled in), sampling.json, sampling.txt and sample.csv
   are written in one audit-folder transaction.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from audit_kit import rng as rng_mod
from audit_kit._version import __version__
from audit_kit.audit import AuditFolder, now_iso, sha256_bytes
from audit_kit.errors import (
    AuditError,
    InputError,
    IntegrityError,
    PlanError,
    Problem,
    SamplingError,
    StatisticsError,
)
from audit_kit.plan import (
    AMOUNT_FIELDS,
    NO_VALUE_OPS,
    FilterOp,
    FrameFilter,
    SamplingPlan,
    load_plan_text,
    parse_plan_text,
    with_seed,
)
from audit_kit.pseudonym import key_fingerprint, load_key, pseudonymise
from audit_kit.universe import (
    ROW,
    Encoding,
    Universe,
    duplicate_problem,
    missing_column_problems,
    negative_problem,
    open_universe,
    parse_amounts,
    parse_dates,
    row_problem,
)

__all__ = [
    "DESIGN_COLUMNS",
    "SampleSummary",
    "Stratum",
    "VerifyReport",
    "draw_sample",
    "read_sample",
    "verify_audit",
]

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


def _noop(_: str) -> None:
    pass


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


# -- the frame -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Frame:
    """The frame after filters, as arrays aligned by frame position (file order)."""

    rows: np.ndarray[Any, np.dtype[np.uint32]]  # 0-based data row in the file
    ids: pl.Series  # unit ids as text
    order: np.ndarray[Any, np.dtype[np.int64]]  # frame positions in unit-id order
    by_code: np.ndarray[Any, np.dtype[np.int64]]  # strata.by values, mixed-radix code
    by_values: list[list[str]]  # per strata.by column: the labels, sorted
    variables: dict[str, np.ndarray[Any, np.dtype[np.float64]]]  # design amounts by column
    file_rows: int  # data rows in the file
    excluded: list[dict[str, Any]]
    order_rule: str

    @property
    def size(self) -> int:
        return len(self.rows)


def _num(col: str) -> str:
    return f"__num:{col}"


def _date(col: str) -> str:
    return f"__date:{col}"


def _value_kind(flt: FrameFilter) -> str:
    if flt.op in NO_VALUE_OPS:
        return "none"
    values = flt.value if isinstance(flt.value, list) else [flt.value]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "number"
    if all(isinstance(v, dt.date) for v in values):
        return "date"
    return "text"


def _filter_mask(frame: pl.DataFrame, col: str, flt: FrameFilter) -> pl.Series:
    """Evaluate one filter; an empty cell passes only the negative tests (!=, not in, is empty)."""
    kind = _value_kind(flt)
    if kind == "number":
        series = frame[_num(col)]
    elif kind == "date":
        series = frame[_date(col)]
    else:
        series = frame[col].cast(pl.String).str.strip_chars()
    value = flt.value
    if kind == "date":
        value = [_as_date(v) for v in value] if isinstance(value, list) else _as_date(value)
    op = flt.op
    blank = series.is_null() if kind != "text" else series.is_null() | (series == "")
    if op is FilterOp.IS_EMPTY:
        return blank
    if op is FilterOp.NOT_EMPTY:
        return ~blank
    if op is FilterOp.GT:
        mask = series > value
    elif op is FilterOp.GE:
        mask = series >= value
    elif op is FilterOp.LT:
        mask = series < value
    elif op is FilterOp.LE:
        mask = series <= value
    elif op is FilterOp.EQ:
        mask = series == value
    elif op is FilterOp.NE:
        return _filled(series != value, True)
    elif op is FilterOp.IN:
        mask = series.is_in(list(value))
    elif op is FilterOp.NOT_IN:
        return _filled(~series.is_in(list(value)), True)
    else:  # between, both ends included
        mask = (series >= value[0]) & (series <= value[1])
    out: pl.Series = mask.fill_null(False)
    return out


def _filled(mask: pl.Series, value: bool) -> pl.Series:
    out: pl.Series = mask.fill_null(value)
    return out


def _as_date(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _id_order(
    ids: pl.Series,
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], str, list[np.ndarray[Any, np.dtype[np.int64]]]]:
    """Return positions sorted by unit id, the ordering rule, and the groups of repeated ids.

    Ids are compared as whole numbers when every id is a number, else as text (byte order of
    UTF-8, which is Unicode code-point order).
    """
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64), ORDER_TEXT, []
    bounds = [str(ids.min()), str(ids.max())]
    if not all(b.isdigit() for b in bounds) or not bool(ids.str.contains(r"^[0-9]+$").all()):
        order, ties = _text_order(ids)
        return order, ORDER_TEXT, ties
    lengths = ids.str.len_bytes()
    longest = int(lengths.max())  # type: ignore[arg-type]
    if int(lengths.min()) == longest:  # type: ignore[arg-type]
        order, ties = _text_order(ids)  # same width: text order is numeric order
        return order, ORDER_NUMERIC, ties
    if longest <= 18 and not bool(ids.str.contains(r"^0[0-9]").any()):
        values = ids.cast(pl.UInt64).to_numpy()
        order = np.argsort(values, kind="stable").astype(np.int64)
        ranked = values[order]
        return order, ORDER_NUMERIC, _runs(order, ranked[1:] == ranked[:-1])
    # Leading zeros and varying widths: compare the numbers, then (007 vs 7) the text.
    padded = ids.str.strip_chars_start("0").str.pad_start(longest, "0")
    order, ties = _text_order(padded)
    repeated: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    for group in ties:
        texts = ids.gather(group).to_list()
        ranked_group = group[np.argsort(np.array(texts, dtype=object), kind="stable")]
        start = int(np.flatnonzero(order == group[0])[0])
        order[start : start + len(group)] = ranked_group
        texts = ids.gather(ranked_group).to_list()
        same = np.array([x == y for x, y in zip(texts, texts[1:], strict=False)], dtype=bool)
        repeated.extend(_runs(ranked_group, same))
    return order, ORDER_NUMERIC, repeated


def _runs(
    items: np.ndarray[Any, np.dtype[np.int64]], same_as_next: np.ndarray[Any, np.dtype[np.bool_]]
) -> list[np.ndarray[Any, np.dtype[np.int64]]]:
    """Split ``items`` into the runs where ``same_as_next`` holds (len(items) - 1 flags)."""
    if not same_as_next.any():
        return []
    starts = np.flatnonzero(np.concatenate([[True], ~same_as_next]))
    bounds = np.append(starts, len(items))
    return [items[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b - a > 1]


def _text_order(
    keys: pl.Series,
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], list[np.ndarray[Any, np.dtype[np.int64]]]]:
    """Sort text by its UTF-8 bytes, 8 bytes at a time as big-endian integers (polars' string
    sort is slow on millions of rows); return the order and the groups of identical keys."""
    n = len(keys)
    low, high = str(keys.min()).encode(), str(keys.max()).encode()
    offset = len(_common_prefix(low, high))  # bytes every key shares: nothing to compare there
    lengths = keys.str.len_bytes()
    longest = int(lengths.max())  # type: ignore[arg-type]
    shortest = int(lengths.min())  # type: ignore[arg-type]
    if shortest == longest >= 8:
        offset = min(offset, longest - 8)  # same width: compare the last 8 bytes, no padding
    # Keys shorter than the bytes compared are padded with NUL (shorter sorts first).
    pad = "\x00" * 8 if shortest < offset + 8 else ""
    text = pl.col("k") + pad if pad else pl.col("k")
    padded = pl.DataFrame({"k": keys}).select(text.cast(pl.Binary))
    order = np.zeros(0, dtype=np.int64)
    active: np.ndarray[Any, np.dtype[np.int64]] | None = None  # order indexes still tied
    group = np.zeros(0, dtype=np.int64)
    while True:
        part = padded if active is None else padded[order[active]]
        chunk = part.select(
            pl.col("k").bin.slice(offset, 8).bin.reinterpret(dtype=pl.UInt64, endianness="big")
        ).to_series()
        if active is None:
            perm = chunk.arg_sort().to_numpy().astype(np.int64)
            order, positions = perm, perm
            values = chunk.to_numpy()[perm]
            same = values[1:] == values[:-1]
        else:
            perm = (
                pl.DataFrame({"g": group, "c": chunk})
                .select(pl.arg_sort_by(["g", "c"]))
                .to_series()
                .to_numpy()
            )
            order[active] = order[active][perm]
            positions = order[active]
            values, group = chunk.to_numpy()[perm], group[perm]
            same = (values[1:] == values[:-1]) & (group[1:] == group[:-1])
        offset += 8
        if not same.any():
            return order, []
        if offset >= longest:
            return order, _runs(positions, same)
        tied = np.zeros(len(values), dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        run = np.cumsum(np.concatenate([[True], ~same]))
        indexes = np.arange(n, dtype=np.int64) if active is None else active
        active, group = indexes[tied], run[tied]


def _common_prefix(a: bytes, b: bytes) -> bytes:
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1
    return a[:size]


class _Problems:
    """Problems of one universe, collected to be raised together."""

    def __init__(self, universe: Universe) -> None:
        self.universe = universe
        self.items: list[Problem] = []

    def rows(self, frame: pl.DataFrame, mask: pl.Series, **kwargs: str) -> None:
        problem = row_problem(self.universe, frame, mask, **kwargs)
        if problem is not None:
            self.items.append(problem)


def _build_frame(plan: SamplingPlan, universe: Universe, say: Progress) -> _Frame:
    """Read, filter, validate and order the frame; raise one InputError with every problem."""
    problems = _Problems(universe)
    cols = plan.columns
    id_col = cols.unit_id
    strata = plan.design.strata
    wanted: dict[str, str] = {}
    for name, mapped in cols.mapped().items():
        for j, col in enumerate(mapped):
            wanted[f"columns.{name}" + (f"[{j}]" if len(mapped) > 1 else "")] = col
    for j, col in enumerate(cols.keep):
        wanted[f"columns.keep[{j}]"] = col
    for key, name in plan.references().items():
        wanted.setdefault(key, plan.column_for(name))
    problems.items.extend(missing_column_problems(universe, wanted))
    present = set(universe.columns)

    amount_cols = {f: plan.column_for(f) for f in AMOUNT_FIELDS if cols.columns_for(f)}
    by_cols = [plan.column_for(n) for n in strata.by] if strata else []
    bands, cert = (strata.dollar_bands, strata.certainty) if strata else (None, None)
    band_col = plan.column_for(bands.column) if bands else None
    cert_col = plan.column_for(cert.column) if cert else None
    var_name = plan.allocation_variable()
    var_col = plan.column_for(var_name) if var_name else None
    variables = {c for c in (band_col, cert_col, var_col) if c is not None}
    numeric = set(amount_cols.values()) | variables
    dates: set[str] = set()
    for flt in plan.frame.filters:
        kind = _value_kind(flt)
        if kind == "number":
            numeric.add(plan.column_for(flt.column))
        elif kind == "date":
            dates.add(plan.column_for(flt.column))
    needed = [id_col, *by_cols, *sorted(numeric | dates)]
    needed += [plan.column_for(f.column) for f in plan.frame.filters]
    needed = [c for c in dict.fromkeys(needed) if c in present]

    say(f"Reading the frame columns: {', '.join(needed)}")
    raw = universe.read(needed, numeric=numeric, wait=False)
    if needed and raw.height and universe.format == "csv":
        blank = raw.select(pl.all_horizontal(pl.col(needed).is_null())).to_series()
        if bool(blank[-1]):
            nonblank = np.flatnonzero(~blank.to_numpy())
            last = int(nonblank[-1]) + 1 if nonblank.size else 0
            universe.notes.append(f"{raw.height - last} empty lines at the end were ignored.")
            raw = raw.head(last)
    universe.rows = raw.height
    if raw.height == 0:
        problems.items.append(
            Problem(
                where=str(universe.path),
                expected="one row per unit below the header",
                found="a header row only, no data rows",
                fix="export the universe again with its rows.",
            )
        )
        raise InputError("The universe file has no units.", problems.items)

    added: list[pl.Series] = []
    bad: dict[str, pl.Series] = {}
    for col in sorted(numeric & present):
        values, flags = parse_amounts(raw[col])
        added.append(values.alias(_num(col)))
        bad[f"num:{col}"] = flags
    for col in sorted(dates & present):
        values, flags = parse_dates(raw[col])
        added.append(values.alias(_date(col)))
        bad[f"date:{col}"] = flags
    if added:
        raw = raw.with_columns(added)

    def report_bad(key: str, alive: pl.Series) -> None:
        flags = bad.pop(key, None)
        if flags is None:
            return
        kind, col = key.split(":", 1)
        problems.rows(
            raw,
            flags & alive,
            column=col,
            role=_role(plan, col),
            expected="a number (e.g. 1234.56)"
            if kind == "num"
            else "a date (2026-07-01, 07/01/2026 or 20260701)",
            found="a value that is not a number" if kind == "num" else "a value that is not a date",
            fix="correct those cells in the export (a frame filter cannot judge them).",
        )

    alive = pl.Series("alive", np.ones(raw.height, dtype=bool))
    excluded: list[dict[str, Any]] = []
    for flt in plan.frame.filters:
        col = plan.column_for(flt.column)
        if col not in present:
            continue
        report_bad(f"num:{col}", alive)
        report_bad(f"date:{col}", alive)
        passing = alive & _filter_mask(raw, col, flt)
        excluded.append({"filter": flt.describe(), "rows": int(alive.sum()) - int(passing.sum())})
        alive = passing
    for key in list(bad):
        report_bad(key, alive)
    everyone = bool(alive.all())
    kept = np.arange(raw.height) if everyone else np.flatnonzero(alive.to_numpy())

    ids = pl.Series("id", [], dtype=pl.String)
    order = np.zeros(0, dtype=np.int64)
    rule = ORDER_TEXT
    by_code = np.zeros(len(kept), dtype=np.int64)
    by_values: list[list[str]] = []
    if not kept.size:
        detail = "; ".join(f"{e['filter']}: {e['rows']} rows" for e in excluded)
        problems.items.append(
            Problem(
                where=f"{universe.path}: frame",
                expected="at least one unit left after the frame filters",
                found=f"none of {raw.height} rows ({detail})",
                fix="check the filters under frame.filters (values, dates, column names).",
            )
        )
    elif id_col in present:
        all_ids = raw[id_col].cast(pl.String).fill_null("")
        ids = all_ids if everyone else all_ids.filter(alive)
        empty = all_ids == ""
        if str(ids.filter(ids != "").min() or "x")[:1].isspace():  # blanks sort first
            empty = all_ids.str.strip_chars() == ""
        problems.rows(
            raw,
            empty & alive,
            column=id_col,
            role="unit_id",
            expected="a unit id in every row",
            found="an empty unit id",
            fix="fill in the ids, or delete those rows (blank lines count too).",
        )
        say(f"Ordering {len(kept):,} units by unit id")
        order, rule, repeated = _id_order(ids)
        file_rows = raw[ROW].to_numpy()
        groups = [
            (ids[int(g[0])], [int(file_rows[kept[int(p)]]) for p in g])
            for g in repeated
            if ids[int(g[0])].strip()
        ]
        duplicate = duplicate_problem(universe, groups, id_col)
        if duplicate is not None:
            problems.items.append(duplicate)
        for col in sorted((set(amount_cols.values()) | variables) & present):
            values = raw[_num(col)]
            negative = negative_problem(
                universe, raw, values, column=col, role=_field_of(plan, col), within=alive
            )
            if negative is not None:
                problems.items.append(negative)
            if col in variables:
                problems.rows(
                    raw,
                    values.is_null() & alive,
                    column=col,
                    role=_role(plan, col),
                    expected="an amount in every row (the design uses it)",
                    found="an empty cell",
                    fix="fill it in, or exclude those rows: "
                    f"{{column: {_field_of(plan, col)}, op: not empty}}.",
                )
        for col in by_cols:
            if col not in present:
                continue
            codes, labels = _label_codes(raw[col])
            problems.rows(
                raw,
                pl.Series(codes < 0) & alive,
                column=col,
                role=_role(plan, col),
                expected="a value in every row (it defines the strata)",
                found="an empty cell",
                fix="fill it in, or exclude those rows: "
                f"{{column: {_field_of(plan, col)}, op: not empty}}.",
            )
            by_code = by_code * max(len(labels), 1) + np.maximum(codes[kept], 0)
            by_values.append(labels)
        if band_col is not None and band_col in present and bands is not None:
            low = bands.edges[0]
            problems.rows(
                raw,
                (raw[_num(band_col)] < low).fill_null(False) & alive,
                column=band_col,
                role=_role(plan, band_col),
                expected=f"a value >= the first band edge ({_money(low)})",
                found="a value below every band",
                fix=f"lower the first edge to 0, or add a filter {{column: "
                f"{_field_of(plan, band_col)}, op: '>=', value: {low:g}}}.",
            )
    if problems.items:
        raise InputError(f"The universe file has {len(problems.items)} problem(s).", problems.items)
    say(f"Frame: {len(kept):,} units after filters")
    return _Frame(
        rows=raw[ROW].to_numpy()[kept],
        ids=ids,
        order=order,
        by_code=by_code,
        by_values=by_values,
        variables={v: raw[_num(v)].to_numpy()[kept] for v in sorted(variables)},
        file_rows=raw.height,
        excluded=excluded,
        order_rule=rule,
    )


def _label_codes(column: pl.Series) -> tuple[np.ndarray[Any, np.dtype[np.int64]], list[str]]:
    """Code each cell by its label (the text, stripped), labels sorted; -1 for an empty cell."""
    text = column.cast(pl.String)
    raw_values = text.drop_nulls().unique().to_list()
    labels = sorted({v.strip() for v in raw_values} - {""})
    index = {label: i for i, label in enumerate(labels)}
    physical = text.cast(pl.Enum(raw_values)).to_physical().fill_null(len(raw_values))
    lookup = np.array([index.get(v.strip(), -1) for v in raw_values] + [-1], dtype=np.int64)
    return lookup[physical.to_numpy()], labels


def _field_of(plan: SamplingPlan, col: str) -> str:
    for name, mapped in plan.columns.mapped().items():
        if mapped == [col]:
            return name
    return col


def _role(plan: SamplingPlan, col: str) -> str:
    name = _field_of(plan, col)
    return name if name != col else "frame column"


def _sd(values: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    return float(np.std(values, ddof=1)) if values.size > 1 else 0.0


def _money(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


# -- strata ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _StratumDef:
    label: str
    definition: dict[str, Any]
    certainty: bool
    positions: np.ndarray[Any, np.dtype[np.int64]]  # frame positions in unit-id order


def _band_label(name: str, edges: Sequence[float], index: int, cap: float | None) -> str:
    low = edges[index]
    high = edges[index + 1] if index + 1 < len(edges) else cap
    if high is None:
        return f"{name} >= {_money(low)}"
    return f"{name} {_money(low)} to <{_money(high)}"


def _strata(plan: SamplingPlan, frame: _Frame) -> tuple[list[_StratumDef], list[str]]:
    """Assign units to strata; return the strata in design order, and notes (dropped cells).

    Each unit gets an integer stratum code (by-values in sorted order, then band, certainty
    last); positions are grouped by code keeping unit-id order.
    """
    design = plan.design.strata
    if plan.design.method == "simple" or design is None:
        return [_StratumDef(SIMPLE_LABEL, {}, False, frame.order)], []
    n = frame.size
    values_by = frame.by_values
    bands = design.dollar_bands
    band_count = len(bands.edges) if bands is not None else 1
    code = frame.by_code * band_count if band_count > 1 else frame.by_code.copy()
    if bands is not None:
        amounts = frame.variables[plan.column_for(bands.column)]
        for edge in bands.edges[1:]:  # band index = number of upper edges reached
            code += amounts >= edge
    cert = design.certainty
    certain = np.zeros(n, dtype=bool)
    if cert is not None:
        certain = frame.variables[plan.column_for(cert.column)] >= cert.at_least
    combos = _distinct(code[~certain] // band_count) if design.by else np.zeros(1, dtype=np.int64)
    defs: list[_StratumDef] = []
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
                parts.append(_band_label(bands.column, bands.edges, b, cap))
                definition["band"] = {
                    "column": bands.column,
                    "from": bands.edges[b],
                    "below": bands.edges[b + 1] if b + 1 < band_count else cap,
                }
            if not parts:  # certainty only: the other units form one stratum
                assert cert is not None
                parts = [f"{cert.column} < {_money(cert.at_least)}"]
                definition["below"] = {"column": cert.column, "value": cert.at_least}
            defs.append(_StratumDef(" / ".join(parts), definition, False, frame.order[:0]))
            codes.append(int(combo) * band_count + b)
    certain_code = (max(codes) + 1) if codes else 0
    if cert is not None:
        label = f"certainty: {cert.column} >= {_money(cert.at_least)}"
        definition = {"certainty": {"column": cert.column, "at_least": cert.at_least}}
        defs.append(_StratumDef(label, definition, True, frame.order[:0]))
        codes.append(certain_code)
        code = np.where(certain, certain_code, code)
    ranked = _stratum_index(code, codes)[frame.order]
    perm = np.argsort(ranked, kind="stable")  # a radix sort for 16-bit stratum indexes
    grouped = frame.order[perm]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(ranked, minlength=len(defs)))])
    for i, d in enumerate(defs):
        d.positions = grouped[bounds[i] : bounds[i + 1]]
    empty = [d.label for d in defs if d.positions.size == 0]
    notes: list[str] = []
    if empty and design.skip_empty:
        defs = [d for d in defs if d.positions.size]
        notes.append(
            f"{len(empty)} strata had no units and were left out (skip_empty): "
            f"{', '.join(empty[:10])}{' ...' if len(empty) > 10 else ''}"
        )
    elif empty:
        raise SamplingError(
            f"The design has {len(empty)} empty stratum(s).",
            [
                Problem(
                    where=f"stratum '{label}'",
                    expected="at least one unit in every stratum of the design",
                    found="no units in the frame",
                    fix="merge or drop that band (design.strata.dollar_bands.edges), lower the "
                    "certainty threshold, or set design.strata.skip_empty: true.",
                )
                for label in empty
            ],
        )
    return defs, notes


def _unpack(combo: int, values_by: list[list[str]]) -> list[str]:
    """The by-values of a mixed-radix combination code."""
    out: list[str] = []
    for values in reversed(values_by):
        combo, digit = divmod(combo, len(values))
        out.append(values[digit])
    return out[::-1]


def _stratum_index(
    code: np.ndarray[Any, np.dtype[np.int64]], codes: list[int]
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Map each unit's stratum code to the index of its stratum in ``codes``."""
    table = np.asarray(codes, dtype=np.int64)
    small = np.uint16 if len(table) < 65_535 else np.int64
    if int(table.max()) < 50_000_000:
        lookup = np.zeros(int(table.max()) + 1, dtype=small)
        lookup[table] = np.arange(len(table))
        out: np.ndarray[Any, np.dtype[np.int64]] = lookup[code]
        return out
    order = np.argsort(table)
    where = np.searchsorted(table[order], code)
    return order[np.minimum(where, len(table) - 1)].astype(np.int64)


def _distinct(values: np.ndarray[Any, np.dtype[np.int64]]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The sorted distinct values of non-negative integer codes."""
    if values.size and int(values.max()) < 50_000_000:
        return np.flatnonzero(np.bincount(values)).astype(np.int64)
    return np.unique(values)


# -- sizes -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Sizes:
    n: dict[str, int]
    record: dict[str, Any]


def _sizes(
    plan: SamplingPlan,
    defs: list[_StratumDef],
    frame: _Frame,
    *,
    plan_dir: Path | None,
    probe: dict[str, Any] | None,
) -> _Sizes:
    size = plan.size
    pops = {d.label: int(d.positions.size) for d in defs}
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
                    where="plan: size.n",
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
                        where=f"plan: size.per_stratum.{key}",
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
                        where="plan: size.per_stratum",
                        expected="a size for every stratum",
                        found=f"{len(missing)} strata without one: " + ", ".join(missing[:12]),
                        fix="add them, or use per_stratum: <number> for all.",
                    )
                )
            for d in regular:
                if d.label in per:
                    n[d.label] = min(per[d.label], pops[d.label])
    else:
        total = size.total
        assert total is not None
        certain = sum(pops[d.label] for d in defs if d.certainty)
        remaining = total.total - certain
        record.update(
            total=total.total,
            allocation=total.allocation.value,
            minimum_per_stratum=size.minimum_per_stratum,
            certainty_units=certain,
        )
        if total.total > total_n:
            problems.append(
                Problem(
                    where="plan: size.total.total",
                    expected=f"at most N = {total_n:,} (the units in the frame)",
                    found=f"{total.total:,}",
                    fix="lower the total.",
                )
            )
        elif remaining < 0 or (remaining == 0 and regular):
            problems.append(
                Problem(
                    where="plan: size.total.total",
                    expected=f"more than the {certain:,} certainty units (they count in the total)",
                    found=f"{total.total:,}",
                    fix="raise the total or the certainty threshold.",
                )
            )
        elif regular:
            sds: dict[str, float] | None = None
            if total.allocation.value == "neyman":
                values = frame.variables[plan.column_for(plan.allocation_variable() or "paid")]
                sds = {d.label: _sd(values[d.positions]) for d in regular}
                record["variable"] = plan.allocation_variable()
                record["sd"] = sds
            try:
                from audit_kit.stats import allocate

                allocated = allocate(
                    remaining,
                    {d.label: pops[d.label] for d in regular},
                    method=total.allocation.value,
                    sds=sds,
                    minimum=size.minimum_per_stratum,
                )
            except StatisticsError as exc:
                problems.extend(
                    Problem(
                        where=f"plan: size.total ({p.where})",
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
                + f", at least {size.minimum_per_stratum} per stratum"
            )
    if problems:
        raise SamplingError("The sample sizes cannot be drawn from this frame.", problems)
    record["n"] = sum(n.values())
    return _Sizes(n, record)


def _target_size(
    plan: SamplingPlan, population: int, *, plan_dir: Path | None, probe: dict[str, Any] | None
) -> tuple[int, dict[str, Any]]:
    """Sample size from a target confidence and precision and a probe sample (SPEC 6.3)."""
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
        raise InputError(
            "Cannot read the probe sample.",
            [
                Problem(
                    where=str(path),
                    expected="a CSV of the probe sample's values",
                    found=type(exc).__name__,
                    fix="check size.target.probe_file (relative to the plan file).",
                )
            ],
        ) from None
    column = target.probe_column or (probe.columns[-1] if probe.columns else "")
    if column not in probe.columns:
        raise InputError(
            "The probe sample has no such column.",
            [
                Problem(
                    where=f"{path}: column '{column}'",
                    expected="one of " + ", ".join(probe.columns),
                    found="no such column",
                    fix="set size.target.probe_column.",
                )
            ],
        )
    values, bad = parse_amounts(probe[column])
    if bool(bad.any()) or values.null_count() or len(values) < 2:
        raise InputError(
            "The probe sample cannot be used.",
            [
                Problem(
                    where=f"{path}: column '{column}'",
                    expected="at least 2 numbers, no empty or non-numeric cells",
                    found=f"{len(values)} rows, {int(bad.sum()) + values.null_count()} unusable",
                    fix="correct the probe file.",
                )
            ],
        )
    array = values.to_numpy()
    return {
        "mean": float(array.mean()),
        "sd": float(array.std(ddof=1)),
        "size": int(array.size),
        "source": path.name,
        "sha256": sha256_bytes(path.read_bytes()),
    }


# -- the draw --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Drawn:
    universe: Universe
    frame: _Frame
    strata: list[Stratum]
    sample: pl.DataFrame  # sample.csv before pseudonymisation
    sizes: _Sizes
    generator: dict[str, Any]
    notes: list[str]


def _seed_used(generator: str, seed: int | float) -> int | float:
    if generator == "ratstats":
        return rng_mod.ratstats_seed(float(seed))
    if isinstance(seed, float) and not seed.is_integer():
        raise PlanError(
            "The seed does not suit the generator.",
            [
                Problem(
                    where="seed",
                    expected="a whole number for generator pcg64",
                    found=repr(seed),
                    fix="use a whole number, or rng.generator: ratstats for decimal seeds.",
                )
            ],
        )
    return int(seed)


def _draw(
    plan: SamplingPlan,
    universe: Universe,
    seed: int | float,
    *,
    say: Progress,
    plan_dir: Path | None,
    probe: dict[str, Any] | None = None,
) -> _Drawn:
    generator = plan.rng.generator
    used = _seed_used(generator, seed)
    frame = _build_frame(plan, universe, say)
    defs, notes = _strata(plan, frame)
    sizes = _sizes(plan, defs, frame, plan_dir=plan_dir, probe=probe)
    if universe.finish():  # the bytes were not UTF-8: the frame is read again as Latin-1
        return _draw(plan, universe, seed, say=say, plan_dir=plan_dir, probe=probe)
    say(f"Drawing {sizes.record['n']:,} units from {len(defs):,} strata ({generator})")
    strata: list[Stratum] = []
    # (stratum index, position in the frame, frame number, selection order, spare)
    picks: list[tuple[int, int, int, int, bool]] = []
    simple = plan.design.method == "simple"
    gen_name = rng_mod.GeneratorName(generator)
    for index, d in enumerate(defs):
        pop = int(d.positions.size)
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
        for order, number in enumerate(numbers, start=1):
            picks.append((index, int(d.positions[number - 1]), number, order, order > n_h))
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
    table = pl.DataFrame(
        picks,
        schema={
            "__stratum": pl.Int64,
            "__pos": pl.Int64,
            "frame_number": pl.Int64,
            "selection_order": pl.Int64,
            "spare": pl.Boolean,
        },
        orient="row",
    )
    picked = table["__pos"].to_numpy()
    table = table.with_columns(
        pl.Series(ROW, frame.rows[picked], dtype=pl.UInt32),
        frame.ids.gather(picked).alias("__id"),
    )
    labels = pl.Series([s.label for s in strata])
    weights = pl.Series([s.weight for s in strata])
    table = table.with_columns(
        labels.gather(table["__stratum"]).alias("stratum"),
        weights.gather(table["__stratum"]).alias("weight"),
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
    gen: dict[str, Any] = {
        "name": generator,
        "seed_used": used,
        "version": _generator_version(generator),
    }
    if generator == "ratstats":
        gen["caveat"] = RATSTATS_CAVEAT
        if simple:
            gen["wh_seeds"] = list(rng_mod.ratstats_wh_seeds(float(used)))
    if not simple:
        gen["stratum_streams"] = STREAM_RULE
    return _Drawn(universe, frame, strata, sample, sizes, gen, notes)


def _generator_version(generator: str) -> str:
    if generator == "ratstats":
        return f"RAT-STATS 2010 single-stage emulation (audit-kit {__version__})"
    return f"NumPy {np.__version__} PCG64, Generator.integers one value at a time"


# -- records ---------------------------------------------------------------------------------


def _sampling_record(
    plan: SamplingPlan,
    drawn: _Drawn,
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
            "period": plan.period,
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
        "notes": drawn.notes + drawn.universe.notes,
        "tool_version": __version__,
        "created_at": created_at,
    }
    return record


def _sampling_statement(plan: SamplingPlan, record: dict[str, Any], drawn: _Drawn) -> str:
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
        f"  The universe is the file {uni['file']} (SHA-256 {uni['sha256']}), "
        f"{uni['rows']:,} rows.",
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
        "plan.yaml and the recorded seed and proves it identical to sample.csv.",
        "",
        f"audit-kit {record['tool_version']}, {record['created_at']}.",
    ]
    return "\n".join(lines) + "\n"


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


# -- entry points ----------------------------------------------------------------------------


def draw_sample(
    plan_path: Path | str,
    universe: Path,
    out: Path,
    *,
    seed: float | None = None,
    force: bool = False,
    progress: Progress | None = None,
    key_file: Path | None = None,
    encoding: Encoding = "auto",
    sheet: str | None = None,
) -> SampleSummary:
    """Draw the plan's sample from the universe and create the audit folder ``out``.

    Writes plan.yaml (the plan text as used, seed filled in when generated or given here),
    sampling.json, sampling.txt and sample.csv in one transaction; nothing is written if any
    check fails. ``seed`` overrides a plan without a seed (a different plan seed is refused);
    ``key_file`` is required when the plan sets ``pseudonymise: true``.
    """
    say = progress or _noop
    out = Path(out)
    plan, text, resolved = load_plan_text(plan_path)
    if out.exists() and out.is_dir() and any(out.iterdir()) and not force:
        AuditFolder.create(out, name=plan.name)  # raises the "non-empty folder" error
    key = _key_for(plan, key_file, out)
    entered = plan.rng.seed
    if seed is not None and entered is not None and float(seed) != float(entered):
        raise PlanError(
            "Two different seeds.",
            [
                Problem(
                    where=f"{resolved}: rng.seed",
                    expected=f"the same seed as --seed {seed}, or no seed in the plan",
                    found=str(entered),
                    fix="drop --seed, or remove rng.seed from the plan.",
                )
            ],
        )
    seed_entered = entered if entered is not None else seed
    seed_value = seed_entered if seed_entered is not None else rng_mod.new_seed()
    if seed_value != entered:
        text = with_seed(text, seed_value)
    uni = open_universe(universe, encoding=encoding, sheet=sheet, progress=say)
    drawn = _draw(plan, uni, seed_value, say=say, plan_dir=resolved.parent)
    sample = drawn.sample
    fingerprint = None
    if plan.pseudonymise:
        assert key is not None
        sample = pseudonymise(sample, plan.columns.phi_columns(), key)
        fingerprint = key_fingerprint(key)
    read_options = {"encoding": encoding, "delimiter": uni.delimiter, "sheet": uni.sheet}
    say(f"Writing the audit folder {out}")
    folder = AuditFolder.create(out, name=plan.name, force=force)
    record = _sampling_record(
        plan,
        drawn,
        audit_id=folder.audit_id,
        seed=seed_value,
        generated=seed_entered is None,
        plan_sha=sha256_bytes(text.encode("utf-8")),
        fingerprint=fingerprint,
        read_options=read_options,
        created_at=now_iso(),
    )
    statement = _sampling_statement(plan, record, drawn)
    details = {
        "population": record["frame"]["size"],
        "sample": record["sample_size"]["n"],
        "spares": record["spares"]["total"],
        "strata": len(drawn.strata),
        "generator": plan.rng.generator,
        "seed": record["generator"]["seed"],
    }
    inputs = {uni.path.name: uni.sha256, "plan": sha256_bytes(resolved.read_bytes())}
    with folder.transaction("sample", inputs=inputs, details=details) as tx:
        tx.write_text("plan.yaml", text)
        tx.write_json("sampling.json", record)
        tx.write_text("sampling.txt", statement)
        tx.write_bytes("sample.csv", _csv_bytes(sample))
    return SampleSummary(
        audit_dir=out,
        audit_id=folder.audit_id,
        plan_name=plan.name,
        universe_file=uni.path.name,
        universe_rows=drawn.frame.file_rows,
        population=record["frame"]["size"],
        sample_size=record["sample_size"]["n"],
        spares=record["spares"]["total"],
        strata=tuple(drawn.strata),
        generator=plan.rng.generator,
        seed=record["generator"]["seed"],
        seed_generated=seed_entered is None,
        excluded=tuple((e["filter"], e["rows"]) for e in drawn.frame.excluded),
        files=("plan.yaml", "sampling.json", "sampling.txt", "sample.csv"),
        notes=tuple(record["notes"]),
    )


def _key_for(plan: SamplingPlan, key_file: Path | None, out: Path) -> bytes | None:
    if plan.pseudonymise and key_file is None:
        raise AuditError(
            "This plan pseudonymises patient identifiers and needs a key.",
            [
                Problem(
                    where="--key-file",
                    expected="the path of your pseudonymisation key (outside the audit folder)",
                    found="none",
                    fix='make one once: python -c "import secrets; print(secrets.token_hex(32))" '
                    "> ~/.audit-kit/pseudonym.key, then pass --key-file with that path.",
                )
            ],
        )
    if key_file is not None and not plan.pseudonymise:
        raise AuditError(
            "A key file was given but the plan does not pseudonymise.",
            [
                Problem(
                    where="--key-file",
                    expected="pseudonymise: true in the plan",
                    found="pseudonymise: false",
                    fix="add pseudonymise: true to the plan, or drop --key-file.",
                )
            ],
        )
    return load_key(key_file, audit_dir=out) if key_file is not None else None


def read_sample(audit: Path | AuditFolder) -> pl.DataFrame:
    """Read sample.csv (hash-checked): universe columns as text, design columns typed."""
    folder = audit if isinstance(audit, AuditFolder) else AuditFolder.open(Path(audit))
    data = folder.read_bytes("sample.csv")
    types = {
        "frame_number": pl.Int64,
        "selection_order": pl.Int64,
        "spare": pl.Boolean,
        "weight": pl.Float64,
    }
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    return frame.with_columns(
        (pl.col(c).str.to_lowercase() == "true").alias(c) if t == pl.Boolean else pl.col(c).cast(t)
        for c, t in types.items()
        if c in frame.columns
    )


def verify_audit(
    audit_dir: Path,
    universe: Path | None = None,
    *,
    key_file: Path | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Check every artifact's SHA-256; with the universe, re-draw and prove sample.csv identical.

    Raises :class:`IntegrityError` naming every failing file. Patient columns pseudonymised in
    sample.csv are compared only when ``key_file`` is given (the key is not in the folder).
    """
    say = progress or _noop
    folder = AuditFolder.open(Path(audit_dir))
    problems = folder.verify_hashes()
    files = len(folder.artifacts())
    notes: list[str] = []
    if universe is None:
        if problems:
            raise IntegrityError(_integrity_summary(problems), problems)
        return VerifyReport(
            audit_dir=folder.path, audit_id=folder.audit_id, files_checked=files, redrawn=False
        )
    changed = {Path(p.where).name for p in problems}
    if changed & {"plan.yaml", "sampling.json"}:
        raise IntegrityError(_integrity_summary(problems), problems)
    record = folder.read_json("sampling.json")
    text = folder.read_bytes("plan.yaml").decode("utf-8")
    plan = parse_plan_text(text, source=str(folder.file("plan.yaml")))
    options = record.get("universe", {}).get("read_options", {})
    uni = open_universe(
        universe,
        encoding=options.get("encoding", "auto"),
        delimiter=options.get("delimiter"),
        sheet=options.get("sheet"),
        progress=say,
    )
    if uni.sha256 != record["universe"]["sha256"]:
        problems.append(
            Problem(
                where=str(uni.path),
                expected=f"the universe sampled: {record['universe']['file']}, SHA-256 "
                f"{record['universe']['sha256']}",
                found=f"SHA-256 {uni.sha256}",
                fix="pass the universe file the sample was drawn from (archive it with the audit).",
            )
        )
    seed = plan.rng.seed if plan.rng.seed is not None else record["generator"]["seed"]
    probe = record.get("sample_size", {}).get("probe")
    drawn = _draw(plan, uni, seed, say=say, plan_dir=None, probe=probe)
    expected = drawn.sample
    phi = plan.columns.phi_columns() if plan.pseudonymise else []
    if phi and key_file is not None:
        key = load_key(key_file, audit_dir=folder.path)
        fingerprint = record.get("pseudonymisation", {}).get("key_fingerprint")
        if key_fingerprint(key) != fingerprint:
            problems.append(
                Problem(
                    where=str(key_file),
                    expected=f"the key used for this audit (fingerprint {fingerprint})",
                    found=f"another key (fingerprint {key_fingerprint(key)})",
                    fix="pass the key file used when sampling.",
                )
            )
        else:
            expected = pseudonymise(expected, phi, key)
            phi = []
    elif phi:
        notes.append(
            "Pseudonymised columns (" + ", ".join(phi) + ") were not compared: pass --key-file "
            "to compare them too."
        )
    if "sample.csv" not in changed:
        recorded = folder.read_bytes("sample.csv")
        mismatch = _compare_samples(recorded, _csv_bytes(expected), plan.columns.unit_id, skip=phi)
        if mismatch is not None:
            problems.append(
                Problem(
                    where=str(folder.file("sample.csv")),
                    expected=f"the sample re-drawn from plan.yaml, seed {seed} and "
                    f"{uni.path.name} ({expected.height} rows)",
                    found=mismatch,
                    fix="the sample was not drawn from this universe with this plan and seed; "
                    "restore the audit folder from its archive copy.",
                )
            )
    if problems:
        raise IntegrityError(_integrity_summary(problems), problems)
    return VerifyReport(
        audit_dir=folder.path,
        audit_id=folder.audit_id,
        files_checked=files,
        redrawn=True,
        units=expected.height,
        strata=len(drawn.strata),
        universe_file=uni.path.name,
        notes=tuple(notes),
    )


def _integrity_summary(problems: list[Problem]) -> str:
    names = sorted({Path(p.where.split(":")[0]).name for p in problems})
    return f"The audit folder fails verification ({len(problems)} problem(s): {', '.join(names)})."


def _compare_samples(
    recorded: bytes, expected: bytes, id_col: str, *, skip: list[str]
) -> str | None:
    """Return what differs between the recorded and the re-drawn sample.csv, or None."""
    if not skip and recorded == expected:
        return None
    a = pl.read_csv(io.BytesIO(recorded), infer_schema=False)
    b = pl.read_csv(io.BytesIO(expected), infer_schema=False)
    if a.columns != b.columns:
        return "other columns: " + ", ".join(a.columns)
    cols = [c for c in b.columns if c not in skip]
    a, b = a.select(cols), b.select(cols)
    if a.equals(b):
        return None if skip else "the same rows written differently"
    if a.height != b.height:
        return f"{a.height} rows instead of {b.height}"
    both = a.with_row_index("__i").join(b.with_row_index("__i"), on="__i", suffix="__b")
    bad = []
    for row in both.iter_rows(named=True):
        changed = [c for c in cols if row[c] != row[f"{c}__b"]]
        if changed:
            bad.append(f"row {row['__i'] + 2} (unit {row[id_col]}: {', '.join(changed)})")
    return f"{len(bad)} rows differ, e.g. " + "; ".join(bad[:3])
