"""Open a returned .xlsx safely: size limits, zip- and XML-bomb checks, Office decryption.

A returned workbook comes from outside the audit and is treated as hostile until checked:

* the file size is limited before it is read (:data:`MAX_FILE_BYTES`);
* an encrypted workbook (an OLE2 container) is decrypted in memory with msoffcrypto-tool; a
  missing or wrong password is a clear problem, never a crash; the password is neither logged nor
  stored;
* the zip directory is checked *before* anything is unpacked: member count, each member's and the
  total uncompressed size, and the compression ratio (a zip bomb declares small and inflates
  huge); then every member is inflated in bounded chunks and counted, so a member that lies about
  its size is stopped at the limit;
* XML parts must not declare a DOCTYPE or entities (billion-laughs and external-entity attacks);
  workbooks written by Excel, LibreOffice or openpyxl never do;
* a file that is not a zip, or a zip without ``xl/workbook.xml``, is "not an .xlsx workbook".

Every check returns :class:`~audit_kit.errors.Problem` objects so that the caller can report all
files' problems at once.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

import msoffcrypto
import msoffcrypto.exceptions

from audit_kit.errors import Problem, WorkbookError
from audit_kit.files import archive as archive_checks

__all__ = [
    "MAX_COMPRESSION_RATIO",
    "MAX_FILE_BYTES",
    "MAX_MEMBERS",
    "MAX_MEMBER_BYTES",
    "MAX_TOTAL_BYTES",
    "OpenedWorkbook",
    "encrypt_xlsx",
    "open_xlsx",
    "safe_xlsx_bytes",
]

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_MEMBERS = 2_000
MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 400 * 1024 * 1024
#: Ratio limit for members over :data:`_RATIO_FLOOR` bytes; sheet XML of repetitive rows reaches
#: about 20-50x, bombs reach thousands.
MAX_COMPRESSION_RATIO = 200
_RATIO_FLOOR = 1024 * 1024
_DEFLATE_MAX_RATIO = 1032
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_PROLOG_LIMIT = 64 * 1024
#: Bytes first inflated while looking for the root element: a prolog is a few dozen bytes (an
#: XML declaration), and inflating more than needed is most of the cost of the scan.
_PROLOG_STEP = 256
_CHUNK = 1 << 16
_CORE = "docProps/core.xml"
_CORE_LIMIT = 64 * 1024
_MODIFIED_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?modified\b[^>]*>([^<]*)</")
_LOCAL_HEADER = struct.Struct("<4s22xHH")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
#: The shared zip checks (audit_kit.files.archive) with the limits of a returned workbook.
LIMITS = archive_checks.Limits(
    max_members=MAX_MEMBERS,
    max_total_bytes=MAX_TOTAL_BYTES,
    max_member_bytes=MAX_MEMBER_BYTES,
    max_ratio=MAX_COMPRESSION_RATIO,
    ratio_floor=_RATIO_FLOOR,
    chunk=_CHUNK,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenedWorkbook:
    """The plain (decrypted, checked) .xlsx bytes of a returned file."""

    data: bytes
    encrypted: bool
    #: when the file was last saved (docProps/core.xml ``dcterms:modified``), ISO, or ''
    modified: str = ""


def _problem(where: str, expected: str, found: str, fix: str) -> Problem:
    return Problem(where=where, expected=expected, found=found, fix=fix)


def open_xlsx(
    data: bytes, *, where: str, password: str | None = None
) -> tuple[OpenedWorkbook | None, list[Problem]]:
    """Check (and decrypt) one returned workbook; return it, or ``None`` and the problems."""
    if len(data) > MAX_FILE_BYTES:
        return None, [
            _problem(
                where,
                f"a workbook of at most {MAX_FILE_BYTES // (1024 * 1024)} MB",
                f"{len(data) / (1024 * 1024):.1f} MB",
                "return the audit workbook itself, without embedded pictures or attachments.",
            )
        ]
    encrypted = False
    if data.startswith(_OLE_MAGIC):
        plain, problems = _decrypt(data, where=where, password=password)
        if plain is None:
            return None, problems
        data, encrypted = plain, True
    archive, problems = _check(data, where=where)
    if archive is None or problems:
        return None, problems
    modified = _core_modified(data, archive)
    return OpenedWorkbook(data=data, encrypted=encrypted, modified=modified), []


def safe_xlsx_bytes(data: bytes, *, where: str, password: str | None = None) -> bytes:
    """Like :func:`open_xlsx` but raise one :class:`WorkbookError` on any problem."""
    opened, problems = open_xlsx(data, where=where, password=password)
    if opened is None:
        raise WorkbookError("The workbook cannot be opened safely.", problems)
    return opened.data


def _decrypt(
    data: bytes, *, where: str, password: str | None
) -> tuple[bytes | None, list[Problem]]:
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        encrypted = office.is_encrypted()
    except Exception:  # msoffcrypto raises assorted errors on foreign OLE files
        encrypted = False
        office = None
    if office is None or not encrypted:
        return None, [
            _problem(
                where,
                "an .xlsx workbook (Excel 2007 or later)",
                "an older Office file (.xls or another OLE document)",
                "open it in Excel or LibreOffice and save it as .xlsx.",
            )
        ]
    if not password:
        return None, [
            _problem(
                where,
                "an unencrypted workbook, or the password",
                "a password-encrypted workbook and no password",
                "pass the workbook password with --password-file FILE.",
            )
        ]
    out = io.BytesIO()
    try:
        office.load_key(password=password)
        office.decrypt(out)
    except msoffcrypto.exceptions.InvalidKeyError:
        return None, [
            _problem(
                where,
                "the password the workbooks were encrypted with",
                "a password that does not open this workbook",
                "check the password file (one line, the password only).",
            )
        ]
    except Exception:
        return None, [
            _problem(
                where,
                "an encrypted .xlsx workbook audit-kit can decrypt (Office agile or standard)",
                "an encrypted file that cannot be decrypted",
                "open it in Excel with the password and save it again, or return it unencrypted.",
            )
        ]
    plain = out.getvalue()
    if len(plain) > MAX_FILE_BYTES:
        return None, [
            _problem(
                where,
                f"a workbook of at most {MAX_FILE_BYTES // (1024 * 1024)} MB",
                f"{len(plain) / (1024 * 1024):.1f} MB once decrypted",
                "return the audit workbook itself, without embedded pictures or attachments.",
            )
        ]
    return plain, []


def check_xlsx(data: bytes, *, where: str) -> list[Problem]:
    """Check a plain .xlsx for zip bombs, XML entity declarations and the workbook part."""
    return _check(data, where=where)[1]


def _check(data: bytes, *, where: str) -> tuple[zipfile.ZipFile | None, list[Problem]]:
    """Run :func:`check_xlsx`; also return the opened archive when there is no problem."""
    not_xlsx = _problem(
        where,
        "an .xlsx workbook",
        "a file that is not an .xlsx workbook",
        "return the audit workbook as .xlsx (Excel: File > Save As > Excel Workbook).",
    )
    if not data.startswith(_ZIP_MAGIC):
        return None, [not_xlsx]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except archive_checks.NOT_A_ZIP:
        return None, [not_xlsx]
    problems: list[Problem] = []
    if len(infos) > MAX_MEMBERS:
        return None, [
            _problem(
                where,
                f"at most {MAX_MEMBERS} parts in the workbook package",
                f"{len(infos)} parts",
                "return the audit workbook itself; this file is not one audit-kit wrote.",
            )
        ]
    bomb_fix = "return the workbook audit-kit wrote; this file is built to exhaust memory."
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_BYTES:
        problems.append(
            _problem(
                where,
                f"at most {MAX_TOTAL_BYTES // (1024 * 1024)} MB once unpacked",
                f"{total / (1024 * 1024):.0f} MB declared (a zip bomb)",
                bomb_fix,
            )
        )
    for info in infos:
        if info.file_size > MAX_MEMBER_BYTES:
            problems.append(
                _problem(
                    f"{where}, part {info.filename}",
                    f"a part of at most {MAX_MEMBER_BYTES // (1024 * 1024)} MB",
                    f"{info.file_size / (1024 * 1024):.0f} MB declared (an oversized zip member)",
                    bomb_fix,
                )
            )
        elif archive_checks.ratio_exceeded(info, LIMITS):
            problems.append(
                _problem(
                    f"{where}, part {info.filename}",
                    f"a compression ratio of at most {MAX_COMPRESSION_RATIO}:1",
                    f"{archive_checks.ratio(info)}:1 (a zip bomb)",
                    bomb_fix,
                )
            )
    if problems:
        return None, problems
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        return None, [not_xlsx]
    odd = sorted({info.filename for info in infos if info.compress_type not in _METHODS})
    if odd:
        return None, [
            _problem(
                f"{where}, part {odd[0]}",
                "parts stored or deflated, as Excel and LibreOffice write them",
                "another compression method",
                "open the file in Excel or LibreOffice and save it again as .xlsx.",
            )
        ]
    # Deflate inflates at most ~1032:1. When even that worst case stays within the limits the
    # declared sizes cannot hide a bomb, and only the XML prologs (where a DOCTYPE must be) are
    # read, straight from the archive bytes; otherwise every part is inflated in bounded chunks
    # and counted.
    worst = [info.compress_size * _DEFLATE_MAX_RATIO for info in infos]
    full = sum(worst) > MAX_TOTAL_BYTES or max(worst, default=0) > MAX_MEMBER_BYTES
    view = memoryview(data)
    for info in infos:
        found = (
            archive_checks.scan_member(archive, info, LIMITS) if full else _scan_prolog(view, info)
        )
        if found is not None:
            problems.append(
                _problem(
                    f"{where}, part {info.filename}",
                    "XML without DOCTYPE or entity declarations",
                    found,
                    "return the workbook audit-kit wrote; declarations like these are used for "
                    "XML-bomb and external-entity attacks and never appear in Excel files.",
                )
            )
    return (None if problems else archive), problems


def _core_modified(data: bytes, archive: zipfile.ZipFile) -> str:
    """Return the last-saved time from docProps/core.xml (checked above), or ''.

    The part has passed the checks (no DOCTYPE, sizes bounded); only the text of its
    ``modified`` element is wanted, so at most the first 64 KB are read and searched.
    """
    try:
        info = archive.getinfo(_CORE)
        xml = _member_head(memoryview(data), info, _CORE_LIMIT)
    except Exception:  # absent or unreadable core properties: no saved time
        return ""
    match = _MODIFIED_RE.search(xml)
    if match is None:
        return ""
    try:
        return match.group(1).decode("utf-8").strip()
    except UnicodeDecodeError:
        return ""


def _member_head(data: memoryview, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Inflate at most ``limit`` bytes of one member, straight from the archive's bytes.

    Raises ``ValueError`` or ``zlib.error`` for a damaged or encrypted member.
    """
    return _MemberReader(data, info).read(limit)


