"""Read the small input files of the RAT-STATS-style commands: strata, probe and sample tables.

CSV with any delimiter (UTF-8 or Latin-1) or XLSX (first or named sheet). Every problem found
is collected and reported at once as an :class:`~audit_kit.errors.InputError`, each with file,
row and column. Imported by the commands when they run, not when the CLI starts.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from audit_kit import stats
from audit_kit.errors import InputError, Problem, Problems
from audit_kit.values.money import NotMoney, parse_money

__all__ = [
    "Collector",
    "Table",
    "attribute_strata",
    "numbers",
    "parse_number",
    "probe_values",
    "read_table",
    "require_columns",
    "size_strata",
    "strata_sizes",
    "stratum_label",
    "whole",
]

_MAX_LISTED = 50  # problems listed one by one; the rest are counted


@dataclass(frozen=True, slots=True)
class Table:
    path: Path
    columns: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the user sees it, cells)

    def where(self, row: int | None = None, column: str | None = None) -> str:
        text = self.path.name
        if row is not None:
            text += f" row {row}"
        if column is not None:
            text += f", column {column!r}" if row is not None else f" column {column!r}"
        return text

    def find(self, name: str) -> int | None:
        wanted = name.strip().casefold()
        for index, column in enumerate(self.columns):
            if column.strip().casefold() == wanted:
                return index
        return None

    def cell(self, cells: list[str], index: int) -> str:
        return cells[index].strip() if index < len(cells) else ""


def read_table(path: Path, *, sheet: str | None = None) -> Table:
    if not path.is_file():
        raise InputError.one(
            "Cannot read the input file.",
            where=str(path),
            expected="an existing CSV or XLSX file",
            found="no file",
        )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # every byte decodes; amounts and labels are ASCII anyway
    sample = text[:4096]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
        else:
            rows.append((reader.line_num, cells))
    if header is None:
        raise InputError.one(
            "The input file is empty.",
            where=path.name,
            expected="a header row and data rows",
            found="no rows",
        )
    return Table(path=path, columns=header, rows=rows)


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    import polars as pl

    try:
        frame = (
            pl.read_excel(path, sheet_name=sheet, infer_schema_length=0)
            if sheet
            else pl.read_excel(path, infer_schema_length=0)
        )
    except Exception as exc:  # fastexcel raises its own types; report them as input errors
        raise InputError.one(
            "Cannot read the workbook.",
            where=path.name + (f" sheet {sheet!r}" if sheet else ""),
            expected="a readable .xlsx workbook with a header row",
            found=type(exc).__name__,
            fix="save the file again as .xlsx, or export it as CSV.",
        ) from None
    rows = [
        (index + 2, ["" if v is None else str(v) for v in values])
        for index, values in enumerate(frame.iter_rows())
    ]
    return Table(path=path, columns=[str(c) for c in frame.columns], rows=rows)


def parse_number(text: str) -> float | None:
    """A number or amount as the one money parser reads it (None when it is not one)."""
    try:
        return parse_money(text)
    except NotMoney:
        return None


def stratum_label(text: str) -> str:
    """Stratum label as text; ``1.0`` (a number cell read from Excel) is the label ``1``."""
    text = text.strip()
    return text[: text.index(".")] if re.fullmatch(r"-?\d+\.0+", text) else text


class Collector(Problems):
    """The problems of one input file, at most :data:`_MAX_LISTED` of them listed."""

    def __init__(self) -> None:
        super().__init__(InputError, limit=_MAX_LISTED)

    @property
    def problems(self) -> list[Problem]:
        return self.items


def require_columns(table: Table, names: Sequence[str], out: Collector) -> dict[str, int]:
    found: dict[str, int] = {}
    for name in names:
        index = table.find(name)
        if index is None:
            out.add(
                table.where(column=name),
                f"a column named {name!r}",
                "columns " + ", ".join(repr(c) for c in table.columns),
                "rename the column or choose another with the command's options.",
            )
        else:
            found[name] = index
    return found


def numbers(table: Table, index: int, column: str, out: Collector) -> list[float]:
    values: list[float] = []
    for row, cells in table.rows:
        text = table.cell(cells, index)
        value = parse_number(text)
        if value is None:
            out.add(
                table.where(row, column),
                "a number",
                "an empty cell" if not text else "a value that is not a number",
                "enter the amount as a plain number (0 for none).",
            )
        else:
            values.append(value)
    return values


def whole(table: Table, row: int, column: str, text: str, out: Collector) -> int | None:
    value = parse_number(text)
    if value is None or not value.is_integer():
        out.add(
            table.where(row, column),
            "a whole number",
            "an empty cell" if not text else "a value that is not a whole number",
        )
        return None
    return int(value)


def attribute_strata(path: Path) -> list[stats.AttributeStratum]:
    table = read_table(path)
    out = Collector()
    columns = require_columns(table, ("stratum", "population", "sample", "errors"), out)
    out.raise_if_any("The strata file is missing columns.")
    strata: list[stats.AttributeStratum] = []
    for row, cells in table.rows:
        name = stratum_label(table.cell(cells, columns["stratum"]))
        if not name:
            out.add(table.where(row, "stratum"), "a stratum label", "an empty cell")
        numbers = {
            key: whole(table, row, key, table.cell(cells, columns[key]), out)
            for key in ("population", "sample", "errors")
        }
        if name and all(v is not None for v in numbers.values()):
            strata.append(
                stats.AttributeStratum(
                    name=name,
                    population=numbers["population"] or 0,
                    sample=numbers["sample"] or 0,
                    errors=numbers["errors"] or 0,
                )
            )
    if not table.rows:
        out.add(table.where(), "one row per stratum", "no data rows")
    out.raise_if_any("The strata file has invalid values.")
    return strata


_POPULATION_ALIASES = ("population", "universe_size", "universe", "n_universe")


def strata_sizes(path: Path, labels: list[str]) -> dict[str, int]:
    """Read stratum,population (and optional sample_size, checked) in the file's order."""
    table = read_table(path)
    out = Collector()
    name_index = table.find("stratum")
    pop_index = next(
        (table.find(a) for a in _POPULATION_ALIASES if table.find(a) is not None), None
    )
    sample_index = table.find("sample_size")
    if sample_index is None:
        sample_index = table.find("sample")
    if name_index is None or pop_index is None:
        out.add(
            table.where(),
            "columns stratum and population",
            "columns " + ", ".join(repr(c) for c in table.columns),
            "name the columns stratum,population.",
        )
        out.raise_if_any("The strata file is missing columns.")
    assert name_index is not None and pop_index is not None
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    sizes: dict[str, int] = {}
    for row, cells in table.rows:
        name = stratum_label(table.cell(cells, name_index))
        size = whole(table, row, table.columns[pop_index], table.cell(cells, pop_index), out)
        if not name:
            out.add(table.where(row, "stratum"), "a stratum label", "an empty cell")
            continue
        if name in sizes:
            out.add(table.where(row, "stratum"), "each stratum once", f"stratum {name!r} again")
            continue
        if size is not None:
            sizes[name] = size
        if sample_index is not None and table.cell(cells, sample_index):
            expected = whole(
                table, row, table.columns[sample_index], table.cell(cells, sample_index), out
            )
            if expected is not None and expected != counts.get(name, 0):
                out.add(
                    table.where(row, table.columns[sample_index]),
                    f"the number of sample rows of stratum {name!r} ({counts.get(name, 0)})",
                    str(expected),
                    "check that the sample file holds every sampled item.",
                )
    for name in sizes:
        if name not in counts:
            out.add(
                f"{path.name} stratum {name!r}",
                "sampled items in the sample file",
                "none",
                "remove the stratum or add its sample.",
            )
    for name in counts:
        if name not in sizes:
            out.add(
                f"{path.name}",
                f"a population for stratum {name!r} (it has {counts[name]} sampled items)",
                "no row for it",
                "add the stratum with its universe size.",
            )
    out.raise_if_any("The strata file does not match the sample.")
    return sizes


