"""results.json: the scores of an audit, built by scoring and read by reporting and the CLI.

:class:`Results` is the typed contract (docs/architecture.md, "results.json"); its JSON Schema
is ``docs/schema/results.schema.json``. Field order is the file's key order. A field that is
not always written has a default and is written only when the writer gave it
(:meth:`Contract.to_json_dict`); docs/architecture.md says how to add a field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag

from audit_kit.folder.contract import Contract, Number, read_contract
from audit_kit.folder.sampling_record import SamplingRecord

Verdict = Literal["meets", "below", "inconclusive"]
#: preliminary while units are outstanding or a rebuttal round is open (or required, not held)
Status = Literal["preliminary", "final"]


class AuditInfo(Contract):
    """Which audit was scored, by which version, from which findings."""

    id: str
    name: str
    objective: str | None = None
    organisation: str | None = None
    period: str | None = None
    sampling_unit: str | None = None
    preset: str | None = None
    tool_version: str
    scored_at: str
    findings_sha256: str


class ReferenceFileEntry(Contract):
    """A reference file scoring read (fee schedule, DRG weights), by path and hash."""

    file: str
    sha256: str


class Settings(Contract):
    """The plan's scoring and financial settings the scores were computed under."""

    target_accuracy: Number
    confidence: Number
    netting: str
    demand_rule: str
    basis: str
    critical_value_rule: str
    #: the plan's ``financial.robust_bound`` (minimum_sum, kaplan_wald or none)
    robust_bound: str = "none"
    extrapolate: bool
    examined_field: str
    base_rate: Number | None
    error_threshold: Number | None
    observe_only: list[str]
    weights: dict[str, Number]
    verdict_metric: str
    reference_files: dict[str, ReferenceFileEntry]
    #: hcc basis only: CMS-HCC model -> weight, coding-intensity and normalisation factors
    hcc_weights: dict[str, Number] | None = None
    maci: Number | None = None
    normalisation: Number | None = None


class Progress(Contract):
    """How many sampled units are returned, reviewed, missing or outstanding."""

    units_sampled: int
    units_returned: int
    units_reviewed: int
    units_record_missing: int
    units_not_reviewed: int
    units_scored: int
    units_outstanding: int


class Interval(Contract):
    """A share with its confidence limits and how they were found."""

    value: Number
    lower: Number
    upper: Number
    confidence: Number
    method: str
    #: the estimate's standard error (None where the design gives none)
    se: Number | None = None
    #: the one-sided bounds at the interval's confidence (the two-sided limits at 2C - 1)
    one_sided_lower: Number | None = None
    one_sided_upper: Number | None = None


class TypeCounts(Contract):
    """Code counts of one code type (dx, px, cpt, modifiers) over a group."""

    kept: int
    added: int
    deleted: int
    revised: int
    sequencing_changed: int
    observe_only: bool


class CodeCounts(Contract):
    """Code counts over a group: reviewed, correct, changes, weighted errors."""

    reviewed: Number
    correct: Number
    kept: int
    added: int
    deleted: int
    revised: int
    principal_dx_changed: int
    sequencing_changed: int
    weighted_errors: Number
    by_type: dict[str, TypeCounts]


class Money(Contract):
    """Amounts over a group: examined, audited, over- and underpayment, net, gross."""

    examined: Number
    audited: Number
    overpayment: Number
    underpayment: Number
    net: Number
    gross: Number


class VariableLimit(Contract):
    """Limits of an estimated total at one confidence level."""

    lower: Number
    upper: Number
    precision: Number
    precision_percent: Number
    critical_value: Number | None


class AttributeLimit(Contract):
    """Limits of an estimated error quantity and rate at one confidence level."""

    lower: Number | None
    upper: Number | None
    lower_rate: Number | None
    upper_rate: Number | None
    precision_rate: Number | None = None


class ErrorRateStratum(Contract):
    """One stratum of a stratified error-rate appraisal."""

    stratum: str
    population: int
    sample: int
    errors: int
    rate: Number
    quantity: Number
    se_rate: Number
    se_quantity: Number
    precision_rate: dict[str, Number]


class ErrorRateOverall(Contract):
    """The combined error rate of a stratified appraisal."""

    population: int
    sample: int
    errors: int
    rate: Number
    quantity: Number
    se_rate: Number
    se_quantity: Number
    limits: dict[str, AttributeLimit]


class ErrorRate(ErrorRateOverall):
    """The rate of units with a payment difference (unrestricted attribute appraisal)."""

    one_sided: bool
    method: str
    definition: str


