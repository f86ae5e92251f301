"""The sample under audit-kit field names, typed, as the plan's column mapping says.

See docs/architecture.md ("sample.csv").
"""

from __future__ import annotations

import polars as pl

from audit_kit.errors import InputError
from audit_kit.plan.model import CODE_FIELDS, SamplingPlan
from audit_kit.values.codes import row_cpt_codes, split_codes
from audit_kit.values.dates import date_series
from audit_kit.values.money import money_series

_TEXT_FIELDS = ("coder", "provider", "setting", "payer", "auditor", "sex", "discharge_status")
_NUMBER_FIELDS = ("units", "billed", "paid", "age")
#: CMS-HCC demographics (hcc basis), kept as text; only present when the plan maps them.
_HCC_TEXT_FIELDS = ("birth_date", "orec", "dual_status", "institutional", "months")
DESIGN_COLUMNS = ("stratum", "frame_number", "selection_order", "spare", "weight")


def canonical_units(sample: pl.DataFrame, plan: SamplingPlan) -> pl.DataFrame:
    """Return the sample (sample.csv) under audit-kit field names, typed (docs/architecture.md).

    ``unit_id`` and text fields as Utf8, ``service_date`` ISO text, code fields as lists (dx
    principal first; a field mapped to several columns is their non-empty cells in column order),
    DRG as 3-digit text, amounts and age as Float64; the design columns are passed through.
    Patient identifiers are never part of the result.
    """
    cols = plan.columns
    height = sample.height
    out: dict[str, pl.Series] = {}

    def column(name: str) -> pl.Series | None:
        mapped = cols.columns_for(name)
        if not mapped or mapped[0] not in sample.columns:
            return None
        return sample[mapped[0]]

    unit = column("unit_id")
    if unit is None:
        raise InputError.one(
            "The sample has no unit id column.",
            where=f"sample.csv: column '{cols.unit_id}'",
            expected="the plan's columns.unit_id",
            found="no such column",
            fix="pass the sample.csv written by `audit-kit sample` with this plan.",
        )
    out["unit_id"] = unit.cast(pl.String).alias("unit_id")
    for name in _TEXT_FIELDS:
        s = column(name)
        out[name] = (
            s.cast(pl.String).str.strip_chars().alias(name)
            if s is not None
            else pl.Series(name, [None] * height, dtype=pl.String)
        )
    date = column("service_date")
    if date is None:
        out["service_date"] = pl.Series("service_date", [None] * height, dtype=pl.String)
    else:
        parsed, _ = date_series(date)
        text = date.cast(pl.String)
        iso = parsed.dt.strftime("%Y-%m-%d")
        out["service_date"] = iso.fill_null(text).alias("service_date")
    for name in CODE_FIELDS:
        mapped = [c for c in cols.columns_for(name) if c in sample.columns]
        lists: list[list[str]] = [[] for _ in range(height)]
        if name == "cpt" and cols.modifiers:
            # Modifiers in columns of their own are attached to their code (never dropped).
            used = [*mapped, *(m for c in mapped for m in cols.modifiers.get(c, []))]
            present = [c for c in dict.fromkeys(used) if c in sample.columns]
            for i, row in enumerate(sample.select(present).cast(pl.String).iter_rows(named=True)):
                lists[i] = row_cpt_codes(row, mapped, cols.modifiers, cols.code_separator)
        else:
            for col in mapped:
                for i, cell in enumerate(sample[col].cast(pl.String).to_list()):
                    lists[i].extend(split_codes(cell, cols.code_separator))
        out[name] = pl.Series(name, lists, dtype=pl.List(pl.String))
    drg = column("drg")
    if drg is None:
        out["drg"] = pl.Series("drg", [None] * height, dtype=pl.String)
    else:
        text = drg.cast(pl.String).str.strip_chars()
        digits = text.str.contains(r"^\d{1,3}$").fill_null(False)
        frame = pl.DataFrame({"t": text, "d": digits})
        out["drg"] = (
            frame.select(pl.when(pl.col("d")).then(pl.col("t").str.zfill(3)).otherwise(pl.col("t")))
            .to_series()
            .alias("drg")
        )
        out["drg"] = out["drg"].replace("", None)
    for name in _NUMBER_FIELDS:
        s = column(name)
        if s is None:
            out[name] = pl.Series(name, [None] * height, dtype=pl.Float64)
        else:
            out[name] = money_series(s, decimal_comma=plan.frame.decimal_comma)[0].alias(name)
    hcc = [name for name in _HCC_TEXT_FIELDS if column(name) is not None]
    for name in hcc:
        series = column(name)
        assert series is not None
        out[name] = series.cast(pl.String).str.strip_chars().alias(name)
    design_types: dict[str, pl.DataType] = {
        "stratum": pl.String(),
        "frame_number": pl.Int64(),
        "selection_order": pl.Int64(),
        "spare": pl.Boolean(),
        "weight": pl.Float64(),
    }
    for name, dtype in design_types.items():
        if name not in sample.columns:
            out[name] = pl.Series(name, [None] * height, dtype=dtype)
        elif dtype == pl.Boolean() and sample[name].dtype == pl.String:
            out[name] = sample[name].str.to_lowercase().eq("true").alias(name)
        else:
            out[name] = sample[name].cast(dtype).alias(name)
    order = [
        "unit_id",
        "coder",
        "provider",
        "setting",
        "payer",
        "auditor",
        "service_date",
        "dx",
        "px",
        "cpt",
        "drg",
        "units",
        "billed",
        "paid",
        "age",
        "sex",
        "discharge_status",
        *hcc,
        *DESIGN_COLUMNS,
    ]
    return pl.DataFrame([out[name] for name in order])
