"""Hostile returns: zip bombs, XML entity bombs, damaged files, encryption; fuzzed readers.

Every hostile file is generated here from a real workbook; nothing binary is committed.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path

import msoffcrypto
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError
from wb_helpers import REVIEWED, fill, fill_all, headers, make_audit

from audit_kit import findings
from audit_kit.errors import AuditError, WorkbookError
from audit_kit.findings import collect
from audit_kit.folder.manifest import AuditFolder
from audit_kit.workbook import FINDING_HEADERS, write_workbooks
from audit_kit.workbook import safety as xlsx_safety
from audit_kit.workbook.safety import encrypt_xlsx, open_xlsx


@pytest.fixture
def issued(tmp_path: Path) -> tuple[Path, Path]:
    audit = make_audit(tmp_path)
    (book,) = write_workbooks(audit)
    return audit, book


def rezip(
    data: bytes, extra: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None
) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = (replace or {}).get(info.filename, src.read(info.filename))
            dst.writestr(info.filename, member)
        for name, member in (extra or {}).items():
            dst.writestr(name, member)
    return out.getvalue()


def problems_for(data: bytes, *, password: str | None = None) -> list[str]:
    opened, problems = open_xlsx(data, where="f.xlsx", password=password)
    assert (opened is None) == bool(problems)
    return [f"{p.where} | {p.expected} | {p.found}" for p in problems]


def test_compression_ratio_bomb(issued: tuple[Path, Path]) -> None:
    _, book = issued
    data = rezip(book.read_bytes(), extra={"xl/media/image1.bin": b"\0" * (3 * 1024 * 1024)})
    (problem,) = problems_for(data)
    assert "f.xlsx, part xl/media/image1.bin" in problem
    assert "zip bomb" in problem


def test_declared_oversized_member_is_refused_before_unpacking(issued: tuple[Path, Path]) -> None:
    _, book = issued
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        src = zipfile.ZipFile(io.BytesIO(book.read_bytes()))
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr("xl/huge.xml", b"<x/>")
        dst.filelist[-1].file_size = 10 * 1024 * 1024 * 1024  # the central directory lies
    problems = problems_for(out.getvalue())
    assert any("xl/huge.xml" in p and "oversized zip member" in p for p in problems)
    assert any("once unpacked" in p for p in problems)


def test_member_larger_than_declared_is_stopped(issued: tuple[Path, Path]) -> None:
    _, book = issued
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        src = zipfile.ZipFile(io.BytesIO(book.read_bytes()))
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        # incompressible, so that its worst case needs the full inflate check
        dst.writestr("xl/liar.bin", os.urandom(300_000))
        dst.filelist[-1].file_size = 10
    (problem,) = problems_for(out.getvalue())
    assert "xl/liar.bin" in problem


def test_too_many_members(issued: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, book = issued
    monkeypatch.setattr(xlsx_safety, "MAX_MEMBERS", 30)
    data = rezip(book.read_bytes(), extra={f"xl/extra{i}.xml": b"<x/>" for i in range(40)})
    (problem,) = problems_for(data)
    assert "at most 30 parts" in problem


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol3;</t></si></sst>
"""


def test_xml_entity_bomb_is_rejected(issued: tuple[Path, Path], tmp_path: Path) -> None:
    audit, book = issued
    data = rezip(book.read_bytes(), replace={"docProps/app.xml": BILLION_LAUGHS})
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(data)
    with pytest.raises(WorkbookError) as info:
        collect(audit, [path])
    (problem,) = info.value.problems
    assert problem.where == f"{path}, part docProps/app.xml"
    assert problem.found == "a DOCTYPE or ENTITY declaration"


def test_utf16_doctype_is_rejected(issued: tuple[Path, Path]) -> None:
    _, book = issued
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'
    data = rezip(book.read_bytes(), replace={"docProps/app.xml": xml.encode("utf-16")})
    (problem,) = problems_for(data)
    assert "DOCTYPE" in problem


