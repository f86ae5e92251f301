"""Financial bases: entered, fee schedule, MS-DRG regrouping (docs/methods.md section 7.4)."""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from audit_kit.errors import InputError
from audit_kit.scoring.comparison import CodeSet
from audit_kit.scoring.financial import (
    FinancialInput,
    UnitAmount,
    compute_amounts,
    grouper_version,
    load_drg_weights,
    load_fee_schedule,
    msdrg_sex,
    totals,
)
from audit_kit.values.codes import parse_cpt

CMS = Path(__file__).parent / "data" / "cms"
#: FY 2026 national base rate: operating $6,752.61 + capital $524.15 (tests/data/cms/README.md).
BASE_RATE = 7276.76


def cpt(*items: str) -> CodeSet:
    return CodeSet(cpt=tuple(p for p in (parse_cpt(i) for i in items) if p is not None))


# -- entered -------------------------------------------------------------------------------------


def test_entered_basis() -> None:
    units = [
        FinancialInput(unit_id="A", examined=100.0, entered=80.0, has_error=True),
        FinancialInput(unit_id="B", examined=50.0),  # error-free, blank: paid correctly
        FinancialInput(unit_id="C", examined=70.0, entered=90.0, has_error=True),
        FinancialInput(unit_id="D", examined=40.0, entered=40.0, record_missing=True),
    ]
    amounts = compute_amounts(units, basis="entered")
    assert [(a.examined, a.audited, a.difference) for a in amounts] == [
        (100.0, 80.0, 20.0),
        (50.0, 50.0, 0.0),
        (70.0, 90.0, -20.0),
        (40.0, 0.0, 40.0),  # record missing: the full paid amount is at stake
    ]


def test_entered_basis_blank_amount_on_an_error_is_a_problem() -> None:
    units = [
        FinancialInput(unit_id="A", examined=100.0, has_error=True),
        FinancialInput(unit_id="B", examined=None, entered=5.0),
    ]
    with pytest.raises(InputError) as info:
        compute_amounts(units, basis="entered")
    wheres = [p.where for p in info.value.problems]
    assert wheres == ["unit A: Audited amount", "unit B: paid"]


def test_totals() -> None:
    amounts = [
        UnitAmount(unit_id="a", examined=100, audited=80),
        UnitAmount(unit_id="b", examined=70, audited=90),
        UnitAmount(unit_id="c", examined=10, audited=10),
    ]
    assert totals(amounts) == {
        "examined": 180,
        "audited": 180,
        "overpayment": 20,
        "underpayment": 20,
        "net": 0,
        "gross": 40,
    }


# -- fee schedule --------------------------------------------------------------------------------


