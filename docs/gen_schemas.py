"""Write the JSON Schemas of the contracts between stages into docs/schema/.

    python docs/gen_schemas.py            # rewrite docs/schema/*.schema.json
    python docs/gen_schemas.py --check    # exit 1 if one is out of date

results.json and sampling.json are typed models (audit_kit/folder/results.py and
sampling_record.py); the schemas are generated from them, so they cannot drift:
tests/test_contracts.py fails when a file here is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from audit_kit.folder.results import Results
from audit_kit.folder.sampling_record import SamplingRecord

OUT = Path(__file__).resolve().parent / "schema"
SCHEMAS = {
    "results.schema.json": (Results, "results.json: the scores of an audit (audit-kit score)"),
    "sampling.schema.json": (
        SamplingRecord,
        "sampling.json: the sampling record (audit-kit sample)",
    ),
}


def render() -> dict[str, str]:
    """Return each schema file's text."""
    out = {}
    for name, (model, title) in SCHEMAS.items():
        schema = model.model_json_schema(mode="serialization")
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
        schema["title"] = title
        out[name] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a schema is stale")
    args = parser.parse_args()
    stale = [name for name, text in render().items() if _read(OUT / name) != text]
    if args.check:
        for name in stale:
            print(f"docs/schema/{name} is out of date: run python docs/gen_schemas.py")
        return 1 if stale else 0
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text, encoding="utf-8")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


if __name__ == "__main__":
    sys.exit(main())
