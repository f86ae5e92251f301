"""The audit folder: manifest, hashes, atomic multi-file commits, event log, verify.

One audit is one folder. Every artifact is recorded in ``audit.json`` with its SHA-256, and every
command that changes the folder appends one event (command, time, tool version, inputs by hash,
outputs). Changes are made in *transactions*: all new files are first written to temporary files
next to their targets and fsynced; then a journal naming the renames and the new manifest is
written atomically; then the renames happen and the manifest is replaced. A command killed at any
point therefore leaves either the previous state (no journal: temporaries are discarded on the
next open) or the new one (journal present: the next open rolls it forward). Files are 0600 and
folders 0700 where the OS allows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from audit_kit._version import __version__
from audit_kit.errors import AuditError, IntegrityError, Problem
from audit_kit.files.atomic import (
    TEMP_PREFIX,
    atomic_write_bytes,
    file_sha256,
    sha256_bytes,
)
from audit_kit.files.atomic import fsync_dir as _fsync_dir
from audit_kit.files.atomic import mkdir_private as _mkdir_private
from audit_kit.files.atomic import write_temp as _write_temp

if TYPE_CHECKING:
    # polars is imported where a frame is read, keeping `audit-kit --help` fast
    import polars as pl

    from audit_kit.folder.results import Results
    from audit_kit.folder.sampling_record import SamplingRecord
    from audit_kit.folder.workbook_record import WorkbookLayout
    from audit_kit.plan import SamplingPlan

__all__ = [
    "MANIFEST",
    "AuditFolder",
    "Transaction",
    "atomic_write_bytes",
    "file_sha256",
    "now_iso",
    "sha256_bytes",
]

MANIFEST = "audit.json"
JOURNAL = ".audit-journal.json"
FORMAT = "audit-kit/1"
#: Threads that write and fsync a transaction's staged files. fsync waits on the disk, not the
#: CPU, and a journalling filesystem commits concurrent fsyncs together: 50 staged files take
#: about the time of a few fsyncs instead of 50 in a row.
STAGING_THREADS = 8


def now_iso() -> str:
    """Return the current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@contextlib.contextmanager
def _folder_lock(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive advisory lock on the audit folder itself; yield whether it was had.

    The lock is taken on the directory's own file descriptor (no lock file that would need
    recording), so one writer at a time commits and a reader never discards the staged files of
    a writer at work. Where the OS has no ``flock`` (Windows) the lock is a no-op.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield True
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


def _compact_json_bytes(obj: Any) -> bytes:
    """The manifest and the journal: one line, by json's C encoder (``indent`` is pure Python)."""
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


@dataclass(frozen=True, slots=True)
class _Staged:
    """A file being written to its temporary path (by a staging thread) and its record."""

    write: Future[Path]
    sha256: str
    size: int
    kind: str


