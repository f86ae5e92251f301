"""Read a universe file (CSV, Parquet, XLSX) lazily, map its columns, validate it.

The sampling frame needs only a few columns (unit id, strata, sampling variable, filters); those
are read with ``polars.scan_*`` and projection, so the other columns are never materialised.
The full rows are fetched afterwards for the sampled units only (:meth:`Universe.fetch`).

Problems are collected and raised together in one :class:`~audit_kit.errors.InputError`. Rows are
named as the user sees them: ``row 14`` is line 14 of a CSV or row 14 of a worksheet, header =
row 1; Parquet has no header, so its rows are ``record 1..N``. Messages never carry row
contents, only unit ids and row numbers (PHI).

CSV files are detected by content: delimiter sniffed from the header line (``,`` ``;`` tab
``|``), UTF-8 (with or without BOM) or, when the bytes are not UTF-8, Latin-1, which is then
recorded as a note with the first offending line. UTF-16 text, legacy ``.xls``,
password-protected workbooks and binary files are refused with a hint.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from audit_kit.codes import split_codes
from audit_kit.errors import InputError, Problem
from audit_kit.plan import CODE_FIELDS, SamplingPlan

__all__ = [
    "ROW",
    "Encoding",
    "Universe",
    "canonical_units",
    "describe_rows",
    "duplicate_problem",
    "missing_column_problems",
    "negative_problem",
    "open_universe",
    "parse_amounts",
    "parse_dates",
    "row_problem",
]

#: Name of the column holding each row's 0-based position among the file's data rows.
ROW = "__row"
Encoding = Literal["auto", "utf-8", "latin-1"]
Format = Literal["csv", "parquet", "xlsx"]
Progress = Callable[[str], None]

_CHUNK = 16 << 20
_DELIMITERS = (",", ";", "\t", "|")
_MAX_EXAMPLES = 5
_THOUSANDS = r"^\$?-?\d{1,3}(,\d{3})+(\.\d*)?$"


def _noop(_: str) -> None:
    pass


@dataclass(slots=True)
class _Pass:
    """What one pass over a file's bytes found (run in a background thread)."""

    sha256: str
    line_starts: np.ndarray[Any, np.dtype[np.int64]] | None = None
    end: int = 0
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
    #: CSV only: bytes read by polars (the file itself, or its UTF-8 transcoding).
    _data: bytes | None = field(default=None, repr=False)
    #: CSV only: byte offset of the start of every line (line 0 = header).
    _line_starts: np.ndarray[Any, np.dtype[np.int64]] | None = field(default=None, repr=False)
    _end: int = field(default=0, repr=False)
    #: XLSX only: the whole sheet, all cells as text.
    _sheet_frame: pl.DataFrame | None = field(default=None, repr=False)
    _pending: Future[_Pass] | None = field(default=None, repr=False)
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
            raise InputError(
                "Cannot read the universe file.",
                [
                    Problem(
                        where=str(self.path),
                        expected="a readable file",
                        found=type(exc).__name__,
                        fix="check the file and its permissions.",
                    )
                ],
            ) from None
        finally:
            self._pending = None
        self._sha256 = result.sha256
        if self.format != "csv":
            return False
        reread = False
        if self._data is None:
            self._line_starts, self._end = result.line_starts, result.end
        if result.bad_utf8_line is not None and self._data is None:
            if self.requested_encoding == "utf-8":
                raise InputError(
                    "The universe file has the wrong text encoding.",
                    [
                        Problem(
                            where=f"{self.path}: line {result.bad_utf8_line}",
                            expected="UTF-8 text (as --encoding utf-8 requires)",
                            found="a byte that is not UTF-8 (Latin-1/Windows exports look "
                            "like this)",
                            fix="re-run with --encoding latin-1 (or auto), or save as 'CSV UTF-8'.",
                        )
                    ],
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
        newlines = np.flatnonzero(np.frombuffer(self._data, dtype=np.uint8) == 10)
        self._line_starts = _starts([newlines.astype(np.int64)], len(self._data))
        self._end = len(self._data)

    def _check_fields(self, result: _Pass) -> None:
        """Refuse rows with more or fewer fields than the header (a delimiter inside a field)."""
        width = len(self.columns)
        if width < 2:
            return
        if not result.quoted and self._line_starts is not None:
            lengths = np.diff(self._line_starts, append=self._end)
            blank = int(np.count_nonzero(lengths <= 2))  # "\n" or "\r\n" (or one character)
            if result.delimiters == (width - 1) * (len(lengths) - blank):
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
        bad = _diagnose_csv(self._text_stream(), self.delimiter or ",", width)
        if bad:
            raise InputError(
                "The universe file has rows that do not match its header.",
                [
                    Problem(
                        where=f"{self.path}: {describe_rows(bad, self.row_label, count=len(bad))}",
                        expected=f"{width} fields per row, as in the header",
                        found=f"{len(bad)} row{'s' if len(bad) > 1 else ''} with another number "
                        "of fields (or an unclosed quote)",
                        fix="check the delimiter and the quoting of those rows in the export "
                        "(a delimiter inside a value must be quoted).",
                    )
                ],
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
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def row_label(self, index: int) -> str:
        """Name a 0-based data row as the user sees it (header = row 1)."""
        return f"record {index + 1}" if self.format == "parquet" else f"row {index + 2}"

    # -- reading ---------------------------------------------------------------------------
    def _scan_text(self, columns: Sequence[str], numeric: Iterable[str] = ()) -> pl.LazyFrame:
        source: Path | bytes = self._data if self._data is not None else self.path
        return pl.scan_csv(
            source,
            separator=self.delimiter or ",",
            infer_schema=False,
            schema_overrides={c: pl.Float64 for c in numeric} or None,
            row_index_name=ROW,
            encoding="utf8",
        ).select([ROW, *dict.fromkeys(columns)])

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
        self, columns: Sequence[str], *, numeric: Iterable[str] = (), wait: bool = True
    ) -> pl.DataFrame:
        """Read ``ROW`` and the given columns of every row.

        ``numeric`` columns of a CSV are parsed as numbers by the reader when every cell is a
        plain number (fast); otherwise they stay text for :func:`parse_amounts` to judge.
        With ``wait`` (the default) the checks of the whole file (encoding, field counts) are
        done first; without, the caller must call :meth:`finish` before trusting the result,
        and read again if it returns True (the file turned out to be Latin-1).
        """
        numeric = [c for c in numeric if c in columns] if self.format == "csv" else []
        try:
            frame = self._read_once(columns, numeric)
        except InputError:
            if not self.finish():
                raise
            frame = self._read_once(columns, numeric)
        else:
            if wait and self.finish():
                frame = self._read_once(columns, numeric)
        self.records = frame.height
        return frame

    def _read_once(self, columns: Sequence[str], numeric: list[str]) -> pl.DataFrame:
        if numeric:
            try:
                return self._scan_text(columns, numeric).collect()
            except pl.exceptions.PolarsError:
                pass  # a cell that is not a plain number: read as text, judged cell by cell
        return self.collect(self.scan(columns))

    def collect(self, lf: pl.LazyFrame) -> pl.DataFrame:
        """Collect a scan, turning parser failures into an InputError without row contents."""
        try:
            return lf.collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise InputError("Cannot read the universe file.", self._read_problems(exc)) from None

    def _read_problems(self, exc: Exception) -> list[Problem]:
        message = str(exc).lower()
        if self.format == "csv":
            bad = _diagnose_csv(self._text_stream(), self.delimiter or ",", len(self.columns))
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
            lf = self.scan(wanted).filter(pl.col(ROW).cast(pl.UInt32).is_in(wanted_rows.implode()))
            fetched = self.collect(lf)
            fetched = order.join(fetched.with_columns(pl.col(ROW).cast(pl.UInt32)), on=ROW)
        return fetched.select([ROW, *dict.fromkeys(columns)])

    def _fetch_by_offset(self, rows: Sequence[int], columns: list[str]) -> pl.DataFrame | None:
        starts = self._line_starts
        if starts is None or self.records is None or len(starts) != self.records + 1:
            return None
        chunks: list[bytes] = []
        header_end = int(starts[1]) if len(starts) > 1 else self._end
        if self._data is not None:
            data = self._data
            chunks.append(data[:header_end])
            for r in rows:
                begin, end = int(starts[r + 1]), _line_end(starts, r + 1, self._end)
                chunks.append(data[begin:end])
        else:
            with self.path.open("rb") as fh:
                chunks.append(fh.read(header_end))
                for r in rows:
                    begin, end = int(starts[r + 1]), _line_end(starts, r + 1, self._end)
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


def _line_end(starts: np.ndarray[Any, np.dtype[np.int64]], line: int, end: int) -> int:
    return int(starts[line + 1]) if line + 1 < len(starts) else end


# -- opening ---------------------------------------------------------------------------------

_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="audit-kit-pass")


