"""Universe input: formats, delimiters, encodings, validation messages, canonical units."""

from __future__ import annotations

import os
import sys
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from conftest import plan_dict, universe_rows, write_csv

from audit_kit.errors import InputError
from audit_kit.plan import parse_plan
from audit_kit.plan.canonical import canonical_units
from audit_kit.universe import (
    ROW,
    missing_column_problems,
    open_universe,
)
from audit_kit.values.dates import date_series
from audit_kit.values.money import money_series

HEADER = "encounter_id,coder_id,patient_name,paid_amount\n"


def test_delimiters_are_sniffed(tmp_path: Path) -> None:
    for sep in (",", ";", "\t", "|"):
        path = tmp_path / "u.csv"
        rows = universe_rows(5)
        write_csv(path, rows, delimiter=sep)
        universe = open_universe(path)
        assert universe.delimiter == sep
        frame = universe.read(["encounter_id", "paid_amount"])
        assert frame["encounter_id"].to_list() == [r["encounter_id"] for r in rows]


def test_utf8_bom_and_values_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode() + b"007,C1,Testpatient A,1.50\n")
    universe = open_universe(path)
    assert universe.columns[0] == "encounter_id"
    frame = universe.read(["encounter_id", "paid_amount"])
    assert frame.row(0) == (0, "007", "1.50")


def test_latin1_is_read_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_bytes((HEADER + "E1,C1,Testpatient Jos\xe9,10\n").encode("latin-1"))
    universe = open_universe(path)
    frame = universe.read(["patient_name"])
    assert frame["patient_name"].to_list() == ["Testpatient José"]
    assert universe.encoding == "latin-1"
    assert "line 2" in universe.notes[0] and "Latin-1" in universe.notes[0]
    explicit = open_universe(path, encoding="latin-1")
    assert explicit.read(["patient_name"])["patient_name"].to_list() == ["Testpatient José"]
    assert explicit.notes == [] and explicit.sha256 == universe.sha256


