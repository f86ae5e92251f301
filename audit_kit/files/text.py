"""Read a small text file a user gives (a plan, a password file, an assignment CSV)."""

from __future__ import annotations

from pathlib import Path

from audit_kit.errors import AuditError, InputError


def read_text(
    path: Path,
    *,
    summary: str,
    expected: str,
    fix: str,
    encoding: str = "utf-8",
    error: type[AuditError] = InputError,
) -> str:
    """Return the file's text; an unreadable file or bad encoding is one ``error``."""
    try:
        return path.read_text(encoding)
    except (OSError, UnicodeDecodeError) as exc:
        raise error.one(
            summary, where=str(path), expected=expected, found=type(exc).__name__, fix=fix
        ) from None
