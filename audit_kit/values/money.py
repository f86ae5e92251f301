"""Amounts of money as billing systems write them: the one parser of amounts in audit-kit.

Every command (init, sample, workbooks, collect, score, verify) reads an amount here, as a
whole column (:func:`money_series`, vectorised polars string operations) or one cell
(:func:`parse_money`); both accept exactly the same texts and give the same numbers.

Accepted, with white space around any part:

- plain numbers ``1234.5``, ``-3``, ``.50``, ``1.5E+03`` (an exponent only without separators);
- a dollar sign and thousands separators ``$1,234.50`` (groups of exactly three digits);
- a sign before or after the dollar sign ``-$25.00``, ``$-25.00``, ``+12``, or trailing
  ``25.00-`` (as some mainframe exports write it);
- accounting negatives in parentheses ``(25.00)``, ``($25.00)``, ``$(25.00)``;
- with ``decimal_comma`` (the plan's ``frame.decimal_comma: true``) ``1.234,50`` and
  ``1 234,50``, and no longer ``1,234.50``: one convention per file, never guessed per cell.

Excel's accounting format writes zero as a dash: ``$ -``, ``$-`` and ``-`` alone are 0.
A blank cell is *missing* (null), never zero. Anything else (``12abc``, ``1,23``, ``nan``,
``$``, two signs) is not an amount: the vectorised form flags the cell, the scalar form raises
:class:`NotMoney` with the text (amounts are not PHI, so messages may show them).
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np
import polars as pl

__all__ = [
    "MONEY_EXAMPLES",
    "NotMoney",
    "is_money_text",
    "money_series",
    "parse_money",
]

#: What an amount may look like, for messages (``expected ...``).
MONEY_EXAMPLES = "an amount such as 1234.50, $1,234.50, -$25.00 or ($25.00)"
MONEY_EXAMPLES_COMMA = "an amount such as 1234,50, 1.234,50, -25,00 or (25,00)"


class NotMoney(ValueError):
    """A cell that is not an amount; ``text`` is the cell as found."""

    def __init__(self, text: str, *, decimal_comma: bool = False) -> None:
        self.text = text
        self.decimal_comma = decimal_comma
        super().__init__(f"not an amount: {text!r}")


# The number part, US style: grouped thousands or plain digits, optional decimals; or decimals
# alone. The exponent form only for plain digits (Excel writes 1.5E+03 for big numbers in CSV).
_NUM_US = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
_NUM_EU = r"(?:\d{1,3}(?:[. ]\d{3})+(?:,\d*)?|\d+(?:,\d*)?|,\d+)"


def _pattern(number: str) -> str:
    # One sign at most, anywhere a system puts it; parentheses around the rest (accounting).
    signed = rf"[-+]?\s*\$?\s*[-+]?\s*{number}\s*-?"
    paren = rf"\$?\s*\(\s*\$?\s*{number}\s*\)"
    return rf"^\s*(?:{signed}|{paren})\s*$"


_SHAPE = {False: _pattern(_NUM_US), True: _pattern(_NUM_EU)}
_SHAPE_RE = {k: re.compile(v) for k, v in _SHAPE.items()}
# What is left of a number once signs, $, parentheses, grouping and blanks are removed.
_DROP = {False: r"[\s$()+,-]", True: r"[\s$()+.-]"}
_DROP_RE = {k: re.compile(v) for k, v in _DROP.items()}
_NEGATIVE = r"^\s*\$?\s*\(|-"
#: Excel's accounting zero: a dash, with or without the dollar sign.
_DASH = r"^\s*\$?\s*-\s*$"
_DASH_RE = re.compile(_DASH)


def _signs_ok(text: str) -> bool:
    return text.count("-") + text.count("+") <= 1


@functools.lru_cache(maxsize=65536)
def _parse_text(text: str, decimal_comma: bool) -> float | None:
    if not text.strip():
        return None
    if _DASH_RE.match(text):
        return 0.0
    if not _SHAPE_RE[decimal_comma].match(text) or not _signs_ok(_mantissa_signs(text)):
        raise NotMoney(text, decimal_comma=decimal_comma)
    digits = _DROP_RE[decimal_comma].sub("", _strip_exponent_sign(text))
    if decimal_comma:
        digits = digits.replace(",", ".")
    value = float(_restore_exponent(text, digits))
    if re.search(_NEGATIVE, _strip_exponent_sign(text)):
        value = -value
    if not math.isfinite(value):
        raise NotMoney(text, decimal_comma=decimal_comma)
    return value + 0.0  # -0.0 (from "-0" or "(0.00)") is 0


_EXP_RE = re.compile(r"[eE]([+-]?)(\d+)")


def _strip_exponent_sign(text: str) -> str:
    """The text with an exponent's sign removed (it is not the amount's sign)."""
    return _EXP_RE.sub(lambda m: "e" + m.group(2), text)


def _mantissa_signs(text: str) -> str:
    return _strip_exponent_sign(text)


def _restore_exponent(text: str, digits: str) -> str:
    match = _EXP_RE.search(text)
    if match is None:
        return digits
    return digits.replace("e", "e" + match.group(1)).replace("E", "e" + match.group(1))


def parse_money(value: object, *, decimal_comma: bool = False) -> float | None:
    """Read one amount: a number as it is, text by the rules above; None for a blank cell.

    Raise :class:`NotMoney` (with the text) for anything that is not an amount, and for
    ``nan``/infinite numbers and booleans.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise NotMoney(str(value), decimal_comma=decimal_comma)
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            raise NotMoney(str(value), decimal_comma=decimal_comma)
        return number + 0.0
    return _parse_text(str(value), decimal_comma)


