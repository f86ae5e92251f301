"""One jinja2 environment for every report: user folder first, then the shipped templates.

The environment is sandboxed and autoescaping: values from the audit (rationale, coder names,
codes) are always data, escaped on output and never parsed as template source. A user folder
overrides shipped templates file by file (``report.css``, ``partials/cover.html``...).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from audit_kit.errors import InputError
from audit_kit.plan.presets import template_dir as shipped_template_dir

__all__ = ["css_string", "make_environment", "template_roots"]


def template_roots(user_dir: Path | None) -> list[Path]:
    """Return the template folders in lookup order, checking a user folder exists."""
    shipped = shipped_template_dir().resolve()
    if user_dir is None:
        return [shipped]
    user = Path(user_dir)
    if not user.is_dir():
        raise InputError.one(
            "The template folder does not exist.",
            where=str(user),
            expected="a folder of templates overriding the shipped ones",
            found="a file" if user.exists() else "no such folder",
            fix="pass a folder to --templates (copy files from the shipped templates).",
        )
    return [user.resolve(), shipped]


def css_string(value: object) -> Markup:
    """Quote a value as a CSS string literal with every non-alphanumeric character escaped.

    Used for page-footer text inside ``<style>``, where HTML escaping does not apply.
    """
    text = str(value)
    out = []
    for char in text:
        if char.isascii() and (char.isalnum() or char in " .,:_"):
            out.append(char)
        else:
            out.append(f"\\{ord(char):06x}")
    return Markup('"' + "".join(out) + '"')


def make_environment(roots: Sequence[Path]) -> jinja2.Environment:
    """Build the report environment over the given template folders (first one wins)."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(r)) for r in roots]
    # "shipped/report.html" names the shipped template even where a user file overrides it,
    # so that a user template can extend the shipped one and replace a few blocks.
    loaders.append(jinja2.PrefixLoader({"shipped": jinja2.FileSystemLoader(str(roots[-1]))}))
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["css_string"] = css_string
    return env
