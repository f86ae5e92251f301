"""Templates, the resource fetcher, charts and the view model: the pieces under render_reports."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from report_helpers import make_audit, make_results

import audit_kit.reporting as reporting
from audit_kit.errors import InputError
from audit_kit.folder.manifest import AuditFolder
from audit_kit.folder.results import Results
from audit_kit.reporting import charts, render_reports
from audit_kit.reporting import context as context_module
from audit_kit.reporting.context import (
    executive_context,
    money,
    pct_lower,
    pct_upper,
    safe_file_stem,
)
from audit_kit.reporting.environment import css_string, template_roots
from audit_kit.reporting.fetcher import MAX_DATA_URL, ResourceRefused, TemplateFetcher
from audit_kit.reporting.pdf import render_html

# -- fetcher -----------------------------------------------------------------------------------


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    user, shipped, outside = tmp_path / "user", tmp_path / "shipped", tmp_path / "outside"
    for folder in (user, shipped, outside):
        folder.mkdir()
    (shipped / "report.css").write_text("/* shipped */")
    (shipped / "only_shipped.css").write_text("/* only shipped */")
    (user / "report.css").write_text("/* user */")
    (outside / "secret.css").write_text("/* secret */")
    (user / "link.css").symlink_to(outside / "secret.css")
    return {"user": user, "shipped": shipped, "outside": outside}


def test_fetcher_serves_user_file_first_then_shipped(folders: dict[str, Path]) -> None:
    fetcher = TemplateFetcher([folders["user"], folders["shipped"]])
    assert fetcher.fetch((folders["shipped"] / "report.css").as_uri()).read() == b"/* user */"
    only = fetcher.fetch((folders["shipped"] / "only_shipped.css").as_uri())
    assert only.read() == b"/* only shipped */"
    assert fetcher.refused == []


@pytest.mark.parametrize(
    "url",
    [
        "https://example.invalid/logo.png",
        "http://127.0.0.1:9/x.css",
        "ftp://example.invalid/x",
        "file:///etc/passwd",
        "file://otherhost/etc/passwd",
    ],
)
def test_fetcher_refuses_urls_and_files_elsewhere(folders: dict[str, Path], url: str) -> None:
    fetcher = TemplateFetcher([folders["user"], folders["shipped"]])
    with pytest.raises(ResourceRefused):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_refuses_escapes_by_dotdot_and_symlink(folders: dict[str, Path]) -> None:
    fetcher = TemplateFetcher([folders["user"], folders["shipped"]])
    for url in (
        folders["user"].as_uri() + "/../outside/secret.css",
        (folders["user"] / "link.css").as_uri(),
        (folders["outside"] / "secret.css").as_uri(),
    ):
        with pytest.raises(ResourceRefused):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 3


def test_fetcher_takes_small_data_urls_only(folders: dict[str, Path]) -> None:
    fetcher = TemplateFetcher([folders["shipped"]])
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    with pytest.raises(ResourceRefused):
        fetcher.fetch("data:text/plain," + "a" * MAX_DATA_URL)


# -- environment -------------------------------------------------------------------------------


def test_css_string_cannot_break_out_of_a_style_block() -> None:
    quoted = str(css_string('AK-1"; } </style><script>x</script>'))
    assert quoted.startswith('"') and quoted.endswith('"')
    assert '"' not in quoted[1:-1] and "<" not in quoted and "}" not in quoted


def test_user_text_is_data_never_template_source() -> None:
    results = make_results(coders=1, units_per_coder=6, error_rate=0.9, seed=2)
    results["errors"][0]["rationale"] = "{{ 7 * 7 }} <script>alert(1)</script> {% raw %}"
    results["coders"][0]["coder"] = "<i>C1</i>"
    for error in results["errors"]:
        error["coder"] = "<i>C1</i>"
    html = render_html(
        "report.html",
        executive_context(
            results, results["sampling"], statement=None, rendered_at="T", coder_files={}
        ),
        [str(r) for r in template_roots(None)],
    )
    assert "{{ 7 * 7 }} &lt;script&gt;alert(1)&lt;/script&gt; {% raw %}" in html
    assert "<script>" not in html and "<i>C1</i>" not in html
    assert "&lt;i&gt;C1&lt;/i&gt;" in html  # also inside the SVG chart labels


def test_template_errors_name_the_template(tmp_path: Path) -> None:
    user = tmp_path / "tpl"
    user.mkdir()
    (tmp_path / "secret.txt").write_text("SECRET")
    (user / "coder.html").write_text('{% include "../secret.txt" %}')
    (user / "attestation.html").write_text("{{ audit.__class__.__mro__ }}")
    roots = [str(r) for r in template_roots(user)]
    with pytest.raises(InputError) as info:
        render_html("coder.html", {}, roots)
    assert info.value.problems[0].where.startswith("template ../secret.txt")
    with pytest.raises(InputError) as info:
        render_html("attestation.html", {"audit": {}}, roots)
    assert "SecurityError" in info.value.problems[0].found
    (user / "report.html").write_text('{% extends "report.html" %}')
    with pytest.raises(InputError) as info:
        render_html("report.html", {}, roots)
    assert "shipped/<name>" in info.value.problems[0].fix


def test_an_undefined_value_is_named_where_it_is_used(tmp_path: Path) -> None:
    """In an included template, the problem names that file and line, not the one rendered."""
    user = tmp_path / "tpl"
    user.mkdir()
    (user / "coder.html").write_text('<h1>Coder</h1>\n{% include "part.html" %}\n')
    (user / "part.html").write_text("<p>ok</p>\n\n<p>{{ nothing.here }}</p>\n")
    roots = [str(r) for r in template_roots(user)]
    with pytest.raises(InputError) as info:
        render_html("coder.html", {}, roots)
    problem = info.value.problems[0]
    assert problem.where == f"template {user / 'part.html'}, line 3"
    assert "'nothing' is undefined" in problem.found


def test_missing_template_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="template folder does not exist"):
        template_roots(tmp_path / "nope")


# -- user templates, end to end ---------------------------------------------------------------


def test_user_template_cannot_reach_outside_files_or_urls(tmp_path: Path) -> None:
    path, _ = make_audit(tmp_path / "audit", coders=1, units_per_coder=5)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "outside.css").write_text('.claim::after { content: "OUTSIDE-LOADED"; }')
    (outside / "note.txt").write_text("OUTSIDE-ATTACHMENT")
    user = tmp_path / "tpl"
    user.mkdir()
    (user / "link.css").symlink_to(outside / "outside.css")
    (user / "extra.css").write_text('.claim::before { content: "USER-CSS-LOADED "; }')
    (user / "attestation.html").write_text(
        """{% extends "shipped/attestation.html" %}
{% block head %}
<link rel="stylesheet" href="extra.css">
<link rel="stylesheet" href="../../outside/outside.css">
<link rel="stylesheet" href="link.css">
<link rel="stylesheet" href="file://"""
        + str(outside / "outside.css")
        + """">
<link rel="stylesheet" href="https://example.invalid/style.css">
<link rel="attachment" href="file://"""
        + str(outside / "note.txt")
        + """">
{% endblock %}
{% block content %}<img src="file:///etc/hostname"><img src="http://127.0.0.1:9/x.png">
{{ super() }}{% endblock %}
"""
    )
    paths = render_reports(path, template_dir=user)
    reader = PdfReader(io.BytesIO((path / "attestation.pdf").read_bytes()))
    text = reader.pages[0].extract_text()
    assert "USER-CSS-LOADED" in text  # the user's own file is served
    assert "OUTSIDE-LOADED" not in text
    assert not reader.attachments
    assert len(paths) == 3
    refused = AuditFolder.open(path).events[-1]["details"]["refused_resources"]
    assert "https://example.invalid/style.css" in refused
    assert "http://127.0.0.1:9/x.png" in refused
    assert "file:///etc/hostname" in refused
    assert (outside / "note.txt").as_uri() in refused
    assert sum("outside.css" in url for url in refused) >= 2
    assert any(url.endswith("link.css") for url in refused)


