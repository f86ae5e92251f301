"""Properties of the sampling engine (hypothesis) and a frequency test of uniform selection."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from conftest import plan_dict, universe_rows, write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from audit_kit.plan import parse_plan
from audit_kit.sampling import draw_sample, read_sample
from audit_kit.sampling._select import draw_units
from audit_kit.universe import open_universe

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(folder: Path, rows: list[dict[str, str]], plan: dict[str, Any], name: str) -> pl.DataFrame:
    universe = write_csv(folder / f"{name}.csv", rows)
    plan_path = folder / f"{name}.yaml"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False), "utf-8")
    draw_sample(plan_path, universe, folder / name)
    return read_sample(folder / name)


designs = st.sampled_from(["simple", "by_coder", "bands", "bands_certainty"])


def make_plan(design: str, n: int, spares: int, seed: int, generator: str) -> dict[str, Any]:
    strata: dict[str, Any] = {
        "simple": {},
        "by_coder": {"by": ["coder"]},
        "bands": {"dollar_bands": {"column": "paid", "edges": [0, 300, 1500]}, "skip_empty": True},
        "bands_certainty": {
            "by": ["coder"],
            "dollar_bands": {"column": "paid", "edges": [0, 400]},
            "certainty": {"column": "paid", "at_least": 2500},
            "skip_empty": True,
        },
    }[design]
    rng = {"generator": generator, "seed": seed}
    if design == "simple":
        return plan_dict(size={"n": n}, spares=spares, rng=rng)
    return plan_dict(
        design={"method": "stratified", "strata": strata},
        size={"per_stratum": n},
        spares=spares,
        rng=rng,
    )


@SETTINGS
@given(
    units=st.integers(min_value=30, max_value=250),
    coders=st.integers(min_value=1, max_value=4),
    design=designs,
    n=st.integers(min_value=1, max_value=25),
    spares=st.integers(min_value=0, max_value=3),
    seed=st.integers(min_value=1, max_value=10**9),
    generator=st.sampled_from(["pcg64", "ratstats"]),
    data_seed=st.integers(min_value=0, max_value=10**6),
)
def test_sizes_uniqueness_weights_reproducibility_and_order_invariance(
    units: int,
    coders: int,
    design: str,
    n: int,
    spares: int,
    seed: int,
    generator: str,
    data_seed: int,
) -> None:
    rows = universe_rows(units, coders=coders, seed=data_seed)
    plan = make_plan(design, min(n, units) if design == "simple" else n, spares, seed, generator)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sample = run(folder, rows, plan, "a")
        record = json.loads((folder / "a" / "sampling.json").read_text("utf-8"))
        # No unit twice; every row of the universe at most once.
        assert sample["encounter_id"].n_unique() == sample.height
        for stratum in record["strata"]:
            rows_h = sample.filter(pl.col("stratum") == stratum["stratum"])
            drawn = rows_h.filter(~pl.col("spare"))
            # Exactly n_h units (N_h if the stratum is smaller: census; all if certainty).
            expected = (
                stratum["population"] if stratum["certainty"] else min(n, stratum["population"])
            )
            if design == "simple":
                expected = min(n, units)
            assert drawn.height == stratum["sample"] == expected
            assert stratum["census"] == (stratum["sample"] == stratum["population"])
            assert (
                rows_h.filter(pl.col("spare")).height
                == stratum["spares"]
                == min(
                    spares if not stratum["census"] else 0,
                    stratum["population"] - stratum["sample"],
                )
            )
            # Weight N_h / n_h; frame numbers inside 1..N_h; orders 1..n_h+k_h.
            assert (rows_h["weight"] == stratum["population"] / stratum["sample"]).all()
            assert rows_h["frame_number"].is_between(1, stratum["population"]).all()
            assert sorted(rows_h["selection_order"].to_list()) == list(range(1, rows_h.height + 1))
            if stratum["certainty"]:
                paid = [float(r["paid_amount"]) for r in rows]
                assert drawn.height == sum(1 for p in paid if p >= 2500)
        assert sample.height == sum(s["sample"] + s["spares"] for s in record["strata"])
        # Same seed, same sample; a shuffled export (same units), same sample.
        again = run(folder, rows, plan, "b")
        assert again.equals(sample)
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        assert run(folder, shuffled, plan, "c").equals(sample)


@SETTINGS
@given(
    seed=st.integers(min_value=1, max_value=10**12),
    other=st.integers(min_value=1, max_value=10**12),
)
def test_another_seed_gives_another_sample(seed: int, other: int) -> None:
    if seed == other:
        return
    rows = universe_rows(150)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        a = run(
            folder, rows, plan_dict(size={"n": 15}, rng={"generator": "pcg64", "seed": seed}), "a"
        )
        b = run(
            folder, rows, plan_dict(size={"n": 15}, rng={"generator": "pcg64", "seed": other}), "b"
        )
    # Two equal samples of 15 from 150 by chance: probability 1 / C(150, 15) ~ 1e-20.
    assert set(a["encounter_id"]) != set(b["encounter_id"])


def test_adding_a_stratum_leaves_the_others_unchanged(tmp_path: Path) -> None:
    rows = universe_rows(200, coders=3)
    plan = plan_dict(
        design={"method": "stratified", "strata": {"by": ["coder"]}},
        size={"per_stratum": 6},
        rng={"generator": "ratstats", "seed": 777.77},
    )
    before = run(tmp_path, rows, plan, "a")
    extra = [dict(r, encounter_id=f"Z{i:04d}", coder_id="C4") for i, r in enumerate(rows[:40])]
    after = run(tmp_path, rows + extra, plan, "b")
    assert after.filter(pl.col("stratum") != "C4").equals(before)


# -- uniform selection ---------------------------------------------------------------------------


def selection_counts(generator: str, seeds: list[float], design: str) -> dict[str, list[int]]:
    """How often each frame number is drawn (not spares), per stratum, over many seeds."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            {"unit": f"{i:03d}", "grp": "A" if i <= 20 else "B", "paid": "10"} for i in range(1, 41)
        ]
        path = write_csv(Path(tmp) / "u.csv", rows)
        columns = {"unit_id": "unit", "coder": "grp", "paid": "paid"}
        if design == "simple":
            base = plan_dict(columns=columns, size={"n": 5})
        else:
            base = plan_dict(
                columns=columns,
                design={"method": "stratified", "strata": {"by": ["coder"]}},
                size={"per_stratum": 5},
            )
        counts: dict[str, list[int]] = {}
        for seed in seeds:
            plan = parse_plan({**base, "rng": {"generator": generator, "seed": seed}})
            drawn = draw_units(plan, open_universe(path), seed, say=lambda _: None, plan_dir=None)
            for stratum in drawn.strata:
                cells = counts.setdefault(stratum.label, [0] * stratum.population)
                for number in stratum.frame_numbers[: stratum.sample]:
                    cells[number - 1] += 1
    return counts


@pytest.mark.parametrize("generator", ["pcg64", "ratstats"])
@pytest.mark.parametrize("design", ["simple", "stratified"])
def test_selection_is_uniform_chi_square(generator: str, design: str) -> None:
    """Chi-square goodness of fit: each frame number is drawn equally often.

    400 audit seeds; 5 of 40 units (simple) or 5 of 20 per stratum (stratified: each stratum's
    stream derived from the audit seed). Expected count per frame number 400*5/N (50 or 100).
    H0 (uniform selection) is rejected at significance 0.001; the seeds are fixed, so this is a
    deterministic check that would fail for a biased selection (e.g. a frame number never drawn,
    or off-by-one ranges) while a fair one passes with probability 0.999.
    """
    if generator == "ratstats":
        seeds: list[float] = [round(100 + 137.37 * i, 2) for i in range(400)]
    else:
        seeds = [1_000_003 * i + 17 for i in range(400)]
    counts = selection_counts(generator, seeds, design)
    assert len(counts) == (1 if design == "simple" else 2)
    for cells in counts.values():
        result = stats.chisquare(cells)
        assert sum(cells) == 400 * 5
        assert min(cells) > 0
        assert result.pvalue > 0.001, (cells, result)
