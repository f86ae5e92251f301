"""The plan model (pydantic): fields, columns, frame filters, design, size, options."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    model_validator,
)

from audit_kit.plan.program import CadenceRules, PeriodValue, PlanPeriod

#: audit-kit fields a plan can map (docs/plans.md, `columns`); code fields may map to several.
FIELDS = (
    "unit_id",
    "coder",
    "provider",
    "patient",
    "service_date",
    "setting",
    "payer",
    "dx",
    "px",
    "cpt",
    "units",
    "drg",
    "billed",
    "paid",
    "auditor",
    "age",
    "sex",
    "discharge_status",
    # CMS-HCC demographics of an enrollee-year (the hcc financial basis)
    "birth_date",
    "orec",
    "dual_status",
    "institutional",
    "months",
)
#: Fields the hcc basis reads (``age`` or ``birth_date`` besides these).
HCC_FIELDS = ("sex", "orec", "dual_status", "institutional", "months")
CODE_FIELDS = ("dx", "px", "cpt")
#: Fields holding money: validated as numbers >= 0 when the universe is read.
AMOUNT_FIELDS = ("billed", "paid")


def _one_of(*allowed: float) -> Callable[[float], float]:
    """Validator: the value must be one of ``allowed`` (confidence levels RAT-STATS offers)."""

    def check(value: float) -> float:
        if value not in allowed:
            raise ValueError("one of " + ", ".join(f"{a:.2f}" for a in allowed))
        return value

    return check


#: Error classes of the code-over-code comparison and their default weights
#: (``scoring.weights`` overrides them; docs/methods.md section 7.1).
DEFAULT_WEIGHTS: dict[str, float] = {
    "added": 1.0,
    "deleted": 1.0,
    "revised": 1.0,
    "principal_dx": 2.0,
    "sequencing": 0.0,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ColumnRef = str | list[str]


class ColumnMap(_Strict):
    """audit-kit field -> column(s) of the universe file."""

    unit_id: str = Field(min_length=1)
    coder: str | None = None
    provider: str | None = None
    patient: str | None = None
    service_date: str | None = None
    setting: str | None = None
    payer: str | None = None
    dx: ColumnRef | None = None
    px: ColumnRef | None = None
    cpt: ColumnRef | None = None
    units: str | None = None
    drg: str | None = None
    billed: str | None = None
    paid: str | None = None
    auditor: str | None = None
    age: str | None = None
    sex: str | None = None
    discharge_status: str | None = None
    birth_date: str | None = None
    orec: str | None = None
    dual_status: str | None = None
    institutional: str | None = None
    months: str | None = None
    #: Separator inside a delimited code-list cell (``E11.9;I10``). Spaces and commas also split.
    code_separator: str = ";"
    #: CPT/HCPCS column -> its modifier columns (``{CPT 1: [Mod 1, Mod 2]}``), for exports
    #: that keep modifiers in columns of their own: they are attached (``99214-25``).
    modifiers: dict[str, list[str]] = Field(default_factory=dict)
    #: Extra universe columns to keep in sample.csv as they are.
    keep: list[str] = Field(default_factory=list)
    #: Further columns holding protected health information (``patient`` always is).
    phi: list[str] = Field(default_factory=list)

    def mapped(self) -> dict[str, list[str]]:
        """Return field -> list of columns for every mapped field."""
        out: dict[str, list[str]] = {}
        for name in FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = [value] if isinstance(value, str) else list(value)
        return out

    def columns_for(self, field: str) -> list[str]:
        return self.mapped().get(field, [])

    def all_columns(self) -> list[str]:
        """Every universe column the plan uses, in a stable order, without repeats."""
        seen: dict[str, None] = {}
        for cols in self.mapped().values():
            for col in cols:
                seen.setdefault(col, None)
                for mod in self.modifiers.get(col, []):
                    seen.setdefault(mod, None)  # each modifier column beside its code column
        for col in self.keep:
            seen.setdefault(col, None)
        return list(seen)

    def phi_columns(self) -> list[str]:
        cols = list(self.phi)
        if self.patient:
            cols.insert(0, self.patient)
        return list(dict.fromkeys(cols))


class FilterOp(StrEnum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="
    IN = "in"
    NOT_IN = "not in"
    BETWEEN = "between"
    IS_EMPTY = "is empty"
    NOT_EMPTY = "not empty"


#: Operators that compare with one value; ``between`` takes two, ``in`` a list, the rest none.
SCALAR_OPS = frozenset(
    {FilterOp.GT, FilterOp.GE, FilterOp.LT, FilterOp.LE, FilterOp.EQ, FilterOp.NE}
)
LIST_OPS = frozenset({FilterOp.IN, FilterOp.NOT_IN})
NO_VALUE_OPS = frozenset({FilterOp.IS_EMPTY, FilterOp.NOT_EMPTY})


class FrameFilter(_Strict):
    """One structured frame filter (never eval'd): keep rows where ``column op value``."""

    column: str = Field(min_length=1)
    op: FilterOp
    value: Any = None

    def describe(self) -> str:
        if self.op in NO_VALUE_OPS:
            return f"{self.column} {self.op.value}"
        return f"{self.column} {self.op.value} {show_value(self.value)}"


def show_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return repr(value)
    return str(value)


class Frame(_Strict):
    filters: list[FrameFilter] = Field(default_factory=list)
    #: Amounts are written ``1.234,50`` (decimal comma, dot or space between thousands).
    decimal_comma: bool = False
    #: The row (1-based) that names the columns, when title rows are above it; found when
    #: absent.
    header_row: int | None = Field(default=None, ge=1, le=30)


class DollarBands(_Strict):
    """Strata by value of a numeric column: ``[e0, e1), [e1, e2), ..., [e_last, and above)``."""

    column: str = Field(min_length=1)
    edges: list[float]

    @model_validator(mode="after")
    def _edges_ok(self) -> DollarBands:
        wrong: list[str] = []
        if not self.edges:
            wrong.append("at least one edge, e.g. [0, 1000, 5000]")
        if any(not math.isfinite(e) for e in self.edges):
            wrong.append("finite numbers")
        if any(e < 0 for e in self.edges):
            wrong.append("edges >= 0 (no negative band edges)")
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            wrong.append("strictly increasing edges")
        if wrong:
            raise ValueError("; ".join(wrong))
        return self


class Certainty(_Strict):
    """Every unit with ``column >= at_least`` is taken (a census stratum of its own)."""

    column: str = Field(min_length=1)
    at_least: float = Field(gt=0)


class Strata(_Strict):
    by: list[str] = Field(default_factory=list)
    dollar_bands: DollarBands | None = None
    certainty: Certainty | None = None
    #: With ``by`` and ``dollar_bands`` together, drop (and report) combinations without units
    #: instead of refusing the design.
    skip_empty: bool = False


class Design(_Strict):
    method: Literal["simple", "stratified"] = "simple"
    strata: Strata | None = None

    @model_validator(mode="after")
    def _strata_ok(self) -> Design:
        if self.method == "stratified":
            s = self.strata
            if s is None or (not s.by and s.dollar_bands is None and s.certainty is None):
                raise ValueError(
                    "a stratified design needs strata: by, dollar_bands and/or certainty"
                )
        elif self.strata is not None:
            raise ValueError("strata are only used by method: stratified")
        return self


class Allocation(StrEnum):
    PROPORTIONAL = "proportional"
    NEYMAN = "neyman"
    EQUAL = "equal"


@dataclass(frozen=True, slots=True)
class TotalSize:
    """The ``{total, allocation, variable}`` rule of a plan's ``size``, as sampling uses it."""

    total: int
    allocation: Allocation
    #: column whose SD per stratum drives Neyman allocation (default: the plan's paid column)
    variable: str | None = None


class TargetSize(_Strict):
    """Compute n from a target confidence, precision and a probe sample (docs/methods.md 5.1)."""

    confidence: Annotated[float, AfterValidator(_one_of(0.80, 0.90, 0.95, 0.99))] = 0.90
    precision: float = Field(gt=0, lt=1)  # e.g. 0.25 for 25 %
    probe_mean: float | None = None
    probe_sd: float | None = Field(default=None, ge=0)
    probe_file: str | None = None
    probe_column: str | None = None


class Size(_Strict):
    """How many units: exactly one of ``n``, ``per_stratum``, ``total`` (with ``allocation``,
    ``variable`` and ``minimum_per_stratum``) or ``target``."""

    n: int | None = Field(default=None, gt=0)
    per_stratum: PositiveInt | dict[str, PositiveInt] | None = None
    total: PositiveInt | None = None
    allocation: Allocation | None = None
    variable: str | None = None
    minimum_per_stratum: int | None = Field(default=None, ge=1)
    target: TargetSize | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> Size:
        rules = [r for r in (self.n, self.per_stratum, self.total, self.target) if r is not None]
        if len(rules) != 1:
            raise ValueError("exactly one of n, per_stratum, total, target")
        if self.total is None:
            idle = [
                key
                for key in ("allocation", "variable", "minimum_per_stratum")
                if getattr(self, key) is not None
            ]
            if idle:
                raise ValueError(
                    f"no {', '.join(idle)} beside {self.rule}: they go with total (size: "
                    "{total: 300, allocation: neyman, minimum_per_stratum: 5}) and would do "
                    "nothing here; remove them"
                )
        elif self.variable is not None and self.allocation is not Allocation.NEYMAN:
            raise ValueError(
                "variable drives Neyman allocation only: add allocation: neyman or remove it"
            )
        return self

    @property
    def rule(self) -> Literal["n", "per_stratum", "total", "target"]:
        if self.n is not None:
            return "n"
        if self.per_stratum is not None:
            return "per_stratum"
        if self.total is not None:
            return "total"
        return "target"

    @property
    def total_rule(self) -> TotalSize | None:
        """The total rule with its defaults (proportional allocation), or None."""
        if self.total is None:
            return None
        return TotalSize(
            total=self.total,
            allocation=self.allocation or Allocation.PROPORTIONAL,
            variable=self.variable,
        )

    @property
    def minimum(self) -> int:
        """The smallest sample of a stratum under the total rule (default 1)."""
        return self.minimum_per_stratum or 1


class Rng(_Strict):
    generator: Literal["pcg64", "ratstats"] = "pcg64"
    seed: Annotated[StrictInt | StrictFloat, Field(gt=0)] | None = None


class WorkbookOptions(_Strict):
    columns: list[str] = Field(default_factory=lambda: ["unit_id", "coder", "dx", "px", "cpt"])
    password: bool = False  # true: workbooks encrypted with a password from --password-file
    #: true: sheets protected with the password from --password-file (never written in a plan)
    protect_password: bool = False
    contact: str = ""
    double_review: float = Field(default=0.0, ge=0, le=1)  # share of units reviewed twice


HccModel = Literal["V24", "V28"]


class DoubleReview(_Strict):
    """A blind double-review subsample: ``units: N`` or ``share: p``, optionally a reference.

    The units are drawn at ``sample`` time from the audit's seed (recorded in sampling.json);
    ``workbooks`` gives each to a second auditor, the ``reference`` reviewer when one is named.
    """

    units: PositiveInt | None = None
    share: float | None = Field(default=None, gt=0, le=1)
    reference: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_rule(self) -> DoubleReview:
        if (self.units is None) == (self.share is None):
            raise ValueError("exactly one of units, share")
        return self

    def size(self, sample: int) -> int:
        """Units to double-review out of ``sample`` sampled units (share: rounded up, >= 1)."""
        if self.units is not None:
            return self.units
        assert self.share is not None
        return min(sample, max(1, math.ceil(self.share * sample - 1e-9)))


class FinancialOptions(_Strict):
    basis: Literal["entered", "fee_schedule", "drg", "hcc"] = "entered"
    netting: Literal["net", "gross", "overpayments_only"] = "net"
    demand_rule: Literal["point_estimate", "cms_one_sided_90", "oig_two_sided_90"] = (
        "cms_one_sided_90"
    )
    examined: str = "paid"  # audit-kit field holding the examined amount
    fee_schedule: str | None = None
    drg_weights: str | None = None
    base_rate: float | None = Field(default=None, gt=0)
    critical_value_rule: Literal["ratstats", "t", "z"] = "ratstats"
    extrapolate: bool = True
    #: A lower bound with guaranteed coverage for non-negative overpayments, printed beside
    #: the RAT-STATS t limit and used for the demand (docs/methods.md): ``minimum_sum``
    #: (full denials; sample records the frame's paid amounts), ``kaplan_wald`` (any
    #: overpayments >= 0, in draw order), or ``none``.
    robust_bound: Literal["minimum_sum", "kaplan_wald", "none"] = "none"
    #: hcc basis: one CMS-HCC model, or a payment year's blend of models (weights sum to 1).
    hcc_model: HccModel | None = None
    hcc_blend: dict[HccModel, Annotated[float, Field(gt=0, le=1)]] | None = None
    #: hcc basis: the coding-intensity adjustment (MACI, e.g. 0.059) and normalisation factor.
    maci: float = Field(default=0.0, ge=0, lt=1)
    normalisation: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _hcc_model(self) -> FinancialOptions:
        if self.hcc_model is not None and self.hcc_blend is not None:
            raise ValueError("give hcc_model or hcc_blend, not both")
        if self.hcc_blend is not None and not math.isclose(
            sum(self.hcc_blend.values()), 1.0, abs_tol=1e-9
        ):
            raise ValueError(
                "hcc_blend weights must sum to 1 (e.g. {V24: 0.33, V28: 0.67}), found "
                f"{sum(self.hcc_blend.values()):g}"
            )
        return self

    def hcc_weights(self) -> dict[str, float]:
        """Model -> weight of the hcc basis (default: 100 % V28, payment year 2026)."""
        if self.hcc_blend is not None:
            return {str(k): v for k, v in self.hcc_blend.items()}
        return {self.hcc_model or "V28": 1.0}


class ScoringOptions(_Strict):
    target_accuracy: float = Field(default=0.95, gt=0, le=1)
    confidence: Annotated[float, AfterValidator(_one_of(0.80, 0.90, 0.95))] = 0.95
    observe_only: list[Literal["dx", "px", "cpt", "modifiers", "drg"]] = Field(default_factory=list)
    weights: dict[str, float] = Field(default_factory=lambda: {"principal_dx": 2.0})
    error_threshold: float | None = Field(default=None, gt=0, lt=1)  # e.g. CIA 5 % net error rate
    #: accuracy each auditor must reach against the reference reviewer (double review)
    auditor_target: float = Field(default=0.95, gt=0, le=1)


class RebuttalOptions(_Strict):
    """The rebuttal round: coders answer the findings, the audit lead decides the disputes."""

    #: true: results stay preliminary until a rebuttal round has been opened and closed.
    required: bool = False
    #: days the coders have to respond; the default due date of `audit-kit rebuttals`.
    days: StrictInt = Field(default=14, ge=1, le=365)


class SamplingPlan(_Strict):
    name: str = Field(min_length=1)
    objective: str = ""
    organisation: str = ""
    #: Free text, or ``{start, end}`` dates (audit programs order audits by it).
    period: PeriodValue = ""
    preset: str | None = None
    sampling_unit: str = "encounter"
    columns: ColumnMap
    frame: Frame = Field(default_factory=Frame)
    design: Design = Field(default_factory=Design)
    size: Size
    spares: int = Field(default=0, ge=0)
    spares_allowed: bool = True
    #: Replace ``patient`` and ``columns.phi`` in sample.csv by keyed HMAC-SHA256 tokens
    #: (the key file is given with ``--key-file`` and never stored in the audit folder).
    pseudonymise: bool = False
    rng: Rng = Field(default_factory=Rng)
    workbook: WorkbookOptions = Field(default_factory=WorkbookOptions)
    #: Blind double review (``double_review: {units: 20}`` or ``{share: 0.1}``, ``reference:``).
    double_review: DoubleReview | None = None
    financial: FinancialOptions = Field(default_factory=FinancialOptions)
    scoring: ScoringOptions = Field(default_factory=ScoringOptions)
    rebuttal: RebuttalOptions = Field(default_factory=RebuttalOptions)
    created: dt.date | None = None
    #: When each coder is audited next (``audit-kit trend``); None: the documented defaults.
    cadence: CadenceRules | None = None
    #: what the loader changed in an older plan (a key that moved), said to the user
    _migration_notes: tuple[str, ...] = PrivateAttr(default=())

    @property
    def period_label(self) -> str:
        """The period as text (``2026-07-01 to 2026-09-30``), as reports and records print it."""
        return self.period.label if isinstance(self.period, PlanPeriod) else self.period

    @property
    def effective_demand_rule(self) -> str:
        """The demand rule (``financial.demand_rule``: the one place it is set)."""
        return self.financial.demand_rule

    @property
    def migration_notes(self) -> tuple[str, ...]:
        """Notes on keys of an older plan that were read in their new place."""
        return self._migration_notes

    def column_for(self, name: str) -> str:
        """Return the universe column a reference names: a mapped field's column, or itself.

        Raises KeyError for an audit-kit field that is not mapped or maps to several columns
        (:func:`plan_problems` reports those before anything uses this).
        """
        if name in FIELDS:
            cols = self.columns.columns_for(name)
            if len(cols) != 1:
                raise KeyError(name)
            return cols[0]
        return name

    def column_for_safe(self, name: str) -> str | None:
        """Like :meth:`column_for`, but None for a reference that cannot be resolved."""
        try:
            return self.column_for(name)
        except KeyError:
            return None

    def references(self) -> dict[str, str]:
        """Return key path -> name for every column reference of frame, design and size."""
        refs: dict[str, str] = {}
        for i, flt in enumerate(self.frame.filters):
            refs[f"frame.filters[{i}].column"] = flt.column
        strata = self.design.strata
        if strata is not None:
            for i, name in enumerate(strata.by):
                refs[f"design.strata.by[{i}]"] = name
            if strata.dollar_bands is not None:
                refs["design.strata.dollar_bands.column"] = strata.dollar_bands.column
            if strata.certainty is not None:
                refs["design.strata.certainty.column"] = strata.certainty.column
        variable = self.allocation_variable()
        if variable is not None:
            refs["size.variable"] = variable
        return refs

    def allocation_variable(self) -> str | None:
        """The reference whose per-stratum SD drives Neyman allocation, if that is used."""
        total = self.size.total_rule
        if total is None or total.allocation is not Allocation.NEYMAN:
            return None
        return total.variable or "paid"
