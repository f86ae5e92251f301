"""Connections to the engines: run a query, get rows; one consistent state for all queries.

- DuckDB (core dependency): the database file opened read-only, one transaction.
- PostgreSQL (extra ``audit-kit[postgres]``): ADBC's libpq driver (Apache-2.0), so the
  password comes from libpq's usual places (``PGPASSWORD``, ``~/.pgpass``, service files)
  or ``--password-file``; one ``REPEATABLE READ READ ONLY`` transaction.
- Spark (extra ``audit-kit[spark]``): a SparkSession on any master, or Spark Connect.

Every failure becomes an :class:`~audit_kit.errors.InputError` without a traceback and
without the password; server messages are cut to their first line (they can quote SQL, never
rows: every value read is cast in SQL so that no cast can fail on a cell).
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from pathlib import Path
from typing import Any

from audit_kit.errors import InputError, Problem
from audit_kit.sampling.engines.dialects import (
    Dialect,
    DuckDBDialect,
    PostgresDialect,
    SparkDialect,
)
from audit_kit.sampling.engines.frame_sql import Kind
from audit_kit.sampling.engines.url import EngineURL, with_password

_NUMBER_TYPES = re.compile(
    r"^(tinyint|smallint|integer|int|bigint|hugeint|utinyint|usmallint|uinteger|ubigint|"
    r"uhugeint|int2|int4|int8|byte|short|long|float|float4|float8|double|double precision|"
    r"real|decimal|numeric)\b",
    re.IGNORECASE,
)
_DATE_TYPES = re.compile(r"^(date|timestamp)", re.IGNORECASE)


def kind_of(type_name: str) -> Kind:
    """Number, date or text, from an engine's type name (``DECIMAL(12,2)``, ``date``...)."""
    name = type_name.strip()
    if _NUMBER_TYPES.match(name):
        return "number"
    if _DATE_TYPES.match(name):
        return "date"
    return "text"


def _first_line(message: str, secret: str | None = None) -> str:
    line = next((s.strip() for s in str(message).splitlines() if s.strip()), "")
    if secret:
        line = line.replace(secret, "***")
    return line[:300]


def _missing_extra(engine: str, extra: str, module: str) -> InputError:
    return InputError(
        f"The {engine} client is not installed.",
        [
            Problem(
                where="--universe",
                expected=f"the Python package {module} (audit-kit's extra [{extra}])",
                found="not installed",
                fix=f"pip install 'audit-kit[{extra}]'",
            )
        ],
    )


class Connection:
    """One engine connection. Subclasses run SQL; :meth:`rows` returns tuples."""

    engine = "sql"
    dialect: Dialect = Dialect()
    #: How census and fetch see one state (recorded).
    consistency = ""

    def __init__(self, url: EngineURL) -> None:
        self.url = url

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def columns(self, relation: str) -> list[tuple[str, Kind]]:
        raise NotImplementedError

    def begin(self) -> None:
        """Start reading one consistent state (transaction or snapshot)."""

    def close(self) -> None:
        """End the transaction (nothing is ever written) and the connection."""

    def version(self) -> str:
        return ""

    def query_error(self, exc: Exception, *, relation: str) -> InputError:
        return InputError(
            f"The {self.engine} query failed.",
            [
                Problem(
                    where=f"{self.url.shown}: {relation}",
                    expected="a table or query audit-kit can read",
                    found=f"{type(exc).__name__}: {_first_line(str(exc))}",
                    fix="check the table or query, and that the user may SELECT from it "
                    "(docs/databases.md lists the queries audit-kit runs).",
                )
            ],
        )


# -- DuckDB ----------------------------------------------------------------------------------


