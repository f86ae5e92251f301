"""File names made from people's names: letters kept, accents dropped (``José Núñez`` ->
``Jose_Nunez``), portable on every operating system, unique within one folder."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["file_stem"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10))} | {
    f"lpt{i}" for i in range(10)
}


def file_stem(name: str, taken: set[str], *, fallback: str = "coder") -> str:
    """Return a unique, portable file stem for a person's name; record it in ``taken``.

    Letters keep their base letter (NFKD decomposition, combining marks dropped), anything else
    becomes ``_``; a name that leaves nothing becomes ``fallback``. ``taken`` holds the stems
    already used (lower case: file systems that ignore case must not see two files as one).
    """
    decomposed = unicodedata.normalize("NFKD", name.strip())
    ascii_name = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stem = _UNSAFE.sub("_", ascii_name).strip("._-")[:60] or fallback
    if stem.lower() in _WINDOWS_RESERVED:
        stem = f"{fallback}_{stem}"
    candidate, i = stem, 2
    while candidate.lower() in taken:
        candidate = f"{stem}-{i}"
        i += 1
    taken.add(candidate.lower())
    return candidate
