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


class CoderGroup(GroupScores, _CoderLabel):
    """The scores of one coder."""


class ProviderGroup(GroupScores, _ProviderLabel):
    """The scores of one provider."""


class AuditorGroup(GroupScores, _AuditorLabel):
    """The scores of the units one auditor reviewed."""


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


class Results(Contract):
    """The whole of results.json."""

    audit: AuditInfo
    #: "preliminary" while sampled units are outstanding, else "final"
    status: Literal["preliminary", "final"]
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
    notes: list[str]

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