@dataclass(slots=True)
class Transaction:
    """A set of files and one event, committed to the audit folder all at once or not at all.

    Staged files are written and fsynced by a few threads while the caller goes on; the commit
    waits for every one of them before its journal names them, so a committed transaction
    still only ever refers to files that are on disk. A failed write fails the commit (and is
    discarded with the other staged files), wherever it happened.
    """

    folder: AuditFolder
    command: str
    inputs: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    _pending: dict[str, _Staged] = field(default_factory=dict)
    _made: set[Path] = field(default_factory=set)
    _created: list[Path] = field(default_factory=list)  # folders that did not exist, deepest first
    _pool: ThreadPoolExecutor | None = None
    _cancelled: bool = False

    def write_bytes(
        self, rel: str, data: bytes, *, kind: str = "artifact", sha256: str | None = None
    ) -> str:
        """Stage a file (path relative to the audit folder); return its SHA-256.

        ``sha256`` is the data's SHA-256 when the caller has just computed it (it is recorded
        as given: it must be that of ``data``).
        """
        rel = _clean_rel(rel)
        target = self.folder.path / rel
        if rel in self._pending:
            _remove_staged(self._pending.pop(rel))
        if target.parent not in self._made:  # created here: the staging threads only write
            missing = target.parent
            while not missing.exists():
                self._created.append(missing)
                missing = missing.parent
            _mkdir_private(target.parent)
            self._made.add(target.parent)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(STAGING_THREADS, thread_name_prefix="audit-kit-stage")
        write = self._pool.submit(_write_temp, target, data, made=self._made)
        digest = sha256_bytes(data) if sha256 is None else sha256
        self._pending[rel] = _Staged(write=write, sha256=digest, size=len(data), kind=kind)
        return digest

    def write_text(self, rel: str, text: str, *, kind: str = "artifact") -> str:
        return self.write_bytes(rel, text.encode("utf-8"), kind=kind)

    def write_json(self, rel: str, obj: Any, *, kind: str = "artifact") -> str:
        return self.write_bytes(rel, _json_bytes(obj), kind=kind)

    def write_csv(self, rel: str, frame: pl.DataFrame, *, kind: str = "artifact") -> str:
        buffer = io.BytesIO()
        frame.write_csv(buffer)
        return self.write_bytes(rel, buffer.getvalue(), kind=kind)

    def discard(self) -> None:
        """Remove the staged files (waiting for the writes still in progress) and the folders
        made for them."""
        for staged in self._pending.values():
            _remove_staged(staged)
        self._pending.clear()
        self._close_pool()
        for folder in self._created:
            with contextlib.suppress(OSError):  # not empty: another file is there
                folder.rmdir()
        self._created.clear()

    def cancel(self) -> None:
        """End the transaction without committing anything: no file, no event."""
        self.discard()
        self._cancelled = True

    def _settle(self) -> dict[str, Path]:
        """Wait until every staged file is written and fsynced; return their temporary paths.

        On any failure (or an interrupt while waiting) every staged file is discarded and the
        first error raised.
        """
        try:
            temps = {rel: staged.write.result() for rel, staged in self._pending.items()}
        except BaseException:
            self.discard()
            raise
        self._close_pool()
        return temps

    def _close_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def commit(self) -> None:
        """Wait for the staged files; journal, rename, replace the manifest (module docstring)."""
        temps = self._settle()
        # A copy of the parts this commit changes (it only adds artifacts and one event), so
        # that the folder's manifest stays as it was if the commit fails.
        current = self.folder.manifest
        manifest = {
            **current,
            "artifacts": dict(current.get("artifacts", {})),
            "events": list(current.get("events", [])),
        }
        stamp = now_iso()
        renames: list[tuple[str, str]] = []
        for rel, staged in sorted(self._pending.items()):
            manifest["artifacts"][rel] = {
                "sha256": staged.sha256,
                "bytes": staged.size,
                "kind": staged.kind,
                "written_at": stamp,
            }
            # The temporary file sits beside its target; name it relative to the audit folder
            # from ``rel`` (mkstemp returns an absolute path even for a relative folder path).
            renames.append(((PurePosixPath(rel).parent / temps[rel].name).as_posix(), rel))
        events = manifest["events"]
        events.append(
            {
                "seq": len(events) + 1,
                "command": self.command,
                "at": stamp,
                "tool_version": __version__,
                "inputs": dict(self.inputs),
                "outputs": {rel: self._pending[rel].sha256 for rel in sorted(self._pending)},
                "details": self.details,
            }
        )
        journal = {"renames": renames, "manifest": manifest}
        atomic_write_bytes(self.folder.path / JOURNAL, _compact_json_bytes(journal))
        self.folder._roll_forward()
        self._pending.clear()


def _remove_staged(staged: _Staged) -> None:
    """Wait for a staged write to end and remove its temporary file (a failed write left none)."""
    if staged.write.exception() is not None:  # _write_temp removed its own file
        return
    with contextlib.suppress(OSError):
        staged.write.result().unlink()


def _clean_rel(rel: str) -> str:
    path = Path(rel)
    if path.is_absolute() or ".." in path.parts or rel in (MANIFEST, JOURNAL):
        raise ValueError(f"not an artifact path inside the audit folder: {rel!r}")
    return path.as_posix()


