"""The error toolkit of audit_kit.errors: one collector, one-problem errors, named problems."""

from __future__ import annotations

import pytest

from audit_kit.errors import (
    InputError,
    PlanError,
    Problem,
    Problems,
    StatisticsError,
    bad_value,
    missing_file,
    missing_key,
)
from audit_kit.stats import clopper_pearson


def test_collect_then_raise_once() -> None:
    problems = Problems(PlanError)
    problems.raise_if_any("nothing yet")  # no problem: no error
    problems.add("plan.yaml: size.n", "a whole number > 0", -3, "set size.n.")
    problems.extend([Problem(where="plan.yaml: name", expected="a name", found="nothing")])
    assert len(problems) == 2 and bool(problems)
    with pytest.raises(PlanError) as info:
        problems.raise_if_any("The sampling plan has 2 problem(s).")
    assert [p.where for p in info.value.problems] == ["plan.yaml: size.n", "plan.yaml: name"]
    assert info.value.problems[0].found == "-3"


def test_a_limit_lists_the_first_problems_and_counts_the_rest() -> None:
    problems = Problems(InputError, limit=2)
    for row in range(5):
        problems.add(f"input.csv row {row + 2}", "a number", "x")
    with pytest.raises(InputError) as info:
        problems.raise_if_any("bad rows")
    wheres = [p.where for p in info.value.problems]
    assert wheres == ["input.csv row 2", "input.csv row 3", "..."]
    assert info.value.problems[-1].found == "3 more problem(s) of the same kind"


def test_one_problem_errors_render_as_before() -> None:
    error = InputError.one(
        "Cannot read the file.", where="a.csv", expected="a CSV", found="a folder", fix="check it."
    )
    assert isinstance(error, InputError)
    assert error.render() == (
        "Cannot read the file.\n  - a.csv: expected a CSV; found a folder. Fix: check it."
    )


def test_named_problems() -> None:
    assert missing_file("q3/plan.yaml", expected="a plan", fix="run init.") == Problem(
        where="q3/plan.yaml", expected="a plan", found="no such file", fix="run init."
    )
    assert missing_key("results.json", "overall.verdict").where == "results.json: overall.verdict"
    assert bad_value("B7", expected="a date", found="soon").found == "'soon'"


def test_statistics_collect_through_the_same_toolkit() -> None:
    with pytest.raises(StatisticsError) as info:
        clopper_pearson(5, 3, 0.9)
    assert info.value.problems  # every problem of the inputs, raised once