# -- parallel rendering -----------------------------------------------------------------------


def test_parallel_rendering_gives_the_same_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reporting, "PARALLEL_MIN_JOBS", 1)
    path, results = make_audit(tmp_path / "audit", coders=2, units_per_coder=4)
    paths = render_reports(path)
    assert [p.name for p in paths] == ["report.pdf", "attestation.pdf", "C001.pdf", "C002.pdf"]
    text = PdfReader(io.BytesIO(paths[2].read_bytes())).pages[0].extract_text()
    assert "Feedback for C001" in text


# -- charts ------------------------------------------------------------------------------------


def test_accuracy_chart_escapes_labels_and_draws_target() -> None:
    svg = charts.accuracy_chart(
        [
            charts.AccuracyRow(label="<b>&x", value=0.97, lower=0.95, upper=0.99, verdict="meets"),
            charts.AccuracyRow(label="B", value=0.9, lower=0.85, upper=0.93, verdict="below"),
        ],
        target=0.95,
        title="t",
        axis_label="a",
    )
    assert "&lt;b&gt;&amp;x" in svg and "<b>" not in svg
    assert "Target 95%" in svg and 'stroke-dasharray="5 3"' in svg
    assert svg.count("<rect") >= 2  # the "below" square marker and row shading


def test_pareto_chart_has_integer_count_ticks() -> None:
    svg = charts.pareto_chart(
        [charts.ParetoBar(label="medical necessity", count=3, cumulative_share=1.0)], title="p"
    )
    ticks = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert ticks and all(t.isdigit() for t in ticks)
    assert "medical" in svg and "necessity" in svg


