"""Engine URLs: which engine, where, and the URL as recorded (never with a password)."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from audit_kit.errors import InputError, Problem

EngineName = Literal["duckdb", "postgresql", "spark"]

#: How an engine URL starts; anything else passed as ``--universe`` is a file.
SCHEMES = ("duckdb://", "postgresql://", "postgres://", "spark:", "sc://")


def is_engine_url(text: str) -> bool:
    """True when ``text`` names a database or warehouse rather than a universe file."""
    return str(text).startswith(SCHEMES)


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineURL:
    """A parsed engine URL.

    ``target`` is what the engine's client is given: the DuckDB file, the libpq URI (without
    password), the Spark master or the Spark Connect address. ``shown`` is the URL as it may be
    recorded and printed: credentials are never part of it.
    """

    engine: EngineName
    target: str
    shown: str
    connect: bool = False  # Spark Connect


def _refuse_password(url: str) -> InputError:
    return InputError(
        "A password is part of the database URL.",
        [
            Problem(
                where="--universe",
                expected="postgresql://user@host:port/dbname, without a password",
                found="a URL with a password (not shown)",
                fix="remove the password from the URL; give it in PGPASSWORD, ~/.pgpass, a "
                "service file, or --password-file (a URL ends up in shell history and logs).",
            )
        ],
    )


def parse_engine_url(url: str) -> EngineURL:
    """Parse ``duckdb:///file``, ``postgresql://user@host:port/db``, ``spark:MASTER`` or
    ``sc://host:port``; raise :class:`InputError` for anything else."""
    if url.startswith("duckdb://"):
        rest = url[len("duckdb://") :]
        if not rest.startswith("/") or rest in ("/", "//"):
            raise InputError(
                "The DuckDB URL names no database file.",
                [
                    Problem(
                        where="--universe",
                        expected="duckdb:///relative/file.duckdb or duckdb:////absolute/file.duckdb",
                        found=url,
                        fix="three slashes before a relative path, four before an absolute one.",
                    )
                ],
            )
        path = rest[1:]  # duckdb:///a.duckdb -> a.duckdb; duckdb:////data/a -> /data/a
        return EngineURL(engine="duckdb", target=str(Path(path)), shown=url)
    if url.startswith(("postgresql://", "postgres://")):
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if parts.password is not None or any(k == "password" for k, _ in query):
            raise _refuse_password(url)
        return EngineURL(engine="postgresql", target=url, shown=url)
    if url.startswith("sc://"):
        return EngineURL(engine="spark", target=url, shown=url, connect=True)
    if url.startswith("spark:"):
        master = url[len("spark:") :]
        if not master:
            raise InputError(
                "The Spark URL names no master.",
                [
                    Problem(
                        where="--universe",
                        expected="spark:local[2], spark:spark://host:7077, spark:yarn, or "
                        "sc://host:port for Spark Connect",
                        found=url,
                        fix="add the master after spark:",
                    )
                ],
            )
        return EngineURL(engine="spark", target=master, shown=url)
    raise InputError(
        "Not a database URL.",
        [
            Problem(
                where="--universe",
                expected="a URL starting with " + ", ".join(SCHEMES),
                found=url,
                fix="see docs/databases.md for the URL of each engine.",
            )
        ],
    )


def with_password(target: str, password: str) -> str:
    """The libpq URI with ``password`` added as a query parameter (never shown)."""
    parts = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query.append(("password", password))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