def open_universe(
    path: Path,
    *,
    encoding: Encoding = "auto",
    delimiter: str | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
) -> Universe:
    """Identify and open a universe file; refuse what cannot be read, with a hint.

    The file's SHA-256 (and, for CSV, its line index and encoding check) is computed in the
    background; :attr:`Universe.sha256` and :meth:`Universe.read` wait for it.
    """
    say = progress or _noop
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise InputError(
            "Cannot read the universe file.",
            [
                Problem(
                    where=where,
                    expected="a CSV, Parquet or XLSX file",
                    found="a folder" if path.is_dir() else "no such file",
                    fix="check the --universe path.",
                )
            ],
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(
            "Cannot read the universe file.",
            [Problem(where=where, expected="a readable file", found=type(exc).__name__, fix="")],
        ) from None
    if size == 0:
        raise InputError(
            "The universe file is empty.",
            [
                Problem(
                    where=where,
                    expected="a header row and one row per unit",
                    found="an empty file (0 bytes)",
                    fix="export the universe again.",
                )
            ],
        )
    fmt = _sniff_format(path, head)
    say(f"Reading {path.name} ({_human_bytes(size)}, {fmt.upper()})")
    if fmt == "csv":
        return _open_csv(path, head, size, encoding, delimiter)
    stop = threading.Event()
    pending = _POOL.submit(_byte_pass, path, None, stop)
    try:
        if fmt == "parquet":
            universe = _open_parquet(path, size, pending)
        else:
            universe = _open_xlsx(path, size, pending, sheet)
    except InputError:
        stop.set()
        raise
    universe._stop = stop
    return universe


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def _sniff_format(path: Path, head: bytes) -> Format:
    where = str(path)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            "The universe file is a legacy or password-protected Office file.",
            [
                Problem(
                    where=where,
                    expected="CSV, Parquet or XLSX (Excel 2007 or later, not encrypted)",
                    found="an .xls workbook or an encrypted .xlsx",
                    fix="open it in Excel and save as .xlsx (without a password) or CSV UTF-8.",
                )
            ],
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(head) > 3 and head.count(b"\x00") > len(head) // 4 and head[1:2] == b"\x00"
    ):
        raise InputError(
            "The universe file has the wrong text encoding.",
            [
                Problem(
                    where=where,
                    expected="UTF-8 or Latin-1 text",
                    found="UTF-16 text (Excel's 'Unicode text' export)",
                    fix="save it from Excel as 'CSV UTF-8 (comma delimited)'.",
                )
            ],
        )
    if b"\x00" in head:
        raise InputError(
            "The universe file is not a table audit-kit can read.",
            [
                Problem(
                    where=where,
                    expected="CSV, Parquet or XLSX",
                    found="a binary file of another kind",
                    fix="export the universe as CSV, Parquet or XLSX.",
                )
            ],
        )
    return "csv"


