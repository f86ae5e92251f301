"""SamplingPlan: load and validate a YAML plan, reporting every problem at once with its key path.

The plan format is documented in ``docs/plans.md`` and shown in SPEC section 3. Unknown keys are
rejected (a typo must never silently change an audit). Presets ship in ``sampling_plans/``.

Validation happens in two passes, both reported together in one :class:`PlanError`:

1. the pydantic model (types, ranges, unknown keys, rules inside one section);
2. :func:`plan_problems`, the rules that span sections (a stratum column must be mapped, spares
   against ``spares_allowed``, the seed against the generator...).

Names used by ``design``, ``frame`` and ``size`` are *references*: an audit-kit field name
(``coder``, ``paid``...) which must then be mapped under ``columns``, or a column of the
universe file, checked when the file is read.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    StrictFloat,
    StrictInt,
    ValidationError,
    model_validator,
)

from audit_kit.errors import PlanError, Problem

__all__ = [
    "AMOUNT_FIELDS",
    "CODE_FIELDS",
    "FIELDS",
    "Allocation",
    "ColumnMap",
    "Design",
    "FilterOp",
    "FinancialOptions",
    "FrameFilter",
    "SamplingPlan",
    "load_plan",
    "load_plan_text",
    "parse_plan",
    "parse_plan_text",
    "plan_problems",
    "with_seed",
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
#: Fields holding money: validated as numbers >= 0 when the universe is read.
AMOUNT_FIELDS = ("billed", "paid")


def _one_of(*allowed: float) -> Callable[[float], float]:
    """Validator: the value must be one of ``allowed`` (confidence levels RAT-STATS offers)."""

    def check(value: float) -> float:
        if value not in allowed:
            raise ValueError("one of " + ", ".join(f"{a:.2f}" for a in allowed))
        return value

    return check


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
        return f"{self.column} {self.op.value} {_show_value(self.value)}"


def _show_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show_value(v) for v in value) + "]"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return repr(value)
    return str(value)


class Frame(_Strict):
    filters: list[FrameFilter] = Field(default_factory=list)


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


class TotalSize(_Strict):
    total: int = Field(gt=0)
    allocation: Allocation = Allocation.PROPORTIONAL
    #: column whose SD per stratum drives Neyman allocation (default: the plan's paid column)
    variable: str | None = None


class TargetSize(_Strict):
    """Compute n from a target confidence and precision and a probe sample (SPEC 6.3)."""

    confidence: Annotated[float, AfterValidator(_one_of(0.80, 0.90, 0.95, 0.99))] = 0.90
    precision: float = Field(gt=0, lt=1)  # e.g. 0.25 for 25 %
    probe_mean: float | None = None
    probe_sd: float | None = Field(default=None, ge=0)
    probe_file: str | None = None
    probe_column: str | None = None


class Size(_Strict):
    n: int | None = Field(default=None, gt=0)
    per_stratum: PositiveInt | dict[str, PositiveInt] | None = None
    total: TotalSize | None = None
    target: TargetSize | None = None
    minimum_per_stratum: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _one_rule(self) -> Size:
        rules = [r for r in (self.n, self.per_stratum, self.total, self.target) if r is not None]
        if len(rules) != 1:
            raise ValueError("exactly one of n, per_stratum, total, target")
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


class Rng(_Strict):
    generator: Literal["pcg64", "ratstats"] = "pcg64"
    seed: Annotated[StrictInt | StrictFloat, Field(gt=0)] | None = None


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
    confidence: Annotated[float, AfterValidator(_one_of(0.80, 0.90, 0.95))] = 0.95
    observe_only: list[Literal["dx", "px", "cpt", "modifiers", "drg"]] = Field(default_factory=list)
    weights: dict[str, float] = Field(default_factory=lambda: {"principal_dx": 2.0})
    error_threshold: float | None = Field(default=None, gt=0, lt=1)  # e.g. CIA 5 % net error rate


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
    #: Replace ``patient`` and ``columns.phi`` in sample.csv by keyed HMAC-SHA256 tokens
    #: (the key file is given with ``--key-file`` and never stored in the audit folder).
    pseudonymise: bool = False
    rng: Rng = Field(default_factory=Rng)
    workbook: WorkbookOptions = Field(default_factory=WorkbookOptions)
    financial: FinancialOptions = Field(default_factory=FinancialOptions)
    scoring: ScoringOptions = Field(default_factory=ScoringOptions)
    demand_rule: Literal["point_estimate", "cms_one_sided_90", "oig_two_sided_90"] | None = None
    created: dt.date | None = None

    @property
    def effective_demand_rule(self) -> str:
        return self.demand_rule or self.financial.demand_rule

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
            refs["size.total.variable"] = variable
        return refs

    def allocation_variable(self) -> str | None:
        """The reference whose per-stratum SD drives Neyman allocation, if that is used."""
        total = self.size.total
        if total is None or total.allocation is not Allocation.NEYMAN:
            return None
        return total.variable or "paid"


def plan_problems(plan: SamplingPlan, *, source: str = "plan") -> list[Problem]:
    """Return the problems that span sections of an otherwise well-formed plan."""
    problems: list[Problem] = []

    def add(key: str, expected: str, found: str, fix: str) -> None:
        problems.append(Problem(where=f"{source}: {key}", expected=expected, found=found, fix=fix))

    if not plan.spares_allowed and plan.spares > 0:
        add(
            "spares",
            "0 (this plan sets spares_allowed: false, as CIA reviews require)",
            str(plan.spares),
            "set spares: 0; a CIA sample is reviewed as drawn, without replacement units.",
        )
    size, method = plan.size, plan.design.method
    if method == "simple" and size.rule not in ("n", "target"):
        add(
            f"size.{size.rule}",
            "size.n (or size.target) for a simple design",
            f"size.{size.rule}",
            "use size.n, or set design.method: stratified with design.strata.",
        )
    if method == "stratified" and size.rule == "target":
        add(
            "size.target",
            "size.per_stratum or size.total for a stratified design (target is for simple ones)",
            "size.target",
            "compute the total with `audit-kit size variable --strata FILE`, then use "
            "size: {total: N, allocation: neyman}.",
        )
    if method == "stratified" and size.rule == "n":
        add(
            "size.n",
            "size.per_stratum or size.total for a stratified design",
            "size.n",
            "write size: {total: N, allocation: proportional} or size: {per_stratum: 30}.",
        )
    target = size.target
    if (
        target is not None
        and target.probe_file is None
        and (target.probe_mean is None or target.probe_sd is None)
    ):
        add(
            "size.target",
            "probe_mean and probe_sd, or probe_file (a probe sample, SPEC 6.3)",
            "neither",
            "add the probe sample's mean and SD of the overpayments, or its file.",
        )

    mapped = plan.columns.mapped()
    for key, name in plan.references().items():
        if name in FIELDS and name not in mapped:
            add(
                key,
                "an audit-kit field mapped under columns, or a column of the universe file",
                f"'{name}', an audit-kit field that columns does not map",
                f"add `{name}: <your column>` under columns.",
            )
        elif name in CODE_FIELDS or (name in mapped and len(mapped[name]) != 1):
            add(
                key,
                "a single column (strata, filters and bands use one value per unit)",
                f"'{name}', a code-list field",
                "use another field or column.",
            )
        elif name == "patient":
            add(
                key,
                "a field that is not protected health information",
                "'patient'",
                "do not stratify or filter on patient identifiers.",
            )
    strata = plan.design.strata
    if strata is not None and strata.dollar_bands and strata.certainty:
        bands, cert = strata.dollar_bands, strata.certainty
        if plan.column_for_safe(bands.column) == plan.column_for_safe(cert.column) and any(
            edge >= cert.at_least for edge in bands.edges
        ):
            add(
                "design.strata.certainty.at_least",
                f"a threshold above every band edge ({bands.edges[-1]:g})",
                f"{cert.at_least:g}",
                "raise the certainty threshold or drop the bands at and above it.",
            )
    if strata is not None and len(set(strata.by)) != len(strata.by):
        add("design.strata.by", "each field once", str(strata.by), "remove the repeat.")
    if isinstance(size.per_stratum, dict) and method == "stratified" and not size.per_stratum:
        add("size.per_stratum", "stratum: n pairs", "an empty mapping", "list every stratum.")

    for i, flt in enumerate(plan.frame.filters):
        key = f"frame.filters[{i}].value"
        value = flt.value
        if flt.op in NO_VALUE_OPS:
            if value is not None:
                add(key, f"no value for '{flt.op.value}'", _show_value(value), "remove value.")
        elif flt.op in LIST_OPS:
            if not isinstance(value, list) or not value or not all(map(_scalar_ok, value)):
                add(
                    key,
                    f"a non-empty list of numbers, dates or text for '{flt.op.value}'",
                    _show_value(value),
                    "write e.g. value: [inpatient, observation].",
                )
        elif flt.op is FilterOp.BETWEEN:
            if (
                not isinstance(value, list)
                or len(value) != 2
                or not all(map(_scalar_ok, value))
                or not _ordered(value[0], value[1])
            ):
                add(
                    key,
                    "[low, high] (two numbers or two dates, low <= high; both ends included)",
                    _show_value(value),
                    "write e.g. value: [2026-07-01, 2026-09-30].",
                )
        elif not _scalar_ok(value):
            add(
                key,
                f"one number, date or text for '{flt.op.value}'",
                _show_value(value),
                "quote words YAML reads as booleans ('yes', 'no', 'true').",
            )

    seed = plan.rng.seed
    if seed is not None:
        if plan.rng.generator == "pcg64" and not float(seed).is_integer():
            add(
                "rng.seed",
                "a whole number for generator pcg64",
                str(seed),
                "use a whole number, or generator: ratstats for a RAT-STATS seed with decimals.",
            )
        if plan.rng.generator == "ratstats" and not 0 < float(seed) < 1e15:
            add(
                "rng.seed",
                "a number above 0 and below 10^15 (RAT-STATS)",
                str(seed),
                "choose a smaller seed.",
            )
    kept = set(plan.columns.all_columns())
    for i, col in enumerate(plan.columns.phi):
        if col not in kept:
            add(
                f"columns.phi[{i}]",
                "a universe column the plan keeps (a mapped column or one in columns.keep)",
                f"'{col}'",
                "add it to columns.keep, or remove it from columns.phi.",
            )
    if plan.pseudonymise and not plan.columns.phi_columns():
        add(
            "pseudonymise",
            "columns.patient or columns.phi to pseudonymise",
            "true, with no PHI column",
            "map columns.patient, or set pseudonymise: false.",
        )
    return problems


def _scalar_ok(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value)
    return isinstance(value, str | dt.date)


def _ordered(low: Any, high: Any) -> bool:
    both_numbers = all(isinstance(v, int | float) for v in (low, high))
    both_dates = all(isinstance(v, dt.date) for v in (low, high))
    both_text = all(isinstance(v, str) for v in (low, high))
    if not (both_numbers or both_dates or both_text):
        return False
    return bool(low <= high)


# -- reading and reporting ---------------------------------------------------------------------

_UNION_TAG = re.compile(r"^(constrained-)?(str|int|float|bool|date|list|dict)$|\[|^function-")


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _expected(err: Any) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    msg = msg.removeprefix("Input should be ")
    return msg.split(", unable to parse")[0]


def _validation_problems(exc: ValidationError, source: str) -> list[Problem]:
    """Turn pydantic's errors into problems: one per key, union alternatives merged."""
    merged: dict[tuple[int | str, ...], list[Any]] = {}
    for err in exc.errors():
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and _UNION_TAG.search(x)))
        merged.setdefault(loc, []).append(err)
    problems = []
    for loc, errs in merged.items():
        where = f"{source}: {_key_path(loc)}"
        kinds = {e["type"] for e in errs}
        if "extra_forbidden" in kinds:
            expected, found = "a known key", f"unknown key '{loc[-1]}'"
            fix = "remove it or check its spelling (see docs/plans.md)."
        elif "missing" in kinds:
            expected, found = "this key", "nothing"
            fix = "add it (see the presets in sampling_plans/, `audit-kit plans`)."
        else:
            expected = " or ".join(dict.fromkeys(_expected(e) for e in errs))
            found = repr(errs[0].get("input"))[:80]
            fix = "correct the value (see docs/plans.md)."
        problems.append(Problem(where=where, expected=expected, found=found, fix=fix))
    return problems


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
        plan = SamplingPlan.model_validate(data)
    except ValidationError as exc:
        problems = _validation_problems(exc, source)
    else:
        problems = plan_problems(plan, source=source)
        if not problems:
            return plan
    raise PlanError(f"The sampling plan has {len(problems)} problem(s).", problems)


