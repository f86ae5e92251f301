"""`audit-kit trend`: audits as periods, p-chart, funnel limits, cadence, and the CLI.

Expected values come from the audits' own results.json files (read here, not through the trend
code), from closed forms of the p-chart limits worked by hand, and from an exact binomial
distribution summed here with math.comb.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader
from trend_helpers import make_period_audit, quarter

from audit_kit.cli import cli, main
from audit_kit.errors import IntegrityError, PlanError
from audit_kit.plan.loading import parse_plan
from audit_kit.program import program_status, run_trend
from audit_kit.program.cadence import add_months
from audit_kit.stats.control import funnel_limits, p_chart

Q1, Q2, Q3 = quarter(2026, 1), quarter(2026, 2), quarter(2026, 3)


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three quarters: C004 absent from Q2, C005 new in Q3; Q3 audited at another target."""
    base = tmp_path_factory.mktemp("program")
    q1, _ = make_period_audit(
        base / "q1", period=Q1, coders=5, seed=11, keep_coders=["C001", "C002", "C003", "C004"]
    )
    q2, _ = make_period_audit(
        base / "q2", period=Q2, coders=5, seed=12, keep_coders=["C001", "C002", "C003"]
    )
    q3, _ = make_period_audit(base / "q3", period=Q3, coders=5, seed=13, target=0.9)
    # given out of order on purpose: the trend orders them by period
    summary = run_trend([q3, q1, q2], base / "trend")
    trend = json.loads((base / "trend" / "trend.json").read_text("utf-8"))
    return {
        "base": base,
        "dirs": {"q1": q1, "q2": q2, "q3": q3},
        "trend": trend,
        "summary": summary,
    }


def _results(path: Path) -> dict[str, Any]:
    return json.loads((path / "results.json").read_text("utf-8"))


def test_periods_are_ordered_by_the_plan_period_whatever_the_order_given(
    program: dict[str, Any],
) -> None:
    trend = program["trend"]
    assert [p["period"] for p in trend["periods"]] == [
        "2026-01-01 to 2026-03-31",
        "2026-04-01 to 2026-06-30",
        "2026-07-01 to 2026-09-30",
    ]
    ids = [_results(program["dirs"][q])["audit"]["id"] for q in ("q1", "q2", "q3")]
    assert [p["audit"] for p in trend["periods"]] == ids
    # every unit of every quarter is in: each period carries its results.json status, final
    statuses = [_results(program["dirs"][q])["status"] for q in ("q1", "q2", "q3")]
    assert statuses == ["final"] * 3
    assert [p["status"] for p in trend["periods"]] == statuses
    assert all(p["placed_by"] == "plan period" for p in trend["periods"])


def test_coder_values_equal_each_audits_results_json(program: dict[str, Any]) -> None:
    trend = program["trend"]
    by_audit = {}
    for path in program["dirs"].values():
        results = _results(path)
        by_audit[results["audit"]["id"]] = results
    checked = 0
    for coder in trend["coders"]:
        for entry in coder["periods"]:
            source = next(
                c for c in by_audit[entry["audit"]]["coders"] if c["coder"] == coder["coder"]
            )
            assert entry["units_scored"] == source["units_reviewed"]
            assert entry["units_with_error"] == source["units_with_error"]
            assert entry["verdict"] == source["verdict"]
            for key in ("record_accuracy", "code_accuracy"):
                for field in ("value", "lower", "upper", "confidence", "method"):
                    assert entry[key][field] == source[key][field]
            checked += 1
    assert checked == 4 + 3 + 5
    for entry in trend["overall"]:
        source = by_audit[entry["audit"]]["overall"]
        assert entry["units_scored"] == source["units_reviewed"]
        assert entry["code_accuracy"]["lower"] == source["code_accuracy"]["lower"]
        assert entry["verdict"] == source["verdict"]


