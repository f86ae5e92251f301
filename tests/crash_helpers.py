"""Helpers for the crash-safety, PHI and hostile-input tests (issue 8).

* a small synthetic audit built through the real stage entry points;
* filling and re-timing returned workbooks as an auditor's Excel would;
* running the command line in-process (``audit_kit.cli.main``, output captured down to the file
  descriptors) or as ``python -m audit_kit`` subprocesses;
* killing the command with SIGKILL: ``python -m audit_kit`` subprocesses at a time from their
  start, and children forked from a :class:`Zygote` (audit-kit already imported) at a time from
  the fork or exactly before the k-th call of ``os.replace`` / ``os.fsync`` (the child kills
  itself there, so the point is exact);
* searching every artifact of an audit folder (xlsx zip members, PDF text and attachments) for
  strings that must not be there.

Run as ``python crash_helpers.py --zygote``, this file is the zygote process (see
:class:`Zygote`).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]

# -- running the command line ----------------------------------------------------------------


def cli_env() -> dict[str, str]:
    """The environment of a CLI subprocess: no debug switch (tracebacks must never show)."""
    env = {k: v for k, v in os.environ.items() if k != "AUDIT_KIT_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def run_cli(
    args: Sequence[str], *, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m audit_kit ARGS`` and return the completed process (text output)."""
    return subprocess.run(
        [sys.executable, "-m", "audit_kit", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=cli_env(),
        timeout=timeout,
    )


def run_main(argv: Sequence[str]) -> int:
    """Run the CLI in-process (``audit_kit.cli.main``) and return its exit code."""
    from audit_kit.cli import main

    try:
        main([str(a) for a in argv])
    except SystemExit as exc:
        return int(exc.code or 0)
    raise AssertionError("audit_kit.cli.main returned without sys.exit")


@dataclass(slots=True)
class Captured:
    """What one in-process CLI run printed (Python-level and file-descriptor-level output)."""

    argv: list[str]
    code: int = -1
    stdout: str = ""
    stderr: str = ""

    @property
    def text(self) -> str:
        return self.stdout + "\n" + self.stderr


def run_captured(argv: Sequence[Any], call: Callable[[], object] | None = None) -> Captured:
    """Run the CLI in-process (or ``call``) capturing everything written to stdout and stderr:
    through ``sys.stdout``/``sys.stderr`` and through file descriptors 1 and 2 (C libraries and
    worker processes write there)."""
    import contextlib
    import tempfile

    result = Captured([str(a) for a in argv])
    py_out, py_err = io.StringIO(), io.StringIO()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    with tempfile.TemporaryFile() as fd_out, tempfile.TemporaryFile() as fd_err:
        try:
            os.dup2(fd_out.fileno(), 1)
            os.dup2(fd_err.fileno(), 2)
            with contextlib.redirect_stdout(py_out), contextlib.redirect_stderr(py_err):
                if call is None:
                    result.code = run_main(result.argv)
                else:
                    call()
                    result.code = 0
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        fd_out.seek(0)
        fd_err.seek(0)
        result.stdout = py_out.getvalue() + fd_out.read().decode("utf-8", errors="replace")
        result.stderr = py_err.getvalue() + fd_err.read().decode("utf-8", errors="replace")
    return result


# -- killing a CLI subprocess ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KillResult:
    """How a killed run ended: its return code (-9 when the kill landed) and its output."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


class Zygote:
    """A ``python crash_helpers.py --zygote`` process that has imported audit-kit once and forks
    one child per command, so that a kill lands in the command's work, not in interpreter start.

    The child runs ``python -m audit_kit ARGS`` (``runpy``, as ``-m`` does) with its output in
    files. The zygote, the child's parent, kills it with SIGKILL ``kill_after`` seconds after the
    fork (the child cannot be reaped before, so its pid cannot be reused), or the child kills
    itself just before the k-th call of ``os.replace`` / ``os.fsync`` (``die="os.replace:3"``).
    """

    #: No job of these tests takes a fraction of this; a stuck child fails the test, not hangs.
    TIMEOUT = 120.0

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.jobs = 0
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE), "--zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=cli_env(),
            start_new_session=True,  # its own process group: it and its children end together
        )
        assert self._reply() == {"ready": True}

    def _reply(self) -> dict[str, Any]:
        import select

        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        line = b""
        deadline = time.monotonic() + self.TIMEOUT
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                self._abort()
                raise AssertionError(
                    "the zygote ended" if ready else f"a zygote job took over {self.TIMEOUT} s"
                )
            line += chunk
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _abort(self) -> None:
        import contextlib

        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # the zygote's own group (its pid)
        self.proc.wait(timeout=30)

    def run(
        self, args: Sequence[Any], *, kill_after: float | None = None, die: str | None = None
    ) -> KillResult:
        assert self.proc.stdin is not None
        self.jobs += 1
        out = self.workdir / f"job-{self.jobs}"
        job = {
            "args": [str(a) for a in args],
            "kill_after": kill_after,
            "die": die,
            "out": str(out),
        }
        self.proc.stdin.write(json.dumps(job).encode() + b"\n")
        self.proc.stdin.flush()
        status = int(self._reply()["status"])
        # a child killed at once may not have opened its output files yet
        texts = [
            path.read_text("utf-8", errors="replace") if path.is_file() else ""
            for path in (Path(f"{out}.stdout"), Path(f"{out}.stderr"))
        ]
        return KillResult(status, *texts)

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()  # end of input: the zygote exits
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


def kill_plain(args: Sequence[str], delay: float) -> KillResult:
    """Run ``python -m audit_kit ARGS`` and SIGKILL it ``delay`` seconds after it started."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "audit_kit", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    timer = threading.Timer(delay, lambda: proc.poll() is None and proc.send_signal(signal.SIGKILL))
    timer.start()
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        timer.cancel()
    return KillResult(proc.returncode, out, err)


class SimulatedCrash(BaseException):
    """Raised by an injected fault; a BaseException so that no ``except OSError`` hides it."""


def crash_at(func: Callable[..., Any], k: int) -> tuple[Callable[..., Any], list[int]]:
    """Wrap ``func`` so that its k-th call raises :class:`SimulatedCrash` instead of running;
    return the wrapper and a one-element list counting the calls."""
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == k:
            raise SimulatedCrash(f"injected crash at call {k} of {func.__name__}")
        return func(*args, **kwargs)

    return wrapper, calls


def _install_die(spec: str) -> None:
    name, count = spec.rsplit(":", 1)
    attr = name.removeprefix("os.")
    original = getattr(os, attr)
    seen = [0]

    def deadly(*args: Any, **kwargs: Any) -> Any:
        seen[0] += 1
        if seen[0] == int(count):
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)

    setattr(os, attr, deadly)


