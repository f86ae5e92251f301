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

Modules: :mod:`~audit_kit.universe.opening` (:func:`open_universe`: format sniffing, the
background byte pass, XLSX zip-bomb checks), :mod:`~audit_kit.universe.reading`
(:class:`Universe`: lazy reads and fetches), :mod:`~audit_kit.universe.validation` (row naming
and the problems sampling collects). The sample under audit-kit field names is
:func:`audit_kit.plan.canonical.canonical_units` (the plan's column mapping applied).
"""

from __future__ import annotations

from audit_kit.universe.opening import open_universe
from audit_kit.universe.reading import Encoding, Universe
from audit_kit.universe.validation import (
    ROW,
    describe_rows,
    duplicate_problem,
    missing_column_problems,
    negative_problem,
    row_problem,
)

__all__ = [
    "ROW",
    "Encoding",
    "Universe",
    "describe_rows",
    "duplicate_problem",
    "missing_column_problems",
    "negative_problem",
    "open_universe",
    "row_problem",
]
