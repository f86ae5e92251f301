"""Read a plan (YAML text, file or preset) and report every problem with its key path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from audit_kit.errors import PlanError, Problem
from audit_kit.files.text import read_text
from audit_kit.plan.checks import plan_problems
from audit_kit.plan.model import SamplingPlan
from audit_kit.plan.program import CadenceRules

# -- reading and reporting ---------------------------------------------------------------------

_UNION_TAG = re.compile(
    r"^(constrained-)?(str|int|float|bool|date|list|dict)$|\[|^function-|^period-(text|range)$"
)


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
        raise PlanError.one(
            "The sampling plan is not a mapping of keys.",
            where=source,
            expected="a YAML mapping (name:, columns:, design:, size:, ...)",
            found=type(data).__name__,
            fix="start from a preset: `audit-kit plans`.",
        )
    data, notes, moved = migrate(data, source=source)
    try:
        plan = SamplingPlan.model_validate(data)
    except ValidationError as exc:
        problems = moved + _validation_problems(exc, source)
    else:
        problems = moved + plan_problems(plan, source=source)
        if not problems:
            plan._migration_notes = tuple(notes)
            return plan
    raise PlanError(f"The sampling plan has {len(problems)} problem(s).", problems)


def migrate(
    data: dict[str, Any], *, source: str
) -> tuple[dict[str, Any], list[str], list[Problem]]:
    """Read the keys an older plan wrote elsewhere in their place today.

    Returns the plan in today's form, a note per key read in its new place (said to the user
    and kept in sampling.json), and the problems that cannot be read over: a literal password
    (never in a plan) or a demand rule set twice with two values. docs/plans.md ("Older plans")
    lists every change.
    """
    data = dict(data)
    notes: list[str] = []
    problems: list[Problem] = []
    size = data.get("size")
    if isinstance(size, dict) and isinstance(size.get("total"), dict):
        nested = dict(size["total"])
        rest = {k: v for k, v in size.items() if k != "total"}
        flat = {"total": nested.pop("total", None), **nested, **rest}
        data["size"] = flat
        shown = ", ".join(f"{k}: {v}" for k, v in flat.items())
        notes.append(
            f"{source}: size.total is a number now; this plan's nested form was read as "
            f"size: {{{shown}}}. Write it so (the nested form will be refused later)."
        )
    if "demand_rule" in data:
        rule = data.pop("demand_rule")
        financial = dict(data.get("financial") or {})
        if "demand_rule" in financial and financial["demand_rule"] != rule:
            problems.append(
                Problem(
                    where=f"{source}: demand_rule",
                    expected="the demand rule set once, as financial.demand_rule",
                    found=f"demand_rule: {rule} and financial.demand_rule: "
                    f"{financial['demand_rule']}",
                    fix="keep financial.demand_rule and remove the top-level demand_rule.",
                )
            )
        else:
            financial["demand_rule"] = rule
            data["financial"] = financial
            notes.append(
                f"{source}: the top-level demand_rule was read as financial.demand_rule: "
                f"{rule} (its one place now); move it there."
            )
    workbook = data.get("workbook")
    if isinstance(workbook, dict) and isinstance(workbook.get("protect_password"), str):
        problems.append(
            Problem(
                where=f"{source}: workbook.protect_password",
                expected="true or false (the password itself is never written in a plan)",
                found="a password written in the plan",
                fix="remove the password from the plan, write workbook.protect_password: true "
                "and pass the password with `audit-kit workbooks --password-file FILE`.",
            )
        )
        data["workbook"] = {**workbook, "protect_password": True}
    return data, notes, problems


def parse_plan_text(text: str, *, source: str = "plan") -> SamplingPlan:
    """Parse YAML text and validate it as a plan."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise PlanError.one(
            "The sampling plan is not valid YAML.",
            where=where,
            expected="valid YAML",
            found=str(getattr(exc, "problem", "a syntax error")),
            fix="check indentation and quoting at that line.",
        ) from None
    return parse_plan(data, source=source)


def load_plan_text(path: Path | str) -> tuple[SamplingPlan, str, Path]:
    """Read a plan file (or a preset name); return the plan, its exact text and its path."""
    from audit_kit.plan.presets import resolve_plan_path

    resolved = resolve_plan_path(path)
    text = read_text(
        resolved,
        summary="Cannot read the sampling plan.",
        expected="a readable UTF-8 YAML file",
        fix="check the path, or list presets with `audit-kit plans`.",
        error=PlanError,
    )
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


# -- cadence rules (`audit-kit trend --rules FILE`) ----------------------------------------------


def parse_cadence(data: Any, *, source: str) -> CadenceRules:
    """Validate a cadence rule table; raise one PlanError listing every problem by key path."""
    if not isinstance(data, dict):
        raise PlanError(
            "The cadence rules are not a mapping of keys.",
            [
                Problem(
                    where=source,
                    expected="a YAML mapping (measure:, rules:, new_coders:)",
                    found=type(data).__name__,
                    fix="start from the example in docs/plans.md (section cadence).",
                )
            ],
        )
    try:
        return CadenceRules.model_validate(data)
    except ValidationError as exc:
        problems = _validation_problems(exc, source)
    raise PlanError(f"The cadence rules have {len(problems)} problem(s).", problems)


def load_cadence_rules(path: Path) -> CadenceRules:
    """Read a cadence rules YAML file (the keys of a plan's ``cadence:`` section)."""
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(
            "Cannot read the cadence rules.",
            [
                Problem(
                    where=str(path),
                    expected="a readable UTF-8 YAML file",
                    found=type(exc).__name__,
                    fix="check the path given to --rules.",
                )
            ],
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise PlanError(
            "The cadence rules are not valid YAML.",
            [
                Problem(
                    where=where,
                    expected="valid YAML",
                    found=str(getattr(exc, "problem", "a syntax error")),
                    fix="check indentation and quoting at that line.",
                )
            ],
        ) from None
    if isinstance(data, dict) and set(data) == {"cadence"}:
        data = data["cadence"]  # a plan-like file with only its cadence section
    return parse_cadence(data, source=str(path))
