"""`audit-kit init`: propose the column mapping of a foreign export and write a commented plan."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from audit_kit.cli import main
from audit_kit.demo.example_data import generate_universe
from audit_kit.plan import parse_plan_text
from audit_kit.plan.mapping import guess_mapping, plan_text
from audit_kit.plan.presets import list_presets

FOREIGN = {
    "unit_id": "Acct #",
    "coder": "Coder Name",
    "service_date": "Svc Dt",
    "patient": "Patient Name",
    "paid": "Total Paid",
    "setting": "Pt Type",
    "provider": "Attending",
}
DX = [f"DX{i}" for i in range(1, 13)]
CPT = [f"CPT{i}" for i in range(1, 5)]


def foreign_export(rows: int = 1500, seed: int = 3) -> pl.DataFrame:
    """The example universe under the column names of another system, codes in repeated columns."""
    u = generate_universe(rows, seed)
    dx = u["dx_codes"].str.split(";")
    cpt = u["cpt_codes"].fill_null("").str.split(";")
    cols: dict[str, pl.Series] = {
        "Acct #": u["encounter_id"],
        "Patient Name": u["patient_name"],
        "MRN": u["mrn"],
        "Coder Name": u["coder_id"],
        "Svc Dt": u["service_date"],
        "Pt Type": u["setting"],
        "Attending": u["provider_id"],
        "Facility Notes": pl.Series(["see chart"] * rows),
    }
    for i, name in enumerate(DX):
        cols[name] = dx.list.get(i, null_on_oob=True)
    for i, name in enumerate(CPT):
        cols[name] = cpt.list.get(i, null_on_oob=True).replace("", None)
    cols["Total Paid"] = u["paid_amount"]
    return pl.DataFrame(cols)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    code = info.value.code
    return int(code) if isinstance(code, int) else 1, out, err


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("init").resolve() / "export.csv"
    foreign_export().write_csv(path)
    return path


def test_foreign_export_is_mapped_marked_and_samples_unchanged(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_path = tmp_path / "plan.yaml"
    code, out, err = run(["init", "--universe", str(export), "--out", str(plan_path)], capsys)
    assert code == 0, err
    text = plan_path.read_text("utf-8")
    plan = parse_plan_text(text)
    cols = plan.columns
    for field, column in FOREIGN.items():
        assert getattr(cols, field) == column, field
    assert cols.dx == DX
    assert cols.cpt == CPT
    assert cols.phi == ["MRN"]
    assert "MRN" in cols.keep
    # PHI never reaches a workbook
    assert "patient" not in plan.workbook.columns
    assert not {"MRN", "Patient Name"} & set(plan.workbook.columns)
    # every guess says where it came from
    mapped_lines = [
        line
        for line in text.splitlines()
        if line.startswith("  ")
        and not line.lstrip().startswith(("#", "-"))
        and line.split(":")[0].strip() in {*FOREIGN, "dx", "cpt", "phi"}
    ]
    assert len(mapped_lines) == 10
    assert all("# " in line and "review: guessed from" in line for line in mapped_lines)
    assert "not mapped: Facility Notes" in text
    # what it printed
    assert "Patient Name, MRN" in out
    assert "Not mapped: Facility Notes" in out
    assert f"audit-kit sample --plan {plan_path} --universe {export}" in out
    # the proposed plan samples as it is
    audit = tmp_path / "audit"
    code, out, err = run(
        ["sample", "--plan", str(plan_path), "--universe", str(export), "--out", str(audit)],
        capsys,
    )
    assert code == 0, err
    sample = pl.read_csv(audit / "sample.csv", infer_schema=False)
    assert sample.height == 12 * 30
    assert set(sample["Coder Name"].unique()) == {f"C{i:02d}" for i in range(1, 13)}


def test_an_existing_plan_is_not_overwritten_without_force(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_path = tmp_path / "plan.yaml"
    plan_path.write_text("# my own plan\n", "utf-8")
    code, out, err = run(["init", "--universe", str(export), "--out", str(plan_path)], capsys)
    assert code == 1
    assert "Refusing to overwrite an existing plan." in err
    assert "pass --force" in err
    assert plan_path.read_text("utf-8") == "# my own plan\n"
    code, out, err = run(
        ["init", "--universe", str(export), "--out", str(plan_path), "--force"], capsys
    )
    assert code == 0, err
    assert "unit_id: 'Acct #'" in plan_path.read_text("utf-8")


def test_a_plan_that_cannot_validate_yet_is_written_and_the_problems_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "no_coder.csv"
    foreign_export(300).drop("Coder Name").write_csv(export)
    plan_path = tmp_path / "plan.yaml"
    code, out, err = run(
        [
            "init",
            "--universe",
            str(export),
            "--out",
            str(plan_path),
            "--preset",
            "quarterly-coder-review",
        ],
        capsys,
    )
    assert code == 0, err
    assert plan_path.is_file()
    assert "Could not find: coder (map them by hand)" in out
    assert "The plan does not validate yet (1 problem(s)):" in out
    assert "design.strata.by[0]" in out
    assert f"edit {plan_path} (see the problems above), then: audit-kit sample" in out


def test_json_output_is_one_document(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        ["init", "--universe", str(export), "--out", str(tmp_path / "p.yaml"), "--json"], capsys
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["valid"] is True
    assert payload["mapping"]["fields"]["unit_id"]["columns"] == ["Acct #"]
    assert payload["mapping"]["phi"][0]["columns"] == ["MRN"]
    assert payload["mapping"]["unmapped"] == ["Facility Notes"]
    assert payload["next_command"].startswith("audit-kit sample --plan")


def test_a_latin1_export_is_read_as_latin1_and_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As `sample` does: a Windows export (Latin-1) is read, not refused, and the note says how."""
    frame = foreign_export(300).with_columns(
        pl.when(pl.int_range(pl.len()) == 4)
        .then(pl.col("Patient Name") + " Renée")
        .otherwise(pl.col("Patient Name"))
        .alias("Patient Name")
    )
    export = tmp_path / "export.csv"
    export.write_bytes(frame.write_csv().encode("latin-1"))
    code, out, err = run(
        ["init", "--universe", str(export), "--out", str(tmp_path / "p.yaml"), "--json"], capsys
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["mapping"]["fields"]["unit_id"]["columns"] == ["Acct #"]
    assert any("read as Latin-1" in note for note in payload["notes"])
    code, out, err = run(
        ["init", "--universe", str(export), "--out", str(tmp_path / "q.yaml")], capsys
    )
    assert code == 0, err
    assert "Note: The file is not UTF-8 (first at line 6); it was read as Latin-1." in out


def test_unknown_preset_lists_the_presets(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        [
            "init",
            "--universe",
            str(export),
            "--out",
            str(tmp_path / "p.yaml"),
            "--preset",
            "no-such-preset",
        ],
        capsys,
    )
    assert code == 1
    assert "No such preset." in err
    assert "audit-kit plans" in err
    assert not (tmp_path / "p.yaml").exists()


def test_a_preset_keeps_its_design_and_comments_and_gets_the_mapping(
    export: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    preset = tmp_path / "probe.yaml"
    preset.write_text(
        "# CMS-style probe: 30 paid claims, not extrapolated.\n"
        "name: Probe review\n"
        "preset: probe\n"
        "columns:\n"
        "  unit_id: claim_id          # placeholder\n"
        "\n"
        "# the frame\n"
        "frame:\n"
        "  filters:\n"
        "    - {column: paid, op: '>', value: 0}\n"
        "design:\n"
        "  method: simple\n"
        "size:\n"
        "  n: 30\n"
        "workbook:\n"
        "  columns: [unit_id, dx, cpt]\n"
        "  contact: compliance@example.org\n"
        "financial:\n"
        "  extrapolate: false\n",
        "utf-8",
    )
    monkeypatch.setattr(
        "audit_kit.plan.mapping.plan_writer.list_presets", lambda: {"probe": preset}
    )
    plan_path = tmp_path / "plan.yaml"
    code, out, err = run(
        ["init", "--universe", str(export), "--out", str(plan_path), "--preset", "probe"], capsys
    )
    assert code == 0, err
    text = plan_path.read_text("utf-8")
    assert "# CMS-style probe: 30 paid claims, not extrapolated." in text
    assert "# the frame" in text
    assert "claim_id" not in text
    plan = parse_plan_text(text)
    assert plan.size.n == 30
    assert plan.columns.unit_id == "Acct #"
    assert plan.workbook.contact == "compliance@example.org"
    assert plan.financial.extrapolate is False
    assert "from the preset 'probe'" in out


def test_every_shipped_preset_gives_a_valid_plan_for_the_export(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    presets = list_presets()
    assert "quarterly-coder-review" in presets
    for name, path in presets.items():
        out = tmp_path / f"{name}.yaml"
        code, _, err = run(
            ["init", "--universe", str(export), "--out", str(out), "--preset", name, "--json"],
            capsys,
        )
        assert code == 0, (name, err)
        text = out.read_text("utf-8")
        plan = parse_plan_text(text, source=name)
        original = parse_plan_text(path.read_text("utf-8"), source=name)
        assert plan.columns.unit_id == "Acct #", name
        assert plan.design == original.design, name
        assert plan.size == original.size, name
        assert "COLUMNS ARE PLACEHOLDERS" not in text, name
        assert set(plan.workbook.columns) <= set(original.workbook.columns), name
        assert "patient" not in plan.workbook.columns, name


def test_values_decide_when_headers_say_nothing() -> None:
    u = generate_universe(400, 8)
    frame = pl.DataFrame(
        {
            "col_a": u["encounter_id"],
            "col_b": u["dx_codes"],
            "col_c": u["cpt_codes"],
            "col_d": u["px_codes"],
            "col_e": u["paid_amount"].cast(pl.String),
            "col_f": u["service_date"],
            "col_g": u["sex"],
            "col_h": [f"{100 + i % 900:03d}-{10 + i % 90:02d}-{1000 + i:04d}" for i in range(400)],
        }
    ).select(pl.all().cast(pl.String))
    proposal = guess_mapping(frame)
    mapped = proposal.mapped_columns()
    assert mapped["dx"] == ["col_b"]
    assert mapped["cpt"] == ["col_c"]
    assert mapped["px"] == ["col_d"]
    assert mapped["paid"] == ["col_e"]
    assert mapped["service_date"] == ["col_f"]
    assert mapped["sex"] == ["col_g"]
    assert mapped["unit_id"] == ["col_a"]
    assert all(g.source == "values" for g in proposal.fields.values())
    # an SSN-shaped column is PHI the audit does not need: left out, said so
    assert [g.columns for g in proposal.phi_not_kept] == [("col_h",)]
    text = plan_text(proposal)
    assert "col_h" not in yaml.safe_load(text)["columns"].values()
    assert "not kept (PHI the audit does not need, minimum necessary): col_h" in text


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Claim ID", "unit_id"),
        ("Encounter", "unit_id"),
        ("Account Number", "unit_id"),
        ("Coded By", "coder"),
        ("Rendering NPI", "provider"),
        ("DOS", "service_date"),
        ("Financial Class", "payer"),
        ("Patient Type", "setting"),
        ("MS-DRG", "drg"),
        ("Total Charges", "billed"),
        ("Paid Amt", "paid"),
        ("Discharge Disposition", "discharge_status"),
        ("Gender", "sex"),
    ],
)
def test_header_synonyms(header: str, field: str) -> None:
    frame = pl.DataFrame({header: ["x1", "x2", "x3"], "Other": ["a", "b", "c"]})
    proposal = guess_mapping(frame)
    assert proposal.mapped_columns().get(field) == [header]


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("MRN", True),
        ("DOB", True),
        ("Date of Birth", True),
        ("SSN", False),
        ("Address 1", False),
        ("Phone", False),
        ("Email", False),
    ],
)
def test_phi_headers_are_never_mapped_as_data(header: str, kept: bool) -> None:
    frame = pl.DataFrame({"Encounter": ["1", "2"], header: ["a", "b"]})
    proposal = guess_mapping(frame)
    group = proposal.phi if kept else proposal.phi_not_kept
    assert [g.columns for g in group] == [(header,)]
    assert header not in {c for g in proposal.fields.values() for c in g.columns}


