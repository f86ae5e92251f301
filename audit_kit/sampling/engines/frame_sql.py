"""The queries sent to an engine: census, checks, strata and fingerprint, and the fetch of the
sampled rows by numbered frame. Built from the plan and the dialect (golden-SQL tests).

Only aggregates and the sampled rows leave the engine. The frame is numbered in the engine::

    ROW_NUMBER() OVER (PARTITION BY <stratum> ORDER BY <unit id in byte order> NULLS LAST)

the same order a universe file is numbered in (``audit_kit.sampling``): unit ids compared as
whole numbers when every id in the frame is written in digits, else by their UTF-8 bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from audit_kit.plan import AMOUNT_FIELDS, NO_VALUE_OPS, FilterOp, FrameFilter, SamplingPlan
from audit_kit.sampling.engines.dialects import NULL_TEXT, Dialect

Kind = Literal["number", "date", "text"]
#: Key columns of the frame relation (``k_`` names never clash with a universe column's
#: quoted name, which is always written quoted).
ID = "k_id"
CERTAIN = "k_c"
BAND = "k_b"
FRAME_NO = "k_fn"
ORDER = "k_so"
STRATUM_SIZE = "k_nh"


def label(i: int) -> str:
    return f"k_l{i}"


def kept(i: int) -> str:
    return f"k_x{i}"


@dataclass(slots=True, kw_only=True)
class FrameSpec:
    """What the queries need from the plan, in universe column names."""

    relation: str  # SQL: a table name or ``(query) AS q``
    id_column: str
    by_columns: list[str] = field(default_factory=list)
    band_column: str | None = None
    band_edges: list[float] = field(default_factory=list)
    certainty_column: str | None = None
    certainty_at_least: float = 0.0
    variable_column: str | None = None  # Neyman's variable
    amount_columns: list[str] = field(default_factory=list)  # refused when negative
    filters: list[tuple[str, FrameFilter]] = field(default_factory=list)  # (column, filter)
    kept_columns: list[str] = field(default_factory=list)
    kinds: dict[str, Kind] = field(default_factory=dict)

    @property
    def design_numbers(self) -> list[str]:
        """Numeric columns the design reads (bands, certainty, Neyman), sorted."""
        cols = {self.band_column, self.certainty_column, self.variable_column}
        return sorted(c for c in cols if c is not None)

    @property
    def fingerprint_numbers(self) -> list[str]:
        """Money columns in the fingerprint: the design's and the mapped amounts, sorted."""
        return sorted(set(self.design_numbers) | set(self.amount_columns))


def filter_kind(flt: FrameFilter) -> str:
    """How a filter compares (the same rule as for files): none, number, date or text."""
    if flt.op in NO_VALUE_OPS:
        return "none"
    values = flt.value if isinstance(flt.value, list) else [flt.value]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "number"
    if all(isinstance(v, dt.date) for v in values):
        return "date"
    return "text"


def spec_from_plan(plan: SamplingPlan, relation: str, kinds: dict[str, Kind]) -> FrameSpec:
    """The frame spec of a plan (its columns checked to exist beforehand)."""
    cols = plan.columns
    strata = plan.design.strata if plan.design.method == "stratified" else None
    spec = FrameSpec(relation=relation, id_column=cols.unit_id, kinds=kinds)
    if strata is not None:
        spec.by_columns = [plan.column_for(n) for n in strata.by]
        if strata.dollar_bands is not None:
            spec.band_column = plan.column_for(strata.dollar_bands.column)
            spec.band_edges = list(strata.dollar_bands.edges)
        if strata.certainty is not None:
            spec.certainty_column = plan.column_for(strata.certainty.column)
            spec.certainty_at_least = strata.certainty.at_least
    variable = plan.allocation_variable()
    if variable is not None:
        spec.variable_column = plan.column_for(variable)
    spec.amount_columns = [plan.column_for(f) for f in AMOUNT_FIELDS if cols.columns_for(f)]
    spec.filters = [(plan.column_for(f.column), f) for f in plan.frame.filters]
    spec.kept_columns = list(dict.fromkeys(cols.all_columns()))
    return spec


