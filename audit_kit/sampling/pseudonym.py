"""Pseudonymise protected health information with a keyed hash (HMAC-SHA256).

A value is replaced by ``PX-`` and the first 20 hex digits (80 bits) of
``HMAC-SHA256(key, "audit-kit/pseudonym/v1" NUL value)``, the value taken with surrounding
whitespace removed. The same key gives the same token in every audit, so a patient can be
followed across audits without being named; without the key the token cannot be reversed or
recomputed from a guessed name. The key lives in a file outside the audit folder (``--key-file``);
the audit records only its *fingerprint* (an HMAC of a fixed label), which shows whether two
audits used the same key without revealing it.

Make a key once and keep it with your other secrets::

    python -c "import secrets; print(secrets.token_hex(32))" > ~/.audit-kit/pseudonym.key
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import polars as pl

from audit_kit.errors import InputError, Problem

__all__ = ["MIN_KEY_BYTES", "key_fingerprint", "load_key", "pseudonymise", "token"]

MIN_KEY_BYTES = 16
_DOMAIN = b"audit-kit/pseudonym/v1\x00"
_PREFIX = "PX-"
_HEX_DIGITS = 20


def load_key(path: Path, *, audit_dir: Path | None = None) -> bytes:
    """Read a key file (its bytes, trailing newline removed); refuse a short key or one inside
    the audit folder."""
    path = Path(path)
    problems: list[Problem] = []
    if audit_dir is not None and _inside(path, audit_dir):
        problems.append(
            Problem(
                where=str(path),
                expected="a key file outside the audit folder",
                found="a key file inside it (it would travel with the audit)",
                fix="keep the key elsewhere, e.g. ~/.audit-kit/pseudonym.key.",
            )
        )
    try:
        key = path.read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        problems.append(
            Problem(
                where=str(path),
                expected="a readable key file",
                found=type(exc).__name__,
                fix="check the --key-file path.",
            )
        )
        key = b""
    else:
        if len(key) < MIN_KEY_BYTES:
            problems.append(
                Problem(
                    where=str(path),
                    expected=f"a key of at least {MIN_KEY_BYTES} bytes",
                    found=f"{len(key)} bytes",
                    fix='make one: python -c "import secrets; print(secrets.token_hex(32))" > KEY',
                )
            )
    if problems:
        raise InputError("The pseudonymisation key cannot be used.", problems)
    return key


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def token(value: str, key: bytes) -> str:
    """Return the pseudonym of one value."""
    digest = hmac.new(key, _DOMAIN + value.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return _PREFIX + digest[:_HEX_DIGITS]


def key_fingerprint(key: bytes) -> str:
    """Return a short, non-reversible identifier of the key (recorded in sampling.json)."""
    return hmac.new(key, b"audit-kit/key-fingerprint/v1", hashlib.sha256).hexdigest()[:16]


def pseudonymise(frame: pl.DataFrame, columns: list[str], key: bytes) -> pl.DataFrame:
    """Replace the given columns' values by their tokens (nulls and empty cells stay empty)."""
    out = frame
    for col in columns:
        if col not in out.columns:
            continue
        values = out[col].cast(pl.String)
        tokens = [None if v is None or not v.strip() else token(v, key) for v in values]
        out = out.with_columns(pl.Series(col, tokens, dtype=pl.String))
    return out
