"""The sampling frame: read the frame columns, filter, validate, order by unit id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from audit_kit.errors import InputError, Problem, Problems
from audit_kit.plan import (
    AMOUNT_FIELDS,
    HCC_FIELDS,
    NO_VALUE_OPS,
    FilterOp,
    FrameFilter,
    SamplingPlan,
    hcc_column_problems,
)
from audit_kit.sampling._record import ORDER_NUMERIC, ORDER_TEXT, Progress
from audit_kit.universe import (
    ROW,
    Universe,
    duplicate_problem,
    missing_column_problems,
    negative_problem,
    row_problem,
)
from audit_kit.values.dates import DATE_EXAMPLES, NotADate, date_series, is_date_text, parse_date
from audit_kit.values.demographics import EXPECTED, READERS
from audit_kit.values.money import MONEY_EXAMPLES, money_series

# -- the frame -------------------------------------------------------------------------------


#: Frame positions (indexes into the frame's arrays), of any integer type.
Positions = np.ndarray[Any, np.dtype[np.integer[Any]]]
_U64 = np.uint64


@dataclass(slots=True)
class Frame:
    """The frame after filters, as arrays aligned by frame position (file order).

    ``keys`` carry the unit-id order: one unsigned 64-bit key per unit, different for different
    ids, whose numeric order is the unit-id order. A stratum's frame numbers (ranks 1..N_h in
    unit-id order) are found from the keys (:meth:`pick`).
    """

    rows: np.ndarray[Any, np.dtype[np.uint32]]  # 0-based data row in the file
    ids: pl.Series  # unit ids as text
    keys: np.ndarray[Any, np.dtype[np.uint64]]  # unit-id order keys (see above)
    by_code: np.ndarray[Any, np.dtype[np.integer[Any]]]  # strata.by values, mixed-radix code
    by_values: list[list[str]]  # per strata.by column: the labels, sorted
    variables: dict[str, np.ndarray[Any, np.dtype[np.float64]]]  # design amounts by column
    file_rows: int  # data rows in the file
    excluded: list[dict[str, Any]]
    order_rule: str

    @property
    def size(self) -> int:
        return len(self.rows)

    def in_id_order(self, positions: Positions) -> Positions:
        """The given frame positions sorted by unit id."""
        out: Positions = positions[_argsort(self.keys[positions])]
        return out

    def pick(
        self,
        stratum: np.ndarray[Any, np.dtype[np.integer[Any]]],
        requests: Sequence[tuple[int, Sequence[int]]],
    ) -> list[Positions]:
        """Frame positions of the units with the requested frame numbers.

        ``stratum`` gives each unit's stratum index; a stratum's units are numbered 1..N_h in
        unit-id order. Each request is (stratum index, frame numbers); the answer keeps the
        requests' order and the numbers' order.

        No stratum is sorted by unit id. Each unit gets one 64-bit value, its stratum in the
        high bits and its key (less the smallest key) below; those values are sorted (the
        values only: fast, and parallel), and a unit's frame number is its place in that order
        less its stratum's start. With dense keys its position fits in the low bits too and
        comes out of the sort (:func:`_pick_packed`). Otherwise the key is shifted right if it
        does not fit, only the units whose value is at a requested place are looked up, and
        where a shifted value is shared, those units are put in order by their whole keys.
        """
        if not requests:
            return []
        keys = self.keys
        levels = int(stratum.max()) + 1
        low = keys.min()
        places = _places(stratum, levels, requests)
        packed = _pick_packed(keys, low, stratum, levels, places)
        if packed is not None:
            return _by_request(packed, requests)
        room = 64 - (levels - 1).bit_length()
        shift = max(0, (int(keys.max()) - int(low)).bit_length() - room)
        value = keys - low
        if shift:
            value >>= np.uint64(shift)
        if room < 64:
            value |= stratum.astype(np.uint64) << np.uint64(room)
        ordered = pl.Series(value).sort().to_numpy()
        targets = ordered[places]
        wanted = np.unique(targets)
        first = np.searchsorted(ordered, wanted, "left")
        runs = np.searchsorted(ordered, wanted, "right") - first
        found = np.flatnonzero(pl.Series(value).is_in(pl.Series(wanted).implode()).to_numpy())
        found = found[np.lexsort((keys[found], value[found]))]  # by value, ties by whole key
        assert len(found) == int(runs.sum())
        block = np.concatenate([[0], np.cumsum(runs)[:-1]])
        which = np.searchsorted(wanted, targets)
        return _by_request(found[block[which] + places - first[which]], requests)


def _places(
    stratum: np.ndarray[Any, np.dtype[np.integer[Any]]],
    levels: int,
    requests: Sequence[tuple[int, Sequence[int]]],
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Where each requested frame number falls in the units sorted by (stratum, key)."""
    starts = np.concatenate([[0], np.cumsum(np.bincount(stratum, minlength=levels))])
    return np.concatenate(
        [starts[h] + np.asarray(numbers, dtype=np.int64) - 1 for h, numbers in requests]
    )


