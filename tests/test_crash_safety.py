"""Crash safety across stages (issue 8): `collect` and `score` killed at any moment.

A small real audit (synthetic universe, sample, two workbooks filled by the simulated auditors)
is collected once: the baseline. Then a second, later return of one workbook (which supersedes
that auditor's units and adds the ones missing from the first return) is collected, and the
audit scored, while the command is killed:

* ``python -m audit_kit collect|score`` gets SIGKILL: fresh processes at random times from their
  start; children forked from a process that has already imported audit-kit (so that the kill
  lands in the command's own work) at seeded random times over a measured run, and exactly
  before the k-th ``os.replace`` of the run (the child kills itself there), for every k;
* in-process, ``os.replace`` and ``os.fsync`` raise at their k-th call for every k, and a second
  fault hits the recovery itself.

`sample` is killed the same way: before its commit it leaves nothing in the way of running it
again; after it, a complete audit.

After every kill the invariants are the same, wherever the kill landed: the folder opens and
verifies clean (no missing, changed or stray file), findings.csv is exactly the previous or the
new accepted state (never a mix, never fewer findings than the baseline), the files of one
command are all there or none is, and re-running the command completes to the new state.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from crash_helpers import (
    KillResult,
    SimulatedCrash,
    Zygote,
    copy_audit,
    crash_at,
    demo_plan_text,
    edit_rows,
    findings_state,
    kill_plain,
    run_cli,
    run_main,
    set_saved_time,
    sheet_table,
    unfill_rows,
)

from audit_kit import findings, sampling, scoring, workbook
from audit_kit.demo.example_data import write_universe
from audit_kit.demo.simulation import fill_workbooks
from audit_kit.errors import AuditError
from audit_kit.folder.manifest import JOURNAL, TEMP_PREFIX, AuditFolder, file_sha256
from audit_kit.reporting.results_workbook import results_workbook_bytes

UNFILLED = 5  # units of ann's workbook missing from her first return
REVISED = 4  # units whose rationale her second return changes


@dataclass(frozen=True)
class Prepared:
    base: Path
    baseline: Path  # collected first return of ann and bob, scored
    collected: Path  # baseline + ann's second return collected, not scored again
    second_return: Path
    second_sha: str
    baseline_findings: list[dict[str, str]]
    new_findings: list[dict[str, str]]
    baseline_findings_sha: str
    new_findings_sha: str
    calls: dict[str, dict[str, int]]  # command -> os call -> how many in one run


def _events(audit: Path, command: str) -> list[dict[str, Any]]:
    return [e for e in AuditFolder.open(audit).events if e["command"] == command]


def _count_calls(run: Callable[[], object]) -> dict[str, int]:
    counts = {}
    with pytest.MonkeyPatch.context() as m:
        for name in ("replace", "fsync"):
            wrapper, seen = crash_at(getattr(os, name), 0)  # 0: never crashes, only counts
            m.setattr(os, name, wrapper)
            counts[name] = seen
        run()
    return {name: seen[0] for name, seen in counts.items()}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    base = tmp_path_factory.mktemp("crash")
    plan = base / "plan.yaml"
    plan.write_text(demo_plan_text(per_stratum=4), "utf-8")
    universe = base / "universe.csv"
    write_universe(universe, rows=300, seed=11)
    issued = base / "issued"
    sampling.draw_sample(plan, universe, issued)
    workbook.write_workbooks(issued, auditors=["ann", "bob"])
    filled = {p.name: p for p in fill_workbooks(issued, base / "filled")}
    ann_issued = issued / "workbooks" / "W1-ann.xlsx"
    ann_units = list(sheet_table(filled["W1-ann.xlsx"])[3])

    first = base / "first"
    first.mkdir()
    first_ann = unfill_rows(
        filled["W1-ann.xlsx"], ann_issued, first / "W1-ann.xlsx", ann_units[:UNFILLED]
    )
    first_bob = first / "W1-bob.xlsx"
    first_bob.write_bytes(filled["W1-bob.xlsx"].read_bytes())
    for path in (first_ann, first_bob):
        set_saved_time(path, "2026-04-20T09:00:00Z")
    second = base / "second"
    second.mkdir()
    second_ann = edit_rows(
        filled["W1-ann.xlsx"],
        second / "W1-ann.xlsx",
        {u: {"Rationale": "revised after a second look"} for u in ann_units[-REVISED:]},
    )
    set_saved_time(second_ann, "2026-04-21T09:00:00Z")

    baseline = copy_audit(issued, base / "baseline")
    findings.collect(baseline, [first_ann, first_bob])
    scoring.score_audit(baseline, results_workbook=results_workbook_bytes)

    collected = copy_audit(baseline, base / "collected")
    summary = findings.collect(collected, [second_ann])
    assert summary.files[0].status == "accepted" and summary.superseded

    calls = {
        "collect": _count_calls(
            partial(findings.collect, copy_audit(baseline, base / "count-c"), [second_ann])
        ),
        "score": _count_calls(
            partial(
                scoring.score_audit,
                copy_audit(collected, base / "count-s"),
                results_workbook=results_workbook_bytes,
            )
        ),
    }
    prep = Prepared(
        base=base,
        baseline=baseline,
        collected=collected,
        second_return=second_ann,
        second_sha=file_sha256(second_ann),
        baseline_findings=findings_state(baseline),
        new_findings=findings_state(collected),
        baseline_findings_sha=file_sha256(baseline / "findings.csv"),
        new_findings_sha=file_sha256(collected / "findings.csv"),
        calls=calls,
    )
    # The scenario is worth testing: the second return adds units and changes others.
    assert len(prep.new_findings) == len(prep.baseline_findings) + UNFILLED
    revised = [r for r in prep.new_findings if r["rationale"] == "revised after a second look"]
    assert len(revised) == REVISED
    assert calls["collect"]["replace"] >= 3 and calls["score"]["replace"] >= 3  # files + manifest
    return prep


# -- the invariants --------------------------------------------------------------------------


def _assert_clean(audit: Path) -> AuditFolder:
    folder = AuditFolder.open(audit)
    assert folder.verify_hashes() == []
    leftovers = [p for p in audit.rglob("*") if p.name.startswith(TEMP_PREFIX) or p.name == JOURNAL]
    assert leftovers == []
    return folder


def _collect_outcome(audit: Path, prep: Prepared) -> str:
    """Check a possibly interrupted collect; return 'old' or 'new'."""
    folder = _assert_clean(audit)
    state = findings_state(audit)
    assert state in (prep.baseline_findings, prep.new_findings), "findings.csv is a mix"
    assert len(state) >= len(prep.baseline_findings)
    outcome = "new" if state == prep.new_findings else "old"
    # the returned file and the event commit with findings.csv, or nothing does
    assert folder.has(f"returned/{prep.second_sha}.xlsx") == (outcome == "new")
    assert len(_events(audit, "collect")) == len(_events(prep.baseline, "collect")) + (
        outcome == "new"
    )
    # nothing else of the audit moved
    before = AuditFolder.open(prep.baseline).artifacts()
    after = folder.artifacts()
    for rel, record in before.items():
        if rel != "findings.csv":
            assert after[rel]["sha256"] == record["sha256"], rel
    return outcome


def _rerun_collect(audit: Path, prep: Prepared) -> None:
    assert run_main(["collect", audit, prep.second_return]) == 0
    _assert_clean(audit)
    assert findings_state(audit) == prep.new_findings
    assert len(_events(audit, "collect")) == len(_events(prep.baseline, "collect")) + 1


def _score_outcome(audit: Path, prep: Prepared) -> str:
    """Check a possibly interrupted score; return 'old' or 'new'."""
    folder = _assert_clean(audit)
    assert file_sha256(audit / "findings.csv") == prep.new_findings_sha
    results = folder.read_json("results.json")
    scored = results["audit"]["findings_sha256"]
    assert scored in (prep.baseline_findings_sha, prep.new_findings_sha)
    outcome = "new" if scored == prep.new_findings_sha else "old"
    events = _events(audit, "score")
    assert len(events) == len(_events(prep.collected, "score")) + (outcome == "new")
    # results.json and results.xlsx come from the same (last) score commit
    artifacts = folder.artifacts()
    for rel in ("results.json", "results.xlsx"):
        assert artifacts[rel]["sha256"] == events[-1]["outputs"][rel]
    return outcome


def _rerun_score(audit: Path, prep: Prepared) -> None:
    before = len(_events(audit, "score"))
    assert run_main(["score", audit]) == 0
    folder = _assert_clean(audit)
    assert folder.read_json("results.json")["audit"]["findings_sha256"] == prep.new_findings_sha
    assert len(_events(audit, "score")) == before + 1  # scoring again always records a run


def _assert_ended(result: KillResult) -> None:
    # killed, or it finished before the kill; never a traceback, never an audit error
    assert result.returncode in (-9, 0), result.stderr
    assert "Traceback" not in result.stderr


# -- SIGKILL of the command line -------------------------------------------------------------


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    proc = Zygote(tmp_path_factory.mktemp("zygote"))
    yield proc
    proc.close()


RANDOM_KILLS = 8
PLAIN_KILLS = 2


def _sigkill_all(
    command: str,
    source: Path,
    args: list[str],
    prep: Prepared,
    tmp: Path,
    zygote: Zygote,
) -> tuple[list[tuple[Path, KillResult]], dict[str, list[Path]]]:
    """Kill the command on copies of ``source``: (1) ``python -m audit_kit`` at random times
    from its start, (2) forked children at random times (seeded) spread over the time an
    uninterrupted forked run takes (measured first, on another copy), (3) forked children just
    before each os.replace of the run (every step of the commit: journal, each rename,
    manifest)."""
    rnd = random.Random(f"{command}-8")
    whole = copy_audit(source, tmp / "uninterrupted")
    started_at = time.perf_counter()
    runs: list[tuple[Path, KillResult]] = [(whole, zygote.run([command, whole, *args]))]
    seconds = time.perf_counter() - started_at
    assert runs[0][1].returncode == 0, runs[0][1].stderr
    exact: dict[str, list[Path]] = {"replace": []}  # os.fsync: every k in-process, below
    plain = [copy_audit(source, tmp / f"plain-{i}") for i in range(PLAIN_KILLS)]
    delays = [rnd.uniform(0.5, 3.0) for _ in plain]
    with ThreadPoolExecutor(max_workers=PLAIN_KILLS) as pool:
        started = [
            pool.submit(kill_plain, [command, audit, *args], delay)
            for audit, delay in zip(plain, delays, strict=True)
        ]
        for i in range(RANDOM_KILLS):
            audit = copy_audit(source, tmp / f"random-{i}")
            # over the whole run, and (half of them) over its end, where the commit is; the
            # run time varies from run to run, so some of these land after it ended
            delay = rnd.uniform(0.0 if i % 2 else 0.75 * seconds, 1.5 * seconds)
            runs.append((audit, zygote.run([command, audit, *args], kill_after=delay)))
        for call, paths in exact.items():
            for k in range(1, prep.calls[command][call] + 1):
                audit = copy_audit(source, tmp / f"{call}-{k}")
                paths.append(audit)
                runs.append((audit, zygote.run([command, audit, *args], die=f"os.{call}:{k}")))
        runs.extend(zip(plain, (f.result() for f in started), strict=True))
    return runs, exact


def _assert_straddles(outcomes: dict[Path, str], exact: dict[str, list[Path]]) -> None:
    """The exact kill points cover the commit point: 'old' before it, 'new' after it."""
    for paths in exact.values():
        sequence = [outcomes[a] for a in paths]
        assert sequence == sorted(sequence, key=["old", "new"].index)
        assert set(sequence) == {"old", "new"}


def test_collect_survives_sigkill(prepared: Prepared, tmp_path: Path, zygote: Zygote) -> None:
    prep = prepared
    args = [str(prep.second_return)]
    runs, exact = _sigkill_all("collect", prep.baseline, args, prep, tmp_path, zygote)
    outcomes = {}
    for audit, result in runs:
        _assert_ended(result)
        if any(audit in paths for paths in exact.values()):
            assert result.killed
        outcomes[audit] = _collect_outcome(audit, prep)
        _rerun_collect(audit, prep)
    _assert_straddles(outcomes, exact)


def test_score_survives_sigkill(prepared: Prepared, tmp_path: Path, zygote: Zygote) -> None:
    prep = prepared
    runs, exact = _sigkill_all("score", prep.collected, [], prep, tmp_path, zygote)
    outcomes = {}
    for audit, result in runs:
        _assert_ended(result)
        if any(audit in paths for paths in exact.values()):
            assert result.killed
        outcomes[audit] = _score_outcome(audit, prep)
        _rerun_score(audit, prep)
    _assert_straddles(outcomes, exact)


def test_uninterrupted_cli_run_reaches_the_new_state(prepared: Prepared, tmp_path: Path) -> None:
    """The reference the kill tests compare with is what the command line itself produces."""
    audit = copy_audit(prepared.baseline, tmp_path / "audit")
    result = run_cli(["collect", audit, prepared.second_return])
    assert result.returncode == 0, result.stderr
    assert "accepted" in result.stdout and "superseded: unit" in result.stdout
    assert findings_state(audit) == prepared.new_findings
    _assert_clean(audit)


def _sample_outcome(out: Path) -> str:
    """'new' when the killed sample committed (a journal, or recorded artifacts), else 'old';
    looks at the files without opening the audit (a user just runs `sample` again)."""
    if (out / JOURNAL).is_file():
        return "new"
    manifest = out / "audit.json"
    return "new" if manifest.is_file() and json.loads(manifest.read_text())["artifacts"] else "old"


def test_sample_killed_anywhere_can_be_run_again_or_is_complete(
    tmp_path: Path, zygote: Zygote
) -> None:
    """A `sample` killed before its commit leaves no audit in the way: running it again (without
    --force) completes. Killed after its commit, the audit is complete and kept."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(demo_plan_text(per_stratum=2), "utf-8")
    universe = tmp_path / "universe.csv"
    write_universe(universe, rows=150, seed=3)

    def args(out: Path) -> list[Any]:
        return ["sample", "--plan", plan, "--universe", universe, "--out", out, "--quiet"]

    replaces = _count_calls(partial(sampling.draw_sample, plan, universe, tmp_path / "counted"))[
        "replace"
    ]
    started_at = time.perf_counter()
    assert zygote.run(args(tmp_path / "whole")).returncode == 0
    seconds = time.perf_counter() - started_at
    rnd = random.Random("sample-8")
    runs = [(tmp_path / f"random-{i}", rnd.uniform(0.0, 1.5 * seconds), None) for i in range(4)] + [
        (tmp_path / f"replace-{k}", None, f"os.replace:{k}") for k in range(1, replaces + 1)
    ]
    sequence = []
    for out, delay, die in runs:
        result = zygote.run(args(out), kill_after=delay, die=die)
        _assert_ended(result)
        outcome = _sample_outcome(out)
        if die is not None:
            assert result.killed
            sequence.append(outcome)
        again = run_main(args(out))
        assert again == (1 if outcome == "new" else 0)  # an audit is never replaced
        folder = _assert_clean(out)
        assert set(folder.artifacts()) == {"plan.yaml", "sampling.json", "sampling.txt",
                                           "sample.csv"}  # fmt: skip
        assert [e["command"] for e in folder.events] == ["sample"]
        assert folder.read_csv("sample.csv").equals(
            AuditFolder.open(tmp_path / "whole").read_csv("sample.csv")
        )
    assert sequence == sorted(sequence, key=["old", "new"].index)
    assert set(sequence) == {"old", "new"}


