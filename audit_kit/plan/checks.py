"""The rules that span sections of an otherwise well-formed plan (every problem at once)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from audit_kit.errors import Problem
from audit_kit.plan.model import (
    CODE_FIELDS,
    DEFAULT_WEIGHTS,
    FIELDS,
    HCC_FIELDS,
    LIST_OPS,
    NO_VALUE_OPS,
    FilterOp,
    SamplingPlan,
    show_value,
)


def weight_problems(weights: dict[str, float], *, source: str = "plan") -> list[Problem]:
    """Return the problems of ``scoring.weights``: unknown error classes, negative weights."""
    problems = []
    for key, value in weights.items():
        if key not in DEFAULT_WEIGHTS:
            problems.append(
                Problem(
                    where=f"{source}: scoring.weights.{key}",
                    expected="one of " + ", ".join(DEFAULT_WEIGHTS),
                    found=repr(key),
                    fix="remove the key or correct its spelling.",
                )
            )
        elif value < 0:
            problems.append(
                Problem(
                    where=f"{source}: scoring.weights.{key}",
                    expected="a weight >= 0",
                    found=repr(value),
                    fix="use 0 to report an error class without scoring it.",
                )
            )
    return problems


def plan_problems(plan: SamplingPlan, *, source: str = "plan") -> list[Problem]:
    """Return the problems that span sections of an otherwise well-formed plan."""
    # every key is checked when the plan is loaded (by `sample`), not first at `score`
    problems: list[Problem] = weight_problems(dict(plan.scoring.weights), source=source)

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
            "probe_mean and probe_sd, or probe_file (a probe sample, docs/methods.md section 5.1)",
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
                add(key, f"no value for '{flt.op.value}'", show_value(value), "remove value.")
        elif flt.op in LIST_OPS:
            if not isinstance(value, list) or not value or not all(map(_scalar_ok, value)):
                add(
                    key,
                    f"a non-empty list of numbers, dates or text for '{flt.op.value}'",
                    show_value(value),
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
                    show_value(value),
                    "write e.g. value: [2026-07-01, 2026-09-30].",
                )
        elif not _scalar_ok(value):
            add(
                key,
                f"one number, date or text for '{flt.op.value}'",
                show_value(value),
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
    cpt_cols = plan.columns.columns_for("cpt")
    for code_col in plan.columns.modifiers:
        if code_col not in cpt_cols:
            add(
                f"columns.modifiers.{code_col}",
                "a column mapped under columns.cpt (" + (", ".join(cpt_cols) or "none") + ")",
                repr(code_col),
                "map the CPT/HCPCS column under columns.cpt, or key the modifier columns by it.",
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
    if plan.financial.basis == "hcc" and plan.financial.base_rate is None:
        add(
            "financial.base_rate",
            "the base rate per member per month (e.g. 1100.00)",
            "nothing",
            "add financial.base_rate to the plan.",
        )
    return problems


def hcc_column_problems(plan: SamplingPlan, *, source: str = "plan") -> list[Problem]:
    """The columns the hcc basis needs that the plan does not map (checked when sampling, so
    that ``audit-kit init`` can write a plan for the user to complete)."""
    problems: list[Problem] = []

    def add(key: str, expected: str, found: str, fix: str) -> None:
        problems.append(Problem(where=f"{source}: {key}", expected=expected, found=found, fix=fix))

    if plan.financial.basis != "hcc":
        return problems
    cols = plan.columns
    if cols.age is None and cols.birth_date is None:
        add(
            "columns.age",
            "columns.age or columns.birth_date (the CMS-HCC model needs the age)",
            "neither",
            "map the enrollee's age (or date of birth) column.",
        )
    for name in HCC_FIELDS:
        if getattr(cols, name) is None:
            add(
                f"columns.{name}",
                f"a universe column for {name} (the hcc basis needs it)",
                "nothing",
                "map it under columns (see docs/plans.md, hcc basis).",
            )
    if cols.dx is None:
        add(
            "columns.dx",
            "the submitted diagnosis codes (columns.dx)",
            "nothing",
            "map the column(s) holding each enrollee-year's submitted ICD-10-CM codes.",
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