@pytest.mark.parametrize("cut", [256, 512, 4096, 32768])
def test_comment_cut_by_the_prolog_read_is_not_a_doctype(
    issued: tuple[Path, Path], cut: int
) -> None:
    # The prolog is read in growing steps (256 bytes, then doubling): a comment starting right
    # at a cut ("<!" then "--") is read on, not taken for a declaration.
    _, book = issued
    xml = b" " * (cut - 2) + b"<!-- note --><Properties/>"
    assert problems_for(rezip(book.read_bytes(), replace={"docProps/app.xml": xml})) == []


@pytest.mark.parametrize("cut", [256, 4096])
def test_doctype_after_a_long_prolog_is_rejected(issued: tuple[Path, Path], cut: int) -> None:
    _, book = issued
    xml = b'<?xml version="1.0"?>' + b" " * cut + b'<!DOCTYPE x [<!ENTITY a "b">]><x/>'
    (problem,) = problems_for(rezip(book.read_bytes(), replace={"docProps/app.xml": xml}))
    assert "DOCTYPE" in problem


def test_a_prolog_longer_than_64_kb_is_rejected(issued: tuple[Path, Path]) -> None:
    _, book = issued
    xml = b"<!--" + b"x" * (64 * 1024) + b"--><x/>"
    (problem,) = problems_for(rezip(book.read_bytes(), replace={"docProps/app.xml": xml}))
    assert "longer than 64 KB" in problem


@pytest.mark.parametrize(
    ("payload", "found"),
    [
        (b"", "not an .xlsx workbook"),
        (b"name,id\nAnn,1\n", "not an .xlsx workbook"),
        (b"PK\x03\x04garbage", "not an .xlsx workbook"),
    ],
)
def test_not_a_workbook(payload: bytes, found: str) -> None:
    (problem,) = problems_for(payload)
    assert found in problem


def test_zip_without_workbook_part() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        dst.writestr("word/document.xml", "<w/>")
    (problem,) = problems_for(out.getvalue())
    assert "not an .xlsx workbook" in problem


