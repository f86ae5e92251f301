"""Universes in engines: the same data give the same sample from a file, DuckDB, PostgreSQL
and Spark; the fingerprint is equal across engines; verify catches a one-cent change.

Real engines, no mocks: a PostgreSQL server started for the run (tests/pg_server.py) and one
local Spark session for the whole module.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pg_server
import pytest
import warehouse_data as wd
import yaml
from click.testing import CliRunner

from audit_kit.cli import cli
from audit_kit.errors import InputError, IntegrityError
from audit_kit.sampling import draw_sample, verify_audit

ROWS = 240

STRATIFIED: dict[str, Any] = {
    "design": {
        "method": "stratified",
        "strata": {
            "by": ["coder"],
            "dollar_bands": {"column": "paid", "edges": [0, 100, 1000]},
            "certainty": {"column": "paid", "at_least": 8500},
        },
    },
    "size": {"total": {"total": 36, "allocation": "neyman"}},
    "spares": 2,
    "frame": {
        "filters": [
            {"column": "setting", "op": "in", "value": ["inpatient", "outpatient"]},
            {"column": "paid", "op": ">", "value": 0},
            {"column": "service_date", "op": ">=", "value": "2026-01-15"},
        ]
    },
    "rng": {"generator": "pcg64", "seed": 20261202},
}
SIMPLE: dict[str, Any] = {
    "design": {"method": "simple"},
    "size": {"n": 25},
    "spares": 3,
    "rng": {"generator": "ratstats", "seed": 48863.78},
}


def write_plan(path: Path, design: dict[str, Any]) -> Path:
    plan = {"name": "Warehouse test", "objective": "engines", "sampling_unit": "claim"}
    plan["columns"] = dict(wd.PLAN_COLUMNS)
    plan.update(design)
    text = yaml.safe_dump(plan, sort_keys=False).replace("'2026-01-15'", "2026-01-15")
    path.write_text(text, "utf-8")
    return path


@pytest.fixture(scope="module")
def pg() -> Iterator[pg_server.Server]:
    server = pg_server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("audit-kit-tests")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", pg_server.PASSWORD)


class Universes:
    """One data set as a CSV, a DuckDB table, a PostgreSQL table and a Parquet file."""

    def __init__(self, root: Path, data: list[dict[str, Any]], pg: pg_server.Server, name: str):
        self.root = root
        self.csv = wd.write_csv(root / f"{name}.csv", data)
        self.duckdb = wd.duckdb_table(root / f"{name}.duckdb", data)
        self.parquet = root / f"{name}.parquet"
        con = duckdb.connect(str(self.duckdb), read_only=True)
        con.execute(f"COPY claims TO '{self.parquet}' (FORMAT parquet)")
        con.close()
        self.table = name
        # ICU-collated text columns: their own order is not byte order.
        pg.psql(
            "-c",
            f'DROP TABLE IF EXISTS {name}; CREATE TABLE {name} ("Claim ID" text COLLATE '
            '"und-x-icu", coder text COLLATE "und-x-icu", provider text, service_date date, '
            "setting text, paid numeric(12, 2))",
        )
        pg.psql("-c", f"\\copy {name} FROM '{self.csv}' WITH (FORMAT csv, HEADER true)")
        self.pg_url = pg.url


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, pg: pg_server.Server) -> Universes:
    root = tmp_path_factory.mktemp("warehouse")
    root.chmod(0o755)
    return Universes(root, wd.rows(ROWS), pg, "mixed")


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory, pg: pg_server.Server) -> Universes:
    root = tmp_path_factory.mktemp("warehouse-digits")
    root.chmod(0o755)
    return Universes(root, wd.rows(ROWS, seed=11, digits_only=True), pg, "digits")


def _record(audit: Path) -> dict[str, Any]:
    record = json.loads((audit / "sampling.json").read_text("utf-8"))
    for key in ("audit", "universe", "created_at"):
        record.pop(key)
    return dict(record)


def _draw_all(u: Universes, plan: Path, out: Path) -> dict[str, Path]:
    runs = {
        "csv": (u.csv, {}),
        "duckdb": (f"duckdb:///{u.duckdb}", {"table": "claims"}),
        "postgresql": (u.pg_url, {"table": u.table}),
        "spark": ("spark:local[1]", {"table": f"parquet.`{u.parquet}`"}),
    }
    audits = {}
    for name, (source, options) in runs.items():
        draw_sample(plan, source, out / name, **options)  # type: ignore[arg-type]
        audits[name] = out / name
    return audits


@pytest.mark.parametrize("design", ["stratified", "simple"])
def test_same_sample_from_file_duckdb_postgresql_spark(
    design: str, mixed: Universes, digits: Universes, spark: Any, tmp_path: Path
) -> None:
    universes = mixed if design == "stratified" else digits
    plan = write_plan(tmp_path / "plan.yaml", STRATIFIED if design == "stratified" else SIMPLE)
    audits = _draw_all(universes, plan, tmp_path)
    samples = {k: (a / "sample.csv").read_bytes() for k, a in audits.items()}
    assert len(set(samples.values())) == 1, [k for k in samples if samples[k] != samples["csv"]]
    records = {k: _record(a) for k, a in audits.items()}
    for name, record in records.items():
        assert record == records["csv"], name
    fingerprints = {
        k: json.loads((a / "sampling.json").read_text())["universe"]["fingerprint"]
        for k, a in audits.items()
        if k != "csv"
    }
    assert len({f["digest"] for f in fingerprints.values()}) == 1
    units = sum(s["rows"] for s in fingerprints["duckdb"]["strata"])
    assert units == records["csv"]["frame"]["size"]
    lines = samples["csv"].decode().splitlines()
    assert len(lines) - 1 == records["csv"]["sample_size"]["n"] + records["csv"]["spares"]["total"]


def test_order_rule_and_icu_collation_matter(digits: Universes, mixed: Universes, pg: Any) -> None:
    import adbc_driver_manager as dm
    import adbc_driver_postgresql
    import polars as pl

    db = adbc_driver_postgresql.connect(pg.url + f"&password={pg_server.PASSWORD}")
    con = dm.AdbcConnection(db)

    def ids(sql: str) -> list[str]:
        stmt = dm.AdbcStatement(con)
        stmt.set_sql_query(sql)
        stream, _ = stmt.execute_query()
        out = pl.DataFrame(stream).to_series().to_list()
        stmt.close()
        return out

    icu = ids('SELECT "Claim ID" FROM mixed ORDER BY "Claim ID"')
    binary = ids('SELECT "Claim ID" FROM mixed ORDER BY "Claim ID" COLLATE "C"')
    con.close()
    db.close()
    assert binary == sorted(icu)  # Python compares code points, as UTF-8 bytes do
    assert icu != binary  # the column's own collation would number the frame otherwise


def test_null_and_duplicate_ids_are_refused_with_examples(tmp_path: Path, pg: Any) -> None:
    data = wd.rows(40)
    data[3]["Claim ID"] = data[5]["Claim ID"]
    db = wd.duckdb_table(tmp_path / "u.duckdb", data)
    con = duckdb.connect(str(db))
    con.execute(
        'UPDATE claims SET "Claim ID" = NULL '
        'WHERE "Claim ID" = (SELECT min("Claim ID") FROM claims)'
    )
    con.close()
    plan = write_plan(tmp_path / "plan.yaml", SIMPLE)
    with pytest.raises(InputError) as info:
        draw_sample(plan, f"duckdb:///{db}", tmp_path / "a", table="claims")
    text = str(info.value)
    assert "a NULL or empty unit id in 1 rows" in text
    assert f"e.g. {data[5]['Claim ID']} (2 rows)" in text
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())


def test_verify_catches_a_one_cent_change(mixed: Universes, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(mixed.duckdb, db)
    plan = write_plan(tmp_path / "plan.yaml", STRATIFIED)
    audit = tmp_path / "audit"
    draw_sample(plan, f"duckdb:///{db}", audit, table="claims")
    report = verify_audit(audit, f"duckdb:///{db}", table="claims")
    assert report.redrawn and report.units
    sampled = set(json.loads(json.dumps(
        [line.split(",")[0] for line in (audit / "sample.csv").read_text().splitlines()[1:]]
    )))  # fmt: skip
    con = duckdb.connect(str(db))
    unit, coder = next(
        (u, c)
        for u, c in con.execute(
            """SELECT "Claim ID", coder FROM claims WHERE paid BETWEEN 200 AND 900
               AND setting = 'inpatient' AND service_date >= DATE '2026-01-15' ORDER BY 1"""
        ).fetchall()
        if u not in sampled
    )
    con.execute("""UPDATE claims SET paid = paid + 0.01 WHERE "Claim ID" = ?""", [unit])
    con.close()
    with pytest.raises(IntegrityError) as info:
        verify_audit(audit, f"duckdb:///{db}", table="claims")
    assert f"other content in 1 stratum(s): '{coder} / paid 100 to <1,000'" in str(info.value)
    # The file holds the frame the table held when sampled: same data, other source.
    report = verify_audit(audit, mixed.csv)
    assert any("same data, other source" in n for n in report.notes)


def test_postgres_credentials_and_errors(
    mixed: Universes, tmp_path: Path, monkeypatch: Any
) -> None:
    plan = write_plan(tmp_path / "plan.yaml", SIMPLE)
    monkeypatch.delenv("PGPASSWORD")
    wrong = tmp_path / "pw"
    wrong.write_text("not-the-password\n")
    with pytest.raises(InputError) as info:
        draw_sample(plan, mixed.pg_url, tmp_path / "a", table="mixed", password_file=wrong)
    assert "refused the credentials" in str(info.value)
    assert "not-the-password" not in str(info.value)
    right = tmp_path / "right"
    right.write_text(pg_server.PASSWORD + "\n")
    summary = draw_sample(plan, mixed.pg_url, tmp_path / "b", table="mixed", password_file=right)
    record = (tmp_path / "b" / "sampling.json").read_text()
    assert summary.sample_size == 25 and pg_server.PASSWORD not in record
    assert json.loads(record)["universe"]["url"] == mixed.pg_url
    with pytest.raises(InputError, match="The table does not exist"):
        draw_sample(plan, mixed.pg_url, tmp_path / "c", table="nosuch", password_file=right)
    with pytest.raises(InputError, match="A password is part of the database URL"):
        draw_sample(plan, "postgresql://postgres:hunter2@localhost/db", tmp_path / "d", table="t")
    gone = mixed.pg_url.replace(f"port={pg_server.PORT}", "port=1")
    with pytest.raises(InputError, match="Cannot reach the PostgreSQL server"):
        draw_sample(plan, gone, tmp_path / "e", table="mixed", password_file=right)


def test_cli_sample_and_verify_from_duckdb(mixed: Universes, tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "plan.yaml", SIMPLE)
    runner = CliRunner()
    url = f"duckdb:///{mixed.duckdb}"
    out = tmp_path / "audit"
    result = runner.invoke(
        cli,
        ["sample", "--plan", str(plan), "--universe", url, "--table", "claims", "--out", str(out),
         "--json"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["universe"]["file"] == f"table claims in {url}"
    statement = (out / "sampling.txt").read_text("utf-8")
    assert f"The universe is the table claims in {url} (DuckDB " in statement
    assert "content fingerprint" in statement and "SHA-256 None" not in statement
    result = runner.invoke(
        cli, ["verify", str(out), "--universe", url, "--query", "SELECT * FROM claims", "--json"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["sample", "--plan", str(plan), "--universe", str(mixed.csv),
                                 "--table", "claims", "--out", str(tmp_path / "b")])  # fmt: skip
    assert result.exit_code == 1 and "for a database universe" in str(result.exception)


def test_duckdb_relative_url_and_missing_file(mixed: Universes, tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "plan.yaml", SIMPLE)
    old = Path.cwd()
    os.chdir(mixed.root)
    try:
        summary = draw_sample(
            plan, f"duckdb:///{mixed.duckdb.name}", tmp_path / "a", table="claims"
        )
        assert summary.sample_size == 25
        with pytest.raises(InputError, match="The DuckDB database does not exist"):
            draw_sample(plan, "duckdb:///nosuch.duckdb", tmp_path / "b", table="claims")
    finally:
        os.chdir(old)


def test_skip_empty_strata_as_for_a_file(mixed: Universes, tmp_path: Path) -> None:
    design = {
        "design": {
            "method": "stratified",
            "strata": {
                "by": ["coder"],
                "dollar_bands": {"column": "paid", "edges": [0, 100, 1000, 8000, 8500]},
                "skip_empty": True,
            },
        },
        "size": {"per_stratum": 3},
        "spares": 1,
        "rng": {"generator": "pcg64", "seed": 7},
    }
    plan = write_plan(tmp_path / "plan.yaml", design)
    draw_sample(plan, mixed.csv, tmp_path / "csv")
    draw_sample(plan, f"duckdb:///{mixed.duckdb}", tmp_path / "db", table="claims")
    record = _record(tmp_path / "csv")
    assert any("were left out (skip_empty)" in n for n in record["notes"])
    assert (tmp_path / "csv" / "sample.csv").read_bytes() == (
        tmp_path / "db" / "sample.csv"
    ).read_bytes()
    assert _record(tmp_path / "db") == record
