"""Write the synthetic example universe (about 20,000 coded encounters, Q1 2026) as CSV.

    python examples/generate_universe.py --out examples/universe.csv [--rows N] [--seed S]

The same seed gives the same file, byte for byte. The generator lives in the package
(audit_kit.demo.example_data.generate_universe(rows, seed) -> polars.DataFrame, re-exported here) so
that `audit-kit demo` can use it from an installed wheel; this script is a thin wrapper.
Synthetic data only: patients are "Testpatient ..." with FAKE- MRNs; see examples/README.md for
what is real and what is made up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audit_kit.demo.example_data import (
    DEFAULT_ROWS,
    EXAMPLE_SEED,
    generate_universe,
    write_universe,
)
from audit_kit.errors import AuditError

__all__ = ["generate_universe", "main", "write_universe"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples/universe.csv"))
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=EXAMPLE_SEED)
    args = parser.parse_args(argv)
    try:
        frame = write_universe(args.out, rows=args.rows, seed=args.seed)
    except AuditError as exc:
        print(f"Error: {exc.render()}", file=sys.stderr)
        return 1
    coders = frame["coder_id"].n_unique()
    print(f"Wrote {frame.height:,} synthetic encounters ({coders} coders) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
