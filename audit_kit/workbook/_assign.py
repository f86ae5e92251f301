"""Lay out the original columns and assign units to auditors (round robin, stratum, file).

Also picks the blind double-review subsample, a recorded function of the audit id.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from audit_kit.errors import InputError, Problem
from audit_kit.files.text import read_text
from audit_kit.folder.workbook_record import (
    ColumnKind,
    OriginalColumn,
)
from audit_kit.plan import FIELDS, SamplingPlan
from audit_kit.workbook._layout import (
    FINDING_HEADERS,
)

_NUMBER_FIELDS = frozenset({"billed", "paid", "units", "age"})
_DATE_FIELDS = frozenset({"service_date"})


# -- columns and assignment --------------------------------------------------------------------


def original_columns(plan: SamplingPlan, sample_columns: Sequence[str]) -> list[OriginalColumn]:
    problems: list[Problem] = []
    out: dict[str, OriginalColumn] = {}
    mapped = plan.columns.mapped()
    field_of = {col: name for name, cols in mapped.items() for col in cols}
    entries = ["unit_id", *[c for c in plan.workbook.columns if c != "unit_id"]]
    for entry in entries:
        if entry in FIELDS:
            cols = mapped.get(entry)
            if not cols:
                problems.append(
                    Problem(
                        where=f"plan.yaml: workbook.columns ({entry})",
                        expected=f"a field mapped under columns: (columns.{entry})",
                        found="an unmapped field",
                        fix=f"map {entry} to a universe column or remove it from workbook.columns.",
                    )
                )
                continue
        elif entry in sample_columns:
            cols = [entry]
        else:
            problems.append(
                Problem(
                    where=f"plan.yaml: workbook.columns ({entry})",
                    expected="an audit-kit field or a universe column kept in sample.csv",
                    found="neither",
                    fix="check the spelling, or add the column to columns.keep.",
                )
            )
            continue
        # a CPT/HCPCS column's separate modifier columns follow it (the auditor sees both)
        cols = [c for col in cols for c in (col, *plan.columns.modifiers.get(col, []))]
        for col in cols:
            if col not in sample_columns:
                problems.append(
                    Problem(
                        where=f"sample.csv: column {col}",
                        expected="the column the plan maps",
                        found="no such column",
                        fix="re-run `audit-kit sample` with this plan.",
                    )
                )
                continue
            name = field_of.get(col)
            kind: ColumnKind = (
                "number" if name in _NUMBER_FIELDS else "date" if name in _DATE_FIELDS else "text"
            )
            out.setdefault(col, OriginalColumn(header=col, field=name, kind=kind))
    clash = [h for h in out if h in FINDING_HEADERS]
    for header in clash:
        problems.append(
            Problem(
                where=f"plan.yaml: workbook.columns ({header})",
                expected="universe column names different from the finding column headers",
                found=f"a universe column named {header!r}",
                fix="rename that column in the universe export.",
            )
        )
    if problems:
        raise InputError("The workbook columns cannot be laid out.", problems)
    return list(out.values())


_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _SLUG_RE.sub("-", text.lower()).strip("-")[:40] or "auditor"


def _read_assignment(path: Path, unit_ids: Sequence[str], spares: set[str]) -> dict[str, str]:
    problems: list[Problem] = []
    text = read_text(
        path,
        summary="Cannot read the assignment file.",
        expected="a readable UTF-8 CSV with columns unit_id,auditor",
        fix="check the path and save the file as CSV UTF-8.",
        encoding="utf-8-sig",
    )
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"unit_id", "auditor"} <= set(reader.fieldnames):
        raise InputError.one(
            "The assignment file has the wrong columns.",
            where=f"{path}, row 1",
            expected="the header unit_id,auditor",
            found=", ".join(reader.fieldnames or []) or "an empty file",
            fix="put unit_id and auditor in the first row.",
        )
    known = set(unit_ids)
    out: dict[str, str] = {}
    for line, record in enumerate(reader, start=2):
        unit = (record.get("unit_id") or "").strip()
        auditor = (record.get("auditor") or "").strip()
        where = f"{path}, row {line}"
        if not unit and not auditor:
            continue
        if unit not in known:
            problems.append(
                Problem(
                    where=where,
                    expected="a unit id of the sample",
                    found=f"unit {unit!r}" if unit else "no unit id",
                    fix="use the unit ids of sample.csv.",
                )
            )
        elif unit in out:
            problems.append(
                Problem(
                    where=where,
                    expected="each unit once",
                    found=f"unit {unit} again",
                    fix="assign each unit to one auditor (double review comes from the plan).",
                )
            )
        elif not auditor:
            problems.append(
                Problem(
                    where=where,
                    expected="an auditor name",
                    found="nothing",
                    fix="fill in the auditor.",
                )
            )
        else:
            out[unit] = auditor
    missing = [u for u in unit_ids if u not in out and u not in spares]
    if missing:
        problems.append(
            Problem(
                where=str(path),
                expected="every sampled (non-spare) unit assigned",
                found=f"{len(missing)} unassigned, e.g. {', '.join(missing[:5])}",
                fix="add a row unit_id,auditor for each of them.",
            )
        )
    if problems:
        raise InputError(f"The assignment file has {len(problems)} problem(s).", problems)
    return out


def assign_units(
    sample: pl.DataFrame,
    unit_col: str,
    *,
    auditors: Sequence[str] | None,
    by: str,
    assignment: Path | None,
) -> tuple[list[str], dict[str, str]]:
    """Return the auditors (workbook order) and unit id -> auditor ('' = one for all)."""
    unit_ids = sample[unit_col].to_list()
    flags = sample["spare"].to_list() if "spare" in sample.columns else [None] * len(unit_ids)
    spares = {u for u, s in zip(unit_ids, flags, strict=True) if truthy(s)}
    if assignment is not None:
        if auditors:
            raise InputError.one(
                "Give either auditors or an assignment file, not both.",
                where="--auditors / --assignment",
                expected="one way of assigning units",
                found="both",
                fix="drop --auditors; the assignment file names the auditors.",
            )
        mapping = _read_assignment(assignment, unit_ids, spares)
        names = list(dict.fromkeys(mapping[u] for u in unit_ids if u in mapping))
        return names, mapping
    if not auditors:
        if by == "stratum":
            raise InputError.one(
                "Assigning by stratum needs auditors.",
                where="--by stratum",
                expected="--auditors a,b,...",
                found="no auditors",
                fix="name the auditors, or drop --by for one workbook for all.",
            )
        return [""], dict.fromkeys(unit_ids, "")
    names = _check_auditor_names(auditors)
    mapping = {}
    if by == "round_robin":
        # Sampled units first, then spares, each dealt in sample order.
        ordered = [u for u in unit_ids if u not in spares] + [u for u in unit_ids if u in spares]
        for i, unit in enumerate(ordered):
            mapping[unit] = names[i % len(names)]
    elif by == "stratum":
        strata = (
            sample["stratum"].to_list() if "stratum" in sample.columns else ["all"] * len(unit_ids)
        )
        sizes: dict[str, int] = {}
        for unit, stratum in zip(unit_ids, strata, strict=True):
            if unit not in spares:
                sizes[stratum] = sizes.get(stratum, 0) + 1
            else:
                sizes.setdefault(stratum, 0)
        # Largest stratum first to the least loaded auditor (balanced, deterministic).
        load = dict.fromkeys(names, 0)
        owner: dict[str, str] = {}
        for stratum in sorted(sizes, key=lambda s: (-sizes[s], s)):
            auditor = min(names, key=lambda a: (load[a], names.index(a)))
            owner[stratum] = auditor
            load[auditor] += sizes[stratum]
        for unit, stratum in zip(unit_ids, strata, strict=True):
            mapping[unit] = owner[stratum]
    else:
        raise InputError.one(
            "Unknown assignment method.",
            where="--by",
            expected="round_robin or stratum",
            found=repr(by),
            fix="use --by round_robin or --by stratum.",
        )
    return names, mapping


def _check_auditor_names(auditors: Sequence[str]) -> list[str]:
    names = [a.strip() for a in auditors]
    problems = []
    if any(not a for a in names):
        problems.append(
            Problem(
                where="--auditors",
                expected="non-empty auditor names separated by commas",
                found="an empty name",
                fix="remove the extra comma.",
            )
        )
    lowered = [a.lower() for a in names]
    dupes = sorted({a for a in names if lowered.count(a.lower()) > 1})
    if dupes:
        problems.append(
            Problem(
                where="--auditors",
                expected="each auditor once",
                found=f"{', '.join(dupes)} more than once",
                fix="list each auditor once.",
            )
        )
    if problems:
        raise InputError("The auditor list is invalid.", problems)
    return names


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes", "y", "t")


def pick_double_review(
    audit_id: str, units: Sequence[str], share: float, n_auditors: int
) -> list[str]:
    """Pick the double-review subsample: a deterministic, recorded function of the audit id."""
    if share <= 0:
        return []
    if n_auditors < 2:
        raise InputError.one(
            "The plan asks for double review, which needs two auditors or more.",
            where="plan.yaml: workbook.double_review",
            expected="at least two auditors (--auditors a,b or an assignment file)",
            found=f"{n_auditors} auditor(s)",
            fix="name a second auditor, or set workbook.double_review: 0.",
        )
    count = min(len(units), max(1, math.ceil(share * len(units))))
    ranked = sorted(units, key=lambda u: hashlib.sha256(f"{audit_id}:{u}".encode()).hexdigest())
    return sorted(ranked[:count], key=units.index)