def _byte_pass(path: Path, text: tuple[bytes, bool] | None, stop: threading.Event) -> _Pass:
    """One pass over a file: SHA-256 and, for text (``(delimiter, check_utf8)``), where every
    line starts, the first byte that is not UTF-8, and the delimiter count."""
    digest = hashlib.sha256()
    if text is None:
        with path.open("rb") as fh:
            while not stop.is_set() and (chunk := fh.read(_CHUNK)):
                digest.update(chunk)
        return _Pass(digest.hexdigest())
    delimiter, check_utf8 = text
    decoder = codecs.getincrementaldecoder("utf-8")()
    buffer = np.empty(_CHUNK, dtype=bool)
    newlines: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    base = delimiters = 0
    quoted = False
    bad_line: int | None = None
    with path.open("rb") as fh:
        while not stop.is_set() and (chunk := fh.read(_CHUNK)):
            digest.update(chunk)
            array = np.frombuffer(chunk, dtype=np.uint8)
            mask = buffer[: len(chunk)]
            found = np.flatnonzero(np.equal(array, 10, out=mask))
            found += base
            newlines.append(found)
            delimiters += int(np.count_nonzero(np.equal(array, delimiter[0], out=mask)))
            quoted = quoted or chunk.find(b'"') >= 0
            if check_utf8 and bad_line is None and not (chunk.isascii() and _idle(decoder)):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    offset = base + exc.start
                    bad_line = int(sum(int((n < offset).sum()) for n in newlines)) + 1
            base += len(chunk)
    if check_utf8 and bad_line is None and not _idle(decoder):
        bad_line = int(sum(len(n) for n in newlines)) + 1  # the file ends inside a character
    return _Pass(
        digest.hexdigest(),
        line_starts=_starts(newlines, base),
        end=base,
        bad_utf8_line=bad_line,
        delimiters=delimiters,
        quoted=quoted,
    )


