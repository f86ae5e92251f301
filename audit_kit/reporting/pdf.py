"""HTML -> PDF with WeasyPrint: archival PDF/A-3b, confined resources, optional attachment.

A render job is plain data (template name, prepared context, template folders) so that coder
reports can be rendered in worker processes. Each process keeps one jinja2 environment and one
font configuration per set of template folders.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from audit_kit.errors import Problem
from audit_kit.reporting.environment import make_environment
from audit_kit.reporting.fetcher import TemplateFetcher

__all__ = ["PDF_VARIANT", "RenderJob", "RenderResult", "render_html", "render_job"]

#: PDF/A-3 allows embedded files of any type (results.json); "b" = visual appearance preserved.
PDF_VARIANT = "pdf/a-3b"


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderJob:
    """Everything needed to render one PDF, picklable for a worker process."""

    output: str  # path inside the audit folder, e.g. "coders/C01.pdf"
    template: str  # e.g. "report.html"
    context: dict[str, Any]
    roots: tuple[str, ...]
    attachment: tuple[str, bytes, str] | None = None  # (name, data, description)


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderResult:
    output: str
    pdf: bytes = b""
    refused: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = field(default_factory=tuple)


_ENVIRONMENTS: dict[tuple[str, ...], jinja2.Environment] = {}
_FONT_CONFIG: Any = None


def _environment(roots: Sequence[str]) -> jinja2.Environment:
    key = tuple(roots)
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = make_environment([Path(r) for r in roots])
    return _ENVIRONMENTS[key]


def render_html(template: str, context: dict[str, Any], roots: Sequence[str]) -> str:
    """Render one template of the given folders with a prepared context."""
    return _environment(roots).get_template(template).render(**context)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage()[:300])


def _template_problem(job: RenderJob, exc: jinja2.TemplateError) -> Problem:
    where = getattr(exc, "filename", None) or getattr(exc, "name", None) or job.template
    line = getattr(exc, "lineno", None)
    return Problem(
        where=f"template {where}" + (f", line {line}" if line else ""),
        expected="a template that renders with the report's data",
        found=f"{type(exc).__name__}: {exc.message or exc}"[:300],
        fix="correct the template in your --templates folder, or remove it to use the shipped one.",
    )


def render_job(job: RenderJob) -> RenderResult:
    """Render a job to PDF bytes; template errors come back as problems, not exceptions."""
    global _FONT_CONFIG
    from weasyprint import HTML, Attachment
    from weasyprint.text.fonts import FontConfiguration

    try:
        html = render_html(job.template, job.context, job.roots)
    except jinja2.TemplateError as exc:
        return RenderResult(output=job.output, problems=(_template_problem(job, exc),))
    if _FONT_CONFIG is None:
        _FONT_CONFIG = FontConfiguration()
    fetcher = TemplateFetcher([Path(r) for r in job.roots])
    base_url = Path(job.roots[-1]).as_uri() + "/"
    attachments = []
    if job.attachment is not None:
        name, data, description = job.attachment
        attachments.append(
            Attachment(string=data, name=name, description=description, relationship="Data")
        )
    collector = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        pdf = document.write_pdf(
            font_config=_FONT_CONFIG,
            pdf_variant=PDF_VARIANT,
            attachments=attachments or None,
            uncompressed_pdf=False,
        )
    finally:
        logger.removeHandler(collector)
    return RenderResult(
        output=job.output,
        pdf=bytes(pdf),
        refused=tuple(fetcher.refused),
        warnings=tuple(collector.messages),
    )