def parse_plan_text(text: str, *, source: str = "plan") -> SamplingPlan:
    """Parse YAML text and validate it as a plan."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
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
    return parse_plan(data, source=source)


def load_plan_text(path: Path | str) -> tuple[SamplingPlan, str, Path]:
    """Read a plan file (or a preset name); return the plan, its exact text and its path."""
    from audit_kit.presets import resolve_plan_path

    resolved = resolve_plan_path(path)
    try:
        text = resolved.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(
            "Cannot read the sampling plan.",
            [
                Problem(
                    where=str(resolved),
                    expected="a readable UTF-8 YAML file",
                    found=type(exc).__name__,
                    fix="check the path, or list presets with `audit-kit plans`.",
                )
            ],
        ) from None
    return parse_plan_text(text, source=str(resolved)), text, resolved


def load_plan(path: Path) -> SamplingPlan:
    """Read a YAML plan file (or a preset name) and validate it."""
    return load_plan_text(path)[0]


# -- recording the seed in the plan text -------------------------------------------------------


def with_seed(text: str, seed: int | float) -> str:
    """Return the plan text with ``rng.seed`` set, keeping every other line and comment as is.

    Used when the seed was generated (or given on the command line) so that plan.yaml in the
    audit folder is the plan exactly as used. Falls back to a plain YAML dump (comments lost,
    said so in a header line) only if the text cannot be edited in place.
    """
    value = repr(seed) if isinstance(seed, float) else str(seed)
    edited = _insert_seed(text, value)
    data = yaml.safe_load(text)
    expected = dict(data)
    expected["rng"] = {**(data.get("rng") or {}), "seed": seed}
    if edited is not None:
        try:
            if yaml.safe_load(edited) == expected:
                return edited
        except yaml.YAMLError:
            pass
    return (
        "# The plan as used, with the generated seed; re-written by audit-kit because the\n"
        "# original text could not be edited in place (its comments are not kept).\n"
        + yaml.safe_dump(expected, sort_keys=False, allow_unicode=True)
    )


def _insert_seed(text: str, value: str) -> str | None:
    comment = "  # recorded by audit-kit sample"
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    lines = text.splitlines(keepends=True)
    for key_node, value_node in root.value:
        if getattr(key_node, "value", None) != "rng":
            continue
        if isinstance(value_node, yaml.ScalarNode) and value_node.value in ("", "~", "null"):
            # `rng:` with nothing (or null) after it.
            line = key_node.start_mark.line
            lines[line] = lines[line].rstrip("\r\n").split("#")[0].rstrip()
            lines[line] = lines[line].removesuffix("~").removesuffix("null").rstrip()
            lines[line] += f"\n  seed: {value}{comment}\n"
            return "".join(lines)
        if not isinstance(value_node, yaml.MappingNode):
            return None
        for sub_key, sub_value in value_node.value:
            if getattr(sub_key, "value", None) == "seed":
                if not isinstance(sub_value, yaml.ScalarNode):
                    return None
                start, end = sub_value.start_mark, sub_value.end_mark
                if start.line != end.line:
                    return None
                line = lines[start.line]
                pad = " " if start.column and line[start.column - 1] == ":" else ""
                lines[start.line] = line[: start.column] + pad + value + line[end.column :]
                return "".join(lines)
        if value_node.flow_style:
            end = value_node.end_mark
            line = lines[end.line]
            brace = end.column - 1
            if brace < 0 or line[brace] != "}":
                return None
            sep = ", " if value_node.value else ""
            lines[end.line] = line[:brace] + f"{sep}seed: {value}" + line[brace:]
            return "".join(lines)
        first = value_node.value[0][0].start_mark if value_node.value else None
        if first is None:
            return None
        indent = " " * first.column
        lines.insert(first.line, f"{indent}seed: {value}{comment}\n")
        return "".join(lines)
    suffix = "" if text.endswith("\n") or not text else "\n"
    return f"{text}{suffix}rng:\n  seed: {value}{comment}\n"