@pytest.mark.parametrize(
    ("extra", "replaced"),
    [
        ({}, True),  # killed between writing the manifest and the first commit
        ({".tmp-abc123-sample.csv": "staged"}, True),  # killed while staging
        ({"notes.txt": "mine"}, False),  # a user's file is never removed
        ({JOURNAL: "{}"}, False),  # a commit in flight: opening the audit completes it
    ],
)
def test_only_an_abandoned_creation_is_replaced_without_force(
    tmp_path: Path, extra: dict[str, str], replaced: bool
) -> None:
    folder = tmp_path / "a"
    first = AuditFolder.create(folder, name="first")
    for name, text in extra.items():
        (folder / name).write_text(text)
    if replaced:
        second = AuditFolder.create(folder, name="second")
        assert second.audit_id != first.audit_id
        assert [p.name for p in folder.iterdir()] == ["audit.json"]
    else:
        with pytest.raises(AuditError, match="non-empty folder"):
            AuditFolder.create(folder, name="second")
        assert json.loads((folder / "audit.json").read_text())["audit_id"] == first.audit_id
        assert all((folder / name).read_text() == text for name, text in extra.items())


def test_a_committed_audit_is_never_replaced_without_force(tmp_path: Path) -> None:
    first = AuditFolder.create(tmp_path / "a", name="first")
    with first.transaction("sample") as tx:
        tx.write_text("sample.csv", "unit_id\nE1\n")
    with pytest.raises(AuditError, match="non-empty folder"):
        AuditFolder.create(tmp_path / "a", name="second")
    assert AuditFolder.open(tmp_path / "a").has("sample.csv")


