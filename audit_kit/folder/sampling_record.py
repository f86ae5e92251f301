"""sampling.json: the sampling record, written by ``sample`` and read by every later stage.

:class:`SamplingRecord` is the typed contract (docs/architecture.md, "sampling.json"); its
JSON Schema is ``docs/schema/sampling.schema.json``. Field order is the file's key order.
"""

from __future__ import annotations

from typing import Any

from audit_kit.folder.contract import Contract, Number


class RecordAudit(Contract):
    """Who the audit is: copied from the plan when the sample is drawn."""

    id: str
    name: str
    objective: str | None = None
    organisation: str | None = None
    period: str | None = None
    preset: str | None = None
    plan_sha256: str


class ReadOptions(Contract):
    """How the universe file was read (the options given to ``sample``)."""

    encoding: str | None = None  # none for an engine universe
    delimiter: str | None = None
    sheet: str | None = None


class RecordUniverse(Contract):
    """The universe: a file (name, hash, bytes, how it was read, its header and footer rows)
    or a table or query in an engine (engine, URL without credentials, consistency, column
    types, the frame's content fingerprint); rows and format for both."""

    file: str | None
    sha256: str | None
    rows: int
    format: str
    bytes: int | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    footer_rows: list[dict[str, Any]] = []
    engine: str | None = None
    engine_version: str | None = None
    url: str | None = None
    table: str | None = None
    query: str | None = None
    consistency: str | None = None
    column_types: dict[str, str] = {}
    fingerprint: dict[str, Any] | None = None
    notes: list[str] = []
    read_options: ReadOptions


class Exclusion(Contract):
    """Rows a frame filter removed."""

    filter: str
    rows: int


class RecordFrame(Contract):
    """The sampling frame: its size, the rows read and what the filters excluded."""

    size: int
    rows_read: int
    excluded: list[Exclusion]
    filters: list[str]


class RecordDesign(Contract):
    """The design: method, the order and numbering of the frame, the strata definition."""

    method: str
    frame_order: str
    numbering: str
    #: the plan's ``design.strata`` as written (``by``, ``variable``/``boundaries``, ...)
    strata: dict[str, Any] = {}


class RecordStratum(Contract):
    """One stratum: N_h, n_h, census/certainty, spares, weight, definition, its seed."""

    stratum: str
    population: int
    sample: int
    census: bool
    certainty: bool
    spares: int
    weight: Number
    definition: dict[str, Any]
    seed_used: Number | None = None
    #: RAT-STATS generator: the stratum's Wichmann-Hill seeds (written by stratified draws)
    wh_seeds: list[int] | None = None


class RecordGenerator(Contract):
    """The random number generator, the seed given and the seed used."""

    name: str
    seed: Number
    seed_generated: bool
    seed_used: Number
    version: str
    caveat: str | None = None
    wh_seeds: list[int] = []
    stratum_streams: str | None = None


class RecordSpares(Contract):
    """Spares: how many per stratum and in all, whether allowed, the replacement policy."""

    per_stratum: int
    total: int
    allowed: bool
    policy: str


class RecordPseudonymisation(Contract):
    """Which columns were replaced by keyed tokens, and the key's fingerprint."""

    enabled: bool
    columns: list[str]
    method: str | None
    key_fingerprint: str | None


class RecordPaidSteps(Contract):
    """One stratum's frame paid amounts, ascending: every amount, or a step summary of them."""

    units: int
    ranks: list[int]
    values: list[Number]


class RecordRobustBound(Contract):
    """What the minimum-sum bound needs from the frame (plan ``financial.robust_bound``)."""

    method: str
    examined_field: str
    rule: str
    #: per stratum; left out of results.json's copy of the record (bulky)
    frame_paid: dict[str, RecordPaidSteps] | None = None


class RecordDoubleReview(Contract):
    """The blind double-review subsample (plan ``double_review:``), drawn with the sample."""

    #: the plan's rule: ``{"units": k}`` or ``{"share": f}``
    rule: dict[str, Number]
    size: int
    reference: str | None
    seed: int
    derivation: str
    #: 1-based positions in sample order (spares excluded), in the order drawn
    positions: list[int]
    units: list[str]


class SamplingRecord(Contract):
    """The whole of sampling.json."""

    audit: RecordAudit
    universe: RecordUniverse
    frame: RecordFrame
    sampling_unit: str
    design: RecordDesign
    strata: list[RecordStratum]
    #: how the sample size was found; its keys depend on the plan's ``size`` rule
    #: (``rule`` always, then e.g. ``n``, ``per_stratum``, ``total``, ``allocation``)
    sample_size: dict[str, Any]
    generator: RecordGenerator
    spares: RecordSpares
    pseudonymisation: RecordPseudonymisation
    notes: list[str]
    tool_version: str
    created_at: str
    #: only when the plan asks for the minimum-sum bound
    robust_bound: RecordRobustBound | None = None
    double_review: RecordDoubleReview | None = None
