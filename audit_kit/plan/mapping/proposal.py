"""Propose the column mapping of an export: PHI first, then repeated columns, headers, values.

:func:`guess_mapping` is a pure function of the header and sample rows; :func:`read_head` reads
them from a universe file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from audit_kit.plan import CODE_FIELDS, FIELDS
from audit_kit.plan.mapping.headers import (
    DATE_RANK,
    HEADERS,
    PHI_HEADERS,
    PHI_KEPT,
    PRINCIPAL_DX,
    REPEAT_PREFIX,
    REPEAT_RE,
    fold,
)
from audit_kit.plan.mapping.values import (
    INT_RE,
    KIND_NAMES,
    PHI_VALUE_NAMES,
    SETTING_VALUES,
    SEX_VALUES,
    SHARE,
    code_field,
    detect_separator,
    fit_share,
    is_date,
    is_money,
    phi_by_value,
    text_values,
)
from audit_kit.values.dates import date_series
from audit_kit.values.money import money_series

__all__ = [
    "DEFAULT_SAMPLE_ROWS",
    "ColumnFacts",
    "ColumnGuess",
    "MappingProposal",
    "column_facts",
    "guess_mapping",
    "read_head",
]

DEFAULT_SAMPLE_ROWS = 1000


_IMPORTANT = ("unit_id", "coder", "paid", "dx")


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnGuess:
    """One proposed mapping: a field (or PHI) -> column(s), and what it was guessed from."""

    field: str
    columns: tuple[str, ...]
    source: str  # "header", "repeated columns", "values"
    reason: str  # said in the plan: "# review: guessed from <reason>"
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "columns": list(self.columns),
            "source": self.source,
            "reason": self.reason,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingProposal:
    """What :func:`guess_mapping` proposes for one export."""

    columns: tuple[str, ...]
    rows_read: int
    fields: dict[str, ColumnGuess]
    phi: tuple[ColumnGuess, ...]  # PHI columns kept (and marked) in sample.csv
    phi_not_kept: tuple[ColumnGuess, ...]  # PHI the audit does not need: left out of the plan
    unmapped: tuple[str, ...]
    missing: tuple[str, ...]  # important fields no column was found for
    code_separator: str = ";"
    notes: tuple[str, ...] = ()
    #: CPT/HCPCS column -> its modifier columns (exports that keep modifiers apart).
    modifiers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def mapped_columns(self) -> dict[str, list[str]]:
        return {name: list(g.columns) for name, g in self.fields.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "rows_read": self.rows_read,
            "fields": {k: v.to_dict() for k, v in self.fields.items()},
            "phi": [g.to_dict() for g in self.phi],
            "phi_not_kept": [g.to_dict() for g in self.phi_not_kept],
            "unmapped": list(self.unmapped),
            "missing": list(self.missing),
            "code_separator": self.code_separator,
            "notes": list(self.notes),
            "modifiers": {k: list(v) for k, v in self.modifiers.items()},
        }


@dataclass(slots=True)
class _State:
    frame: pl.DataFrame
    free: list[str]
    fields: dict[str, ColumnGuess] = field(default_factory=dict)
    phi: list[ColumnGuess] = field(default_factory=list)
    phi_not_kept: list[ColumnGuess] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: recognised but deliberately not mapped (modifier and POA columns): no value guessing
    reserved: list[str] = field(default_factory=list)
    _values: dict[str, list[str]] = field(default_factory=dict)

    def values(self, column: str) -> list[str]:
        if column not in self._values:
            self._values[column] = text_values(self.frame[column])
        return self._values[column]

    def take(self, guess: ColumnGuess) -> None:
        for col in guess.columns:
            self.free.remove(col)
        if guess.field == "phi":
            self.phi.append(guess)
        elif guess.field == "phi-not-kept":
            self.phi_not_kept.append(guess)
        else:
            self.fields[guess.field] = guess


def guess_mapping(frame: pl.DataFrame) -> MappingProposal:
    """Propose a column mapping for the header and sample rows of a universe export.

    ``frame`` holds the export's columns (any types; they are read as text). Pure function:
    no file is read, nothing is printed.
    """
    columns = tuple(frame.columns)
    state = _State(frame=frame, free=list(columns))
    _phi_pass(state)
    _repeat_pass(state)
    _header_pass(state)
    _value_pass(state)
    separator = ";"
    for name in CODE_FIELDS:
        guess = state.fields.get(name)
        if guess and len(guess.columns) == 1:
            separator = detect_separator(state.values(guess.columns[0]))
            if separator != ";":
                break
    _check_unit_id(state)
    modifiers = _pair_modifiers(state, columns)
    paired = {c for cols in modifiers.values() for c in cols}
    missing = tuple(f for f in _IMPORTANT if f not in state.fields)
    if "dx" in missing and ("cpt" in state.fields or "px" in state.fields):
        missing = tuple(f for f in missing if f != "dx")
    return MappingProposal(
        columns=columns,
        rows_read=frame.height,
        fields={k: state.fields[k] for k in FIELDS if k in state.fields},
        phi=tuple(state.phi),
        phi_not_kept=tuple(state.phi_not_kept),
        unmapped=tuple(
            c for c in columns if (c in state.free or c in state.reserved) and c not in paired
        ),
        missing=missing,
        code_separator=separator,
        notes=tuple(state.notes),
        modifiers=modifiers,
    )


_MODIFIER_HEADERS = frozenset({"mod", "mods", "modifier", "modifiers", "cptmod", "cptmodifier"})


def _pair_modifiers(state: _State, columns: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Give each modifier column (``Mod 1``, ``Modifier``) to the CPT/HCPCS column before it
    in the file (``CPT 1``, ``Mod 1``, ``Mod 2``, ``CPT 2``, ``Mod 3``): modifiers in columns
    of their own are attached to their code, never dropped."""
    cpt = state.fields.get("cpt")
    candidates = [
        c
        for c in columns
        if c in state.reserved or (c in state.free and fold(c) in _MODIFIER_HEADERS)
    ]
    mods = [
        c
        for c in candidates
        if (m := REPEAT_RE.match(c.strip()))
        and REPEAT_PREFIX.get(fold(m["prefix"])) == "modifier"
        or fold(c) in _MODIFIER_HEADERS
    ]
    if not mods:
        return {}
    if cpt is None:
        state.notes.append(
            f"columns {', '.join(mods)} look like modifier columns, but no CPT/HCPCS column was "
            "found to attach them to"
        )
        return {}
    position = {c: i for i, c in enumerate(columns)}
    codes = sorted(cpt.columns, key=lambda c: position[c])
    out: dict[str, list[str]] = {}
    for mod in mods:
        before = [c for c in codes if position[c] < position[mod]]
        owner = before[-1] if before else codes[0]
        out.setdefault(owner, []).append(mod)
    for mod in mods:
        if mod in state.free:
            state.free.remove(mod)
    return {c: tuple(out[c]) for c in codes if c in out}


