"""The only way a report may load a resource: files inside the template folders, nothing else.

WeasyPrint fetches every URL a template names (stylesheets, images, ``@import``, ``<link
rel=attachment>``) through a *URL fetcher*. The default one reads any local file and any web
address, so a user template could copy ``/etc/passwd`` or a PHI export into a PDF, or call home.
:class:`TemplateFetcher` serves ``file:`` URLs whose real path (symlinks resolved) lies inside one
of the template folders, looked up in the user folder first, then in the shipped one; small
``data:`` URLs (inline icons); and refuses everything else. Refused URLs are remembered so that
the render can record them in the audit event.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from audit_kit.reporting._weasy import URLFetcher, URLFetcherResponse

__all__ = ["MAX_DATA_URL", "MAX_FILE_BYTES", "ResourceRefused", "TemplateFetcher"]

#: Largest ``data:`` URL accepted (an inline icon, not a smuggled document).
MAX_DATA_URL = 32 * 1024
#: Largest template resource served (CSS, a logo).
MAX_FILE_BYTES = 4 * 1024 * 1024


class ResourceRefused(ValueError):
    """A template asked for a resource outside the template folders; WeasyPrint skips it."""


class TemplateFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint ships no type hints
    """Serve files from the template folders only (first folder wins); refuse anything else."""

    def __init__(self, roots: Sequence[Path]) -> None:
        super().__init__(timeout=1, allowed_protocols=("file", "data"), allow_redirects=False)
        self.roots: tuple[Path, ...] = tuple(Path(r).resolve() for r in roots)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            if len(url) > MAX_DATA_URL:
                return self._refuse(url[:60] + "...", "data: URL larger than allowed")
            return super().fetch(url, headers)
        if scheme != "file":
            return self._refuse(url, "only files inside the template folders are served")
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return self._refuse(url, "remote file URL")
        target = self._locate(Path(unquote(parts.path)))
        if target is None:
            return self._refuse(url, "outside the template folders")
        data = target.read_bytes()
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return URLFetcherResponse(target.as_uri(), data, {"Content-Type": content_type})

    def _locate(self, requested: Path) -> Path | None:
        """Map a requested path to the first template folder holding the same relative path."""
        try:
            resolved = requested.resolve()
        except (OSError, RuntimeError):
            return None
        rel: Path | None = None
        for root in self.roots:
            if resolved.is_relative_to(root):
                rel = resolved.relative_to(root)
                break
        if rel is None:
            return None
        for root in self.roots:
            candidate = (root / rel).resolve()
            # A symlink inside a template folder must not lead out of it.
            if (
                candidate.is_relative_to(root)
                and candidate.is_file()
                and candidate.stat().st_size <= MAX_FILE_BYTES
            ):
                return candidate
        return None

    def _refuse(self, url: str, why: str) -> URLFetcherResponse:
        self.refused.append(url)
        raise ResourceRefused(f"{why}: {url}")