def test_top_error_categories_count_the_coders_own_errors(program: dict[str, Any]) -> None:
    results = _results(program["dirs"]["q3"])
    coder = next(c for c in program["trend"]["coders"] if c["coder"] == "C002")
    entry = next(p for p in coder["periods"] if p["audit"] == results["audit"]["id"])
    counts: dict[str, int] = {}
    for error in results["errors"]:
        if error["coder"] == "C002":
            counts[error["category"]] = counts.get(error["category"], 0) + 1
    expected = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [(c["category"], c["units"]) for c in entry["top_categories"]] == expected


def test_an_absent_coder_is_absent_never_zero(program: dict[str, Any]) -> None:
    coders = {c["coder"]: c for c in program["trend"]["coders"]}
    c004 = coders["C004"]
    assert [p["period"] for p in c004["periods"]] == [
        "2026-01-01 to 2026-03-31",
        "2026-07-01 to 2026-09-30",
    ]
    assert c004["absent"] == ["2026-04-01 to 2026-06-30"]
    c005 = coders["C005"]
    assert len(c005["periods"]) == 1
    assert c005["absent"] == ["2026-01-01 to 2026-03-31", "2026-04-01 to 2026-06-30"]
    workbook = load_workbook(program["base"] / "trend" / "trend.xlsx", read_only=True)
    rows = list(workbook["Coders"].iter_rows(min_row=2, values_only=True))
    assert sum(1 for r in rows if r[0] == "C004") == 2  # no row for the absent period
    text = "".join(
        page.extract_text() for page in PdfReader(program["base"] / "trend" / "trend.pdf").pages
    )
    assert "absent" in text


def test_differences_between_audits_are_stated(program: dict[str, Any]) -> None:
    comparability = program["trend"]["comparability"]
    assert comparability["same_design_and_targets"] is False
    target = next(d for d in comparability["differences"] if d["setting"] == "target accuracy")
    assert target["values"] == {
        "2026-01-01 to 2026-03-31": "0.95",
        "2026-04-01 to 2026-06-30": "0.95",
        "2026-07-01 to 2026-09-30": "0.9",
    }
    text = "".join(
        page.extract_text() for page in PdfReader(program["base"] / "trend" / "trend.pdf").pages
    )
    assert "target accuracy" in text


def test_p_chart_of_the_trend_uses_each_periods_counts(program: dict[str, Any]) -> None:
    chart = program["trend"]["p_chart"]
    errors = [
        _results(program["dirs"][q])["overall"]["units_with_error"] for q in ("q1", "q2", "q3")
    ]
    sizes = [_results(program["dirs"][q])["overall"]["units_reviewed"] for q in ("q1", "q2", "q3")]
    p_bar = sum(errors) / sum(sizes)
    assert chart["center"] == pytest.approx(p_bar, rel=1e-12)
    for point, x, n in zip(chart["periods"], errors, sizes, strict=True):
        half = 3 * math.sqrt(p_bar * (1 - p_bar) / n)
        assert (point["n"], point["p"]) == (n, pytest.approx(x / n))
        assert point["upper"] == pytest.approx(min(1, p_bar + half), rel=1e-12)
        assert point["lower"] == pytest.approx(max(0, p_bar - half), rel=1e-12)


def test_p_chart_limits_match_the_hand_computation() -> None:
    # p-bar = (5 + 12 + 3) / (100 + 150 + 50) = 1/15; p-bar (1 - p-bar) = 14/225.
    chart = p_chart([5, 12, 3], [100, 150, 50])
    assert chart.center == pytest.approx(1 / 15, rel=1e-12)
    # n = 100: 3 sqrt(14/225/100) = sqrt(14)/50 -> upper 1/15 + sqrt(14)/50, lower < 0 -> 0
    assert chart.points[0].upper == pytest.approx(1 / 15 + math.sqrt(14) / 50, rel=1e-12)
    assert chart.points[0].lower == 0.0
    # n = 150: 3 sqrt(14/225/150) = sqrt(14/150)/5 -> lower 1/15 - sqrt(14/150)/5 = 0.0055657
    assert chart.points[1].lower == pytest.approx(1 / 15 - math.sqrt(14 / 150) / 5, rel=1e-12)
    assert chart.points[1].lower == pytest.approx(0.0055657, abs=1e-7)
    # n = 50: upper 1/15 + sqrt(14/50)/5 = 0.1724967
    assert chart.points[2].upper == pytest.approx(0.1724967, abs=1e-7)
    assert not any(p.out_of_control for p in chart.points)