class _MemberReader:
    """Bounded, incremental reads of one stored or deflated member (no CRC: prologs only)."""

    __slots__ = ("_inflate", "_raw", "_stored")

    def __init__(self, data: memoryview, info: zipfile.ZipInfo) -> None:
        if info.flag_bits & 0x1:
            raise ValueError("encrypted member")
        offset = info.header_offset
        magic, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, offset)
        if magic != b"PK\x03\x04":
            raise ValueError("bad local header")
        start = offset + _LOCAL_HEADER.size + name_len + extra_len
        self._raw = data[start : start + info.compress_size]
        self._stored = info.compress_type == zipfile.ZIP_STORED
        self._inflate = None if self._stored else zlib.decompressobj(-zlib.MAX_WBITS)

    def read(self, size: int) -> bytes:
        if self._inflate is None:
            chunk, self._raw = bytes(self._raw[:size]), self._raw[size:]
            return chunk
        chunk = self._inflate.decompress(self._raw, size)
        self._raw = memoryview(self._inflate.unconsumed_tail)
        return chunk


def _scan_prolog(data: memoryview, info: zipfile.ZipInfo) -> str | None:
    """Read an XML part only up to its root element; a DOCTYPE can only appear before it."""
    if not archive_checks.is_xml_part(info.filename):
        return None
    try:
        member = _MemberReader(data, info)
        buffer = member.read(_PROLOG_STEP)
        while True:
            verdict = _prolog_verdict(buffer)
            if verdict is not None:
                return verdict or None
            if len(buffer) >= _PROLOG_LIMIT:
                return "an XML prolog longer than 64 KB before the root element"
            more = member.read(len(buffer))  # doubling: a long prolog is decoded a few times
            if not more:
                return None  # no root element: the reader reports the damaged part
            buffer += more
    except (zlib.error, ValueError, struct.error):
        return "a damaged or unreadable part"


def _prolog_verdict(buffer: bytes) -> str | None:
    """'' if the root element starts before any declaration, a problem, or None (read more)."""
    if buffer[:1] == b"<" and buffer[1:2].isalpha() and b"\x00" not in buffer[:4]:
        return ""  # the root element first, as openpyxl writes parts: nothing to decode
    if buffer.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in buffer[:4]:
        text = buffer[: len(buffer) // 2 * 2].decode("utf-16", errors="ignore")
    else:
        text = buffer.decode("utf-8", errors="ignore")
    i = 1 if text.startswith("\ufeff") else 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text) or "<!--".startswith(text[i:]):
            return None  # read more: the buffer may end inside the start of a comment
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                return None
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return None
            i = end + 3
        elif text.startswith("<!", i) or (text[i] == "<" and i + 1 >= len(text)):
            return "a DOCTYPE or ENTITY declaration" if text.startswith("<!", i) else None
        else:
            return ""


def encrypt_xlsx(data: bytes, password: str) -> bytes:
    """Encrypt .xlsx bytes with Office (agile) encryption; the password is not kept."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()
