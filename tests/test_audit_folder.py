"""The audit folder: refuse overwrite, atomic transactions, hashes, event log, recovery."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import polars as pl
import pytest

from audit_kit.errors import AuditError, IntegrityError
from audit_kit.folder.manifest import JOURNAL, MANIFEST, AuditFolder, file_sha256, sha256_bytes


def test_create_writes_private_manifest(tmp_path: Path) -> None:
    folder = AuditFolder.create(tmp_path / "a", name="Q3 review")
    manifest = json.loads((tmp_path / "a" / MANIFEST).read_text())
    assert manifest["name"] == "Q3 review"
    assert manifest["audit_id"].startswith("AK-")
    assert manifest["artifacts"] == {} and manifest["events"] == []
    assert folder.audit_id == manifest["audit_id"]
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / MANIFEST).stat().st_mode) == 0o600


def test_non_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(AuditError) as info:
        AuditFolder.create(tmp_path, name="x")
    assert "non-empty" in info.value.summary
    assert str(tmp_path) in info.value.render()
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_force_replaces_only_audit_folders(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(AuditError, match="not an audit"):
        AuditFolder.create(tmp_path, name="x", force=True)
    assert (tmp_path / "notes.txt").exists()
    first = AuditFolder.create(tmp_path / "a", name="x")
    with first.transaction("sample") as tx:
        tx.write_text("sub/file.txt", "one")
    second = AuditFolder.create(tmp_path / "a", name="y", force=True)
    assert second.audit_id != first.audit_id or second.manifest["name"] == "y"
    assert not (tmp_path / "a" / "sub").exists()


def test_transaction_records_hashes_and_event(tmp_path: Path) -> None:
    folder = AuditFolder.create(tmp_path / "a", name="x")
    frame = pl.DataFrame({"unit_id": ["A1", "A2"], "paid": [10.5, 0.0]})
    with folder.transaction("sample", inputs={"universe.csv": "ab" * 32}, details={"n": 2}) as tx:
        tx.write_csv("sample.csv", frame)
        tx.write_json("sampling.json", {"n": 2})
    reopened = AuditFolder.open(tmp_path / "a")
    data = (tmp_path / "a" / "sample.csv").read_bytes()
    assert reopened.artifacts()["sample.csv"]["sha256"] == sha256_bytes(data)
    assert reopened.read_csv("sample.csv").equals(frame)
    assert reopened.read_json("sampling.json") == {"n": 2}
    (event,) = reopened.events
    assert event["command"] == "sample"
    assert event["seq"] == 1
    assert event["inputs"] == {"universe.csv": "ab" * 32}
    assert set(event["outputs"]) == {"sample.csv", "sampling.json"}
    assert event["details"] == {"n": 2}
    assert stat.S_IMODE((tmp_path / "a" / "sample.csv").stat().st_mode) == 0o600
    assert reopened.verify_hashes() == []


def test_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    folder = AuditFolder.create(tmp_path / "a", name="x")
    with folder.transaction("sample") as tx:
        tx.write_text("findings.csv", "old")
    before = (tmp_path / "a" / MANIFEST).read_bytes()
    with pytest.raises(RuntimeError), folder.transaction("collect") as tx:
        tx.write_text("findings.csv", "new")
        raise RuntimeError("boom")
    assert (tmp_path / "a" / "findings.csv").read_text() == "old"
    assert (tmp_path / "a" / MANIFEST).read_bytes() == before
    assert [p.name for p in (tmp_path / "a").iterdir() if p.name.startswith(".tmp-")] == []


def test_event_log_is_append_only(tmp_path: Path) -> None:
    folder = AuditFolder.create(tmp_path / "a", name="x")
    for i in range(3):
        with folder.transaction(f"step{i}") as tx:
            tx.write_text("findings.csv", str(i))
    events = AuditFolder.open(tmp_path / "a").events
    assert [e["command"] for e in events] == ["step0", "step1", "step2"]
    assert [e["seq"] for e in events] == [1, 2, 3]


def test_verify_names_changed_missing_and_unrecorded_files(tmp_path: Path) -> None:
    folder = AuditFolder.create(tmp_path / "a", name="x")
    with folder.transaction("sample") as tx:
        tx.write_text("sample.csv", "a,b\n1,2\n")
        tx.write_text("plan.yaml", "name: x\n")
    (tmp_path / "a" / "sample.csv").write_text("a,b\n1,3\n")
    (tmp_path / "a" / "plan.yaml").unlink()
    (tmp_path / "a" / "extra.txt").write_text("?")
    problems = AuditFolder.open(tmp_path / "a").verify_hashes()
    where = {Path(p.where).name: p.found for p in problems}
    assert "changed" in where["sample.csv"]
    assert where["plan.yaml"] == "no file"
    assert "did not write" in where["extra.txt"]


def test_hash_checked_read_refuses_edited_file(tmp_path: Path) -> None:
    folder = AuditFolder.create(tmp_path / "a", name="x")
    with folder.transaction("sample") as tx:
        tx.write_text("sample.csv", "a\n1\n")
    (tmp_path / "a" / "sample.csv").write_text("a\n2\n")
    with pytest.raises(IntegrityError) as info:
        AuditFolder.open(tmp_path / "a").read_bytes("sample.csv")
    assert "sample.csv" in info.value.render()


def test_missing_artifact_names_next_step(tmp_path: Path) -> None:
    folder = AuditFolder.create(tmp_path / "a", name="x")
    with pytest.raises(AuditError) as info:
        folder.read_bytes("findings.csv")
    assert "audit-kit collect" in info.value.render()


def test_open_non_audit_folder(tmp_path: Path) -> None:
    with pytest.raises(AuditError) as info:
        AuditFolder.open(tmp_path)
    assert "Not an audit folder" in info.value.summary


def _crash_after_journal(
    folder: AuditFolder, rel: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commit, but die right after the journal is written (as a killed command would)."""

    def die(self: AuditFolder) -> None:
        raise SystemExit(9)

    with monkeypatch.context() as patch:
        patch.setattr(AuditFolder, "_roll_forward", die)
        with pytest.raises(SystemExit), folder.transaction("collect") as tx:
            tx.write_text(rel, text)