def test_p_chart_flags_points_outside_their_limits() -> None:
    # p-bar = 36/300 = 0.12; 3 sqrt(0.12 * 0.88 / 100) = 0.0974885 -> limits 0.0225 to 0.2175
    chart = p_chart([2, 30, 4], [100, 100, 100])
    assert chart.points[0].lower == pytest.approx(0.12 - 0.3 * math.sqrt(0.1056), rel=1e-12)
    assert [p.out_of_control for p in chart.points] == [True, True, False]


def test_p_chart_limits_are_clamped_to_zero_and_one() -> None:
    chart = p_chart([9, 1], [10, 1])
    assert all(0.0 <= p.lower <= p.upper <= 1.0 for p in chart.points)
    assert chart.points[1].upper == 1.0


def _cdf(r: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(r + 1)) if r >= 0 else 0.0


def _spiegelhalter(n: int, p: float, q: float) -> float:
    r = next(r for r in range(n + 1) if _cdf(r, n, p) >= q)
    alpha = (_cdf(r, n, p) - q) / (_cdf(r, n, p) - _cdf(r - 1, n, p))
    return max(0.0, (r - alpha) / n)


@pytest.mark.parametrize("n", [10, 20, 37, 60])
def test_funnel_limits_are_spiegelhalters_interpolated_binomial_quantiles(n: int) -> None:
    (limits,) = funnel_limits(0.12, [n], coverage=0.95)
    assert limits.lower == pytest.approx(_spiegelhalter(n, 0.12, 0.025), abs=1e-9)
    assert limits.upper == pytest.approx(_spiegelhalter(n, 0.12, 0.975), abs=1e-9)


def test_funnel_limits_approach_the_normal_limits_for_large_n() -> None:
    (limits,) = funnel_limits(0.1, [2000], coverage=0.95)
    half = 1.959964 * math.sqrt(0.1 * 0.9 / 2000)
    assert limits.lower == pytest.approx(0.1 - half, abs=0.002)
    assert limits.upper == pytest.approx(0.1 + half, abs=0.002)


def test_funnel_of_the_latest_period(program: dict[str, Any]) -> None:
    funnel = program["trend"]["funnel"]
    q3 = _results(program["dirs"]["q3"])
    assert funnel["period"] == "2026-07-01 to 2026-09-30"
    assert funnel["target"] == pytest.approx(
        q3["overall"]["units_with_error"] / q3["overall"]["units_reviewed"]
    )
    assert [c["coder"] for c in funnel["coders"]] == [c["coder"] for c in q3["coders"]]
    for point in funnel["coders"]:
        assert point["lower998"] <= point["lower95"] <= point["upper95"] <= point["upper998"]
        inside = point["lower95"] <= point["p"] <= point["upper95"]
        assert (point["position"] == "within") == inside