def _number(value: object) -> str:
    return repr(float(value))  # type: ignore[arg-type]


class FrameQueries:
    """The SQL of one frame in one dialect."""

    def __init__(self, dialect: Dialect, spec: FrameSpec) -> None:
        self.d = dialect
        self.spec = spec

    # -- expressions ---------------------------------------------------------------------
    def col(self, name: str) -> str:
        return self.d.ident(name)

    def as_text(self, name: str) -> str:
        return self.d.text(self.col(name))

    def trimmed(self, name: str) -> str:
        return f"TRIM({self.as_text(name)})"

    def number(self, name: str) -> str:
        """The column as a number: itself if numeric, else its text without ``$`` and ``,``."""
        if self.spec.kinds.get(name) == "number":
            return self.col(name)
        cleaned = f"REPLACE(REPLACE({self.trimmed(name)}, '$', ''), ',', '')"
        return self.d.try_double(cleaned)

    def bad_number(self, name: str) -> str:
        """True where a text cell holds something that is not a number."""
        if self.spec.kinds.get(name) == "number":
            return "FALSE"
        return f"({self.trimmed(name)} <> '' AND {self.number(name)} IS NULL)"

    def date(self, name: str) -> str:
        if self.spec.kinds.get(name) == "date":
            return f"CAST({self.col(name)} AS DATE)"
        return self.d.try_date(self.trimmed(name))

    def bad_date(self, name: str) -> str:
        if self.spec.kinds.get(name) == "date":
            return "FALSE"
        return f"({self.trimmed(name)} <> '' AND {self.date(name)} IS NULL)"

    def cents(self, name: str) -> str:
        # floor(x * 100 + 0.5): the same rounding in every engine (PostgreSQL rounds doubles
        # half to even, DuckDB half away from zero); amounts in the frame are >= 0.
        return self.d.bigint(f"FLOOR({self.number(name)} * 100 + 0.5)")

    def passes(self, column: str, flt: FrameFilter) -> str:
        """The filter as a predicate that is never NULL: an empty cell passes only the
        negative tests (!=, not in, is empty), as for files."""
        kind = filter_kind(flt)
        op = flt.op
        if kind == "none":
            blank = f"({self.col(column)} IS NULL OR {self.trimmed(column)} = '')"
            return blank if op is FilterOp.IS_EMPTY else f"(NOT {blank})"
        if kind == "number":
            series = self.number(column)
        elif kind == "date":
            series = self.date(column)
        else:
            series = self.d.key(self.trimmed(column))

        def lit(v: object) -> str:
            if kind == "number":
                return _number(v)
            if kind == "date":
                value = v.date() if isinstance(v, dt.datetime) else v
                assert isinstance(value, dt.date)
                return self.d.date_literal(value)
            return self.d.key(self.d.string(str(v)))

        value = flt.value
        if op is FilterOp.IS_EMPTY:
            return f"({series} IS NULL)"
        if op is FilterOp.NOT_EMPTY:
            return f"({series} IS NOT NULL)"
        compare = {
            FilterOp.GT: ">",
            FilterOp.GE: ">=",
            FilterOp.LT: "<",
            FilterOp.LE: "<=",
            FilterOp.EQ: "=",
            FilterOp.NE: "<>",
        }
        if op in compare:
            default = "TRUE" if op is FilterOp.NE else "FALSE"
            return f"COALESCE({series} {compare[op]} {lit(value)}, {default})"
        if op in (FilterOp.IN, FilterOp.NOT_IN):
            items = ", ".join(lit(v) for v in value)
            if op is FilterOp.IN:
                return f"COALESCE({series} IN ({items}), FALSE)"
            return f"COALESCE({series} NOT IN ({items}), TRUE)"
        low, high = value
        return f"COALESCE({series} >= {lit(low)} AND {series} <= {lit(high)}, FALSE)"

    def in_frame(self) -> str:
        parts = [self.passes(c, f) for c, f in self.spec.filters]
        return " AND ".join(parts) if parts else "TRUE"

    def certain(self) -> str:
        spec = self.spec
        if spec.certainty_column is None:
            return "0"
        return (
            f"CASE WHEN {self.number(spec.certainty_column)} >= "
            f"{_number(spec.certainty_at_least)} THEN 1 ELSE 0 END"
        )

    def band(self) -> str:
        spec = self.spec
        if spec.band_column is None or len(spec.band_edges) < 2:
            return "0"
        value = self.number(spec.band_column)
        return " + ".join(
            f"CASE WHEN {value} >= {_number(e)} THEN 1 ELSE 0 END" for e in spec.band_edges[1:]
        )

    def labels(self) -> list[str]:
        return [self.d.key(self.trimmed(c)) for c in self.spec.by_columns]

    def frame_columns(self) -> str:
        """The frame relation's key columns: id, labels, certainty flag, band."""
        items = [f"{self.d.key(self.as_text(self.spec.id_column))} AS {ID}"]
        items += [f"{e} AS {label(i)}" for i, e in enumerate(self.labels())]
        items += [f"{self.certain()} AS {CERTAIN}", f"({self.band()}) AS {BAND}"]
        return ", ".join(items)

    def source(self) -> str:
        return f"src AS (SELECT * FROM {self.spec.relation})"

    # -- census and checks ---------------------------------------------------------------
    def census_sql(self) -> tuple[str, list[str]]:
        """One row: all rows, rows left after each filter, and the frame's problems; and the
        names of its values."""
        spec = self.spec
        count: list[tuple[str, str]] = [("rows", "TRUE")]
        passed: list[str] = []
        for i, (column, flt) in enumerate(spec.filters):
            passed.append(self.passes(column, flt))
            count.append((f"after_{i}", " AND ".join(passed)))
        frame = "k_in"
        count += [
            ("frame", frame),
            ("empty_ids", f"{frame} AND ({ID} IS NULL OR TRIM({self.d.unkey(ID)}) = '')"),
            (
                "not_digits",
                f"{frame} AND {ID} IS NOT NULL AND NOT {self.d.all_digits(self.d.unkey(ID))}",
            ),
        ]
        for i, _ in enumerate(spec.by_columns):
            count.append(
                (
                    f"empty_label_{i}",
                    f"{frame} AND ({label(i)} IS NULL OR {self.d.unkey(label(i))} = '')",
                )
            )
        numbers = sorted(set(spec.fingerprint_numbers))
        for j, column in enumerate(numbers):
            count.append((f"bad_number_{j}", f"{frame} AND {self.bad_number(column)}"))
            count.append((f"negative_{j}", f"{frame} AND {self.number(column)} < 0"))
            if column in spec.design_numbers:
                count.append((f"null_number_{j}", f"{frame} AND {self.number(column)} IS NULL"))
        for j, (column, flt) in enumerate(spec.filters):
            kind = filter_kind(flt)
            if kind == "number":
                count.append((f"bad_filter_{j}", self.bad_number(column)))
            elif kind == "date":
                count.append((f"bad_filter_{j}", self.bad_date(column)))
        if spec.band_column is not None:
            value = self.number(spec.band_column)
            count.append(("below_bands", f"{frame} AND {value} < {_number(spec.band_edges[0])}"))
        sums = [f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS {name}" for name, cond in count]
        sums.append(f"COUNT(DISTINCT CASE WHEN {frame} THEN {ID} END) AS distinct_ids")
        inner = f"SELECT src.*, {self.frame_columns()}, ({self.in_frame()}) AS k_in FROM src"
        sql = f"WITH {self.source()}, f AS ({inner}) SELECT {', '.join(sums)} FROM f"
        return sql, [name for name, _ in count] + ["distinct_ids"]

    def examples_sql(self, condition: str, limit: int = 5) -> str:
        """Unit ids of frame rows where ``condition`` (over ``f``) holds, in id order."""
        inner = f"SELECT src.*, {self.frame_columns()}, ({self.in_frame()}) AS k_in FROM src"
        return (
            f"WITH {self.source()}, f AS ({inner}) SELECT {self.d.unkey(ID)}, COUNT(*) AS k_n "
            f"FROM f WHERE k_in AND ({condition}) GROUP BY {ID} ORDER BY {ID} NULLS LAST "
            f"LIMIT {limit}"
        )

    def duplicates_sql(self, limit: int = 5) -> str:
        inner = f"SELECT {self.frame_columns()} FROM src WHERE {self.in_frame()}"
        return (
            f"WITH {self.source()}, f AS ({inner}) SELECT {self.d.unkey(ID)}, COUNT(*) AS k_n "
            f"FROM f WHERE {ID} IS NOT NULL GROUP BY {ID} HAVING COUNT(*) > 1 "
            f"ORDER BY {ID} NULLS LAST LIMIT {limit}"
        )

    # -- strata, sizes and fingerprint ---------------------------------------------------
    def row_text(self) -> str:
        """The canonical text of a frame row: unit id, strata labels, money as integer cents,
        joined by U+001F, a missing value written ``\\N``."""
        spec = self.spec
        missing = self.d.string(NULL_TEXT)
        parts = [f"COALESCE({self.d.unkey(ID)}, {missing})"]
        parts += [
            f"COALESCE({self.d.unkey(label(i))}, {missing})" for i in range(len(spec.by_columns))
        ]
        parts += [
            f"COALESCE({self.d.text(f'k_m{j}')}, {missing})"
            for j, _ in enumerate(spec.fingerprint_numbers)
        ]
        return f"CONCAT_WS({self.d.unit_separator()}, {', '.join(parts)})"

    def strata_sql(self) -> str:
        """Per (certainty, labels, band) group of the frame: units, the Neyman variable's sum
        and sum of squares in cents, and the four 32-bit md5 slice sums of the fingerprint."""
        spec = self.spec
        numbers = spec.fingerprint_numbers
        money = [f"{self.cents(c)} AS k_m{j}" for j, c in enumerate(numbers)]
        inner = (
            f"SELECT {', '.join([self.frame_columns(), *money])} FROM src WHERE {self.in_frame()}"
        )
        keys = [CERTAIN, *(label(i) for i in range(len(spec.by_columns))), BAND]
        carried = [*keys, *(f"k_m{j}" for j in range(len(numbers)))]
        hashed = f"SELECT {', '.join(carried)}, {self.d.md5_hex(self.row_text())} AS k_h FROM f"
        shown = [CERTAIN, *(self.d.unkey(label(i)) for i in range(len(spec.by_columns))), BAND]
        aggregates = ["COUNT(*) AS k_n"]
        for j in range(4):
            slice_ = self.d.hex_to_bigint(f"SUBSTRING(k_h, {8 * j + 1}, 8)")
            aggregates.append(f"{self.d.sum_bigint(slice_)} AS k_s{j}")
        if spec.variable_column is not None:
            j = numbers.index(spec.variable_column)
            big = f"CAST(k_m{j} AS DECIMAL(38, 0))"
            aggregates.append(f"{self.d.text(f'SUM({big})')} AS k_sum")
            aggregates.append(f"{self.d.text(f'SUM({big} * {big})')} AS k_sum2")
        return (
            f"WITH {self.source()}, f AS ({inner}), h AS ({hashed}) "
            f"SELECT {', '.join(shown)}, {', '.join(aggregates)} FROM h "
            f"GROUP BY {', '.join(keys)}"
        )

    # -- the sampled rows ----------------------------------------------------------------
    def order(self, numeric: bool) -> str:
        """Unit-id order: whole numbers (by digit count without leading zeros, then digits,
        then the text: ``007`` before ``7``) when every id is digits, else the bytes."""
        if not numeric:
            return f"{ID} ASC NULLS LAST"
        stripped = self.d.strip_zeros(self.d.unkey(ID))
        return (
            f"LENGTH({stripped}) ASC NULLS LAST, {self.d.key(stripped)} ASC NULLS LAST, "
            f"{ID} ASC NULLS LAST"
        )

    def stratum_keys(self) -> list[str]:
        """The stratum key columns: certainty flag, labels and band, with labels '' and band
        -1 for the certainty stratum (it gathers every certain unit)."""
        empty = self.d.key("''")
        keys = [f"{CERTAIN}"]
        keys += [
            f"CASE WHEN {CERTAIN} = 1 THEN {empty} ELSE {label(i)} END AS {label(i)}"
            for i in range(len(self.spec.by_columns))
        ]
        keys.append(f"CASE WHEN {CERTAIN} = 1 THEN -1 ELSE {BAND} END AS {BAND}")
        return keys

    def key_names(self) -> list[str]:
        return [CERTAIN, *(label(i) for i in range(len(self.spec.by_columns))), BAND]

    def fetch_sql(
        self,
        picks: Sequence[tuple[Sequence[object], int, int]],
        census: Sequence[Sequence[object]],
        *,
        numeric: bool,
    ) -> str:
        """The sampled rows: ``picks`` are (stratum key, frame number, selection order);
        ``census`` the keys of strata taken in full (every row, selection order = frame
        number). Each row comes with its stratum key, frame number, selection order, the
        stratum's size as numbered (a check against the census), the unit id and the kept
        columns as text."""
        spec = self.spec
        names = self.key_names()
        # The window numbers the keys only; the kept columns of the few rows drawn are read
        # afterwards, by unit id (unique in the frame: the census refused repeats).
        keyed = f"SELECT src.*, {self.frame_columns()} FROM src WHERE {self.in_frame()}"
        frame = f"SELECT {', '.join([*self.stratum_keys(), ID])} FROM ({keyed}) AS g"
        partition = ", ".join(names)
        numbered = (
            f"SELECT f.*, ROW_NUMBER() OVER (PARTITION BY {partition} "
            f"ORDER BY {self.order(numeric)}) AS {FRAME_NO}, "
            f"COUNT(*) OVER (PARTITION BY {partition}) AS {STRATUM_SIZE} FROM f"
        )
        out = [f"n.{k}" for k in names] + [f"n.{FRAME_NO}"]
        join = " AND ".join(f"n.{k} = p.{k}" for k in names)
        parts: list[str] = []
        if picks:
            rows = [
                [*(self._key_literal(v) for v in key), str(number), str(order)]
                for key, number, order in picks
            ]
            values = self.d.values(rows, [*names, FRAME_NO, ORDER], "p")
            parts.append(
                f"SELECT {', '.join(out)}, p.{ORDER}, n.{STRATUM_SIZE}, n.{ID} FROM n "
                f"JOIN {values} ON {join} AND n.{FRAME_NO} = p.{FRAME_NO}"
            )
        if census:
            rows = [[self._key_literal(v) for v in key] for key in census]
            values = self.d.values(rows, names, "p")
            parts.append(
                f"SELECT {', '.join(out)}, n.{FRAME_NO} AS {ORDER}, n.{STRATUM_SIZE}, n.{ID} "
                f"FROM n JOIN {values} ON {join}"
            )
        kept_cols = [f"{self.as_text(c)} AS {kept(i)}" for i, c in enumerate(spec.kept_columns)]
        rows_of = f"SELECT {', '.join([ID, *kept_cols])} FROM ({keyed}) AS r"
        shown = [
            f"d.{CERTAIN}",
            *(self.d.unkey(f"d.{label(i)}") for i in range(len(spec.by_columns))),
            f"d.{BAND}",
            f"d.{FRAME_NO}",
            f"d.{ORDER}",
            f"d.{STRATUM_SIZE}",
            self.d.unkey(f"d.{ID}"),
            *(f"k.{kept(i)}" for i in range(len(spec.kept_columns))),
        ]
        return (
            f"WITH {self.source()}, f AS ({frame}), n AS ({numbered}), "
            f"d AS ({' UNION ALL '.join(parts)}) "
            f"SELECT {', '.join(shown)} FROM d JOIN ({rows_of}) AS k ON k.{ID} = d.{ID}"
        )

    def _key_literal(self, value: object) -> str:
        if isinstance(value, str):
            return self.d.key(self.d.string(value))
        return str(int(value))  # type: ignore[call-overload]

    def columns_sql(self) -> str:
        return f"SELECT * FROM {self.spec.relation} LIMIT 0"
