"""The few SQL expressions that differ between engines, written by hand per engine.

Every query audit-kit sends is built from these (see :mod:`.frame_sql`); the tests hold the
SQL of each engine as golden text. Byte-order comparison, NULL order, md5 and hex-to-integer
are where engines differ (and where SQL translators were found to go wrong), so nothing here
is left to a translator:

- byte order: PostgreSQL ``COLLATE "C"`` (a column may carry an ICU or libc collation that
  sorts ``a10`` before ``A2``); DuckDB the text's bytes, ``ENCODE(x)`` (a column declared
  ``COLLATE NOCASE`` ignores an explicit ``COLLATE C``, and a session can change
  ``default_collation``); Spark 4 ``COLLATE UTF8_BINARY``, Spark 3 compares bytes always;
  Trino compares bytes and has no COLLATE;
- NULL order: written ``NULLS LAST`` everywhere (Spark's default is first);
- hex to integer: DuckDB ``CAST('0x' || s AS BIGINT)``, PostgreSQL ``('x' || s)::bit(32)::bigint``,
  Spark ``CAST(conv(s, 16, 10) AS BIGINT)``, Trino ``from_base(s, 16)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

#: The canonical text of a missing value in the fingerprint's row text.
NULL_TEXT = "\\N"


class Dialect:
    """SQL of one engine. The base class writes standard SQL; engines override what differs."""

    name = "sql"

    def ident(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def string(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS VARCHAR)"

    def key(self, expr: str) -> str:
        """``expr`` (text) as a key compared, grouped and sorted by its UTF-8 bytes."""
        return expr

    def unkey(self, expr: str) -> str:
        """The text of a :meth:`key`."""
        return expr

    def strip_zeros(self, expr: str) -> str:
        return f"LTRIM({expr}, '0')"

    def all_digits(self, expr: str) -> str:
        return f"REGEXP_LIKE({expr}, '^[0-9]+$')"

    def matches(self, expr: str, pattern: str) -> str:
        return f"REGEXP_LIKE({expr}, {self.string(pattern)})"

    def double(self, expr: str) -> str:
        return f"CAST({expr} AS DOUBLE)"

    def try_double(self, expr: str) -> str:
        return f"TRY_CAST({expr} AS DOUBLE)"

    def try_date(self, expr: str) -> str:
        return f"TRY_CAST({expr} AS DATE)"

    def date_literal(self, value: dt.date) -> str:
        return f"DATE '{value.isoformat()}'"

    def md5_hex(self, expr: str) -> str:
        return f"MD5({expr})"

    def hex_to_bigint(self, expr: str) -> str:
        raise NotImplementedError

    def unit_separator(self) -> str:
        return "CHR(31)"

    def bigint(self, expr: str) -> str:
        return f"CAST({expr} AS BIGINT)"

    def values(self, rows: Sequence[Sequence[str]], names: Sequence[str], alias: str) -> str:
        """An inline relation ``alias(names)`` of the given rows (values already SQL)."""
        body = ", ".join("(" + ", ".join(r) + ")" for r in rows)
        cols = ", ".join(names)
        return f"(VALUES {body}) AS {alias}({cols})"

    def table(self, name: str) -> str:
        """A table name as written by the user: dotted plain names are quoted part by part
        (so mixed case survives); anything else is taken as the engine's own syntax."""
        parts = name.split(".")
        if all(p.replace("_", "a").isalnum() and not p[:1].isdigit() for p in parts if p) and all(
            parts
        ):
            return ".".join(self.ident(p) for p in parts)
        return name

    def sum_bigint(self, expr: str) -> str:
        return f"SUM({expr})"