class AuditFolder:
    """An audit folder on disk. Create with :meth:`create`, open with :meth:`open`."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest

    # -- lifecycle -------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, *, name: str, force: bool = False) -> AuditFolder:
        """Start a new audit in an empty (or absent) folder; a non-empty one is refused.

        A folder left by a creation killed before its first commit (a manifest without
        artifacts or events, staged temporaries) holds no audit and counts as empty, so that the
        interrupted command can simply be run again.
        """
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise AuditError.one(
                "Cannot create the audit folder.",
                where=str(path),
                expected="a folder (or a path that does not exist yet)",
                found="a file",
                fix="choose another --out path.",
            )
        if path.exists() and any(path.iterdir()) and _abandoned_creation(path):
            # A creation killed before its first commit left nothing of value behind.
            _remove_audit_tree(path)
        if path.exists() and any(path.iterdir()):
            if not force:
                raise AuditError.one(
                    "Refusing to write into a non-empty folder.",
                    where=str(path),
                    expected="an empty or new folder (an audit is never overwritten)",
                    found=_entries(sum(1 for _ in path.iterdir())),
                    fix="choose a new --out folder, or move the old audit away.",
                )
            if not (path / MANIFEST).is_file():
                raise AuditError.one(
                    "Refusing to replace a folder that is not an audit.",
                    where=str(path),
                    expected=f"an audit folder with {MANIFEST} (only those are replaced)",
                    found="other files",
                    fix="choose a new --out folder.",
                )
            _remove_audit_tree(path)
        _mkdir_private(path)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "audit_id": f"AK-{dt.datetime.now(dt.UTC):%Y%m%d}-{secrets.token_hex(4)}",
            "name": name,
            "created_at": now_iso(),
            "tool_version": __version__,
            "artifacts": {},
            "events": [],
        }
        atomic_write_bytes(path / MANIFEST, _compact_json_bytes(manifest))
        _fsync_dir(path)
        return cls(path, manifest)

    @classmethod
    def open(cls, path: Path) -> AuditFolder:
        """Open an existing audit, finishing or discarding an interrupted commit first."""
        path = Path(path)
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            raise AuditError.one(
                "Not an audit folder.",
                where=str(path),
                expected=f"a folder made by `audit-kit sample` (with {MANIFEST})",
                found="no manifest" if path.is_dir() else "no such folder",
                fix="pass the folder given to `audit-kit sample --out`.",
            )
        folder = cls(path, {})
        folder._recover()
        try:
            folder.manifest = json.loads(manifest_path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise IntegrityError.one(
                "The audit manifest is unreadable.",
                where=str(manifest_path),
                expected="the JSON manifest written by audit-kit",
                found=type(exc).__name__,
                fix="restore audit.json from your archive copy.",
            ) from None
        return folder

    def _recover(self) -> None:
        with _folder_lock(self.path, blocking=False) as locked:
            if locked:  # else another process is committing: its files are not ours to touch
                self._recover_locked()

    def _recover_locked(self) -> None:
        if (self.path / JOURNAL).is_file():
            self._roll_forward()
        for tmp in self.path.rglob(TEMP_PREFIX + "*"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _reload(self) -> None:
        self.manifest = json.loads((self.path / MANIFEST).read_text("utf-8"))

    def _roll_forward(self) -> None:
        journal_path = self.path / JOURNAL
        journal = json.loads(journal_path.read_text("utf-8"))
        touched: set[Path] = set()
        for tmp_rel, rel in journal["renames"]:
            tmp = self.path / tmp_rel
            if tmp.exists():
                os.replace(tmp, self.path / rel)
                touched.add((self.path / rel).parent)
        # One directory fsync per folder, not per file: the journal already makes this durable
        # step repeatable, so it only has to be done before the manifest is replaced.
        for folder in sorted(touched):
            _fsync_dir(folder)
        atomic_write_bytes(self.path / MANIFEST, _compact_json_bytes(journal["manifest"]))
        self.manifest = journal["manifest"]
        journal_path.unlink()
        _fsync_dir(self.path)

    # -- reading ---------------------------------------------------------------------------
    @property
    def audit_id(self) -> str:
        return str(self.manifest["audit_id"])

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("events", []))

    def has(self, rel: str) -> bool:
        return rel in self.manifest.get("artifacts", {})

    def artifacts(self) -> Mapping[str, Mapping[str, Any]]:
        return dict(self.manifest.get("artifacts", {}))

    def file(self, rel: str) -> Path:
        return self.path / rel

    def read_bytes(self, rel: str) -> bytes:
        """Read a recorded artifact, refusing one whose hash no longer matches the manifest."""
        record = self.manifest.get("artifacts", {}).get(rel)
        if record is None:
            raise AuditError.one(
                "A step of the audit has not been run yet.",
                where=str(self.path / rel),
                expected="an artifact recorded in audit.json",
                found="none",
                fix=_next_step_hint(rel),
            )
        data = (self.path / rel).read_bytes() if (self.path / rel).is_file() else b""
        if sha256_bytes(data) != record["sha256"]:
            raise IntegrityError.one(
                "An audit artifact was changed outside audit-kit.",
                where=str(self.path / rel),
                expected=f"SHA-256 {record['sha256']}",
                found=f"SHA-256 {sha256_bytes(data)}",
                fix="restore the file from your archive; audit files are never edited.",
            )
        return data

    def read_json(self, rel: str) -> Any:
        return json.loads(self.read_bytes(rel))

    def read_csv(self, rel: str, **kwargs: Any) -> pl.DataFrame:
        import polars as pl

        return pl.read_csv(io.BytesIO(self.read_bytes(rel)), **kwargs)

    # -- typed readers of the audit's own files (hash-checked) ------------------------------
    def read_plan(self, *, source: str = "plan.yaml") -> SamplingPlan:
        """Return plan.yaml as a checked :class:`SamplingPlan` (``source`` names it in errors)."""
        from audit_kit.plan import parse_plan_text

        return parse_plan_text(self.read_bytes("plan.yaml").decode("utf-8"), source=source)

    def read_sampling(self) -> SamplingRecord:
        """Return sampling.json as the typed sampling record."""
        from audit_kit.folder.sampling_record import SamplingRecord

        return SamplingRecord.model_validate_json(self.read_bytes("sampling.json"))

    def read_results(self) -> Results:
        """Return results.json as the typed results (a file of another version is refused)."""
        from audit_kit.folder.results import read_results

        return read_results(self.read_bytes("results.json"))

    def read_sample(self) -> pl.DataFrame:
        """Return sample.csv, every column as text exactly as sampling wrote it."""
        return self.read_csv("sample.csv", infer_schema=False)

    def read_layouts(self) -> dict[str, WorkbookLayout]:
        """Return every issued workbook's recorded layout (workbooks/<id>.json), by id."""
        from audit_kit.folder.workbook_record import WorkbookLayout

        layouts: dict[str, WorkbookLayout] = {}
        for rel in sorted(self.artifacts()):
            if rel.startswith("workbooks/") and rel.endswith(".json"):
                layout = WorkbookLayout.from_dict(self.read_json(rel))
                layouts[layout.workbook_id] = layout
        return layouts

    def read_findings(self, rel: str = "findings.csv") -> pl.DataFrame:
        """Return findings.csv (or double_review.csv), every column as text."""
        return self.read_csv(rel, infer_schema=False)

    # -- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(
        self,
        command: str,
        *,
        inputs: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Iterator[Transaction]:
        """Stage writes and commit them with one event; on any exception (or
        :meth:`Transaction.cancel`) nothing changes.

        The folder is locked for the whole transaction, and the manifest re-read under the
        lock, so two commands run at once commit one after the other and lose nothing; a
        command that reads the folder's state inside the transaction reads it as its commit
        will find it.
        """
        with _folder_lock(self.path):
            self._recover_locked()
            self._reload()
            tx = Transaction(self, command, dict(inputs or {}), dict(details or {}))
            try:
                yield tx
            except BaseException:
                tx.discard()
                raise
            if not tx._cancelled:
                tx.commit()

    # -- verification ----------------------------------------------------------------------
    def filled_in_place(self) -> dict[str, str]:
        """Issued workbooks an auditor filled in place and that were then collected.

        ``workbooks/<id>.xlsx`` changed since it was issued, and its content now is a return
        stored under ``returned/`` (by its SHA-256): the audit lost nothing, the workbook as
        issued is gone (its layout and row hashes stay in ``workbooks/<id>.json``).
        Returns workbook -> the stored return, both relative to the folder.
        """
        recorded = self.manifest.get("artifacts", {})
        out: dict[str, str] = {}
        for rel, record in sorted(recorded.items()):
            if not (rel.startswith("workbooks/") and rel.endswith(".xlsx")):
                continue
            target = self.path / rel
            if not target.is_file():
                continue
            digest = file_sha256(target)
            if digest != record["sha256"] and f"returned/{digest}.xlsx" in recorded:
                out[rel] = f"returned/{digest}.xlsx"
        return out

    def verify_hashes(self) -> list[Problem]:
        """Return one problem per missing, changed or unrecorded file.

        A workbook filled in place and collected (:meth:`filled_in_place`) is not a problem.
        """
        problems: list[Problem] = []
        recorded = self.manifest.get("artifacts", {})
        in_place = self.filled_in_place()
        for rel, record in sorted(recorded.items()):
            if rel in in_place:
                continue
            target = self.path / rel
            if not target.is_file():
                problems.append(
                    Problem(
                        where=str(target),
                        expected=f"the recorded file (SHA-256 {record['sha256'][:16]}...)",
                        found="no file",
                        fix="restore it from your archive copy of the audit.",
                    )
                )
                continue
            digest = file_sha256(target)
            if digest != record["sha256"]:
                problems.append(
                    Problem(
                        where=str(target),
                        expected=f"SHA-256 {record['sha256']}",
                        found=f"SHA-256 {digest} (the file was changed)",
                        fix=(
                            "if an auditor filled this workbook in place, collect it "
                            f"(`audit-kit collect {self.path} {target}`); otherwise restore it "
                            "from your archive copy: audit files are never edited."
                        )
                        if rel.startswith("workbooks/") and rel.endswith(".xlsx")
                        else "restore it from your archive copy; audit files are never edited.",
                    )
                )
        for path in sorted(self.path.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(self.path).as_posix()
            if rel in (MANIFEST,) or rel in recorded:
                continue
            problems.append(
                Problem(
                    where=str(path),
                    expected="only files recorded in audit.json",
                    found="a file audit-kit did not write",
                    fix="move it out of the audit folder (keep notes beside it, not inside).",
                )
            )
        return problems


def _next_step_hint(rel: str) -> str:
    steps = {
        "sample.csv": "run `audit-kit sample` first.",
        "sampling.json": "run `audit-kit sample` first.",
        "findings.csv": "run `audit-kit collect AUDIT_DIR RETURNED_WORKBOOKS...` first.",
        "results.json": "run `audit-kit score AUDIT_DIR` first.",
    }
    return steps.get(rel, "run the earlier steps of the audit first (see `audit-kit status`).")


def _abandoned_creation(path: Path) -> bool:
    """True for a folder left by a creation killed before its first commit.

    That is: a manifest with no artifact and no event (or only the manifest's own temporary
    file, when the kill came before it was renamed), no journal, and otherwise only audit-kit's
    staged temporaries. Such a folder holds no audit, so a new one may be created in it; anything
    else (a journal, a recorded artifact, an event, any other file or folder) keeps it refused.
    """
    try:
        entries = list(path.iterdir())
        if any(not p.is_file() or p.is_symlink() for p in entries):
            return False
        names = {p.name for p in entries}
        if any(n != MANIFEST and not n.startswith(TEMP_PREFIX) for n in names):
            return False
        if MANIFEST not in names:
            return all(n.endswith("-" + MANIFEST) for n in names)
        manifest = json.loads((path / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(manifest, dict)
        and manifest.get("format") == FORMAT
        and manifest.get("artifacts") == {}
        and manifest.get("events") == []
    )


def _remove_audit_tree(path: Path) -> None:
    for child in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if child.is_dir() and not child.is_symlink():
            child.rmdir()
        else:
            child.unlink()


def _entries(n: int) -> str:
    return "1 entry" if n == 1 else f"{n} entries"