# -- view model --------------------------------------------------------------------------------


def test_limits_are_rounded_conservatively() -> None:
    assert pct_lower(0.96199) == "96.1%"
    assert pct_upper(0.96101) == "96.2%"
    assert pct_lower(0.961) == "96.1%"  # no float noise pushing 96.1 down to 96.0
    assert pct_upper(0.961) == "96.1%"
    assert money(-1234.5) == "-$1,234.50"
    assert money(1234.5, cents=False) == "$1,234"
    assert money(-0.001) == "$0.00"


def test_safe_file_stems_are_portable_and_unique() -> None:
    taken: set[str] = set()
    stems = [
        safe_file_stem(n, taken)
        for n in ("Jane O'Neil", "jane o neil", "../../etc", "CON", "", "a/b\\c")
    ]
    assert stems == ["Jane_O_Neil", "jane_o_neil-2", "etc", "coder_CON", "coder", "a_b_c"]


def test_optional_sections_are_omitted_when_empty() -> None:
    results: dict[str, Any] = make_results(coders=2, units_per_coder=5, seed=4)
    for key in ("categories", "providers", "auditors", "strata", "settings_groups"):
        results[key] = []
    for group in [results["overall"], *results["coders"]]:
        for key in ("extrapolation", "drg_accuracy", "dollar_accuracy"):
            group[key] = None
    results = Results.model_validate(results).to_json_dict()  # still a valid results.json
    ctx = executive_context(results, {}, statement=None, rendered_at="T", coder_files={})
    html = render_html("report.html", ctx, [str(r) for r in template_roots(None)])
    for absent in (
        "3. Error categories",
        "5. Other breakdowns",
        "A.2 Appraisal printout",
        "Extrapolation",
    ):
        assert absent not in html, absent
    assert "2. Accuracy per coder" in html and "6. Findings with errors" in html