# -- faults injected in-process at every commit step -----------------------------------------


@pytest.mark.parametrize("call", ["replace", "fsync"])
def test_collect_fault_at_every_step(
    prepared: Prepared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    prep = prepared
    sequence = []
    for k in range(1, prep.calls["collect"][call] + 1):
        audit = copy_audit(prep.baseline, tmp_path / f"k{k}")
        wrapper, _ = crash_at(getattr(os, call), k)
        with monkeypatch.context() as m:
            m.setattr(os, call, wrapper)
            with pytest.raises(SimulatedCrash):
                findings.collect(audit, [prep.second_return])
        sequence.append(_collect_outcome(audit, prep))
        _rerun_collect(audit, prep)
    assert sequence == sorted(sequence, key=["old", "new"].index)
    assert set(sequence) == {"old", "new"}


@pytest.mark.parametrize("call", ["replace", "fsync"])
def test_score_fault_at_every_step(
    prepared: Prepared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    prep = prepared
    sequence = []
    for k in range(1, prep.calls["score"][call] + 1):
        audit = copy_audit(prep.collected, tmp_path / f"k{k}")
        wrapper, _ = crash_at(getattr(os, call), k)
        with monkeypatch.context() as m:
            m.setattr(os, call, wrapper)
            with pytest.raises(SimulatedCrash):
                scoring.score_audit(audit, results_workbook=results_workbook_bytes)
        sequence.append(_score_outcome(audit, prep))
        _rerun_score(audit, prep)
    assert sequence == sorted(sequence, key=["old", "new"].index)
    assert set(sequence) == {"old", "new"}


def test_fault_during_recovery_then_recovery(
    prepared: Prepared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash while rolling an interrupted commit forward is itself recovered from."""
    prep = prepared
    replaces = prep.calls["collect"]["replace"]
    rolled = 0
    for k in range(2, replaces + 1):  # from the first rename on, a journal is on disk
        audit = copy_audit(prep.baseline, tmp_path / f"k{k}")
        with monkeypatch.context() as m:
            m.setattr(os, "replace", crash_at(os.replace, k)[0])
            with pytest.raises(SimulatedCrash):
                findings.collect(audit, [prep.second_return])
        assert (audit / JOURNAL).is_file()
        with monkeypatch.context() as m:  # killed again, at the recovery's first rename
            m.setattr(os, "replace", crash_at(os.replace, 1)[0])
            with pytest.raises(SimulatedCrash):
                AuditFolder.open(audit)
        assert (audit / JOURNAL).is_file()
        assert _collect_outcome(audit, prep) == "new"
        _rerun_collect(audit, prep)
        rolled += 1
    assert rolled == replaces - 1


# -- relative paths through a commit ---------------------------------------------------------


def test_commands_commit_with_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`audit-kit sample --out audits/q3` (a relative folder, as in the docs) must commit.

    Regression: the transaction named its temporary files relative to the folder with
    Path.relative_to, which fails for a relative folder (mkstemp returns absolute paths): every
    command given a relative AUDIT_DIR ended in an internal error after staging its files.
    """
    monkeypatch.chdir(tmp_path)
    Path("plan.yaml").write_text(demo_plan_text(per_stratum=2), "utf-8")
    write_universe(Path("universe.csv"), rows=150, seed=3)
    assert (
        run_main(
            [
                "sample",
                "--plan",
                "plan.yaml",
                "--universe",
                "universe.csv",
                "--out",
                "audits/q3",
                "--quiet",
            ]
        )
        == 0
    )
    assert run_main(["workbooks", "audits/q3"]) == 0
    (returned,) = fill_workbooks(Path("audits/q3"), Path("returned"))
    assert run_main(["collect", "audits/q3", "returned"]) == 0
    assert run_main(["score", "audits/q3"]) == 0
    folder = _assert_clean(Path("audits/q3"))
    assert {"sample.csv", "findings.csv", "results.json"} <= set(folder.artifacts())
    assert [e["command"] for e in folder.events] == ["sample", "workbooks", "collect", "score"]
    assert run_main(["verify", "audits/q3", "--universe", "universe.csv"]) == 0