def test_next_audit_follows_the_default_rules_on_the_lower_limit(program: dict[str, Any]) -> None:
    q3_end = dt.date(2026, 9, 30)
    for coder in program["trend"]["coders"]:
        decision = coder["next_audit"]
        last = coder["periods"][-1]
        lower = last["code_accuracy"]["lower"]
        assert decision["lower"] == lower
        months = 12 if lower >= 0.9 else 6 if lower >= 0.8 else 3
        kind = "routine" if lower >= 0.9 else "with_feedback" if lower >= 0.8 else "focused_review"
        if coder["coder"] == "C005":  # first seen in the latest period
            assert decision["new_coder"] is True
            if months > 6:
                months, kind = 6, "routine"
                assert decision["rule"].startswith("new coder")
        else:
            assert decision["new_coder"] is False
        counted = dt.date.fromisoformat(decision["counted_from"])
        assert counted == (q3_end if last["period"].endswith("2026-09-30") else counted)
        assert decision["months"] == months and decision["kind"] == kind
        assert decision["date"] == add_months(counted, months).isoformat()


def test_add_months_keeps_the_day_or_the_months_last_day() -> None:
    assert add_months(dt.date(2026, 9, 30), 3) == dt.date(2026, 12, 30)
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 15), 14) == dt.date(2028, 1, 15)


RULES = """\
measure: record_accuracy
rules:
  - {name: excellent, lower_at_least: 0.5, next_in_months: 24, kind: routine}
  - {name: the rest, lower_at_least: 0, next_in_months: 2, kind: focused_review}
new_coders: null
"""


def test_a_rules_file_replaces_the_defaults(program: dict[str, Any], tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, "utf-8")
    trend = program_status(list(program["dirs"].values()), rules_file=rules)
    assert trend.cadence["source"] == str(rules)
    for coder in trend.coders:
        decision = coder.next_audit
        assert decision is not None
        lower = coder.periods[-1].record_accuracy.lower  # type: ignore[union-attr]
        assert decision.measure == "record_accuracy"
        assert decision.months == (24 if lower >= 0.5 else 2)
        assert not decision.rule.startswith("new coder")  # new_coders: null


def test_the_latest_plans_cadence_is_used(tmp_path: Path) -> None:
    cadence = {
        "rules": [
            {"name": "fine", "lower_at_least": 0.2, "next_in_months": 9, "kind": "routine"},
            {"name": "poor", "lower_at_least": 0, "next_in_months": 1, "kind": "focused_review"},
        ]
    }
    a, _ = make_period_audit(tmp_path / "a", period=Q1, coders=2, seed=3)
    b, _ = make_period_audit(tmp_path / "b", period=Q2, coders=2, seed=4, cadence=cadence)
    trend = program_status([a, b])
    assert trend.cadence["source"].startswith("plan of")
    assert {c.next_audit.rule.split(" (")[0] for c in trend.coders} <= {"fine", "poor"}  # type: ignore[union-attr]


def test_without_a_plan_period_the_sampling_date_orders_the_audits(tmp_path: Path) -> None:
    late, _ = make_period_audit(tmp_path / "late", sampled_at="2026-05-02T10:00:00Z", seed=1)
    early, _ = make_period_audit(tmp_path / "early", sampled_at="2026-02-01T10:00:00Z", seed=2)
    trend = program_status([late, early])
    assert [p.period for p in trend.periods] == ["2026-02-01", "2026-05-02"]
    assert {p.placed_by for p in trend.periods} == {"sampling date"}
    # months count from the sampling date when there is no period end
    assert trend.coders[0].next_audit.counted_from == "2026-05-02"  # type: ignore[union-attr]


def test_an_audit_that_fails_verification_is_refused_with_the_reason(tmp_path: Path) -> None:
    good, _ = make_period_audit(tmp_path / "good", period=Q1, seed=1)
    bad, _ = make_period_audit(tmp_path / "bad", period=Q2, seed=2)
    results = bad / "results.json"
    results.write_bytes(
        results.read_bytes().replace(b'"units_reviewed": 20', b'"units_reviewed": 21', 1)
    )
    with pytest.raises(IntegrityError) as info:
        run_trend([good, bad], tmp_path / "trend")
    assert "fails verification" in info.value.summary
    assert any(
        p.where.endswith("results.json") and "SHA-256" in (p.expected + p.found)
        for p in info.value.problems
    )
    assert not (tmp_path / "trend").exists()


