"""Hostile and malformed inputs through the command line, across stages (issue 8).

The readers themselves are tested (and fuzzed) in test_universe.py and test_collect_safety.py.
Here each hostile file goes through a real ``python -m audit_kit`` process, as a user would hit
it, and the contract of docs/security.md is checked end to end: exit code 1, a message naming the
file, no traceback, no row contents (patient names) in the message, and nothing written: a
refused universe creates no audit folder, a refused return leaves the audit folder exactly as it
was. Every hostile file is generated here; nothing binary is committed.
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import polars as pl
import pytest
from crash_helpers import (
    Zygote,
    copy_audit,
    demo_plan_text,
    encrypt_xlsx_bytes,
    fill_by_header,
    run_cli,
    run_main,
)

from audit_kit import sampling, workbook
from audit_kit.demo.example_data import generate_universe
from audit_kit.folder.manifest import AuditFolder

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 2 else b"&lol;") * 10)
        for i in range(2, 10)
    )
    + b"]>\n"
)


class Outcome(Protocol):
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    proc = Zygote(tmp_path_factory.mktemp("zygote"))
    yield proc
    proc.close()


def _run_all(zygote: Zygote, calls: list[list[Any]], *, real: int) -> list[Outcome]:
    """Run the CLI calls: call ``real`` in a fresh ``python -m audit_kit`` process, the others
    in children forked from the zygote (the same ``__main__`` path, without the start-up cost);
    the fresh process runs while the zygote works through the others."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        fresh = pool.submit(run_cli, calls[real])
        forked = {i: zygote.run(call) for i, call in enumerate(calls) if i != real}
        return [fresh.result() if i == real else forked[i] for i in range(len(calls))]


