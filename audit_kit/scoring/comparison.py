"""Compare a unit's original coding with the auditor's coding, code over code.

The rules (docs/methods.md section 7.1):

For each code type the original list O and the audited list A are compared as multisets:

* ``kept`` = in both, ``deleted`` = in O only, ``added`` = in A only;
* a deleted and an added code form one **revision** (one error, not two) when they are

  - ``dx`` / ``px``: the same ICD-10 category, i.e. the same first three characters
    (``E11.9`` -> ``E11.65``; ``0DTJ4ZZ`` -> ``0DT...``);
  - ``cpt``: the same CPT/HCPCS code billed with other units, or two codes of one E/M family
    (:data:`EM_FAMILIES`);
  - ``modifiers``: another modifier on the same, matched CPT/HCPCS line;

* CPT/HCPCS lines are compared on (code, units); the modifiers of matched lines are compared as
  their own code type, so ``99214-25`` -> ``99214-59`` is one modifier revision and ``99214-25``
  -> ``99214`` one deleted modifier: in both cases the line itself is kept;
* a changed **principal diagnosis** (first dx) is its own error class, counted once, with the
  weight ``scoring.weights.principal_dx`` (default 2). It takes over the error that the change
  already is: the revision O_p -> A_p (paired whatever the category), the deletion of O_p (a
  secondary was promoted), the addition of A_p (the original principal was demoted); when both
  codes are kept (re-sequenced), one kept code sits in the wrong place and is not counted correct;
* **sequencing**: the kept codes of a type in another relative order (for dx, apart from the
  principal) are counted separately, with weight ``sequencing`` (default 0: reported, not scored).

Counts per unit (docs/methods.md section 7.1)::

    reviewed = kept + deleted + added - revised
    correct  = kept - (re-sequenced principal dx)
    errors   = sum of weight(class) over the errors (unpaired deleted, unpaired added, revised,
               principal_dx, sequencing)
    code accuracy = sum correct / sum (correct + errors)

With every weight 1 and sequencing 0, ``correct + errors == reviewed``. Code types named in
``scoring.observe_only`` are compared and reported but enter no score. A ``record missing`` unit
has every original code deleted (no documentation supports it) and its DRG changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from audit_kit.errors import PlanError
from audit_kit.plan.checks import weight_problems
from audit_kit.plan.model import DEFAULT_WEIGHTS
from audit_kit.values.codes import CptItem

__all__ = [
    "CODE_TYPES",
    "DEFAULT_WEIGHTS",
    "EM_FAMILIES",
    "CodeSet",
    "TypeComparison",
    "UnitComparison",
    "compare_unit",
    "em_family",
    "resolve_weights",
]

CodeType = Literal["dx", "px", "cpt", "modifiers"]
CODE_TYPES: Final[tuple[CodeType, ...]] = ("dx", "px", "cpt", "modifiers")

#: Error classes and their default weights (``scoring.weights`` overrides any of them).

#: E/M families: codes of one family are levels of one service, so a change of level is one
#: revision. (CPT 2023+ code set; 99241/99251 were deleted in 2023 and are not listed.)
EM_FAMILIES: Final[Mapping[str, tuple[int, int]]] = {
    "office or outpatient, new patient": (99202, 99205),
    "office or outpatient, established patient": (99211, 99215),
    "initial hospital inpatient or observation care": (99221, 99223),
    "subsequent hospital inpatient or observation care": (99231, 99233),
    "same-day admission and discharge": (99234, 99236),
    "hospital discharge day management": (99238, 99239),
    "office or outpatient consultation": (99242, 99245),
    "inpatient or observation consultation": (99252, 99255),
    "emergency department visit": (99281, 99285),
    "initial nursing facility care": (99304, 99306),
    "subsequent nursing facility care": (99307, 99310),
    "nursing facility discharge management": (99315, 99316),
    "home or residence visit, new patient": (99341, 99345),
    "home or residence visit, established patient": (99347, 99350),
    "preventive medicine, new patient": (99381, 99387),
    "preventive medicine, established patient": (99391, 99397),
}


def em_family(code: str) -> str | None:
    """Return the E/M family name of a CPT code, or None when it is not an E/M level code."""
    if len(code) != 5 or not code.isdigit():
        return None
    value = int(code)
    for name, (low, high) in EM_FAMILIES.items():
        if low <= value <= high:
            return name
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeSet:
    """The coding of one unit: dx (principal first), px (principal first), CPT lines, DRG."""

    dx: tuple[str, ...] = ()
    px: tuple[str, ...] = ()
    cpt: tuple[CptItem, ...] = ()
    drg: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "dx": list(self.dx),
            "px": list(self.px),
            "cpt": [str(line) for line in self.cpt],
            "drg": self.drg,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeComparison:
    """The comparison of one code type of one unit."""

    code_type: str
    kept: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    revised: tuple[tuple[str, str], ...] = ()
    principal_dx_changed: bool = False
    sequencing_changed: bool = False
    #: kept codes not counted correct (a re-sequenced principal dx)
    misplaced: int = 0
    #: error class -> number of errors of that class
    errors: Mapping[str, int] = field(default_factory=dict)
    observe_only: bool = False

    @property
    def reviewed(self) -> int:
        return len(self.kept) + len(self.deleted) + len(self.added) - len(self.revised)

    @property
    def correct(self) -> int:
        return len(self.kept) - self.misplaced

    def weighted_errors(self, weights: Mapping[str, float]) -> float:
        return sum(weights[cls] * count for cls, count in self.errors.items())

    def added_display(self) -> list[str]:
        """Added codes not part of a revision, as a reader names them."""
        paired = {b for _, b in self.revised}
        return [self._text(c) for c in self.added if c not in paired]

    def deleted_display(self) -> list[str]:
        paired = {a for a, _ in self.revised}
        return [self._text(c) for c in self.deleted if c not in paired]

    def revised_display(self) -> list[tuple[str, str]]:
        return [(self._text(a), self._text(b)) for a, b in self.revised]

    def _text(self, key: str) -> str:
        # A modifier on its own means nothing to a reader: name its line.
        if self.code_type == "modifiers":
            code, _, mod = key.partition("-")
            return f"modifier {mod} on {code}"
        return key

    def counts(self, weights: Mapping[str, float]) -> dict[str, Any]:
        return {
            "reviewed": self.reviewed,
            "correct": self.correct,
            "kept": len(self.kept),
            "added": len(self.added),
            "deleted": len(self.deleted),
            "revised": len(self.revised),
            "principal_dx_changed": int(self.principal_dx_changed),
            "sequencing_changed": int(self.sequencing_changed),
            "weighted_errors": self.weighted_errors(weights),
            "observe_only": self.observe_only,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitComparison:
    """Every code type of one unit compared, with the scored totals."""

    by_type: Mapping[str, TypeComparison]
    drg_changed: bool | None
    drg_scored: bool
    weights: Mapping[str, float]

    def _scored(self) -> list[TypeComparison]:
        return [c for c in self.by_type.values() if not c.observe_only]

    @property
    def kept(self) -> int:
        return sum(len(c.kept) for c in self._scored())

    @property
    def deleted(self) -> int:
        return sum(len(c.deleted) for c in self._scored())

    @property
    def added(self) -> int:
        return sum(len(c.added) for c in self._scored())

    @property
    def revised(self) -> int:
        return sum(len(c.revised) for c in self._scored())

    @property
    def reviewed(self) -> int:
        return sum(c.reviewed for c in self._scored())

    @property
    def correct(self) -> int:
        return sum(c.correct for c in self._scored())

    @property
    def weighted_errors(self) -> float:
        return sum(c.weighted_errors(self.weights) for c in self._scored())

    @property
    def principal_dx_changed(self) -> bool:
        return any(c.principal_dx_changed for c in self._scored())

    @property
    def sequencing_changed(self) -> bool:
        return any(c.sequencing_changed for c in self._scored())

    @property
    def code_error(self) -> bool:
        """True when a scored code change carries a positive weight."""
        return self.weighted_errors > 0

    @property
    def drg_error(self) -> bool:
        return bool(self.drg_scored and self.drg_changed)

    def changes(self) -> dict[str, Any]:
        """Changes for results.json: flat lists for people, per type for machines."""
        added: list[str] = []
        deleted: list[str] = []
        revised: list[list[str]] = []
        for comp in self.by_type.values():
            added.extend(comp.added_display())
            deleted.extend(comp.deleted_display())
            revised.extend([a, b] for a, b in comp.revised_display())
        return {
            "added": added,
            "deleted": deleted,
            "revised": revised,
            "principal_dx_changed": self.principal_dx_changed,
            "sequencing_changed": self.sequencing_changed,
            "drg_changed": self.drg_changed,
            "by_type": {
                name: {
                    "kept": list(c.kept),
                    "added": list(c.added),
                    "deleted": list(c.deleted),
                    "revised": [list(p) for p in c.revised],
                    "principal_dx_changed": c.principal_dx_changed,
                    "sequencing_changed": c.sequencing_changed,
                    "observe_only": c.observe_only,
                }
                for name, c in self.by_type.items()
            },
        }


def resolve_weights(overrides: Mapping[str, float], *, source: str = "plan") -> dict[str, float]:
    """Merge ``scoring.weights`` into the defaults; unknown classes or negative weights raise."""
    problems = weight_problems(dict(overrides), source=source)
    if problems:
        raise PlanError(f"The scoring weights have {len(problems)} problem(s).", problems)
    return {**DEFAULT_WEIGHTS, **{k: float(v) for k, v in overrides.items()}}


def _category(code: str) -> str:
    return code.replace(".", "")[:3]


def _dedupe(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(c for c in codes if c))


def _split(
    original: Sequence[str], audited: Sequence[str]
) -> tuple[list[str], list[str], list[str]]:
    """Return (kept, deleted, added) of two duplicate-free lists, each in its list's order."""
    a_set, o_set = set(audited), set(original)
    kept = [c for c in audited if c in o_set]
    deleted = [c for c in original if c not in a_set]
    added = [c for c in audited if c not in o_set]
    return kept, deleted, added


