"""CLI: `sample`, `plans`, `verify` -- help, happy paths, exact errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import plan_dict, universe_rows, write_csv

from audit_kit.cli import cli, main


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    universe = write_csv(tmp_path / "universe.csv", universe_rows(120, coders=3))
    plan = tmp_path / "plan.yaml"
    data = plan_dict(
        design={"method": "stratified", "strata": {"by": ["coder"]}},
        size={"per_stratum": 5},
        rng={"generator": "ratstats"},
    )
    plan.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return plan, universe


def exit_code(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.parametrize("command", ["sample", "plans", "verify"])
def test_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "Example:" in result.output and "Options:" in result.output


def test_sample_prints_a_summary(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    plan, universe = inputs
    out = tmp_path / "audit"
    result = CliRunner().invoke(
        cli,
        ["sample", "--plan", str(plan), "--universe", str(universe), "--out", str(out), "--seed",
         "48863.78", "--quiet"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == "Sampled 15 units (+0 spares) from a frame of N = 120 (120 rows in universe.csv)."
    )
    assert "  3 strata (N_h -> n_h):" in lines
    assert "Generator ratstats, seed 48863.78." in lines
    assert lines[-1] == f"Next: audit-kit workbooks {out}"
    assert (out / "sample.csv").is_file()


def test_sample_json_and_progress(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, universe = inputs
    code, out, err = exit_code(
        ["sample", "--plan", str(plan), "--universe", str(universe), "--out",
         str(tmp_path / "a"), "--json"],
        capsys,
    )  # fmt: skip
    assert code == 0
    payload = json.loads(out)
    assert payload["sample_size"] == 15 and payload["seed_generated"] is True
    assert payload["next"] == f"audit-kit workbooks {tmp_path / 'a'}"
    code, _, err = exit_code(
        ["sample", "--plan", str(plan), "--universe", str(universe), "--out", str(tmp_path / "b")],
        capsys,
    )
    assert code == 0 and "... Reading universe.csv" in err


def test_bad_plan_exits_1_with_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    universe = write_csv(tmp_path / "u.csv", universe_rows(20))
    data = plan_dict(spares=2, spares_allowed=False)
    data["columns"]["codr"] = "coder_id"
    plan = tmp_path / "bad.yaml"
    plan.write_text(yaml.safe_dump(data), "utf-8")
    code, out, err = exit_code(
        ["sample", "--plan", str(plan), "--universe", str(universe), "--out", str(tmp_path / "a")],
        capsys,
    )
    assert code == 1
    assert err.splitlines()[0] == "Error: The sampling plan has 1 problem(s)."
    assert f"{plan}: columns.codr: expected a known key; found unknown key 'codr'." in err
    assert "Traceback" not in err
    assert not (tmp_path / "a").exists()
    del data["columns"]["codr"]
    data["size"] = {"n": 0}
    plan.write_text(yaml.safe_dump(data), "utf-8")
    code, out, err = exit_code(
        ["sample", "--plan", str(plan), "--universe", str(universe), "--out", str(tmp_path / "a"),
         "--json"],
        capsys,
    )  # fmt: skip
    assert code == 1
    payload = json.loads(out)
    assert payload["error"] == "PlanError"
    assert [p["where"] for p in payload["problems"]] == [f"{plan}: size.n"]


def test_two_mistakes_are_both_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    universe = write_csv(tmp_path / "u.csv", universe_rows(20))
    data = plan_dict(rng={"generator": "lcg"})
    data["frame"] = {"filters": [{"column": "paid", "op": "~", "value": 1}]}
    plan = tmp_path / "bad.yaml"
    plan.write_text(yaml.safe_dump(data), "utf-8")
    code, _, err = exit_code(
        ["sample", "--plan", str(plan), "--universe", str(universe), "--out", str(tmp_path / "a")],
        capsys,
    )
    assert code == 1
    assert "The sampling plan has 2 problem(s)." in err
    assert f"{plan}: frame.filters[0].op: expected " in err
    assert f"{plan}: rng.generator: expected 'pcg64' or 'ratstats'" in err


def test_bad_universe_exits_1(
    tmp_path: Path, inputs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    plan, _ = inputs
    code, _, err = exit_code(
        ["sample", "--plan", str(plan), "--universe", str(tmp_path / "missing.csv"), "--out",
         str(tmp_path / "a")],
        capsys,
    )  # fmt: skip
    assert code == 1
    assert err == (
        "Error: Cannot read the universe file.\n"
        f"  - {tmp_path / 'missing.csv'}: expected a CSV, Parquet or XLSX file; found no such file."
        " Fix: check the --universe path.\n"
    )


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = exit_code(["sample", "--universe", "u.csv", "--out", str(tmp_path)], capsys)
    assert code == 2 and "Missing option '--plan'" in err
    code, _, err = exit_code(
        ["sample", "--plan", "p", "--universe", "u", "--out", "o", "--seed", "abc"], capsys
    )
    assert code == 2 and "'abc' is not a number" in err


def test_plans_lists_and_shows_presets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = exit_code(["plans"], capsys)
    assert code == 0
    assert any(line.startswith("cia-discovery ") for line in out.splitlines())
    code, out, _ = exit_code(["plans", "--show", "cms-probe"], capsys)
    assert code == 0 and out.startswith("# CMS-style probe review")
    code, out, _ = exit_code(["plans", "--json"], capsys)
    names = [p["name"] for p in json.loads(out)["presets"]]
    assert "oig-self-disclosure" in names and len(names) == 10
    code, _, err = exit_code(["plans", "--show", "nope"], capsys)
    assert code == 1 and "Error: No such preset." in err


def test_preset_name_as_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = universe_rows(80)
    for row in rows:
        row["setting"] = "professional"
    universe = write_csv(tmp_path / "u.csv", rows)
    # The preset's placeholder columns are not in this file: every missing one is named.
    code, _, err = exit_code(
        [
            "sample",
            "--plan",
            "cms-probe",
            "--universe",
            str(universe),
            "--out",
            str(tmp_path / "a"),
        ],
        capsys,
    )
    assert code == 1
    assert f"{universe}: column 'px_codes' (plan columns.px)" in err
    assert "(a preset's column names are placeholders to replace)" in err


def test_verify_command(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, universe = inputs
    out = tmp_path / "audit"
    assert exit_code(
        ["sample", "--plan", str(plan), "--universe", str(universe), "--out", str(out), "-q"],
        capsys,
    )[0] == 0  # fmt: skip
    code, stdout, _ = exit_code(["verify", str(out), "--universe", str(universe), "-q"], capsys)
    assert code == 0
    assert "identical to sample.csv (15 rows, 3 strata)" in stdout
    code, stdout, _ = exit_code(["verify", str(out), "--json"], capsys)
    assert code == 0 and json.loads(stdout)["hashes_ok"] is True
    (out / "sample.csv").write_text("edited\n")
    code, stdout, err = exit_code(["verify", str(out), "--json"], capsys)
    assert code == 1
    assert json.loads(stdout)["problems"][0]["where"] == str(out / "sample.csv")
    assert "Error: The audit folder fails verification (1 problem(s): sample.csv)." in err


def test_exit_codes_through_python_m(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    plan, universe = inputs

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "audit_kit", *args], capture_output=True, text=True, check=False
        )

    ok = run("sample", "--plan", str(plan), "--universe", str(universe), "--out",
             str(tmp_path / "a"), "--quiet")  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    again = run("sample", "--plan", str(plan), "--universe", str(universe), "--out",
                str(tmp_path / "a"))  # fmt: skip
    assert again.returncode == 1 and "Refusing to write into a non-empty folder." in again.stderr
    assert run("verify", str(tmp_path / "a")).returncode == 0
    assert run("verify").returncode == 2