class StratifiedErrorRate(Contract):
    """The rate of units with a payment difference, stratified (normal approximation)."""

    strata: list[ErrorRateStratum]
    overall: ErrorRateOverall
    method: str
    definition: str


class Appraisal(Contract):
    """The variable appraisal of the differences of one sample (or stratum)."""

    total: Number
    nonzero: int
    mean: Number
    sd: Number
    skewness: Number | None
    kurtosis: Number | None
    se_mean: Number
    se_total: Number
    point_estimate: Number
    limits: dict[str, VariableLimit]
    notes: list[str]


class StratifiedAppraisal(Contract):
    """The combined variable appraisal of a stratified design."""

    point_estimate: Number
    se_total: Number
    limits: dict[str, VariableLimit]
    total: Number
    degrees_of_freedom: Number | None
    notes: list[str]


def _has(key: str) -> Callable[[Any], str]:
    """Tell a stratified block from a simple one by a key only the stratified one has."""

    def tag(value: Any) -> str:
        if isinstance(value, Mapping):
            return "stratified" if key in value else "simple"
        return "stratified" if hasattr(value, key) else "simple"

    return tag


class RobustStratum(Contract):
    """One stratum's share of a robust lower bound (Bonferroni across strata)."""

    stratum: str
    population: int
    sample: int
    confidence: Number
    lower: Number
    census: bool


class RobustBoundBlock(Contract):
    """A lower bound with guaranteed coverage on the total overpayment (minimum-sum,
    Kaplan-Wald), beside the t limit (plan ``financial.robust_bound``)."""

    method: str
    confidence: Number
    lower: Number
    population: int
    sample: int
    assumption: str
    strata: list[RobustStratum]


class Extrapolation(Contract):
    """The differences projected to the universe, the demand rule and its amount."""

    measure: str
    netting: str
    population: int
    sample: int
    point_estimate: Number
    se_total: Number
    limits: dict[str, VariableLimit]
    one_sided_90_lower: Number
    two_sided_90_lower: Number
    demand_rule: str
    demand_amount: Number
    demand_reason: str
    critical_value_rule: str
    skewness: Number | None
    error_rate: Annotated[
        Annotated[ErrorRate, Tag("simple")] | Annotated[StratifiedErrorRate, Tag("stratified")],
        Discriminator(_has("strata")),
    ]
    appraisal: Annotated[
        Annotated[Appraisal, Tag("simple")] | Annotated[StratifiedAppraisal, Tag("stratified")],
        Discriminator(_has("degrees_of_freedom")),
    ]
    #: stratified designs only: each stratum's skewness of the differences
    strata_skewness: dict[str, Number | None] = {}
    #: the robust lower bound (overall extrapolation only; None when not computed)
    robust_bound: RobustBoundBlock | None = None
    #: which bound the demand used: ``t_limit`` or the robust method
    demand_bound: str | None = None
    #: the demand rule's t limit, when the demand used the robust bound instead
    t_limit_demand_amount: Number | None = None
    #: warnings that the sample looks left-skewed for the t limit
    left_skew: list[str] = []


class DeletedHcc(Contract):
    """One HCC the records did not support, with the enrollee-years it was deleted from."""

    hcc: str
    label: str
    units: int


class HccCounts(Contract):
    """hcc basis: submitted HCCs (after hierarchies) kept, deleted, and HCCs added."""

    submitted: int
    kept: int
    deleted: int
    added: int
    most_deleted: list[DeletedHcc]
    raf_difference_per_member: Number | None


class GroupScores(Contract):
    """The scores of a group of units (overall, a coder, a stratum...)."""

    units_reviewed: int
    units_with_error: int
    units_not_reviewed: int
    record_accuracy: Interval | None
    code_accuracy: Interval | None
    drg_accuracy: Interval | None
    financial_accuracy: Interval | None
    dollar_accuracy: Number | None
    verdict: Verdict
    record_verdict: Verdict
    codes: CodeCounts
    financial: Money
    extrapolation: Extrapolation | None
    #: overall, coders and providers: the sampled units of the group ("20 of 30"); auditors
    #: null (their units are known from the workbooks, not the sample)
    units_sampled: int | None = None
    #: hcc basis only
    hccs: HccCounts | None = None
    hcc_accuracy: Interval | None = None

    @property
    def scored(self) -> bool:
        """Whether the group has at least one scored unit (else it has no accuracy)."""
        return self.units_reviewed > 0


# A labelled group lists its label (and population) first: the label classes come last in
# the bases so that pydantic, which orders fields from the last base to the first, puts
# their fields first.


class _CoderLabel(Contract):
    coder: str
    population: int | None


class _ProviderLabel(Contract):
    provider: str
    population: int | None


class _AuditorLabel(Contract):
    auditor: str
    population: int | None


