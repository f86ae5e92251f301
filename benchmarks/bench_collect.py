"""Benchmark: collect 50 returned workbooks of 50 rows vs fastexcel reading the same cells.

Target (docs/performance.md): ``collect`` takes at most 2x what fastexcel takes to read the cells.

    .venv/bin/python benchmarks/bench_collect.py [--workbooks 50] [--rows 50] [--repeat 3]

Builds a synthetic audit (2,500 units, one workbook per auditor), fills every workbook as an
auditor would (openpyxl, not timed), then times, best of ``--repeat`` runs, each on a fresh copy
of the audit folder:

* baseline: ``fastexcel.read_excel(path).load_sheet("Sample", dtypes="string").to_polars()``
  for every file (all cells as text, as collect reads them);
* collect: ``audit_kit.findings.collect`` on the folder of returns (hashing, zip/XML-bomb
  checks, fastexcel reads, every cell re-validated, returned files + findings.csv committed);
* the same collect with ``os.fsync`` made a no-op, to show what durable storage costs (the audit
  folder fsyncs every stored file and its directory).

It prints both ratios (with and without fsync) and the load average before and after: on a busy
machine the numbers move, so read them together.

The ICD-10-CM code set is loaded once before timing (a fixed per-process cost, printed).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

import fastexcel
import openpyxl
import polars as pl
import yaml

from audit_kit.findings import collect
from audit_kit.folder.manifest import AuditFolder
from audit_kit.values.codes import icd10cm_status
from audit_kit.workbook import write_workbooks

DX = [["E11.9", "I10"], ["J44.9"], ["K21.9", "Z79.4", "I10"], ["M54.50"], ["N39.0", "E78.5"]]
CPT = [["99214-25", "93000"], ["99213"], ["G0439"], ["99215"], ["36415", "85025"]]
PLAN = {
    "name": "benchmark",
    "columns": {
        "unit_id": "encounter_id",
        "coder": "coder_id",
        "service_date": "service_dt",
        "dx": "dx_codes",
        "cpt": "cpt_codes",
        "drg": "drg",
        "paid": "paid_amount",
    },
    "design": {"method": "stratified", "strata": {"by": ["coder"]}},
    "size": {"per_stratum": 50},
    "workbook": {"columns": ["unit_id", "coder", "service_date", "dx", "cpt", "drg", "paid"]},
}


def build_audit(root: Path, workbooks: int, rows: int) -> tuple[Path, list[Path]]:
    n = workbooks * rows
    records = [
        {
            "encounter_id": f"E{i:06d}",
            "coder_id": f"C{i % workbooks:03d}",
            "service_dt": f"2026-0{1 + i % 9}-{10 + i % 18}",
            "dx_codes": ";".join(DX[i % len(DX)]),
            "cpt_codes": ";".join(CPT[i % len(CPT)]),
            "drg": f"{65 + i % 300:03d}",
            "paid_amount": f"{100 + (i * 37) % 9000:.2f}",
            "stratum": f"C{i % workbooks:03d}",
            "frame_number": str(i // workbooks + 1),
            "selection_order": str(i // workbooks + 1),
            "spare": "false",
            "weight": "4.0",
        }
        for i in range(n)
    ]
    frame = pl.DataFrame(records).sort(["stratum", "encounter_id"])
    audit = root / "audit"
    folder = AuditFolder.create(audit, name="benchmark")
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    with folder.transaction("sample") as tx:
        tx.write_text("plan.yaml", yaml.safe_dump(PLAN))
        tx.write_json("sampling.json", {"audit": {"name": "benchmark"}})
        tx.write_bytes("sample.csv", buffer.getvalue())
    books = write_workbooks(audit, auditors=[f"auditor{k:02d}" for k in range(workbooks)])
    returned = root / "returned"
    returned.mkdir()
    out: list[Path] = []
    for k, book in enumerate(books):
        wb = openpyxl.load_workbook(book)
        ws = wb["Sample"]
        cols = {c.value: c.column for c in ws[1]}
        for r in range(2, ws.max_row + 1):
            ws.cell(row=r, column=cols["Review status"]).value = "reviewed"
            ws.cell(row=r, column=cols["Review date"]).value = "2026-03-02"
            if r % 5 == 0:
                ws.cell(row=r, column=cols["Audited principal dx"]).value = "E11.65"
                ws.cell(row=r, column=cols["Error category"]).value = "coding"
                ws.cell(row=r, column=cols["Rationale"]).value = "Hyperglycemia documented."
        path = returned / f"return-{k:02d}.xlsx"
        wb.save(path)
        out.append(path)
    return audit, out


def time_baseline(files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        fastexcel.read_excel(path).load_sheet("Sample", dtypes="string").to_polars()
    return time.perf_counter() - start


def time_collect(audit: Path, returned: Path, scratch: Path) -> float:
    copy = scratch / f"audit-{time.perf_counter_ns()}"
    shutil.copytree(audit, copy)
    start = time.perf_counter()
    summary = collect(copy, [returned])
    elapsed = time.perf_counter() - start
    assert sum(f.status == "accepted" for f in summary.files) == len(list(returned.glob("*.xlsx")))
    shutil.rmtree(copy)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workbooks", type=int, default=50)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        audit, files = build_audit(root, args.workbooks, args.rows)
        print(
            f"setup: {args.workbooks} workbooks x {args.rows} rows written and filled "
            f"in {time.perf_counter() - t0:.1f} s (not timed)"
        )
        t0 = time.perf_counter()
        icd10cm_status("E11.9")
        print(f"ICD-10-CM code set load (once per process): {time.perf_counter() - t0:.3f} s")
        load_before = os.getloadavg()
        # The three timings are interleaved, round by round, so that a change in the machine's
        # load during the run weighs on all of them alike; each keeps its best round.
        baselines, collects, no_syncs = [], [], []
        real_fsync = os.fsync
        for _ in range(args.repeat):
            baselines.append(time_baseline(files))
            collects.append(time_collect(audit, root / "returned", root))
            # The same collect with fsync made a no-op: what durable (fsynced) storage costs.
            os.fsync = lambda fd: None
            try:
                no_syncs.append(time_collect(audit, root / "returned", root))
            finally:
                os.fsync = real_fsync
        baseline, collected, no_sync = min(baselines), min(collects), min(no_syncs)
        load_after = os.getloadavg()
        ratio = collected / baseline
        ratio_no_sync = no_sync / baseline
        print(f"fastexcel read of the Sample cells:       {baseline:.3f} s")
        print(f"audit-kit collect (validate, store):      {collected:.3f} s")
        print(f"  the same without fsync (not durable):   {no_sync:.3f} s")
        print(f"  so fsync (durable storage) costs:       {collected - no_sync:.3f} s")
        print(f"ratio: {ratio:.2f}x (target <= 2.0x) -> {'OK' if ratio <= 2.0 else 'OVER TARGET'}")
        print(
            f"ratio without fsync: {ratio_no_sync:.2f}x -> "
            f"{'OK' if ratio_no_sync <= 2.0 else 'OVER TARGET'}"
        )
        print(
            "load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}, after: "
            "{:.2f} {:.2f} {:.2f} on {} CPUs".format(*load_before, *load_after, os.cpu_count())
        )


if __name__ == "__main__":
    main()