def _by_request(
    chosen: Positions, requests: Sequence[tuple[int, Sequence[int]]]
) -> list[Positions]:
    """The chosen positions, split back into one array per request."""
    return np.split(chosen, np.cumsum([len(numbers) for _, numbers in requests])[:-1])


def _pick_packed(
    keys: np.ndarray[Any, np.dtype[np.uint64]],
    low: np.uint64,
    stratum: np.ndarray[Any, np.dtype[np.integer[Any]]],
    levels: int,
    places: np.ndarray[Any, np.dtype[np.int64]],
) -> Positions | None:
    """The positions at ``places`` (see :func:`_places`) when a stratum, a key (less the
    smallest) and a frame position fit in 64 bits together (dense keys): one sort of those
    values orders every stratum by key and carries each unit's position along. None when they
    do not fit."""
    size = len(keys)
    key_bits = (int(keys.max()) - int(low)).bit_length()
    position_bits = max(1, (size - 1).bit_length())
    stratum_bits = (levels - 1).bit_length()
    if key_bits + position_bits + stratum_bits > 64:
        return None
    value = keys - low
    np.left_shift(value, _U64(position_bits), out=value)
    np.bitwise_or(value, np.arange(size, dtype=np.uint64), out=value)
    if stratum_bits:
        high = stratum.astype(np.uint64)
        np.left_shift(high, _U64(key_bits + position_bits), out=high)
        np.bitwise_or(value, high, out=value)
    ordered = pl.Series(value).sort().to_numpy()
    chosen: Positions = (ordered[places] & _U64((1 << position_bits) - 1)).astype(np.int64)
    return chosen


