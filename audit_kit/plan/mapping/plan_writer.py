"""Write the commented plan of ``audit-kit init``: a preset (or a default) with the mapping.

Every guessed line carries ``# review: guessed from ...``; an existing plan is never replaced
without ``force``; the plan is validated after writing and what is left to fix is returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from audit_kit.errors import AuditError, PlanError, Problem
from audit_kit.files.atomic import atomic_write_bytes
from audit_kit.plan import SamplingPlan, parse_plan_text
from audit_kit.plan.mapping.proposal import (
    DEFAULT_SAMPLE_ROWS,
    ColumnFacts,
    MappingProposal,
    column_facts,
    guess_mapping,
    read_head,
)
from audit_kit.plan.presets import list_presets

__all__ = ["InitSummary", "plan_text", "write_plan"]

_WORKBOOK_FIELDS = (
    "unit_id",
    "coder",
    "provider",
    "setting",
    "service_date",
    "dx",
    "px",
    "cpt",
    "units",
    "drg",
    "paid",
)


def _scalar(value: str) -> str:
    return (
        yaml.safe_dump(value, default_flow_style=True, width=10_000)
        .strip()
        .removesuffix("\n...")
        .removesuffix("...")
        .strip()
    )


def _flow(values: Sequence[str]) -> str:
    return yaml.safe_dump(list(values), default_flow_style=True, width=10_000).strip()


def _columns_block(proposal: MappingProposal) -> list[str]:
    lines = [
        "columns:                        # audit-kit field: column of your file (audit-kit init)"
    ]
    entries: list[tuple[str, str]] = []
    for name, guess in proposal.fields.items():
        value = _scalar(guess.columns[0]) if len(guess.columns) == 1 else _flow(guess.columns)
        comment = f"review: guessed from {guess.reason}"
        if name == "patient":
            comment = "PHI: kept in sample.csv only, never in workbooks or PDFs; " + comment
        if guess.notes and name != "patient":
            comment += "; " + "; ".join(guess.notes)
        entries.append((f"  {name}: {value}", comment))
    if proposal.modifiers:
        pairs = ", ".join(
            f"{_scalar(code)}: {_flow(mods)}" for code, mods in proposal.modifiers.items()
        )
        entries.append(
            (
                f"  modifiers: {{{pairs}}}",
                "review: modifier columns, each attached to the CPT/HCPCS column before it "
                "(99214 + 25 -> 99214-25)",
            )
        )
    if proposal.code_separator != ";":
        entries.append(
            (f"  code_separator: {_scalar(proposal.code_separator)}", "review: guessed from values")
        )
    if proposal.phi:
        kept = [c for g in proposal.phi for c in g.columns]
        reasons = "; ".join(f"{g.columns[0]}: {g.reason}" for g in proposal.phi)
        entries.append((f"  keep: {_flow(kept)}", "PHI columns must be kept to be marked"))
        entries.append(
            (
                f"  phi: {_flow(kept)}",
                f"PHI, never in workbooks or PDFs; review: guessed from {reasons}",
            )
        )
    # align the comments, but not behind one very long line (a 25-column dx list)
    width = min(max((len(e[0]) for e in entries), default=0), 34) + 2
    for text, comment in entries:
        lines.append(
            f"{text.ljust(width)}# {comment}" if len(text) < width else f"{text}  # {comment}"
        )
    if proposal.phi_not_kept:
        names = ", ".join(c for g in proposal.phi_not_kept for c in g.columns)
        lines.append(f"  # not kept (PHI the audit does not need, minimum necessary): {names}")
    if proposal.unmapped:
        lines.append(
            "  # not mapped: "
            + ", ".join(proposal.unmapped)
            + " (add a column to keep: [...] to carry it into sample.csv)"
        )
    for note in proposal.notes:
        lines.append(f"  # note: {note}")
    return lines


def _period_line(facts: ColumnFacts | None, proposal: MappingProposal) -> list[str]:
    if facts is None or facts.first_date is None or facts.last_date is None:
        return []
    col = proposal.fields["service_date"].columns[0]
    return [
        f"period: {{start: {facts.first_date.isoformat()}, end: {facts.last_date.isoformat()}}}"
        f"   # review: the first and last date in '{col}'"
    ]


def _filter_lines(facts: ColumnFacts | None, proposal: MappingProposal) -> list[str]:
    """``paid > 0`` when the file holds payments that are negative, zero or blank (adjustments,
    denials, unpaid claims): they are excluded and the exclusion recorded."""
    if "paid" not in proposal.fields:
        return []
    if facts is not None and not facts.paid_needs_filter:
        return []
    why = "review: paid claims only"
    if facts is not None:
        parts = [
            f"{n:,} {what}"
            for n, what in (
                (facts.paid_negative, "negative"),
                (facts.paid_zero, "zero"),
                (facts.paid_blank, "blank"),
            )
            if n
        ]
        why = f"review: the file has {', '.join(parts)} payments; they are excluded and counted"
    return ["frame:", "  filters:", f'    - {{column: paid, op: ">", value: 0}}   # {why}']


def _default_plan(
    proposal: MappingProposal, universe_name: str, facts: ColumnFacts | None = None
) -> str:
    fields = proposal.fields
    lines = [
        "# Sampling plan written by `audit-kit init` (no preset given).",
        "# Review every line marked '# review:', then run `audit-kit sample`.",
        f"name: Coding accuracy review of {universe_name}",
        "objective: Coding accuracy per coder against a 95% target; net financial impact.",
        *_period_line(facts, proposal),
        "sampling_unit: encounter",
        "COLUMNS",
    ]
    lines += _filter_lines(facts, proposal)
    if "coder" in fields:
        lines += [
            "design:",
            "  method: stratified",
            "  strata:",
            "    by: [coder]",
            "size:",
            "  per_stratum: 30             # 30 encounters per coder",
        ]
    else:
        lines += ["design:", "  method: simple", "size:", "  n: 100"]
    lines += [
        "spares: 0",
        "rng:",
        "  generator: pcg64            # pcg64 | ratstats; a seed is generated and recorded",
        "WORKBOOK",
        "financial:",
        "  basis: entered",
        "  netting: net",
        "  demand_rule: cms_one_sided_90",
        "scoring:",
        "  target_accuracy: 0.95",
        "  confidence: 0.90",
    ]
    return "\n".join(lines) + "\n"


_TOP_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:")


def _replace_block(text: str, key: str, block: Sequence[str]) -> str:
    """Replace the top-level ``key:`` block of a YAML text (comments elsewhere kept)."""
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if (m := _TOP_KEY.match(line)) and m["key"] == key),
        None,
    )
    if start is None:
        return text.rstrip("\n") + "\n" + "\n".join(block) + "\n"
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and not line.startswith((" ", "\t", "#")):
            break
        end += 1
    # keep the blank and comment lines that introduce the next block
    while end - 1 > start and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return "\n".join([*lines[:start], *block, *lines[end:]]) + "\n"


def _workbook_block(preset: Mapping[str, Any] | None, proposal: MappingProposal) -> list[str]:
    """The workbook section: the preset's columns (or a default) that the export has, no PHI."""
    options = dict((preset or {}).get("workbook") or {})
    chosen = [c for c in options.pop("columns", None) or _WORKBOOK_FIELDS if isinstance(c, str)]
    wanted = [c for c in chosen if c in proposal.fields and c != "patient"]
    lines = [
        "workbook:",
        f"  columns: {_flow(wanted)}   # what auditors see; never PHI (patient, phi)",
    ]
    if options:
        dumped = yaml.safe_dump(options, default_flow_style=False, sort_keys=False)
        lines += ["  " + line for line in dumped.splitlines()]
    return lines


