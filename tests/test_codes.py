"""codes.py: splitting, normalisation (notes) and validation (problems) of code lists."""

from __future__ import annotations

import random
import warnings

import pytest

from audit_kit.values.codes import (
    CptItem,
    check_code,
    check_codes,
    icd10cm_status,
    icd10cm_version,
    join_codes,
    normalize_code,
    parse_cpt,
    split_codes,
)


@pytest.mark.parametrize(
    ("cell", "sep", "expected"),
    [
        ("E11.9;I10", ";", ["E11.9", "I10"]),
        ("E11.9; I10 ,Z79.4", ";", ["E11.9", "I10", "Z79.4"]),
        ("E11.9 I10\tZ79.4\nJ44.9", ";", ["E11.9", "I10", "Z79.4", "J44.9"]),
        ("E11.9|I10", "|", ["E11.9", "I10"]),
        ("99214-25;93000", ";", ["99214-25", "93000"]),
        ("", ";", []),
        ("  ;; , ", ";", []),
        (None, ";", []),
        (float("nan"), ";", []),
        (["E11.9;I10", None, "J44.9"], ";", ["E11.9", "I10", "J44.9"]),
        ("I10;I10", ";", ["I10", "I10"]),
    ],
)
def test_split_codes(cell: object, sep: str, expected: list[str]) -> None:
    assert split_codes(cell, sep) == expected


def test_join_is_the_inverse_of_split() -> None:
    codes = ["E11.9", "I10", "Z79.4"]
    assert join_codes(codes) == "E11.9;I10;Z79.4"
    assert split_codes(join_codes(codes)) == codes


@pytest.mark.parametrize(
    ("raw", "kind", "norm", "noted"),
    [
        ("e119", "dx", "E11.9", True),
        ("E119", "dx", "E11.9", True),
        ("E11.9", "dx", "E11.9", False),
        ("s72001a", "dx", "S72.001A", True),
        ("I10.", "dx", "I10", True),
        ("0dtj4zz", "px", "0DTJ4ZZ", True),
        ("99214-25", "cpt", "99214-25", False),
        ("g0439-gt", "cpt", "G0439-GT", True),
        ("97110-59X2", "cpt", "97110-59x2", True),
        ("97110*3", "cpt", "97110x3", True),
        ("99213x1", "cpt", "99213", True),
        ("65", "drg", "065", True),
        ("DRG 871", "drg", "871", True),
        ("MS-DRG 065", "drg", "065", True),
    ],
)
def test_normalisations_are_notes_not_errors(raw: str, kind: str, norm: str, noted: bool) -> None:
    result = check_code(raw, kind)  # type: ignore[arg-type]
    assert result.codes == (norm,)
    assert result.ok, result.problems
    assert bool(result.notes) is noted
    if noted:
        assert norm in result.notes[0]
    assert normalize_code(raw, kind)[0] == norm  # type: ignore[arg-type]


def test_icd10cm_billable_header_unknown() -> None:
    assert icd10cm_status("E11.9") == "billable"
    assert icd10cm_status("E11") == "header"
    assert icd10cm_status("E11.0") == "header"  # subcategory with subcodes
    assert icd10cm_status("S72.001A") == "billable"  # 7th character extension
    assert icd10cm_status("Z99.99") == "unknown"
    assert "2026" in icd10cm_version() or icd10cm_version()


def test_header_code_is_an_error_with_examples() -> None:
    result = check_code("E11", "dx")
    assert not result.ok
    (issue,) = result.problems
    assert "billable" in issue.expected
    assert "E11.00" in issue.fix  # suggests complete codes from the code set


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("Z99.99", "code set"),
        ("E1.19", "ICD-10-CM code"),
        ("123.4", "ICD-10-CM code"),
        ("E11.99999", "ICD-10-CM code"),
    ],
)
def test_dx_problems(raw: str, fragment: str) -> None:
    result = check_code(raw, "dx")
    assert not result.ok
    assert fragment in result.problems[0].expected


@pytest.mark.parametrize("raw", ["0DTJ4Z", "0DTJ4ZZZ", "0DTJ4Z-"])
def test_pcs_needs_seven_characters(raw: str) -> None:
    result = check_code(raw, "px")
    assert not result.ok
    assert "7 characters" in result.problems[0].expected


def test_pcs_letters_i_and_o_get_a_hint() -> None:
    result = check_code("0DTJ4ZO", "px")
    assert "I and O" in result.problems[0].fix


@pytest.mark.parametrize(
    "raw", ["99214", "0001U", "0521F", "0042T", "G0439", "J1100x3", "99213-25-59", "E0114-RR-KH"]
)
def test_valid_cpt_and_hcpcs(raw: str) -> None:
    assert check_code(raw, "cpt").ok


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("9921", "CPT/HCPCS code"),
        ("992145", "CPT/HCPCS code"),
        ("9921425", "CPT/HCPCS code"),
        ("99214-2", "CPT/HCPCS code"),
        ("W1234", "HCPCS Level II"),
        ("0001X", "HCPCS Level II"),
        ("99214-19", "modifiers"),
        ("99214-25-59-76-77-91", "at most 4"),
        ("99214x0", "units"),
    ],
)
def test_invalid_cpt(raw: str, fragment: str) -> None:
    result = check_code(raw, "cpt")
    assert not result.ok
    assert any(fragment in p.expected for p in result.problems), result.problems


def test_parse_cpt() -> None:
    assert parse_cpt("99214-25") == CptItem(code="99214", modifiers=("25",))
    assert parse_cpt("97110-59-gpx2") == CptItem(code="97110", modifiers=("59", "GP"), units=2)
    assert str(CptItem(code="97110", modifiers=("59",), units=2)) == "97110-59x2"
    assert parse_cpt("not a code") is None


@pytest.mark.parametrize("raw", ["0", "000", "1234", "6A5", "DRG"])
def test_invalid_drg(raw: str) -> None:
    result = check_code(raw, "drg")
    assert not result.ok
    assert "3 digits" in result.problems[0].expected


def test_check_codes_collects_every_problem_and_note() -> None:
    result = check_codes("e119; E11; Z99.99, I10", "dx")
    assert result.codes == ("E11.9", "E11", "Z99.99", "I10")
    assert len(result.notes) == 1
    assert [p.code for p in result.problems] == ["E11", "Z99.99"]


def test_code_set_agrees_with_the_package_api() -> None:
    # The fast loader reads the package's code list directly; it must agree with the package.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import simple_icd_10_cm as cm

    every = [c for c in cm.get_all_codes(True) if c[0].isalpha() and "-" not in c]
    rng = random.Random(5)
    for code in [*rng.sample(every, 3000), "E11", "E11.9", "S72.001A", "I10", "M54.5"]:
        expected = "billable" if cm.is_leaf(code) else "header"
        assert icd10cm_status(code) == expected, code
        assert cm.is_valid_item(code)
    for code in ("Z99.99", "E11.99", "A00.9X"):
        assert icd10cm_status(code) == "unknown"
        assert not cm.is_valid_item(code)
