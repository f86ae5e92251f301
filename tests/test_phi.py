"""Protected health information and secrets across the whole cycle (issue 8, docs/security.md).

A whole audit runs on synthetic data with fake patients (``Testpatient Alpha-00017``, MRN
``FAKE-0000017``) through the command line -- init, sample, workbooks, the simulated auditors,
collect, score, report, status, verify -- capturing everything the commands print. Then every
file of the audit folder is searched (raw bytes, every xlsx zip member, PDF text, metadata and
attachments) together with the captured output:

* patient names and MRNs appear only in the universe file and in sample.csv (the plan keeps
  them there); never in a workbook (the plan does not list them), a finding, a result, a report,
  the manifest or a message;
* with ``patient`` and the MRN listed in ``workbook.columns`` they do reach the workbook, and the
  same search finds them (so a clean search means something);
* with ``pseudonymise: true`` keyed HMAC tokens replace them in every artifact, sample.csv
  included; the same key gives the same tokens in another audit, another key other tokens; a key
  file inside the audit folder is refused;
* a workbook password given with ``--password-file`` never appears in the audit folder or in
  any output, through an encrypted round trip workbooks -> Excel -> collect -> score.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from crash_helpers import (
    Captured,
    decrypt_xlsx,
    encrypt_xlsx_bytes,
    files_under,
    fill_by_header,
    run_captured,
    search_file,
    search_tree,
    sheet_table,
)

from audit_kit.demo import simulation
from audit_kit.demo.example_data import generate_universe
from audit_kit.folder.manifest import AuditFolder
from audit_kit.sampling import pseudonym

CODERS = ["C01", "C05", "C10"]  # one inpatient, one outpatient, one professional coder
#: Any fake patient name or MRN of the example universe.
PHI_PATTERNS = [re.compile(r"testpatient", re.IGNORECASE), re.compile(r"fake-\d{7}", re.IGNORECASE)]
SEED = "20260501"  # the init plan has no seed; a fixed one keeps every run the same
CFB_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


@dataclass
class Cycle:
    base: Path
    universe: Path
    plan: Path
    audit: Path
    frame: pl.DataFrame
    runs: list[Captured] = field(default_factory=list)  # every CLI run of the module
    core: list[Captured] = field(default_factory=list)  # the runs of the whole cycle

    def cli(self, *argv: Any, expect: int = 0) -> Captured:
        result = run_captured(argv)
        self.runs.append(result)
        assert result.code == expect, result.text
        return result


def _universe(base: Path) -> tuple[Path, pl.DataFrame]:
    frame = generate_universe(400, seed=23).filter(pl.col("coder_id").is_in(CODERS))
    path = base / "inputs" / "universe.csv"
    path.parent.mkdir(parents=True)
    frame.write_csv(path)
    return path, frame


def _init_plan(cycle: Cycle, *, per_stratum: int = 5, **changes: Any) -> Path:
    """`audit-kit init` writes the plan for the universe; the test shrinks the sample and applies
    ``changes`` (top-level keys, or ``workbook_columns``)."""
    raw = cycle.base / "inputs" / "init-plan.yaml"
    if not raw.exists():
        cycle.cli("init", "--universe", cycle.universe, "--out", raw)
    data = yaml.safe_load(raw.read_text("utf-8"))
    data["size"] = {"per_stratum": per_stratum}
    extra_columns = changes.pop("workbook_columns", [])
    data["workbook"]["columns"] = [*data["workbook"]["columns"], *extra_columns]
    data.update(changes)
    path = cycle.base / "inputs" / f"plan-{secrets.token_hex(3)}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return path


def _phi_hits_outside(root: Path, allowed: set[str]) -> dict[str, list[str]]:
    return {
        rel: [str(h) for h in hits]
        for rel, hits in search_tree(root, PHI_PATTERNS).items()
        if rel not in allowed
    }


def _output_hits(runs: Sequence[Captured], needles: Sequence[Any]) -> list[str]:
    hits = []
    for run in runs:
        for needle in needles:
            pattern = needle if isinstance(needle, re.Pattern) else re.compile(re.escape(needle))
            if pattern.search(run.text):
                hits.append(f"{pattern.pattern!r} in the output of {' '.join(run.argv[:2])}")
    return hits


def _sample_column(audit: Path, column: str) -> dict[str, str]:
    sample = AuditFolder.open(audit).read_csv("sample.csv", infer_schema=False)
    return dict(zip(sample["encounter_id"], sample[column], strict=True))


# -- the whole cycle, plain plan -------------------------------------------------------------


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> Cycle:
    base = tmp_path_factory.mktemp("phi")
    universe, frame = _universe(base)
    c = Cycle(base=base, universe=universe, plan=base, audit=base / "audit", frame=frame)
    c.plan = _init_plan(c)
    c.cli("sample", "--plan", c.plan, "--universe", universe, "--out", c.audit, "--seed", SEED)
    c.cli("workbooks", c.audit, "--auditors", "ann,bob")
    returned = base / "inputs" / "returned"
    c.runs.append(
        run_captured(
            ["simulation.fill_workbooks"], lambda: simulation.fill_workbooks(c.audit, returned)
        )
    )
    c.cli("collect", c.audit, returned)
    c.cli("score", c.audit)
    c.cli("report", c.audit)
    c.cli("status", c.audit)
    c.cli("verify", c.audit, "--universe", universe)
    c.cli("score", c.audit, "--json")
    c.core = list(c.runs)
    return c


def test_init_never_lists_patient_columns_for_the_workbook(cycle: Cycle) -> None:
    plan = yaml.safe_load((cycle.base / "inputs" / "init-plan.yaml").read_text("utf-8"))
    columns = plan["columns"]
    assert columns["patient"] == "patient_name"
    assert "mrn" in columns["phi"]
    listed = set(plan["workbook"]["columns"])
    assert not listed & {"patient", "patient_name", "mrn", *columns["phi"]}


def test_patient_identifiers_only_in_universe_and_sample(cycle: Cycle) -> None:
    files = files_under(cycle.audit)
    # the search covers every kind of artifact of a finished audit
    for expected in (
        "audit.json",
        "plan.yaml",
        "sampling.json",
        "sampling.txt",
        "sample.csv",
        "workbooks/W1-ann.xlsx",
        "workbooks/W1-bob.xlsx",
        "findings.csv",
        "results.json",
        "results.xlsx",
        "report.pdf",
        "attestation.pdf",
    ):
        assert expected in files
    assert sum(f.startswith("returned/") for f in files) == 2
    assert sum(f.startswith("coders/") and f.endswith(".pdf") for f in files) == len(CODERS)

    # the captured output is real: progress on stderr, summaries on stdout
    by_command = {r.argv[0]: r for r in cycle.core}
    assert "Sampled" in by_command["sample"].stdout and "..." in by_command["sample"].stderr
    assert "accepted" in by_command["collect"].stdout
    assert "OK:" in by_command["verify"].stdout

    assert _phi_hits_outside(cycle.audit, allowed={"sample.csv"}) == {}
    assert search_tree(cycle.base / "inputs" / "returned", PHI_PATTERNS) == {}
    assert _output_hits(cycle.core, PHI_PATTERNS) == []
    # the universe holds them, and sample.csv too: the plan keeps patient and mrn there
    assert {h.needle for h in search_file(cycle.universe, PHI_PATTERNS)} == {
        p.pattern for p in PHI_PATTERNS
    }
    names = _sample_column(cycle.audit, "patient_name")
    mrns = _sample_column(cycle.audit, "mrn")
    sample_hits = search_file(
        cycle.audit / "sample.csv", list(names.values()) + list(mrns.values())
    )
    assert len({h.needle for h in sample_hits}) == len(set(names.values()) | set(mrns.values()))


def test_the_pdf_search_reads_the_reports(cycle: Cycle) -> None:
    """A clean PDF search means something: the extracted text has the report's own content."""
    results = AuditFolder.open(cycle.audit).read_json("results.json")
    assert results["errors"]
    unit = results["errors"][0]["unit_id"]
    found = {h.part for h in search_file(cycle.audit / "report.pdf", [unit])}
    assert "pdf text" in found
    for coder in CODERS:
        assert any(
            h.part == "pdf text" for h in search_file(cycle.audit / f"coders/{coder}.pdf", [coder])
        )