def _argsort(keys: np.ndarray[Any, np.dtype[np.uint64]]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Positions that sort distinct keys (polars sorts on every core; numpy on one)."""
    if keys.size < 100_000:
        return np.argsort(keys).astype(np.int64)
    return pl.Series(keys).arg_sort().to_numpy().astype(np.int64)


def num_column(col: str) -> str:
    return f"__num:{col}"


def _date(col: str) -> str:
    return f"__date:{col}"


#: Comparisons whose text value means an order: against dates they must be dates.
_ORDERED = {FilterOp.GT, FilterOp.GE, FilterOp.LT, FilterOp.LE, FilterOp.BETWEEN}
#: Fields that hold dates: a filter on them compares dates, whatever the value's YAML type.
_DATE_FIELDS = ("service_date",)


@dataclass(frozen=True, slots=True)
class _Test:
    """A frame filter with its kind of comparison and its value read as that kind."""

    flt: FrameFilter
    kind: str  # none | number | date | text
    value: Any


def _value_kind(flt: FrameFilter) -> str:
    if flt.op in NO_VALUE_OPS:
        return "none"
    values = flt.value if isinstance(flt.value, list) else [flt.value]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "number"
    if all(isinstance(v, dt.date) for v in values):
        return "date"
    return "text"


def _tests(plan: SamplingPlan) -> tuple[list[_Test], list[Problem]]:
    """Each filter's kind and value; a text value where a date is meant is read as a date.

    A filter on a date field, or an order comparison whose values all read as dates
    (``'7/1/2026'``), compares dates: never text, where ``'10/1/2026' < '9/1/2026'``.
    """
    out: list[_Test] = []
    problems: list[Problem] = []
    for i, flt in enumerate(plan.frame.filters):
        kind = _value_kind(flt)
        value = flt.value
        values = value if isinstance(value, list) else [value]
        dated = (
            plan.column_for(flt.column)
            in {c for f in _DATE_FIELDS for c in plan.columns.columns_for(f)}
            or flt.column in _DATE_FIELDS
        )
        looks_dated = flt.op in _ORDERED and all(
            isinstance(v, str) and is_date_text(v) for v in values
        )
        if kind in ("text", "number") and (dated or looks_dated):
            try:
                read = [parse_date(v) for v in values]
            except NotADate as exc:
                problems.append(
                    Problem(
                        where=f"plan: frame.filters[{i}].value ({flt.describe()})",
                        expected=f"{DATE_EXAMPLES} ({flt.column} holds dates)",
                        found=repr(exc.text),
                        fix="write the date as 2026-07-01 (or 07/01/2026, quoted).",
                    )
                )
                continue
            kind = "date"
            value = read if isinstance(value, list) else read[0]
        out.append(_Test(flt, kind, value))
    return out, problems


def _show_dates(value: Any) -> str:
    values = value if isinstance(value, list) else [value]
    return ", ".join(v.isoformat() for v in values)


def _filter_mask(frame: pl.DataFrame, col: str, test: _Test) -> pl.Series:
    """Evaluate one filter; an empty cell passes only the negative tests (!=, not in, is empty)."""
    kind, flt = test.kind, test.flt
    if kind == "number":
        series = frame[num_column(col)]
    elif kind == "date":
        series = frame[_date(col)]
    else:
        series = frame[col].cast(pl.String).str.strip_chars()
    value = test.value
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


def _id_keys(
    ids: pl.Series, bounds: tuple[str, str] | None = None
) -> tuple[np.ndarray[Any, np.dtype[np.uint64]], str, list[np.ndarray[Any, np.dtype[np.int64]]]]:
    """Return the unit-id order keys (see :class:`Frame`), the ordering rule, and the groups of
    positions holding one repeated id (empty when every id is distinct).

    Most exports have ids that are numbers, or text that differs within 8 bytes after a prefix
    every id shares (``E000123456``): the key is then the number, or those 8 bytes read as a
    big-endian integer, and one hash pass proves the keys distinct. Other ids (longer, leading
    zeros, repeated) are ranked by a full sort, :func:`_id_order`, and the rank is the key.
    ``bounds``: the smallest and largest id, when known.
    """
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.uint64), ORDER_TEXT, []
    low, high = bounds if bounds is not None else (str(ids.min()), str(ids.max()))
    lengths = ids.str.len_bytes()
    longest = int(lengths.max())  # type: ignore[arg-type]
    shortest = int(lengths.min())  # type: ignore[arg-type]
    digits = low.isdigit() and high.isdigit() and bool(ids.str.contains(r"^[0-9]+$").all())
    keys: np.ndarray[Any, np.dtype[np.uint64]] | None = None
    if digits and shortest != longest:
        if longest <= 18 and not bool(ids.str.contains(r"^0[0-9]").any()):
            keys = ids.cast(pl.UInt64).to_numpy()
    else:
        keys = _byte_keys(ids, low.encode(), high.encode(), shortest, longest)
        if keys is not None:
            keys = _decimal_keys(keys)
    rule = ORDER_NUMERIC if digits else ORDER_TEXT
    if keys is not None and _all_distinct(keys):
        return keys, rule, []
    order, rule, repeated = _id_order(ids)
    ranks = np.empty(n, dtype=np.uint64)
    ranks[order] = np.arange(n, dtype=np.uint64)
    return ranks, rule, repeated


def _byte_keys(
    ids: pl.Series, low: bytes, high: bytes, shortest: int, longest: int
) -> np.ndarray[Any, np.dtype[np.uint64]] | None:
    """The 8 bytes after the prefix all ids share, as big-endian integers (NUL-padded: a
    shorter id sorts first); None when ids go on beyond those 8 bytes."""
    offset = len(_common_prefix(low, high))  # every id lies between the two: all share it
    if shortest == longest >= 8:
        offset = min(offset, longest - 8)
    if longest > offset + 8:
        return None
    text = pl.col("k") + "\x00" * 8 if shortest < offset + 8 else pl.col("k")
    keys = (
        pl.DataFrame({"k": ids})
        .select(
            text.cast(pl.Binary)
            .bin.slice(offset, 8)
            .bin.reinterpret(dtype=pl.UInt64, endianness="big")
        )
        .to_series()
        .to_numpy()
    )
    return keys


def _decimal_keys(
    keys: np.ndarray[Any, np.dtype[np.uint64]],
) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """Byte keys whose varying bytes are all ASCII digits, as the numbers they write (the
    same order: the digits line up, since the keys have the same width); else the keys as given.

    Numbers are dense (``E100000000``..``E104999999`` become 0..4,999,999 plus a constant),
    which lets :meth:`Frame.pick` pack a stratum, a key and a position into one 64-bit value,
    and :func:`_all_distinct` use a bitmap. Eight digits at once, in the 64-bit word ("SWAR").
    """
    ones = int(np.bitwise_or.reduce(keys))
    if not ones:
        return keys
    zeros = ((ones & -ones).bit_length() - 1) // 8  # low bytes that are NUL in every key
    x = keys >> _U64(8 * zeros)
    low, high = int(x.min()), int(x.max())
    varying = max(1, ((low ^ high).bit_length() + 7) // 8)  # bytes below the common ones
    if varying < 8:  # the common leading bytes become '0' digits: the same in every key
        kept = (1 << (8 * varying)) - 1
        np.bitwise_and(x, _U64(kept), out=x)
        np.bitwise_or(x, _U64(0x3030303030303030 & ~kept & (2**64 - 1)), out=x)
    scratch = np.empty_like(x)
    high_nibbles, digit_zero = _U64(0xF0F0F0F0F0F0F0F0), _U64(0x3030303030303030)
    np.bitwise_and(x, high_nibbles, out=scratch)
    if not bool((scratch == digit_zero).all()):  # every byte 0x30..0x3F
        return keys
    np.add(x, _U64(0x0606060606060606), out=scratch)  # 0x3A..0x3F carry into the high nibble
    np.bitwise_and(scratch, high_nibbles, out=scratch)
    if not bool((scratch == digit_zero).all()):
        return keys
    np.bitwise_and(x, _U64(0x0F0F0F0F0F0F0F0F), out=x)  # the digits, most significant first
    for shift, mask, scale in ((8, 0x000F000F000F000F, 10), (16, 0x0000007F0000007F, 100)):
        np.right_shift(x, _U64(shift), out=scratch)
        np.bitwise_and(scratch, _U64(mask), out=scratch)
        np.multiply(scratch, _U64(scale), out=scratch)
        np.bitwise_and(x, _U64(mask), out=x)
        np.add(x, scratch, out=x)
    np.right_shift(x, _U64(32), out=scratch)
    np.multiply(scratch, _U64(10_000), out=scratch)
    np.bitwise_and(x, _U64(0xFFFFFFFF), out=x)
    np.add(x, scratch, out=x)
    return x


def _all_distinct(keys: np.ndarray[Any, np.dtype[np.uint64]]) -> bool:
    """True when no two keys are equal: a bitmap over their range when it is small (dense
    keys), else one hash pass."""
    low = int(keys.min())
    span = int(keys.max()) - low + 1
    if span <= 4 * len(keys) + 1024:
        seen = np.zeros(span, dtype=bool)
        seen[(keys - _U64(low)).view(np.int64)] = True  # offsets < span: the view is exact
        return int(np.count_nonzero(seen)) == len(keys)
    return bool(pl.Series(keys).n_unique() == len(keys))


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
        order, ties = _text_order(ids, bounds=(bounds[0], bounds[1]))
        return order, ORDER_TEXT, ties
    lengths = ids.str.len_bytes()
    longest = int(lengths.max())  # type: ignore[arg-type]
    if int(lengths.min()) == longest:  # type: ignore[arg-type]
        order, ties = _text_order(ids, bounds=(bounds[0], bounds[1]))  # same width: numeric
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
    keys: pl.Series, *, bounds: tuple[str, str] | None = None
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], list[np.ndarray[Any, np.dtype[np.int64]]]]:
    """Sort text by its UTF-8 bytes, 8 bytes at a time as big-endian integers (polars' string
    sort is slow on millions of rows); return the order and the groups of identical keys."""
    n = len(keys)
    low, high = (str(b).encode() for b in (bounds or (keys.min(), keys.max())))
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


class _Problems(Problems):
    """Problems of one universe, collected to be raised together."""

    def __init__(self, universe: Universe) -> None:
        super().__init__(InputError)
        self.universe = universe

    def rows(self, frame: pl.DataFrame, mask: pl.Series, **kwargs: str) -> None:
        problem = row_problem(self.universe, frame, mask, **kwargs)
        if problem is not None:
            self.items.append(problem)


def build_frame(plan: SamplingPlan, universe: Universe, say: Progress) -> Frame:
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
    for code_col, mods in cols.modifiers.items():
        for j, col in enumerate(mods):
            wanted[f"columns.modifiers.{code_col}[{j}]"] = col
    for key, name in plan.references().items():
        wanted.setdefault(key, plan.column_for(name))
    problems.items.extend(hcc_column_problems(plan, source="plan"))
    unknown = missing_column_problems(universe, wanted)
    if plan.preset and len(unknown) * 2 >= len(wanted):
        # Most columns unknown to the file: a shipped preset used as it is, with its
        # placeholder names (those of the bundled example universe).
        names = ", ".join(
            sorted({wanted[k] for k in wanted if wanted[k] not in universe.columns})[:6]
        )
        problems.items.append(
            Problem(
                where=f"plan (preset '{plan.preset}'): columns",
                expected=f"the column names of {universe.path.name}",
                found=f"the preset's placeholder column names ({names}, ...): {len(unknown)} "
                f"of {len(wanted)} are not in the file",
                fix=f"run `audit-kit init --universe {universe.path.name} --preset {plan.preset} "
                "--out plan.yaml`: it maps your export's columns into the preset; then sample "
                "with that plan.",
            )
        )
    problems.items.extend(unknown)
    present = set(universe.columns)
    if id_col not in present:
        # Without the unit ids there is no frame to judge: say what is missing, nothing more.
        raise InputError("The plan names columns the universe file does not have.", problems.items)

    amount_cols = {f: plan.column_for(f) for f in AMOUNT_FIELDS if cols.columns_for(f)}
    by_cols = [plan.column_for(n) for n in strata.by] if strata else []
    bands, cert = (strata.dollar_bands, strata.certainty) if strata else (None, None)
    band_col = plan.column_for(bands.column) if bands else None
    cert_col = plan.column_for(cert.column) if cert else None
    var_name = plan.allocation_variable()
    var_col = plan.column_for(var_name) if var_name else None
    # The minimum-sum bound needs every frame unit's paid amount (recorded in sampling.json).
    paid_col = (
        plan.column_for(plan.financial.examined)
        if plan.financial.robust_bound == "minimum_sum"
        else None
    )
    variables = {c for c in (band_col, cert_col, var_col, paid_col) if c is not None}
    numeric = set(amount_cols.values()) | variables
    dates: set[str] = set()
    tests, filter_problems = _tests(plan)
    problems.items.extend(filter_problems)
    for test in tests:
        if test.kind == "number":
            numeric.add(plan.column_for(test.flt.column))
        elif test.kind == "date":
            dates.add(plan.column_for(test.flt.column))
    hcc_cols = _hcc_columns(plan)
    needed = [id_col, *by_cols, *sorted(numeric | dates)]
    needed += [plan.column_for(f.column) for f in plan.frame.filters]
    needed += [c for c in hcc_cols.values() if c not in numeric | dates]
    needed = [c for c in dict.fromkeys(needed) if c in present]

    say(f"Reading the frame columns: {', '.join(needed)}")
    label_cols = [c for c in by_cols if c not in numeric | dates]
    raw = universe.read(needed, numeric=numeric, categorical=label_cols, wait=False)
    raw = universe.drop_footer(raw)
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
    decimal_comma = plan.frame.decimal_comma
    for col in sorted(numeric & present):
        values, flags = money_series(raw[col], decimal_comma=decimal_comma)
        added.append(values.alias(num_column(col)))
        bad[f"num:{col}"] = flags
    for col in sorted(dates & present):
        values, flags = date_series(raw[col])
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
            expected=MONEY_EXAMPLES if kind == "num" else DATE_EXAMPLES,
            found="a value that is not " + ("an amount" if kind == "num" else "a date"),
            fix="correct those cells in the export (a frame filter cannot judge them)"
            + (
                "; amounts written 1.234,50 need frame.decimal_comma: true in the plan."
                if kind == "num" and not decimal_comma
                else "."
            ),
        )

    alive = pl.repeat(True, raw.height, dtype=pl.Boolean, eager=True).alias("alive")
    excluded: list[dict[str, Any]] = []
    for test in tests:
        flt = test.flt
        col = plan.column_for(flt.column)
        if col not in present:
            continue
        report_bad(f"num:{col}", alive)
        report_bad(f"date:{col}", alive)
        passing = alive & _filter_mask(raw, col, test)
        shown = flt.describe()
        if test.kind == "date" and _value_kind(flt) != "date":
            shown += " (read as the date " + _show_dates(test.value) + ")"
        excluded.append({"filter": shown, "rows": int(alive.sum()) - int(passing.sum())})
        alive = passing
    for key in list(bad):
        report_bad(key, alive)
    everyone = bool(alive.all())
    mask = None if everyone else alive.to_numpy()
    size = raw.height if mask is None else int(np.count_nonzero(mask))

    def kept(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The frame's part of a per-row array (no copy when no row is filtered out)."""
        return values if mask is None else values[mask]

    ids = pl.Series("id", [], dtype=pl.String)
    keys = np.zeros(0, dtype=np.uint64)
    rule = ORDER_TEXT
    by_code: np.ndarray[Any, Any] | None = None
    by_values: list[list[str]] = []
    if not size:
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
        bounds = (str(ids.min()), str(ids.max()))
        smallest: object = bounds[0]
        if smallest == "":  # rare: the smallest id that is not empty needs a filtered copy
            smallest = ids.filter(ids != "").min()
        if str(smallest or "x")[:1].isspace():  # blanks sort first
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
        say(f"Ordering {size:,} units by unit id")
        keys, rule, repeated = _id_keys(ids, bounds)
        groups: list[tuple[str, list[int]]] = []
        if repeated:
            file_rows = kept(raw[ROW].to_numpy())
            groups = [
                (ids[int(g[0])], [int(file_rows[int(p)]) for p in g])
                for g in repeated
                if ids[int(g[0])].strip()
            ]
        if not everyone:
            # A unit named twice is ambiguous even when a filter drops one of its rows.
            groups = _repeated_with_excluded(raw, all_ids, alive, ids, groups)
        duplicate = duplicate_problem(universe, groups, id_col)
        if duplicate is not None:
            problems.items.append(duplicate)
        for col in sorted((set(amount_cols.values()) | variables) & present):
            values = raw[num_column(col)]
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
            missing = codes < 0
            if missing.any():
                problems.rows(
                    raw,
                    pl.Series(missing) & alive,
                    column=col,
                    role=_role(plan, col),
                    expected="a value in every row (it defines the strata)",
                    found="an empty cell",
                    fix="fill it in, or exclude those rows: "
                    f"{{column: {_field_of(plan, col)}, op: not empty}}.",
                )
                np.maximum(codes, 0, out=codes)
            part = kept(codes).astype(np.int64 if len(by_values) else np.int32)
            by_code = part if by_code is None else by_code * max(len(labels), 1) + part
            by_values.append(labels)
        _hcc_problems(plan, hcc_cols, raw, alive, problems)
        if band_col is not None and band_col in present and bands is not None:
            low = bands.edges[0]
            problems.rows(
                raw,
                (raw[num_column(band_col)] < low).fill_null(False) & alive,
                column=band_col,
                role=_role(plan, band_col),
                expected=f"a value >= the first band edge ({money(low)})",
                found="a value below every band",
                fix=f"lower the first edge to 0, or add a filter {{column: "
                f"{_field_of(plan, band_col)}, op: '>=', value: {low:g}}}.",
            )
    if problems.items:
        raise InputError(f"The universe file has {len(problems.items)} problem(s).", problems.items)
    say(f"Frame: {size:,} units after filters")
    return Frame(
        rows=kept(raw[ROW].to_numpy()),
        ids=ids,
        keys=keys,
        by_code=by_code if by_code is not None else np.zeros(size, dtype=np.int64),
        by_values=by_values,
        variables={v: kept(raw[num_column(v)].to_numpy()) for v in sorted(variables)},
        file_rows=raw.height,
        excluded=excluded,
        order_rule=rule,
    )


def _hcc_columns(plan: SamplingPlan) -> dict[str, str]:
    """field -> universe column of the CMS-HCC demographics (hcc basis only)."""
    if plan.financial.basis != "hcc":
        return {}
    return {
        name: plan.columns.columns_for(name)[0]
        for name in ("age", "birth_date", *HCC_FIELDS)
        if plan.columns.columns_for(name)
    }


def _hcc_problems(
    plan: SamplingPlan,
    hcc_cols: dict[str, str],
    raw: pl.DataFrame,
    alive: pl.Series,
    problems: _Problems,
) -> None:
    """One problem per demographic column with cells the CMS-HCC model cannot take."""
    for name, col in hcc_cols.items():
        if col not in raw.columns:
            continue
        cells = raw[col].cast(pl.String)
        if name == "birth_date":
            parsed, _ = date_series(cells)
            bad = parsed.is_null()
        else:
            reader = READERS[name]
            bad = pl.Series([reader(v) is None for v in cells.to_list()], dtype=pl.Boolean)
        problems.rows(
            raw,
            bad & alive,
            column=col,
            role=name,
            expected=EXPECTED[name],
            found="an empty or unreadable cell",
            fix="correct those cells in the export, or exclude those rows with a frame filter.",
        )


def _repeated_with_excluded(
    raw: pl.DataFrame,
    all_ids: pl.Series,
    alive: pl.Series,
    ids: pl.Series,
    groups: list[tuple[str, list[int]]],
) -> list[tuple[str, list[int]]]:
    """The repeated ids among every row of the file, given those among the frame's rows.

    Only the excluded rows' ids are new: an id is repeated when it is on two excluded rows or
    on an excluded row and a frame row. The frame's ids are probed against the (usually few)
    excluded ones, so the cost is one lookup per frame row.
    """
    dropped = all_ids.filter(~alive)
    dropped = dropped.filter(dropped.str.strip_chars() != "")  # few rows: cheap
    if dropped.is_empty():
        return groups
    wanted = set(dropped.filter(dropped.is_duplicated()).to_list())
    hits = ids.filter(ids.is_in(dropped.unique().implode()))
    wanted.update(hits.to_list())
    if not wanted:
        return groups
    wanted.update(unit for unit, _ in groups)
    rows = (
        pl.DataFrame({"id": all_ids, "row": raw[ROW]})
        .filter(pl.col("id").is_in(pl.Series(sorted(wanted)).implode()))
        .group_by("id")
        .agg(pl.col("row").sort())
        .sort("id")
    )
    return [(str(u), [int(r) for r in rs]) for u, rs in rows.iter_rows()]


def _label_codes(column: pl.Series) -> tuple[np.ndarray[Any, np.dtype[np.int32]], list[str]]:
    """Code each cell by its label (the text, stripped), labels sorted; -1 for an empty cell."""
    if column.dtype != pl.Categorical:
        column = column.cast(pl.String).cast(pl.Categorical)
    present = column.unique().drop_nulls()
    physical = present.to_physical().to_numpy().astype(np.int64)
    raw_values = present.cast(pl.String).to_list()
    labels = sorted({v.strip() for v in raw_values} - {""})
    index = {label: i for i, label in enumerate(labels)}
    size = int(physical.max()) + 2 if physical.size else 1  # the last entry: empty cells
    lookup = np.full(size, -1, dtype=np.int32)
    lookup[physical] = [index.get(v.strip(), -1) for v in raw_values]
    codes = column.to_physical().fill_null(size - 1).to_numpy()
    return lookup[codes], labels


def _field_of(plan: SamplingPlan, col: str) -> str:
    for name, mapped in plan.columns.mapped().items():
        if mapped == [col]:
            return name
    return col


def _role(plan: SamplingPlan, col: str) -> str:
    name = _field_of(plan, col)
    return name if name != col else "frame column"


def money(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