class DuckDBConnection(Connection):
    engine = "duckdb"
    dialect = DuckDBDialect()
    consistency = "one read-only transaction on a database opened read-only"

    def __init__(self, url: EngineURL) -> None:
        super().__init__(url)
        import duckdb

        path = Path(url.target)
        if not path.is_file():
            raise InputError(
                "The DuckDB database does not exist.",
                [
                    Problem(
                        where=f"--universe {url.shown}",
                        expected="an existing DuckDB database file",
                        found=f"no file {path}",
                        fix="check the path: duckdb:///relative.duckdb (three slashes) or "
                        "duckdb:////absolute/path.duckdb (four).",
                    )
                ],
            )
        try:
            self.con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise InputError(
                "Cannot open the DuckDB database.",
                [
                    Problem(
                        where=f"--universe {url.shown}",
                        expected="a DuckDB database file that can be opened read-only",
                        found=_first_line(str(exc)),
                        fix="check that it is a DuckDB file of a compatible version and that no "
                        "other process holds it open for writing.",
                    )
                ],
            ) from None
        self.con.execute("SET default_collation = 'binary'")
        # DuckDB draws its progress bar on stdout, which --json keeps for one JSON document.
        self.con.execute("SET enable_progress_bar = false")
        self._duckdb = duckdb

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def columns(self, relation: str) -> list[tuple[str, Kind]]:
        described = self.con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        return [(str(r[0]), kind_of(str(r[1]))) for r in described]

    def begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def close(self) -> None:
        with contextlib.suppress(self._duckdb.Error):
            self.con.execute("ROLLBACK")
        self.con.close()

    def version(self) -> str:
        return f"DuckDB {self._duckdb.__version__}"

    def is_missing(self, exc: Exception) -> bool:
        return isinstance(exc, self._duckdb.CatalogException)


# -- PostgreSQL ------------------------------------------------------------------------------


class PostgresConnection(Connection):
    engine = "postgresql"
    dialect = PostgresDialect()
    consistency = "one REPEATABLE READ READ ONLY transaction"

    def __init__(self, url: EngineURL, *, password: str | None = None) -> None:
        super().__init__(url)
        if importlib.util.find_spec("adbc_driver_postgresql") is None:
            raise _missing_extra("PostgreSQL", "postgres", "adbc-driver-postgresql")
        import adbc_driver_manager
        import adbc_driver_postgresql

        self._password = password
        self._dm = adbc_driver_manager
        target = with_password(url.target, password) if password else url.target
        try:
            self._db = adbc_driver_postgresql.connect(target)
            self.con = adbc_driver_manager.AdbcConnection(self._db)
        except adbc_driver_manager.Error as exc:
            raise self._connect_error(exc) from None

    def _connect_error(self, exc: Exception) -> InputError:
        message = _first_line(str(exc), self._password)
        low = str(exc).lower()
        where = f"--universe {self.url.shown}"
        if "password" in low or "authentication" in low or "no password supplied" in low:
            return InputError(
                "The PostgreSQL server refused the credentials.",
                [
                    Problem(
                        where=where,
                        expected="a user and password the server accepts",
                        found=message,
                        fix="check the user in the URL and the password in PGPASSWORD, "
                        "~/.pgpass, the service file or --password-file (never in the URL).",
                    )
                ],
            )
        if "does not exist" in low:
            return InputError(
                "The PostgreSQL server has no such database or user.",
                [
                    Problem(
                        where=where,
                        expected="an existing database and role",
                        found=message,
                        fix="check the database name and user in the URL.",
                    )
                ],
            )
        return InputError(
            "Cannot reach the PostgreSQL server.",
            [
                Problem(
                    where=where,
                    expected="a PostgreSQL server accepting connections there",
                    found=message,
                    fix="check host, port (or the socket folder in ?host=) and that the server "
                    "runs and accepts this client (pg_hba.conf, firewall).",
                )
            ],
        )

    def _statement(self, sql: str) -> Any:
        stmt = self._dm.AdbcStatement(self.con)
        stmt.set_sql_query(sql)
        return stmt

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        import polars as pl

        stmt = self._statement(sql)
        try:
            stream, _ = stmt.execute_query()
            frame = pl.DataFrame(stream)
        finally:
            stmt.close()
        return frame.rows()

    def _execute(self, sql: str) -> None:
        stmt = self._statement(sql)
        try:
            stmt.execute_update()
        finally:
            stmt.close()

    def columns(self, relation: str) -> list[tuple[str, Kind]]:
        import polars as pl

        stmt = self._statement(f"SELECT * FROM {relation} LIMIT 0")
        try:
            stream, _ = stmt.execute_query()
            names = pl.DataFrame(stream).columns
        finally:
            stmt.close()
        if not names:
            return []
        types = ", ".join(
            f"pg_typeof({self.dialect.ident(n)})::text AS t{i}" for i, n in enumerate(names)
        )
        found = self.rows(f"SELECT {types} FROM {relation} AS q LIMIT 1")
        if not found:
            return [(n, "text") for n in names]
        return [(n, kind_of(str(t))) for n, t in zip(names, found[0], strict=True)]

    def begin(self) -> None:
        self._execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def close(self) -> None:
        with contextlib.suppress(self._dm.Error):
            self._execute("ROLLBACK")
        self.con.close()
        self._db.close()

    def version(self) -> str:
        found = self.rows("SELECT current_setting('server_version')")
        return f"PostgreSQL {found[0][0]}" if found else "PostgreSQL"

    def is_missing(self, exc: Exception) -> bool:
        return "42P01" in str(exc) or "does not exist" in str(exc)


