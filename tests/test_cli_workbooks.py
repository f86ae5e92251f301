"""CLI: `workbooks` and `collect` (help, text and JSON output, exit codes, password files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from wb_helpers import REVIEWED, fill, fill_all, make_audit

from audit_kit.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.parametrize("command", ["workbooks", "collect"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([command, "--help"], capsys)
    assert code == 0
    assert "--password-file" in out
    assert "--json" in out
    assert "--password " not in out  # never a password argument


def test_workbooks_then_collect_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audit = make_audit(tmp_path)
    code, out, err = run(["workbooks", str(audit), "--auditors", "ann,bob"], capsys)
    assert code == 0, err
    assert f"wrote {audit / 'workbooks' / 'W1-ann.xlsx'}" in out
    assert "audit-kit collect" in out
    ann = fill_all(audit / "workbooks" / "W1-ann.xlsx", tmp_path / "back" / "ann.xlsx")
    code, out, err = run(["collect", str(audit), str(tmp_path / "back")], capsys)
    assert code == 0, err
    assert f"accepted          {ann}  (W1-ann, 3 unit(s) with a status)" in out
    assert "  ann: 3 of 3 reviewed" in out
    assert "  bob: 0 of 2 reviewed" in out
    assert "Next: 2 unit(s) still to review" in out
    code, out, _ = run(["collect", str(audit), str(ann)], capsys)
    assert code == 0
    assert out.startswith(f"already collected {ann}")


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audit = make_audit(tmp_path)
    code, out, _ = run(["workbooks", str(audit), "--json"], capsys)
    assert code == 0
    payload = json.loads(out)
    assert payload == {"workbooks": [str(audit / "workbooks" / "W1-all.xlsx")], "encrypted": False}
    back = fill_all(audit / "workbooks" / "W1-all.xlsx", tmp_path / "all.xlsx", auditor="ann")
    code, out, _ = run(["collect", str(audit), str(back), "--json"], capsys)
    assert code == 0
    payload = json.loads(out)
    assert payload["files"][0]["status"] == "accepted"
    assert payload["progress"] == [
        {
            "auditor": "all auditors",
            "assigned": 5,
            "reviewed": 5,
            "record_missing": 0,
            "not_reviewed": 0,
            "pending": 0,
        }
    ]
    assert payload["next_step"].startswith("every unit has a status")


def test_rejection_exits_1_naming_the_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = make_audit(tmp_path)
    run(["workbooks", str(audit)], capsys)
    bad = fill(
        audit / "workbooks" / "W1-all.xlsx",
        tmp_path / "bad.xlsx",
        {"E0001": {**REVIEWED, "Auditor": "ann", "Error category": "oops"}},
    )
    code, out, err = run(["collect", str(audit), str(bad), "--json"], capsys)
    assert code == 1
    assert "Traceback" not in err
    assert f"{bad}, Sample!R2 (unit E0001): expected empty or one of coding" in err
    payload = json.loads(out)
    assert payload["error"] == "WorkbookError"
    assert payload["problems"][0]["where"] == f"{bad}, Sample!R2 (unit E0001)"
    assert payload["problems"][0]["found"] == "'oops'"


def test_password_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audit = make_audit(tmp_path)
    secret = tmp_path / "pw.txt"
    secret.write_text("open sesame\n")
    code, out, _ = run(["workbooks", str(audit), "--password-file", str(secret), "--json"], capsys)
    assert code == 0
    assert json.loads(out)["encrypted"] is True
    book = audit / "workbooks" / "W1-all.xlsx"
    assert book.read_bytes()[:4] == bytes.fromhex("d0cf11e0")
    # Collecting the issued (encrypted, still empty) workbook: wrong password is exit 1.
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("nope\n")
    code, _, err = run(["collect", str(audit), str(book), "--password-file", str(wrong)], capsys)
    assert code == 1
    assert "a password that does not open this workbook" in err
    assert "nope" not in err and "open sesame" not in err
    code, out, _ = run(["collect", str(audit), str(book), "--password-file", str(secret)], capsys)
    assert code == 0
    assert "nothing to collect" in out


def test_empty_password_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audit = make_audit(tmp_path)
    empty = tmp_path / "pw.txt"
    empty.write_text("\n")
    code, _, err = run(["workbooks", str(audit), "--password-file", str(empty)], capsys)
    assert code == 1
    assert "The password file is empty." in err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audit = make_audit(tmp_path)
    code, _, err = run(["collect", str(audit)], capsys)
    assert code == 2
    assert "Missing argument" in err
    code, _, err = run(["workbooks", str(audit), "--by", "coin_flip"], capsys)
    assert code == 2
    code, _, err = run(["workbooks", str(audit), "--password", "x"], capsys)
    assert code == 2
    assert "No such option" in err


def test_by_stratum_without_auditors_is_an_audit_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = make_audit(tmp_path)
    code, _, err = run(["workbooks", str(audit), "--by", "stratum"], capsys)
    assert code == 1
    assert "Assigning by stratum needs auditors." in err