def test_an_unscored_audit_and_a_missing_folder_are_refused_together(tmp_path: Path) -> None:
    from audit_kit.folder.manifest import AuditFolder

    AuditFolder.create(tmp_path / "unscored", name="x")
    good, _ = make_period_audit(tmp_path / "good", period=Q1)
    code, _, err = _run(
        [
            "trend",
            str(good),
            str(tmp_path / "unscored"),
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "t"),
        ]
    )
    assert code == 1
    assert "audit-kit score" in err and "no such folder" in err
    assert "Traceback" not in err


def test_two_audits_of_one_period_are_refused(tmp_path: Path) -> None:
    a, _ = make_period_audit(tmp_path / "a", period=Q1)
    b, _ = make_period_audit(tmp_path / "b", period=Q1)
    code, _, err = _run(["trend", str(a), str(b), "--out", str(tmp_path / "t")])
    assert code == 1 and "one audit per period" in err


def test_plan_period_is_validated_with_its_key_path() -> None:
    base = {"name": "x", "columns": {"unit_id": "id"}, "size": {"n": 5}}
    plan = parse_plan({**base, "period": {"start": "2026-01-01", "end": "2026-03-31"}})
    assert plan.period_label == "2026-01-01 to 2026-03-31"
    assert parse_plan({**base, "period": "Q1 2026"}).period_label == "Q1 2026"
    with pytest.raises(PlanError) as info:
        parse_plan({**base, "period": {"start": "2026-04-01", "end": "2026-03-31"}})
    assert [p.where for p in info.value.problems] == ["plan: period"]
    assert "on or after the start" in info.value.problems[0].expected
    with pytest.raises(PlanError) as info:
        parse_plan({**base, "period": {"start": "2026-01-01"}})
    assert [p.where for p in info.value.problems] == ["plan: period.end"]


def _run(args: list[str]) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        pytest.raises(SystemExit) as info,
    ):
        main(args)
    return int(info.value.code or 0), out.getvalue(), err.getvalue()


def test_rules_file_errors_name_every_key_path(program: dict[str, Any], tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "measure: accuracy\n"
        "rules:\n"
        "  - {name: a, lower_at_least: 0.8, next_in_months: 12, kind: routine}\n"
        "  - {name: b, lower_at_least: 1.5, next_in_months: 0, kind: weekly}\n"
        "new_coders: {within_months: 6, colour: red}\n",
        "utf-8",
    )
    dirs = [str(p) for p in program["dirs"].values()]
    code, out, err = _run(["trend", *dirs, "--out", str(tmp_path / "t"), "--rules", str(rules)])
    assert code == 1
    for where in (
        f"{rules}: measure",
        f"{rules}: rules[1].lower_at_least",
        f"{rules}: rules[1].next_in_months",
        f"{rules}: rules[1].kind",
        f"{rules}: new_coders.colour",
    ):
        assert where in err
    assert "The cadence rules have 5 problem(s)." in err
    assert not (tmp_path / "t").exists()


def test_a_rule_table_without_a_catch_all_is_refused(tmp_path: Path) -> None:
    from audit_kit.plan.loading import load_cadence_rules

    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {name: a, lower_at_least: 0.8, next_in_months: 12, kind: routine}\n", "utf-8"
    )
    with pytest.raises(PlanError) as info:
        load_cadence_rules(rules)
    (problem,) = info.value.problems
    assert problem.where == f"{rules}: rules"
    assert "lower_at_least: 0" in problem.expected


