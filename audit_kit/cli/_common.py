"""Options and output helpers shared by the commands."""

from __future__ import annotations

import contextvars
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = [
    "JSON_REQUESTED",
    "audit_dir_argument",
    "engine_options",
    "universe_source",
    "echo_json",
    "json_option",
    "progress_printer",
    "quiet_option",
    "to_jsonable",
]

F = TypeVar("F", bound=Callable[..., Any])

JSON_REQUESTED: contextvars.ContextVar[bool] = contextvars.ContextVar("json", default=False)


def json_option(func: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document on stdout."
    )(func)


def quiet_option(func: F) -> F:
    return click.option("--quiet", "-q", is_flag=True, help="No progress output.")(func)


def _echo_progress(message: str) -> None:
    click.echo(f"... {message}", err=True)


def progress_printer(*, quiet: bool) -> Callable[[str], None] | None:
    """Return the progress callback that prints ``... message`` lines on stderr, or None."""
    return None if quiet else _echo_progress


def engine_options(func: F) -> F:
    """--table / --query / --password-file: a universe in a database or warehouse."""
    func = click.option(
        "--password-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="PostgreSQL: a file holding the password (else PGPASSWORD, ~/.pgpass or a "
        "service file). Never recorded or printed.",
    )(func)
    func = click.option(
        "--query",
        default=None,
        metavar="SQL",
        help="With a database URL: a SELECT that yields the universe.",
    )(func)
    return click.option(
        "--table",
        default=None,
        metavar="NAME",
        help="With a database URL: the table or view holding the universe (Spark: any "
        "relation, e.g. parquet.`/data/claims`).",
    )(func)


def universe_source(value: str | None) -> Path | str | None:
    """A --universe value: a database URL stays text (its slashes count), else a path."""
    if value is None:
        return None
    if value.startswith(("duckdb://", "postgresql://", "postgres://", "spark:", "sc://")):
        return value
    return Path(value)


def audit_dir_argument(func: F) -> F:
    return click.argument(
        "audit_dir",
        metavar="AUDIT_DIR",
        type=click.Path(file_okay=False, path_type=Path),
    )(func)


def to_jsonable(obj: Any) -> Any:
    """Convert results (dataclasses with to_dict, paths, NaN) into plain JSON values."""
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(to_jsonable(obj), ensure_ascii=False))
