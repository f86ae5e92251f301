"""Dates as billing systems and Excel write them: the one date parser in audit-kit.

Every command reads a date here, a whole column (:func:`date_series`, vectorised) or one cell
or filter value (:func:`parse_date`); both accept exactly the same texts.

Accepted (white space around is ignored):

- ISO ``2026-07-01``, and ISO datetimes ``2026-07-01 00:00:00`` / ``2026-07-01T08:30``
  (Excel date cells read as text look like this; the date part is the date);
- US ``07/01/2026``, ``7/1/2026``, ``07/01/26`` (two-digit years: 00-69 are 20xx, 70-99 are
  19xx), ``07-01-2026``; each optionally followed by a time ``7/1/2026 0:00``;
- ``20260701`` (eight digits);
- Excel serial day numbers (``46204`` = 2026-07-01) only where the caller says the value came
  from an Excel number cell (``excel_serial=True``), never in a CSV where five digits could be
  anything;
- ``datetime.date`` / ``datetime.datetime`` values as they are.

A blank is missing (None / null). Anything else (``2026-13-01``, ``31/12/2026``, ``July 1``)
is not a date: the column form flags it, the scalar form raises :class:`NotADate`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import polars as pl

__all__ = [
    "DATE_EXAMPLES",
    "NotADate",
    "date_series",
    "excel_serial_date",
    "is_date_text",
    "parse_date",
]

#: What a date may look like, for messages (``expected ...``).
DATE_EXAMPLES = "a date such as 2026-07-01, 07/01/2026 or 7/1/2026"

_EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's 1900 system, its 1900-02-29 bug included


class NotADate(ValueError):
    """A cell or value that is not a date; ``text`` is what was found."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(f"not a date: {text!r}")


_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?[AaPp][Mm])?)?"
#: (gate regex on the stripped text, the part to parse, strptime format)
_FORMATS: tuple[tuple[str, str, str], ...] = (
    (rf"^\d{{4}}-\d{{2}}-\d{{2}}{_TIME}$", r"^(\d{4}-\d{2}-\d{2})", "%Y-%m-%d"),
    (rf"^\d{{1,2}}/\d{{1,2}}/\d{{4}}{_TIME}$", r"^(\d{1,2}/\d{1,2}/\d{4})", "%m/%d/%Y"),
    (rf"^\d{{1,2}}-\d{{1,2}}-\d{{4}}{_TIME}$", r"^(\d{1,2}-\d{1,2}-\d{4})", "%m-%d-%Y"),
    (r"^\d{8}$", r"^(\d{8})$", "%Y%m%d"),
)
_FORMATS_RE = tuple((re.compile(g), re.compile(p), f) for g, p, f in _FORMATS)
_SERIAL_RE = re.compile(r"^\d{4,6}(?:\.0+)?$")
# Two-digit years are widened here, not by strptime's %y (Python and polars pivot differently).
_SHORT_YEAR = rf"^(\d{{1,2}})/(\d{{1,2}})/(\d{{2}}){_TIME}$"
_SHORT_YEAR_RE = re.compile(_SHORT_YEAR)
_PIVOT = 70


def _widen(year: int) -> int:
    return year + (2000 if year < _PIVOT else 1900)


def excel_serial_date(serial: float) -> dt.date:
    """The date of an Excel (1900 system) serial day number; 46204 -> 2026-07-01."""
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


@functools.lru_cache(maxsize=65536)
def _parse_text(text: str, excel_serial: bool) -> dt.date | None:
    stripped = text.strip()
    if not stripped:
        return None
    for gate, part, fmt in _FORMATS_RE:
        if gate.match(stripped):
            match = part.match(stripped)
            assert match is not None  # the gate implies the part
            try:
                return dt.datetime.strptime(match.group(1), fmt).date()
            except ValueError:
                raise NotADate(text) from None
    short = _SHORT_YEAR_RE.match(stripped)
    if short:
        month, day, year = (int(g) for g in short.groups())
        try:
            return dt.date(_widen(year), month, day)
        except ValueError:
            raise NotADate(text) from None
    if excel_serial and _SERIAL_RE.match(stripped):
        return excel_serial_date(float(stripped))
    raise NotADate(text)


def parse_date(value: object, *, excel_serial: bool = False) -> dt.date | None:
    """Read one date (see the module docstring); None for a blank; :class:`NotADate` else."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise NotADate(str(value))
    if isinstance(value, int | float):
        if excel_serial and float(value).is_integer() and value > 0:
            return excel_serial_date(value)
        raise NotADate(str(value))
    return _parse_text(str(value), excel_serial)


def is_date_text(text: str) -> bool:
    """True when ``text`` is a non-blank date as :func:`parse_date` reads it."""
    try:
        return parse_date(text) is not None
    except NotADate:
        return False


def date_series(series: pl.Series, *, excel_serial: bool = False) -> tuple[pl.Series, pl.Series]:
    """Read a column of dates: (Date values, mask of non-blank cells that are not dates)."""
    name = series.name
    if series.dtype == pl.Date:
        return series, pl.Series(name, [False] * len(series))
    if isinstance(series.dtype, pl.Datetime):
        return series.dt.date().rename(name), pl.Series(name, [False] * len(series))
    if series.dtype.is_numeric() and excel_serial:
        series = series.cast(pl.String)
    if series.dtype != pl.String:
        series = series.cast(pl.String)
    text = pl.col("t").str.strip_chars()
    parsed: list[pl.Expr] = []
    for gate, part, fmt in _FORMATS:
        piece = text.str.extract(part, 1)
        parsed.append(
            pl.when(text.str.contains(gate)).then(piece.str.strptime(pl.Date, fmt, strict=False))
        )
    yy = text.str.extract(_SHORT_YEAR, 3).cast(pl.Int32, strict=False)
    widened = pl.when(yy < _PIVOT).then(yy + 2000).otherwise(yy + 1900).cast(pl.String)
    long_form = pl.concat_str(
        [text.str.extract(_SHORT_YEAR, 1), text.str.extract(_SHORT_YEAR, 2), widened],
        separator="/",
    )
    parsed.append(long_form.str.strptime(pl.Date, "%m/%d/%Y", strict=False))
    if excel_serial:
        serial = text.str.extract(r"^(\d{4,6})(?:\.0+)?$", 1).cast(pl.Int32, strict=False)
        parsed.append(pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial))
    out = pl.DataFrame({"t": series}).select(
        value=pl.coalesce(parsed).cast(pl.Date),
        present=text.is_not_null() & (text != ""),
    )
    value = out["value"].rename(name)
    return value, (out["present"] & value.is_null()).rename(name)


def parse_timestamp(text: str) -> dt.datetime | None:
    """Read a timestamp audit-kit wrote itself (ISO 8601 with time and offset), in UTC.

    Not for dates typed by people (use :func:`parse_date`): these are the ``created_at`` and
    ``scored_at`` stamps of the audit folder's own records. Empty or unreadable gives None.
    """
    try:
        return dt.datetime.fromisoformat(text).astimezone(dt.UTC) if text else None
    except ValueError:
        return None
