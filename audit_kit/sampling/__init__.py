"""Frame -> strata -> sizes -> draw -> sample.csv and the sampling record; re-draw for verify.

The steps, in the order they are applied (docs/plans.md, docs/methods.md section 1):

1. **Frame.** The universe's frame columns are read (unit id, strata, sampling variable, filter
   columns); the plan's filters are applied in order, each exclusion counted. Unit ids must be
   present and unique; amounts numbers >= 0.
2. **Order.** The frame is sorted by unit id -- as whole numbers when every id is a number,
   otherwise as text in Unicode code-point order -- so the sample never depends on the order of
   the export. Units are numbered 1..N_h in that order within each stratum.
3. **Strata.** By the values of ``strata.by`` columns, by dollar bands ``[e_i, e_i+1)`` of a
   numeric column (the last band open-ended), or both (every combination); units at or above the
   ``certainty`` threshold form one certainty stratum taken in full. An empty stratum is an error
   naming it (unless ``skip_empty``).
4. **Sizes.** ``n`` (simple), ``per_stratum`` (a number or one per stratum), ``total`` with
   proportional / Neyman / equal allocation (:func:`audit_kit.stats.allocate`; Neyman uses the
   frame's SD of the sampling variable per stratum), or ``target`` (confidence and precision with
   a probe sample, :mod:`audit_kit.stats`). A stratum with N_h <= n_h is taken in full (census).
5. **Draw.** A simple design draws frame numbers 1..N from the audit seed itself, so with the
   ``ratstats`` generator they are exactly what RAT-STATS single-stage prints for that seed.
   A stratified design gives each stratum its own stream, seeded by
   :func:`audit_kit.stats.rng.stratum_seed` (SHA-256 of ``"<seed>|<stratum label>"``), so adding a
   stratum never changes another. Spares follow the sample in the order drawn.
6. **Record.** plan.yaml (as used, seed filled in), sampling.json, sampling.txt and sample.csv
   are written in one audit-folder transaction.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from audit_kit.errors import AuditError, IntegrityError, PlanError, Problem
from audit_kit.folder.manifest import AuditFolder, now_iso, sha256_bytes
from audit_kit.plan import SamplingPlan, load_plan_text, parse_plan_text, with_seed
from audit_kit.sampling._engine import draw_engine_units, file_fingerprint
from audit_kit.sampling._record import (
    DESIGN_COLUMNS,
    RATSTATS_CAVEAT,
    Progress,
    SampleSummary,
    Stratum,
    VerifyReport,
    csv_bytes,
    sampling_record,
    sampling_statement,
)
from audit_kit.sampling._select import Drawn, draw_units
from audit_kit.sampling.engines import is_engine_url, open_engine
from audit_kit.sampling.engines.fingerprint import changed_strata
from audit_kit.sampling.pseudonym import key_fingerprint, load_key, pseudonymise
from audit_kit.stats import rng as rng_mod
from audit_kit.universe import Encoding, open_universe
from audit_kit.values.compare import same_value

__all__ = [
    "verify",
    "sample",
    "DESIGN_COLUMNS",
    "RATSTATS_CAVEAT",
    "SampleSummary",
    "Stratum",
    "VerifyReport",
    "draw_sample",
    "read_sample",
    "verify_audit",
]


def _noop(_: str) -> None:
    pass


# -- entry points ----------------------------------------------------------------------------


def draw_sample(
    plan_path: Path | str,
    universe: Path | str,
    out: Path,
    *,
    seed: float | None = None,
    force: bool = False,
    progress: Progress | None = None,
    key_file: Path | None = None,
    encoding: Encoding = "auto",
    sheet: str | None = None,
    table: str | None = None,
    query: str | None = None,
    password_file: Path | None = None,
) -> SampleSummary:
    """Draw the plan's sample from the universe and create the audit folder ``out``.

    ``universe`` is a file, or an engine URL (``duckdb:///...``, ``postgresql://...``,
    ``spark:MASTER``, ``sc://...``) with ``table`` or ``query``: the census and the fetch of
    the sampled rows then run in the engine (docs/databases.md).

    Writes plan.yaml (the plan text as used, seed filled in when generated or given here),
    sampling.json, sampling.txt and sample.csv in one transaction; nothing is written if any
    check fails. ``seed`` overrides a plan without a seed (a different plan seed is refused);
    ``key_file`` is required when the plan sets ``pseudonymise: true``.
    """
    say = progress or _noop
    out = Path(out)
    plan, text, resolved = load_plan_text(plan_path)
    if out.exists() and out.is_dir() and any(out.iterdir()) and not force:
        AuditFolder.create(out, name=plan.name)  # raises the "non-empty folder" error
    key = _key_for(plan, key_file, out)
    entered = plan.rng.seed
    if seed is not None and entered is not None and float(seed) != float(entered):
        raise PlanError.one(
            "Two different seeds.",
            where=f"{resolved}: rng.seed",
            expected=f"the same seed as --seed {seed}, or no seed in the plan",
            found=str(entered),
            fix="drop --seed, or remove rng.seed from the plan.",
        )
    seed_entered = entered if entered is not None else seed
    seed_value = seed_entered if seed_entered is not None else rng_mod.new_seed()
    if seed_value != entered:
        text = with_seed(text, seed_value)
    if is_engine_url(str(universe)):
        source = open_engine(str(universe), table=table, query=query, password_file=password_file)
        try:
            drawn = draw_engine_units(
                plan,
                source,
                seed_value,
                say=say,
                plan_dir=resolved.parent,
                plan_source=str(resolved),
            )
        finally:
            source.close()
        read_options: dict[str, object] = {}
        universe_name = source.name
        universe_key = source.fingerprint["digest"] if source.fingerprint else ""
    else:
        _no_engine_options(table, query, password_file)
        uni = open_universe(
            Path(universe),
            encoding=encoding,
            sheet=sheet,
            progress=say,
            header_row=plan.frame.header_row,
        )
        try:
            drawn = draw_units(
                plan, uni, seed_value, say=say, plan_dir=resolved.parent, plan_source=str(resolved)
            )
        finally:
            uni.close()
        read_options = {"encoding": encoding, "delimiter": uni.delimiter, "sheet": uni.sheet}
        universe_name = uni.path.name
        universe_key = uni.sha256
    sample = drawn.sample
    fingerprint = None
    if plan.pseudonymise:
        assert key is not None
        sample = pseudonymise(sample, plan.columns.phi_columns(), key)
        fingerprint = key_fingerprint(key)
    say(f"Writing the audit folder {out}")
    folder = AuditFolder.create(out, name=plan.name, force=force)
    record = sampling_record(
        plan,
        drawn,
        audit_id=folder.audit_id,
        seed=seed_value,
        generated=seed_entered is None,
        plan_sha=sha256_bytes(text.encode("utf-8")),
        fingerprint=fingerprint,
        read_options=read_options,
        created_at=now_iso(),
    )
    statement = sampling_statement(plan, record, drawn)
    details = {
        "population": record["frame"]["size"],
        "sample": record["sample_size"]["n"],
        "spares": record["spares"]["total"],
        "strata": len(drawn.strata),
        "generator": plan.rng.generator,
        "seed": record["generator"]["seed"],
    }
    inputs = {universe_name: universe_key, "plan": sha256_bytes(resolved.read_bytes())}
    with folder.transaction("sample", inputs=inputs, details=details) as tx:
        tx.write_text("plan.yaml", text)
        tx.write_json("sampling.json", record)
        tx.write_text("sampling.txt", statement)
        tx.write_bytes("sample.csv", csv_bytes(sample))
    return SampleSummary(
        audit_dir=out,
        audit_id=folder.audit_id,
        plan_name=plan.name,
        universe_file=universe_name,
        universe_rows=drawn.frame.file_rows,
        population=record["frame"]["size"],
        sample_size=record["sample_size"]["n"],
        spares=record["spares"]["total"],
        strata=tuple(drawn.strata),
        generator=plan.rng.generator,
        seed=record["generator"]["seed"],
        seed_generated=seed_entered is None,
        excluded=tuple((e["filter"], e["rows"]) for e in drawn.frame.excluded),
        files=("plan.yaml", "sampling.json", "sampling.txt", "sample.csv"),
        notes=tuple(record["notes"]),
    )


def _no_engine_options(table: str | None, query: str | None, password_file: Path | None) -> None:
    given = [
        name
        for name, value in (
            ("--table", table),
            ("--query", query),
            ("--password-file", password_file),
        )
        if value is not None
    ]
    if given:
        raise AuditError(
            "These options are for a database universe.",
            [
                Problem(
                    where=", ".join(given),
                    expected="--universe duckdb:///..., postgresql://..., spark:... or sc://...",
                    found="a universe file",
                    fix="drop them for a file, or give the database URL as --universe.",
                )
            ],
        )


def _key_for(plan: SamplingPlan, key_file: Path | None, out: Path) -> bytes | None:
    if plan.pseudonymise and key_file is None:
        raise AuditError.one(
            "This plan pseudonymises patient identifiers and needs a key.",
            where="--key-file",
            expected="the path of your pseudonymisation key (outside the audit folder)",
            found="none",
            fix='make one once: python -c "import secrets; print(secrets.token_hex(32))" '
            "> ~/.audit-kit/pseudonym.key, then pass --key-file with that path.",
        )
    if key_file is not None and not plan.pseudonymise:
        raise AuditError.one(
            "A key file was given but the plan does not pseudonymise.",
            where="--key-file",
            expected="pseudonymise: true in the plan",
            found="pseudonymise: false",
            fix="add pseudonymise: true to the plan, or drop --key-file.",
        )
    return load_key(key_file, audit_dir=out) if key_file is not None else None


def read_sample(audit: Path | AuditFolder) -> pl.DataFrame:
    """Read sample.csv (hash-checked): universe columns as text, design columns typed."""
    folder = audit if isinstance(audit, AuditFolder) else AuditFolder.open(Path(audit))
    data = folder.read_bytes("sample.csv")
    types = {
        "frame_number": pl.Int64,
        "selection_order": pl.Int64,
        "spare": pl.Boolean,
        "weight": pl.Float64,
    }
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    return frame.with_columns(
        (pl.col(c).str.to_lowercase() == "true").alias(c) if t == pl.Boolean else pl.col(c).cast(t)
        for c, t in types.items()
        if c in frame.columns
    )


def verify_audit(
    audit_dir: Path,
    universe: Path | str | None = None,
    *,
    key_file: Path | None = None,
    progress: Progress | None = None,
    table: str | None = None,
    query: str | None = None,
    password_file: Path | None = None,
) -> VerifyReport:
    """Check every artifact's SHA-256; with the universe, re-draw and prove sample.csv identical.

    ``universe`` is a file, or an engine URL with ``table`` or ``query``: the frame is counted
    again in the engine and its content fingerprint compared with the recorded one (the
    changed strata are named). Raises :class:`IntegrityError` naming every failing file.
    Patient columns pseudonymised in sample.csv are compared only when ``key_file`` is given
    (the key is not in the folder).
    """
    say = progress or _noop
    folder = AuditFolder.open(Path(audit_dir))
    problems = folder.verify_hashes()
    files = len(folder.artifacts())
    notes: list[str] = [
        f"{workbook} was filled in place and collected: its return is stored as {stored} "
        "(the workbook as issued is recorded in the .json beside it)."
        for workbook, stored in folder.filled_in_place().items()
    ]
    if universe is None:
        if problems:
            raise IntegrityError(_integrity_summary(problems), problems)
        notes += _record_verification(folder, redrawn=False, universe_sha256=None, files=files)
        return VerifyReport(
            audit_dir=folder.path,
            audit_id=folder.audit_id,
            files_checked=files,
            redrawn=False,
            notes=tuple(notes),
        )
    changed = {Path(p.where).name for p in problems}
    if changed & {"plan.yaml", "sampling.json"}:
        raise IntegrityError(_integrity_summary(problems), problems)
    record = folder.read_json("sampling.json")
    text = folder.read_bytes("plan.yaml").decode("utf-8")
    plan = parse_plan_text(text, source=str(folder.file("plan.yaml")))
    recorded_uni = record.get("universe", {})
    recorded_fp = recorded_uni.get("fingerprint")
    other_file = False
    other_file_problem: Problem | None = None
    seed = plan.rng.seed if plan.rng.seed is not None else record["generator"]["seed"]
    probe = record.get("sample_size", {}).get("probe")
    plan_source = str(folder.file("plan.yaml"))
    found_fp: dict[str, object] | None = None
    if is_engine_url(str(universe)):
        source = open_engine(str(universe), table=table, query=query, password_file=password_file)
        try:
            drawn = draw_engine_units(
                plan, source, seed, say=say, plan_dir=None, probe=probe, plan_source=plan_source
            )
        finally:
            source.close()
        found_fp = source.fingerprint
        universe_name = source.name
        universe_key = source.fingerprint["digest"] if source.fingerprint else ""
        if recorded_fp is None:
            notes.append(
                f"The sample was drawn from the file {recorded_uni.get('file')}; {universe_name} "
                "was compared by re-drawing the sample (a file has no engine fingerprint)."
            )
    else:
        _no_engine_options(table, query, password_file)
        options = recorded_uni.get("read_options", {})
        uni = open_universe(
            Path(universe),
            encoding=options.get("encoding", "auto"),
            delimiter=options.get("delimiter"),
            sheet=options.get("sheet"),
            progress=say,
            header_row=plan.frame.header_row,
        )
        try:
            if recorded_uni.get("sha256") is not None and uni.sha256 != recorded_uni["sha256"]:
                # Judged after the re-draw: another file may hold the same data.
                other_file = True
                other_file_problem = Problem(
                    where=str(uni.path),
                    expected=f"the universe sampled: {recorded_uni['file']}, SHA-256 "
                    f"{recorded_uni['sha256']}",
                    found=f"SHA-256 {uni.sha256}",
                    fix="pass the universe file the sample was drawn from (archive it with "
                    "the audit).",
                )
            drawn = draw_units(
                plan, uni, seed, say=say, plan_dir=None, probe=probe, plan_source=plan_source
            )
            if recorded_fp is not None:
                say("Computing the frame's content fingerprint")
                found_fp = file_fingerprint(plan, uni, drawn)
        finally:
            uni.close()
        universe_name = uni.path.name
        universe_key = uni.sha256
    if recorded_fp is not None and found_fp is not None:
        strata = changed_strata(recorded_fp, found_fp)
        if strata:
            problems.append(
                Problem(
                    where=f"{universe_name}: frame",
                    expected=f"the frame fingerprinted when sampling (digest "
                    f"{recorded_fp.get('digest')})",
                    found=f"other content in {len(strata)} stratum(s): "
                    + ", ".join(repr(s) for s in strata[:10]),
                    fix="rows of those strata changed since the sample was drawn (an amount, an "
                    "id, a stratum value, or rows added or removed): sample from the data as it "
                    "was (a snapshot or archived copy), or document the change.",
                )
            )
        elif recorded_uni.get("file") is None and not is_engine_url(str(universe)):
            notes.append(
                f"{universe_name} holds the same frame as {recorded_uni.get('url')} (same "
                "content fingerprint): same data, other source."
            )
    expected = drawn.sample
    phi = plan.columns.phi_columns() if plan.pseudonymise else []
    if phi and key_file is not None:
        key = load_key(key_file, audit_dir=folder.path)
        fingerprint = record.get("pseudonymisation", {}).get("key_fingerprint")
        if key_fingerprint(key) != fingerprint:
            problems.append(
                Problem(
                    where=str(key_file),
                    expected=f"the key used for this audit (fingerprint {fingerprint})",
                    found=f"another key (fingerprint {key_fingerprint(key)})",
                    fix="pass the key file used when sampling.",
                )
            )
        else:
            expected = pseudonymise(expected, phi, key)
            phi = []
    elif phi:
        notes.append(
            "Pseudonymised columns (" + ", ".join(phi) + ") were not compared: pass --key-file "
            "to compare them too."
        )
    same_data = False
    if other_file:
        # Another file (the XLSX of a CSV export, a re-export): the same data if it gives the
        # same frame (size, exclusions, strata) and the same sample, values read alike.
        frame_diff = same_frame(record, drawn)
        recorded_sample = folder.read_csv("sample.csv", infer_schema=False)
        sample_diff = same_sample_values(
            recorded_sample, expected, skip=phi, exact=[plan.columns.unit_id]
        )
        same_data = frame_diff is None and sample_diff is None and "sample.csv" not in changed
        if same_data:
            notes.append(
                f"Same data, other file: {uni.path.name} is not the file sampled "
                f"({record['universe']['file']}, SHA-256 {record['universe']['sha256'][:12]}...) "
                "but holds the same frame (units, exclusions, strata sizes) and gives the same "
                "sample, values read alike (amounts as amounts, dates as dates)."
            )
        else:
            found = f"SHA-256 {uni.sha256}" + (f", and {frame_diff}" if frame_diff else "")
            assert other_file_problem is not None
            problems.append(replace(other_file_problem, found=found))
            if sample_diff is not None and "sample.csv" not in changed:
                problems.append(
                    Problem(
                        where=str(folder.file("sample.csv")),
                        expected=f"the sample re-drawn from plan.yaml, seed {seed} and "
                        f"{uni.path.name} ({expected.height} rows)",
                        found=sample_diff,
                        fix="the sample was not drawn from this universe with this plan and "
                        "seed; pass the universe it was drawn from.",
                    )
                )
    if "sample.csv" not in changed and not same_data and not other_file:
        recorded = folder.read_bytes("sample.csv")
        mismatch = _compare_samples(recorded, csv_bytes(expected), plan.columns.unit_id, skip=phi)
        if mismatch is not None:
            problems.append(
                Problem(
                    where=str(folder.file("sample.csv")),
                    expected=f"the sample re-drawn from plan.yaml, seed {seed} and "
                    f"{universe_name} ({expected.height} rows)",
                    found=mismatch,
                    fix="the sample was not drawn from this universe with this plan and seed; "
                    "restore the audit folder from its archive copy.",
                )
            )
    if problems:
        raise IntegrityError(_integrity_summary(problems), problems)
    notes += _record_verification(
        folder,
        redrawn=True,
        universe_sha256=universe_key,
        files=files,
        inputs={universe_name: universe_key},
    )
    return VerifyReport(
        audit_dir=folder.path,
        audit_id=folder.audit_id,
        files_checked=files,
        redrawn=True,
        units=expected.height,
        strata=len(drawn.strata),
        universe_file=universe_name,
        notes=tuple(notes),
    )


def _record_verification(
    folder: AuditFolder,
    *,
    redrawn: bool,
    universe_sha256: str | None,
    files: int,
    inputs: dict[str, str] | None = None,
) -> list[str]:
    """Append a ``verify`` event (no files) to the event log; return a note if it cannot be.

    An archived copy is often read-only: the verification itself stands, only its record is
    missing, and the note says so.
    """
    details = {"redrawn": redrawn, "universe_sha256": universe_sha256, "hashes_checked": files}
    try:
        with folder.transaction("verify", inputs=inputs, details=details):
            pass
    except OSError:
        return [
            "The verification could not be recorded in audit.json (the folder is read-only); "
            "the result above stands."
        ]
    return []


def _integrity_summary(problems: list[Problem]) -> str:
    names = sorted({Path(p.where.split(":")[0]).name for p in problems})
    return f"The audit folder fails verification ({len(problems)} problem(s): {', '.join(names)})."


def same_frame(record: dict[str, Any], drawn: Drawn) -> str | None:
    """What differs between a recorded frame and a re-drawn one (size, exclusions, strata)."""
    frame = record.get("frame", {})
    size = sum(s.population for s in drawn.strata)
    if int(frame.get("size", -1)) != size:
        return f"a frame of {size} units instead of {frame.get('size')}"
    recorded = [int(e["rows"]) for e in frame.get("excluded", [])]
    found = [int(e["rows"]) for e in drawn.frame.excluded]
    if recorded != found:
        return f"rows excluded by the filters: {found} instead of {recorded}"
    sizes = {str(s["stratum"]): int(s["population"]) for s in record.get("strata", [])}
    again = {str(s["stratum"]): int(s["population"]) for s in (x.to_record() for x in drawn.strata)}
    if sizes != again:
        changed = sorted(k for k in sizes.keys() | again.keys() if sizes.get(k) != again.get(k))
        return "other stratum sizes: " + ", ".join(changed[:5])
    return None


def same_sample_values(
    recorded: pl.DataFrame, drawn: pl.DataFrame, *, skip: list[str], exact: list[str]
) -> str | None:
    """What differs between two samples once each value is read as what it is (an amount, a
    date, text): the same rows of a CSV and an XLSX are written differently."""
    if recorded.columns != drawn.columns:
        return "other columns: " + ", ".join(drawn.columns)
    if recorded.height != drawn.height:
        return f"{drawn.height} rows instead of {recorded.height}"
    bad: list[str] = []
    for col in recorded.columns:
        if col in skip:
            continue
        a = recorded[col].cast(pl.String).to_list()
        b = drawn[col].cast(pl.String).to_list()
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if not (x == y if col in exact else same_value(x, y)):
                bad.append(f"row {i + 2}, column {col}")
    if bad:
        return f"{len(bad)} values differ, e.g. " + "; ".join(bad[:3])
    return None


def _compare_samples(
    recorded: bytes, expected: bytes, id_col: str, *, skip: list[str]
) -> str | None:
    """Return what differs between the recorded and the re-drawn sample.csv, or None."""
    if not skip and recorded == expected:
        return None
    a = pl.read_csv(io.BytesIO(recorded), infer_schema=False)
    b = pl.read_csv(io.BytesIO(expected), infer_schema=False)
    if a.columns != b.columns:
        return "other columns: " + ", ".join(a.columns)
    cols = [c for c in b.columns if c not in skip]
    a, b = a.select(cols), b.select(cols)
    if a.equals(b):
        return None if skip else "the same rows written differently"
    if a.height != b.height:
        return f"{a.height} rows instead of {b.height}"
    both = a.with_row_index("__i").join(b.with_row_index("__i"), on="__i", suffix="__b")
    bad = []
    for row in both.iter_rows(named=True):
        changed = [c for c in cols if row[c] != row[f"{c}__b"]]
        if changed:
            bad.append(f"row {row['__i'] + 2} (unit {row[id_col]}: {', '.join(changed)})")
    return f"{len(bad)} rows differ, e.g. " + "; ".join(bad[:3])


# The library names of the commands (`audit-kit sample`, `audit-kit verify`).
sample = draw_sample
verify = verify_audit