def _phi_pass(state: _State) -> None:
    for col in list(state.free):
        key = fold(col)
        kind = next((k for k, words in PHI_HEADERS.items() if key in words), None)
        reason = f"the header '{col}'"
        if kind is None and key in HEADERS["patient"]:
            continue  # the patient field itself, mapped in the header pass
        if kind is None:
            kind = phi_by_value(state.values(col))
            reason = f"values shaped like {PHI_VALUE_NAMES.get(str(kind), str(kind))}"
        if kind is None:
            continue
        kept = kind in PHI_KEPT
        state.take(
            ColumnGuess(
                field="phi" if kept else "phi-not-kept",
                columns=(col,),
                source="header" if reason.startswith("the header") else "values",
                reason=reason,
                notes=(f"PHI ({kind})",),
            )
        )


def _repeat_pass(state: _State) -> None:
    groups: dict[str, list[tuple[int, str]]] = {}
    for col in state.free:
        match = REPEAT_RE.match(col.strip())
        if not match:
            continue
        prefix = fold(match["prefix"])
        target = REPEAT_PREFIX.get(prefix)
        if target is None:
            continue
        groups.setdefault(f"{target}:{prefix}", []).append((int(match["n"]), col))
    for key in sorted(groups, key=lambda k: min(n for n, _ in groups[k])):
        target, _, _prefix = key.partition(":")
        members = [c for _, c in sorted(groups[key])]
        if len(members) < 2 and target not in ("dx", "cpt", "px"):
            continue
        first, last = members[0], members[-1]
        if target in ("modifier", "poa"):
            if target == "poa":
                state.notes.append(
                    f"columns {first}..{last} look like separate POA columns: audit-kit reads "
                    "no POA indicators; they are left out"
                )
            for col in members:
                state.free.remove(col)
                state.reserved.append(col)
            continue
        values = [v for c in members for v in state.values(c)]
        kind, share = code_field(values, ";")
        if kind is None and values:
            state.notes.append(
                f"columns {first}..{last} are named like {target} codes but their values are "
                "not: not mapped"
            )
            continue
        if kind is not None and kind != target:
            target = kind
        if target in state.fields:
            continue
        described = (
            f"{len(members)} repeated columns {first}..{last}"
            if len(members) > 1
            else (f"the header '{first}'")
        )
        if kind is not None:
            described += f"; {share:.0%} of the values look like {KIND_NAMES[kind]}"
        principal = _principal_column(state) if target == "dx" else None
        cols = tuple(([principal] if principal else []) + members)
        if principal:
            described = f"the header '{principal}' (principal) and {described}"
        state.take(
            ColumnGuess(field=target, columns=cols, source="repeated columns", reason=described)
        )