def _child(job: dict[str, Any]) -> None:
    """In the forked child: output to files, the kill point, then ``python -m audit_kit``."""
    import runpy
    import traceback

    code = 1
    try:
        for fd, suffix in ((1, ".stdout"), (2, ".stderr")):
            target = os.open(job["out"] + suffix, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(target, fd)
            os.close(target)
        if job["die"]:
            _install_die(job["die"])
        sys.argv = ["audit_kit", *job["args"]]
        try:
            runpy.run_module("audit_kit", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _zygote_main() -> None:
    import json as json_mod
    import select

    # Everything the commands import, before any fork; no audit work runs in this process.
    import audit_kit.cli  # noqa: F401
    import audit_kit.findings  # noqa: F401
    import audit_kit.reporting.results_workbook  # noqa: F401
    import audit_kit.scoring  # noqa: F401

    def reply(obj: dict[str, Any]) -> None:
        sys.stdout.write(json_mod.dumps(obj) + "\n")
        sys.stdout.flush()

    reply({"ready": True})
    for line in sys.stdin:
        job = json_mod.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(job)
        if job["kill_after"] is not None:
            pidfd = os.pidfd_open(pid)
            try:
                ended, _, _ = select.select([pidfd], [], [], job["kill_after"])
            finally:
                os.close(pidfd)
            if not ended:
                os.kill(pid, signal.SIGKILL)  # not reaped yet: the pid is still this child's
        _, status = os.waitpid(pid, 0)
        reply({"status": os.waitstatus_to_exitcode(status)})


# -- a small synthetic audit -----------------------------------------------------------------


def demo_plan_text(*, per_stratum: int) -> str:
    """The bundled demo plan with a smaller sample per coder."""
    from audit_kit.demo.example_data import DEMO_PLAN_YAML

    text = DEMO_PLAN_YAML.replace("per_stratum: 30", f"per_stratum: {per_stratum}")
    assert f"per_stratum: {per_stratum}" in text
    return text


def copy_audit(src: Path, dst: Path) -> Path:
    """Copy an audit folder with its permissions (the copy is an independent audit state)."""
    shutil.copytree(src, dst)
    return dst


def sheet_table(path: Path | bytes) -> tuple[Any, Any, dict[str, int], dict[str, int]]:
    """Open a workbook's Sample sheet: (workbook, sheet, header -> column, unit id -> row)."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(path) if isinstance(path, bytes) else path)
    ws = wb["Sample"]
    cols = {str(c.value): c.column for c in ws[1] if c.value is not None}
    rows = {
        str(ws.cell(row=r, column=1).value): r
        for r in range(2, ws.max_row + 1)
        if ws.cell(row=r, column=1).value is not None
    }
    return wb, ws, cols, rows


def fill_by_header(
    src: Path | bytes,
    out: Path,
    *,
    auditor: str,
    entries: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Fill an issued workbook as an auditor in Excel: every unit reviewed, codes and amounts as
    pre-filled (no error), plus per-unit overrides ``entries`` (unit id -> header -> value)."""
    wb, ws, cols, rows = sheet_table(src)
    for unit, row in rows.items():
        values: dict[str, Any] = {
            "Review status": "reviewed",
            "Review date": "2026-04-20",
            "Auditor": auditor,
        }
        values.update((entries or {}).get(unit, {}))
        for header, value in values.items():
            ws.cell(row=row, column=cols[header]).value = value
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def unfill_rows(filled: Path, issued: Path, out: Path, units: Iterable[str]) -> Path:
    """Copy of ``filled`` with the finding cells of ``units`` restored as issued (not returned)."""
    from audit_kit.workbook import FINDING_HEADERS

    _, issued_ws, issued_cols, issued_rows = sheet_table(issued)
    wb, ws, cols, rows = sheet_table(filled)
    for unit in units:
        for header in FINDING_HEADERS:
            value = issued_ws.cell(row=issued_rows[unit], column=issued_cols[header]).value
            ws.cell(row=rows[unit], column=cols[header]).value = value
    wb.save(out)
    return out


def edit_rows(src: Path, out: Path, entries: Mapping[str, Mapping[str, Any]]) -> Path:
    """Copy of ``src`` with the given cells changed (unit id -> header -> value)."""
    wb, ws, cols, rows = sheet_table(src)
    for unit, values in entries.items():
        for header, value in values.items():
            ws.cell(row=rows[unit], column=cols[header]).value = value
    wb.save(out)
    return out


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def set_saved_time(path: Path, iso: str) -> Path:
    """Set the workbook's last-saved time (docProps/core.xml), as Excel records it on save."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data, count = _MODIFIED.subn(rb"\g<1>" + iso.encode() + rb"\g<2>", data)
                assert count == 1, "no dcterms:modified in docProps/core.xml"
            dst.writestr(info.filename, data)
    path.write_bytes(buffer.getvalue())
    return path


# -- reading an audit's state ----------------------------------------------------------------


def findings_state(audit: Path) -> list[dict[str, str]]:
    """findings.csv as rows of text, without ``collected_at`` (a time stamp of the run); [] when
    no findings are recorded."""

    from audit_kit.folder.manifest import AuditFolder

    folder = AuditFolder.open(audit)
    if not folder.has("findings.csv"):
        return []
    frame = folder.read_csv("findings.csv", infer_schema=False)
    return frame.drop("collected_at").fill_null("").to_dicts() if frame.height else []


def decrypt_xlsx(data: bytes, password: str) -> bytes:
    import msoffcrypto

    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    office.load_key(password=password)
    out = io.BytesIO()
    office.decrypt(out)
    return out.getvalue()


def encrypt_xlsx_bytes(data: bytes, password: str) -> bytes:
    """Office (agile) encryption with msoffcrypto directly, as an auditor's Excel would save."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


# -- searching artifacts ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    file: str
    part: str
    needle: str

    def __str__(self) -> str:
        return f"{self.needle!r} in {self.file} [{self.part}]"


def _texts_of(path: Path, data: bytes) -> Iterable[tuple[str, str]]:
    """(part, text) pairs of a file: raw bytes, every xlsx member, PDF text and attachments."""
    yield "bytes", data.decode("latin-1")
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                member = archive.read(info)
                text = member.decode("utf-8", errors="replace")
                yield info.filename, text
                yield info.filename + " (unescaped)", _xml_unescape(text)
    if data.startswith(b"%PDF"):
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        yield "pdf text", "\n".join(page.extract_text() or "" for page in reader.pages)
        for name, contents in reader.attachments.items():
            for i, blob in enumerate(contents):
                yield f"pdf attachment {name}#{i}", blob.decode("utf-8", errors="replace")
        info = reader.metadata or {}
        yield "pdf metadata", " ".join(str(v) for v in info.values())


def _xml_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def search_file(path: Path, needles: Iterable[str | re.Pattern[str]]) -> list[Hit]:
    """Every needle (a string, case-insensitive, or a regex) found anywhere in the file."""
    data = path.read_bytes()
    patterns = [
        n if isinstance(n, re.Pattern) else re.compile(re.escape(n), re.IGNORECASE) for n in needles
    ]
    hits = []
    for part, text in _texts_of(path, data):
        for pattern in patterns:
            if pattern.search(text):
                hits.append(Hit(str(path), part, pattern.pattern))
    return hits


def search_tree(root: Path, needles: Sequence[str | re.Pattern[str]]) -> dict[str, list[Hit]]:
    """Search every file under root; return {path relative to root: hits} for files with hits."""
    out: dict[str, list[Hit]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            hits = search_file(path, needles)
            if hits:
                out[path.relative_to(root).as_posix()] = hits
    return out


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


if __name__ == "__main__":
    if sys.argv[1:] == ["--zygote"]:
        _zygote_main()
