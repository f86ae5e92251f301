"""The opened universe file: its hash, its columns, lazy reads and fetches of rows."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from audit_kit.errors import InputError, Problem
from audit_kit.universe.layout import Footer, footer_note
from audit_kit.universe.lines import LineIndex, index_lines
from audit_kit.universe.validation import ROW, describe_rows

Encoding = Literal["auto", "utf-8", "latin-1"]
Format = Literal["csv", "parquet", "xlsx"]
Progress = Callable[[str], None]


@dataclass(slots=True)
class BytePass:
    """What one pass over a file's bytes found (run in a background thread)."""

    sha256: str
    lines: LineIndex | None = None
    bad_utf8_line: int | None = None  # 1-based line of the first byte that is not UTF-8
    delimiters: int = 0
    quoted: bool = False


@dataclass(slots=True, kw_only=True)
class Universe:
    """An opened universe file: what it is, its hash, its columns, and lazy access to rows.

    The SHA-256 and (for CSV) the line index and encoding check are computed by one pass over
    the bytes in a background thread while the frame columns are read; :meth:`read` waits for
    it and, if the bytes turn out not to be UTF-8, re-reads them as Latin-1.
    """

    path: Path
    format: Format
    size_bytes: int
    columns: tuple[str, ...]
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)
    #: Data rows in the file (set when the frame is read; trailing blank lines not counted).
    rows: int | None = None
    #: Records the parser sees (blank lines included); maps CSV lines to rows.
    records: int | None = None
    requested_encoding: Encoding = "auto"
    #: Rows (CSV lines) above the header: title rows, skipped.
    header_offset: int = 0
    #: Total rows and report lines after the units (never units), and the rows they span at
    #: the end (CSV: records to drop after reading; XLSX: already dropped).
    footers: list[Footer] = field(default_factory=list)
    footer_records: int = 0
    #: Delimiters in, and lines longer than a blank line among, the title and footer lines
    #: (the field-count check allows for them).
    title_delimiters: int = 0
    title_long: int = 0
    footer_delimiters: int = 0
    footer_long: int = 0
    #: 1-based rows of the footers, for the record (set once the rows are known).
    footer_labels: list[dict[str, Any]] = field(default_factory=list)
    #: CSV only: bytes read by polars (the file itself, or its UTF-8 transcoding).
    _data: bytes | None = field(default=None, repr=False)
    #: CSV only: where the lines start (line 0 = header).
    _lines: LineIndex | None = field(default=None, repr=False)
    #: XLSX only: the whole sheet, all cells as text.
    _sheet_frame: pl.DataFrame | None = field(default=None, repr=False)
    _pending: Future[BytePass] | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _sha256: str = field(default="", repr=False)

    # -- the background pass ---------------------------------------------------------------
    @property
    def sha256(self) -> str:
        """SHA-256 of the file's bytes (waits for the background pass)."""
        self.finish()
        return self._sha256

    def finish(self) -> bool:
        """Wait for the pass over the bytes and act on it; True if the text must be re-read."""
        if self._pending is None:
            return False
        try:
            result = self._pending.result()
        except OSError as exc:
            raise InputError.one(
                "Cannot read the universe file.",
                where=str(self.path),
                expected="a readable file",
                found=type(exc).__name__,
                fix="check the file and its permissions.",
            ) from None
        finally:
            self._pending = None
        self._sha256 = result.sha256
        if self.format != "csv":
            return False
        reread = False
        if self._data is None:
            self._lines = result.lines
        if result.bad_utf8_line is not None and self._data is None:
            if self.requested_encoding == "utf-8":
                raise InputError.one(
                    "The universe file has the wrong text encoding.",
                    where=f"{self.path}: line {result.bad_utf8_line}",
                    expected="UTF-8 text (as --encoding utf-8 requires)",
                    found="a byte that is not UTF-8 (Latin-1/Windows exports look like this)",
                    fix="re-run with --encoding latin-1 (or auto), or save as 'CSV UTF-8'.",
                )
            self.notes.append(
                f"The file is not UTF-8 (first at line {result.bad_utf8_line}); it was read as "
                "Latin-1. If names look wrong in sample.csv, save the export as 'CSV UTF-8' "
                "and sample again."
            )
            self._transcode()
            reread = True
        self._check_fields(result)
        return reread

    def close(self) -> None:
        """Stop the background pass if it is still running (nothing is kept of it)."""
        self._stop.set()

    def _transcode(self) -> None:
        self.encoding = "latin-1"
        self._data = self.path.read_bytes().decode("latin-1").encode("utf-8")
        self._lines = index_lines(self._data)

    def _check_fields(self, result: BytePass) -> None:
        """Refuse rows with more or fewer fields than the header (a delimiter inside a field)."""
        width = len(self.columns)
        if width < 2:
            return
        if not result.quoted and self._lines is not None:
            # Short lines ("\n", "\r\n", one character) hold no delimiter; title and footer
            # lines hold what they hold.
            table = self._lines.lines - self._lines.short - self.title_long - self.footer_long
            extra = self.title_delimiters + self.footer_delimiters
            if result.delimiters == (width - 1) * table + extra:
                return
        else:
            # Delimiters inside quotes make counting useless: let the parser count fields.
            try:
                self._scan_text(list(self.columns)).select(pl.all().null_count()).collect(
                    engine="streaming"
                )
                return
            except pl.exceptions.PolarsError:
                pass
        bad = self._diagnose()
        if bad:
            raise InputError.one(
                "The universe file has rows that do not match its header.",
                where=f"{self.path}: {describe_rows(bad, self.row_label, count=len(bad))}",
                expected=f"{width} fields per row, as in the header",
                found=f"{len(bad)} row{'s' if len(bad) > 1 else ''} with another number "
                "of fields (or an unclosed quote)",
                fix="check the delimiter and the quoting of those rows in the export "
                "(a delimiter inside a value must be quoted).",
            )

    # -- description -----------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Return the universe part of the sampling record."""
        out: dict[str, Any] = {
            "file": self.path.name,
            "sha256": self.sha256,
            "rows": self.rows,
            "format": self.format,
            "bytes": self.size_bytes,
        }
        if self.format == "csv":
            out["delimiter"] = self.delimiter
            out["encoding"] = self.encoding
        if self.format == "xlsx":
            out["sheet"] = self.sheet
        if self.header_offset:
            out["header_row"] = self.header_offset + 1
        if self.footer_labels:
            out["footer_rows"] = list(self.footer_labels)
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def drop_footer(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows of a CSV read in full without its footer rows (recorded and noted)."""
        if self.format != "csv" or not self.footer_records or frame.height < self.footer_records:
            return frame
        if not self.footer_labels:
            rows = frame.height
            self.footer_labels = [
                {"row": self.row_label(rows - f.offset).split(" ")[1], "kind": f.kind}
                for f in self.footers
            ]
            self.notes.append(footer_note(self.footer_labels))
        return frame.head(frame.height - self.footer_records)

    def row_label(self, index: int) -> str:
        """Name a 0-based data row as the user sees it (header = row 1)."""
        if self.format == "parquet":
            return f"record {index + 1}"
        return f"row {index + 2 + self.header_offset}"

    # -- reading ---------------------------------------------------------------------------
    def _scan_text(
        self,
        columns: Sequence[str],
        numeric: Iterable[str] = (),
        categorical: Iterable[str] = (),
        *,
        row_index: bool = True,
    ) -> pl.LazyFrame:
        source: Path | bytes = self._data if self._data is not None else self.path
        types: dict[str, type[pl.DataType]] = {c: pl.Float64 for c in numeric}
        types.update((c, pl.Categorical) for c in categorical)
        lf = pl.scan_csv(
            source,
            separator=self.delimiter or ",",
            skip_lines=self.header_offset,
            infer_schema=False,
            schema_overrides=types or None,
            row_index_name=ROW if row_index else None,
            encoding="utf8",
        )
        return lf.select(
            [ROW, *dict.fromkeys(columns)] if row_index else list(dict.fromkeys(columns))
        )

    def scan(self, columns: Sequence[str]) -> pl.LazyFrame:
        """Return a lazy frame of ``ROW`` and the given columns (text for CSV and XLSX)."""
        cols = [ROW, *dict.fromkeys(columns)]
        if self.format == "csv":
            return self._scan_text(columns)
        if self.format == "parquet":
            return pl.scan_parquet(self.path, row_index_name=ROW).select(cols)
        assert self._sheet_frame is not None
        return self._sheet_frame.lazy().select(cols)

    def read(
        self,
        columns: Sequence[str],
        *,
        numeric: Iterable[str] = (),
        categorical: Iterable[str] = (),
        wait: bool = True,
    ) -> pl.DataFrame:
        """Read ``ROW`` and the given columns of every row.

        ``numeric`` columns of a CSV are parsed as numbers by the reader when every cell is a
        plain number (fast); otherwise they stay text for
        :func:`audit_kit.values.money.money_series` to judge.
        ``categorical`` columns (few distinct values, e.g. strata) come back as
        ``pl.Categorical``, the others as text (or the Parquet file's types).
        With ``wait`` (the default) the checks of the whole file (encoding, field counts) are
        done first; without, the caller must call :meth:`finish` before trusting the result,
        and read again if it returns True (the file turned out to be Latin-1).
        """
        numeric = [c for c in numeric if c in columns]
        categorical = [c for c in categorical if c in columns and c not in numeric]
        numeric = numeric if self.format == "csv" else []
        try:
            frame = self._read_once(columns, numeric, categorical)
        except InputError:
            if not self.finish():
                raise
            frame = self._read_once(columns, numeric, categorical)
        else:
            if wait and self.finish():
                frame = self._read_once(columns, numeric, categorical)
        self.records = frame.height
        return frame

    def _read_once(
        self, columns: Sequence[str], numeric: list[str], categorical: list[str]
    ) -> pl.DataFrame:
        if self.format != "csv":
            frame = self.collect(self.scan(columns))
        else:
            # Every record is a row of the result (blank lines too, as empty rows), so the row
            # index is the position: numbering after the read is cheaper than in the parser.
            if numeric or categorical:
                try:
                    lf = self._scan_text(columns, numeric, categorical, row_index=False)
                    return lf.collect().with_row_index(ROW)
                except pl.exceptions.PolarsError:
                    pass  # a cell that is not a plain number: read as text, judged cell by cell
            frame = self.collect(self._scan_text(columns, row_index=False)).with_row_index(ROW)
        if categorical:
            frame = frame.with_columns(pl.col(categorical).cast(pl.String).cast(pl.Categorical))
        return frame

    def collect(self, lf: pl.LazyFrame) -> pl.DataFrame:
        """Collect a scan, turning parser failures into an InputError without row contents."""
        try:
            return lf.collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise InputError("Cannot read the universe file.", self._read_problems(exc)) from None

    def _read_problems(self, exc: Exception) -> list[Problem]:
        message = str(exc).lower()
        if self.format == "csv":
            bad = self._diagnose()
            if bad:
                return [
                    Problem(
                        where=f"{self.path}: {describe_rows(bad, self.row_label, count=len(bad))}",
                        expected=f"{len(self.columns)} fields per row, as in the header",
                        found="rows with another number of fields or an unclosed quote",
                        fix="check the delimiter and the quoting of those rows in the export.",
                    )
                ]
            if "utf-8" in message or "utf8" in message:
                return [
                    Problem(
                        where=str(self.path),
                        expected="UTF-8 text",
                        found="bytes that are not UTF-8",
                        fix="re-run with --encoding latin-1, or save the file as CSV UTF-8.",
                    )
                ]
        # Parser messages can quote cell contents; say only what kind of failure it was.
        return [
            Problem(
                where=str(self.path),
                expected=f"a readable {self.format.upper()} file",
                found=f"a {type(exc).__name__} from the reader (details withheld: they can "
                "contain row contents)",
                fix="open the file in the program that made it and export it again.",
            )
        ]

    def _diagnose(self) -> list[int]:
        """Data rows whose field count differs from the header's (footer rows excepted)."""
        bad, rows = _diagnose_csv(
            self._text_stream(), self.delimiter or ",", len(self.columns), skip=self.header_offset
        )
        if self.footer_records:
            first = rows - self.footer_records  # the footer rows have fields of their own
            bad = [b for b in bad if b < first]
        return bad

    def _text_stream(self) -> io.TextIOBase:
        if self._data is not None:
            return io.TextIOWrapper(io.BytesIO(self._data), encoding="utf-8-sig", newline="")
        return io.TextIOWrapper(
            self.path.open("rb"), encoding="utf-8-sig", errors="replace", newline=""
        )

    def fetch(
        self, rows: Sequence[int], columns: Sequence[str], *, id_column: str, ids: Sequence[str]
    ) -> pl.DataFrame:
        """Return ``ROW`` and ``columns`` for the given data rows, in the order given.

        ``ids`` are the unit ids expected at those rows (from the frame); a CSV is read by byte
        offset when its lines map one-to-one to records, and the ids prove the mapping, else
        (quoted line breaks) by a filtered scan.
        """
        self.finish()
        wanted = list(dict.fromkeys([id_column, *columns]))
        order = pl.DataFrame({ROW: pl.Series(list(rows), dtype=pl.UInt32)})
        fetched: pl.DataFrame | None = None
        if self.format == "csv" and rows:
            fetched = self._fetch_by_offset(rows, wanted)
            if fetched is not None and fetched[id_column].cast(pl.String).to_list() != list(ids):
                fetched = None
        if fetched is None:
            wanted_rows = pl.Series(list(rows), dtype=pl.UInt32)
            lf = self.scan(wanted)
            if self.format == "parquet" and rows:
                # Filter on the ids first: the reader decodes that one column for every row and
                # the others only for the rows that pass (a superset of the rows wanted, since
                # these are the ids at those rows); the row filter below then keeps exactly them.
                expected = pl.Series(list(ids), dtype=pl.String).unique().implode()
                lf = lf.filter(pl.col(id_column).cast(pl.String).fill_null("").is_in(expected))
            lf = lf.filter(pl.col(ROW).cast(pl.UInt32).is_in(wanted_rows.implode()))
            fetched = self.collect(lf)
            fetched = order.join(fetched.with_columns(pl.col(ROW).cast(pl.UInt32)), on=ROW)
        return fetched.select([ROW, *dict.fromkeys(columns)])

    def _fetch_by_offset(self, rows: Sequence[int], columns: list[str]) -> pl.DataFrame | None:
        lines = self._lines
        skip = self.header_offset
        if lines is None or self.records is None or lines.lines != self.records + 1 + skip:
            return None
        # The header's line, then each row's (title lines come before the header).
        wanted = np.concatenate([[skip], np.asarray(rows, dtype=np.int64) + 1 + skip])
        starts, stops = lines.spans(wanted)
        header_start, header_end = (
            (0, int(stops[0])) if not skip else (int(starts[0]), int(stops[0]))
        )
        begins, ends = starts[1:].tolist(), stops[1:].tolist()
        chunks: list[bytes] = []
        if self._data is not None:
            data = self._data
            chunks.append(data[header_start:header_end])
            chunks.extend(data[b:e] for b, e in zip(begins, ends, strict=True))
        else:
            with self.path.open("rb") as fh:
                fh.seek(header_start)
                chunks.append(fh.read(header_end - header_start))
                for begin, end in zip(begins, ends, strict=True):
                    fh.seek(begin)
                    chunks.append(fh.read(end - begin))
        snippet = b"".join(c if c.endswith(b"\n") else c + b"\n" for c in chunks)
        try:
            frame = pl.read_csv(
                snippet, separator=self.delimiter or ",", infer_schema=False, columns=columns
            )
        except pl.exceptions.PolarsError:
            return None
        if frame.height != len(rows):
            return None
        return frame.with_columns(pl.Series(ROW, list(rows), dtype=pl.UInt32))


def _diagnose_csv(
    stream: io.TextIOBase, delimiter: str, width: int, *, skip: int = 0
) -> tuple[list[int], int]:
    """Return 0-based data rows whose field count differs from the header's (error path only),
    and the number of data rows read.

    A quote left open swallows the rest of the file; that row is reported too. ``skip``:
    title lines above the header.
    """
    bad: list[int] = []
    index = -1
    with stream:
        for _ in range(skip):
            stream.readline()
        reader = csv.reader(stream, delimiter=delimiter, strict=True)
        next(reader, None)
        try:
            for index, row in enumerate(reader):  # noqa: B007 (index is read after the loop)
                if row and len(row) != width:
                    bad.append(index)
        except csv.Error:
            bad.append(index + 1)
    return bad, index + 1
