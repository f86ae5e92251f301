"""Code lists: split a cell into codes, normalise each code, validate format and existence.

Code kinds follow the plan's code fields (:data:`audit_kit.plan.CODE_FIELDS`) plus ``drg``:

========  =======================================================================================
``dx``    ICD-10-CM diagnosis: letter, digit, digit-or-letter, then an optional dot and up to four
          characters (``E11.9``, ``S72.001A``). Existence and billability are checked against the
          public CDC/CMS code set shipped in the ``simple_icd_10_cm`` package. Only billable (leaf)
          codes are accepted: a category such as ``E11`` is what a header is, not what a coder
          reports.
``px``    ICD-10-PCS procedure: exactly seven characters from 0-9 and A-Z without I and O.
          Format only (no public machine-readable PCS table ships with audit-kit).
``cpt``   CPT or HCPCS Level II service, with optional modifiers and units:
          ``CODE[-MOD...][xUNITS]`` such as ``99214-25`` or ``97110-59-GP x2`` written
          ``97110-59-GPx2``. CPT is five digits, or four digits and ``F`` (Category II), ``T``
          (Category III) or ``U`` (PLA); HCPCS Level II is a letter and four digits. Modifiers are
          two characters; numeric modifiers must be CPT modifiers. Format only: the CPT code set is
          licensed by the AMA and is not shipped.
``drg``   MS-DRG: three digits 001-999.
========  =======================================================================================

Normalisations (case, a missing ICD-10-CM dot, ``DRG 65`` -> ``065``, ``x1`` units dropped) are
reported as *notes*, never as errors; problems are what must be fixed.
"""

from __future__ import annotations

import bisect
import functools
import importlib.util
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "row_cpt_codes",
    "with_modifiers",
    "CODE_KINDS",
    "CPT_MODIFIERS",
    "CodeCheck",
    "CodeIssue",
    "CodeKind",
    "CptItem",
    "check_code",
    "check_codes",
    "icd10cm_status",
    "icd10cm_version",
    "join_codes",
    "normalize_code",
    "parse_cpt",
    "split_codes",
]

CodeKind = Literal["dx", "px", "cpt", "drg"]
CODE_KINDS: tuple[CodeKind, ...] = ("dx", "px", "cpt", "drg")

#: Numeric CPT modifiers (AMA CPT Appendix A). Alphanumeric HCPCS modifiers are checked for form.
_CPT_MODIFIER_TEXT = (
    "22 23 24 25 26 27 32 33 47 50 51 52 53 54 55 56 57 58 59 62 63 66 73 74 76 77 78 79 "
    "80 81 82 90 91 92 93 95 96 97 99"
)
CPT_MODIFIERS = frozenset(_CPT_MODIFIER_TEXT.split(" "))
_MAX_MODIFIERS = 4