def test_derived_fee_schedule_matches_the_cms_rvus() -> None:
    # Independent check of the derived test file: allowed = non-facility total RVU x CF, to cents.
    with (CMS / "pfs_rvu_cy2026_excerpt.csv").open() as fh:
        rvus = {(r["code"], r["modifier"]): r for r in csv.DictReader(fh)}
    with (CMS / "fee_schedule_cy2026_nonfacility.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 13
    for row in rows:
        rvu = rvus[(row["code"], row["modifier"])]
        amount = Decimal(rvu["nonfac_total"]) * Decimal(rvu["conv_factor"])
        assert Decimal(row["allowed_amount"]) == amount.quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_fee_schedule_basis() -> None:
    schedule = load_fee_schedule(CMS / "fee_schedule_cy2026_nonfacility.csv")
    units = [
        # 99214 (4.06 RVU -> $135.61) down-coded to 99213 (2.85 RVU -> $95.19)
        FinancialInput(unit_id="A", original=cpt("99214-25", "93000"), audited=cpt("99213")),
        # professional component priced by its modifier row; units multiply
        FinancialInput(unit_id="B", original=cpt("71046-26"), audited=cpt("71046-26", "93000x2")),
        FinancialInput(unit_id="C", original=cpt("99215"), record_missing=True),
    ]
    amounts = compute_amounts(units, basis="fee_schedule", fee_schedule=schedule)
    assert amounts[0].examined == pytest.approx(135.61 + 15.36)
    assert amounts[0].audited == pytest.approx(95.19)
    assert amounts[0].difference == pytest.approx(135.61 + 15.36 - 95.19)
    assert amounts[1].examined == pytest.approx(10.02)
    assert amounts[1].audited == pytest.approx(10.02 + 2 * 15.36)
    assert (amounts[2].examined, amounts[2].audited) == (pytest.approx(192.39), 0.0)


def test_fee_schedule_unlisted_code_names_the_unit() -> None:
    schedule = load_fee_schedule(CMS / "fee_schedule_cy2026_nonfacility.csv")
    units = [FinancialInput(unit_id="U7", original=cpt("99213", "36415"), audited=cpt("99213"))]
    with pytest.raises(InputError) as info:
        compute_amounts(units, basis="fee_schedule", fee_schedule=schedule)
    assert [p.where for p in info.value.problems] == ["unit U7: 36415"]
    assert "36415 not listed" in info.value.problems[0].found


def test_fee_schedule_file_problems_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "fees.csv"
    path.write_text("code,modifier,allowed_amount\n99213,,95.19\n9921,,1\n99214,,abc\n99213,,2\n")
    with pytest.raises(InputError) as info:
        load_fee_schedule(path)
    assert [p.where for p in info.value.problems] == [
        f"{path}: row 3, code",
        f"{path}: row 4, allowed_amount",
        f"{path}: row 5",
    ]
    bad = tmp_path / "nocol.csv"
    bad.write_text("code,price\n99213,1\n")
    with pytest.raises(InputError, match="cannot be used"):
        load_fee_schedule(bad)


# -- MS-DRG --------------------------------------------------------------------------------------


def inpatient(unit_id: str, original: tuple[str, ...], audited: tuple[str, ...]) -> FinancialInput:
    return FinancialInput(
        unit_id=unit_id,
        original=CodeSet(dx=original),
        audited=CodeSet(dx=audited),
        age=72.0,
        sex="M",
        discharge_status="01",
        service_date="2026-01-15",
    )


def test_drg_added_mcc_changes_drg_and_payment() -> None:
    # Heart failure I50.20 alone groups to MS-DRG 293 (weight 0.5660); the auditor adds acute
    # respiratory failure with hypoxia J96.01, an MCC: DRG 291 (weight 1.2838), FY 2026 Table 5.
    weights = load_drg_weights(CMS / "msdrg_weights_fy2026.csv")
    units = [
        inpatient("H1", ("I50.20",), ("I50.20", "J96.01")),
        inpatient("H2", ("I50.20", "N17.9"), ("I50.20",)),  # CC N17.9 deleted: 292 -> 293
    ]
    amounts = compute_amounts(units, basis="drg", drg_weights=weights, base_rate=BASE_RATE)
    h1, h2 = amounts
    assert h1.original_drg is not None and h1.audited_drg is not None
    assert (h1.original_drg.drg, h1.audited_drg.drg) == ("293", "291")
    assert h1.original_drg.version == 431
    assert h1.examined == pytest.approx(0.5660 * BASE_RATE)
    assert h1.difference == pytest.approx((0.5660 - 1.2838) * BASE_RATE)  # underpaid $5,223.26
    assert h1.difference == pytest.approx(-5223.26, abs=0.005)
    assert h2.original_drg is not None and h2.audited_drg is not None
    assert (h2.original_drg.drg, h2.audited_drg.drg) == ("292", "293")
    assert h2.difference == pytest.approx((0.8490 - 0.5660) * BASE_RATE)


def test_drg_failures_name_the_unit_and_return_code() -> None:
    weights = load_drg_weights(CMS / "msdrg_weights_fy2026.csv")
    bad_pdx = inpatient("H3", ("Z99.99",), ("I50.20",))
    no_demographics = FinancialInput(
        unit_id="H4", original=CodeSet(dx=("I50.20",)), audited=CodeSet(dx=("I50.20",))
    )
    with pytest.raises(InputError) as info:
        compute_amounts(
            [bad_pdx, no_demographics], basis="drg", drg_weights=weights, base_rate=BASE_RATE
        )
    problems = info.value.problems
    assert [p.where for p in problems] == [
        "unit H3: original coding",
        "unit H4: age",
        "unit H4: sex",
        "unit H4: discharge_status",
    ]
    assert "return code INVALID_PDX" in problems[0].found


def test_drg_basis_needs_weights_and_base_rate() -> None:
    with pytest.raises(InputError) as info:
        compute_amounts([], basis="drg")
    assert [p.where for p in info.value.problems] == [
        "plan: financial.drg_weights",
        "plan: financial.base_rate",
    ]


def test_drg_weights_file() -> None:
    weights = load_drg_weights(CMS / "msdrg_weights_fy2026.csv").weights
    assert len(weights) == 772
    assert weights["291"] == 1.2838 and weights["470"] == 1.9289
    assert weights["998"] is None  # Table 5 prints "." for 998 and 999


@pytest.mark.parametrize(
    ("date", "version"),
    [
        ("2025-10-01", 431),  # FY 2026 starts 1 October 2025
        ("2025-09-30", 421),
        ("2026-10-01", 440),
        (None, 431),
        ("2030-01-01", None),
        ("not a date", None),
    ],
)
def test_grouper_version(date: str | None, version: int | None) -> None:
    assert grouper_version(date) == version


@pytest.mark.parametrize(
    ("value", "code"), [("M", 0), ("female", 1), ("2", 1), ("1", 0), ("U", 2), ("X", None)]
)
def test_msdrg_sex(value: str, code: int | None) -> None:
    assert msdrg_sex(value) == code
