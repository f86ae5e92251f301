"""RAT-STATS-style commands: reference values through --json, human output, help, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from audit_kit.cli import cli, main

DATA = Path(__file__).parent / "data" / "ratstats"
REF: dict[str, Any] = json.loads((DATA / "ratstats_reference_values.json").read_text())
DATASRS = DATA / "ug2010_DATASRS_examined_audited_N10000.csv"
DATASTRAT = DATA / "ug2010_DATASTRAT_difference.csv"
PROBE = DATA / "ug2010_SAMPDATA_probe.csv"
CHALLENGE = DATA / "challenge"
LEVELS = ("80", "90", "95")


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def invoke_json(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.stdout.count("\n") == 1  # exactly one JSON document, on one line
    return json.loads(result.stdout)


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    code = info.value.code
    assert isinstance(code, int)
    return code, out, err


def close(value: float, printed: float, places: int) -> bool:
    return abs(value - printed) <= 0.5 * 10.0**-places + 1e-9 * abs(printed)


# --- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["random-numbers"], "--spares"),
        (["appraise", "attribute"], "--one-sided"),
        (["appraise", "variable"], "--stratum-column"),
        (["size", "variable"], "--total-sample"),
        (["size", "attribute"], "--precision-range"),
    ],
)
def test_every_command_has_help_with_an_example(command: list[str], option: str) -> None:
    result = invoke(*command, "--help")
    assert "Example" in result.stdout
    assert f"audit-kit {' '.join(command)}" in result.stdout
    assert option in result.stdout and "--json" in result.stdout


# --- random-numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("ref", REF["rng_single_stage"], ids=lambda r: str(r["seed"]))
def test_random_numbers_reference_seeds(ref: dict[str, Any]) -> None:
    seed = str(ref["seed"])
    doc = invoke_json(
        "random-numbers", "--seed", seed, "--low", str(ref["low"]), "--high", str(ref["high"]),
        "--count", str(ref["sequential"]), "--spares", str(ref["spares"]),
        "--generator", "ratstats",
    )  # fmt: skip
    assert doc["generator"] == "ratstats" and doc["seed"] == ref["seed"]
    values = [item["value"] for item in doc["sample"]]
    assert values == sorted(values)
    if "selection_order_values" in ref:
        by_order = sorted(doc["sample"] + doc["spares"], key=lambda item: item["order"])
        assert [item["value"] for item in by_order] == ref["selection_order_values"]
    if "sequential_sorted" in ref:
        assert values == ref["sequential_sorted"]
        assert [item["value"] for item in doc["spares"]] == ref["spares_in_order"]
    if "sum" in ref:
        assert doc["sum"] == ref["sum"]
    if "wh_seeds" in ref:
        assert doc["wh_seeds"] == ref["wh_seeds"]
    assert [item["order"] for item in doc["spares"]] == list(
        range(ref["sequential"] + 1, ref["sequential"] + ref["spares"] + 1)
    )


def test_random_numbers_spec_example_exactly() -> None:
    doc = invoke_json(
        "random-numbers", "--seed", "48863.78", "--low", "1", "--high", "1000", "--count", "10",
        "--spares", "4", "--generator", "ratstats",
    )  # fmt: skip
    assert doc["sample"][0] == {"value": 22, "order": 10}
    assert doc["spares"][0] == {"value": 980, "order": 11}
    assert list(doc) == [
        "generator", "seed", "seed_used", "wh_seeds", "low", "high", "sample", "spares", "sum",
    ]  # fmt: skip


def test_random_numbers_warns_about_ratstats_streams_and_prints_layout() -> None:
    result = invoke("random-numbers", "--seed", "1357", "--high", "90", "--count", "10")
    assert "65,536" in result.stderr
    assert "65,536" not in result.stdout
    assert "Sum of all numbers:          380" in result.stdout
    lines = result.stdout.splitlines()
    first_row = next(i for i, line in enumerate(lines) if line.split()[:1] == ["1"])
    assert lines[first_row].split() == ["1", "4", "2"]  # sequential 1: value 2, drawn 4th


def test_random_numbers_pcg64_without_warning() -> None:
    result = invoke(
        "random-numbers", "--seed", "7", "--high", "100", "--count", "5", "--generator", "pcg64",
        "--json",
    )  # fmt: skip
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["wh_seeds"] is None and len(doc["sample"]) == 5 and doc["seed"] == 7


# --- appraise attribute ----------------------------------------------------------------------


@pytest.mark.parametrize("ref", [r for r in REF["uaa"] if not r.get("one_sided")])
def test_appraise_attribute_reference(ref: dict[str, Any]) -> None:
    doc = invoke_json(
        "appraise", "attribute", "--population", str(ref["N"]), "--sample", str(ref["n"]),
        "--errors", str(ref["x"]),
    )  # fmt: skip
    assert (doc["population"], doc["sample"], doc["errors"]) == (ref["N"], ref["n"], ref["x"])
    assert abs(doc["quantity"] - ref["projected"]) <= 1
    assert close(doc["se_quantity"], ref["se_qty"], 0)
    assert close(doc["se_rate"] * 100, ref["se_pct"], 3)
    for level in LEVELS:
        assert [doc["limits"][level]["lower"], doc["limits"][level]["upper"]] == ref[f"ci{level}"]
        assert set(doc["limits"][level]) == {"lower", "upper", "lower_rate", "upper_rate"}


def test_appraise_attribute_one_sided_reference() -> None:
    ref = next(r for r in REF["uaa"] if r.get("one_sided"))
    doc = invoke_json(
        "appraise", "attribute", "--population", "10000", "--sample", "400", "--errors", "0",
        "--one-sided",
    )  # fmt: skip
    for level in LEVELS:
        assert doc["limits"][level]["upper"] == ref[f"upper{level}"]
        assert doc["limits"][level]["lower"] is None


def test_appraise_attribute_strata_file(tmp_path: Path) -> None:
    ref = REF["stratified_attribute"][0]
    path = tmp_path / "strata.csv"
    path.write_text("stratum,population,sample,errors\n1,1000,100,2\n2,1500,100,6\n")
    doc = invoke_json("appraise", "attribute", "--strata", str(path))
    assert [s["stratum"] for s in doc["strata"]] == ["1", "2"]
    overall = doc["overall"]
    assert close(overall["rate"] * 100, ref["combined_pct"], 3)
    assert close(overall["se_quantity"], ref["se_qty"], 0)
    for i, level in enumerate(LEVELS):
        assert abs(overall["limits"][level]["lower"] - ref["lower_qty"][i]) <= 1
        assert abs(overall["limits"][level]["upper"] - ref["upper_qty"][i]) <= 1
        assert close(overall["limits"][level]["upper_rate"] * 100, ref["upper_pct"][i], 3)


def test_appraise_attribute_human_output() -> None:
    result = invoke("appraise", "attribute", "--population", "10000", "--sample", "400",
                    "--errors", "82")  # fmt: skip
    assert "1,796" in result.stdout and "2,326" in result.stdout and "20.500%" in result.stdout


# --- appraise variable -----------------------------------------------------------------------


def test_appraise_variable_reference_datasrs() -> None:
    ref = REF["uva"][0]
    doc = invoke_json("appraise", "variable", str(DATASRS), "--population", "10000",
                      "--examined", "examined", "--audited", "audited")  # fmt: skip
    assert (doc["population"], doc["sample"]) == (10_000, 50)
    for name in ("examined", "audited", "difference"):
        block, printed = doc[name], ref[name]
        assert close(block["total"], ref["totals"][name], 2)
        for key, ref_key, places in (
            ("mean", "mean", 2), ("sd", "sd", 2), ("skewness", "skew", 2),
            ("kurtosis", "kurt", 2), ("se_mean", "se_mean", 2), ("se_total", "se_total", 0),
            ("point_estimate", "pe", 0),
        ):  # fmt: skip
            assert close(block[key], printed[ref_key], places), (name, key)
        for level in LEVELS:
            limit = block["limits"][level]
            assert close(limit["lower"], printed[level]["lower"], 0)
            assert close(limit["upper"], printed[level]["upper"], 0)
            assert close(limit["precision"], printed[level]["prec"], 0)
            assert close(limit["precision_percent"], printed[level]["prec_pct"], 2)
            if "t" in printed[level]:
                assert close(limit["critical_value"], printed[level]["t"], 12)
    assert doc["difference"]["nonzero"] == 50


def test_appraise_variable_default_columns_and_xlsx(tmp_path: Path) -> None:
    csv_doc = invoke_json("appraise", "variable", str(DATASRS), "--population", "10000")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line in DATASRS.read_text().splitlines():
        cells = line.split(",")
        sheet.append([c if not c.isdigit() else int(c) for c in cells])
    path = tmp_path / "datasrs.xlsx"
    workbook.save(path)
    xlsx_doc = invoke_json("appraise", "variable", str(path), "--population", "10000")
    assert xlsx_doc == csv_doc
    assert list(csv_doc)[2:5] == ["examined", "audited", "difference"]


def test_appraise_variable_stratified_reference(tmp_path: Path) -> None:
    ref = REF["sva"][0]
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("stratum,population\n1,5200\n2,3500\n")
    doc = invoke_json("appraise", "variable", str(DATASTRAT), "--difference", "difference",
                      "--stratum-column", "stratum", "--strata", str(sizes))  # fmt: skip
    assert doc["critical_value_rule"] == "ratstats"
    assert [(s["stratum"], s["population"], s["sample"]) for s in doc["strata"]] == [
        ("1", 5200, 25),
        ("2", 3500, 25),
    ]
    for stratum, key in zip(doc["strata"], ("stratum1", "stratum2"), strict=True):
        assert close(stratum["difference"]["point_estimate"], ref[key]["pe"], 0)
        assert close(stratum["difference"]["se_total"], ref[key]["se_total"], 0)
        for i, level in enumerate(LEVELS):
            assert close(stratum["difference"]["limits"][level]["lower"], ref[key]["lower"][i], 0)
    overall = doc["overall"]["difference"]
    assert close(overall["point_estimate"], ref["overall"]["pe"], 0)
    assert close(overall["se_total"], ref["overall"]["se"], 0)
    for i, level in enumerate(LEVELS):
        limit = overall["limits"][level]
        assert close(limit["lower"], ref["overall"]["lower"][i], 0)
        assert close(limit["upper"], ref["overall"]["upper"][i], 0)
        assert close(limit["precision_percent"], ref["overall"]["prec_pct"][i], 2)
        assert close(limit["critical_value"], ref["overall"]["z"][i], 12)


def test_appraise_variable_challenge_sizes_file_and_rule_t() -> None:
    # The OIG challenge sizes file names its columns universe_size and sample_size.
    doc = invoke_json(
        "appraise", "variable", str(CHALLENGE / "oig_challenge_sva_example1_difference_values.csv"),
        "--stratum-column", "stratum",
        "--strata", str(CHALLENGE / "oig_challenge_sva_example1_sizes.csv"), "--rule", "t",
    )  # fmt: skip
    assert doc["critical_value_rule"] == "t"
    assert [s["sample"] for s in doc["strata"]] == [10, 100, 2, 887]
    assert doc["strata"][1]["difference"]["notes"] == ["census"]
    assert doc["overall"]["difference"]["degrees_of_freedom"] == 9 + 99 + 1 + 886


def test_appraise_variable_human_output_stratified(tmp_path: Path) -> None:
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("stratum;population\n1;5200\n2;3500\n")  # semicolon-delimited
    result = invoke("appraise", "variable", str(DATASTRAT), "--stratum-column", "stratum",
                    "--strata", str(sizes))  # fmt: skip
    assert "1,605,948" in result.stdout and "1.281551565545" in result.stdout
    assert "STRATUM 1" in result.stdout and "OVERALL" in result.stdout


# --- size variable / size attribute ----------------------------------------------------------


def test_size_variable_probe_reference() -> None:
    ref = REF["sample_size_variable_unrestricted_probe"]
    doc = invoke_json("size", "variable", "--probe", str(PROBE), "--population", "100000")
    for p, row in zip(ref["rows_precision_pct"], ref["table"], strict=True):
        for c, n in zip(ref["cols_confidence"], row, strict=True):
            assert doc["table"][str(p)][str(c)] == n
    entered = invoke_json(
        "size", "variable", "--mean", "400", "--sd", "50", "--population", "100000"
    )
    assert entered["table"] == doc["table"]


def test_size_variable_error_rate_mode() -> None:
    doc = invoke_json("size", "variable", "--error-rate", "0.25", "--universe-total", "1600",
                      "--sd", "100", "--population", "8")  # fmt: skip
    assert doc["source"] == "error_rate"
    assert doc["mean"] == pytest.approx(50.0) and doc["sd"] == pytest.approx(100.0)


def test_size_variable_stratified_known_total_reference(tmp_path: Path) -> None:
    ref = REF["sample_size_variable_stratified_known_total"]
    path = tmp_path / "strata.csv"
    path.write_text("stratum,population,mean,sd\n1,100000,10000,5000\n2,500000,5000,4000\n")
    doc = invoke_json("size", "variable", "--strata", str(path), "--total-sample", "500")
    assert list(doc["allocation"].values()) == ref["allocation"]
    for level, printed in zip(("80", "90", "95", "99"), ref["precision_pct"], strict=True):
        assert close(doc["precision_percent"][level], printed, 2)
    table = invoke_json("size", "variable", "--strata", str(path))
    cell = table["table"]["5"]["90"]
    assert cell["total"] == sum(cell["strata"].values())


def test_size_attribute_within_documented_tolerance() -> None:
    ref = REF["sample_size_attribute"]
    doc = invoke_json("size", "attribute", "--population", "10000", "--rate", "0.2",
                      "--precision-range", "6")  # fmt: skip
    for level, printed in zip(("80", "90", "95", "99"), ref["p20"], strict=True):
        assert 0 <= printed - doc["sample_sizes"][level] <= 6


def test_size_variable_human_table() -> None:
    result = invoke("size", "variable", "--probe", str(PROBE), "--population", "100000")
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[4:]}
    assert rows["25%"] == ["---", "1", "1", "2"]
    assert rows["1%"] == ["256", "421", "597", "1,026"]


# --- errors and exit codes -------------------------------------------------------------------


def test_bad_cell_names_file_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sample.csv"
    path.write_text("item,examined,audited\n1,100,90\n2,abc,50\n3,80,\n")
    code, out, err = run_main(
        ["appraise", "variable", str(path), "--population", "100", "--json"], capsys
    )
    assert code == 1 and "Traceback" not in err
    payload = json.loads(out)
    assert payload["error"] == "InputError"
    wheres = [p["where"] for p in payload["problems"]]
    assert wheres == ["sample.csv row 3, column 'examined'", "sample.csv row 4, column 'audited'"]
    assert "abc" not in out  # cell contents are never echoed


def test_missing_file_and_missing_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(
        ["appraise", "variable", str(tmp_path / "none.csv"), "--population", "5"], capsys
    )
    assert code == 1 and "expected an existing CSV or XLSX file" in err
    path = tmp_path / "s.csv"
    path.write_text("a,b\n1,2\n")
    code, _, err = run_main(
        ["appraise", "variable", str(path), "--population", "5", "--difference", "diff"], capsys
    )
    assert code == 1 and "s.csv column 'diff'" in err


def test_statistics_error_exit_1_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(
        ["appraise", "attribute", "--population", "100", "--sample", "200", "--errors", "300",
         "--json"],
        capsys,
    )  # fmt: skip
    assert code == 1
    payload = json.loads(out)
    assert payload["error"] == "StatisticsError"
    assert [p["where"] for p in payload["problems"]] == ["sample"]
    assert "Error: Cannot appraise this attribute sample." in err


def test_strata_file_mismatch_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("stratum,population,sample_size\n1,5200,24\n3,100,\n")
    code, out, _ = run_main(
        ["appraise", "variable", str(DATASTRAT), "--stratum-column", "stratum", "--strata",
         str(sizes), "--json"],
        capsys,
    )  # fmt: skip
    assert code == 1
    problems = json.loads(out)["problems"]
    assert [p["where"] for p in problems] == [
        "sizes.csv row 2, column 'sample_size'",
        "sizes.csv stratum '3'",
        "sizes.csv",
    ]
    assert "stratum '2'" in problems[2]["expected"]


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["appraise", "variable", str(DATASRS)], capsys)
    assert code == 2 and "--population" in err
    code, _, err = run_main(
        ["appraise", "variable", str(DATASRS), "--population", "5", "--rule", "t"], capsys
    )
    assert code == 2 and "--rule applies to stratified" in err
    code, _, err = run_main(["appraise", "attribute", "--population", "10"], capsys)
    assert code == 2 and "--sample, --errors" in err
    code, _, err = run_main(["size", "variable", "--mean", "4", "--probe", str(PROBE)], capsys)
    assert code == 2 and "exactly one of" in err
    code, _, err = run_main(
        ["random-numbers", "--seed", "abc", "--high", "9", "--count", "1"], capsys
    )
    assert code == 2 and "not a number" in err


def test_seed_out_of_range_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(
        ["random-numbers", "--seed", "0", "--high", "9", "--count", "1"], capsys
    )
    assert code == 1 and "Seed out of range" in err


def test_option_choices_match_the_library_enums() -> None:
    # The choices are written out so that the CLI starts without importing the library.
    from audit_kit.cli.stats_commands import CRITICAL_VALUE_RULES, GENERATORS
    from audit_kit.stats import CriticalValueRule
    from audit_kit.stats.rng import GeneratorName

    assert set(GENERATORS) == {g.value for g in GeneratorName}
    assert set(CRITICAL_VALUE_RULES) == {r.value for r in CriticalValueRule}
