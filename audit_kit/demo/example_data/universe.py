"""Generate the example universe (:func:`generate_universe`) and write it as CSV."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from audit_kit.demo.example_data.cases import Setting
from audit_kit.demo.example_data.encounters import EncounterBuilder, cumulative_shares
from audit_kit.demo.example_data.fees import DrgGrouper
from audit_kit.errors import InputError, Problem

EXAMPLE_SEED = 20260401
DEFAULT_ROWS = 20_000
MIN_ROWS = 120
MAX_ROWS = 5_000_000

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Coder:
    id: str
    setting: Setting
    volume: float  # relative share of its setting's encounters


CODERS: tuple[Coder, ...] = (
    Coder("C01", "inpatient", 1.00),
    Coder("C02", "inpatient", 0.85),
    Coder("C03", "inpatient", 1.10),
    Coder("C04", "outpatient", 1.00),
    Coder("C05", "outpatient", 1.20),
    Coder("C06", "outpatient", 0.80),
    Coder("C07", "outpatient", 1.00),
    Coder("C08", "professional", 1.00),
    Coder("C09", "professional", 1.15),
    Coder("C10", "professional", 0.90),
    Coder("C11", "professional", 1.05),
    Coder("C12", "professional", 0.90),
)
_SETTING_SHARE = {"inpatient": 0.12, "outpatient": 0.38, "professional": 0.50}
_PROVIDERS = {"inpatient": (1, 14), "outpatient": (15, 26), "professional": (27, 44)}

UNIVERSE_COLUMNS = (
    "encounter_id",
    "patient_name",
    "mrn",
    "age",
    "sex",
    "setting",
    "payer",
    "provider_id",
    "coder_id",
    "admit_date",
    "service_date",
    "discharge_status",
    "dx_codes",
    "px_codes",
    "cpt_codes",
    "units",
    "drg",
    "billed_amount",
    "paid_amount",
)

_GREEK = (
    "Alpha",
    "Beta",
    "Gamma",
    "Delta",
    "Epsilon",
    "Zeta",
    "Eta",
    "Theta",
    "Iota",
    "Kappa",
    "Lambda",
    "Mu",
    "Nu",
    "Xi",
    "Omicron",
    "Pi",
    "Rho",
    "Sigma",
    "Tau",
    "Upsilon",
    "Phi",
    "Chi",
    "Psi",
    "Omega",
)

# -- payers --------------------------------------------------------------------------------------

_PAYERS = ("Medicare", "Medicare Advantage", "Medicaid", "Commercial", "Self-pay")
_PAYER_FACTOR = {
    "Medicare": 1.0,
    "Medicare Advantage": 0.98,
    "Medicaid": 0.74,
    "Commercial": 1.42,
    "Self-pay": 0.35,
}

_PAYER_65 = cumulative_shares((0.62, 0.30, 0.01, 0.05, 0.02))
_PAYER_UNDER_65 = cumulative_shares((0.03, 0.0, 0.26, 0.63, 0.08))

_SCHEMA: dict[str, type[pl.DataType]] = {
    "encounter_id": pl.Utf8,
    "patient_name": pl.Utf8,
    "mrn": pl.Utf8,
    "age": pl.Int64,
    "sex": pl.Utf8,
    "setting": pl.Utf8,
    "payer": pl.Utf8,
    "provider_id": pl.Utf8,
    "coder_id": pl.Utf8,
    "admit_date": pl.Utf8,
    "service_date": pl.Utf8,
    "discharge_status": pl.Utf8,
    "dx_codes": pl.Utf8,
    "px_codes": pl.Utf8,
    "cpt_codes": pl.Utf8,
    "units": pl.Int64,
    "drg": pl.Utf8,
    "billed_amount": pl.Float64,
    "paid_amount": pl.Float64,
}


def _check_rows(rows: int, seed: int) -> None:
    problems = []
    if isinstance(rows, bool) or not isinstance(rows, int) or not MIN_ROWS <= rows <= MAX_ROWS:
        problems.append(
            Problem(
                where="rows",
                expected=f"a whole number from {MIN_ROWS:,} to {MAX_ROWS:,}",
                found=repr(rows),
                fix=f"ask for at least {MIN_ROWS} rows (10 per coder).",
            )
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(
            Problem(
                where="seed",
                expected="a non-negative whole number",
                found=repr(seed),
                fix="pass an integer seed such as 20260401.",
            )
        )
    if problems:
        raise InputError("Cannot generate the example universe.", problems)


def _probabilities(weights: Sequence[float] | FloatArray) -> FloatArray:
    array: FloatArray = np.asarray(weights, dtype=np.float64)
    return array / float(array.sum())


def _assign_coders(rng: np.random.Generator, rows: int) -> list[tuple[str, str]]:
    """Return (setting, coder) per row; every coder gets a floor share, the rest by volume."""
    n_in = round(rows * _SETTING_SHARE["inpatient"])
    n_out = round(rows * _SETTING_SHARE["outpatient"])
    counts = {"inpatient": n_in, "outpatient": n_out, "professional": rows - n_in - n_out}
    out: list[tuple[str, str]] = []
    for setting, count in counts.items():
        pool = [c for c in CODERS if c.setting == setting]
        floor = max(1, count // (10 * len(pool)))
        extra = rng.choice(
            len(pool), size=count - floor * len(pool), p=_probabilities([c.volume for c in pool])
        )
        picks = np.concatenate([np.repeat(np.arange(len(pool)), floor), extra])
        rng.shuffle(picks)
        out.extend((setting, pool[int(i)].id) for i in picks)
    return out


def generate_universe(rows: int = DEFAULT_ROWS, seed: int = EXAMPLE_SEED) -> pl.DataFrame:
    """Generate the synthetic example universe: ``rows`` encounters, deterministic in ``seed``.

    Columns are :data:`UNIVERSE_COLUMNS`; code lists are ``;``-joined strings, principal
    diagnosis first, CPT/HCPCS items with their modifiers (``99214-25``), units summed over the
    lines; dates are ISO strings; inpatient ``service_date`` is the discharge date. Rows are in
    service-date order, as an export would be, not in encounter-id order.
    """
    _check_rows(rows, seed)
    rng = np.random.default_rng(seed)
    assignment = _assign_coders(rng, rows)

    # patients: a pool; older patients are more often inpatients
    n_patients = max(rows * 2 // 3, 1)
    patient_age = np.clip(rng.normal(58, 19, n_patients).round(), 18, 96).astype(int)
    patient_sex = np.where(rng.random(n_patients) < 0.54, "F", "M")
    older = _probabilities((patient_age / 60.0) ** 3)
    anyone = np.full(n_patients, 1.0 / n_patients)
    patients = _draw_patients(rng, assignment, older, anyone)

    data: dict[str, list[object]] = {name: [] for name in _SCHEMA}
    with DrgGrouper() as grouper:
        builder = EncounterBuilder(rng, grouper)
        for (setting, coder), p in zip(assignment, patients.tolist(), strict=True):
            age, sex = int(patient_age[p]), str(patient_sex[p])
            enc = builder.inpatient(age, sex) if setting == "inpatient" else builder.visit(setting)
            payer = _PAYERS[builder.weighted(_PAYER_65 if age >= 65 else _PAYER_UNDER_65)]
            factor = _PAYER_FACTOR[payer]
            if payer == "Self-pay" and rng.random() < 0.55:
                factor = 0.0  # nothing collected: excluded by the demo plan's frame filter
            lo, hi = _PROVIDERS[setting]
            row = {
                "patient_name": f"Testpatient {_GREEK[p % len(_GREEK)]}-{p:05d}",
                "mrn": f"FAKE-{p:07d}",
                "age": age,
                "sex": sex,
                "setting": setting,
                "payer": payer,
                "provider_id": f"PRV-{lo + int(rng.random() * (hi - lo + 1)):03d}",
                "coder_id": coder,
                "admit_date": enc.admit_date.isoformat() if enc.admit_date else None,
                "service_date": enc.service_date.isoformat(),
                "discharge_status": enc.discharge_status,
                "dx_codes": ";".join(enc.dx),
                "px_codes": ";".join(enc.px) or None,
                "cpt_codes": ";".join(enc.cpt) or None,
                "units": enc.units,
                "drg": enc.drg,
                "billed_amount": round(enc.base * max(enc.markup, 1.05 * factor), 2),
                "paid_amount": round(enc.base * factor, 2),
            }
            for name, value in row.items():
                data[name].append(value)

    # account numbers increase with registration, not with service date or setting
    ids = 10_000_000 + np.cumsum(rng.integers(1, 40, rows))
    data["encounter_id"] = [f"ENC{int(ids[i]):08d}" for i in rng.permutation(rows)]
    frame = pl.DataFrame(data, schema=_SCHEMA)
    return frame.sort(["service_date", "setting", "encounter_id"])


def _draw_patients(
    rng: np.random.Generator,
    assignment: Sequence[tuple[str, str]],
    older: FloatArray,
    anyone: FloatArray,
) -> npt.NDArray[np.int64]:
    settings = np.array([s for s, _ in assignment])
    patients = np.empty(len(assignment), dtype=np.int64)
    for setting, weights in (
        ("inpatient", older),
        ("outpatient", anyone),
        ("professional", anyone),
    ):
        mask = settings == setting
        patients[mask] = rng.choice(len(weights), size=int(mask.sum()), p=weights)
    return patients


def write_universe(
    path: Path, *, rows: int = DEFAULT_ROWS, seed: int = EXAMPLE_SEED
) -> pl.DataFrame:
    """Generate the example universe and write it as CSV to ``path``; return the frame."""
    frame = generate_universe(rows, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return frame
