"""Durable, atomic writes of single files, and file hashes.

A file is written to a fsynced temporary file beside its target (mode 0600), then renamed over
it, and the folder is fsynced: a reader sees the old file or the new one, never a part. The
audit folder's transactions (:mod:`audit_kit.folder.manifest`) stage their files this way;
``init`` writes a plan and ``demo`` its inputs with :func:`atomic_write_bytes`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

#: Temporary files start with this (a crashed write leaves one; the audit folder cleans up).
TEMP_PREFIX = ".tmp-"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """Hash a file in chunks (universe files can be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    # Directory fsync makes the rename itself durable; not available on every OS.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def mkdir_private(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        path.chmod(0o700)


def write_temp(target: Path, data: bytes, *, made: set[Path] | None = None) -> Path:
    """Write data to a fsynced 0600 temporary file beside target and return its path.

    ``made`` holds the folders already created (and made private) by the caller, so that a
    transaction staging many files into one folder creates and chmods it once.
    """
    if made is None or target.parent not in made:
        mkdir_private(target.parent)
        if made is not None:
            made.add(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix="-" + target.name, dir=target.parent)
    try:
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write one file atomically (temp file in the same folder, fsync, rename), mode 0600."""
    tmp = write_temp(target, data)
    os.replace(tmp, target)
    fsync_dir(target.parent)