_DEFAULT_SEPARATORS = ";,"
_ICD10CM_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$")
_PCS_RE = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")
_CPT_CODE_RE = re.compile(r"^(?:[0-9]{5}|[0-9]{4}[FTU]|[ABCDEGHJKLMPQRSTUV][0-9]{4})$")
_CPT_ITEM_RE = re.compile(
    r"^(?P<code>[0-9A-Z]{5})(?P<mods>(?:-[0-9A-Z]{2})*)(?:[X*](?P<units>[0-9]{1,4}))?$"
)
_DRG_PREFIX_RE = re.compile(r"^(?:MS-?)?DRG[\s:#-]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeIssue:
    """One code that must be fixed: the code as entered, what was expected, how to fix it."""

    code: str
    expected: str
    fix: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeCheck:
    """The result of checking one code or a list: normalised codes, notes, problems."""

    codes: tuple[str, ...]
    notes: tuple[str, ...] = ()
    problems: tuple[CodeIssue, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True, kw_only=True)
class CptItem:
    """A CPT/HCPCS line item: ``code``, its ``modifiers`` in order and ``units`` (default 1)."""

    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1

    def __str__(self) -> str:
        text = "-".join((self.code, *self.modifiers))
        return f"{text}x{self.units}" if self.units != 1 else text


# -- splitting ---------------------------------------------------------------------------------


def split_codes(cell: object, separator: str = ";") -> list[str]:
    """Split a code-list cell (``"E11.9; I10"``) into codes, in order, duplicates kept.

    Splits on ``;``, ``,``, any whitespace and the plan's ``separator``. ``None``, NaN and blank
    cells give ``[]``; a list or tuple is flattened (each element split in turn).
    """
    if cell is None:
        return []
    if isinstance(cell, float) and math.isnan(cell):
        return []
    if isinstance(cell, list | tuple):
        out: list[str] = []
        for item in cell:
            out.extend(split_codes(item, separator))
        return out
    text = str(cell)
    for sep in (separator, *_DEFAULT_SEPARATORS):
        if sep:
            text = text.replace(sep, " ")
    return text.split()


def with_modifiers(codes: list[str], modifiers: Iterable[str]) -> list[str]:
    """Attach modifiers kept in their own columns to the code of their code column.

    ``(["99214"], ["25"])`` gives ``["99214-25"]``; a modifier already attached
    (``99214-25`` with ``25`` in ``Mod 1``) is not repeated; a units suffix stays last
    (``97110x2`` with ``59`` gives ``97110-59x2``). Modifiers go to the first code of the cell
    (a code column with modifier columns holds one code per row). Blank modifiers are skipped.
    """
    mods = [m.strip().lstrip("-").upper() for m in modifiers if m and m.strip().lstrip("-")]
    if not codes or not mods:
        return codes
    first = codes[0].strip()
    units = ""
    match = re.search(r"([X*][0-9]{1,4})$", first.upper())
    if match and len(first) > 5:
        units, first = first[match.start() :], first[: match.start()]
    present = {m.upper() for m in first.split("-")[1:]}
    extra = [m for m in dict.fromkeys(mods) if m not in present]
    return [first + "".join(f"-{m}" for m in extra) + units, *codes[1:]]


def row_cpt_codes(
    row: Mapping[str, object],
    columns: Sequence[str],
    modifiers: Mapping[str, Sequence[str]],
    separator: str = ";",
) -> list[str]:
    """The CPT/HCPCS items of one row: each code column's codes, in column order, with the
    modifiers of its modifier columns attached (:func:`with_modifiers`)."""
    out: list[str] = []
    for col in columns:
        codes = split_codes(row.get(col), separator)
        mod_cols = modifiers.get(col, ())
        if mod_cols:
            codes = with_modifiers(
                codes, [m for mc in mod_cols for m in split_codes(row.get(mc), separator)]
            )
        out.extend(codes)
    return out


def join_codes(codes: Iterable[str], separator: str = ";") -> str:
    """Join codes for a CSV cell (``E11.9;I10``), the inverse of :func:`split_codes`."""
    return separator.join(codes)


# -- ICD-10-CM code set ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CodeSet:
    version: str
    codes: frozenset[str]  # without dots
    leaves: frozenset[str]
    ordered: tuple[str, ...]


def _code_list_file() -> Path | None:
    # Locating the package's data without importing it: the package parses a 10 MB XML tree at
    # import (about 1.5 s); the plain code list it ships is all existence and leaf checks need.
    spec = importlib.util.find_spec("simple_icd_10_cm")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        files = sorted(Path(location, "data").glob("code-list-*.txt"))
        if files:
            return files[-1]
    return None


def _is_code(entry: str) -> bool:
    # The list also holds chapter numbers ("1".."22") and blocks ("A00-A09").
    return bool(entry) and entry[0].isalpha() and "-" not in entry


@functools.cache
def _icd10cm() -> _CodeSet:
    path = _code_list_file()
    if path is not None:
        version = path.stem.removeprefix("code-list-").replace("-", " ")
        entries = path.read_text("utf-8").split()
    else:  # pragma: no cover - only if the package changes its layout
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import simple_icd_10_cm as cm

        version = "simple_icd_10_cm"
        entries = [c.replace(".", "") for c in cm.get_all_codes(False)]
    ordered = tuple(sorted({e for e in entries if _is_code(e)}))
    leaves = {
        code
        for code, nxt in zip(ordered, (*ordered[1:], ""), strict=True)
        if not nxt.startswith(code)
    }
    return _CodeSet(version, frozenset(ordered), frozenset(leaves), ordered)


def icd10cm_version() -> str:
    """Return the edition of the ICD-10-CM code set used for existence checks."""
    return _icd10cm().version


def icd10cm_status(code: str) -> Literal["billable", "header", "unknown"]:
    """Say whether a (normalised) ICD-10-CM code is billable, a non-billable header, or unknown."""
    key = code.replace(".", "").upper()
    codes = _icd10cm()
    if key in codes.leaves:
        return "billable"
    if key in codes.codes:
        return "header"
    return "unknown"


def _with_dot(key: str) -> str:
    return key if len(key) <= 3 else f"{key[:3]}.{key[3:]}"


def _subcodes(key: str, limit: int = 3) -> list[str]:
    codes = _icd10cm()
    out: list[str] = []
    i = bisect.bisect_right(codes.ordered, key)
    while i < len(codes.ordered) and codes.ordered[i].startswith(key) and len(out) < limit:
        if codes.ordered[i] in codes.leaves:
            out.append(_with_dot(codes.ordered[i]))
        i += 1
    return out


# -- normalising -------------------------------------------------------------------------------


def normalize_code(code: str, kind: CodeKind) -> tuple[str, str | None]:
    """Return the normalised form of one code and a note saying what changed (or ``None``)."""
    raw = code
    text = code.strip().upper()
    if kind == "dx":
        text = text.rstrip(".")
        if "." not in text and len(text) > 3:
            text = _with_dot(text)
    elif kind == "px":
        text = text.replace(".", "")
    elif kind == "cpt":
        item = parse_cpt(text)
        if item is not None:
            text = str(item)
    elif kind == "drg":
        text = _DRG_PREFIX_RE.sub("", text)
        if text.isdigit() and 1 <= len(text) < 3:
            text = text.zfill(3)
    else:  # pragma: no cover - guarded by the Literal type
        raise ValueError(f"unknown code kind {kind!r}")
    note = None if text == raw else f"{raw!r} read as {text}"
    return text, note


def parse_cpt(item: str) -> CptItem | None:
    """Parse ``99214-25``, ``97110-59x2`` or ``J1100*3`` into a :class:`CptItem` (None if not)."""
    match = _CPT_ITEM_RE.match(item.strip().upper())
    if match is None:
        return None
    mods = tuple(m for m in match["mods"].split("-") if m)
    units = int(match["units"]) if match["units"] else 1
    return CptItem(code=match["code"], modifiers=mods, units=units)


# -- validating --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def check_code(code: str, kind: CodeKind) -> CodeCheck:
    """Normalise and validate one code; problems say what is expected and how to fix it."""
    norm, note = normalize_code(code, kind)
    notes = (note,) if note else ()
    problems: list[CodeIssue] = []
    if kind == "dx":
        problems.extend(_check_dx(code, norm))
    elif kind == "px":
        problems.extend(_check_px(code, norm))
    elif kind == "cpt":
        problems.extend(_check_cpt(code, norm))
    else:
        problems.extend(_check_drg(code, norm))
    return CodeCheck(codes=(norm,), notes=notes, problems=tuple(problems))


def check_codes(cell: object, kind: CodeKind, *, separator: str = ";") -> CodeCheck:
    """Split a cell (or take a list) and check every code; see :func:`check_code`."""
    if isinstance(cell, str):
        return _check_text(cell, kind, separator)
    return _check_list(cell, kind, separator)


@functools.lru_cache(maxsize=65536)
def _check_text(cell: str, kind: CodeKind, separator: str) -> CodeCheck:
    return _check_list(cell, kind, separator)


def _check_list(cell: object, kind: CodeKind, separator: str) -> CodeCheck:
    codes: list[str] = []
    notes: list[str] = []
    problems: list[CodeIssue] = []
    for code in split_codes(cell, separator):
        result = check_code(code, kind)
        codes.extend(result.codes)
        notes.extend(result.notes)
        problems.extend(result.problems)
    return CodeCheck(codes=tuple(codes), notes=tuple(notes), problems=tuple(problems))


def _check_dx(raw: str, norm: str) -> list[CodeIssue]:
    if not _ICD10CM_RE.match(norm):
        return [
            CodeIssue(
                code=raw,
                expected="an ICD-10-CM code: letter, digit, digit or letter, then a dot and up to "
                "4 characters (E11.9, S72.001A)",
                fix="correct the code (ICD-10-PCS procedures go in the procedures column).",
            )
        ]
    status = icd10cm_status(norm)
    if status == "unknown":
        return [
            CodeIssue(
                code=raw,
                expected=f"a code in the ICD-10-CM code set ({icd10cm_version()})",
                fix="check the code in the current ICD-10-CM tabular list.",
            )
        ]
    if status == "header":
        examples = _subcodes(norm.replace(".", ""))
        hint = f" such as {', '.join(examples)}" if examples else ""
        return [
            CodeIssue(
                code=raw,
                expected="a billable ICD-10-CM code (this one is a category/header with subcodes)",
                fix=f"report the complete code{hint}.",
            )
        ]
    return []


def _check_px(raw: str, norm: str) -> list[CodeIssue]:
    if _PCS_RE.match(norm):
        return []
    if len(norm) == 7 and ("I" in norm or "O" in norm):
        fix = "ICD-10-PCS never uses the letters I and O: did you mean 1 and 0?"
    else:
        fix = "correct the code (CPT/HCPCS services go in the CPT/HCPCS column)."
    return [
        CodeIssue(
            code=raw,
            expected="an ICD-10-PCS code: exactly 7 characters from 0-9 and A-Z without I and O",
            fix=fix,
        )
    ]


def _check_cpt(raw: str, norm: str) -> list[CodeIssue]:
    item = parse_cpt(norm)
    if item is None:
        return [
            CodeIssue(
                code=raw,
                expected="a CPT/HCPCS code with optional modifiers and units, e.g. 99214-25, "
                "97110-59x2",
                fix="write the 5-character code, each modifier after a hyphen, units after x.",
            )
        ]
    problems: list[CodeIssue] = []
    if not _CPT_CODE_RE.match(item.code):
        problems.append(
            CodeIssue(
                code=raw,
                expected="a CPT code (5 digits, or 4 digits and F, T or U) or a HCPCS Level II "
                "code (a letter and 4 digits)",
                fix="correct the code.",
            )
        )
    bad = [m for m in item.modifiers if m.isdigit() and m not in CPT_MODIFIERS]
    if bad:
        problems.append(
            CodeIssue(
                code=raw,
                expected="valid 2-character modifiers (CPT 22-99 as listed in CPT Appendix A, or "
                "HCPCS modifiers such as GT, LT, XS)",
                fix=f"correct modifier {', '.join(bad)}.",
            )
        )
    if len(item.modifiers) > _MAX_MODIFIERS:
        problems.append(
            CodeIssue(
                code=raw,
                expected=f"at most {_MAX_MODIFIERS} modifiers on one line",
                fix="keep the modifiers that apply to this line.",
            )
        )
    if item.units < 1:
        problems.append(
            CodeIssue(code=raw, expected="units of at least 1", fix="correct the units after x.")
        )
    return problems


def _check_drg(raw: str, norm: str) -> list[CodeIssue]:
    if len(norm) == 3 and norm.isdigit() and norm != "000":
        return []
    return [
        CodeIssue(
            code=raw,
            expected="an MS-DRG: 3 digits from 001 to 999",
            fix="enter the DRG number only (e.g. 065).",
        )
    ]