def _idle(decoder: codecs.IncrementalDecoder) -> bool:
    """True when the decoder holds no partial character."""
    return not decoder.getstate()[0]


def _starts(
    newlines: list[np.ndarray[Any, np.dtype[np.int64]]], end: int
) -> np.ndarray[Any, np.dtype[np.int64]]:
    ends = np.concatenate(newlines) if newlines else np.zeros(0, dtype=np.int64)
    starts = np.concatenate([np.zeros(1, dtype=np.int64), ends + 1])
    return starts[starts < end]


def _open_csv(
    path: Path, head: bytes, size: int, encoding: Encoding, delimiter: str | None
) -> Universe:
    text_head = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if encoding == "latin-1":
        text_head = head.decode("latin-1").removeprefix("\ufeff")
    sep = delimiter or _sniff_delimiter(text_head)
    lines = text_head.splitlines()
    header_line = lines[0] if lines else ""
    if not header_line.strip():
        raise InputError(
            "The universe file has no header row.",
            [
                Problem(
                    where=f"{path}: row 1",
                    expected="a header row naming the columns",
                    found="an empty first line",
                    fix="export the universe with column headers in the first row.",
                )
            ],
        )
    columns = next(csv.reader([header_line], delimiter=sep), [])
    universe = Universe(
        path=path,
        format="csv",
        size_bytes=size,
        columns=tuple(columns),
        delimiter=sep,
        encoding="utf-8",
        requested_encoding=encoding,
    )
    if encoding == "latin-1":
        universe._transcode()
    check_utf8 = encoding != "latin-1"
    universe._pending = _POOL.submit(_byte_pass, path, (sep.encode(), check_utf8), universe._stop)
    return universe


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the header and the next lines into equal field counts."""
    lines = [ln for ln in text.splitlines()[:21] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", (-1, -1)
    for sep in _DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        if counts[0] < 2:
            continue
        consistent = sum(1 for c in counts[1:] if c == counts[0])
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = sep, score
    return best


def _open_parquet(path: Path, size: int, pending: Future[_Pass]) -> Universe:
    try:
        lf = pl.scan_parquet(path)
        columns = tuple(lf.collect_schema().names())
        rows = int(lf.select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(
            "Cannot read the universe file.",
            [
                Problem(
                    where=str(path),
                    expected="a readable Parquet file",
                    found=f"a damaged or unsupported Parquet file ({type(exc).__name__})",
                    fix="write the Parquet file again, or export CSV.",
                )
            ],
        ) from None
    return Universe(
        path=path,
        format="parquet",
        size_bytes=size,
        columns=columns,
        rows=rows,
        records=rows,
        _pending=pending,
    )


# Limits for an XLSX universe. A universe is far larger than a returned workbook (the limits of
# audit_kit.xlsx_safety would refuse real ones), so the total is generous; what gives a zip bomb
# away is its compression ratio: sheet XML of real exports packs about 5-50x, deflate bombs
# ~1000x. Every part is then inflated in bounded chunks (nothing is kept) to prove it is no
# larger than declared, and XML parts must not declare a DOCTYPE or entities.
XLSX_MAX_MEMBERS = 10_000
XLSX_MAX_TOTAL_BYTES = 4 << 30
XLSX_MAX_RATIO = 400
_XLSX_RATIO_FLOOR = 1 << 20
_XLSX_CHUNK = 1 << 20
_XML_DECLARATIONS = tuple(
    marker.encode(enc)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for enc in ("utf-8", "utf-16-le", "utf-16-be")
)


def _check_xlsx_package(path: Path) -> None:
    """Refuse zip bombs and XML entity declarations before the workbook is unpacked."""
    fix = "export the universe again from the source system (or as CSV); this file is not a "
    fix += "workbook a spreadsheet program wrote."

    def refuse(where: str, expected: str, found: str) -> InputError:
        return InputError(
            "The universe workbook cannot be opened safely.",
            [Problem(where=where, expected=expected, found=found, fix=fix)],
        )

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise InputError(
            "Cannot read the universe file.",
            [
                Problem(
                    where=str(path),
                    expected="a readable XLSX workbook",
                    found="a damaged zip package",
                    fix="open it in Excel and save it again as .xlsx, or export CSV.",
                )
            ],
        ) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > XLSX_MAX_MEMBERS:
            raise refuse(str(path), f"at most {XLSX_MAX_MEMBERS:,} parts", f"{len(infos):,} parts")
        total = sum(info.file_size for info in infos)
        if total > XLSX_MAX_TOTAL_BYTES:
            raise refuse(
                str(path),
                f"at most {XLSX_MAX_TOTAL_BYTES >> 30} GB once unpacked",
                f"{_human_bytes(total)} declared",
            )
        for info in infos:
            if info.file_size > _XLSX_RATIO_FLOOR and info.file_size > XLSX_MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise refuse(
                    f"{path}, part {info.filename}",
                    f"a compression ratio of at most {XLSX_MAX_RATIO}:1",
                    f"{info.file_size // max(info.compress_size, 1):,}:1 "
                    f"({_human_bytes(info.file_size)} declared; a zip bomb)",
                )
        for info in infos:
            found = _scan_xlsx_member(archive, info)
            if found is not None:
                raise refuse(f"{path}, part {info.filename}", "a well-formed workbook part", found)


def _scan_xlsx_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """Inflate one part in bounded chunks; return what is wrong with it, or None."""
    name = info.filename.rsplit("/", 1)[-1]
    is_xml = name.endswith((".xml", ".rels", ".vml")) or "." not in name
    limit = max(info.file_size, 0)
    seen = 0
    tail = b""
    try:
        with archive.open(info) as member:
            while chunk := member.read(_XLSX_CHUNK):
                seen += len(chunk)
                if seen > limit:
                    return "a part larger than its declared size (a zip bomb)"
                if is_xml:
                    window = tail + chunk
                    if any(marker in window for marker in _XML_DECLARATIONS):
                        return "a DOCTYPE or ENTITY declaration (an XML bomb or entity attack)"
                    tail = window[-32:]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError):
        return "a damaged or unreadable part"
    return None


def _open_xlsx(path: Path, size: int, pending: Future[_Pass], sheet: str | None) -> Universe:
    _check_xlsx_package(path)
    try:
        import fastexcel

        sheets = list(fastexcel.read_excel(path).sheet_names)
    except Exception as exc:  # fastexcel raises its own exception types
        raise InputError(
            "Cannot read the universe file.",
            [
                Problem(
                    where=str(path),
                    expected="a readable XLSX workbook",
                    found=f"a damaged or unsupported workbook ({type(exc).__name__})",
                    fix="open it in Excel and save it again as .xlsx, or export CSV.",
                )
            ],
        ) from None
    if not sheets or (sheet is not None and sheet not in sheets):
        raise InputError(
            "The universe sheet is not in the workbook.",
            [
                Problem(
                    where=str(path),
                    expected=f"a sheet named {sheet!r}" if sheet else "at least one sheet",
                    found="sheets: " + (", ".join(sheets) or "none"),
                    fix="pass --sheet with one of those names.",
                )
            ],
        )
    name = sheet or sheets[0]
    try:
        frame = pl.read_excel(
            path,
            sheet_name=name,
            engine="calamine",
            infer_schema_length=0,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
        )
    except Exception as exc:  # fastexcel raises its own exception types
        raise InputError(
            "Cannot read the universe file.",
            [
                Problem(
                    where=f"{path} [{name}]",
                    expected="a worksheet with a header row",
                    found=f"an unreadable sheet ({type(exc).__name__})",
                    fix="open it in Excel and save it again as .xlsx, or export CSV.",
                )
            ],
        ) from None
    frame = frame.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.UInt32))
    data_cols = [c for c in frame.columns if c != ROW]
    blank = frame.select(
        pl.all_horizontal(pl.col(data_cols).is_null()) if data_cols else pl.lit(True)
    ).to_series()
    notes = []
    if int(blank.sum()):
        frame = frame.filter(~blank)
        notes.append(f"{int(blank.sum())} empty worksheet rows were ignored.")
    return Universe(
        path=path,
        format="xlsx",
        size_bytes=size,
        columns=tuple(data_cols),
        sheet=name,
        notes=notes,
        rows=frame.height,
        records=frame.height,
        _sheet_frame=frame,
        _pending=pending,
    )


def _diagnose_csv(stream: io.TextIOBase, delimiter: str, width: int) -> list[int]:
    """Return 0-based data rows whose field count differs from the header's (error path only).

    A quote left open swallows the rest of the file; that row is reported too.
    """
    bad: list[int] = []
    index = -1
    with stream:
        reader = csv.reader(stream, delimiter=delimiter, strict=True)
        next(reader, None)
        try:
            for index, row in enumerate(reader):  # noqa: B007 (index is read after the loop)
                if row and len(row) != width:
                    bad.append(index)
        except csv.Error:
            bad.append(index + 1)
    return bad


# -- validation helpers (used by sampling; every problem collected) -------------------------


def describe_rows(rows: Iterable[int], label: Callable[[int], str], *, count: int) -> str:
    """Name a few rows: ``rows 4, 9, 12 and 37 more``."""
    shown = [label(r) for r in list(rows)[:_MAX_EXAMPLES]]
    words = [s.split(" ", 1)[1] for s in shown]
    kind = shown[0].split(" ", 1)[0] if shown else "row"
    text = f"{kind}{'s' if count > 1 else ''} " + ", ".join(words)
    if count > len(shown):
        text += f" and {count - len(shown)} more"
    return text


def missing_column_problems(
    universe: Universe, wanted: dict[str, str], *, source: str = "plan"
) -> list[Problem]:
    """Problems for every referenced column absent from the file (with close matches).

    ``wanted`` maps a plan key path (``columns.paid``) to the column it names.
    """
    problems = []
    available = list(universe.columns)
    listing = ", ".join(available[:30]) + (" ..." if len(available) > 30 else "")
    for key, column in wanted.items():
        if column in available:
            continue
        folded = {c.strip().lower(): c for c in available}
        close = difflib.get_close_matches(column.strip().lower(), list(folded), n=3, cutoff=0.6)
        hint = [folded[c] for c in close]
        fix = (
            f"did you mean {' or '.join(repr(c) for c in hint)}? Edit {key} in the plan."
            if hint
            else f"map {key} to one of the file's columns (a preset's column names are "
            "placeholders to replace)."
        )
        problems.append(
            Problem(
                where=f"{universe.path}: column '{column}' ({source} {key})",
                expected=f"a column of the file; it has: {listing}",
                found="no such column",
                fix=fix,
            )
        )
    return problems


def parse_amounts(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Return (Float64 values, mask of cells that hold something that is not a number).

    Accepts ``1234.5``, ``-3``, ``$1,234.56``; empty cells are null (not flagged here).
    """
    if series.dtype.is_numeric():
        values = series.cast(pl.Float64)
        return values, values.is_nan().fill_null(False)
    if series.dtype != pl.String:
        series = series.cast(pl.String)
    text = series.str.strip_chars()
    cleaned = (
        pl.when(text.str.contains(_THOUSANDS))
        .then(text.str.replace_all(r"[$,]", ""))
        .otherwise(text.str.replace(r"^\$", ""))
    )
    frame = pl.DataFrame({"t": text}).with_columns(v=cleaned.cast(pl.Float64, strict=False))
    values = frame["v"]
    present = frame["t"].is_not_null() & (frame["t"] != "")
    bad = present & (values.is_null() | ~values.is_finite().fill_null(False))
    return values.fill_nan(None).rename(series.name), bad


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d", "%m-%d-%Y", "%m/%d/%y")