class DuckDBDialect(Dialect):
    name = "duckdb"

    def key(self, expr: str) -> str:
        # A column declared COLLATE NOCASE keeps sorting without case even under an explicit
        # COLLATE C; its bytes (a BLOB) compare as memcmp, shorter first.
        return f"ENCODE({expr})"

    def unkey(self, expr: str) -> str:
        return f"DECODE({expr})"

    def all_digits(self, expr: str) -> str:
        return f"regexp_full_match({expr}, '[0-9]+')"

    def matches(self, expr: str, pattern: str) -> str:
        return f"regexp_matches({expr}, {self.string(pattern)})"

    def hex_to_bigint(self, expr: str) -> str:
        return f"CAST('0x' || {expr} AS BIGINT)"


class PostgresDialect(Dialect):
    name = "postgresql"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS TEXT)"

    def key(self, expr: str) -> str:
        return f'({expr} COLLATE "C")'

    def all_digits(self, expr: str) -> str:
        return f"({expr} ~ '^[0-9]+$')"

    def matches(self, expr: str, pattern: str) -> str:
        return f"({expr} ~ {self.string(pattern)})"

    def double(self, expr: str) -> str:
        return f"CAST({expr} AS DOUBLE PRECISION)"

    def try_double(self, expr: str) -> str:
        # No TRY_CAST: only text that is a plain number is converted (the pattern is checked
        # by the caller); anything else is NULL here and reported by the census.
        number = self.matches(expr, NUMBER_PATTERN)
        return f"CASE WHEN {number} THEN CAST({expr} AS DOUBLE PRECISION) END"

    def try_date(self, expr: str) -> str:
        return f"CASE WHEN {self.matches(expr, DATE_PATTERN)} THEN CAST({expr} AS DATE) END"

    def hex_to_bigint(self, expr: str) -> str:
        return f"CAST(CAST(('x' || {expr}) AS BIT(32)) AS BIGINT)"

    def sum_bigint(self, expr: str) -> str:
        return f"CAST(SUM({expr}) AS BIGINT)"  # SUM(bigint) is NUMERIC in PostgreSQL


class SparkDialect(Dialect):
    """Spark SQL. ``collations`` is True from Spark 4 (``COLLATE UTF8_BINARY`` exists)."""

    name = "spark"

    def __init__(self, *, collations: bool = True) -> None:
        self.collations = collations

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def string(self, value: str) -> str:
        # Backslash escapes are on in Spark SQL string literals by default.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS STRING)"

    def key(self, expr: str) -> str:
        return f"({expr} COLLATE UTF8_BINARY)" if self.collations else expr

    def strip_zeros(self, expr: str) -> str:
        return f"TRIM(LEADING '0' FROM {expr})"

    def all_digits(self, expr: str) -> str:
        return f"({expr} RLIKE '^[0-9]+$')"

    def matches(self, expr: str, pattern: str) -> str:
        return f"({expr} RLIKE {self.string(pattern)})"

    def hex_to_bigint(self, expr: str) -> str:
        return f"CAST(CONV({expr}, 16, 10) AS BIGINT)"

    def unit_separator(self) -> str:
        return "CHAR(31)"

    def table(self, name: str) -> str:
        return name  # Spark relations: catalog.schema.table, parquet.`/path`, ...


class TrinoDialect(Dialect):
    """Trino (not run by the tests here: it needs Java 24); the golden SQL is parsed with
    sqlglot's Trino reader when sqlglot is installed."""

    name = "trino"

    def md5_hex(self, expr: str) -> str:
        return f"LOWER(TO_HEX(MD5(TO_UTF8({expr}))))"

    def hex_to_bigint(self, expr: str) -> str:
        return f"FROM_BASE({expr}, 16)"

    def unit_separator(self) -> str:
        return "CHR(31)"


#: Text that :meth:`Dialect.try_double` turns into a number (after ``$`` and ``,`` are removed).
NUMBER_PATTERN = "^-?[0-9]*[.]?[0-9]+$"
#: Text dates read from a text column: ISO ``YYYY-MM-DD``.
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

DIALECTS: dict[str, type[Dialect]] = {
    "duckdb": DuckDBDialect,
    "postgresql": PostgresDialect,
    "spark": SparkDialect,
    "trino": TrinoDialect,
}
