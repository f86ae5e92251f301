"""The per-engine SQL, as text: the parts where engines differ, written out by hand here.

The expected strings are the engines' documented syntax (PostgreSQL COLLATE "C" and bit(32)
casts, DuckDB hex literals and ENCODE, Spark backticks, CONV and backslash escapes, Trino
TO_HEX/FROM_BASE); tests/test_warehouse.py runs the queries on the real engines.
"""

from __future__ import annotations

import datetime as dt

import pytest

from audit_kit.errors import InputError
from audit_kit.plan import FilterOp, FrameFilter
from audit_kit.sampling.engines.dialects import (
    DuckDBDialect,
    PostgresDialect,
    SparkDialect,
    TrinoDialect,
)
from audit_kit.sampling.engines.frame_sql import FrameQueries, FrameSpec
from audit_kit.sampling.engines.url import is_engine_url, parse_engine_url


def test_byte_order_keys_per_engine() -> None:
    assert DuckDBDialect().key("x") == "ENCODE(x)"
    assert DuckDBDialect().unkey("k") == "DECODE(k)"
    assert PostgresDialect().key("x") == '(x COLLATE "C")'
    assert SparkDialect(collations=True).key("x") == "(x COLLATE UTF8_BINARY)"
    assert SparkDialect(collations=False).key("x") == "x"  # Spark 3: always bytes
    assert TrinoDialect().key("x") == "x"


def test_hex_to_integer_and_md5_per_engine() -> None:
    assert DuckDBDialect().hex_to_bigint("s") == "CAST('0x' || s AS BIGINT)"
    assert PostgresDialect().hex_to_bigint("s") == "CAST(CAST(('x' || s) AS BIT(32)) AS BIGINT)"
    assert SparkDialect().hex_to_bigint("s") == "CAST(CONV(s, 16, 10) AS BIGINT)"
    assert TrinoDialect().hex_to_bigint("s") == "FROM_BASE(s, 16)"
    assert TrinoDialect().md5_hex("t") == "LOWER(TO_HEX(MD5(TO_UTF8(t))))"
    assert PostgresDialect().sum_bigint("v") == "CAST(SUM(v) AS BIGINT)"


def test_quoting_per_engine() -> None:
    assert PostgresDialect().ident('Claim "ID"') == '"Claim ""ID"""'
    assert SparkDialect().ident("a`b") == "`a``b`"
    assert SparkDialect().string("it's \\N") == "'it\\'s \\\\N'"
    assert DuckDBDialect().string("it's") == "'it''s'"
    assert DuckDBDialect().table("billing.Claims") == '"billing"."Claims"'
    assert SparkDialect().table("parquet.`/data/claims`") == "parquet.`/data/claims`"


def test_frame_order_and_filters() -> None:
    spec = FrameSpec(
        relation='"claims"',
        id_column="id",
        filters=[
            ("paid", FrameFilter(column="paid", op=FilterOp.GT, value=0)),
            ("setting", FrameFilter(column="setting", op=FilterOp.NE, value="x")),
            ("dos", FrameFilter(column="dos", op=FilterOp.GE, value=dt.date(2026, 1, 1))),
        ],
        kinds={"paid": "number", "dos": "date"},
    )
    q = FrameQueries(PostgresDialect(), spec)
    assert q.order(numeric=False) == "k_id ASC NULLS LAST"
    assert q.order(numeric=True) == (
        "LENGTH(LTRIM(k_id, '0')) ASC NULLS LAST, (LTRIM(k_id, '0') COLLATE \"C\") ASC NULLS "
        "LAST, k_id ASC NULLS LAST"
    )
    assert q.in_frame() == (
        'COALESCE("paid" > 0.0, FALSE) AND COALESCE((TRIM(CAST("setting" AS TEXT)) COLLATE '
        '"C") <> (\'x\' COLLATE "C"), TRUE) AND COALESCE(CAST("dos" AS DATE) >= '
        "DATE '2026-01-01', FALSE)"
    )
    spark = FrameQueries(SparkDialect(), spec)
    assert "TRIM(LEADING '0' FROM k_id)" in spark.order(numeric=True)


def test_fetch_joins_an_inline_values_list() -> None:
    spec = FrameSpec(relation='"claims"', id_column="id", by_columns=["coder"], kept_columns=["id"])
    sql = FrameQueries(DuckDBDialect(), spec).fetch_sql(
        [((0, "Ann", 0), 3, 1)], [(1, "", -1)], numeric=False
    )
    assert "(VALUES (0, ENCODE('Ann'), 0, 3, 1)) AS p(k_c, k_l0, k_b, k_fn, k_so)" in sql
    assert "(VALUES (1, ENCODE(''), -1)) AS p(k_c, k_l0, k_b)" in sql
    assert "ROW_NUMBER() OVER (PARTITION BY k_c, k_l0, k_b ORDER BY k_id ASC NULLS LAST)" in sql


def test_urls() -> None:
    assert parse_engine_url("duckdb:///a/b.duckdb").target == "a/b.duckdb"
    assert parse_engine_url("duckdb:////data/b.duckdb").target == "/data/b.duckdb"
    assert parse_engine_url("spark:local[2]").target == "local[2]"
    assert parse_engine_url("sc://h:15002").connect
    assert is_engine_url("postgresql://u@h/db") and not is_engine_url("claims.csv")
    for url in ("postgresql://u:pw@h/db", "postgresql://u@h/db?password=pw"):
        with pytest.raises(InputError) as info:
            parse_engine_url(url)
        assert "pw" not in str(info.value).replace("password", "")
    with pytest.raises(InputError, match="names no database file"):
        parse_engine_url("duckdb://a.duckdb")
