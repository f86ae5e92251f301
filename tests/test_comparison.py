"""Code-over-code comparison: every rule of docs/methods.md section 7.1 on hand-computed cases."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit_kit.errors import PlanError
from audit_kit.scoring.comparison import (
    DEFAULT_WEIGHTS,
    CodeSet,
    UnitComparison,
    compare_unit,
    em_family,
    resolve_weights,
)
from audit_kit.values.codes import CptItem, parse_cpt


def lines(*items: str) -> tuple[CptItem, ...]:
    parsed = tuple(parse_cpt(i) for i in items)
    assert all(p is not None for p in parsed)
    return parsed  # type: ignore[return-value]


def dx(*codes: str) -> CodeSet:
    return CodeSet(dx=codes)


def accuracy(comp: UnitComparison) -> float:
    return comp.correct / (comp.correct + comp.weighted_errors)


def test_identical_coding_has_no_error() -> None:
    o = CodeSet(dx=("I50.20", "E11.9"), px=("02703DZ",), cpt=lines("99223"), drg="291")
    comp = compare_unit(o, o)
    assert (comp.kept, comp.deleted, comp.added, comp.revised) == (4, 0, 0, 0)
    assert comp.reviewed == 4 and comp.correct == 4
    assert comp.weighted_errors == 0 and not comp.code_error
    assert comp.drg_changed is False


def test_same_category_is_one_revision() -> None:
    # E11.9 -> E11.65: deleted 1 + added 1 - revised 1 = one error. reviewed 2, correct 1.
    comp = compare_unit(dx("I50.20", "E11.9"), dx("I50.20", "E11.65"))
    assert (comp.kept, comp.deleted, comp.added, comp.revised) == (1, 1, 1, 1)
    assert comp.reviewed == 2 and comp.correct == 1
    assert comp.weighted_errors == 1
    assert accuracy(comp) == pytest.approx(1 / 2)
    assert comp.changes()["revised"] == [["E11.9", "E11.65"]]
    assert comp.changes()["added"] == [] and comp.changes()["deleted"] == []


def test_other_category_counts_twice() -> None:
    # E11.9 deleted, N17.9 added: two errors; reviewed 1 + 1 + 1 = 3, accuracy 1/3.
    comp = compare_unit(dx("I50.20", "E11.9"), dx("I50.20", "N17.9"))
    assert (comp.deleted, comp.added, comp.revised) == (1, 1, 0)
    assert comp.reviewed == 3 and comp.weighted_errors == 2
    assert accuracy(comp) == pytest.approx(1 / 3)


def test_changed_principal_dx_counts_once_with_its_weight() -> None:
    # I50.20 -> J96.01 as principal (other category): one error of class principal_dx, weight 2.
    # kept E11.9; reviewed = 1 + 1 + 1 - 1 = 2; correct 1; accuracy 1 / (1 + 2).
    comp = compare_unit(dx("I50.20", "E11.9"), dx("J96.01", "E11.9"))
    assert comp.principal_dx_changed
    assert (comp.kept, comp.deleted, comp.added, comp.revised) == (1, 1, 1, 1)
    assert comp.reviewed == 2 and comp.correct == 1
    assert comp.weighted_errors == 2
    assert accuracy(comp) == pytest.approx(1 / 3)
    assert comp.by_type["dx"].errors == {"principal_dx": 1}


def test_principal_weight_is_configurable() -> None:
    weights = resolve_weights({"principal_dx": 3})
    comp = compare_unit(dx("I50.20"), dx("I50.22"), weights=weights)
    # Same category, but a principal change: one error, weight 3, not an ordinary revision.
    assert comp.revised == 1 and comp.weighted_errors == 3
    assert comp.by_type["dx"].errors == {"principal_dx": 1}


def test_resequenced_principal_is_one_misplaced_code() -> None:
    # [A, B] -> [B, A]: both kept, one in the wrong place. reviewed 2, correct 1, error weight 2.
    comp = compare_unit(dx("I50.20", "N17.9"), dx("N17.9", "I50.20"))
    assert comp.principal_dx_changed
    assert (comp.kept, comp.deleted, comp.added) == (2, 0, 0)
    assert comp.reviewed == 2 and comp.correct == 1 and comp.weighted_errors == 2
    assert not comp.sequencing_changed  # the principal swap is not a sequencing change


def test_promoted_secondary_principal() -> None:
    # [A, B, C] -> [B, C]: A deleted, B promoted. The deletion is the principal error (weight 2).
    comp = compare_unit(dx("R07.9", "I21.4", "I10"), dx("I21.4", "I10"))
    assert (comp.kept, comp.deleted, comp.added, comp.revised) == (2, 1, 0, 0)
    assert comp.reviewed == 3 and comp.correct == 2 and comp.weighted_errors == 2
    assert comp.by_type["dx"].errors == {"principal_dx": 1}


def test_sequencing_is_counted_separately() -> None:
    o = dx("I50.20", "E11.9", "I10", "N18.3")
    a = dx("I50.20", "N18.3", "E11.9", "I10")
    comp = compare_unit(o, a)
    assert comp.sequencing_changed and not comp.principal_dx_changed
    assert comp.weighted_errors == 0 and not comp.code_error  # default weight 0: reported only
    scored = compare_unit(o, a, weights=resolve_weights({"sequencing": 1}))
    assert scored.weighted_errors == 1 and scored.code_error
    assert scored.reviewed == 4 and scored.correct == 4


def test_em_family_level_change_is_one_revision() -> None:
    comp = compare_unit(CodeSet(cpt=lines("99214")), CodeSet(cpt=lines("99213")))
    assert (comp.kept, comp.deleted, comp.added, comp.revised) == (0, 1, 1, 1)
    assert comp.reviewed == 1 and comp.weighted_errors == 1
    assert comp.changes()["revised"] == [["99214", "99213"]]


def test_new_and_established_patient_are_different_families() -> None:
    comp = compare_unit(CodeSet(cpt=lines("99203")), CodeSet(cpt=lines("99213")))
    assert (comp.deleted, comp.added, comp.revised) == (1, 1, 0)
    assert comp.weighted_errors == 2


@pytest.mark.parametrize(
    ("code", "family"),
    [
        ("99202", "office or outpatient, new patient"),
        ("99215", "office or outpatient, established patient"),
        ("99223", "initial hospital inpatient or observation care"),
        ("99232", "subsequent hospital inpatient or observation care"),
        ("99285", "emergency department visit"),
        ("99201", None),  # deleted in 2021, not a level of a current family
        ("36415", None),
        ("J1100", None),
    ],
)
def test_em_families(code: str, family: str | None) -> None:
    assert em_family(code) == family


def test_deleted_modifier_keeps_the_line() -> None:
    # 99214-25 -> 99214: the line is kept (1 correct), modifier 25 deleted (1 error).
    comp = compare_unit(CodeSet(cpt=lines("99214-25")), CodeSet(cpt=lines("99214")))
    assert comp.by_type["cpt"].kept == ("99214",)
    assert comp.by_type["modifiers"].deleted == ("99214-25",)
    assert comp.reviewed == 2 and comp.correct == 1 and comp.weighted_errors == 1
    assert comp.changes()["deleted"] == ["modifier 25 on 99214"]


def test_other_modifier_is_one_revision() -> None:
    comp = compare_unit(CodeSet(cpt=lines("99214-25")), CodeSet(cpt=lines("99214-59")))
    mods = comp.by_type["modifiers"]
    assert mods.revised == (("99214-25", "99214-59"),)
    assert comp.weighted_errors == 1 and comp.reviewed == 2


def test_other_units_is_one_revision() -> None:
    comp = compare_unit(CodeSet(cpt=lines("J1100x3")), CodeSet(cpt=lines("J1100")))
    assert comp.by_type["cpt"].revised == (("J1100x3", "J1100"),)
    assert comp.weighted_errors == 1 and comp.reviewed == 1


def test_modifier_order_is_sequencing() -> None:
    comp = compare_unit(CodeSet(cpt=lines("64483-50-RT")), CodeSet(cpt=lines("64483-RT-50")))
    assert comp.by_type["modifiers"].sequencing_changed
    assert comp.weighted_errors == 0  # kept, only re-ordered


def test_observe_only_types_are_counted_but_not_scored() -> None:
    o = CodeSet(dx=("I10",), cpt=lines("99214-25"))
    a = CodeSet(dx=("I10",), cpt=lines("99214"))
    comp = compare_unit(o, a, observe_only=["modifiers"])
    assert comp.by_type["modifiers"].observe_only
    assert comp.by_type["modifiers"].deleted == ("99214-25",)
    assert comp.weighted_errors == 0 and not comp.code_error
    assert comp.reviewed == 2 and comp.correct == 2  # dx I10 + line 99214


def test_observe_only_drg() -> None:
    comp = compare_unit(CodeSet(drg="292"), CodeSet(drg="291"), observe_only=["drg"])
    assert comp.drg_changed is True and not comp.drg_error


def test_record_missing_deletes_every_original_code() -> None:
    o = CodeSet(dx=("I50.20", "E11.9"), cpt=lines("99223-25"), drg="291")
    comp = compare_unit(o, o, record_missing=True)
    assert (comp.kept, comp.deleted, comp.added) == (0, 3, 0)
    assert comp.reviewed == 3 and comp.correct == 0 and comp.weighted_errors == 3
    assert comp.drg_changed is True and comp.drg_error
    assert not comp.principal_dx_changed


def test_revision_pairs_one_to_one() -> None:
    # Two E11 codes deleted, one E11 code added: one revision, one deletion.
    comp = compare_unit(dx("I10", "E11.9", "E11.65"), dx("I10", "E11.22"))
    assert comp.revised == 1 and comp.weighted_errors == 2
    assert comp.reviewed == 1 + 2 + 1 - 1


def test_unknown_weight_class_is_refused() -> None:
    with pytest.raises(PlanError) as info:
        resolve_weights({"principle_dx": 2, "added": -1})
    wheres = [p.where for p in info.value.problems]
    assert wheres == ["plan: scoring.weights.principle_dx", "plan: scoring.weights.added"]


DX_POOL = ["I50.20", "I50.22", "E11.9", "E11.65", "N17.9", "J96.01", "I10"]
CPT_POOL = ["99213", "99214-25", "99214", "99203", "J1100x2", "J1100", "36415"]


@given(
    st.lists(st.sampled_from(DX_POOL), max_size=5, unique=True),
    st.lists(st.sampled_from(DX_POOL), max_size=5, unique=True),
    st.lists(st.sampled_from(CPT_POOL), max_size=4),
    st.lists(st.sampled_from(CPT_POOL), max_size=4),
)
def test_unit_weights_make_correct_plus_errors_equal_reviewed(
    o_dx: list[str], a_dx: list[str], o_cpt: list[str], a_cpt: list[str]
) -> None:
    weights = {**DEFAULT_WEIGHTS, "principal_dx": 1.0, "sequencing": 0.0}
    comp = compare_unit(
        CodeSet(dx=tuple(o_dx), cpt=lines(*o_cpt)),
        CodeSet(dx=tuple(a_dx), cpt=lines(*a_cpt)),
        weights=weights,
    )
    assert comp.correct + comp.weighted_errors == comp.reviewed
    assert comp.reviewed == comp.kept + comp.deleted + comp.added - comp.revised
    same_cpt = Counter(o_cpt) == Counter(a_cpt)
    same_dx = set(o_dx) == set(a_dx) and o_dx[:1] == a_dx[:1]
    assert (comp.weighted_errors == 0) == (same_dx and same_cpt)