def _assert_refused(result: Outcome, *names: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert re.search(r"^Error: ", result.stderr, re.MULTILINE)  # after any progress lines
    for name in names:
        assert name in result.stderr
    assert "Traceback" not in result.stderr and "Internal error" not in result.stderr
    for text in (result.stdout, result.stderr):
        assert "Testpatient" not in text and "FAKE-" not in text


def _rezip(
    data: bytes,
    replace: Mapping[str, bytes] | None = None,
    extra: Mapping[str, bytes] | None = None,
) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = (replace or {}).get(info.filename) or src.read(info.filename)
            dst.writestr(info.filename, member)
        for name, member in (extra or {}).items():
            dst.writestr(name, member)
    return out.getvalue()


# -- universe files (audit-kit sample) -------------------------------------------------------


@pytest.fixture(scope="module")
def universes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("universes")
    frame = generate_universe(200, seed=31)
    plan = base / "plan.yaml"
    plan.write_text(demo_plan_text(per_stratum=2), "utf-8")
    good = base / "good.csv"
    frame.write_csv(good)
    text = good.read_text("utf-8")
    header = text.splitlines(keepends=True)[0]
    files = {"plan": plan, "good": good}

    def put(name: str, data: bytes) -> None:
        files[name] = base / name
        files[name].write_bytes(data)

    rnd = random.Random(8)
    put("binary.csv", bytes(rnd.randrange(256) for _ in range(4096)) + b"\x00" * 16)
    put("empty.csv", b"")
    put("header-only.csv", header.encode())
    # Latin-1 export: a name with an accent, past the first line
    latin = text.replace("Testpatient Alpha-", "Testpatient Jos\u00e9-")
    assert latin != text
    put("latin1.csv", latin.encode("latin-1"))
    buffer = io.BytesIO()
    pl.read_csv(good, infer_schema=False).write_parquet(buffer)
    put("parquet-renamed.csv", buffer.getvalue())
    put("parquet-truncated.csv", buffer.getvalue()[: len(buffer.getvalue()) // 2])
    # an XLSX universe with an entity bomb in its sheet
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(frame.columns)
    for row in frame.head(20).iter_rows():
        ws.append(list(row))
    plain = io.BytesIO()
    wb.save(plain)
    sheet = zipfile.ZipFile(plain).read("xl/worksheets/sheet1.xml")
    put(
        "bomb.xlsx",
        _rezip(
            plain.getvalue(),
            replace={
                "xl/worksheets/sheet1.xml": BILLION_LAUGHS
                + sheet[sheet.index(b"<worksheet") :].replace(b"<t>", b"<t>&lol9;", 1)
            },
        ),
    )
    return files


def test_hostile_universe_files(universes: dict[str, Path], tmp_path: Path, zygote: Zygote) -> None:
    refused = {
        "binary.csv": [],
        "empty.csv": ["--json"],
        "header-only.csv": [],
        "parquet-truncated.csv": [],
        "latin1.csv": ["--encoding", "utf-8"],
        "bomb.xlsx": [],
    }
    accepted = {"latin1.csv": [], "parquet-renamed.csv": [], "good": []}
    plan = universes["plan"]
    calls: list[list[Any]] = []
    for cases, prefix in ((refused, "refused"), (accepted, "ok")):
        for name, extra in cases.items():
            out = tmp_path / f"{prefix}-{name}"
            calls.append(["sample", "--plan", plan, "--universe", universes[name], "--out", out])
            calls[-1].extend(extra)
    outcomes = _run_all(zygote, calls, real=0)  # the binary file in a fresh process
    results = dict(zip([c[6].name for c in calls], outcomes, strict=True))

    for name in refused:
        result = results[f"refused-{name}"]
        _assert_refused(result, str(universes[name]))
        assert not (tmp_path / f"refused-{name}").exists()  # no audit folder was made
    payload = json.loads(results["refused-empty.csv"].stdout)  # exactly one JSON document
    assert payload["problems"][0]["where"] == str(universes["empty.csv"])
    assert "line " in results["refused-latin1.csv"].stderr  # where the bad byte is

    for name in accepted:
        assert results[f"ok-{name}"].returncode == 0, results[f"ok-{name}"].stderr
    assert "Latin-1" in results["ok-latin1.csv"].stdout + results["ok-latin1.csv"].stderr
    assert "PARQUET" in results["ok-parquet-renamed.csv"].stderr  # sniffed by content
    # the renamed Parquet file is the same table: the same sample as from the CSV
    samples = {
        name: AuditFolder.open(tmp_path / f"ok-{name}").read_csv("sample.csv", infer_schema=False)
        for name in ("good", "parquet-renamed.csv", "latin1.csv")
    }
    assert samples["parquet-renamed.csv"].equals(samples["good"])
    assert samples["latin1.csv"]["encounter_id"].equals(samples["good"]["encounter_id"])


# -- returned workbooks (audit-kit collect) --------------------------------------------------


@dataclass(frozen=True)
class Issued:
    audit: Path
    good: Path
    hostile: dict[str, Path]


@pytest.fixture(scope="module")
def issued(universes: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Issued:
    base = tmp_path_factory.mktemp("returns")
    audit = base / "audit"
    sampling.draw_sample(universes["plan"], universes["good"], audit)
    (book,) = workbook.write_workbooks(audit, auditors=["ann"])
    good = fill_by_header(book, base / "good" / "W1-ann.xlsx", auditor="ann")
    data = good.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # the entity bomb goes in a real sheet
        sheet = next(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
        xml = archive.read(sheet)
    assert b"<t>" in xml or b"<v>" in xml
    hostile = base / "hostile"
    hostile.mkdir()
    files: dict[str, bytes] = {
        # 64 MB of zeros deflate to ~64 KB: a compression-ratio bomb
        "zip-bomb.xlsx": _rezip(data, extra={"xl/media/image1.bin": b"\0" * (64 << 20)}),
        "entity-bomb.xlsx": _rezip(
            data,
            replace={
                sheet: BILLION_LAUGHS
                + xml[xml.index(b"<worksheet") :].replace(b"<t>", b"<t>&lol9;", 1)
            },
        ),
        "report.xlsx": _pdf_bytes(),
        "encrypted.xlsx": encrypt_xlsx_bytes(data, "the auditor's password"),
        "universe.xlsx": universes["good"].read_bytes(),  # patient names inside
    }
    paths = {}
    for name, payload in files.items():
        paths[name] = hostile / name
        paths[name].write_bytes(payload)
    return Issued(audit=audit, good=good, hostile=paths)


def _pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_hostile_returned_workbooks(issued: Issued, tmp_path: Path, zygote: Zygote) -> None:
    before = AuditFolder.open(issued.audit).manifest
    audits = {}
    calls = []
    for name, path in issued.hostile.items():
        audits[name] = copy_audit(issued.audit, tmp_path / name)
        calls.append(["collect", audits[name], path])
    # all of them at once, with a good return: every bad file named, nothing accepted
    mixed = tmp_path / "mixed-returns"
    mixed.mkdir()
    for path in [issued.good, *issued.hostile.values()]:
        (mixed / path.name).write_bytes(path.read_bytes())
    audits["mixed"] = copy_audit(issued.audit, tmp_path / "mixed")
    calls.append(["collect", audits["mixed"], mixed])
    outcomes = _run_all(zygote, calls, real=len(calls) - 1)  # the mixed folder: fresh process
    results = dict(zip(audits, outcomes, strict=True))

    for name, path in issued.hostile.items():
        _assert_refused(results[name], str(path))
    assert "password" in results["encrypted.xlsx"].stderr
    _assert_refused(results["mixed"], *(str(mixed / name) for name in issued.hostile))
    assert f"{len(issued.hostile)} returned file(s)" in results["mixed"].stderr
    for audit in audits.values():
        folder = AuditFolder.open(audit)
        assert folder.manifest == before  # nothing collected, no event
        assert folder.verify_hashes() == []
    # the good return was not lost: collected alone, it is accepted
    assert run_main(["collect", audits["mixed"], mixed / issued.good.name]) == 0
    assert AuditFolder.open(audits["mixed"]).has("findings.csv")
