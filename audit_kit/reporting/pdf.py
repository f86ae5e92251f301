"""HTML -> PDF with WeasyPrint: archival PDF/A-3b, confined resources, optional attachment.

Templates are rendered to HTML in the calling process (so a broken user template fails before
any layout work); a render job is then plain data (HTML, template folders, attachment) that a
worker process lays out. Each process keeps one jinja2 environment per set of template folders
and one font configuration.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from audit_kit.errors import InputError, Problem
from audit_kit.reporting._weasy import FontConfiguration, weasyprint
from audit_kit.reporting.environment import make_environment
from audit_kit.reporting.fetcher import TemplateFetcher

__all__ = ["PDF_VARIANT", "RenderJob", "RenderResult", "render_html", "render_job"]

#: PDF/A-3 allows embedded files of any type (results.json); "b" = visual appearance preserved.
PDF_VARIANT = "pdf/a-3b"


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderJob:
    """One PDF to make from rendered HTML; plain data, so that a worker process can take it."""

    output: str  # path inside the audit folder, e.g. "coders/C01.pdf"
    html: str
    roots: tuple[str, ...]
    attachment: tuple[str, bytes, str] | None = None  # (name, data, description)


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderResult:
    output: str
    pdf: bytes
    refused: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


_ENVIRONMENTS: dict[tuple[str, ...], jinja2.Environment] = {}
_FONT_CONFIG: Any = None


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
    global _FONT_CONFIG
    if _FONT_CONFIG is None:
        _FONT_CONFIG = FontConfiguration()
    fetcher = TemplateFetcher([Path(r) for r in job.roots])
    # Relative URLs resolve against the shipped folder; the fetcher looks in the user one first.
    base_url = Path(job.roots[-1]).as_uri() + "/"
    attachments = []
    if job.attachment is not None:
        name, data, description = job.attachment
        attachments.append(
            weasyprint.Attachment(
                string=data, name=name, description=description, relationship="Data"
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
            document = weasyprint.HTML(string=job.html, base_url=base_url, url_fetcher=fetcher)
            pdf = document.write_pdf(
                font_config=_FONT_CONFIG,
                pdf_variant=PDF_VARIANT,
                attachments=attachments or None,
            )
    finally:
        logger.removeHandler(collector)
    return RenderResult(
        output=job.output,
        pdf=bytes(pdf),
        refused=tuple(fetcher.refused),
        warnings=tuple(collector.messages),
    )
