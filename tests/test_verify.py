"""verify_audit: hashes always; with the universe, a re-draw proves sample.csv identical."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import pytest
import yaml
from conftest import plan_dict, universe_rows, write_csv

from audit_kit.errors import IntegrityError
from audit_kit.sampling import draw_sample, verify_audit


@pytest.fixture
def audit(tmp_path: Path) -> tuple[Path, Path]:
    universe = write_csv(tmp_path / "universe.csv", universe_rows(300, coders=3))
    plan = tmp_path / "plan.yaml"
    data = plan_dict(
        design={"method": "stratified", "strata": {"by": ["coder"]}},
        size={"per_stratum": 8},
        spares=2,
        rng={"generator": "ratstats"},  # seed generated and written into plan.yaml
    )
    plan.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    draw_sample(plan, universe, tmp_path / "audit")
    return tmp_path / "audit", universe


def failing_files(audit_dir: Path, universe: Path | None = None) -> list[str]:
    with pytest.raises(IntegrityError) as info:
        verify_audit(audit_dir, universe)
    return [p.where for p in info.value.problems]


def test_untouched_audit_verifies(audit: tuple[Path, Path]) -> None:
    folder, universe = audit
    report = verify_audit(folder)
    assert report.files_checked == 4 and not report.redrawn
    report = verify_audit(folder, universe)
    assert report.redrawn and report.units == 30 and report.strata == 3
    assert report.to_dict()["sample_identical"] is True


def test_a_shuffled_export_of_the_same_universe_redraws_the_same_sample(
    audit: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, universe = audit
    lines = universe.read_text("utf-8").splitlines(keepends=True)
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text(lines[0] + "".join(reversed(lines[1:])), "utf-8")
    # Another file (another SHA-256) with the same rows: same frame, same sample, so verify
    # passes and says it was the same data in another file.
    report = verify_audit(folder, shuffled)
    assert report.redrawn
    assert any(n.startswith("Same data, other file: shuffled.csv") for n in report.notes)


@pytest.mark.parametrize("name", ["sample.csv", "plan.yaml", "sampling.json", "sampling.txt"])
def test_any_edit_fails_naming_the_file(audit: tuple[Path, Path], name: str) -> None:
    folder, universe = audit
    path = folder / name
    path.write_bytes(path.read_bytes() + b" ")
    assert failing_files(folder) == [str(path)]
    assert str(path) in failing_files(folder, universe)


def test_deleted_and_foreign_files_are_named(audit: tuple[Path, Path]) -> None:
    folder, _ = audit
    (folder / "sampling.txt").unlink()
    (folder / "notes.txt").write_text("mine")
    assert failing_files(folder) == [str(folder / "sampling.txt"), str(folder / "notes.txt")]


def test_a_resampled_sample_with_fixed_hashes_fails_the_redraw(audit: tuple[Path, Path]) -> None:
    folder, universe = audit
    sample = folder / "sample.csv"
    lines = sample.read_text("utf-8").splitlines(keepends=True)
    # Swap the frame numbers of two rows and re-hash, as someone rewriting the record would.
    lines[1], lines[2] = lines[2], lines[1]
    data = "".join(lines).encode("utf-8")
    sample.write_bytes(data)
    manifest = json.loads((folder / "audit.json").read_text("utf-8"))
    manifest["artifacts"]["sample.csv"]["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "audit.json").write_text(json.dumps(manifest), "utf-8")
    assert verify_audit(folder).files_checked == 4  # the hashes alone no longer see it
    with pytest.raises(IntegrityError) as info:
        verify_audit(folder, universe)
    (problem,) = info.value.problems
    assert problem.where == str(sample)
    assert problem.found.startswith("2 rows differ, e.g. row 2 (unit ")


def test_another_universe_is_named(audit: tuple[Path, Path], tmp_path: Path) -> None:
    folder, _ = audit
    other = write_csv(tmp_path / "other.csv", universe_rows(300, coders=3, seed=9))
    wheres = failing_files(folder, other)
    assert wheres == [str(other), str(folder / "sample.csv")]


def test_verify_pseudonymised_audit(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    key.write_text("an example key of enough length\n")
    universe = write_csv(tmp_path / "u.csv", universe_rows(80))
    plan = tmp_path / "p.yaml"
    plan.write_text(yaml.safe_dump(plan_dict(pseudonymise=True)), "utf-8")
    draw_sample(plan, universe, tmp_path / "a", key_file=key)
    report = verify_audit(tmp_path / "a", universe)
    assert "were not compared" in report.notes[0]
    assert verify_audit(tmp_path / "a", universe, key_file=key).notes == ()
    other = tmp_path / "other.key"
    other.write_text("another key, also long enough\n")
    with pytest.raises(IntegrityError) as info:
        verify_audit(tmp_path / "a", universe, key_file=other)
    assert info.value.problems[0].where == str(other)


def _verify_events(audit_dir: Path) -> list[dict[str, object]]:
    manifest = json.loads((audit_dir / "audit.json").read_text("utf-8"))
    return [e for e in manifest["events"] if e["command"] == "verify"]


def test_a_successful_verification_is_recorded_as_an_event(audit: tuple[Path, Path]) -> None:
    folder, universe = audit
    verify_audit(folder)
    verify_audit(folder, universe)
    first, second = _verify_events(folder)
    assert first["details"] == {"redrawn": False, "universe_sha256": None, "hashes_checked": 4}
    digest = hashlib.sha256(universe.read_bytes()).hexdigest()
    assert second["details"] == {"redrawn": True, "universe_sha256": digest, "hashes_checked": 4}
    assert second["inputs"] == {universe.name: digest} and second["outputs"] == {}
    # The event adds no file: the folder still verifies, with the same artifacts.
    assert verify_audit(folder).files_checked == 4
    with pytest.raises(IntegrityError):
        (folder / "sample.csv").write_text("edited", "utf-8")
        verify_audit(folder)
    assert len(_verify_events(folder)) == 3  # a failed verification records nothing


def test_a_read_only_archive_still_verifies_and_says_it_was_not_recorded(
    audit: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, universe = audit
    before = (folder / "audit.json").read_bytes()
    modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
    for path in modes:
        path.chmod(0o500 if path.is_dir() else 0o400)
    if os.geteuid() == 0:  # root writes through file modes: fail writes as a read-only mount does
        import audit_kit.files.atomic
        import audit_kit.folder.manifest

        def read_only(*args: object, **kwargs: object) -> None:
            raise OSError(errno.EROFS, "Read-only file system")

        # every write goes through one temp-file writer (staged files and the manifest)
        monkeypatch.setattr(audit_kit.folder.manifest, "_write_temp", read_only)
        monkeypatch.setattr(audit_kit.files.atomic, "write_temp", read_only)
    try:
        report = verify_audit(folder, universe)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert report.redrawn and report.units == 30
    assert any("could not be recorded" in note for note in report.notes)
    assert (folder / "audit.json").read_bytes() == before
    assert not list(folder.glob(".*"))  # no journal or temporary file left behind
