"""PDF reports: results.json -> view model -> HTML (jinja2) -> PDF/A (WeasyPrint).

:func:`render_reports` is the entry point of ``audit-kit report``. It reads the scored results
and the sampling record through the audit folder (hash-checked), renders the executive report,
one feedback report per coder and the accuracy attestation, and commits all of them in one
transaction with one event. Reporting computes nothing: every number comes from results.json.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from audit_kit.folder.manifest import AuditFolder, now_iso
from audit_kit.reporting.context import (
    attestation_context,
    coder_context,
    coder_groups,
    executive_context,
    safe_file_stem,
)
from audit_kit.reporting.environment import template_roots
from audit_kit.reporting.pdf import PDF_VARIANT, RenderJob, RenderResult, render_html, render_job
from audit_kit.reporting.results_workbook import results_workbook_bytes

__all__ = [
    "REPORT_FILES",
    "build_jobs",
    "render_reports",
    "report",
    "results_workbook_bytes",
]

#: Where the reports go inside the audit folder.
REPORT_FILES = {"executive": "report.pdf", "attestation": "attestation.pdf", "coders": "coders"}

#: Below this many PDFs the start-up cost of worker processes outweighs the parallel gain.
PARALLEL_MIN_JOBS = 12
#: Each worker holds a WeasyPrint layout (about 150 MB for a long executive report).
MAX_WORKERS = 8


def _load(folder: AuditFolder) -> tuple[dict[str, Any], dict[str, Any], str | None, dict[str, str]]:
    # The typed reader refuses a results.json this version cannot render (one problem per
    # key); the views below read the validated document.
    results = folder.read_results()
    inputs = {"results.json": str(folder.artifacts()["results.json"]["sha256"])}
    sampling = results.sampling
    if folder.has("sampling.json"):
        sampling = folder.read_sampling()
        inputs["sampling.json"] = str(folder.artifacts()["sampling.json"]["sha256"])
    statement = None
    if folder.has("sampling.txt"):
        statement = folder.read_bytes("sampling.txt").decode("utf-8", errors="replace")
        inputs["sampling.txt"] = str(folder.artifacts()["sampling.txt"]["sha256"])
    return results.to_json_dict(), sampling.to_json_dict(), statement, inputs


def build_jobs(
    results: Mapping[str, Any],
    sampling: Mapping[str, Any],
    *,
    statement: str | None,
    roots: Sequence[Path],
    rendered_at: str,
    results_bytes: bytes,
) -> list[RenderJob]:
    """Render the HTML of every PDF (executive, attestation, then one per coder).

    The jobs of one call form one batch: a worker loads the fonts once for all of them.
    """
    root_strs = tuple(str(r) for r in roots)
    batch = secrets.token_hex(8)
    taken: set[str] = set()
    coder_files = {
        str(c["coder"]): f"{REPORT_FILES['coders']}/{safe_file_stem(str(c['coder']), taken)}.pdf"
        for c in coder_groups(results)
    }
    executive = executive_context(
        results, sampling, statement=statement, rendered_at=rendered_at, coder_files=coder_files
    )
    attestation = attestation_context(results, sampling, rendered_at=rendered_at)
    jobs = [
        RenderJob(
            output=REPORT_FILES["executive"],
            html=render_html("report.html", executive, root_strs),
            roots=root_strs,
            batch=batch,
            attachment_time=rendered_at,
            attachment=(
                "results.json",
                results_bytes,
                "All scores and statistics of this audit (audit-kit results.json)",
            ),
        ),
        RenderJob(
            output=REPORT_FILES["attestation"],
            html=render_html("attestation.html", attestation, root_strs),
            roots=root_strs,
            batch=batch,
        ),
    ]
    for coder in coder_groups(results):
        context = coder_context(results, coder, rendered_at=rendered_at)
        jobs.append(
            RenderJob(
                output=coder_files[str(coder["coder"])],
                html=render_html("coder.html", context, root_strs),
                roots=root_strs,
                batch=batch,
            )
        )
    return jobs


def _cores() -> int:
    """The cores this process may run on (a container's or taskset's limit, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _run(
    jobs: Sequence[RenderJob], progress: Callable[[str], None] | None = None
) -> list[RenderResult]:
    """Lay out any list of PDFs, in parallel on the cores there are; results in job order.

    Output does not depend on the number of workers: each PDF is laid out alone from its own
    HTML. Put the longest job first (the executive report): it starts at once and the other
    workers take the short ones as they come. An exception in a worker is raised here.
    """
    workers = min(MAX_WORKERS, _cores(), len(jobs))
    if len(jobs) < PARALLEL_MIN_JOBS or workers < 2:
        return _reported((render_job(job) for job in jobs), len(jobs), progress)
    # "fork" starts workers at once with the templates already rendered and never re-imports
    # the caller's __main__ (a script without a main guard keeps working); the workers only
    # run WeasyPrint. Where fork is unavailable, spawn.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return _reported(pool.map(render_job, jobs, chunksize=1), len(jobs), progress)


def _reported(
    results: Iterable[RenderResult], total: int, progress: Callable[[str], None] | None
) -> list[RenderResult]:
    done: list[RenderResult] = []
    for result in results:
        done.append(result)
        if progress is not None:
            progress(f"rendered {result.output} ({len(done)} of {total})")
    return done


def render_reports(
    audit_dir: Path,
    *,
    template_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Render report.pdf, coders/<coder>.pdf and attestation.pdf; return their paths.

    Reads results.json and sampling.json (and sampling.txt) through the audit folder, so a
    changed file is refused. All PDFs are committed in one transaction with one ``report``
    event; on any error nothing is written. A user ``template_dir`` overrides shipped templates
    file by file; templates can load files only from the template folders, never a URL.
    ``progress`` is called with one line per PDF rendered.
    """
    folder = AuditFolder.open(Path(audit_dir))
    results, sampling, statement, inputs = _load(folder)
    roots = template_roots(template_dir)
    rendered_at = now_iso()
    jobs = build_jobs(
        results,
        sampling,
        statement=statement,
        roots=roots,
        rendered_at=rendered_at,
        results_bytes=folder.read_bytes("results.json"),
    )
    rendered = _run(jobs, progress)
    refused = sorted({url for r in rendered for url in r.refused})
    warnings = sorted({w for r in rendered for w in r.warnings})
    details = {
        "pdfs": len(rendered),
        "coders": len(rendered) - 2,
        "pdf_variant": PDF_VARIANT,
        "template_dir": str(template_dir) if template_dir is not None else None,
        "refused_resources": refused[:50],
        "render_warnings": warnings[:50],
        "rendered_at": rendered_at,
    }
    with folder.transaction("report", inputs=inputs, details=details) as tx:
        for result in rendered:
            tx.write_bytes(result.output, result.pdf, kind="report")
    return [folder.path / r.output for r in rendered]


# The library name of the command (`audit-kit report`).
report = render_reports