def _drop_placeholder_note(text: str) -> str:
    """Remove a preset's "COLUMNS ARE PLACEHOLDERS" comment paragraph: init replaced them."""
    lines = text.splitlines()
    out: list[str] = []
    skipping = False
    for line in lines:
        if "COLUMNS ARE PLACEHOLDERS" in line:
            skipping = True
        elif skipping and (not line.startswith("#") or line.strip() == "#"):
            skipping = False
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


def plan_text(
    proposal: MappingProposal,
    *,
    preset_text: str | None = None,
    preset_name: str | None = None,
    universe_name: str = "the universe",
    facts: ColumnFacts | None = None,
) -> str:
    """Return the commented plan: the preset (or a default) with the proposed mapping.

    ``facts`` (from the whole file) decide the frame filter on payments and the period.
    """
    columns = _columns_block(proposal)
    if preset_text is None:
        text = _default_plan(proposal, universe_name, facts)
        text = text.replace("COLUMNS\n", "\n".join(columns) + "\n")
        return text.replace("WORKBOOK\n", "\n".join(_workbook_block(None, proposal)) + "\n")
    header = [
        f"# Written by `audit-kit init` from the preset '{preset_name}' for {universe_name}.",
        "# The columns were guessed from your export: review every line marked '# review:',",
        "# then run `audit-kit sample`.",
    ]
    preset = yaml.safe_load(preset_text)
    text = _replace_block(_drop_placeholder_note(preset_text), "columns", columns)
    text = _replace_block(text, "workbook", _workbook_block(preset, proposal))
    return "\n".join(header) + "\n" + text


