"""Universes that live in a database or warehouse: DuckDB, PostgreSQL, Spark.

``--universe URL`` with ``--table NAME`` or ``--query SQL``. The sampling is pushed down:
the engine counts the frame per stratum (with the checks and the few aggregates the design
needs), audit-kit draws the frame numbers in Python exactly as for a file, and the engine
returns only the sampled rows, found by numbering each stratum in unit-id byte order. Python's
memory holds the strata and the sample, never the frame (O(n), not O(N)).

Modules: :mod:`.url` (URLs, credentials kept out), :mod:`.dialects` (the SQL that differs per
engine), :mod:`.frame_sql` (the queries), :mod:`.connections` (clients, one consistent state,
errors), :mod:`.fingerprint` (the content fingerprint, also of a file's frame).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_kit.errors import InputError, Problem
from audit_kit.sampling.engines.connections import Connection, connect
from audit_kit.sampling.engines.frame_sql import Kind
from audit_kit.sampling.engines.url import (
    SCHEMES,
    EngineURL,
    is_engine_url,
    parse_engine_url,
)

__all__ = [
    "SCHEMES",
    "EngineURL",
    "EngineUniverse",
    "is_engine_url",
    "open_engine",
    "parse_engine_url",
]


@dataclass(slots=True, kw_only=True)
class EngineUniverse:
    """An opened engine universe: the connection, the relation, its columns and kinds."""

    url: EngineURL
    connection: Connection
    table: str | None
    query: str | None
    relation: str  # SQL of the relation
    columns: tuple[str, ...]
    kinds: dict[str, Kind]
    notes: list[str] = field(default_factory=list)
    rows: int | None = None
    fingerprint: dict[str, Any] | None = None
    engine_version: str = ""

    @property
    def name(self) -> str:
        """How the universe is named in messages and the record (never with a password)."""
        what = f"table {self.table}" if self.table is not None else "query"
        return f"{what} in {self.url.shown}"

    @property
    def where(self) -> str:
        return f"{self.url.shown} ({'table ' + self.table if self.table else 'query'})"

    def describe(self) -> dict[str, Any]:
        """The universe part of the sampling record."""
        out: dict[str, Any] = {
            "file": None,
            "sha256": None,
            "rows": self.rows,
            "format": "database",
            "engine": self.connection.engine,
            "engine_version": self.engine_version,
            "url": self.url.shown,
            "table": self.table,
            "query": self.query,
            "consistency": self.connection.consistency,
            "column_types": {c: self.kinds[c] for c in self.columns},
        }
        if self.fingerprint is not None:
            out["fingerprint"] = self.fingerprint
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def close(self) -> None:
        self.connection.close()


def _read_password(path: Path) -> str:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise InputError(
            "Cannot read the password file.",
            [
                Problem(
                    where=str(path),
                    expected="a readable file holding the database password",
                    found=type(exc).__name__,
                    fix="check the path and its permissions (keep it readable by you only).",
                )
            ],
        ) from None
    password = text.splitlines()[0] if text.splitlines() else ""
    if not password:
        raise InputError(
            "The password file is empty.",
            [
                Problem(
                    where=str(path),
                    expected="the password on the first line",
                    found="an empty file",
                    fix="write the password into the file, or use PGPASSWORD / ~/.pgpass.",
                )
            ],
        )
    return password


def open_engine(
    url: str,
    *,
    table: str | None = None,
    query: str | None = None,
    password_file: Path | None = None,
) -> EngineUniverse:
    """Connect to the engine, start one consistent read, and describe the relation."""
    parsed = parse_engine_url(url)
    if (table is None) == (query is None):
        raise InputError(
            "A database universe needs a table or a query.",
            [
                Problem(
                    where="--table / --query",
                    expected="exactly one of --table NAME or --query 'SELECT ...'",
                    found="both" if table is not None else "neither",
                    fix="name the table holding the universe, or give a SELECT that yields it.",
                )
            ],
        )
    if password_file is not None and parsed.engine != "postgresql":
        raise InputError(
            "A password file was given for an engine that takes none.",
            [
                Problem(
                    where="--password-file",
                    expected="a postgresql:// universe",
                    found=parsed.shown,
                    fix="drop --password-file.",
                )
            ],
        )
    password = _read_password(password_file) if password_file is not None else None
    connection = connect(parsed, password=password)
    dialect = connection.dialect
    if query is not None:
        text = query.strip().rstrip(";").strip()
        relation = f"({text}) AS q"
    else:
        assert table is not None
        relation = dialect.table(table.strip())
    shown = f"table {table}" if table is not None else "query"
    try:
        connection.begin()
        described = connection.columns(relation)
        version = connection.version()
    except InputError:
        connection.close()
        raise
    except Exception as exc:  # every client has its own error classes
        missing = getattr(connection, "is_missing", lambda _: False)(exc)
        connection.close()
        if missing:
            raise InputError(
                "The table does not exist.",
                [
                    Problem(
                        where=f"{parsed.shown}: {shown}",
                        expected="a table or view the user can read",
                        found="no such table",
                        fix="check the name (schema.table; quoted names keep their case) and "
                        "the user's SELECT permission.",
                    )
                ],
            ) from None
        raise connection.query_error(exc, relation=shown) from None
    return EngineUniverse(
        url=parsed,
        connection=connection,
        table=table,
        query=query,
        relation=relation,
        columns=tuple(n for n, _ in described),
        kinds=dict(described),
        engine_version=version,
    )