def _principal_column(state: _State) -> str | None:
    for col in state.free:
        if fold(col) in PRINCIPAL_DX:
            return col
    return None


def _header_pass(state: _State) -> None:
    matches: dict[str, list[str]] = {}
    for col in state.free:
        key = fold(col)
        for name, words in HEADERS.items():
            if key in words:
                matches.setdefault(name, []).append(col)
                break
        else:
            if key in PRINCIPAL_DX:
                matches.setdefault("dx", []).append(col)
    for name in FIELDS:
        cols = [c for c in matches.get(name, []) if c in state.free]
        if not cols or name in state.fields:
            continue
        if name == "service_date":
            cols.sort(key=lambda c: DATE_RANK.get(fold(c), 99))
        if name == "unit_id":
            unique = [c for c in cols if _unique(state.values(c), state.frame.height)]
            cols = unique + [c for c in cols if c not in unique]
        if name in CODE_FIELDS:
            kind, share = code_field(state.values(cols[0]), detect_separator(state.values(cols[0])))
            if kind is not None and kind != name and kind not in state.fields:
                name_used = kind
                reason = (
                    f"the header '{cols[0]}' and values ({share:.0%} look like {KIND_NAMES[kind]})"
                )
                state.take(
                    ColumnGuess(field=name_used, columns=(cols[0],), source="header", reason=reason)
                )
                continue
        notes: tuple[str, ...] = ()
        if name == "patient":
            notes = ("PHI (patient name)",)
        if len(cols) > 1:
            others = ", ".join(f"'{c}'" for c in cols[1:])
            state.notes.append(f"{name}: '{cols[0]}' chosen; {others} also matched (not mapped)")
        state.take(
            ColumnGuess(
                field=name,
                columns=(cols[0],),
                source="header",
                reason=f"the header '{cols[0]}'",
                notes=notes,
            )
        )


def _unique(values: Sequence[str], height: int) -> bool:
    return bool(values) and len(values) == height and len(set(values)) == len(values)


def _value_pass(state: _State) -> None:
    height = state.frame.height
    # code lists
    for col in list(state.free):
        values = state.values(col)
        kind, share = code_field(values, detect_separator(values))
        if kind is not None and kind not in state.fields:
            state.take(
                ColumnGuess(
                    field=kind,
                    columns=(col,),
                    source="values",
                    reason=f"values: {share:.0%} look like {KIND_NAMES[kind]}",
                )
            )
    checks: list[tuple[str, Callable[[list[str]], bool], str]] = [
        ("sex", lambda v: fit_share(v, lambda x: x.lower() in SEX_VALUES) >= SHARE, "sex codes"),
        (
            "setting",
            lambda v: fit_share(v, lambda x: x.lower() in SETTING_VALUES) >= SHARE,
            "care settings (inpatient, outpatient...)",
        ),
        ("service_date", lambda v: fit_share(v, is_date) >= SHARE, "dates"),
        (
            "age",
            lambda v: fit_share(v, lambda x: bool(INT_RE.match(x)) and int(x) <= 120) >= SHARE,
            "ages (whole numbers 0-120)",
        ),
    ]
    for name, test, what in checks:
        if name in state.fields:
            continue
        for col in state.free:
            values = state.values(col)
            if values and test(values):
                state.take(
                    ColumnGuess(
                        field=name, columns=(col,), source="values", reason=f"values: {what}"
                    )
                )
                break
    money = [
        c for c in state.free if state.values(c) and fit_share(state.values(c), is_money) >= SHARE
    ]
    if "paid" not in state.fields and len(money) == 1:
        state.take(
            ColumnGuess(
                field="paid",
                columns=(money[0],),
                source="values",
                reason="values: the only money column",
            )
        )
    elif "paid" not in state.fields and money:
        state.notes.append(
            "several money columns (" + ", ".join(money) + "): map paid (and billed) by hand"
        )
    if "unit_id" not in state.fields:
        for col in state.free:
            values = state.values(col)
            if _unique(values, height) and not all(is_money(v) or is_date(v) for v in values[:50]):
                state.take(
                    ColumnGuess(
                        field="unit_id",
                        columns=(col,),
                        source="values",
                        reason=f"values: unique and never empty in the first {height:,} rows",
                    )
                )
                break