@dataclass(frozen=True, slots=True, kw_only=True)
class InitSummary:
    """What ``init`` did: the plan written, the mapping, and what is left to the user."""

    plan: Path
    universe: Path
    preset: str | None
    proposal: MappingProposal
    problems: tuple[Problem, ...]  # plan validation problems still to fix by hand
    next_command: str
    notes: tuple[str, ...] = ()  # what reading the universe noticed (e.g. read as Latin-1)

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": str(self.plan),
            "universe": str(self.universe),
            "preset": self.preset,
            "mapping": self.proposal.to_dict(),
            "valid": self.valid,
            "problems": [p.to_dict() for p in self.problems],
            "next_command": self.next_command,
            "notes": list(self.notes),
        }


def _preset_text(name: str) -> str:
    presets = list_presets()
    if name not in presets:
        raise PlanError.one(
            "No such preset.",
            where=f"--preset {name}",
            expected="one of: " + (", ".join(presets) or "(no presets installed)"),
            found=f"'{name}'",
            fix="list the presets with `audit-kit plans`, or leave --preset out.",
        )
    return presets[name].read_text("utf-8")


def write_plan(
    universe: Path,
    out: Path,
    *,
    preset: str | None = None,
    force: bool = False,
    rows: int = DEFAULT_SAMPLE_ROWS,
    sheet: str | None = None,
) -> InitSummary:
    """Read a universe export, propose its mapping and write a commented plan to ``out``.

    An existing ``out`` is refused unless ``force``. The plan is written even when it does not
    validate yet (a column nobody could guess); the summary lists what to fix.
    """
    out = Path(out)
    universe = Path(universe)
    if out.exists() and not force:
        raise AuditError.one(
            "Refusing to overwrite an existing plan.",
            where=str(out),
            expected="a new file",
            found="an existing file" if out.is_file() else "an existing folder",
            fix="choose another --out, or pass --force to replace it.",
        )
    if out.is_dir():
        raise AuditError.one(
            "Cannot write the plan.",
            where=str(out),
            expected="a file path",
            found="a folder",
            fix="add a name.",
        )
    preset_text = _preset_text(preset) if preset else None
    notes: list[str] = []
    head = read_head(universe, rows=rows, sheet=sheet, notes=notes)
    proposal = guess_mapping(head)
    facts = column_facts(universe, proposal, sheet=sheet)
    text = plan_text(
        proposal,
        preset_text=preset_text,
        preset_name=preset,
        universe_name=universe.name,
        facts=facts,
    )
    problems: list[Problem] = []
    try:
        plan = parse_plan_text(text, source=str(out))
    except PlanError as exc:
        problems.extend(exc.problems)
    else:
        problems.extend(_workbook_phi_problems(plan, out))
    atomic_write_bytes(out, text.encode("utf-8"))
    next_command = (
        f"audit-kit sample --plan {out} --universe {universe} --out AUDIT_DIR"
        if not problems
        else f"edit {out} (see the problems above), then: "
        f"audit-kit sample --plan {out} --universe {universe} --out AUDIT_DIR"
    )
    return InitSummary(
        plan=out,
        universe=universe,
        preset=preset,
        proposal=proposal,
        problems=tuple(problems),
        next_command=next_command,
        notes=tuple(notes),
    )


def _workbook_phi_problems(plan: SamplingPlan, out: Path) -> Iterable[Problem]:
    phi = set(plan.columns.phi_columns())
    for entry in plan.workbook.columns:
        column = plan.column_for_safe(entry) if entry != "patient" else plan.columns.patient
        if entry == "patient" or (column is not None and column in phi):
            yield Problem(
                where=f"{out}: workbook.columns",
                expected="no PHI column (minimum necessary)",
                found=f"'{entry}'",
                fix="remove it from workbook.columns.",
            )
