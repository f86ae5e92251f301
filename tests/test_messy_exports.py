"""Exports as billing systems write them, through the CLI (init, sample, workbooks, verify).

The fixtures in tests/data/messy/ (written by tests/messy_export.py, ``write_fixtures``) hold 40
units with every messy form at once: three title rows, a ``Grand Total`` row and a "report run"
line, ``$1,234.50`` amounts, ``($25.00)``, a zero and a blank payment, US dates, dotless and
lower-case ICD-10-CM codes, modifiers in columns of their own, ``Acct #``/``DOS``/``DOB``/
``Place of Service``/``Coder Name``/``Attending NPI`` headers; charges.xlsx holds the same rows
as Excel saves them (a title row, date and number cells). Expected values are worked out here
from the CSV text with the standard library, not with audit-kit's parsers.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import yaml

from audit_kit.cli import main
from audit_kit.plan import parse_plan
from audit_kit.plan.canonical import canonical_units

DATA = Path(__file__).parent / "data" / "messy"
HEADER_LINE = 4  # three title rows above the header


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    code = info.value.code
    return int(code) if isinstance(code, int) else 1, out, err


def units() -> list[dict[str, str]]:
    """The unit rows of charges.csv: below the header, above the Grand Total row."""
    lines = (DATA / "charges.csv").read_text("utf-8").splitlines()
    rows = list(csv.DictReader(lines[HEADER_LINE - 1 :]))
    return [r for r in rows if r["Acct #"][:1].isdigit()]  # not Grand Total, not Report run


def dollars(text: str) -> float | None:
    """The fixture's amounts: '', '$1,234.50' or '($25.00)'."""
    if not text:
        return None
    negative = text.startswith("(")
    value = float(text.strip("()").lstrip("$").replace(",", ""))
    return -value if negative else value


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    for name in ("charges.csv", "charges.xlsx"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def init(work: Path, name: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code, out, err = run(
        ["init", "--universe", str(work / name), "--out", str(work / f"{name}.yaml")], capsys
    )
    assert code == 0, err
    return yaml.safe_load((work / f"{name}.yaml").read_text("utf-8"))


def test_init_maps_the_headers_people_write(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = init(work, "charges.csv", capsys)
    cols = plan["columns"]
    assert isinstance(cols, dict)
    assert cols["unit_id"] == "Acct #"
    assert cols["service_date"] == "DOS"  # not DOB
    assert cols["setting"] == "Place of Service"  # a place of service is never an age
    assert "age" not in cols
    assert cols["coder"] == "Coder Name"
    assert cols["provider"] == "Attending NPI"
    assert cols["cpt"] == ["CPT 1", "CPT 2"]
    assert cols["modifiers"] == {"CPT 1": ["Mod 1", "Mod 2"], "CPT 2": ["Mod 3", "Mod 4"]}
    assert "DOB" in cols["phi"]
    # Zero, blank and negative payments exist: paid > 0 is proposed.
    assert plan["frame"] == {"filters": [{"column": "paid", "op": ">", "value": 0}]}
    days = [dt.datetime.strptime(r["DOS"], "%m/%d/%Y").date() for r in units()]
    assert plan["period"] == {"start": min(days), "end": max(days)}


def test_init_proposes_no_filter_when_every_payment_is_positive(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (work / "charges.csv").read_text("utf-8").splitlines(keepends=True)
    kept = lines[:HEADER_LINE]
    for line in lines[HEADER_LINE:]:
        row = next(csv.reader([line]))
        paid = dollars(row[-1]) if len(row) > 1 and row[0] != "Grand Total" else 1.0
        if paid is not None and paid > 0:
            kept.append(line)
    (work / "paid.csv").write_text("".join(kept), "utf-8")
    plan = init(work, "paid.csv", capsys)
    assert "frame" not in plan


def sample(
    work: Path, name: str, plan: str, capsys: pytest.CaptureFixture[str], out: str
) -> tuple[int, str, str]:
    return run(
        ["sample", "--plan", str(work / plan), "--universe", str(work / name)]
        + ["--out", str(work / out), "--seed", "20261201"],
        capsys,
    )


def test_title_rows_and_footers_are_never_units(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init(work, "charges.csv", capsys)
    code, out, err = sample(work, "charges.csv", "charges.csv.yaml", capsys, "a")
    assert code == 0, err
    rows = units()
    positive = [r for r in rows if (dollars(r["Paid"]) or 0) > 0]
    record = json.loads((work / "a" / "sampling.json").read_text("utf-8"))
    assert record["universe"]["rows"] == len(rows) == 40
    assert record["universe"]["header_row"] == HEADER_LINE
    last = HEADER_LINE + len(rows)  # the last unit's row
    assert record["universe"]["footer_rows"] == [
        {"row": str(last + 1), "kind": "total row"},
        {"row": str(last + 2), "kind": "report line"},
    ]
    assert record["frame"]["size"] == len(positive)
    assert record["frame"]["excluded"] == [
        {"filter": "paid > 0", "rows": len(rows) - len(positive)}
    ]
    assert f"row {last + 1} (total row)" in out
    assert "3 title rows above it were skipped" in out
    sampled = pl.read_csv(work / "a" / "sample.csv", infer_schema=False)
    assert "Grand Total" not in sampled["Acct #"].to_list()


def test_csv_and_xlsx_with_a_title_row_give_the_same_frame_and_sample(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init(work, "charges.csv", capsys)
    assert sample(work, "charges.csv", "charges.csv.yaml", capsys, "a")[0] == 0
    assert sample(work, "charges.xlsx", "charges.csv.yaml", capsys, "b")[0] == 0
    a = json.loads((work / "a" / "sampling.json").read_text("utf-8"))
    b = json.loads((work / "b" / "sampling.json").read_text("utf-8"))
    assert a["frame"] == b["frame"] and a["strata"] == b["strata"]
    design = ["Acct #", "stratum", "frame_number", "selection_order", "spare", "weight"]
    sa = pl.read_csv(work / "a" / "sample.csv", infer_schema=False).select(design)
    sb = pl.read_csv(work / "b" / "sample.csv", infer_schema=False).select(design)
    assert sa.equals(sb)
    # verify with the other file: the same data, not a tampered universe.
    code, out, err = run(
        ["verify", str(work / "a"), "--universe", str(work / "charges.xlsx")], capsys
    )
    assert code == 0, err
    assert "Same data, other file: charges.xlsx" in out


def test_verify_with_a_changed_amount_in_the_other_file_fails(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init(work, "charges.csv", capsys)
    assert sample(work, "charges.csv", "charges.csv.yaml", capsys, "a")[0] == 0
    wb = openpyxl.load_workbook(work / "charges.xlsx")
    ws = wb.active
    assert ws is not None
    paid = [c.column for c in ws[HEADER_LINE] if c.value == "Paid"][0]
    third = ws.cell(row=HEADER_LINE + 3, column=paid)
    assert isinstance(third.value, float) and third.value > 0
    third.value = -5.0  # a unit leaves the frame
    wb.save(work / "changed.xlsx")
    code, _, err = run(
        ["verify", str(work / "a"), "--universe", str(work / "changed.xlsx")], capsys
    )
    assert code == 1
    assert "changed.xlsx" in err and "Same data" not in err


def test_modifiers_in_their_own_columns_are_attached(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init(work, "charges.csv", capsys)
    text = (work / "charges.csv.yaml").read_text("utf-8")
    plan_data = yaml.safe_load(text)
    frame = [r for r in units() if (dollars(r["Paid"]) or 0) > 0]
    plan_data["size"] = {"n": len(frame)}  # every unit of the frame
    plan_data["design"] = {"method": "simple"}
    (work / "all.yaml").write_text(yaml.safe_dump(plan_data), "utf-8")
    code, _, err = sample(work, "charges.csv", "all.yaml", capsys, "a")
    assert code == 0, err
    sampled = pl.read_csv(work / "a" / "sample.csv", infer_schema=False)
    assert {"Mod 1", "Mod 2", "Mod 3", "Mod 4"} <= set(sampled.columns)
    canon = canonical_units(sampled, parse_plan(plan_data))
    cpt = dict(zip(canon["unit_id"].to_list(), canon["cpt"].to_list(), strict=True))
    for row in units():
        if row["Acct #"] not in cpt:
            continue  # excluded by paid > 0
        want = [
            "-".join([row["CPT 1"], *(m for m in (row["Mod 1"], row["Mod 2"]) if m)]),
            *(
                ["-".join([row["CPT 2"], *(m for m in (row["Mod 3"], row["Mod 4"]) if m)])]
                if row["CPT 2"]
                else []
            ),
        ]
        assert cpt[row["Acct #"]] == want, row["Acct #"]
    assert cpt["0400023"] == ["97110-59-GP", "97140-59"]
    # The workbook pre-fills the audited CPT/HCPCS with the modifiers attached.
    code, _, err = run(["workbooks", str(work / "a")], capsys)
    assert code == 0, err
    book = next((work / "a" / "workbooks").glob("*.xlsx"))
    ws = openpyxl.load_workbook(book)["Sample"]
    header = [c.value for c in ws[1]]
    by_id = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert by_id["0400020"][header.index("Audited CPT/HCPCS")] == "99214-25"


def test_negative_amounts_without_a_filter_show_their_values(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_data = init(work, "charges.csv", capsys)
    plan_data.pop("frame")
    (work / "nofilter.yaml").write_text(yaml.safe_dump(plan_data), "utf-8")
    code, _, err = sample(work, "charges.csv", "nofilter.yaml", capsys, "a")
    assert code == 1
    negatives = [r for r in units() if (dollars(r["Paid"]) or 0) < 0]
    assert "column 'Paid' (paid)" in err
    assert "a negative amount (-25.00)" in err
    assert f"in {len(negatives)} row" in err
    assert "{column: paid, op: '>', value: 0}" in err


def test_duplicate_ids_among_excluded_rows_are_an_error(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (work / "charges.csv").read_text("utf-8").splitlines(keepends=True)
    first = next(csv.reader([lines[HEADER_LINE]]))  # the first unit, paid blank: excluded
    copy = next(csv.reader([lines[HEADER_LINE + 1]]))  # the second, paid ($25.00): excluded
    copy[0] = first[0]
    buffer = lines[: HEADER_LINE + 1]
    out = csv.StringIO()
    csv.writer(out, lineterminator="\n").writerow(copy)
    buffer += [out.getvalue(), *lines[HEADER_LINE + 2 :]]
    (work / "dup.csv").write_text("".join(buffer), "utf-8")
    init(work, "charges.csv", capsys)
    code, _, err = sample(work, "dup.csv", "charges.csv.yaml", capsys, "a")
    assert code == 1
    assert "1 id on more than one row (2 rows)" in err
    assert f"{first[0]} (rows {HEADER_LINE + 1}, {HEADER_LINE + 2})" in err


def test_text_dates_in_filters_are_dates(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_data = init(work, "charges.csv", capsys)
    plan_data["frame"]["filters"].append(
        {"column": "service_date", "op": ">=", "value": "8/15/2026"}
    )
    (work / "dated.yaml").write_text(yaml.safe_dump(plan_data), "utf-8")
    code, _, err = sample(work, "charges.csv", "dated.yaml", capsys, "a")
    assert code == 0, err
    cut = dt.date(2026, 8, 15)
    positive = [r for r in units() if (dollars(r["Paid"]) or 0) > 0]
    late = [r for r in positive if dt.datetime.strptime(r["DOS"], "%m/%d/%Y").date() >= cut]
    record = json.loads((work / "a" / "sampling.json").read_text("utf-8"))
    assert record["frame"]["size"] == len(late)
    assert "read as the date 2026-08-15" in record["frame"]["excluded"][1]["filter"]
    plan_data["frame"]["filters"][-1]["value"] = "8/32/2026"
    (work / "bad.yaml").write_text(yaml.safe_dump(plan_data), "utf-8")
    code, _, err = sample(work, "charges.csv", "bad.yaml", capsys, "b")
    assert code == 1
    assert "frame.filters[1].value" in err and "'8/32/2026'" in err


def test_a_header_of_one_text_cell_is_refused_with_the_fix(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init(work, "charges.csv", capsys)
    plan_data = yaml.safe_load((work / "charges.csv.yaml").read_text("utf-8"))
    plan_data["frame"]["header_row"] = 1  # the title row
    (work / "titled.yaml").write_text(yaml.safe_dump(plan_data), "utf-8")
    code, _, err = sample(work, "charges.csv", "titled.yaml", capsys, "a")
    assert code == 1
    assert "row 1 (frame.header_row)" in err
    assert "row 1 holds 1 named cell(s) ('Example Health - Charge Detail" in err
    assert "and 21 unnamed column(s)" in err
    assert f"row {HEADER_LINE} names 22 columns" in err
    plan_data["frame"]["header_row"] = HEADER_LINE
    (work / "set.yaml").write_text(yaml.safe_dump(plan_data), "utf-8")
    assert sample(work, "charges.csv", "set.yaml", capsys, "b")[0] == 0


def test_decimal_comma_amounts_when_the_plan_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "eu.csv").write_text("id;paid\nA1;1.234,50\nA2;(25,00)\nA3;99,90\n", "utf-8")
    plan_data = {
        "name": "eu",
        "sampling_unit": "claim",
        "columns": {"unit_id": "id", "paid": "paid"},
        "frame": {"filters": [{"column": "paid", "op": ">", "value": 100}]},
        "size": {"n": 1},
    }
    (tmp_path / "us.yaml").write_text(yaml.safe_dump(plan_data), "utf-8")
    code, _, err = sample(tmp_path, "eu.csv", "us.yaml", capsys, "a")
    assert code == 1
    assert "frame.decimal_comma: true" in err
    plan_data["frame"]["decimal_comma"] = True
    (tmp_path / "eu.yaml").write_text(yaml.safe_dump(plan_data), "utf-8")
    code, _, err = sample(tmp_path, "eu.csv", "eu.yaml", capsys, "b")
    assert code == 0, err
    record = json.loads((tmp_path / "b" / "sampling.json").read_text("utf-8"))
    assert record["frame"]["size"] == 1  # only 1.234,50 is above 100


def test_a_shipped_preset_used_directly_points_to_init(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        ["sample", "--plan", "quarterly-coder-review", "--universe", str(work / "charges.csv")]
        + ["--out", str(work / "a")],
        capsys,
    )
    assert code == 1
    assert "placeholder column names" in err
    assert "audit-kit init --universe charges.csv --preset quarterly-coder-review" in err


@pytest.mark.parametrize("name", ["charges.csv", "charges.xlsx"])
def test_the_whole_cycle_with_the_plan_init_proposes(
    work: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from audit_kit.demo.simulation import fill_workbooks

    init(work, name, capsys)  # the plan as init writes it, unedited
    code, _, err = sample(work, name, f"{name}.yaml", capsys, "a")
    assert code == 0, err
    assert run(["workbooks", str(work / "a"), "--auditors", "ann,bob"], capsys)[0] == 0
    fill_workbooks(work / "a", work / "returned", seed=7)
    code, _, err = run(["collect", str(work / "a"), str(work / "returned")], capsys)
    assert code == 0, err
    code, _, err = run(["score", str(work / "a")], capsys)
    assert code == 0, err
    results = json.loads((work / "a" / "results.json").read_text("utf-8"))
    sampled = pl.read_csv(work / "a" / "sample.csv", infer_schema=False).height
    assert results["progress"]["units_sampled"] == sampled
    assert (
        results["overall"]["units_reviewed"] + results["overall"]["units_not_reviewed"] <= sampled
    )
    # A modifier billed in its own column is in the original codes: confirming it is no error.
    for error in results["errors"]:
        original = set(error["original"]["cpt"])
        assert not original & set(error["changes"]["added"]), error["unit_id"]
