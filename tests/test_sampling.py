"""Sampling engine: RAT-STATS compatibility, designs, sizes, records, errors (nothing written)."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
import yaml
from conftest import plan_dict, universe_rows, write_csv

from audit_kit.errors import AuditError, InputError, PlanError, SamplingError
from audit_kit.sampling import DESIGN_COLUMNS, RATSTATS_CAVEAT, draw_sample, read_sample

# RAT-STATS 2010 single-stage random numbers, as printed in the manuals (copied from
# ../shared/ratstats/ratstats_reference_values.json, "rng_single_stage"):
#   UG2010 p. 2-7: seed 48863.78, 1..1000, 10 + 4 spares, values in order of selection, sum 6520,
#                  Wichmann-Hill seeds 22684, 11141, 1666.
#   CM2010 p. 1-2: seed 12345, 1..1000, 10 + 4 spares (sample sorted; spares in order drawn).
#   CM2010 p. 3-19: seed 1357, 1..90, 10 values in order of selection, sum 380.
UG_2_7 = [718, 643, 247, 236, 821, 650, 257, 141, 301, 22, 980, 507, 440, 557]
CM_1_2_SAMPLE = [9, 236, 337, 340, 346, 497, 556, 641, 658, 884]
CM_1_2_SPARES = [404, 624, 927, 947]
CM_3_19 = [67, 46, 76, 2, 28, 56, 5, 70, 7, 23]


def write_plan(path: Path, **overrides: Any) -> Path:
    path.write_text(yaml.safe_dump(plan_dict(**overrides), sort_keys=False), "utf-8")
    return path


def draw(
    tmp_path: Path,
    rows: list[dict[str, str]] | None = None,
    *,
    name: str = "audit",
    universe: Path | None = None,
    **overrides: Any,
) -> tuple[Any, pl.DataFrame, dict[str, Any]]:
    if universe is None:
        universe = write_csv(tmp_path / f"{name}.csv", rows or universe_rows(200))
    plan = write_plan(tmp_path / f"{name}.yaml", **overrides)
    summary = draw_sample(plan, universe, tmp_path / name)
    sample = read_sample(tmp_path / name)
    record = json.loads((tmp_path / name / "sampling.json").read_text("utf-8"))
    return summary, sample, record


def numbered_universe(tmp_path: Path, size: int, *, seed: int = 3) -> Path:
    """Units with ids 1..size (so frame number = id), written in a shuffled order."""
    ids = list(range(1, size + 1))
    random.Random(seed).shuffle(ids)
    rows = [{"unit": str(i), "paid": f"{i * 1.5:.2f}"} for i in ids]
    return write_csv(tmp_path / "numbered.csv", rows)


RATSTATS_PLAN = {"columns": {"unit_id": "unit", "paid": "paid"}}


def ratstats_draw(tmp_path: Path, size: int, n: int, spares: int, seed: float) -> pl.DataFrame:
    universe = numbered_universe(tmp_path, size)
    _, sample, record = draw(
        tmp_path,
        universe=universe,
        size={"n": n},
        spares=spares,
        rng={"generator": "ratstats", "seed": seed},
        **RATSTATS_PLAN,
    )
    assert record["generator"]["caveat"] == RATSTATS_CAVEAT
    assert (sample["unit"].cast(pl.Int64) == sample["frame_number"]).all()
    return sample


def test_ratstats_simple_sample_equals_ug2010_p2_7(tmp_path: Path) -> None:
    sample = ratstats_draw(tmp_path, 1000, 10, 4, 48863.78)
    drawn = sample.sort("selection_order")
    assert drawn["frame_number"].to_list() == UG_2_7
    assert drawn["spare"].to_list() == [False] * 10 + [True] * 4
    assert sum(UG_2_7) == 6520
    record = json.loads((tmp_path / "audit" / "sampling.json").read_text("utf-8"))
    assert record["generator"]["wh_seeds"] == [22684, 11141, 1666]
    assert record["generator"]["seed"] == 48863.78
    # sample.csv is sorted by frame number (spares included); each row keeps its order of
    # selection, as RAT-STATS lists the sample sorted with the order beside each value.
    assert sample["frame_number"].to_list() == sorted(UG_2_7)


def test_ratstats_simple_sample_equals_cm2010_p1_2(tmp_path: Path) -> None:
    sample = ratstats_draw(tmp_path, 1000, 10, 4, 12345)
    assert sample.filter(~pl.col("spare"))["frame_number"].to_list() == CM_1_2_SAMPLE
    spares = sample.filter(pl.col("spare")).sort("selection_order")
    assert spares["frame_number"].to_list() == CM_1_2_SPARES


def test_ratstats_simple_sample_equals_cm2010_p3_19(tmp_path: Path) -> None:
    sample = ratstats_draw(tmp_path, 90, 10, 0, 1357)
    assert sample.sort("selection_order")["frame_number"].to_list() == CM_3_19


def test_record_and_sample_contracts(tmp_path: Path) -> None:
    summary, sample, record = draw(tmp_path, spares=2)
    assert list(record) == [
        "audit",
        "universe",
        "frame",
        "sampling_unit",
        "design",
        "strata",
        "sample_size",
        "generator",
        "spares",
        "pseudonymisation",
        "notes",
        "tool_version",
        "created_at",
    ]
    assert {"file", "sha256", "rows"} <= set(record["universe"])
    assert record["universe"]["rows"] == 200
    assert {"size", "excluded"} <= set(record["frame"])
    assert set(record["strata"][0]) >= {"stratum", "population", "sample", "census", "certainty"}
    assert {"name", "seed", "seed_used", "version"} <= set(record["generator"])
    kept = list(plan_dict()["columns"].values())
    assert sample.columns == [*kept, *DESIGN_COLUMNS]
    assert sample.height == 22 and summary.sample_size == 20 and summary.spares == 2
    assert sample["stratum"].unique().to_list() == ["all"]
    assert (sample["weight"] == 10.0).all()
    text = (tmp_path / "audit" / "sampling.txt").read_text("utf-8")
    assert "SAMPLING STATEMENT" in text and record["universe"]["sha256"] in text
    plan_text = (tmp_path / "audit" / "plan.yaml").read_text("utf-8")
    assert plan_text == (tmp_path / "audit.yaml").read_text("utf-8")


def test_values_are_kept_as_read(tmp_path: Path) -> None:
    rows = universe_rows(30)
    rows[0]["encounter_id"] = "000123"
    rows[0]["paid_amount"] = "1,234.50"
    rows[0]["paid_amount"] = "$1,234.50"
    _, sample, _ = draw(tmp_path, rows, size={"n": 30})
    first = sample.filter(pl.col("encounter_id") == "000123")
    assert first["paid_amount"].to_list() == ["$1,234.50"]


def test_stratified_by_coder_weights_and_census(tmp_path: Path) -> None:
    rows = universe_rows(120, coders=3)
    rows += [dict(universe_rows(1)[0], encounter_id=f"X{i}", coder_id="C9") for i in range(4)]
    summary, sample, record = draw(
        tmp_path,
        rows,
        design={"method": "stratified", "strata": {"by": ["coder"]}},
        size={"per_stratum": 10},
    )
    strata = {s["stratum"]: s for s in record["strata"]}
    assert list(strata) == ["C1", "C2", "C3", "C9"]
    assert strata["C9"]["census"] and strata["C9"]["sample"] == 4
    assert not strata["C1"]["census"] and strata["C1"]["sample"] == 10
    for label, group in sample.group_by("stratum"):
        info = strata[str(label[0])]
        assert group.height == info["sample"]
        assert (group["weight"] == info["population"] / info["sample"]).all()
        assert group["frame_number"].max() <= info["population"]  # type: ignore[operator]
    assert summary.population == 124


def test_dollar_bands_and_certainty(tmp_path: Path) -> None:
    rows = universe_rows(300)
    big = {r["encounter_id"] for r in rows if float(r["paid_amount"]) >= 3000}
    assert big
    _, sample, record = draw(
        tmp_path,
        rows,
        design={
            "method": "stratified",
            "strata": {
                "dollar_bands": {"column": "paid", "edges": [0, 200, 1000]},
                "certainty": {"column": "paid", "at_least": 3000},
            },
        },
        size={"per_stratum": 5},
    )
    labels = [s["stratum"] for s in record["strata"]]
    assert labels == [
        "paid 0 to <200",
        "paid 200 to <1,000",
        "paid 1,000 to <3,000",
        "certainty: paid >= 3,000",
    ]
    cert = sample.filter(pl.col("stratum") == labels[-1])
    assert set(cert["encounter_id"]) == big
    assert (cert["weight"] == 1.0).all()
    for label in labels[:-1]:
        paid = sample.filter(pl.col("stratum") == label)["paid_amount"].cast(pl.Float64)
        assert paid.max() < 3000  # type: ignore[operator]


def test_certainty_only_design(tmp_path: Path) -> None:
    _, sample, record = draw(
        tmp_path,
        design={
            "method": "stratified",
            "strata": {"certainty": {"column": "paid", "at_least": 2000}},
        },
        size={"per_stratum": 10},
    )
    assert [s["stratum"] for s in record["strata"]] == [
        "paid < 2,000",
        "certainty: paid >= 2,000",
    ]
    assert record["strata"][1]["certainty"]


@pytest.mark.parametrize("allocation", ["proportional", "neyman", "equal"])
def test_total_allocation(tmp_path: Path, allocation: str) -> None:
    _, sample, record = draw(
        tmp_path,
        universe_rows(400, coders=4),
        design={"method": "stratified", "strata": {"by": ["coder"]}},
        size={"total": 60, "allocation": allocation, "minimum_per_stratum": 2},
    )
    assert sample.height == 60
    sizes = [s["sample"] for s in record["strata"]]
    assert sum(sizes) == 60 and min(sizes) >= 2
    assert record["sample_size"]["allocation"] == allocation
    if allocation == "equal":
        assert sizes == [15, 15, 15, 15]
    if allocation == "neyman":
        assert set(record["sample_size"]["sd"]) == {"C1", "C2", "C3", "C4"}


def test_per_stratum_mapping(tmp_path: Path) -> None:
    _, sample, record = draw(
        tmp_path,
        universe_rows(200, coders=2),
        design={"method": "stratified", "strata": {"by": ["coder"]}},
        size={"per_stratum": {"C1": 3, "C2": 7}},
    )
    assert [s["sample"] for s in record["strata"]] == [3, 7]


def test_per_stratum_mapping_must_name_every_stratum(tmp_path: Path) -> None:
    with pytest.raises(SamplingError) as info:
        draw(
            tmp_path,
            universe_rows(200, coders=2),
            design={"method": "stratified", "strata": {"by": ["coder"]}},
            size={"per_stratum": {"C1": 3, "C3": 7}},
        )
    wheres = [p.where for p in info.value.problems]
    plan = tmp_path / "audit.yaml"  # the plan file is named, as for any plan problem
    assert wheres == [f"{plan}: size.per_stratum.C3", f"{plan}: size.per_stratum"]
    assert not (tmp_path / "audit").exists()


JULY_1, JULY_20 = dt.date(2026, 7, 1), dt.date(2026, 7, 20)


def test_filters_and_exclusion_counts(tmp_path: Path) -> None:
    rows = universe_rows(200)
    rows[1]["paid_amount"] = "0"
    rows[2]["service_date"] = "07/15/2026"  # US format, inside the range
    rows[3]["setting"] = ""  # blank: passes `!=`
    filters = [
        {"column": "paid", "op": ">", "value": 0},
        {"column": "setting", "op": "!=", "value": "professional"},
        {"column": "service_date", "op": "between", "value": [JULY_1, JULY_20]},
    ]
    _, _, record = draw(tmp_path, rows, frame={"filters": filters}, size={"n": 10})
    excluded = record["frame"]["excluded"]
    assert [e["filter"] for e in excluded] == [
        "paid > 0",
        "setting != 'professional'",
        "service_date between [2026-07-01, 2026-07-20]",
    ]
    step1 = [r for r in rows if r["paid_amount"] != "0"]
    step2 = [r for r in step1 if r["setting"] != "professional"]
    iso = {r["encounter_id"]: r["service_date"] for r in step2}
    iso[rows[2]["encounter_id"]] = "2026-07-15"
    step3 = [r for r in step2 if "2026-07-01" <= iso[r["encounter_id"]] <= "2026-07-20"]
    assert [e["rows"] for e in excluded] == [1, len(step1) - len(step2), len(step2) - len(step3)]
    assert record["frame"]["size"] == len(step3)
    assert rows[3] in step3 and rows[2] in step3


def test_in_and_not_empty_filters(tmp_path: Path) -> None:
    rows = universe_rows(100)
    rows[5]["coder_id"] = ""
    filters = [
        {"column": "coder", "op": "not empty"},
        {"column": "setting", "op": "in", "value": ["inpatient", "outpatient"]},
    ]
    _, sample, record = draw(tmp_path, rows, frame={"filters": filters}, size={"n": 5})
    expected = [r for r in rows if r["coder_id"] and r["setting"] != "professional"]
    assert record["frame"]["size"] == len(expected)
    assert record["frame"]["excluded"][0]["rows"] == 1


def test_frame_order_is_numeric_for_numeric_ids(tmp_path: Path) -> None:
    rows = universe_rows(12)
    for i, row in enumerate(rows):
        row["encounter_id"] = str([5, 40, 300, 2, 1000, 7, 61, 88, 9, 10, 11, 100][i])
    _, sample, record = draw(tmp_path, rows, size={"n": 12})
    assert sample.sort("frame_number")["encounter_id"].to_list() == [
        "2", "5", "7", "9", "10", "11", "40", "61", "88", "100", "300", "1000"
    ]  # fmt: skip
    assert "whole numbers" in record["design"]["frame_order"]


def test_frame_order_is_text_order_otherwise(tmp_path: Path) -> None:
    ids = ["b2", "B1", "a10", "a9", "é1", "a", "Z", "a1", "ab", "a\u00e0"]
    rows = universe_rows(len(ids))
    for row, unit in zip(rows, ids, strict=True):
        row["encounter_id"] = unit
    _, sample, record = draw(tmp_path, rows, size={"n": len(ids)})
    assert sample.sort("frame_number")["encounter_id"].to_list() == sorted(ids)
    assert "code-point order" in record["design"]["frame_order"]


def test_long_ids_sharing_a_prefix_are_ordered(tmp_path: Path) -> None:
    ids = [f"CLAIM-2026-{i:012d}-{s}" for i, s in [(5, "B"), (5, "A"), (12, "A"), (3, "Z")]]
    ids += ["CLAIM-2026", "CLAIM-2026-000000000005"]
    rows = universe_rows(len(ids))
    for row, unit in zip(rows, ids, strict=True):
        row["encounter_id"] = unit
    _, sample, _ = draw(tmp_path, rows, size={"n": len(ids)})
    assert sample.sort("frame_number")["encounter_id"].to_list() == sorted(ids)


def test_spares_follow_in_draw_order_and_are_capped(tmp_path: Path) -> None:
    _, sample, record = draw(tmp_path, universe_rows(25), size={"n": 20}, spares=10)
    assert record["strata"][0]["spares"] == 5
    spares = sample.filter(pl.col("spare")).sort("selection_order")
    assert spares["selection_order"].to_list() == [21, 22, 23, 24, 25]


def test_generated_seed_is_recorded_and_reproduces(tmp_path: Path) -> None:
    universe = write_csv(tmp_path / "u.csv", universe_rows(300))
    plan = write_plan(tmp_path / "p.yaml", rng={"generator": "pcg64"})
    first = draw_sample(plan, universe, tmp_path / "a")
    assert first.seed_generated
    used = (tmp_path / "a" / "plan.yaml").read_text("utf-8")
    assert f"seed: {first.seed}" in used
    (tmp_path / "again.yaml").write_text(used, "utf-8")
    draw_sample(tmp_path / "again.yaml", universe, tmp_path / "b")
    assert read_sample(tmp_path / "a").equals(read_sample(tmp_path / "b"))


def test_seed_on_the_command_line(tmp_path: Path) -> None:
    universe = write_csv(tmp_path / "u.csv", universe_rows(50))
    plan = write_plan(tmp_path / "p.yaml", rng={"generator": "ratstats"})
    summary = draw_sample(plan, universe, tmp_path / "a", seed=48863.78)
    assert summary.seed == 48863.78 and not summary.seed_generated
    with pytest.raises(PlanError, match="Two different seeds"):
        draw_sample(write_plan(tmp_path / "q.yaml"), universe, tmp_path / "b", seed=48863.78)
    with pytest.raises(PlanError, match="does not suit"):
        draw_sample(write_plan(tmp_path / "r.yaml", rng={}), universe, tmp_path / "c", seed=1.5)
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_non_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "notes.txt").write_text("mine")
    with pytest.raises(AuditError, match="non-empty folder"):
        draw(tmp_path)
    assert (tmp_path / "audit" / "notes.txt").read_text() == "mine"


# -- impossible designs and bad input: clear errors, nothing written ------------------------------


@pytest.mark.parametrize(
    ("overrides", "error", "where"),
    [
        ({"size": {"n": 500}}, SamplingError, "audit.yaml: size.n"),
        (
            {"design": {"method": "stratified", "strata": {"by": ["coder"]}},
             "size": {"total": 900}},
            SamplingError,
            "audit.yaml: size.total",
        ),
        (
            {"design": {"method": "stratified",
                        "strata": {"dollar_bands": {"column": "paid", "edges": [0, 50, 100000]}}},
             "size": {"per_stratum": 5}},
            SamplingError,
            "audit.yaml: design.strata, stratum 'paid >= 100,000'",
        ),
        ({"columns": {"unit_id": "encounter_id", "paid": "paid_amt"}}, InputError, "paid_amt"),
        ({"design": {"method": "stratified", "strata": {"by": ["region"]}},
          "size": {"per_stratum": 5}}, InputError, "column 'region'"),
    ],
)  # fmt: skip
def test_impossible_designs_write_nothing(
    tmp_path: Path, overrides: dict[str, Any], error: type[Exception], where: str
) -> None:
    with pytest.raises(error) as info:
        draw(tmp_path, universe_rows(200), **overrides)
    assert any(where in p.where for p in info.value.problems), info.value  # type: ignore[attr-defined]
    assert not (tmp_path / "audit").exists()


def test_negative_band_edges_are_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError):
        draw(
            tmp_path,
            design={
                "method": "stratified",
                "strata": {"dollar_bands": {"column": "paid", "edges": [-100, 0, 500]}},
            },
            size={"per_stratum": 5},
        )
    assert not (tmp_path / "audit").exists()


def test_empty_stratum_can_be_skipped(tmp_path: Path) -> None:
    _, _, record = draw(
        tmp_path,
        design={
            "method": "stratified",
            "strata": {
                "dollar_bands": {"column": "paid", "edges": [0, 50, 100000]},
                "skip_empty": True,
            },
        },
        size={"per_stratum": 5},
    )
    assert [s["stratum"] for s in record["strata"]] == ["paid 0 to <50", "paid 50 to <100,000"]
    assert "left out" in record["notes"][0]


def test_every_data_problem_is_reported_at_once(tmp_path: Path) -> None:
    rows = universe_rows(50)
    rows[3]["encounter_id"] = rows[4]["encounter_id"]
    rows[10]["paid_amount"] = "twelve"
    rows[11]["paid_amount"] = "-5"
    rows[12]["coder_id"] = " "
    rows[13]["encounter_id"] = ""
    with pytest.raises(InputError) as info:
        draw(
            tmp_path,
            rows,
            design={"method": "stratified", "strata": {"by": ["coder"]}},
            size={"per_stratum": 2},
        )
    text = info.value.render()
    assert info.value.summary == "The universe file has 5 problem(s)."
    assert "row 12: expected an amount such as 1234.50" in text
    assert "row 13: expected an amount >= 0" in text
    assert "(coder), row 14: expected a value in every row" in text
    assert "(unit_id), row 15: expected a unit id" in text
    assert f"1 id on more than one row (2 rows), e.g. {rows[4]['encounter_id']} (rows 5, 6)" in text
    assert "twelve" not in text and "Testpatient" not in text
    assert not (tmp_path / "audit").exists()


def test_non_numeric_cells_excluded_by_other_filters_are_not_reported(tmp_path: Path) -> None:
    rows = universe_rows(40)
    rows[0]["setting"] = "professional"
    rows[0]["paid_amount"] = "n/a"
    _, _, record = draw(
        tmp_path,
        rows,
        frame={"filters": [{"column": "setting", "op": "!=", "value": "professional"}]},
        size={"n": 5},
    )
    assert record["frame"]["excluded"][0]["rows"] >= 1


def test_empty_frame_after_filters(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        draw(tmp_path, frame={"filters": [{"column": "paid", "op": ">", "value": 1e9}]})
    assert info.value.problems[0].expected == "at least one unit left after the frame filters"
    assert "paid > 1000000000.0: 200 rows" in info.value.problems[0].found


def test_header_only_universe(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(",".join(universe_rows(1)[0]) + "\n")
    with pytest.raises(InputError, match="no units"):
        draw(tmp_path, universe=path)


# -- formats and options --------------------------------------------------------------------------


def test_parquet_and_xlsx_give_the_same_sample(tmp_path: Path) -> None:
    rows = universe_rows(150)
    csv_path = write_csv(tmp_path / "u.csv", rows)
    pl.read_csv(csv_path, infer_schema=False).write_parquet(tmp_path / "u.parquet")
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.append(list(rows[0]))
    for row in rows:
        ws.append(list(row.values()))
    workbook.save(tmp_path / "u.xlsx")
    columns = ["encounter_id", "stratum", "frame_number", "selection_order", "spare"]
    samples = []
    for suffix in ("csv", "parquet", "xlsx"):
        _, sample, record = draw(
            tmp_path, name=f"a_{suffix}", universe=tmp_path / f"u.{suffix}", spares=2
        )
        assert record["universe"]["format"] == suffix
        samples.append(sample.select(columns))
    assert samples[0].equals(samples[1]) and samples[0].equals(samples[2])


def test_latin1_universe_is_noted(tmp_path: Path) -> None:
    rows = universe_rows(30)
    rows[3]["patient_name"] = "Testpatient Müller"
    path = tmp_path / "u.csv"
    write_csv(path, rows)
    path.write_bytes(path.read_text("utf-8").encode("latin-1"))
    _, sample, record = draw(tmp_path, universe=path, size={"n": 30})
    assert record["universe"]["encoding"] == "latin-1"
    assert "Latin-1" in record["notes"][0]
    assert "Testpatient Müller" in sample["patient_name"].to_list()


def test_target_size_from_probe(tmp_path: Path) -> None:
    _, sample, record = draw(
        tmp_path,
        universe_rows(2000),
        size={"target": {"confidence": 0.90, "precision": 0.25, "probe_mean": 40.0,
                         "probe_sd": 120.0}},
    )  # fmt: skip
    # UG2010 p. 5-6: n = (SD*N)^2 / ((E/z)^2 + N*SD^2) with E = 0.25 * 40 * 2000 = 20,000,
    # z(90%) = 1.6448536: 240,000^2 / (12,159.2^2 + 2000 * 120^2) = 326.07 -> 326.
    assert record["sample_size"]["computed_n"] == 326
    assert sample.height == 326


def test_target_size_from_probe_file(tmp_path: Path) -> None:
    probe = tmp_path / "probe.csv"
    probe.write_text(
        "unit,difference\n"
        + "".join(f"U{i},{v}\n" for i, v in enumerate([0, 0, 120, 40, 0, 300, 10, 0]))
    )
    _, _, record = draw(
        tmp_path,
        universe_rows(500),
        size={"target": {"precision": 0.25, "probe_file": "probe.csv"}},
    )
    assert record["sample_size"]["probe"]["size"] == 8
    assert record["sample_size"]["computed_n"] > 0


def test_progress_messages(tmp_path: Path) -> None:
    messages: list[str] = []
    universe = write_csv(tmp_path / "u.csv", universe_rows(40))
    draw_sample(write_plan(tmp_path / "p.yaml"), universe, tmp_path / "a", progress=messages.append)
    assert messages[0].startswith("Reading u.csv")
    assert any(m.startswith("Drawing 20 units") for m in messages)


# -- pseudonymisation ----------------------------------------------------------------------------


def test_pseudonymised_patients_are_stable_across_audits(tmp_path: Path) -> None:
    key = tmp_path / "secret.key"
    key.write_text("0123456789abcdef0123456789abcdef\n")
    universe = write_csv(tmp_path / "u.csv", universe_rows(60))
    plan = write_plan(tmp_path / "p.yaml", pseudonymise=True, size={"n": 60})
    draw_sample(plan, universe, tmp_path / "a", key_file=key)
    plan2 = write_plan(tmp_path / "p2.yaml", pseudonymise=True, size={"n": 60},
                       rng={"generator": "pcg64", "seed": 7})  # fmt: skip
    draw_sample(plan2, universe, tmp_path / "b", key_file=key)
    a = read_sample(tmp_path / "a").sort("encounter_id")
    b = read_sample(tmp_path / "b").sort("encounter_id")
    assert a["patient_name"].equals(b["patient_name"])
    assert a["patient_name"].str.starts_with("PX-").all()
    names = {r["patient_name"] for r in universe_rows(60)}
    for path in (tmp_path / "a").iterdir():
        text = path.read_text("utf-8")
        assert not any(name in text for name in names), path.name
    assert "0123456789abcdef" not in (tmp_path / "a" / "sampling.json").read_text("utf-8")
    record = json.loads((tmp_path / "a" / "sampling.json").read_text("utf-8"))
    assert record["pseudonymisation"]["columns"] == ["patient_name"]


def test_pseudonymisation_needs_a_key_outside_the_audit(tmp_path: Path) -> None:
    universe = write_csv(tmp_path / "u.csv", universe_rows(20))
    plan = write_plan(tmp_path / "p.yaml", pseudonymise=True)
    with pytest.raises(AuditError, match="needs a key"):
        draw_sample(plan, universe, tmp_path / "a")
    draw_sample(write_plan(tmp_path / "q.yaml"), universe, tmp_path / "a")
    inside = tmp_path / "a" / "k.key"
    inside.write_text("0123456789abcdef0123456789abcdef")
    before = read_sample(tmp_path / "a")
    with pytest.raises(InputError) as info:
        draw_sample(plan, universe, tmp_path / "a", key_file=inside, force=True)
    assert "outside the audit folder" in info.value.problems[0].expected
    assert read_sample(tmp_path / "a").equals(before)
    with pytest.raises(AuditError, match="does not pseudonymise"):
        draw_sample(write_plan(tmp_path / "r.yaml"), universe, tmp_path / "b", key_file=inside)
    short = tmp_path / "short.key"
    short.write_text("abc")
    with pytest.raises(InputError, match="cannot be used"):
        draw_sample(plan, universe, tmp_path / "c", key_file=short)
