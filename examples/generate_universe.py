"""Write the synthetic example universe (about 20,000 coded encounters, Q1 2026) as CSV.

    python examples/generate_universe.py --out examples/universe.csv [--rows N] [--seed S]
    python examples/generate_universe.py --hcc --out examples/enrollees.csv [--rows N]

``--hcc`` writes synthetic Medicare Advantage enrollee-years instead (2,000 by default, for the
hcc basis and the mock-radv preset; audit_kit.demo.example_data.enrollees).

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
from audit_kit.demo.example_data.enrollees import (
    HCC_DEFAULT_ROWS,
    HCC_EXAMPLE_SEED,
    write_enrollees,
)
from audit_kit.errors import AuditError

__all__ = ["generate_universe", "main", "write_universe"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples/universe.csv"))
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--hcc", action="store_true", help="enrollee-years for the hcc basis")
    args = parser.parse_args(argv)
    if args.hcc:
        rows = HCC_DEFAULT_ROWS if args.rows is None else args.rows
        seed = HCC_EXAMPLE_SEED if args.seed is None else args.seed
        members = write_enrollees(args.out, rows=rows, seed=seed)
        print(f"Wrote {members.height:,} synthetic enrollee-years to {args.out}")
        return 0
    if args.rows is None:
        args.rows = DEFAULT_ROWS
    if args.seed is None:
        args.seed = EXAMPLE_SEED
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