def test_principal_dx_column_goes_first_and_modifier_columns_are_noted() -> None:
    frame = pl.DataFrame(
        {
            "Encounter": ["E1", "E2"],
            "Principal Dx": ["I50.23", "J18.9"],
            "Dx 2": ["I10", "E11.9"],
            "Dx 3": ["E78.5", None],
            "Mod1": ["25", None],
            "Mod2": [None, None],
        }
    )
    proposal = guess_mapping(frame)
    assert proposal.mapped_columns()["dx"] == ["Principal Dx", "Dx 2", "Dx 3"]
    assert any("modifier" in note for note in proposal.notes)
    assert set(proposal.unmapped) == {"Mod1", "Mod2"}


def test_a_unit_id_that_repeats_is_flagged() -> None:
    frame = pl.DataFrame({"Claim ID": ["A", "A", "B"], "Total Paid": ["1.00", "2.00", "3.00"]})
    proposal = guess_mapping(frame)
    notes = proposal.fields["unit_id"].notes
    assert notes and "not unique" in notes[0]


def test_rows_option_default_is_the_library_default() -> None:
    # Written out in the CLI so that `--help` imports no library module.
    from audit_kit.cli.setup_commands import INIT_DEFAULT_ROWS
    from audit_kit.plan.mapping import DEFAULT_SAMPLE_ROWS

    assert INIT_DEFAULT_ROWS == DEFAULT_SAMPLE_ROWS


def test_the_field_lists_come_from_the_plan() -> None:
    from audit_kit.plan import CODE_FIELDS, FIELDS
    from audit_kit.plan.mapping import headers, plan_writer, proposal

    assert tuple(headers.HEADERS) == FIELDS
    assert set(headers._SYNONYMS) == set(FIELDS)
    assert set(proposal._IMPORTANT) <= set(FIELDS)
    assert set(plan_writer._WORKBOOK_FIELDS) <= set(FIELDS)
    assert set(headers.REPEAT_PREFIX.values()) <= {*CODE_FIELDS, "modifier", "poa"}