def test_listed_patient_columns_reach_the_workbook_and_are_found(
    cycle: Cycle, tmp_path: Path
) -> None:
    plan = _init_plan(cycle, per_stratum=3, workbook_columns=["patient", "mrn"])
    audit = tmp_path / "listed"
    cycle.cli(
        "sample", "--plan", plan, "--universe", cycle.universe, "--out", audit, "--seed", SEED
    )
    cycle.cli("workbooks", audit)
    names = _sample_column(audit, "patient_name")
    mrns = _sample_column(audit, "mrn")
    book = audit / "workbooks" / "W1-all.xlsx"
    hits = search_file(book, [*names.values(), *mrns.values()])
    assert {h.needle for h in hits} == {re.escape(v) for v in [*names.values(), *mrns.values()]}
    assert any(h.part.startswith("xl/") for h in hits)  # found inside the zip's XML

    # An auditor overwrites a patient name: the rejection names the cell, never the values.
    wb, ws, cols, rows = sheet_table(book)
    unit = next(iter(rows))
    ws.cell(row=rows[unit], column=cols["patient_name"]).value = "Testpatient Omega-99999"
    ws.cell(row=rows[unit], column=cols["Review status"]).value = "reviewed"
    ws.cell(row=rows[unit], column=cols["Review date"]).value = "2026-04-20"
    ws.cell(row=rows[unit], column=cols["Auditor"]).value = "ann"
    returned = tmp_path / "returned.xlsx"
    wb.save(returned)
    run = cycle.cli("collect", audit, returned, expect=1)
    assert f"{returned}, Sample!" in run.stderr and "changed" in run.stderr
    assert _output_hits([run], PHI_PATTERNS) == []