def parse_dates(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Return (Date values, mask of non-empty cells that are not a date).

    Text dates are read as ISO ``2026-07-01`` (a time part is ignored), US ``07/01/2026`` or
    ``07/01/26``, ``07-01-2026`` and ``20260701``.
    """
    if series.dtype == pl.Date:
        return series, pl.Series([False] * len(series))
    if isinstance(series.dtype, pl.Datetime):
        return series.dt.date(), pl.Series([False] * len(series))
    text = series.cast(pl.String).str.strip_chars()
    iso = pl.when(text.str.contains(r"^\d{4}-\d{2}-\d{2}[ T]")).then(text.str.slice(0, 10))
    frame = pl.DataFrame({"t": text}).with_columns(t=iso.otherwise(pl.col("t")))
    parsed = frame.select(
        pl.coalesce([pl.col("t").str.strptime(pl.Date, fmt, strict=False) for fmt in _DATE_FORMATS])
    ).to_series()
    present = text.is_not_null() & (text != "")
    return parsed.rename(series.name), present & parsed.is_null()


def row_problem(
    universe: Universe,
    frame: pl.DataFrame,
    mask: pl.Series,
    *,
    column: str,
    role: str,
    expected: str,
    found: str,
    fix: str,
) -> Problem | None:
    """One problem for the rows of ``frame`` (with ``ROW``) where ``mask`` is true, or None."""
    count = int(mask.sum())
    if not count:
        return None
    rows = frame.filter(mask)[ROW].head(_MAX_EXAMPLES).to_list()
    return Problem(
        where=f"{universe.path}: column '{column}' ({role}), "
        + describe_rows(rows, universe.row_label, count=count),
        expected=expected,
        found=f"{found} in {count} row{'s' if count > 1 else ''}",
        fix=fix,
    )


def negative_problem(
    universe: Universe,
    frame: pl.DataFrame,
    values: pl.Series,
    *,
    column: str,
    role: str,
    within: pl.Series | None = None,
) -> Problem | None:
    """The problem of negative amounts in ``values`` (aligned with ``frame``; only the rows
    ``within`` marks, if given), or None."""
    negative = (values < 0).fill_null(False)
    return row_problem(
        universe,
        frame,
        negative if within is None else negative & within,
        column=column,
        role=role,
        expected="an amount >= 0",
        found="a negative amount",
        fix=f"exclude adjustments with a frame filter, e.g. {{column: {role}, op: '>=', "
        "value: 0}.",
    )


def duplicate_problem(
    universe: Universe, groups: Sequence[tuple[str, Sequence[int]]], id_col: str
) -> Problem | None:
    """One problem naming the count of repeated unit ids and a few, with their rows.

    ``groups`` are (unit id, 0-based data rows) for every id found on more than one row.
    """
    if not groups:
        return None
    ordered = sorted((sorted(rows), unit) for unit, rows in groups)
    examples = [
        f"{unit} ({describe_rows(rows, universe.row_label, count=len(rows))})"
        for rows, unit in ordered[:3]
    ]
    return Problem(
        where=f"{universe.path}: column '{id_col}' (unit_id)",
        expected="each unit id once (one row per sampling unit)",
        found=f"{len(ordered)} ids on more than one row ({sum(len(r) for r, _ in ordered)} rows), "
        "e.g. " + "; ".join(examples),
        fix="remove the repeated rows, or sample another unit (e.g. claim lines need a line id "
        "as unit_id).",
    )


# -- canonical units -------------------------------------------------------------------------

_TEXT_FIELDS = ("coder", "provider", "setting", "payer", "auditor", "sex", "discharge_status")
_NUMBER_FIELDS = ("units", "billed", "paid", "age")
DESIGN_COLUMNS = ("stratum", "frame_number", "selection_order", "spare", "weight")


def canonical_units(sample: pl.DataFrame, plan: SamplingPlan) -> pl.DataFrame:
    """Return the sample (sample.csv) under audit-kit field names, typed (docs/architecture.md).

    ``unit_id`` and text fields as Utf8, ``service_date`` ISO text, code fields as lists (dx
    principal first; a field mapped to several columns is their non-empty cells in column order),
    DRG as 3-digit text, amounts and age as Float64; the design columns are passed through.
    Patient identifiers are never part of the result.
    """
    cols = plan.columns
    height = sample.height
    out: dict[str, pl.Series] = {}

    def column(name: str) -> pl.Series | None:
        mapped = cols.columns_for(name)
        if not mapped or mapped[0] not in sample.columns:
            return None
        return sample[mapped[0]]

    unit = column("unit_id")
    if unit is None:
        raise InputError(
            "The sample has no unit id column.",
            [
                Problem(
                    where=f"sample.csv: column '{cols.unit_id}'",
                    expected="the plan's columns.unit_id",
                    found="no such column",
                    fix="pass the sample.csv written by `audit-kit sample` with this plan.",
                )
            ],
        )
    out["unit_id"] = unit.cast(pl.String).alias("unit_id")
    for name in _TEXT_FIELDS:
        s = column(name)
        out[name] = (
            s.cast(pl.String).str.strip_chars().alias(name)
            if s is not None
            else pl.Series(name, [None] * height, dtype=pl.String)
        )
    date = column("service_date")
    if date is None:
        out["service_date"] = pl.Series("service_date", [None] * height, dtype=pl.String)
    else:
        parsed, _ = parse_dates(date)
        text = date.cast(pl.String)
        iso = parsed.dt.strftime("%Y-%m-%d")
        out["service_date"] = iso.fill_null(text).alias("service_date")
    for name in CODE_FIELDS:
        mapped = [c for c in cols.columns_for(name) if c in sample.columns]
        lists: list[list[str]] = [[] for _ in range(height)]
        for col in mapped:
            for i, cell in enumerate(sample[col].cast(pl.String).to_list()):
                lists[i].extend(split_codes(cell, cols.code_separator))
        out[name] = pl.Series(name, lists, dtype=pl.List(pl.String))
    drg = column("drg")
    if drg is None:
        out["drg"] = pl.Series("drg", [None] * height, dtype=pl.String)
    else:
        text = drg.cast(pl.String).str.strip_chars()
        digits = text.str.contains(r"^\d{1,3}$").fill_null(False)
        frame = pl.DataFrame({"t": text, "d": digits})
        out["drg"] = (
            frame.select(pl.when(pl.col("d")).then(pl.col("t").str.zfill(3)).otherwise(pl.col("t")))
            .to_series()
            .alias("drg")
        )
        out["drg"] = out["drg"].replace("", None)
    for name in _NUMBER_FIELDS:
        s = column(name)
        if s is None:
            out[name] = pl.Series(name, [None] * height, dtype=pl.Float64)
        else:
            out[name] = parse_amounts(s)[0].alias(name)
    design_types: dict[str, pl.DataType] = {
        "stratum": pl.String(),
        "frame_number": pl.Int64(),
        "selection_order": pl.Int64(),
        "spare": pl.Boolean(),
        "weight": pl.Float64(),
    }
    for name, dtype in design_types.items():
        if name not in sample.columns:
            out[name] = pl.Series(name, [None] * height, dtype=dtype)
        elif dtype == pl.Boolean() and sample[name].dtype == pl.String:
            out[name] = sample[name].str.to_lowercase().eq("true").alias(name)
        else:
            out[name] = sample[name].cast(dtype).alias(name)
    order = [
        "unit_id",
        "coder",
        "provider",
        "setting",
        "payer",
        "auditor",
        "service_date",
        "dx",
        "px",
        "cpt",
        "drg",
        "units",
        "billed",
        "paid",
        "age",
        "sex",
        "discharge_status",
        *DESIGN_COLUMNS,
    ]
    return pl.DataFrame([out[name] for name in order])
