"""Identify and open a universe file (CSV, Parquet, XLSX); refuse what cannot be read."""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import os
import sys
import threading
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl

from audit_kit.errors import InputError, Problem
from audit_kit.files import archive as archive_checks
from audit_kit.universe.layout import HEAD_ROWS, find_header, footer_note, footer_rows
from audit_kit.universe.lines import SHORT, LineScan
from audit_kit.universe.reading import (
    BytePass,
    Encoding,
    Format,
    Progress,
    Universe,
)
from audit_kit.universe.validation import ROW

_CHUNK = 4 << 20  # fits the cache better than larger chunks: the pass is faster
_DELIMITERS = (",", ";", "\t", "|")


def _noop(_: str) -> None:
    pass


_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="audit-kit-pass")


def open_universe(
    path: Path,
    *,
    encoding: Encoding = "auto",
    delimiter: str | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
    header_row: int | None = None,
) -> Universe:
    """Identify and open a universe file; refuse what cannot be read, with a hint.

    The file's SHA-256 (and, for CSV, its line index and encoding check) is computed in the
    background; :attr:`Universe.sha256` and :meth:`Universe.read` wait for it. The header row
    is found below any title rows (or is ``header_row``, 1-based), and total or report lines
    at the end are recognised (:mod:`audit_kit.universe.layout`); neither is ever a unit.
    """
    say = progress or _noop
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise InputError.one(
            "Cannot read the universe file.",
            where=where,
            expected="a CSV, Parquet or XLSX file",
            found="a folder" if path.is_dir() else "no such file",
            fix="check the --universe path.",
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
        size = path.stat().st_size
    except OSError as exc:
        raise InputError.one(
            "Cannot read the universe file.",
            where=where,
            expected="a readable file",
            found=type(exc).__name__,
            fix="",
        ) from None
    if size == 0:
        raise InputError.one(
            "The universe file is empty.",
            where=where,
            expected="a header row and one row per unit",
            found="an empty file (0 bytes)",
            fix="export the universe again.",
        )
    fmt = _sniff_format(path, head)
    say(f"Reading {path.name} ({_human_bytes(size)}, {fmt.upper()})")
    if fmt == "csv":
        return _open_csv(path, head, size, encoding, delimiter, header_row)
    stop = threading.Event()
    pending = _POOL.submit(_byte_pass, path, None, stop)
    try:
        if fmt == "parquet":
            universe = _open_parquet(path, size, pending)
        else:
            universe = _open_xlsx(path, size, pending, sheet, header_row)
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
        raise InputError.one(
            "The universe file is a legacy or password-protected Office file.",
            where=where,
            expected="CSV, Parquet or XLSX (Excel 2007 or later, not encrypted)",
            found="an .xls workbook or an encrypted .xlsx",
            fix="open it in Excel and save as .xlsx (without a password) or CSV UTF-8.",
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(head) > 3 and head.count(b"\x00") > len(head) // 4 and head[1:2] == b"\x00"
    ):
        raise InputError.one(
            "The universe file has the wrong text encoding.",
            where=where,
            expected="UTF-8 or Latin-1 text",
            found="UTF-16 text (Excel's 'Unicode text' export)",
            fix="save it from Excel as 'CSV UTF-8 (comma delimited)'.",
        )
    if b"\x00" in head:
        raise InputError.one(
            "The universe file is not a table audit-kit can read.",
            where=where,
            expected="CSV, Parquet or XLSX",
            found="a binary file of another kind",
            fix="export the universe as CSV, Parquet or XLSX.",
        )
    return "csv"


def _byte_pass(path: Path, text: tuple[bytes, bool] | None, stop: threading.Event) -> BytePass:
    """One pass over a file: SHA-256 and, for text (``(delimiter, check_utf8)``), where every
    line starts, the first byte that is not UTF-8, and the delimiter count."""
    _yield_to_reader()
    digest = hashlib.sha256()
    # One buffer, read into again and again: no new memory per chunk (fresh pages are slow).
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    if text is None:
        with path.open("rb", buffering=0) as fh:
            while not stop.is_set() and (size := fh.readinto(buffer)):
                digest.update(view[:size])
        return BytePass(digest.hexdigest())
    delimiter, check_utf8 = text
    decoder = codecs.getincrementaldecoder("utf-8")()
    array = np.frombuffer(buffer, dtype=np.uint8)
    scan = LineScan(_CHUNK, path.stat().st_size)
    mask = np.empty(_CHUNK, dtype=bool)
    base = delimiters = 0
    quoted = False
    bad_line: int | None = None
    with path.open("rb", buffering=0) as fh:
        while not stop.is_set() and (size := fh.readinto(buffer)):
            chunk = view[:size]
            digest.update(chunk)
            before = scan.newlines
            scan.feed(array[:size])
            delimiters += int(
                np.count_nonzero(np.equal(array[:size], delimiter[0], out=mask[:size]))
            )
            quoted = quoted or buffer.find(b'"', 0, size) >= 0
            ascii_only = buffer.isascii() if size == len(buffer) else bytes(chunk).isascii()
            if check_utf8 and bad_line is None and not (ascii_only and _idle(decoder)):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    newlines = int(np.count_nonzero(array[: max(exc.start, 0)] == 10))
                    bad_line = before + newlines + 1
            base += size
    lines_index = scan.result()
    if check_utf8 and bad_line is None and not _idle(decoder):
        bad_line = lines_index.newlines + 1  # the file ends inside a character
    return BytePass(
        digest.hexdigest(),
        lines=lines_index,
        bad_utf8_line=bad_line,
        delimiters=delimiters,
        quoted=quoted,
    )


def _yield_to_reader() -> None:
    """Lower this thread's priority (Linux: threads have their own nice value).

    The pass runs while the reader parses the file on every core; at equal priority the two
    share the cores and the reader finishes late. At low priority the pass takes what the reader
    leaves (and the whole core once the caller waits for it), so the frame is ready sooner and
    the total work is the same.
    """
    # Only Linux takes a thread id here (elsewhere it would name a process); if the call is
    # not allowed, the pass runs at normal priority.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def _idle(decoder: codecs.IncrementalDecoder) -> bool:
    """True when the decoder holds no partial character."""
    return not decoder.getstate()[0]


def _open_csv(
    path: Path,
    head: bytes,
    size: int,
    encoding: Encoding,
    delimiter: str | None,
    header_row: int | None = None,
) -> Universe:
    text_head = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if encoding == "latin-1":
        text_head = head.decode("latin-1").removeprefix("\ufeff")
    sep = delimiter or _sniff_delimiter(text_head)
    lines = text_head.splitlines()
    if len(head) == 1 << 16 and lines:
        lines = lines[:-1]  # the last line of the head may be cut short
    top = [next(csv.reader([ln], delimiter=sep), []) for ln in lines[:HEAD_ROWS]]
    skip = find_header(top, header_row=header_row, where=str(path)) if top else 0
    header_line = lines[skip] if skip < len(lines) else ""
    if not header_line.strip():
        raise InputError.one(
            "The universe file has no header row.",
            where=f"{path}: row 1",
            expected="a header row naming the columns",
            found="an empty first line",
            fix="export the universe with column headers in the first row.",
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
        header_offset=skip,
    )
    if skip:
        title = lines[:skip]
        universe.title_delimiters = sum(ln.count(sep) for ln in title)
        universe.title_long = sum(1 for ln in title if len(ln.encode("utf-8")) + 1 > SHORT)
        universe.notes.append(
            f"The header is row {skip + 1}: {skip} title row{'s' if skip > 1 else ''} above it "
            f"{'were' if skip > 1 else 'was'} skipped."
        )
    _find_csv_footer(universe, path, size, sep, encoding)
    if encoding == "latin-1":
        universe._transcode()
    check_utf8 = encoding != "latin-1"
    universe._pending = _POOL.submit(_byte_pass, path, (sep.encode(), check_utf8), universe._stop)
    return universe


def _find_csv_footer(universe: Universe, path: Path, size: int, sep: str, encoding: str) -> None:
    """Recognise total and report lines at the end of a CSV from its last bytes."""
    with path.open("rb") as fh:
        fh.seek(max(0, size - _TAIL_BYTES))
        tail = fh.read()
    text = tail.decode("latin-1" if encoding == "latin-1" else "utf-8", errors="replace")
    lines = text.splitlines()
    if size > _TAIL_BYTES and lines:
        lines = lines[1:]  # the first line of the tail may be cut short
    if '"' in text:
        # A quoted line break would make lines differ from records: look only at the last
        # lines that close every quote they open.
        plain = next((i for i, ln in enumerate(reversed(lines)) if ln.count('"') % 2), len(lines))
        lines = lines[len(lines) - plain :]
    rows = [next(csv.reader([ln], delimiter=sep), []) for ln in reversed(lines)]
    footers, span = footer_rows(rows, len(universe.columns))
    if not footers:
        return
    universe.footers = footers
    universe.footer_records = span
    block = lines[len(lines) - span :]
    universe.footer_delimiters = sum(ln.count(sep) for ln in block)
    universe.footer_long = sum(1 for ln in block if len(ln.encode("utf-8")) + 1 > SHORT)


_TAIL_BYTES = 1 << 16


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


def _open_parquet(path: Path, size: int, pending: Future[BytePass]) -> Universe:
    try:
        lf = pl.scan_parquet(path)
        columns = tuple(lf.collect_schema().names())
        rows = int(lf.select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError.one(
            "Cannot read the universe file.",
            where=str(path),
            expected="a readable Parquet file",
            found=f"a damaged or unsupported Parquet file ({type(exc).__name__})",
            fix="write the Parquet file again, or export CSV.",
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
# audit_kit.workbook.safety would refuse real ones), so the total is generous; what gives a zip bomb
# away is its compression ratio: sheet XML of real exports packs about 5-50x, deflate bombs
# ~1000x. Every part is then inflated in bounded chunks (nothing is kept) to prove it is no
# larger than declared, and XML parts must not declare a DOCTYPE or entities.
XLSX_MAX_MEMBERS = 10_000
XLSX_MAX_TOTAL_BYTES = 4 << 30
XLSX_MAX_RATIO = 400
#: The shared zip checks (audit_kit.files.archive) with the limits of a universe workbook.
XLSX_LIMITS = archive_checks.Limits(
    max_members=XLSX_MAX_MEMBERS,
    max_total_bytes=XLSX_MAX_TOTAL_BYTES,
    max_member_bytes=None,
    max_ratio=XLSX_MAX_RATIO,
    ratio_floor=1 << 20,
    chunk=1 << 20,
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
    except archive_checks.NOT_A_ZIP:
        raise InputError.one(
            "Cannot read the universe file.",
            where=str(path),
            expected="a readable XLSX workbook",
            found="a damaged zip package",
            fix="open it in Excel and save it again as .xlsx, or export CSV.",
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
            if archive_checks.ratio_exceeded(info, XLSX_LIMITS):
                raise refuse(
                    f"{path}, part {info.filename}",
                    f"a compression ratio of at most {XLSX_MAX_RATIO}:1",
                    f"{archive_checks.ratio(info):,}:1 "
                    f"({_human_bytes(info.file_size)} declared; a zip bomb)",
                )
        for info in infos:
            found = archive_checks.scan_member(archive, info, XLSX_LIMITS)
            if found == archive_checks.DECLARATION:
                found += " (an XML bomb or entity attack)"
            if found is not None:
                raise refuse(f"{path}, part {info.filename}", "a well-formed workbook part", found)


def _open_xlsx(
    path: Path, size: int, pending: Future[BytePass], sheet: str | None, header_row: int | None
) -> Universe:
    _check_xlsx_package(path)
    try:
        import fastexcel

        sheets = list(fastexcel.read_excel(path).sheet_names)
    except Exception as exc:  # fastexcel raises its own exception types
        raise InputError.one(
            "Cannot read the universe file.",
            where=str(path),
            expected="a readable XLSX workbook",
            found=f"a damaged or unsupported workbook ({type(exc).__name__})",
            fix="open it in Excel and save it again as .xlsx, or export CSV.",
        ) from None
    if not sheets or (sheet is not None and sheet not in sheets):
        raise InputError.one(
            "The universe sheet is not in the workbook.",
            where=str(path),
            expected=f"a sheet named {sheet!r}" if sheet else "at least one sheet",
            found="sheets: " + (", ".join(sheets) or "none"),
            fix="pass --sheet with one of those names.",
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
            read_options={"header_row": None},
        )
    except Exception as exc:  # fastexcel raises its own exception types
        raise InputError.one(
            "Cannot read the universe file.",
            where=f"{path} [{name}]",
            expected="a worksheet with a header row",
            found=f"an unreadable sheet ({type(exc).__name__})",
            fix="open it in Excel and save it again as .xlsx, or export CSV.",
        ) from None
    # The sheet is read without a header: the header row is found below any title rows.
    top = [list(r) for r in frame.head(HEAD_ROWS).iter_rows()]
    notes = []
    skip = find_header(top, header_row=header_row, where=f"{path} [{name}]") if top else 0
    if top:
        names = _header_names(top[skip])
        frame = frame.slice(skip + 1).rename(dict(zip(frame.columns, names, strict=True)))
        if skip:
            notes.append(
                f"The header is row {skip + 1}: {skip} title row{'s' if skip > 1 else ''} "
                f"above it {'were' if skip > 1 else 'was'} skipped."
            )
    frame = frame.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.UInt32))
    data_cols = [c for c in frame.columns if c != ROW]
    blank = frame.select(
        pl.all_horizontal(pl.col(data_cols).is_null()) if data_cols else pl.lit(True)
    ).to_series()
    if int(blank.sum()):
        frame = frame.filter(~blank)
        notes.append(f"{int(blank.sum())} empty worksheet rows were ignored.")
    tail = [list(r) for r in frame.drop(ROW).tail(30).reverse().iter_rows()]
    footers, span = footer_rows(tail, len(data_cols))
    universe = Universe(
        path=path,
        format="xlsx",
        size_bytes=size,
        columns=tuple(data_cols),
        sheet=name,
        notes=notes,
        header_offset=skip,
        _pending=pending,
    )
    if footers:
        rows = frame[ROW].to_list()
        universe.footers = footers
        universe.footer_labels = [
            {"row": universe.row_label(rows[len(rows) - f.offset]).split(" ")[1], "kind": f.kind}
            for f in footers
        ]
        frame = frame.head(frame.height - span)
        universe.notes.append(footer_note(universe.footer_labels))
    universe.rows = universe.records = frame.height
    universe._sheet_frame = frame
    return universe


def _header_names(cells: list[object]) -> list[str]:
    """Column names from a header row: the text, unnamed cells named as polars names them,
    a repeated name numbered (``Mod``, ``Mod_1``)."""
    names: list[str] = []
    seen: set[str] = set()
    for j, cell in enumerate(cells):
        text = "" if cell is None else str(cell).strip()
        name = text or f"__UNNAMED__{j}"
        base, k = name, 1
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        names.append(name)
    return names