def _check_unit_id(state: _State) -> None:
    guess = state.fields.get("unit_id")
    if guess is None:
        return
    values = state.values(guess.columns[0])
    height = state.frame.height
    if not _unique(values, height):
        empty = height - len(values)
        dupes = len(values) - len(set(values))
        state.fields["unit_id"] = ColumnGuess(
            field="unit_id",
            columns=guess.columns,
            source=guess.source,
            reason=guess.reason,
            notes=(
                *guess.notes,
                f"not unique in the first {height:,} rows ({dupes} repeated, {empty} empty): "
                "a unit id must identify one row; check the sampling unit (claim vs line)",
            ),
        )
    elif guess.source == "header":
        state.fields["unit_id"] = ColumnGuess(
            field="unit_id",
            columns=guess.columns,
            source=guess.source,
            reason=f"{guess.reason}; unique in the first {height:,} rows",
            notes=guess.notes,
        )


def read_head(
    path: Path,
    *,
    rows: int = DEFAULT_SAMPLE_ROWS,
    sheet: str | None = None,
    notes: list[str] | None = None,
) -> pl.DataFrame:
    """Read the header and the first ``rows`` rows of a universe file, every value as text.

    ``notes``, if given, receives what the reading noticed (a file read as Latin-1).
    """
    from audit_kit.errors import InputError
    from audit_kit.universe import ROW, open_universe

    universe = open_universe(Path(path), sheet=sheet)
    try:
        try:
            head = universe.collect(universe.scan(list(universe.columns)).head(rows))
        except InputError:
            # As `sample` does: a file that is not UTF-8 is read as Latin-1 (finish() says so
            # once the pass over its bytes has found the first byte that is not UTF-8).
            if not universe.finish():
                raise
            head = universe.collect(universe.scan(list(universe.columns)).head(rows))
        if head.height < rows:
            head = universe.drop_footer(head)  # the whole file: its total rows are not units
    finally:
        universe.close()
    if notes is not None:
        notes.extend(universe.notes)
    return head.drop(ROW, strict=False).select(pl.all().cast(pl.String))


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnFacts:
    """What the whole file says about the columns a plan's frame depends on."""

    rows: int = 0
    paid_negative: int = 0
    paid_zero: int = 0
    paid_blank: int = 0
    first_date: dt.date | None = None
    last_date: dt.date | None = None

    @property
    def paid_needs_filter(self) -> bool:
        return bool(self.paid_negative or self.paid_zero or self.paid_blank)


def column_facts(path: Path, proposal: MappingProposal, *, sheet: str | None = None) -> ColumnFacts:
    """Read the paid and service-date columns of the whole file (two columns: cheap) for the
    filters and the period ``init`` proposes."""
    from audit_kit.universe import open_universe

    wanted = {
        f: proposal.fields[f].columns[0] for f in ("paid", "service_date") if f in proposal.fields
    }
    if not wanted:
        return ColumnFacts()
    universe = open_universe(Path(path), sheet=sheet)
    try:
        frame = universe.drop_footer(universe.read(list(dict.fromkeys(wanted.values()))))
    finally:
        universe.close()
    facts: dict[str, Any] = {"rows": frame.height}
    if "paid" in wanted:
        values, bad = money_series(frame[wanted["paid"]])
        facts["paid_negative"] = int((values < 0).fill_null(False).sum())
        facts["paid_zero"] = int((values == 0).fill_null(False).sum())
        facts["paid_blank"] = int((values.is_null() & ~bad).sum())
    if "service_date" in wanted:
        days, _ = date_series(frame[wanted["service_date"]])
        facts["first_date"], facts["last_date"] = days.min(), days.max()
    return ColumnFacts(**facts)
