"""SamplingPlan: load and validate a YAML plan, reporting every problem at once with its key path.

The plan format is documented in ``docs/plans.md``. Unknown keys are rejected (a typo must
never silently change an audit). Presets ship in ``sampling_plans/``.

Validation happens in two passes, both reported together in one :class:`PlanError`:

1. the pydantic model (types, ranges, unknown keys, rules inside one section);
2. :func:`plan_problems`, the rules that span sections (a stratum column must be mapped, spares
   against ``spares_allowed``, the seed against the generator...).

Names used by ``design``, ``frame`` and ``size`` are *references*: an audit-kit field name
(``coder``, ``paid``...) which must then be mapped under ``columns``, or a column of the
universe file, checked when the file is read.

Modules: :mod:`~audit_kit.plan.model` (the pydantic model and field lists),
:mod:`~audit_kit.plan.checks` (:func:`plan_problems`), :mod:`~audit_kit.plan.loading`
(parse and load, validation messages, :func:`with_seed`).
"""

from __future__ import annotations

from audit_kit.plan.checks import hcc_column_problems, plan_problems
from audit_kit.plan.loading import (
    load_cadence_rules,
    load_plan,
    load_plan_text,
    parse_cadence,
    parse_plan,
    parse_plan_text,
    with_seed,
)
from audit_kit.plan.model import (
    AMOUNT_FIELDS,
    CODE_FIELDS,
    FIELDS,
    HCC_FIELDS,
    LIST_OPS,
    NO_VALUE_OPS,
    SCALAR_OPS,
    Allocation,
    Certainty,
    ColumnMap,
    ColumnRef,
    Design,
    DollarBands,
    FilterOp,
    FinancialOptions,
    Frame,
    FrameFilter,
    RebuttalOptions,
    Rng,
    SamplingPlan,
    ScoringOptions,
    Size,
    Strata,
    TargetSize,
    TotalSize,
    WorkbookOptions,
)

__all__ = [
    "AMOUNT_FIELDS",
    "CODE_FIELDS",
    "HCC_FIELDS",
    "FIELDS",
    "LIST_OPS",
    "NO_VALUE_OPS",
    "SCALAR_OPS",
    "Allocation",
    "Certainty",
    "ColumnMap",
    "ColumnRef",
    "Design",
    "DollarBands",
    "FilterOp",
    "FinancialOptions",
    "Frame",
    "FrameFilter",
    "Rng",
    "SamplingPlan",
    "RebuttalOptions",
    "ScoringOptions",
    "Size",
    "Strata",
    "TargetSize",
    "TotalSize",
    "WorkbookOptions",
    "load_cadence_rules",
    "load_plan",
    "load_plan_text",
    "parse_cadence",
    "parse_plan",
    "parse_plan_text",
    "hcc_column_problems",
    "plan_problems",
    "with_seed",
]
