"""Propose a plan's column mapping for a universe export, and write a commented plan (``init``).

Exports name their columns every which way (``Acct #``, ``Coder Name``, ``DX1..DX25``,
``Total Paid``, ``Svc Dt``). :func:`guess_mapping` reads the header and a sample of rows and
proposes, for every audit-kit field, the column(s) that hold it:

1. **PHI first**: patient names, MRN, date of birth, SSN, address, phone, e-mail are recognised
   by header (and SSN, phone and e-mail by value), so that they are never mapped as anything
   else and never offered to a workbook.
2. **Headers**: a synonym table per field, matched on the header folded to lower-case letters
   and digits (``Acct #`` -> ``acct``).
3. **Repeated columns**: ``DX1..DX25``, ``Diag 1..Diag 12``, ``CPT1..CPT4``, ``Proc1..`` become
   one code-list field, in numeric order; a principal-diagnosis column goes first.
4. **Values**, for what headers left open: ICD-10-CM codes (checked against the public code
   set), ICD-10-PCS codes, CPT/HCPCS items with modifiers, money, dates, sex, age, setting, and
   unit ids (unique, never empty).

Every guess says what it was guessed from; :func:`write_plan` puts that beside each line of the
plan as ``# review: guessed from ...``. Nothing is silently overwritten. Messages name columns,
never values (PHI).

Modules: :mod:`~audit_kit.plan.mapping.headers` (synonyms per field of
:data:`audit_kit.plan.FIELDS`), :mod:`~audit_kit.plan.mapping.values` (value patterns),
:mod:`~audit_kit.plan.mapping.proposal` (the passes above) and
:mod:`~audit_kit.plan.mapping.plan_writer` (the commented plan).
"""

from __future__ import annotations

from audit_kit.plan.mapping.headers import fold
from audit_kit.plan.mapping.plan_writer import InitSummary, plan_text, write_plan
from audit_kit.plan.mapping.proposal import (
    DEFAULT_SAMPLE_ROWS,
    ColumnGuess,
    MappingProposal,
    guess_mapping,
    read_head,
)

__all__ = [
    "init",
    "DEFAULT_SAMPLE_ROWS",
    "ColumnGuess",
    "InitSummary",
    "MappingProposal",
    "fold",
    "guess_mapping",
    "plan_text",
    "read_head",
    "write_plan",
]


# The library name of the command (`audit-kit init`).
init = write_plan
