"""Shipped resources: sampling-plan presets and report templates, from a checkout or a wheel."""

from __future__ import annotations

from pathlib import Path

from audit_kit.errors import PlanError

__all__ = ["list_presets", "preset_dir", "preset_summary", "resolve_plan_path", "template_dir"]

_PKG = Path(__file__).resolve().parent.parent


def _resource(name: str) -> Path:
    # In a wheel the folders are packaged under audit_kit/_data; in a checkout they sit at the top.
    packaged = _PKG / "_data" / name
    return packaged if packaged.is_dir() else _PKG.parent / name


def preset_dir() -> Path:
    return _resource("sampling_plans")


def template_dir() -> Path:
    return _resource("templates")


def list_presets() -> dict[str, Path]:
    """Return preset name -> file, sorted by name."""
    folder = preset_dir()
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def preset_summary(path: Path) -> str:
    """Return a preset's one-line summary: the first comment line of its header."""
    for line in path.read_text("utf-8").splitlines():
        text = line.strip()
        if text.startswith("#"):
            summary = text.lstrip("#").strip()
            if summary:
                return summary
        elif text:
            break
    return ""


def resolve_plan_path(path: Path | str) -> Path:
    """Accept a plan file path, or the name of a shipped preset."""
    candidate = Path(path)
    if candidate.is_file():
        return candidate
    presets = list_presets()
    if str(path) in presets:
        return presets[str(path)]
    raise PlanError.one(
        "Sampling plan not found.",
        where=str(path),
        expected="a plan file, or a preset name: " + (", ".join(presets) or "(none)"),
        found="no such file or preset",
        fix="check the path, or list presets with `audit-kit plans`.",
    )