class _SettingLabel(Contract):
    setting: str
    population: int | None


class _StratumLabel(Contract):
    stratum: str
    population: int
    sample: int


class AuditorRebuttal(Contract):
    """One auditor's findings in the rebuttal round and the share the lead overturned."""

    findings_with_error: int
    disputed: int
    upheld: int
    overturned: int
    modified: int
    #: overturned / findings with an error of the auditor; null without findings
    overturn_rate: Number | None


class CoderGroup(GroupScores, _CoderLabel):
    """The scores of one coder."""


class ProviderGroup(GroupScores, _ProviderLabel):
    """The scores of one provider."""


class AuditorGroup(GroupScores, _AuditorLabel):
    """The scores of the units one auditor reviewed."""

    #: with a rebuttal round only
    rebuttal: AuditorRebuttal | None = None


class SettingGroup(GroupScores, _SettingLabel):
    """The scores of one setting (inpatient, outpatient, ...)."""


class StratumGroup(GroupScores, _StratumLabel):
    """The scores of one stratum, with its N_h and n_h."""


class Category(Contract):
    """One error category of the Pareto table."""

    category: str
    units: int
    share: Number
    cumulative_share: Number
    overpayment: Number
    underpayment: Number
    net: Number


class CodeSetEntry(Contract):
    """The codes of a unit: diagnoses (principal first), procedures, CPT lines, DRG."""

    dx: list[str]
    px: list[str]
    cpt: list[str]
    drg: str | None


class TypeChanges(Contract):
    """The changes of one code type of one unit."""

    kept: list[str]
    added: list[str]
    deleted: list[str]
    revised: list[list[str]]
    principal_dx_changed: bool
    sequencing_changed: bool
    observe_only: bool


class Changes(Contract):
    """A unit's changes: flat lists for people, per code type for machines."""

    added: list[str]
    deleted: list[str]
    revised: list[list[str]]
    principal_dx_changed: bool
    sequencing_changed: bool
    drg_changed: bool | None
    by_type: dict[str, TypeChanges]


class ErrorRebuttal(Contract):
    """A finding's answer in the rebuttal round: the coder's response and the lead's decision."""

    response: Literal["agree", "disagree"] | None
    comment: str | None
    decision: Literal["upheld", "overturned", "modified"] | None
    decision_rationale: str | None


class ErrorEntry(Contract):
    """A unit with an error, its original and audited codes, amounts and the rationale."""

    unit_id: str
    coder: str | None
    provider: str | None
    auditor: str | None
    stratum: str
    status: str
    category: str | None
    original: CodeSetEntry
    audited: CodeSetEntry
    changes: Changes | None
    examined: Number | None
    audited_amount: Number | None
    difference: Number | None
    #: hcc basis only: payment RAF of the submitted and supported codes, their HCCs, months
    raf_submitted: Number | None = None
    raf_supported: Number | None = None
    hccs_submitted: list[str] | None = None
    hccs_supported: list[str] | None = None
    months: int | None = None
    rationale: str | None
    reference: str | None
    #: with a rebuttal round only (findings the round covers)
    rebuttal: ErrorRebuttal | None = None


class UnitEntry(Contract):
    """One returned unit: ids, group keys, status, error flag, code counts, amounts, weight."""

    unit_id: str
    stratum: str
    coder: str | None
    provider: str | None
    auditor: str | None
    setting: str | None
    status: str
    scored: bool
    has_error: bool
    category: str | None
    codes_reviewed: Number | None
    codes_correct: Number | None
    weighted_errors: Number | None
    examined: Number | None
    audited_amount: Number | None
    difference: Number | None
    #: hcc basis only: payment RAF of the submitted and supported codes, their HCCs, months
    raf_submitted: Number | None = None
    raf_supported: Number | None = None
    hccs_submitted: list[str] | None = None
    hccs_supported: list[str] | None = None
    months: int | None = None
    weight: Number


class CiaFullSample(Contract):
    """The CIA full-sample size from the discovery sample's overpayments."""

    sample_size: int
    mean: Number
    sd: Number
    discovery_sample: int
    population: int
    #: the confidence level as RAT-STATS names it ("90")
    confidence: str
    precision_percent: Number
    note: str | None


class CiaDiscovery(Contract):
    """The net error rate of a CIA discovery sample against the plan's threshold."""

    threshold: Number
    net_error_rate: Number | None
    net_overpayment: Number
    examined: Number
    exceeded: bool
    rule: str
    full_sample: CiaFullSample | None


class AgreementCoefficient(Contract):
    """Cohen's kappa or Gwet's AC1 with its interval (None where undefined)."""

    value: Number | None
    lower: Number | None
    upper: Number | None
    se: Number | None