def probe_values(path: Path, column: str | None) -> list[float]:
    table = read_table(path)
    out = Collector()
    if column is None:
        numeric = [
            (i, c)
            for i, c in enumerate(table.columns)
            if table.rows
            and all(parse_number(table.cell(cells, i)) is not None for _, cells in table.rows)
        ]
        if len(numeric) != 1:
            out.add(
                table.where(),
                "one numeric column, or --column naming the one to use",
                f"{len(numeric)} numeric columns among "
                + ", ".join(repr(c) for c in table.columns),
            )
            out.raise_if_any("Cannot choose the probe column.")
        index, column = numeric[0]
    else:
        found = require_columns(table, [column], out)
        out.raise_if_any("Cannot read the probe file.")
        index = found[column]
    values = numbers(table, index, column, out)
    out.raise_if_any("The probe file has invalid values.")
    return values


def size_strata(path: Path) -> list[stats.SizeStratum]:
    table = read_table(path)
    out = Collector()
    columns = require_columns(table, ("stratum", "population", "mean", "sd"), out)
    out.raise_if_any("The strata file is missing columns.")
    strata: list[stats.SizeStratum] = []
    for row, cells in table.rows:
        name = stratum_label(table.cell(cells, columns["stratum"]))
        big_n = whole(table, row, "population", table.cell(cells, columns["population"]), out)
        values = {}
        for key in ("mean", "sd"):
            text = table.cell(cells, columns[key])
            values[key] = parse_number(text)
            if values[key] is None:
                out.add(
                    table.where(row, key),
                    "a number",
                    "an empty cell" if not text else "a value that is not a number",
                )
        if not name:
            out.add(table.where(row, "stratum"), "a stratum label", "an empty cell")
        mean, sd = values["mean"], values["sd"]
        if name and big_n is not None and mean is not None and sd is not None:
            strata.append(stats.SizeStratum(name=name, population=big_n, mean=mean, sd=sd))
    if not table.rows:
        out.add(table.where(), "one row per stratum", "no data rows")
    out.raise_if_any("The strata file has invalid values.")
    return strata