def test_interrupted_commit_rolls_forward_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = AuditFolder.create(tmp_path / "a", name="x")
    with folder.transaction("sample") as tx:
        tx.write_text("findings.csv", "old")
    _crash_after_journal(folder, "findings.csv", "new", monkeypatch)
    assert (tmp_path / "a" / JOURNAL).exists()
    reopened = AuditFolder.open(tmp_path / "a")
    assert not (tmp_path / "a" / JOURNAL).exists()
    assert (tmp_path / "a" / "findings.csv").read_text() == "new"
    assert reopened.verify_hashes() == []
    assert reopened.events[-1]["command"] == "collect"


def test_stray_temporaries_are_discarded_on_open(tmp_path: Path) -> None:
    folder = AuditFolder.create(tmp_path / "a", name="x")
    with folder.transaction("sample") as tx:
        tx.write_text("findings.csv", "old")
    stray = tmp_path / "a" / ".tmp-abc-findings.csv"
    stray.write_text("half")
    reopened = AuditFolder.open(tmp_path / "a")
    assert not stray.exists()
    assert reopened.verify_hashes() == []
    assert file_sha256(tmp_path / "a" / "findings.csv") == sha256_bytes(b"old")


@pytest.mark.parametrize("rel", ["../escape.txt", "/etc/passwd", "audit.json"])
def test_artifact_paths_stay_inside(tmp_path: Path, rel: str) -> None:
    folder = AuditFolder.create(tmp_path / "a", name="x")
    with pytest.raises(ValueError), folder.transaction("x") as tx:
        tx.write_text(rel, "no")
    assert not (tmp_path / "escape.txt").exists()
    assert os.listdir(tmp_path / "a") == [MANIFEST]


def test_open_during_a_transaction_keeps_the_writers_staged_files(tmp_path: Path) -> None:
    # A reader (e.g. `audit-kit status`) opening the folder while a writer stages files must
    # not discard them, or the writer would record hashes of files that were never written.
    folder = AuditFolder.create(tmp_path / "a", name="x")
    with folder.transaction("collect") as tx:
        tx.write_text("findings.csv", "unit_id\nE1\n")
        AuditFolder.open(tmp_path / "a")
    reopened = AuditFolder.open(tmp_path / "a")
    assert reopened.verify_hashes() == []
    assert (tmp_path / "a" / "findings.csv").read_text() == "unit_id\nE1\n"


def test_two_writers_from_stale_handles_lose_nothing(tmp_path: Path) -> None:
    AuditFolder.create(tmp_path / "a", name="x")
    first = AuditFolder.open(tmp_path / "a")
    second = AuditFolder.open(tmp_path / "a")  # opened before `first` commits
    with first.transaction("workbooks") as tx:
        tx.write_text("workbooks/W1.xlsx", "one")
    with second.transaction("collect") as tx:
        tx.write_text("findings.csv", "two")
    final = AuditFolder.open(tmp_path / "a")
    assert set(final.artifacts()) == {"workbooks/W1.xlsx", "findings.csv"}
    assert [e["command"] for e in final.events] == ["workbooks", "collect"]
    assert final.verify_hashes() == []


def test_a_failed_staged_write_fails_the_commit_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Files are staged (written and fsynced) by threads; a write that fails there fails the
    # transaction as a write in the caller's thread would, and every staged file goes.
    import audit_kit.folder.manifest

    folder = AuditFolder.create(tmp_path / "a", name="x")
    manifest = (tmp_path / "a" / MANIFEST).read_bytes()
    real = audit_kit.folder.manifest._write_temp

    def full_disk(target: Path, data: bytes, **kwargs: object) -> Path:
        if target.name == "b.csv":
            raise OSError(28, "No space left on device")
        return real(target, data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(audit_kit.folder.manifest, "_write_temp", full_disk)
    with pytest.raises(OSError, match="No space"), folder.transaction("collect") as tx:
        for name in ("a.csv", "b.csv", "c.csv"):
            tx.write_text(f"returned/{name}", name)
    assert (tmp_path / "a" / MANIFEST).read_bytes() == manifest
    assert [p.name for p in (tmp_path / "a").rglob("*") if p.is_file()] == [MANIFEST]
    monkeypatch.setattr(audit_kit.folder.manifest, "_write_temp", real)
    with folder.transaction("collect") as tx:
        tx.write_text("returned/b.csv", "b")
    assert AuditFolder.open(tmp_path / "a").verify_hashes() == []