class AgreementLevel(Contract):
    """Agreement of the two reviews at one level (record, codes, drg)."""

    units: int
    agreed: int
    percent_agreement: Number
    cohen_kappa: AgreementCoefficient
    gwet_ac1: AgreementCoefficient
    confidence: Number
    categories: list[str]
    #: table[i][j]: items the first review put in category i and the second in j
    table: list[list[int]]
    items: int
    #: with three auditors or more
    fleiss_kappa: Number | None = None
    krippendorff_alpha: Number | None = None


class AuditorAccuracyInterval(Contract):
    """An auditor's accuracy against the reference reviewer, with its exact interval."""

    value: Number
    lower: Number
    upper: Number
    confidence: Number
    method: str


class AuditorAccuracy(Contract):
    """One auditor against the named reference reviewer."""

    auditor: str
    units: int
    agreed: int
    accuracy: AuditorAccuracyInterval
    target: Number
    verdict: Verdict


class Disagreement(Contract):
    """A double-review unit whose two reviews differ, and whose finding is scored."""

    unit_id: str
    auditors: list[str | None]
    kinds: list[str]
    resolved_by: Literal["reference", "primary"]


class Agreement(Contract):
    """The blind double review: inter-rater agreement and auditor accuracy."""

    planned_units: int
    compared_units: int
    pending: list[str]
    reference: str | None
    auditors: list[str]
    confidence: Number
    levels: dict[str, AgreementLevel]
    auditor_accuracy: list[AuditorAccuracy]
    auditor_target: Number
    disagreements: list[Disagreement]
    resolution: str


class FinalCodes(Contract):
    """The lead's final codes and amount of a modified finding."""

    dx: list[str]
    px: list[str]
    cpt: list[str]
    drg: str | None
    amount: Number | None


class Dispute(Contract):
    """A finding the coder disputed: the finding, the coder's comment and the decision."""

    kind: Literal["rebuttal"]
    unit_id: str
    coder: str | None
    auditor: str | None
    category: str | None
    original: CodeSetEntry | None
    audited: CodeSetEntry | None
    rationale: str | None
    reference: str | None
    coder_comment: str
    decision: Literal["upheld", "overturned", "modified"] | None
    decision_rationale: str | None
    decided_by: str | None
    decision_date: str | None
    final: FinalCodes | None


class BeforeDecisions(Contract):
    """The overall accuracy of the findings as the auditors returned them."""

    record_accuracy: Interval | None
    code_accuracy: Interval | None
    units_with_error: int | None


class RebuttalBlock(Contract):
    """The rebuttal round: its state and dates, the counts, the accuracy before, the disputes.

    ``findings_with_error`` = ``agreed`` + ``disputed`` + ``no_response``; ``disputed`` =
    ``upheld`` + ``overturned`` + ``modified`` + ``open``.
    """

    round: int
    state: Literal["open", "closed"]
    opened_at: str
    due: str
    closed_at: str | None
    findings_with_error: int
    agreed: int
    disputed: int
    upheld: int
    overturned: int
    modified: int
    no_response: int
    open: int
    no_response_counted_as_agreed: bool
    preliminary: BeforeDecisions
    disputes: list[Dispute]


class Results(Contract):
    """The whole of results.json."""

    audit: AuditInfo
    #: "preliminary" while sampled units are outstanding or a rebuttal round is open (or
    #: required and not held), else "final"; status_reasons says why
    status: Status
    status_reasons: list[str] = []
    settings: Settings
    progress: Progress
    overall: GroupScores
    coders: list[CoderGroup]
    providers: list[ProviderGroup]
    auditors: list[AuditorGroup]
    settings_groups: list[SettingGroup]
    strata: list[StratumGroup]
    categories: list[Category]
    errors: list[ErrorEntry]
    units: list[UnitEntry]
    cia_discovery: CiaDiscovery | None
    sampling: SamplingRecord
    agreement: Agreement | None = None
    notes: list[str]
    #: written by ``score`` on an audit folder: the rebuttal round (null without one)
    rebuttal: RebuttalBlock | None = None

    def group_lists(self) -> dict[str, list[Any]]:
        """Return the labelled groups by their key in the file (coders, providers...)."""
        return {
            "coders": list(self.coders),
            "providers": list(self.providers),
            "auditors": list(self.auditors),
            "settings_groups": list(self.settings_groups),
            "strata": list(self.strata),
        }


def read_results(data: bytes | str) -> Results:
    """Parse results.json; a file this version cannot read is an InputError naming each key."""
    return read_contract(Results, data, file="results.json")
