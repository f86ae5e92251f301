"""The rebuttal round: coders respond to the findings, the audit lead decides, results final.

``open_round`` (``audit-kit rebuttals``) writes ``rebuttals/<coder>.xlsx`` for every coder with
a finding with an error and records the round (``rebuttals/round.json``); returned workbooks
are validated and recorded by ``collect`` (:mod:`audit_kit.findings`); ``write_decisions``
(``audit-kit decisions``) writes ``decisions/decisions.xlsx`` with every disputed finding and
both sides; ``close_round`` (``audit-kit close``) ends the round. Scoring applies the decisions
(:mod:`audit_kit.scoring`). The records are described in
:mod:`audit_kit.folder.rebuttal_round`.

This stage sits above ``workbook`` and ``scoring`` (it scores the findings to know which have
an error, and renders workbooks).
"""

from __future__ import annotations

from audit_kit.rebuttal._round import (
    DECISIONS_FILE,
    NoDisputes,
    RoundSummary,
    close_round,
    open_round,
    parse_due,
    write_decisions,
)

__all__ = [
    "DECISIONS_FILE",
    "NoDisputes",
    "RoundSummary",
    "close_round",
    "open_round",
    "parse_due",
    "write_decisions",
]