def test_file_size_limit_checked_before_reading(
    issued: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit, book = issued
    monkeypatch.setattr(findings, "MAX_FILE_BYTES", 1000)
    with pytest.raises(WorkbookError) as info:
        collect(audit, [book])
    assert "at most 0 MB" in info.value.problems[0].expected or "MB" in info.value.problems[0].found


def encrypted_filled(book: Path, tmp_path: Path, password: str) -> Path:
    office = msoffcrypto.OfficeFile(io.BytesIO(book.read_bytes()))
    office.load_key(password=password)
    plain = io.BytesIO()
    office.decrypt(plain)
    (tmp_path / "plain.xlsx").write_bytes(plain.getvalue())
    filled = fill_all(tmp_path / "plain.xlsx", tmp_path / "filled.xlsx", auditor="ann")
    out = tmp_path / "returned-encrypted.xlsx"
    out.write_bytes(encrypt_xlsx(filled.read_bytes(), password))
    return out


def test_encrypted_round_trip(tmp_path: Path) -> None:
    audit = make_audit(tmp_path)
    (book,) = write_workbooks(audit, password="s3cret pass")
    returned = encrypted_filled(book, tmp_path, "s3cret pass")
    summary = collect(audit, [returned], password="s3cret pass")
    assert summary.files[0].status == "accepted"
    # stored exactly as received (encrypted), by the hash of what was received
    stored = audit / "returned" / f"{summary.files[0].sha256}.xlsx"
    assert stored.read_bytes() == returned.read_bytes()
    for file in audit.rglob("*"):
        if file.is_file():
            assert b"s3cret pass" not in file.read_bytes()


def test_encrypted_without_or_with_wrong_password(tmp_path: Path) -> None:
    audit = make_audit(tmp_path)
    (book,) = write_workbooks(audit, password="right")
    returned = encrypted_filled(book, tmp_path, "right")
    with pytest.raises(WorkbookError) as info:
        collect(audit, [returned])
    assert info.value.problems[0].found == "a password-encrypted workbook and no password"
    assert "--password-file" in info.value.problems[0].fix
    with pytest.raises(WorkbookError) as info:
        collect(audit, [returned], password="wrong")
    assert info.value.problems[0].found == "a password that does not open this workbook"
    assert "wrong" not in info.value.render()


# -- fuzzing: only success or an AuditError -----------------------------------------------------


def assert_success_or_audit_error(audit: Path, path: Path) -> None:
    try:
        summary = collect(audit, [path])
    except AuditError as exc:
        assert exc.problems
        assert all(p.where.startswith(str(path)) and p.expected and p.fix for p in exc.problems)
    else:
        assert [f.path for f in summary.files] == [str(path)]
    assert AuditFolder.open(audit).verify_hashes() == []


@pytest.fixture(scope="module")
def fuzz_audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("fuzz")
    audit = make_audit(tmp)
    (book,) = write_workbooks(audit)
    filled = fill_all(book, tmp / "filled.xlsx")
    return audit, filled, tmp


CELL_VALUES = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(
        ["reviewed", "record missing", "not reviewed", "E11.9", "E11", "99214-25", "=1+1", "065"]
    ),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=9),
            st.integers(min_value=1, max_value=30),
            CELL_VALUES,
        ),
        max_size=8,
    )
)
def test_fuzz_cell_values(
    fuzz_audit: tuple[Path, Path, Path], edits: list[tuple[int, int, object]]
) -> None:
    audit, filled, tmp = fuzz_audit
    wb = openpyxl.load_workbook(filled)
    ws = wb["Sample"]
    for row, col, value in edits:
        cell = ws.cell(row=row, column=col)
        old = cell.value
        try:
            cell.value = value
        except IllegalCharacterError:  # openpyxl refuses control characters: not a return
            cell.value = old  # openpyxl has already retyped the cell as text: undo that too
            continue
    out = tmp / "fuzzed.xlsx"
    wb.save(out)
    assert_success_or_audit_error(audit, out)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.binary(max_size=2000),
        st.tuples(st.integers(min_value=0, max_value=10**6), st.binary(min_size=1, max_size=16)),
    )
)
def test_fuzz_file_bytes(
    fuzz_audit: tuple[Path, Path, Path], data: bytes | tuple[int, bytes]
) -> None:
    audit, filled, tmp = fuzz_audit
    if isinstance(data, tuple):  # corrupt a real return at some offset
        raw = bytearray(filled.read_bytes())
        offset = data[0] % len(raw)
        raw[offset : offset + len(data[1])] = data[1]
        payload = bytes(raw)
    else:
        payload = data
    out = tmp / "bytes.xlsx"
    out.write_bytes(payload)
    assert_success_or_audit_error(audit, out)


def test_fuzz_headers_never_crash(fuzz_audit: tuple[Path, Path, Path]) -> None:
    audit, filled, tmp = fuzz_audit
    wb = openpyxl.load_workbook(filled)
    ws = wb["Sample"]
    for header in FINDING_HEADERS:
        ws.cell(row=1, column=headers(ws)[header]).value = None
    out = tmp / "no-headers.xlsx"
    wb.save(out)
    with pytest.raises(WorkbookError) as info:
        collect(audit, [out])
    assert len(info.value.problems) == len(FINDING_HEADERS)


def test_out_of_range_date_serial_is_a_problem_not_a_crash(
    issued: tuple[Path, Path], tmp_path: Path
) -> None:
    # calamine panics on a huge negative serial in a date-formatted cell (found by the fuzz test);
    # the reader falls back to openpyxl and the cell is reported like any bad date.
    audit, book = issued
    out = fill(
        book,
        tmp_path / "date.xlsx",
        {"E0001": {**REVIEWED, "Auditor": "ann", "Review date": -1e20}},
    )
    with pytest.raises(WorkbookError) as info:
        collect(audit, [out])
    (problem,) = info.value.problems
    assert problem.where == f"{out}, Sample!V2 (unit E0001)"
    assert problem.found == "'#VALUE!'"