def test_printouts_follow_the_scoring_shapes() -> None:
    """scoring.py nests the appraisal statistics and, when stratified, the error-rate strata."""
    ex = {
        "measure": "difference",
        "population": 19375,
        "sample": 357,
        "point_estimate": 567962.98,
        "se_total": 890809.35,
        "limits": {
            "80": {
                "lower": -573655.13,
                "upper": 1709581.10,
                "precision": 1141618.12,
                "precision_percent": 201.0022,
                "critical_value": 1.2815515655446004,
            },
        },
        "demand_rule": "cms_one_sided_90",
        "demand_amount": 0.0,
        "skewness": None,
        "strata_skewness": {"C01": None, "C02": -3.4263},
        "appraisal": {"total": 16611.55, "notes": ["C01: zero_variance", "odd_flag"]},
        "error_rate": {
            "strata": [
                {"stratum": "C01", "population": 815, "sample": 30, "errors": 0, "rate": 0.0}
            ],
            "overall": {
                "population": 19375,
                "sample": 357,
                "errors": 41,
                "rate": 0.11278,
                "quantity": 2185.1,
                "limits": {
                    "90": {
                        "lower": 1686.7,
                        "upper": 2683.5,
                        "lower_rate": 0.08706,
                        "upper_rate": 0.13851,
                    }
                },
            },
        },
    }
    view = context_module.extrapolation_view(ex, {})
    assert view is not None
    assert "201.00%" in view["printout"] and "1.281551565545" in view["printout"]
    assert "SAMPLE TOTAL:" in view["printout"] and "16,611.55" in view["printout"]
    assert "(STRATIFIED)" in view["attribute_printout"]
    assert "C01" in view["attribute_printout"] and "11.278%" in view["attribute_printout"]
    assert view["limits"][0]["precision_percent"] == "201.00%"
    assert view["strata_skewness"] == [
        {"stratum": "C01", "skewness": "n/a"},
        {"stratum": "C02", "skewness": "-3.4263"},
    ]
    assert view["notes"][0].startswith("C01: standard deviation 0")
    assert view["notes"][1] == "odd flag"
    assert view["demand_amount"] == "$0"


def test_a_zero_demand_from_a_negative_lower_limit_is_explained_plainly() -> None:
    """The bundled demo: point estimate $567,963, one-sided 90% lower limit -$573,655, demand 0."""
    ex = {
        "population": 19375,
        "point_estimate": 567962.98,
        "one_sided_90_lower": -573655.13,
        "two_sided_90_lower": -897288.01,
        "demand_rule": "cms_one_sided_90",
        "demand_amount": 0.0,
    }
    view = context_module.extrapolation_view(ex, {})
    assert view is not None
    plain = view["demand_plain"]
    assert "about $567,963 for the 19,375 units" in plain
    assert "with 90% confidence, the true total is only known to be above -$573,655" in plain
    assert "the demand amount is $0" in plain
    oig = context_module.extrapolation_view({**ex, "demand_rule": "oig_two_sided_90"}, {})
    assert oig is not None and "with 95% confidence" in oig["demand_plain"]
    assert "-$897,288" in oig["demand_plain"]
    point = context_module.extrapolation_view(
        {**ex, "demand_rule": "point_estimate", "point_estimate": -12.0}, {}
    )
    assert point is not None and "shows no net overpayment" in point["demand_plain"]
    # A positive demand, or a zero demand under a positive limit, keeps the recorded reason.
    paid = context_module.extrapolation_view({**ex, "demand_amount": 1200.0}, {})
    assert paid is not None and paid["demand_plain"] is None
    odd = context_module.extrapolation_view({**ex, "one_sided_90_lower": 5.0}, {})
    assert odd is not None and odd["demand_plain"] is None


def test_the_demand_cell_names_the_rule_once() -> None:
    label = "Lower limit of the one-sided 90% confidence interval"
    ex = {"demand_rule": "cms_one_sided_90", "demand_amount": 1200.0}
    recorded = context_module.extrapolation_view(
        {**ex, "demand_reason": label + " (equal to the lower limit of the two-sided 80%)."}, {}
    )
    assert recorded is not None and recorded["demand_label_in_reason"] is True
    other = context_module.extrapolation_view({**ex, "demand_reason": "Plan demand_rule."}, {})
    assert other is not None and other["demand_label_in_reason"] is False


def test_a_coder_with_no_scored_unit_is_named_not_rendered(tmp_path: Path) -> None:
    # Partial returns: a coder whose units are all unreturned or "not reviewed" has no accuracy
    # (scoring writes null intervals). The report renders, names the coder, and makes no PDF.
    path, results = make_audit(tmp_path / "audit", coders=3, unscored_coders=1)
    unscored = sorted(c["coder"] for c in results["coders"])[-1]
    written = render_reports(path)
    names = {p.name for p in written}
    assert f"{unscored}.pdf" not in names
    assert len([p for p in written if p.parent.name == "coders"]) == 2
    text = "".join(page.extract_text() for page in PdfReader(path / "report.pdf").pages)
    assert "Not scored yet" in " ".join(text.split()) and unscored in text
