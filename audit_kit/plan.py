"""SamplingPlan: load and validate a YAML plan, reporting every problem at once with its key path.

The plan format is documented in ``docs/plans.md`` and shown in SPEC section 3. Unknown keys are
rejected (a typo must never silently change an audit). Presets ship in ``sampling_plans/``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from audit_kit.errors import PlanError, Problem

__all__ = [
    "CODE_FIELDS",
    "FIELDS",
    "Allocation",
    "ColumnMap",
    "Design",
    "FinancialOptions",
    "FrameFilter",
    "SamplingPlan",
    "load_plan",
    "parse_plan",
]

#: audit-kit fields a plan can map (SPEC section 2). Code fields may map to several columns.
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
)
CODE_FIELDS = ("dx", "px", "cpt")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ColumnRef = str | list[str]


class ColumnMap(_Strict):
    """audit-kit field -> column(s) of the universe file."""

    unit_id: str
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
    #: Separator inside a delimited code-list cell (``E11.9;I10``). Spaces and commas also split.
    code_separator: str = ";"
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


class FrameFilter(_Strict):
    """One structured frame filter (never eval'd): keep rows where ``column op value``."""

    column: str
    op: FilterOp
    value: Any

    def describe(self) -> str:
        return f"{self.column} {self.op.value} {self.value!r}"


class Frame(_Strict):
    filters: list[FrameFilter] = Field(default_factory=list)


class DollarBands(_Strict):
    column: str
    edges: list[float]

    @model_validator(mode="after")
    def _edges_ok(self) -> DollarBands:
        if len(self.edges) < 2:
            raise ValueError("dollar_bands.edges needs at least two edges, e.g. [0, 1000, 5000]")
        if any(e < 0 for e in self.edges):
            raise ValueError("dollar_bands.edges must not be negative")
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError("dollar_bands.edges must be strictly increasing")
        return self


class Certainty(_Strict):
    column: str
    at_least: float


class Strata(_Strict):
    by: list[str] = Field(default_factory=list)
    dollar_bands: DollarBands | None = None
    certainty: Certainty | None = None


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
        return self


class Allocation(StrEnum):
    PROPORTIONAL = "proportional"
    NEYMAN = "neyman"
    EQUAL = "equal"


class TotalSize(_Strict):
    total: int = Field(gt=0)
    allocation: Allocation = Allocation.PROPORTIONAL
    #: column whose SD per stratum drives Neyman allocation (default: the plan's paid column)
    variable: str | None = None


class TargetSize(_Strict):
    """Compute n from a target confidence and precision and a probe sample (SPEC 6.3)."""

    confidence: float = 0.90  # one of 0.80, 0.90, 0.95, 0.99 (checked below)
    precision: float = Field(gt=0, lt=1)  # e.g. 0.25 for 25 %
    probe_mean: float | None = None
    probe_sd: float | None = Field(default=None, ge=0)
    probe_file: str | None = None
    probe_column: str | None = None

    @model_validator(mode="after")
    def _confidence_ok(self) -> TargetSize:
        if self.confidence not in (0.80, 0.90, 0.95, 0.99):
            raise ValueError("confidence must be one of 0.80, 0.90, 0.95, 0.99")
        return self


class Size(_Strict):
    n: int | None = Field(default=None, gt=0)
    per_stratum: int | dict[str, int] | None = None
    total: TotalSize | None = None
    target: TargetSize | None = None
    minimum_per_stratum: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _one_rule(self) -> Size:
        rules = [r for r in (self.n, self.per_stratum, self.total, self.target) if r is not None]
        if len(rules) != 1:
            raise ValueError("give exactly one of n, per_stratum, total, target")
        return self


class Rng(_Strict):
    generator: Literal["pcg64", "ratstats"] = "pcg64"
    seed: Annotated[float, Field(gt=0)] | None = None


class WorkbookOptions(_Strict):
    columns: list[str] = Field(default_factory=lambda: ["unit_id", "coder", "dx", "px", "cpt"])
    password: bool = False  # true: workbooks encrypted with a password from --password-file
    protect_password: str | None = None  # sheet protection password (not encryption)
    contact: str = ""
    double_review: float = Field(default=0.0, ge=0, le=1)  # share of units reviewed twice


class FinancialOptions(_Strict):
    basis: Literal["entered", "fee_schedule", "drg"] = "entered"
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


class ScoringOptions(_Strict):
    target_accuracy: float = Field(default=0.95, gt=0, le=1)
    confidence: float = 0.95  # one of 0.80, 0.90, 0.95 (checked below)
    observe_only: list[Literal["dx", "px", "cpt", "modifiers", "drg"]] = Field(default_factory=list)
    weights: dict[str, float] = Field(default_factory=lambda: {"principal_dx": 2.0})
    error_threshold: float | None = Field(default=None, gt=0, lt=1)  # e.g. CIA 5 % net error rate

    @model_validator(mode="after")
    def _confidence_ok(self) -> ScoringOptions:
        if self.confidence not in (0.80, 0.90, 0.95):
            raise ValueError("confidence must be one of 0.80, 0.90, 0.95")
        return self


class SamplingPlan(_Strict):
    name: str = Field(min_length=1)
    objective: str = ""
    organisation: str = ""
    period: str = ""
    preset: str | None = None
    sampling_unit: str = "encounter"
    columns: ColumnMap
    frame: Frame = Field(default_factory=Frame)
    design: Design = Field(default_factory=Design)
    size: Size
    spares: int = Field(default=0, ge=0)
    spares_allowed: bool = True
    rng: Rng = Field(default_factory=Rng)
    workbook: WorkbookOptions = Field(default_factory=WorkbookOptions)
    financial: FinancialOptions = Field(default_factory=FinancialOptions)
    scoring: ScoringOptions = Field(default_factory=ScoringOptions)
    demand_rule: Literal["point_estimate", "cms_one_sided_90", "oig_two_sided_90"] | None = None
    created: dt.date | None = None

    @model_validator(mode="after")
    def _cross_checks(self) -> SamplingPlan:
        if not self.spares_allowed and self.spares > 0:
            raise ValueError(
                f"this plan forbids spares (spares_allowed: false) but asks for {self.spares}"
            )
        if self.design.method == "simple" and self.size.n is None and self.size.target is None:
            raise ValueError("a simple design takes size.n (or size.target)")
        return self

    @property
    def effective_demand_rule(self) -> str:
        return self.demand_rule or self.financial.demand_rule


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def parse_plan(data: Any, *, source: str = "plan") -> SamplingPlan:
    """Validate a plan mapping; raise one PlanError listing every problem with its key path."""
    if not isinstance(data, dict):
        raise PlanError(
            "The sampling plan is not a mapping of keys.",
            [
                Problem(
                    where=source,
                    expected="a YAML mapping (name:, columns:, design:, size:, ...)",
                    found=type(data).__name__,
                    fix="start from a preset: `audit-kit plans`.",
                )
            ],
        )
    try:
        return SamplingPlan.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if not str(x).startswith("function-after"))
            where = f"{source}: {_key_path(loc)}"
            kind = err["type"]
            if kind == "extra_forbidden":
                expected, found = "a known key", f"unknown key '{loc[-1]}'"
                fix = "remove it or check its spelling (see docs/plans.md)."
            elif kind == "missing":
                expected, found = "this key", "nothing"
                fix = "add it (see the presets in sampling_plans/)."
            else:
                expected = err["msg"].removeprefix("Value error, ")
                found = repr(err.get("input"))[:80]
                fix = "correct the value."
            problems.append(Problem(where=where, expected=expected, found=found, fix=fix))
        raise PlanError(f"The sampling plan has {len(problems)} problem(s).", problems) from None


def load_plan(path: Path) -> SamplingPlan:
    """Read a YAML plan file (or a preset name) and validate it."""
    from audit_kit.presets import resolve_plan_path

    path = resolve_plan_path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(
            "Cannot read the sampling plan.",
            [
                Problem(
                    where=str(path),
                    expected="a readable UTF-8 YAML file",
                    found=type(exc).__name__,
                    fix="check the path, or list presets with `audit-kit plans`.",
                )
            ],
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise PlanError(
            "The sampling plan is not valid YAML.",
            [
                Problem(
                    where=where,
                    expected="valid YAML",
                    found=str(getattr(exc, "problem", "a syntax error")),
                    fix="check indentation and quoting at that line.",
                )
            ],
        ) from None
    return parse_plan(data, source=str(path))
