"""Crash safety of the rebuttal round: `collect` of the lead's decisions killed at any moment.

An audit with an open round, the coders' responses collected (three disputes) and the
decisions workbook issued is the baseline; the lead's filled workbook is then collected while
the command gets SIGKILL: children forked from a process that has imported audit-kit, at seeded
random times over a measured run, and exactly before each ``os.replace`` of the run (journal,
renames, manifest). After every kill: the folder opens and verifies clean (no missing, changed
or stray file, no temporary, no journal), ``decisions.csv`` is absent (before the commit) or
complete (after it), the returned file and the event are there exactly when it is, and
collecting again reaches the complete state; `close` and `verify` then pass.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crash_helpers import Zygote, copy_audit, crash_at, run_main
from rebuttal_helpers import build_audit, fill, table, today

from audit_kit import findings
from audit_kit.folder.manifest import JOURNAL, TEMP_PREFIX, AuditFolder, file_sha256

RANDOM_KILLS = 8


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    proc = Zygote(tmp_path_factory.mktemp("zygote"))
    yield proc
    proc.close()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("round-crash")
    audit = build_audit(base)
    due = (today() + dt.timedelta(days=5)).isoformat()
    assert run_main(["rebuttals", audit, "--due", due, "--quiet"]) == 0
    record = json.loads((audit / "rebuttals" / "round.json").read_text("utf-8"))
    disputed = [f["unit_id"] for f in record["findings"]][:3]
    returns = []
    for book in record["workbooks"]:
        source = audit / book["file"]
        cells = {
            unit: {"Coder response": "disagree", "Coder comment": "Supported."}
            if unit in disputed
            else {"Coder response": "agree"}
            for unit in table(source, "Findings")[3]
        }
        returns.append(
            fill(source, base / "responses" / Path(book["file"]).name, "Findings", cells)
        )
    findings.collect(audit, returns)
    assert run_main(["decisions", audit, "--quiet"]) == 0
    decided = fill(
        audit / "decisions" / "decisions.xlsx",
        base / "decided" / "decisions.xlsx",
        "Disputes",
        {
            unit: {
                "Decision": "upheld" if i else "overturned",
                "Decision rationale": "Read both sides.",
                "Decided by": "Lead",
                "Decision date": today(),
            }
            for i, unit in enumerate(disputed)
        },
    )
    complete = copy_audit(audit, base / "complete")
    assert run_main(["collect", complete, decided]) == 0
    counts = [0]
    with pytest.MonkeyPatch.context() as m:
        wrapper, counts = crash_at(os.replace, 0)  # 0: never crashes, only counts
        m.setattr(os, "replace", wrapper)
        findings.collect(copy_audit(audit, base / "count"), [decided])
    return {
        "baseline": audit,
        "decided": decided,
        "decided_sha": file_sha256(decided),
        "decisions": (complete / "decisions.csv").read_text("utf-8"),
        "replaces": counts[0],
        "events": len(AuditFolder.open(audit).events),
    }


def _decisions_rows(text: str) -> list[str]:
    # collected_at is the time of the run: compare the rest
    lines = text.splitlines()
    header = lines[0].split(",")
    at = header.index("collected_at")
    return [",".join(v for i, v in enumerate(line.split(",")) if i != at) for line in lines]


def _outcome(audit: Path, prep: dict[str, Any]) -> str:
    folder = AuditFolder.open(audit)
    assert folder.verify_hashes() == []
    assert [
        p for p in audit.rglob("*") if p.name.startswith(TEMP_PREFIX) or p.name == JOURNAL
    ] == []
    done = folder.has("decisions.csv")
    if done:
        got = (audit / "decisions.csv").read_text("utf-8")
        assert _decisions_rows(got) == _decisions_rows(prep["decisions"]), "decisions.csv is a mix"
    assert folder.has(f"returned/{prep['decided_sha']}.xlsx") == done
    assert len(folder.events) == prep["events"] + done
    return "new" if done else "old"


def test_collect_of_decisions_survives_sigkill(
    prepared: dict[str, Any], tmp_path: Path, zygote: Zygote
) -> None:
    prep = prepared
    args = ["collect", "AUDIT", str(prep["decided"])]
    whole = copy_audit(prep["baseline"], tmp_path / "whole")
    started = time.perf_counter()
    first = zygote.run([a if a != "AUDIT" else whole for a in args])
    seconds = time.perf_counter() - started
    assert first.returncode == 0, first.stderr
    runs = []
    rnd = random.Random("rebuttal-decisions")
    for i in range(RANDOM_KILLS):
        audit = copy_audit(prep["baseline"], tmp_path / f"random-{i}")
        delay = rnd.uniform(0.0 if i % 2 else 0.75 * seconds, 1.5 * seconds)
        runs.append(
            (audit, zygote.run([a if a != "AUDIT" else audit for a in args], kill_after=delay))
        )
    exact = []
    for k in range(1, prep["replaces"] + 1):
        audit = copy_audit(prep["baseline"], tmp_path / f"replace-{k}")
        result = zygote.run([a if a != "AUDIT" else audit for a in args], die=f"os.replace:{k}")
        assert result.killed
        exact.append(audit)
        runs.append((audit, result))
    outcomes = {}
    for audit, result in runs:
        assert result.returncode in (-9, 0), result.stderr
        assert "Traceback" not in result.stderr
        outcomes[audit] = _outcome(audit, prep)
        # collecting again completes the state, and the round can be closed and verified
        assert run_main(["collect", audit, prep["decided"], "--quiet"]) == 0
        assert _outcome(audit, prep) == "new"
        assert run_main(["close", audit, "--early"]) == 0
        assert run_main(["verify", audit]) == 0
    sequence = [outcomes[a] for a in exact]
    assert sequence == sorted(sequence, key=["old", "new"].index)
    assert set(sequence) == {"old", "new"}  # the exact kill points straddle the commit
