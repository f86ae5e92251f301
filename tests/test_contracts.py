"""The typed contracts between stages: results.json and sampling.json.

Scoring builds :class:`Results`; reporting, results.xlsx and the CLI read it back through the
same model. These tests hold the promises: a file round-trips byte for byte, unknown or
missing keys are refused with one problem each, and the JSON Schemas in docs/schema/ are the
ones the models generate.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from report_helpers import make_audit

from audit_kit.errors import InputError
from audit_kit.folder.manifest import AuditFolder
from audit_kit.folder.results import Results, read_results
from audit_kit.folder.sampling_record import SamplingRecord

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, _ = make_audit(tmp_path_factory.mktemp("contract") / "audit", coders=2)
    return path


def _dump(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()


def test_results_json_round_trips_byte_for_byte(audit: Path) -> None:
    raw = (audit / "results.json").read_bytes()
    assert _dump(read_results(raw).to_json_dict()) == raw


def test_sampling_json_round_trips_byte_for_byte(audit: Path) -> None:
    raw = (audit / "sampling.json").read_bytes()
    assert _dump(SamplingRecord.model_validate_json(raw).to_json_dict()) == raw


def test_typed_readers_return_the_models(audit: Path) -> None:
    folder = AuditFolder.open(audit)
    results = folder.read_results()
    assert isinstance(results, Results)
    assert results.overall.units_reviewed == sum(c.units_reviewed for c in results.coders)
    assert folder.read_sampling().strata[0].stratum == results.strata[0].stratum
    assert folder.read_plan().name == results.audit.name
    assert folder.read_sample().height == results.progress.units_sampled


def test_unknown_and_missing_keys_are_each_one_problem(audit: Path) -> None:
    doc = json.loads((audit / "results.json").read_bytes())
    first = doc["coders"][0]["coder"]
    doc["coders"][0]["verdikt"] = "meets"
    del doc["overall"]["verdict"]
    doc["overall"]["code_accuracy"]["lower"] = "high"
    with pytest.raises(InputError) as info:
        read_results(json.dumps(doc))
    problems = {p.where: p for p in info.value.problems}
    assert set(problems) == {
        f"results.json: coders[0] ({first}).verdikt",
        "results.json: overall.verdict",
        "results.json: overall.code_accuracy.lower",
    }
    assert problems[f"results.json: coders[0] ({first}).verdikt"].expected == "no such key"
    assert problems["results.json: overall.verdict"].found == "nothing"
    assert problems["results.json: overall.code_accuracy.lower"].found == "'high'"
    assert all("audit-kit score" in p.fix for p in info.value.problems)


def test_results_are_frozen(audit: Path) -> None:
    results = AuditFolder.open(audit).read_results()
    with pytest.raises(ValueError, match="frozen"):
        results.overall.verdict = "meets"  # type: ignore[misc]


def test_json_schemas_are_current() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_schemas.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_schema_refuses_unknown_keys() -> None:
    schema = json.loads((ROOT / "docs" / "schema" / "results.schema.json").read_text())
    assert schema["additionalProperties"] is False
    assert all(d.get("additionalProperties") is False for d in schema["$defs"].values())