# -- pseudonymisation ------------------------------------------------------------------------


@dataclass
class Pseudo:
    plan: Path
    key1: Path
    key2: Path
    first: Path
    second: Path
    other: Path
    runs: list[Captured]


@pytest.fixture(scope="module")
def pseudo(cycle: Cycle, tmp_path_factory: pytest.TempPathFactory) -> Pseudo:
    base = tmp_path_factory.mktemp("pseudo")
    keys = base / "keys"
    keys.mkdir()
    key1, key2 = keys / "one.key", keys / "two.key"
    key1.write_text(secrets.token_hex(32) + "\n")
    key2.write_text(secrets.token_hex(32) + "\n")
    plan = _init_plan(cycle, pseudonymise=True, workbook_columns=["patient", "mrn"])
    runs_before = len(cycle.runs)
    audits = {name: base / name for name in ("first", "second", "other")}
    for name, key in (("first", key1), ("second", key1), ("other", key2)):
        cycle.cli(
            "sample",
            "--plan",
            plan,
            "--universe",
            cycle.universe,
            "--out",
            audits[name],
            "--key-file",
            key,
            "--seed",
            SEED,  # one sample for all three: the same units, tokens compared per unit
        )
        cycle.cli("workbooks", audits[name], "--auditors", "ann,bob")
    returned = base / "returned"
    simulation.fill_workbooks(audits["first"], returned)
    cycle.cli("collect", audits["first"], returned)
    cycle.cli("score", audits["first"])
    cycle.cli("verify", audits["first"], "--universe", cycle.universe, "--key-file", key1)
    return Pseudo(plan, key1, key2, *audits.values(), runs=cycle.runs[runs_before:])


def test_pseudonyms_replace_patient_columns_everywhere(cycle: Cycle, pseudo: Pseudo) -> None:
    for audit in (pseudo.first, pseudo.second, pseudo.other):
        assert _phi_hits_outside(audit, allowed=set()) == {}
    assert _output_hits(pseudo.runs, PHI_PATTERNS) == []
    key = pseudonym.load_key(pseudo.key1)
    real = {
        row["encounter_id"]: row
        for row in cycle.frame.select("encounter_id", "patient_name", "mrn").to_dicts()
    }
    for column in ("patient_name", "mrn"):
        tokens = _sample_column(pseudo.first, column)
        assert tokens and all(t == pseudonym.token(real[u][column], key) for u, t in tokens.items())
        # the auditors' workbooks carry the tokens where the plan lists the columns
        books = sorted((pseudo.first / "workbooks").glob("*.xlsx"))
        found = {h.needle for b in books for h in search_file(b, list(tokens.values()))}
        assert found == {re.escape(t) for t in tokens.values()}
    # the key itself is nowhere in the audit or the output
    secret = pseudo.key1.read_text().strip()
    assert search_tree(pseudo.first, [secret]) == {}
    assert _output_hits(pseudo.runs, [secret]) == []


