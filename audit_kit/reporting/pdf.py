"""HTML -> PDF with WeasyPrint: archival PDF/A-3b, confined resources, optional attachment.

Templates are rendered to HTML in the calling process (so a broken user template fails before
any layout work); a render job is then plain data (HTML, template folders, attachment) that a
worker process lays out. Each process keeps one jinja2 environment per set of template folders,
and one font configuration and image cache per report set (the ``batch`` of a job), so that the
``@font-face`` fonts are loaded once per process, not once per PDF.

Fonts. WeasyPrint subsets every font of every PDF by default: fast with the HarfBuzz subsetting
library, but without it (``libharfbuzz-subset0`` is optional) with fontTools, in Python, about
half a second per face of the system's DejaVu, per PDF: most of the time of a coder report. The
shipped templates use small DejaVu faces (``templates/fonts``, see ``docs/gen_report_fonts.py``).
Where HarfBuzz cannot subset, a PDF whose fonts are all that small embeds them whole
(WeasyPrint's ``full_fonts``): no subsetting at all, the same font files in every PDF of the
set, about 150 KB more per PDF. Where it can, subsetting is faster still and the PDFs smaller,
so fonts are subset. Either way the pages are the same: the layout is made before the fonts
are embedded. When a letter the shipped faces lack (Hebrew, CJK...) brings in a large system
font, the PDF is written again, subset, from the same layout, so that a 10 MB font is never
embedded whole.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from audit_kit.errors import InputError, Problem
from audit_kit.reporting._weasy import HARFBUZZ_SUBSET, FontConfiguration, weasyprint
from audit_kit.reporting.environment import make_environment
from audit_kit.reporting.fetcher import TemplateFetcher
from audit_kit.values.dates import parse_timestamp

__all__ = [
    "FULL_FONT_MAX_BYTES",
    "PDF_VARIANT",
    "RenderJob",
    "RenderResult",
    "render_html",
    "render_job",
]

#: PDF/A-3 allows embedded files of any type (results.json); "b" = visual appearance preserved.
PDF_VARIANT = "pdf/a-3b"

#: A font file up to this size is embedded whole rather than subset (the shipped faces are
#: about 100 KB; a system DejaVu face is 750 KB, a CJK font 10 MB and more).
FULL_FONT_MAX_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderJob:
    """One PDF to make from rendered HTML; plain data, so that a worker process can take it."""

    output: str  # path inside the audit folder, e.g. "coders/C01.pdf"
    html: str
    roots: tuple[str, ...]
    attachment: tuple[str, bytes, str] | None = None  # (name, data, description)
    # ISO 8601 time stamped on the attachment (else the time of rendering), so that the same
    # job gives the same bytes in any process.
    attachment_time: str = ""
    # Jobs of one report set share fonts and images in a worker; a new batch starts afresh (a
    # user may have changed a font or a logo in the template folder between two report sets).
    batch: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderResult:
    output: str
    pdf: bytes
    refused: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    subset_fonts: bool = False  # fonts subset (True) or embedded whole (False)


_ENVIRONMENTS: dict[tuple[str, ...], jinja2.Environment] = {}


@dataclass(slots=True)
class _Batch:
    """What the PDFs of one report set share in one process."""

    key: tuple[str, tuple[str, ...]]
    pid: int
    font_config: Any  # weasyprint FontConfiguration: @font-face fonts loaded once
    images: dict[str, Any]  # WeasyPrint's image cache, keyed by URL


_BATCH: _Batch | None = None
# A worker process forked from a process that had rendered keeps that process's batch alive:
# freeing its FontConfiguration would delete the temporary font folder the parent still uses.
_INHERITED: list[_Batch] = []


def _batch(job: RenderJob) -> _Batch:
    global _BATCH
    key = (job.batch, job.roots)
    if _BATCH is not None and _BATCH.pid != os.getpid():
        _INHERITED.append(_BATCH)
        _BATCH = None
    if _BATCH is None or _BATCH.key != key or not job.batch:
        _BATCH = _Batch(key=key, pid=os.getpid(), font_config=FontConfiguration(), images={})
    return _BATCH


def render_html(template: str, context: dict[str, Any], roots: Sequence[str]) -> str:
    """Render one template of the given folders with a prepared context.

    Raises :class:`~audit_kit.errors.InputError` naming the template and line on any template
    error (syntax, missing include, a path outside the folders, a sandbox violation).
    """
    key = tuple(roots)
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = make_environment([Path(r) for r in roots])
    try:
        return _ENVIRONMENTS[key].get_template(template).render(**context)
    except RecursionError:
        problem = Problem(
            where=f"template {template}",
            expected="templates that do not include or extend themselves",
            found="endless recursion",
            fix='to extend a shipped template, write {% extends "shipped/<name>" %}.',
        )
        raise InputError("A report template cannot be rendered.", [problem]) from None
    except jinja2.TemplateError as exc:
        raise InputError(
            "A report template cannot be rendered.", [_template_problem(template, exc)]
        ) from None


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage()[:300])


def _template_problem(template: str, exc: jinja2.TemplateError) -> Problem:
    where = getattr(exc, "filename", None) or getattr(exc, "name", None)
    line = getattr(exc, "lineno", None)
    if where is None:  # raised while rendering: jinja2 puts the template's frame in the traceback
        where, line = _template_frame(exc) or (template, None)
    return Problem(
        where=f"template {where}" + (f", line {line}" if line else ""),
        expected="a template that renders with the report's data, inside the template folders",
        found=f"{type(exc).__name__}: {exc.message or exc}"[:300],
        fix="correct the template in your --templates folder, or remove it to use the shipped one.",
    )


def _template_frame(exc: BaseException) -> tuple[str, int] | None:
    """The template file and line where a rendering error was raised (the innermost frame whose
    code comes from a template file), or None."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if Path(filename).suffix in {".html", ".css", ".svg", ".txt"}:
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def render_job(job: RenderJob) -> RenderResult:
    """Lay out and write one PDF (PDF/A-3b) with the confined fetcher; return its bytes."""
    shared = _batch(job)
    fetcher = TemplateFetcher([Path(r) for r in job.roots])
    # Relative URLs resolve against the shipped folder; the fetcher looks in the user one first.
    base_url = Path(job.roots[-1]).as_uri() + "/"
    attachments = []
    if job.attachment is not None:
        name, data, description = job.attachment
        stamp = _timestamp(job.attachment_time)
        attachments.append(
            weasyprint.Attachment(
                string=data,
                name=name,
                description=description,
                relationship="Data",
                created=stamp,
                modified=stamp,
            )
        )
    collector = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        with warnings.catch_warnings():
            # WeasyPrint 70 opens its sRGB profile (the PDF/A output intent) and never closes it.
            warnings.filterwarnings(
                "ignore", message=r"unclosed file .*sRGB2014\.icc", category=ResourceWarning
            )
            document = weasyprint.HTML(
                string=job.html, base_url=base_url, url_fetcher=fetcher
            ).render(font_config=shared.font_config, pdf_variant=PDF_VARIANT, cache=shared.images)
            options: dict[str, Any] = {
                "pdf_variant": PDF_VARIANT,
                "attachments": attachments or None,
            }
            subset = HARFBUZZ_SUBSET
            pdf = document.write_pdf(full_fonts=not subset, **options)
            if not subset and not _all_fonts_small(document):
                subset = True
                pdf = document.write_pdf(full_fonts=False, **options)
    finally:
        logger.removeHandler(collector)
    return RenderResult(
        output=job.output,
        pdf=bytes(pdf),
        refused=tuple(fetcher.refused),
        warnings=tuple(collector.messages),
        subset_fonts=subset,
    )


def _timestamp(iso: str) -> dt.datetime | None:
    return parse_timestamp(iso)


def _all_fonts_small(document: Any) -> bool:
    """True when every font the PDF embeds is at most FULL_FONT_MAX_BYTES (embedded whole).

    ``Document.fonts`` holds the fonts drawn, with their file bytes; anything unexpected there
    (a newer WeasyPrint) counts as large, so that the PDF is subset as WeasyPrint does by
    default.
    """
    fonts = getattr(document, "fonts", None)
    if not isinstance(fonts, dict):
        return False
    for font in fonts.values():
        content = getattr(font, "file_content", None)
        if not isinstance(content, bytes) or len(content) > FULL_FONT_MAX_BYTES:
            return False
    return True