# -- Spark -----------------------------------------------------------------------------------


class SparkConnection(Connection):
    engine = "spark"
    consistency = (
        "Spark reads the relation once per query: census and fetch are checked to see the same "
        "stratum sizes (pin a table version, e.g. a Delta or Iceberg snapshot, for a moving table)"
    )

    def __init__(self, url: EngineURL) -> None:
        super().__init__(url)
        if importlib.util.find_spec("pyspark") is None:
            raise _missing_extra("Spark", "spark", "pyspark")
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        self._owned = active is None
        try:
            if active is not None:
                self.spark = active
            elif url.connect:
                self.spark = SparkSession.builder.remote(url.target).getOrCreate()
            else:
                self.spark = (
                    SparkSession.builder.master(url.target).appName("audit-kit").getOrCreate()
                )
        except Exception as exc:  # py4j / grpc errors have no common base
            raise InputError(
                "Cannot start or reach Spark.",
                [
                    Problem(
                        where=f"--universe {url.shown}",
                        expected="a Spark master or Spark Connect server audit-kit can use",
                        found=f"{type(exc).__name__}: {_first_line(str(exc))}",
                        fix="check the master URL and that Java 17 or later is installed "
                        "(docs/spark.md).",
                    )
                ],
            ) from None
        if self._owned and not url.connect:
            self.spark.sparkContext.setLogLevel("OFF")  # errors are reported by audit-kit
        major = int(str(self.spark.version).split(".")[0])
        self.dialect = SparkDialect(collations=major >= 4)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.spark.sql(sql).collect()]

    def columns(self, relation: str) -> list[tuple[str, Kind]]:
        schema = self.spark.sql(f"SELECT * FROM {relation} LIMIT 0").schema
        return [(f.name, kind_of(f.dataType.simpleString())) for f in schema.fields]

    def close(self) -> None:
        if self._owned:
            self.spark.stop()

    def version(self) -> str:
        return f"Spark {self.spark.version}"

    def is_missing(self, exc: Exception) -> bool:
        return "TABLE_OR_VIEW_NOT_FOUND" in str(exc) or "PATH_NOT_FOUND" in str(exc)


def connect(url: EngineURL, *, password: str | None = None) -> Connection:
    """Open a connection to the engine the URL names."""
    if url.engine == "duckdb":
        return DuckDBConnection(url)
    if url.engine == "postgresql":
        return PostgresConnection(url, password=password)
    return SparkConnection(url)