def test_same_key_same_tokens_other_key_other_tokens(pseudo: Pseudo) -> None:
    for column in ("patient_name", "mrn"):
        first = _sample_column(pseudo.first, column)
        assert _sample_column(pseudo.second, column) == first
        other = _sample_column(pseudo.other, column)
        assert other.keys() == first.keys()
        assert all(other[u] != first[u] for u in first)
    # everything else of the sample is the same
    drop = ["patient_name", "mrn"]
    samples = [
        AuditFolder.open(a).read_csv("sample.csv", infer_schema=False).drop(drop)
        for a in (pseudo.first, pseudo.other)
    ]
    assert samples[0].equals(samples[1])


def test_verify_with_the_wrong_key_fails(cycle: Cycle, pseudo: Pseudo) -> None:
    run = cycle.cli(
        "verify", pseudo.first, "--universe", cycle.universe, "--key-file", pseudo.key2, expect=1
    )
    assert str(pseudo.key2) in run.stderr and "fingerprint" in run.stderr
    assert "Traceback" not in run.stderr


def test_key_file_inside_the_audit_folder_is_refused(
    cycle: Cycle, pseudo: Pseudo, tmp_path: Path
) -> None:
    audit = pseudo.second
    before = AuditFolder.open(audit).manifest
    inside = audit / "pseudonym.key"
    inside.write_bytes(pseudo.key1.read_bytes())
    link = tmp_path / "looks-outside.key"
    link.symlink_to(inside)
    try:
        for key in (inside, link):
            run = cycle.cli(
                "sample",
                "--plan",
                pseudo.plan,
                "--universe",
                cycle.universe,
                "--out",
                audit,
                "--force",
                "--key-file",
                key,
                expect=1,
            )
            assert "outside the audit folder" in run.stderr and str(key) in run.stderr
            run = cycle.cli(
                "verify", audit, "--universe", cycle.universe, "--key-file", key, expect=1
            )
            assert "outside the audit folder" in run.stderr
    finally:
        inside.unlink()
    folder = AuditFolder.open(audit)  # the refused --force did not touch the audit
    assert folder.manifest == before
    assert folder.verify_hashes() == []


# -- an encrypted round trip -----------------------------------------------------------------


def test_workbook_password_never_leaks(cycle: Cycle, tmp_path: Path) -> None:
    password = "Tr0ub4dor&3 correct-horse-" + secrets.token_hex(4)
    secret = tmp_path / "secrets" / "workbook-password.txt"
    secret.parent.mkdir()
    secret.write_text(password + "\n", "utf-8")
    plan = _init_plan(cycle, per_stratum=3)
    audit = tmp_path / "audit"
    runs = [
        cycle.cli(
            "sample", "--plan", plan, "--universe", cycle.universe, "--out", audit, "--seed", SEED
        ),
        cycle.cli("workbooks", audit, "--auditors", "ann", "--password-file", secret, "--json"),
    ]
    issued = audit / "workbooks" / "W1-ann.xlsx"
    assert issued.read_bytes()[:8] == CFB_MAGIC  # really encrypted
    # the auditor opens it with the password, fills it and saves it encrypted again
    filled = fill_by_header(
        decrypt_xlsx(issued.read_bytes(), password), tmp_path / "filled.xlsx", auditor="ann"
    ).read_bytes()
    (tmp_path / "filled.xlsx").unlink()
    returned = tmp_path / "returned" / "W1-ann.xlsx"
    returned.parent.mkdir()
    returned.write_bytes(encrypt_xlsx_bytes(filled, password))
    # without the password: refused, naming the file, no traceback
    refused = cycle.cli("collect", audit, returned, expect=1)
    assert f"{returned}: expected" in refused.stderr and "password" in refused.stderr
    assert "Traceback" not in refused.stderr
    run = cycle.cli("collect", audit, returned, "--password-file", secret)
    assert "accepted" in run.stdout
    runs += [refused, run]
    runs.append(cycle.cli("score", audit))
    runs.append(cycle.cli("status", audit, "--json"))
    runs.append(cycle.cli("verify", audit, "--universe", cycle.universe))

    folder = AuditFolder.open(audit)
    stored = [rel for rel in folder.artifacts() if rel.startswith("returned/")]
    assert len(stored) == 1 and (audit / stored[0]).read_bytes() == returned.read_bytes()
    assert folder.read_csv("findings.csv").height > 0
    needles = [password, password.encode("utf-16-le").decode("latin-1")]
    assert search_tree(audit, needles) == {}
    assert _output_hits(runs, needles) == []
    # the search would have found it: it is in the password file
    assert search_file(secret, needles)
    assert io.BytesIO(returned.read_bytes()).read(8) == CFB_MAGIC