def test_wrong_encoding_is_refused_with_line_and_hint(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_bytes(
        (HEADER + "E1,C1,Testpatient A,10\nE2,C1,Testpatient \xc9,5\n").encode("latin-1")
    )
    with pytest.raises(InputError) as info:
        open_universe(path, encoding="utf-8").read(["encounter_id"])
    problem = info.value.problems[0]
    assert problem.where == f"{path}: line 3"
    assert "--encoding latin-1" in problem.fix
    assert "Testpatient" not in info.value.render()


@pytest.mark.parametrize(
    ("data", "summary"),
    [
        (b"", "The universe file is empty."),
        ("encounter_id,paid\n".encode("utf-16"), "The universe file has the wrong text encoding."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "legacy or password-protected"),
        (b"\x00\x01\x02binary\x00\xff" * 20, "not a table audit-kit can read"),
        (b"PK\x03\x04not really a zip", "Cannot read the universe file."),
        (b"PAR1 garbage", "Cannot read the universe file."),
    ],
)
def test_unreadable_files_get_a_clear_error(tmp_path: Path, data: bytes, summary: str) -> None:
    path = tmp_path / "u.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match=summary):
        open_universe(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        open_universe(tmp_path / "nope.csv")
    assert info.value.problems[0].found == "no such file"
    with pytest.raises(InputError) as info:
        open_universe(tmp_path)
    assert info.value.problems[0].found == "a folder"


def test_missing_mapped_columns_are_listed_with_suggestions(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", universe_rows(3))
    wanted = {
        "columns.paid": "paid_amt",
        "columns.coder": "CODER",
        "columns.unit_id": "encounter_id",
    }
    problems = {p.where: p for p in missing_column_problems(open_universe(path), wanted)}
    assert len(problems) == 2
    paid = problems[f"{path}: column 'paid_amt' (plan columns.paid)"]
    assert "encounter_id, coder_id" in paid.expected
    assert paid.fix.startswith("did you mean 'paid_amount'")
    assert problems[f"{path}: column 'CODER' (plan columns.coder)"].fix.startswith(
        "did you mean 'coder_id'"
    )


def test_ragged_rows_are_named(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(HEADER + "E1,C1,Testpatient A,1\nE2,C1,Testpatient B,2,extra\nE3,C2,X,3\n")
    with pytest.raises(InputError) as info:
        open_universe(path).read(["encounter_id"])
    problem = info.value.problems[0]
    assert problem.where == f"{path}: row 3"
    assert problem.expected == "4 fields per row, as in the header"
    assert "Testpatient" not in info.value.render()


def test_ragged_rows_in_a_quoted_file_are_named(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(HEADER + 'E1,C1,"Testpatient, A",1\nE2,C1,Testpatient, B,2\nE3,C2,"X",3\n')
    with pytest.raises(InputError) as info:
        open_universe(path).read(["encounter_id"])
    assert info.value.problems[0].where == f"{path}: row 3"


def test_parquet_and_xlsx_read_like_csv(tmp_path: Path) -> None:
    rows = universe_rows(6)
    csv_path = write_csv(tmp_path / "u.csv", rows)
    frame = pl.read_csv(csv_path, infer_schema=False)
    frame.write_parquet(tmp_path / "u.parquet")
    write_xlsx(tmp_path / "u.xlsx", rows)
    results = []
    for name in ("u.csv", "u.parquet", "u.xlsx"):
        universe = open_universe(tmp_path / name)
        results.append(universe.read(["encounter_id", "coder_id"]))
        assert len(universe.sha256) == 64
    assert results[0].equals(results[1].with_columns(pl.col(ROW).cast(pl.UInt32)))
    assert results[0].equals(results[2])
    assert open_universe(tmp_path / "u.parquet").row_label(0) == "record 1"
    assert open_universe(tmp_path / "u.xlsx").row_label(0) == "row 2"


def write_xlsx(path: Path, rows: list[dict[str, str]], *, sheet: str = "Sheet") -> Path:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet
    ws.append(list(rows[0]))
    for row in rows:
        ws.append(list(row.values()))
    workbook.save(path)
    return path


def test_xlsx_unknown_sheet(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "u.xlsx", universe_rows(2), sheet="Data")
    with pytest.raises(InputError) as info:
        open_universe(tmp_path / "u.xlsx", sheet="Claims")
    assert info.value.problems[0].found == "sheets: Data"


def _repack(source: Path, target: Path, replace: dict[str, bytes | int]) -> None:
    """Copy a workbook, replacing parts: bytes as given, an int as that part's XML padded with
    that many spaces (streamed into the zip, never held in memory)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            change = replace.get(info.filename)
            if isinstance(change, bytes):
                new.writestr(info.filename, change)
            elif isinstance(change, int):
                with new.open(info.filename, "w", force_zip64=True) as member:
                    member.write(data)
                    block = b" " * (1 << 20)
                    for _ in range(change // len(block)):
                        member.write(block)
            else:
                new.writestr(info, data)


def test_xlsx_zip_bomb_is_refused_before_unpacking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = write_xlsx(tmp_path / "real.xlsx", universe_rows(20))
    bomb = tmp_path / "bomb.xlsx"
    _repack(real, bomb, {"xl/worksheets/sheet1.xml": 300 << 20})
    assert bomb.stat().st_size < 2 << 20  # ~300 MB of sheet packed into a few hundred KB

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the workbook was unpacked")

    import fastexcel

    monkeypatch.setattr(fastexcel, "read_excel", never)
    monkeypatch.setattr(pl, "read_excel", never)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            open_universe(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    problem = info.value.problems[0]
    assert problem.where == f"{bomb}, part xl/worksheets/sheet1.xml"
    assert "compression ratio" in problem.expected and "zip bomb" in problem.found
    assert peak < 32 << 20  # the part was never inflated into memory


def test_xlsx_entity_declarations_are_refused(tmp_path: Path) -> None:
    real = write_xlsx(tmp_path / "real.xlsx", universe_rows(3))
    hostile = tmp_path / "entities.xlsx"
    with zipfile.ZipFile(real) as old:
        sheet = old.read("xl/worksheets/sheet1.xml")
    head, _, rest = sheet.partition(b"?>")
    doctype = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    _repack(real, hostile, {"xl/worksheets/sheet1.xml": head + b"?>" + doctype + rest})
    with pytest.raises(InputError) as info:
        open_universe(hostile)
    assert info.value.problems[0].where == f"{hostile}, part xl/worksheets/sheet1.xml"
    assert "DOCTYPE or ENTITY" in info.value.problems[0].found


def test_fetch_by_offset_and_with_quoted_line_breaks(tmp_path: Path) -> None:
    rows = universe_rows(30)
    rows[4]["patient_name"] = "Testpatient\nwith a line break"
    for data in (universe_rows(30), rows):
        path = write_csv(tmp_path / "u.csv", data)
        universe = open_universe(path)
        universe.read(["encounter_id"])
        picks = [2, 4, 17, 29]
        ids = [data[i]["encounter_id"] for i in picks]
        got = universe.fetch(
            picks, ["patient_name", "paid_amount"], id_column="encounter_id", ids=ids
        )
        assert got[ROW].to_list() == picks
        assert got["patient_name"].to_list() == [data[i]["patient_name"] for i in picks]
        assert got["paid_amount"].to_list() == [data[i]["paid_amount"] for i in picks]


def test_parse_amounts() -> None:
    values, bad = money_series(
        pl.Series(["1234.5", "$1,234.56", " 7 ", "", None, "n/a", "1,23", "inf"])
    )
    assert values.to_list()[:5] == [1234.5, 1234.56, 7.0, None, None]
    assert bad.to_list() == [False, False, False, False, False, True, True, True]


def test_parse_dates() -> None:
    values, bad = date_series(
        pl.Series(["2026-07-01", "07/02/2026", "20260703", "2026-07-04 00:00:00", "soon", None])
    )
    assert [str(v) for v in values.to_list()[:4]] == [
        "2026-07-01",
        "2026-07-02",
        "2026-07-03",
        "2026-07-04",
    ]
    assert bad.to_list() == [False, False, False, False, True, False]


def test_canonical_units() -> None:
    plan = parse_plan(
        plan_dict(
            columns={
                "unit_id": "id",
                "coder": "coder",
                "dx": ["DX1", "DX2", "DX3"],
                "cpt": "cpt",
                "drg": "drg",
                "paid": "paid",
                "service_date": "dos",
                "patient": "name",
            }
        )
    )
    sample = pl.DataFrame(
        {
            "id": ["007", "008"],
            "coder": [" C1", "C2"],
            "name": ["Testpatient A", "Testpatient B"],
            "DX1": ["E11.9", "J18.9"],
            "DX2": ["I10", None],
            "DX3": [None, "N18.3;E87.1"],
            "cpt": ["99214-25;93000", None],
            "drg": ["65", "291"],
            "paid": ["$1,000.00", "12"],
            "dos": ["07/01/2026", "2026-07-02"],
            "stratum": ["all", "all"],
            "frame_number": ["3", "9"],
            "selection_order": ["2", "1"],
            "spare": ["false", "true"],
            "weight": ["50.0", "50.0"],
        }
    )
    units = canonical_units(sample, plan)
    assert units["unit_id"].to_list() == ["007", "008"]
    assert units["coder"].to_list() == ["C1", "C2"]
    assert units["dx"].to_list() == [["E11.9", "I10"], ["J18.9", "N18.3", "E87.1"]]
    assert units["cpt"].to_list() == [["99214-25", "93000"], []]
    assert units["drg"].to_list() == ["065", "291"]
    assert units["paid"].to_list() == [1000.0, 12.0]
    assert units["service_date"].to_list() == ["2026-07-01", "2026-07-02"]
    assert units["spare"].to_list() == [False, True]
    assert units["frame_number"].dtype == pl.Int64
    assert units["provider"].to_list() == [None, None]
    assert "patient" not in units.columns and "name" not in units.columns


def test_the_byte_pass_runs_at_low_priority_in_its_own_thread() -> None:
    """The pass yields the CPU to the reader (Linux, where threads have their own nice value;
    elsewhere the process keeps its priority); the calling thread's priority is left alone."""
    import threading

    from audit_kit.universe.opening import _yield_to_reader

    if not sys.platform.startswith("linux"):
        if hasattr(os, "getpriority"):  # a thread id there would name a process: untouched
            before = os.getpriority(os.PRIO_PROCESS, 0)
            _yield_to_reader()
            assert os.getpriority(os.PRIO_PROCESS, 0) == before
        return
    seen: list[int] = []

    def worker() -> None:
        _yield_to_reader()
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [19]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
