"""Read a zip package (.xlsx) without letting it exhaust memory or smuggle XML entities.

One set of checks for every zip package audit-kit opens (a universe workbook, a returned
audit workbook): declared sizes and compression ratios are judged before anything is
inflated; a part is inflated in bounded chunks (nothing kept) to prove it is no larger than it
declares; XML parts must not declare a DOCTYPE or entities (XML bombs, external entities).
Each caller sets its own limits (:class:`Limits`) and words its own problems from the verdicts.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass

#: DOCTYPE and ENTITY declarations in the encodings an XML part may use.
DECLARATION_MARKERS = tuple(
    marker.encode(enc)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for enc in ("utf-8", "utf-16-le", "utf-16-be")
)
#: What reading a damaged part raises (zipfile, zlib and the file system).
UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
#: What opening a damaged package raises.
NOT_A_ZIP = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError)

TOO_LARGE = "a part larger than its declared size (a zip bomb)"
DECLARATION = "a DOCTYPE or ENTITY declaration"
DAMAGED = "a damaged or unreadable part"


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """How much a package may hold: parts, bytes unpacked, bytes per part, compression ratio."""

    max_members: int
    max_total_bytes: int
    max_member_bytes: int | None
    max_ratio: int
    #: parts smaller than this once unpacked are not judged by their ratio
    ratio_floor: int = 1 << 20
    #: bytes inflated at a time while a part is scanned
    chunk: int = 1 << 16


def is_xml_part(name: str) -> bool:
    """Whether a package part holds XML (by its name, as Office packages name parts)."""
    last = name.rsplit("/", 1)[-1]
    return last.endswith((".xml", ".rels", ".vml")) or "." not in last


def ratio_exceeded(info: zipfile.ZipInfo, limits: Limits) -> bool:
    """Whether a part packs more tightly than real files do (a deflate bomb packs ~1000:1)."""
    return info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
        info.compress_size, 1
    )


def ratio(info: zipfile.ZipInfo) -> int:
    """The part's declared compression ratio, as an integer (for messages)."""
    return info.file_size // max(info.compress_size, 1)


def scan_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> str | None:
    """Inflate one part in bounded chunks; return what is wrong with it, or None."""
    is_xml = is_xml_part(info.filename)
    limit = max(info.file_size, 0)
    if limits.max_member_bytes is not None:
        limit = min(limit, limits.max_member_bytes)
    seen = 0
    tail = b""
    try:
        with archive.open(info) as member:
            while chunk := member.read(limits.chunk):
                seen += len(chunk)
                if seen > limit:
                    return TOO_LARGE
                if is_xml:
                    window = tail + chunk
                    if any(marker in window for marker in DECLARATION_MARKERS):
                        return DECLARATION
                    tail = window[-32:]
    except UNREADABLE:
        return DAMAGED
    return None
