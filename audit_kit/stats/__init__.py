"""Statistics, RAT-STATS 2010 compatible: pure functions, numbers in, numbers out.

Attribute appraisal (exact hypergeometric limits; stratified normal approximation),
Clopper-Pearson and accuracy intervals, variable appraisal (unrestricted and stratified;
examined, audited, difference), the demand-amount rule, and sample sizes (variable,
stratified with Neyman allocation, attribute, the CIA full-sample rule).

Every result is a frozen dataclass whose ``to_dict()`` is the JSON of the matching
RAT-STATS-style command (docs/cli.md). Every function validates its inputs and raises one
:class:`~audit_kit.errors.StatisticsError` listing every problem. Each docstring gives the
formula, its assumptions and the RAT-STATS 2010 User Guide (UG2010) / Companion Manual
(CM2010) page it reproduces; ``docs/methods.md`` says how each is validated.
This package knows nothing of files, coders or workbooks.
"""

from __future__ import annotations

from audit_kit.stats._core import (
    APPRAISAL_CONFIDENCES,
    SIZE_CONFIDENCES,
    SIZE_PRECISIONS,
    CriticalValueRule,
    t_critical,
    z_critical,
)
from audit_kit.stats.attribute import (
    AttributeAppraisal,
    AttributeLimit,
    AttributeSampleSize,
    AttributeStratum,
    AttributeStratumResult,
    StratifiedAttributeAppraisal,
    appraise_attribute,
    appraise_attribute_stratified,
    attribute_sample_size,
    clopper_pearson,
    hypergeometric_limits,
)
from audit_kit.stats.ratio import (
    DemandRule,
    RatioEstimate,
    demand_amount,
    demand_reason,
    proportion_interval,
    ratio_interval,
)
from audit_kit.stats.sample_size import (
    CiaFullSample,
    SizeStratum,
    StratifiedAllocation,
    StratifiedSampleSize,
    StratifiedSize,
    VariableSampleSize,
    achieved_precision,
    allocate,
    cia_full_sample_size,
    required_sample_size,
    stratified_allocation,
    stratified_sample_size,
    variable_sample_size,
    variable_sample_size_from_error_rate,
    variable_sample_size_from_probe,
)
from audit_kit.stats.variable import (
    MEASURES,
    MeasuredStratum,
    StratifiedVariableAppraisal,
    StratifiedVariableMeasure,
    VariableAppraisal,
    VariableLimit,
    VariableMeasure,
    VariableStratum,
    appraise_variable,
    appraise_variable_stratified,
    appraise_variables,
    appraise_variables_stratified,
    complete_measures,
)

__all__ = [
    "APPRAISAL_CONFIDENCES",
    "MEASURES",
    "SIZE_CONFIDENCES",
    "SIZE_PRECISIONS",
    "AttributeAppraisal",
    "AttributeLimit",
    "AttributeSampleSize",
    "AttributeStratum",
    "AttributeStratumResult",
    "CiaFullSample",
    "CriticalValueRule",
    "DemandRule",
    "MeasuredStratum",
    "RatioEstimate",
    "SizeStratum",
    "StratifiedAllocation",
    "StratifiedAttributeAppraisal",
    "StratifiedSampleSize",
    "StratifiedSize",
    "StratifiedVariableAppraisal",
    "StratifiedVariableMeasure",
    "VariableAppraisal",
    "VariableLimit",
    "VariableMeasure",
    "VariableSampleSize",
    "VariableStratum",
    "achieved_precision",
    "allocate",
    "appraise_attribute",
    "appraise_attribute_stratified",
    "appraise_variable",
    "appraise_variable_stratified",
    "appraise_variables",
    "appraise_variables_stratified",
    "attribute_sample_size",
    "cia_full_sample_size",
    "clopper_pearson",
    "complete_measures",
    "demand_amount",
    "demand_reason",
    "hypergeometric_limits",
    "proportion_interval",
    "ratio_interval",
    "required_sample_size",
    "stratified_allocation",
    "stratified_sample_size",
    "t_critical",
    "variable_sample_size",
    "variable_sample_size_from_error_rate",
    "variable_sample_size_from_probe",
    "z_critical",
]