def is_money_text(text: str, *, decimal_comma: bool = False) -> bool:
    """True when ``text`` is a non-blank amount as :func:`parse_money` reads it."""
    try:
        return parse_money(text, decimal_comma=decimal_comma) is not None
    except NotMoney:
        return False


def _no_minus_zero(values: pl.Series) -> pl.Series:
    """The values with -0.0 (from ``-0.00``) as 0.0; no copy unless there is one (rare)."""
    zeros = values.filter(values == 0).to_numpy()
    if not np.signbit(zeros).any():
        return values
    frame = pl.DataFrame({"v": values})
    return frame.select(pl.when(pl.col("v") == 0).then(0.0).otherwise(pl.col("v"))).to_series()


def money_series(series: pl.Series, *, decimal_comma: bool = False) -> tuple[pl.Series, pl.Series]:
    """Read a column of amounts: (Float64 values, mask of cells that are not amounts).

    Blank cells are null and not flagged. A numeric column is taken as it is (NaN flagged);
    a text column is first tried as plain numbers (the common case, one cast) and only when
    that fails parsed by the rules above, with vectorised string operations.
    """
    name = series.name
    if series.dtype.is_numeric():
        values = _no_minus_zero(series.cast(pl.Float64))
        bad = (values.is_nan() | values.is_infinite()).fill_null(False)
        return values.fill_nan(None).rename(name), bad
    if series.dtype != pl.String:
        series = series.cast(pl.String)
    if not decimal_comma:
        try:
            # Fast path: every cell a plain number (or empty). polars' strict cast accepts
            # exactly what float() does for these, surrounding white space excluded.
            plain = series.str.strip_chars().replace("", None)
            values = _no_minus_zero(plain.cast(pl.Float64, strict=True))
        except pl.exceptions.InvalidOperationError:
            pass
        else:
            finite = values.is_finite().fill_null(True)
            if bool(finite.all()):
                return values.rename(name), pl.Series(name, [False] * len(series))
    frame = pl.DataFrame({"t": series})
    text = pl.col("t")
    stripped = text.str.strip_chars()
    mantissa = stripped.str.replace_all(r"[eE][+-]?(\d+)", "e$1")
    exp_sign = stripped.str.extract(r"[eE]([+-]?)\d+", 1).fill_null("")
    digits = mantissa.str.replace_all(_DROP[decimal_comma], "")
    if decimal_comma:
        digits = digits.str.replace(",", ".", literal=True)
    digits = digits.str.replace("e", pl.lit("e") + exp_sign, literal=True)
    magnitude = digits.cast(pl.Float64, strict=False)
    negative = mantissa.str.contains(_NEGATIVE)
    shaped = stripped.str.contains(_SHAPE[decimal_comma]) & (
        mantissa.str.count_matches(r"[-+]") <= 1
    )
    present = stripped.is_not_null() & (stripped != "")
    dash = stripped.str.contains(_DASH).fill_null(False)
    out = frame.select(
        value=pl.when(dash)
        .then(0.0)
        .when(shaped & present & magnitude.is_finite())
        .then(pl.when(negative & (magnitude != 0)).then(-magnitude).otherwise(magnitude))
        .otherwise(None),
        bad=present & ~dash & ~(shaped & magnitude.is_finite()).fill_null(False),
    )
    return out["value"].rename(name), out["bad"].rename(name)
