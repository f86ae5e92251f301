"""The base of the typed contracts between stages (results.json, sampling.json).

A contract is a frozen pydantic model that refuses unknown keys. It is built by the stage that
writes the file and read back by every stage that reads it, so a key added or renamed on one
side fails loudly on the other. JSON Schemas are generated from the models
(``docs/schema/*.schema.json``; ``tests/test_contracts.py`` fails when one is stale).

Numbers are :data:`Number` (``int | float``, kept as given): the files are written exactly as
before the contract existed, ``0`` stays ``0`` and ``80.0`` stays ``80.0``.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, WithJsonSchema

from audit_kit.errors import InputError, Problem


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a number")
    return value


#: A JSON number, kept as the writer gave it (an int stays an int).
Number = Annotated[int | float, PlainValidator(_number), WithJsonSchema({"type": "number"})]


C = TypeVar("C", bound="Contract")


class Contract(BaseModel):
    """A block of a file between stages: frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_json_dict(self) -> dict[str, Any]:
        """Return the block as written to its file: the keys that were given, in model order."""
        return self.model_dump(mode="python", exclude_unset=True)


def read_contract(model: type[C], data: bytes | str, *, file: str) -> C:
    """Parse ``data`` (JSON) as ``model``; every mismatch is one problem naming the key.

    A file written by another version of audit-kit (a key missing, unknown or of another type)
    is refused with the way out: write it again with this version.
    """
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise InputError.one(
            f"{file} is not JSON.",
            where=file,
            expected="a JSON document",
            found=str(exc),
            fix=f"write {file} again with this version of audit-kit "
            f"(`audit-kit {_WRITERS.get(file, 'score')} ...`).",
        ) from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = [
            Problem(
                where=f"{file}: " + (_dotted(error["loc"], document) or "(top level)"),
                expected=_expected(error),
                found="nothing" if error["type"] == "missing" else repr(error["input"])[:60],
                fix=f"write {file} again with this version of audit-kit "
                f"(`audit-kit {_WRITERS.get(file, 'score')} ...`).",
            )
            for error in exc.errors(include_url=False)
        ]
        raise InputError(
            f"{file} does not match this version of audit-kit "
            f"({len(problems)} problem{'s' if len(problems) != 1 else ''}).",
            problems,
        ) from None


_WRITERS = {"results.json": "score", "sampling.json": "sample"}


#: the key that names an entry of a list, shown beside its index: ``coders[0] (C001)``
_LABELS = ("coder", "provider", "auditor", "setting", "stratum", "unit_id", "category")


def _dotted(loc: tuple[int | str, ...], document: Any) -> str:
    out = ""
    node = document
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            label = next((node[k] for k in _LABELS if isinstance(node, dict) and k in node), None)
            if isinstance(label, str) and label:
                out += f" ({label})"
        elif not _UNION_BRANCH.match(part):
            out += f".{part}" if out else part
            node = node.get(part) if isinstance(node, dict) else None
    return out


#: pydantic names the branch of a tagged union it took (``simple``, ``stratified``)
_UNION_BRANCH = re.compile(r"^(simple|stratified)$")


def _expected(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "no such key"
    if error["type"] == "missing":
        return "this key"
    return str(error["msg"]).removeprefix("Value error, ").removeprefix("Input should be ")
