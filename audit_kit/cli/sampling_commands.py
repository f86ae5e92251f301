"""Commands of this stage (registered on import by audit_kit.cli)."""

from __future__ import annotations