def _pair_by(
    deleted: list[str], added: list[str], key: Any
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Pair deleted and added codes with equal, non-None keys, first come first paired."""
    pairs: list[tuple[str, str]] = []
    rest_added = list(added)
    rest_deleted: list[str] = []
    for d in deleted:
        k = key(d)
        partner = next((a for a in rest_added if k is not None and key(a) == k), None)
        if partner is None:
            rest_deleted.append(d)
        else:
            rest_added.remove(partner)
            pairs.append((d, partner))
    return pairs, rest_deleted, rest_added


def _compare_icd(
    code_type: str, original: Sequence[str], audited: Sequence[str], *, principal: bool
) -> TypeComparison:
    original, audited = _dedupe(original), _dedupe(audited)
    kept, deleted, added = _split(original, audited)
    errors: dict[str, int] = {}
    pairs: list[tuple[str, str]] = []
    pool_deleted, pool_added = list(deleted), list(added)
    misplaced = 0
    o_p = original[0] if original else None
    a_p = audited[0] if audited else None
    principal_changed = False
    if principal and o_p is not None and a_p is not None and o_p != a_p:
        principal_changed = True
        errors["principal_dx"] = 1
        if o_p in pool_deleted and a_p in pool_added:
            pairs.append((o_p, a_p))
            pool_deleted.remove(o_p)
            pool_added.remove(a_p)
        elif o_p in pool_deleted:
            pool_deleted.remove(o_p)  # a secondary was promoted: the deletion is the error
        elif a_p in pool_added:
            pool_added.remove(a_p)  # the original principal was demoted: the addition is
        else:
            misplaced = 1  # re-sequenced: both codes kept, one in the wrong place
    revisions, rest_deleted, rest_added = _pair_by(pool_deleted, pool_added, _category)
    pairs.extend(revisions)
    for cls, count in (
        ("revised", len(revisions)),
        ("deleted", len(rest_deleted)),
        ("added", len(rest_added)),
    ):
        if count:
            errors[cls] = count
    skip = {o_p, a_p} if principal else set()
    kept_set = set(kept)
    o_seq = [c for c in original if c in kept_set and c not in skip]
    a_seq = [c for c in audited if c in kept_set and c not in skip]
    sequencing = o_seq != a_seq
    if sequencing:
        errors["sequencing"] = 1
    return TypeComparison(
        code_type=code_type,
        kept=tuple(kept),
        deleted=tuple(deleted),
        added=tuple(added),
        revised=tuple(pairs),
        principal_dx_changed=principal_changed,
        sequencing_changed=sequencing,
        misplaced=misplaced,
        errors=errors,
    )


def _line_key(line: CptItem) -> str:
    return str(CptItem(code=line.code, units=line.units))


def _line_revision_key(line: CptItem) -> str:
    return em_family(line.code) or line.code


def _compare_cpt(
    original: Sequence[CptItem], audited: Sequence[CptItem]
) -> tuple[TypeComparison, TypeComparison]:
    """Compare CPT/HCPCS lines on (code, units), then the modifiers of the matched lines."""
    free = list(range(len(audited)))
    kept_pairs: list[tuple[int, int]] = []
    unmatched_o: list[int] = []
    for i, line in enumerate(original):
        same = [j for j in free if audited[j].code == line.code and audited[j].units == line.units]
        if not same:
            unmatched_o.append(i)
            continue
        # Prefer the audited line with the same modifiers, so that swaps are not seen as changes.
        j = next((j for j in same if set(audited[j].modifiers) == set(line.modifiers)), same[0])
        free.remove(j)
        kept_pairs.append((i, j))
    # Revisions: the same code with other units first, then another level of one E/M family.
    revision_pairs: list[tuple[int, int]] = []
    for key in (lambda ln: ln.code, _line_revision_key):
        still: list[int] = []
        for i in unmatched_o:
            match = next((j for j in free if key(audited[j]) == key(original[i])), None)
            if match is None:
                still.append(i)
            else:
                free.remove(match)
                revision_pairs.append((i, match))
        unmatched_o = still
    errors: dict[str, int] = {}
    for cls, count in (
        ("revised", len(revision_pairs)),
        ("deleted", len(unmatched_o)),
        ("added", len(free)),
    ):
        if count:
            errors[cls] = count
    o_seq = [i for i, _ in kept_pairs]
    a_seq = sorted(o_seq, key=lambda i: dict(kept_pairs)[i])
    if o_seq != a_seq:
        errors["sequencing"] = 1
    paired_o = {i for i, _ in revision_pairs}
    paired_a = {j for _, j in revision_pairs}
    cpt = TypeComparison(
        code_type="cpt",
        kept=tuple(_line_key(audited[j]) for _, j in kept_pairs),
        deleted=tuple(_line_key(original[i]) for i in sorted([*unmatched_o, *paired_o])),
        added=tuple(_line_key(audited[j]) for j in sorted([*free, *paired_a])),
        revised=tuple((_line_key(original[i]), _line_key(audited[j])) for i, j in revision_pairs),
        sequencing_changed=o_seq != a_seq,
        errors=errors,
    )
    return cpt, _compare_modifiers(original, audited, [*kept_pairs, *revision_pairs])


def _compare_modifiers(
    original: Sequence[CptItem], audited: Sequence[CptItem], pairs: Sequence[tuple[int, int]]
) -> TypeComparison:
    kept: list[str] = []
    deleted: list[str] = []
    added: list[str] = []
    revised: list[tuple[str, str]] = []
    sequencing = False
    for i, j in sorted(pairs):
        o_line, a_line = original[i], audited[j]
        o_mods, a_mods = _dedupe(o_line.modifiers), _dedupe(a_line.modifiers)
        k, d, a = _split(o_mods, a_mods)
        kept.extend(f"{a_line.code}-{m}" for m in k)
        deleted.extend(f"{o_line.code}-{m}" for m in d)
        added.extend(f"{a_line.code}-{m}" for m in a)
        # Another modifier on the same line is one revision.
        revised.extend(
            (f"{o_line.code}-{dm}", f"{a_line.code}-{am}") for dm, am in zip(d, a, strict=False)
        )
        if [m for m in o_mods if m in k] != [m for m in a_mods if m in k]:
            sequencing = True
    errors: dict[str, int] = {}
    for cls, count in (
        ("revised", len(revised)),
        ("deleted", len(deleted) - len(revised)),
        ("added", len(added) - len(revised)),
        ("sequencing", int(sequencing)),
    ):
        if count:
            errors[cls] = count
    return TypeComparison(
        code_type="modifiers",
        kept=tuple(kept),
        deleted=tuple(deleted),
        added=tuple(added),
        revised=tuple(revised),
        sequencing_changed=sequencing,
        errors=errors,
    )


def compare_unit(
    original: CodeSet,
    audited: CodeSet,
    *,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    observe_only: Iterable[str] = (),
    record_missing: bool = False,
) -> UnitComparison:
    """Compare one unit's original and audited coding (rules in the module docstring).

    ``record_missing``: no documentation supports any original code, so the audited coding is
    empty whatever was passed.
    """
    observed = set(observe_only)
    if record_missing:
        audited = CodeSet()
    dx = _compare_icd("dx", original.dx, audited.dx, principal=True)
    px = _compare_icd("px", original.px, audited.px, principal=False)
    cpt, modifiers = _compare_cpt(original.cpt, audited.cpt)
    by_type = {
        c.code_type: TypeComparison(
            code_type=c.code_type,
            kept=c.kept,
            deleted=c.deleted,
            added=c.added,
            revised=c.revised,
            principal_dx_changed=c.principal_dx_changed,
            sequencing_changed=c.sequencing_changed,
            misplaced=c.misplaced,
            errors=c.errors,
            observe_only=c.code_type in observed,
        )
        for c in (dx, px, cpt, modifiers)
    }
    if original.drg is None and audited.drg is None:
        drg_changed: bool | None = None
    else:
        drg_changed = original.drg != audited.drg
    return UnitComparison(
        by_type=by_type,
        drg_changed=drg_changed,
        drg_scored="drg" not in observed,
        weights=dict(weights),
    )
