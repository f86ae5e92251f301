"""The one money parser and the one date parser: every listed format, both forms alike.

Expected values are built from the generated number or date (written out in each format by
the test, never by the parser), so each case checks the parser against an independent truth.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_kit.values.dates import NotADate, date_series, excel_serial_date, parse_date
from audit_kit.values.money import NotMoney, money_series, parse_money

CENTS = st.integers(min_value=0, max_value=10**11)


def _us_grouped(units: int) -> str:
    return f"{units:,}"


def _eu_grouped(units: int, sep: str = ".") -> str:
    return f"{units:,}".replace(",", sep)


def _money_forms(cents: int) -> list[tuple[str, Decimal, bool]]:
    """(text, value, decimal_comma) in every listed way of writing ``cents``."""
    units, rest = divmod(cents, 100)
    value = Decimal(cents) / 100
    plain = f"{units}.{rest:02d}"
    grouped = f"{_us_grouped(units)}.{rest:02d}"
    eu = f"{_eu_grouped(units)},{rest:02d}"
    return [
        (plain, value, False),
        (f"{units}.{rest:02d}".rstrip("0").rstrip(".") or "0", value, False),
        (f"${grouped}", value, False),
        (f" $ {grouped} ", value, False),
        (grouped, value, False),
        (f"-${grouped}", -value, False),
        (f"$-{grouped}", -value, False),
        (f"-{plain}", -value, False),
        (f"({grouped})", -value, False),
        (f"(${grouped})", -value, False),
        (f"$({grouped})", -value, False),
        (f"{plain}-", -value, False),
        (eu, value, True),
        (f"{_eu_grouped(units, ' ')},{rest:02d}", value, True),
        (f"({eu})", -value, True),
        (f"-{units},{rest:02d}", -value, True),
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(CENTS, min_size=1, max_size=6))
def test_every_money_form_reads_as_written_in_both_forms(amounts: list[int]) -> None:
    for comma in (False, True):
        cases = [c for a in amounts for c in _money_forms(a) if c[2] is comma]
        texts = [t for t, _, _ in cases]
        values, bad = money_series(pl.Series("paid", texts), decimal_comma=comma)
        assert not bad.any(), [t for t, b in zip(texts, bad, strict=True) if b]
        for (text, want, _), got in zip(cases, values.to_list(), strict=True):
            assert got == pytest.approx(float(want), abs=1e-9), text
            assert parse_money(text, decimal_comma=comma) == pytest.approx(float(want), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789$,.()-+ eE", max_size=12))
def test_scalar_and_column_forms_agree_on_any_text(text: str) -> None:
    values, bad = money_series(pl.Series("paid", [text]))
    try:
        scalar = parse_money(text)
    except NotMoney:
        assert bad[0], text
        assert values[0] is None
    else:
        assert not bad[0], text
        assert values[0] == (None if scalar is None else pytest.approx(scalar)), text


@pytest.mark.parametrize(
    "text",
    ["1,23", "12abc", "nan", "inf", "$", "--5", "(-5)", "(5", "1.234,50", "5 5", "$$5", "- -"],
)
def test_what_is_not_an_amount_is_an_error_not_a_number(text: str) -> None:
    with pytest.raises(NotMoney) as info:
        parse_money(text)
    assert text in str(info.value)
    values, bad = money_series(pl.Series("paid", [text, "1.00"]))
    assert bad.to_list() == [True, False]
    assert values.to_list() == [None, 1.0]


def test_blank_is_missing_not_zero() -> None:
    values, bad = money_series(pl.Series("paid", ["", "  ", None, "0"]))
    assert values.to_list() == [None, None, None, 0.0]
    assert not bad.any()
    assert parse_money("  ") is None
    assert parse_money(None) is None


def test_us_grouping_is_refused_under_decimal_comma() -> None:
    values, bad = money_series(pl.Series("paid", ["1,234.50", "1.234,50"]), decimal_comma=True)
    assert bad.to_list() == [True, False]
    assert values[1] == 1234.5


def test_numbers_pass_through_and_nan_is_flagged() -> None:
    values, bad = money_series(pl.Series("paid", [1.5, float("nan"), None]))
    assert values.to_list() == [1.5, None, None]
    assert bad.to_list() == [False, True, False]
    assert parse_money(3) == 3.0
    with pytest.raises(NotMoney):
        parse_money(float("inf"))


DATES = st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2069, 12, 31))


def _date_forms(day: dt.date) -> list[str]:
    m, d, y = day.month, day.day, day.year
    return [
        f"{y:04d}-{m:02d}-{d:02d}",
        f"{y:04d}-{m:02d}-{d:02d} 00:00:00",
        f"{y:04d}-{m:02d}-{d:02d}T00:00",
        f"{m:02d}/{d:02d}/{y:04d}",
        f"{m}/{d}/{y}",
        f"{m}/{d}/{y} 12:00:00 AM",
        f"{m:02d}/{d:02d}/{y % 100:02d}",
        f"{m:02d}-{d:02d}-{y:04d}",
        f"{y:04d}{m:02d}{d:02d}",
        f" {m}/{d}/{y} ",
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(DATES, min_size=1, max_size=6))
def test_every_date_form_reads_as_written_in_both_forms(days: list[dt.date]) -> None:
    texts = [t for day in days for t in _date_forms(day)]
    want = [day for day in days for _ in _date_forms(day)]
    values, bad = date_series(pl.Series("dos", texts))
    assert not bad.any(), [t for t, b in zip(texts, bad, strict=True) if b]
    assert values.to_list() == want
    assert [parse_date(t) for t in texts] == want


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_excel_serials_and_date_cells(day: dt.date) -> None:
    # Excel's serial for dates after 1900-02-28 is days since 1899-12-30 (Excel's leap bug).
    serial = (day - dt.date(1899, 12, 30)).days
    assert excel_serial_date(serial) == day
    assert parse_date(serial, excel_serial=True) == day
    assert parse_date(str(serial), excel_serial=True) == day
    values, bad = date_series(pl.Series("dos", [str(serial)]), excel_serial=True)
    assert values.to_list() == [day] and not bad.any()
    assert parse_date(dt.datetime(day.year, day.month, day.day)) == day


def test_a_published_serial() -> None:
    # Microsoft's DATEVALUE documentation: 2008-01-01 is serial 39448.
    assert excel_serial_date(39448) == dt.date(2008, 1, 1)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789/-: TAMP", max_size=14))
def test_scalar_and_column_date_forms_agree_on_any_text(text: str) -> None:
    values, bad = date_series(pl.Series("dos", [text]))
    try:
        scalar = parse_date(text)
    except NotADate:
        assert bad[0], text
    else:
        assert not bad[0], text
        assert values[0] == scalar, text


@pytest.mark.parametrize("text", ["2026-13-01", "31/12/2026", "2/30/2026", "July 1", "46204"])
def test_what_is_not_a_date_is_an_error(text: str) -> None:
    with pytest.raises(NotADate):
        parse_date(text)
    assert date_series(pl.Series("dos", [text]))[1].to_list() == [True]


def test_minus_zero_is_zero() -> None:
    assert repr(parse_money("-0")) == "0.0"
    assert repr(parse_money("($0.00)")) == "0.0"
    values, _ = money_series(pl.Series("paid", ["-0", "(0.00)", "x"]))
    assert [repr(v) for v in values.to_list()[:2]] == ["0.0", "0.0"]


def test_excel_accounting_zero_is_zero() -> None:
    # Excel's Accounting format shows 0 as "$ -" (and saves it so in CSV).
    for text in (" $ -   ", "$-", "-"):
        assert parse_money(text) == 0.0
    values, bad = money_series(pl.Series("paid", [" $ -   ", "$-", "-", "$1.00"]))
    assert values.to_list() == [0.0, 0.0, 0.0, 1.0] and not bad.any()
