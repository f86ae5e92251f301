"""Golden HTML snapshots of the three report templates.

The HTML is rendered from a fixed results fixture (report_helpers.make_results, seed 5) with the
volatile values frozen: audit id, findings hash, render time and tool version come from the
fixture, not from the clock or the package. A deliberate template change updates the snapshots:

    AUDIT_KIT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_report_golden.py

then review ``git diff tests/golden/`` before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_helpers import make_results, make_sampling

from audit_kit.reporting import build_jobs
from audit_kit.reporting.environment import template_roots

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("AUDIT_KIT_UPDATE_GOLDEN") == "1"
FROZEN_AT = "2026-12-01T12:00:00Z"


def _html_by_output() -> dict[str, str]:
    sampling = make_sampling(coders=2, units_per_coder=8, audit_id="AK-GOLDEN")
    results = make_results(
        coders=2,
        units_per_coder=8,
        seed=5,
        error_rate=0.3,
        findings_sha256="f" * 64,
        audit_id="AK-GOLDEN",
        sampling=sampling,
    )
    jobs = build_jobs(
        results,
        sampling,
        statement="SAMPLING STATEMENT\nfrozen for the snapshot\n",
        roots=template_roots(None),
        rendered_at=FROZEN_AT,
        results_bytes=b"{}",
    )
    return {job.output: job.html for job in jobs}


@pytest.mark.parametrize(
    ("output", "snapshot"),
    [
        ("report.pdf", "report.html"),
        ("attestation.pdf", "attestation.html"),
        ("coders/C001.pdf", "coder_C001.html"),
    ],
)
def test_html_matches_snapshot(output: str, snapshot: str) -> None:
    html = _html_by_output()[output]
    path = GOLDEN / snapshot
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(html, encoding="utf-8")
    assert path.is_file(), f"missing snapshot {path}; run with AUDIT_KIT_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert html == expected, (
        f"{snapshot} differs from the snapshot; if the change is intended, re-run with "
        "AUDIT_KIT_UPDATE_GOLDEN=1 and review git diff tests/golden/"
    )


def test_snapshots_hold_no_volatile_values() -> None:
    html = _html_by_output()["report.pdf"]
    assert FROZEN_AT in html
    assert "AK-GOLDEN" in html
    assert "f" * 64 in html