def test_cli_trend_writes_three_files_and_prints_the_schedule(
    program: dict[str, Any], tmp_path: Path
) -> None:
    dirs = [str(p) for p in program["dirs"].values()]
    result = CliRunner().invoke(
        cli, ["trend", *dirs, "--out", str(tmp_path / "t"), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [Path(f).name for f in payload["files"]] == ["trend.json", "trend.xlsx", "trend.pdf"]
    assert len(payload["coders"]) == 5
    assert payload["differences"] == ["target accuracy"]
    trend = json.loads((tmp_path / "t" / "trend.json").read_text("utf-8"))
    for key in ("periods", "coders", "overall", "p_chart"):
        assert key in trend
    assert set(trend["coders"][0]["next_audit"]) >= {"date", "kind", "rule"}
    assert set(trend["p_chart"]) >= {"center", "periods"}
    assert set(trend["p_chart"]["periods"][0]) >= {
        "period",
        "p",
        "n",
        "lower",
        "upper",
        "out_of_control",
    }
    # a second run into the same folder needs --force
    again = CliRunner().invoke(cli, ["trend", *dirs, "--out", str(tmp_path / "t")])
    assert again.exit_code == 1
    text = CliRunner().invoke(
        cli, ["trend", *dirs, "--out", str(tmp_path / "t"), "--force"], catch_exceptions=False
    )
    assert text.exit_code == 0
    assert "Next audit per coder (rules: defaults" in text.output
    assert "C005" in text.output


def test_trend_never_writes_into_an_audit_folder(program: dict[str, Any]) -> None:
    q1 = program["dirs"]["q1"]
    before = (q1 / "audit.json").read_bytes()
    code, _, err = _run(["trend", str(q1), str(program["dirs"]["q2"]), "--out", str(q1), "--force"])
    assert code == 1 and "outside every audit folder" in err
    assert (q1 / "audit.json").read_bytes() == before
    assert not (q1 / "trend.json").exists()


def test_status_of_several_audits_is_the_program_summary(program: dict[str, Any]) -> None:
    dirs = [str(p) for p in program["dirs"].values()]
    result = CliRunner().invoke(cli, ["status", *dirs, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [p["period"] for p in payload["periods"]][0] == "2026-01-01 to 2026-03-31"
    assert {c["coder"] for c in payload["coders"]} == {"C001", "C002", "C003", "C004", "C005"}
    text = CliRunner().invoke(cli, ["status", *dirs], catch_exceptions=False)
    assert "Next audit per coder" in text.output


def test_help() -> None:
    result = CliRunner().invoke(cli, ["trend", "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    for word in ("--out", "--rules", "LOWER confidence limit", "never as 0%"):
        assert word in result.output


def test_the_pdf_carries_the_trend_and_no_patient_names(program: dict[str, Any]) -> None:
    from report_helpers import PATIENT_NAMES

    reader = PdfReader(program["base"] / "trend" / "trend.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    for word in (
        "p-chart",
        "Funnel plot",
        "Next audit per coder",
        "C005",
        "focused" if "focused" in text else "routine",
    ):
        assert word in text
    assert not any(name in text for name in PATIENT_NAMES)
    attachments = reader.attachments
    assert "trend.json" in attachments
    assert json.loads(attachments["trend.json"][0])["periods"] == program["trend"]["periods"]


def test_the_workbook_carries_the_numbers_of_trend_json(program: dict[str, Any]) -> None:
    workbook = load_workbook(program["base"] / "trend" / "trend.xlsx", read_only=True)
    assert workbook.sheetnames == [
        "Periods",
        "Overall",
        "Coders",
        "Providers",
        "Auditors",
        "P-chart",
        "Funnel",
        "Next audit",
        "Rules",
        "Differences",
    ]
    trend = program["trend"]
    schedule = {r[0]: r[1:4] for r in workbook["Next audit"].iter_rows(min_row=2, values_only=True)}
    for coder in trend["coders"]:
        decision = coder["next_audit"]
        assert schedule[coder["coder"]] == (decision["date"], decision["kind"], decision["rule"])
    chart = list(workbook["P-chart"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2], r[7]) for r in chart] == [
        (p["period"], p["errors"], p["n"], "yes" if p["out_of_control"] else "no")
        for p in trend["p_chart"]["periods"]
    ]
