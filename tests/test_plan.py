"""Sampling plans: every problem at once with its key path, cross-section checks, presets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import plan_dict

from audit_kit.errors import PlanError
from audit_kit.plan import load_plan, load_plan_text, parse_plan, parse_plan_text, with_seed
from audit_kit.plan.presets import list_presets, preset_summary


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(PlanError) as info:
        parse_plan(data, source="p.yaml")
    return [p.where for p in info.value.problems]


def test_valid_plan_parses() -> None:
    plan = parse_plan(plan_dict())
    assert plan.size.n == 20
    assert plan.columns.unit_id == "encounter_id"
    assert plan.rng.seed == 20261127 and isinstance(plan.rng.seed, int)


def test_two_mistakes_are_both_reported_with_key_paths() -> None:
    data = plan_dict(
        design={
            "method": "stratified",
            "strata": {"by": ["coder"], "dollar_bands": {"column": "paid", "edges": [-5, 100]}},
        },
        size={"per_stratum": 10},
    )
    data["columns"]["paied"] = "paid_amount"
    with pytest.raises(PlanError) as info:
        parse_plan(data, source="p.yaml")
    err = info.value
    assert err.summary == "The sampling plan has 2 problem(s)."
    wheres = {p.where: p for p in err.problems}
    assert set(wheres) == {"p.yaml: columns.paied", "p.yaml: design.strata.dollar_bands"}
    assert wheres["p.yaml: columns.paied"].found == "unknown key 'paied'"
    assert (
        "edges >= 0 (no negative band edges)"
        in wheres["p.yaml: design.strata.dollar_bands"].expected
    )


def test_union_alternatives_are_one_problem() -> None:
    wheres = problems_of(plan_dict(size={"per_stratum": "thirty"}))
    assert wheres == ["p.yaml: size.per_stratum"]


def test_missing_required_keys() -> None:
    data = plan_dict()
    del data["columns"]["unit_id"]
    del data["size"]
    assert set(problems_of(data)) == {"p.yaml: columns.unit_id", "p.yaml: size"}


@pytest.mark.parametrize(
    ("overrides", "where", "expected"),
    [
        ({"spares": 2, "spares_allowed": False}, "spares", "spares_allowed: false"),
        (
            {"design": {"method": "stratified", "strata": {"by": ["coder"]}}},
            "size.n",
            "per_stratum or size.total",
        ),
        ({"size": {"per_stratum": 5}}, "size.per_stratum", "size.n (or size.target)"),
        (
            {
                "design": {"method": "stratified", "strata": {"by": ["payer"]}},
                "size": {"per_stratum": 5},
            },
            "design.strata.by[0]",
            "mapped under columns",
        ),
        (
            {
                "design": {"method": "stratified", "strata": {"by": ["dx"]}},
                "size": {"per_stratum": 5},
            },
            "design.strata.by[0]",
            "a single column",
        ),
        (
            {
                "design": {
                    "method": "stratified",
                    "strata": {
                        "dollar_bands": {"column": "paid", "edges": [0, 1000, 5000]},
                        "certainty": {"column": "paid", "at_least": 2000},
                    },
                },
                "size": {"per_stratum": 5},
            },
            "design.strata.certainty.at_least",
            "above every band edge",
        ),
        (
            {"frame": {"filters": [{"column": "paid", "op": "between", "value": [10]}]}},
            "frame.filters[0].value",
            "[low, high]",
        ),
        (
            {"frame": {"filters": [{"column": "setting", "op": "in", "value": "inpatient"}]}},
            "frame.filters[0].value",
            "non-empty list",
        ),
        (
            {"frame": {"filters": [{"column": "setting", "op": "==", "value": True}]}},
            "frame.filters[0].value",
            "one number, date or text",
        ),
        ({"rng": {"generator": "pcg64", "seed": 12.5}}, "rng.seed", "whole number"),
        ({"rng": {"generator": "ratstats", "seed": 1e16}}, "rng.seed", "below 10^15"),
        ({"size": {"target": {"precision": 0.1}}}, "size.target", "probe_mean and probe_sd"),
        ({"pseudonymise": True, "columns": {"unit_id": "id"}}, "pseudonymise", "columns.patient"),
        (
            {
                "design": {"method": "stratified", "strata": {"by": ["coder"]}},
                "size": {"target": {"precision": 0.1, "probe_mean": 5, "probe_sd": 2}},
            },
            "size.target",
            "target is for simple ones",
        ),
    ],
)
def test_cross_section_checks(overrides: dict[str, Any], where: str, expected: str) -> None:
    with pytest.raises(PlanError) as info:
        parse_plan(plan_dict(**overrides), source="p.yaml")
    found = {p.where: p.expected for p in info.value.problems}
    assert f"p.yaml: {where}" in found, found
    assert expected in found[f"p.yaml: {where}"]


def test_phi_column_must_be_kept() -> None:
    data = plan_dict()
    data["columns"]["phi"] = ["mrn"]
    assert problems_of(data) == ["p.yaml: columns.phi[0]"]


def test_cross_checks_are_collected_together() -> None:
    data = plan_dict(spares=1, spares_allowed=False, rng={"generator": "pcg64", "seed": 1.5})
    assert set(problems_of(data)) == {"p.yaml: spares", "p.yaml: rng.seed"}


def test_yaml_syntax_error_names_line() -> None:
    with pytest.raises(PlanError) as info:
        parse_plan_text("name: x\ncolumns: [unit_id\n", source="p.yaml")
    assert info.value.problems[0].where.startswith("p.yaml:")
    assert info.value.problems[0].where.count(":") == 2


def test_plan_not_a_mapping() -> None:
    with pytest.raises(PlanError, match="not a mapping"):
        parse_plan_text("- a\n- b\n")


def test_missing_plan_file_lists_presets(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        load_plan(tmp_path / "nope.yaml")
    assert "cia-discovery" in info.value.problems[0].expected


# -- seeds written into the plan text ------------------------------------------------------------

BLOCK = "name: x  # comment kept\nrng:\n  generator: ratstats  # why\nsize: {n: 3}\n"


@pytest.mark.parametrize(
    "text",
    [
        BLOCK,
        "name: x\nsize: {n: 3}\n",
        "name: x\nsize: {n: 3}",
        "name: x\nrng: {generator: ratstats}\nsize: {n: 3}\n",
        "name: x\nrng: {}\n",
        "name: x\nrng:\nsize: {n: 3}\n",
        "name: x\nrng:\n  seed: null\n  generator: pcg64\n",
        "name: x\nrng:\n  seed:\n  generator: pcg64\n",
    ],
)
def test_with_seed_keeps_the_text_and_sets_the_seed(text: str) -> None:
    out = with_seed(text, 48863.78)
    data = yaml.safe_load(text)
    assert yaml.safe_load(out) == {**data, "rng": {**(data.get("rng") or {}), "seed": 48863.78}}
    assert "re-written by audit-kit" not in out
    for line in text.splitlines():
        if "#" in line:
            assert line in out


# -- presets -------------------------------------------------------------------------------------

EXPECTED_PRESETS = {
    "quarterly-coder-review",
    "profee-provider-review",
    "cms-probe",
    "cia-discovery",
    "cia-claims-review",
    "oig-self-disclosure",
    "dollar-band-overpayment",
    "vendor-attestation",
    "inpatient-drg-validation",
    "mock-radv",
}


def test_presets_are_shipped_and_valid() -> None:
    presets = list_presets()
    assert set(presets) == EXPECTED_PRESETS
    for name, path in presets.items():
        plan, text, _ = load_plan_text(name)
        assert plan.preset == name
        assert preset_summary(path)
        header = text.split("\nname:")[0]
        assert "When to use" in header and "Guidance" in header, name
        assert "PLACEHOLDERS" in header, name


def test_preset_rules_follow_the_spec() -> None:
    cia = load_plan("cia-discovery")
    assert cia.size.n == 50 and cia.spares == 0 and not cia.spares_allowed
    assert cia.scoring.error_threshold == 0.05 and cia.rng.generator == "ratstats"
    assert load_plan("cia-claims-review").size.n == 100
    sdp = load_plan("oig-self-disclosure")
    assert sdp.size.n is not None and sdp.size.n >= 100
    assert sdp.financial.netting == "overpayments_only"
    assert sdp.financial.demand_rule == "point_estimate"
    assert load_plan("quarterly-coder-review").size.per_stratum == 30
    per = load_plan("profee-provider-review").size.per_stratum
    assert isinstance(per, int) and 10 <= per <= 20
    probe = load_plan("cms-probe")
    assert probe.size.n is not None and 20 <= probe.size.n <= 40 and not probe.financial.extrapolate
    bands = load_plan("dollar-band-overpayment").design.strata
    assert bands is not None and bands.dollar_bands is not None and bands.certainty is not None
    assert load_plan("inpatient-drg-validation").financial.basis == "drg"
    radv = load_plan("mock-radv")
    assert radv.financial.basis == "hcc" and radv.sampling_unit == "enrollee-year"
    assert radv.size.total is not None and 35 <= radv.size.total <= 200
    assert radv.design.strata is not None and radv.design.strata.dollar_bands is not None
    assert radv.design.strata.dollar_bands.column == "raf_score"


def test_spares_in_a_cia_preset_are_refused(tmp_path: Path) -> None:
    text = list_presets()["cia-discovery"].read_text("utf-8").replace("spares: 0", "spares: 3")
    with pytest.raises(PlanError) as info:
        parse_plan_text(text, source="cia.yaml")
    assert [p.where for p in info.value.problems] == ["cia.yaml: spares"]


# -- the plan grammar: one form per rule, keys that do nothing refused, older plans migrated --


def _stratified(size: dict[str, Any]) -> dict[str, Any]:
    plan = plan_dict()
    plan["design"] = {"method": "stratified", "strata": {"by": ["coder"]}}
    plan["size"] = size
    return plan


def test_size_total_is_flat() -> None:
    plan = parse_plan(
        _stratified({"total": 300, "allocation": "neyman", "minimum_per_stratum": 5}),
        source="plan.yaml",
    )
    rule = plan.size.total_rule
    assert rule is not None and (rule.total, rule.allocation.value) == (300, "neyman")
    assert plan.size.minimum == 5 and plan.migration_notes == ()


def test_nested_total_is_read_with_a_note() -> None:
    plan = parse_plan(
        _stratified({"total": {"total": 300, "allocation": "neyman"}, "minimum_per_stratum": 5}),
        source="plan.yaml",
    )
    assert plan.size.total == 300 and plan.size.minimum == 5
    (note,) = plan.migration_notes
    assert note.startswith("plan.yaml: size.total is a number now")
    assert "size: {total: 300, allocation: neyman, minimum_per_stratum: 5}" in note


@pytest.mark.parametrize(
    "size",
    [
        {"per_stratum": 30, "minimum_per_stratum": 5},
        {"per_stratum": 30, "allocation": "neyman"},
        {"total": 300, "variable": "paid"},  # variable drives Neyman only
    ],
)
def test_keys_that_do_nothing_are_refused(size: dict[str, Any]) -> None:
    with pytest.raises(PlanError) as info:
        parse_plan(_stratified(size), source="plan.yaml")
    assert [p.where for p in info.value.problems] == ["plan.yaml: size"]


def test_a_scoring_weight_typo_fails_when_the_plan_is_loaded() -> None:
    plan = plan_dict()
    plan["scoring"] = {"weights": {"principle_dx": 2}}
    with pytest.raises(PlanError) as info:
        parse_plan(plan, source="plan.yaml")
    (problem,) = info.value.problems
    assert problem.where == "plan.yaml: scoring.weights.principle_dx"
    assert "principal_dx" in problem.expected


def test_the_demand_rule_has_one_place() -> None:
    plan = plan_dict()
    plan["demand_rule"] = "point_estimate"
    parsed = parse_plan(plan, source="plan.yaml")
    assert parsed.financial.demand_rule == "point_estimate"
    assert parsed.effective_demand_rule == "point_estimate"
    assert "financial.demand_rule" in parsed.migration_notes[0]
    plan["financial"] = {"demand_rule": "oig_two_sided_90"}
    with pytest.raises(PlanError) as info:
        parse_plan(plan, source="plan.yaml")
    assert info.value.problems[0].where == "plan.yaml: demand_rule"
