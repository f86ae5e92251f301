"""Benchmark the PDF reports: 2,500 sampled units, 50 coders (docs/performance.md).

Targets: the executive PDF alone under 8 s; the full set (executive, 50 coder PDFs,
attestation) under 20 s, on a 2-core machine. Wall time is what the targets mean; the CPU
seconds (this process plus its worker processes) and the load average are printed beside it so
that a run on a busy machine can still be read, and so are the optional system libraries
WeasyPrint found (HarfBuzz's subsetting library decides how fast a PDF whose fonts must be
subset is written). Run from the project root:

    .venv/bin/python benchmarks/bench_reports.py

To measure without libharfbuzz-subset0 on a machine that has it, hide it in a private mount
namespace (root; the path from `ldconfig -p | grep harfbuzz-subset`, symlinks resolved):

    unshare -m sh -c 'mount --bind /dev/null \
        /usr/lib/x86_64-linux-gnu/libharfbuzz-subset.so.0.60000.0 && \
        .venv/bin/python benchmarks/bench_reports.py'
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from report_helpers import make_audit  # noqa: E402

from audit_kit.folder.manifest import AuditFolder, now_iso  # noqa: E402
from audit_kit.reporting import _load, build_jobs, render_reports  # noqa: E402
from audit_kit.reporting._weasy import weasyprint  # noqa: E402
from audit_kit.reporting.environment import template_roots  # noqa: E402
from audit_kit.reporting.pdf import render_job  # noqa: E402

CODERS, UNITS_PER_CODER = 50, 50
EXECUTIVE_TARGET, ALL_TARGET = 8.0, 20.0


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the render workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _libraries() -> str:
    """The versions WeasyPrint runs on and the optional libraries it found."""
    import fontTools
    from weasyprint.text import ffi

    def version(name: str, symbol: str) -> str:
        path = ctypes.util.find_library(name)
        if path is None:
            return "?"
        try:
            func = getattr(ctypes.CDLL(path), symbol)
        except (OSError, AttributeError):
            return "?"
        func.restype = ctypes.c_char_p
        return str(func().decode())

    pango = ffi.pango.pango_version()
    subset = "found" if ffi.harfbuzz_subset is not None else "ABSENT (fontTools subsets)"
    vector = "found" if getattr(ffi, "harfbuzz_vector", None) is not None else "absent"
    return (
        f"WeasyPrint {weasyprint.__version__}, fontTools {fontTools.version}, "
        f"Pango {pango // 10000}.{pango // 100 % 100}.{pango % 100}, "
        f"HarfBuzz {version('harfbuzz', 'hb_version_string')}; "
        f"libharfbuzz-subset: {subset}; libharfbuzz-vector: {vector}"
    )


def main() -> None:
    print(_libraries())
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        audit = Path(tmp) / "audit"
        t0 = time.perf_counter()
        _, results = make_audit(
            audit, coders=CODERS, units_per_coder=UNITS_PER_CODER, error_rate=0.15, seed=11
        )
        setup = time.perf_counter() - t0
        folder = AuditFolder.open(audit)
        res, sampling, statement, _ = _load(folder)
        jobs = build_jobs(
            res,
            sampling,
            statement=statement,
            roots=template_roots(None),
            rendered_at=now_iso(),
            results_bytes=folder.read_bytes("results.json"),
        )
        render_job(jobs[1])  # warm up fonts and templates, as a worker process does
        t0, c0 = time.perf_counter(), _cpu()
        executive = render_job(jobs[0])
        t_exec, c_exec = time.perf_counter() - t0, _cpu() - c0
        t0, c0 = time.perf_counter(), _cpu()
        paths = render_reports(audit)
        t_all, c_all = time.perf_counter() - t0, _cpu() - c0
        size = sum(p.stat().st_size for p in paths)
        coder_sizes = [p.stat().st_size for p in paths if p.parent.name == "coders"]
        t0 = time.perf_counter()
        subset = sum(render_job(job).subset_fonts for job in jobs[2:7])
        t_coder = (time.perf_counter() - t0) / 5
    units = sum(c["units_reviewed"] for c in results["coders"])
    print(
        f"fixture: {units} units, {len(results['coders'])} coders, "
        f"{len(results['errors'])} findings with errors (built in {setup:.1f} s)"
    )
    print(
        f"executive PDF: {t_exec:6.2f} s  target < {EXECUTIVE_TARGET:.0f} s  "
        f"ratio {t_exec / EXECUTIVE_TARGET:.2f}  ({len(executive.pdf) / 1e6:.2f} MB; "
        f"{c_exec:.2f} CPU s)"
    )
    print(
        f"all {len(paths)} PDFs:   {t_all:6.2f} s  target < {ALL_TARGET:.0f} s  "
        f"ratio {t_all / ALL_TARGET:.2f}  ({size / 1e6:.2f} MB; {c_all:.2f} CPU s on "
        f"{os.cpu_count()} cores)"
    )
    print(
        f"one coder PDF: {t_coder:.2f} s (mean of 5, one process); coder PDFs "
        f"{statistics.median(coder_sizes) / 1e3:.0f} KB median, {max(coder_sizes) / 1e3:.0f} KB "
        f"largest; fonts {'subset in ' + str(subset) + ' of 5' if subset else 'embedded whole'}"
    )
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
