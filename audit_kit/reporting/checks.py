"""Check up front that results.json has every key the reports cannot do without."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_kit.errors import InputError, Problem
from audit_kit.reporting.formatting import VERDICTS, _finite

# -- validation ----------------------------------------------------------------------------

_INTERVAL_KEYS = ("value", "lower", "upper")
_GROUP_REQUIRED = ("units_reviewed", "units_with_error")


def _problem(where: str, expected: str, found: Any) -> Problem:
    shown = "nothing" if found is _MISSING else repr(found)[:60]
    return Problem(
        where=f"results.json: {where}",
        expected=expected,
        found=shown,
        fix="re-run `audit-kit score AUDIT_DIR` with this version of audit-kit.",
    )


_MISSING = object()


def _get(obj: Any, key: str) -> Any:
    return obj.get(key, _MISSING) if isinstance(obj, Mapping) else _MISSING


def is_scored(group: Any) -> bool:
    """Whether a group has at least one scored unit (else it has no accuracy to show)."""
    reviewed = _finite(_get(group, "units_reviewed"))
    return reviewed is not None and reviewed > 0


def _check_group(
    group: Any, where: str, problems: list[Problem], *, allow_unscored: bool = False
) -> None:
    if not isinstance(group, Mapping):
        problems.append(_problem(where, "an object with the scores of a group", group))
        return
    for key in _GROUP_REQUIRED:
        value = _get(group, key)
        if _finite(value) is None:
            problems.append(_problem(f"{where}.{key}", "a number", value))
    if allow_unscored and not is_scored(group):
        return  # a coder whose units are not returned yet: named in the report, not scored
    for measure in ("record_accuracy", "code_accuracy"):
        interval = _get(group, measure)
        if not isinstance(interval, Mapping):
            problems.append(_problem(f"{where}.{measure}", "{value, lower, upper, ...}", interval))
            continue
        for key in _INTERVAL_KEYS:
            value = _get(interval, key)
            if _finite(value) is None:
                problems.append(_problem(f"{where}.{measure}.{key}", "a number", value))
    verdict = _get(group, "verdict")
    if verdict not in VERDICTS:
        problems.append(_problem(f"{where}.verdict", "one of " + ", ".join(VERDICTS), verdict))


def check_results(results: Any) -> None:
    """Raise one InputError naming every required key of results.json that is missing or wrong."""
    problems: list[Problem] = []
    if not isinstance(results, Mapping):
        raise InputError(
            "results.json is not a results document.",
            [_problem("(top level)", "a JSON object", type(results).__name__)],
        )
    audit = _get(results, "audit")
    for key in ("id", "name", "findings_sha256"):
        value = _get(audit, key)
        if not isinstance(value, str) or not value:
            problems.append(_problem(f"audit.{key}", "a non-empty string", value))
    settings = _get(results, "settings")
    for key in ("target_accuracy", "confidence"):
        value = _get(settings, key)
        if _finite(value) is None:
            problems.append(_problem(f"settings.{key}", "a number", value))
    _check_group(_get(results, "overall"), "overall", problems)
    coders = _get(results, "coders")
    if not isinstance(coders, list):
        problems.append(_problem("coders", "a list of per-coder scores", coders))
    else:
        for i, coder in enumerate(coders):
            name = _get(coder, "coder")
            if not isinstance(name, str) or not name:
                problems.append(_problem(f"coders[{i}].coder", "the coder's id", name))
            label = f"coders[{i}] ({name})" if isinstance(name, str) and name else f"coders[{i}]"
            _check_group(coder, label, problems, allow_unscored=True)
    errors = _get(results, "errors")
    if not isinstance(errors, list):
        problems.append(_problem("errors", "a list of units with an error (may be empty)", errors))
    else:
        for i, err in enumerate(errors):
            for key in ("unit_id", "coder"):
                value = _get(err, key)
                if value is _MISSING or value is None:
                    problems.append(_problem(f"errors[{i}].{key}", "a value", value))
    if problems:
        raise InputError(f"results.json lacks {len(problems)} value(s) the reports need.", problems)
