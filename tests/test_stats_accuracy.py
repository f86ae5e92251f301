"""accuracy_interval / design_accuracy: R survey's formulas, zero-error rule, coverage.

Reference values: tests/data/survey/stratified_domain.json (README.md beside it: computed by a
closed form of survey's formulas in exact arithmetic, with the R commands that reproduce them;
R itself is not available on this project's machines).

Coverage: simulated coders whose units carry 1 + Poisson(4) codes, a share q of units with
errors, errors clumped within a unit (1 + Binomial(r - 1, 0.4) wrong codes). The accepted band
is stated by the issue: over 2,000 samples the truth falls below the lower limit at most
nominal + 2 points (two-sided 90%: 5% + 2 = 7%; one-sided 90%: 10% + 2 = 12%). Seeds fixed.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats as sps

from audit_kit.errors import StatisticsError
from audit_kit.stats import accuracy_interval, design_accuracy, one_sided_level

DATA = Path(__file__).parent / "data" / "survey" / "stratified_domain.json"
REFERENCE: dict[str, Any] = json.loads(DATA.read_text())
UNITS = REFERENCE["units"]
POPULATIONS = {u["stratum"]: u["N_h"] for u in UNITS}


def closed_form(rows: list[tuple[str, bool, int, int]]) -> tuple[Fraction, Fraction]:
    """svyratio / svyby in exact arithmetic: rows of (stratum, in domain, y, x)."""
    n = {h: sum(1 for r in rows if r[0] == h) for h in POPULATIONS}
    w = {h: Fraction(POPULATIONS[h], n[h]) for h in POPULATIONS}
    big_x = sum(w[h] * x for h, d, _, x in rows if d)
    ratio = sum(w[h] * y for h, d, y, _ in rows if d) / big_x
    variance = Fraction(0)
    for h in POPULATIONS:
        z = [w[h] * (y - ratio * x) / big_x if d else Fraction(0) for s, d, y, x in rows if s == h]
        mean = sum(z) / len(z)
        f = 1 - Fraction(n[h], POPULATIONS[h])
        variance += f * Fraction(n[h], n[h] - 1) * sum((v - mean) ** 2 for v in z)
    return ratio, variance


def _rows(domain: str | None, *, record: bool) -> list[tuple[str, bool, int, int]]:
    out = []
    for u in UNITS:
        y, x = (int(u["correct"] == u["reviewed"]), 1) if record else (u["correct"], u["reviewed"])
        out.append((u["stratum"], domain is None or u["provider"] == domain, y, x))
    return out


@pytest.mark.parametrize(
    ("key", "domain", "record"),
    [
        ("overall", None, False),
        ("P1", "P1", False),
        ("P2", "P2", False),
        ("record_overall", None, True),
        ("record_P1", "P1", True),
        ("record_P2", "P2", True),
    ],
)
def test_design_estimates_equal_survey_reference(
    key: str, domain: str | None, record: bool
) -> None:
    rows = _rows(domain, record=record)
    ratio, variance = closed_form(rows)
    expected = REFERENCE[key]
    # The stored values are the closed form's (guards the JSON against edits).
    assert float(ratio) == pytest.approx(expected["ratio"], rel=1e-12)
    assert math.sqrt(variance) == pytest.approx(expected["se"], rel=1e-12)
    est = design_accuracy(
        [r[2] for r in rows],
        [r[3] for r in rows],
        strata=[r[0] for r in rows],
        populations=POPULATIONS,
        confidence=0.90,
        domain=None if domain is None else [r[1] for r in rows],
    )
    assert est.value == pytest.approx(expected["ratio"], rel=1e-6)
    assert est.se == pytest.approx(expected["se"], rel=1e-6)


@pytest.mark.parametrize("key", ["overall", "P1", "P2"])
def test_korn_graubard_limits_as_svyciprop_beta(key: str) -> None:
    # svyciprop(method = "beta"): n.eff = p(1-p)/var, times (qt(a/2, nrow - 1) / qt(a/2,
    # degf))^2 with nrow the codes (one row per code) and degf = units - strata of the
    # domain; then qbeta(a/2, n p, n (1-p) + 1) and qbeta(1 - a/2, n p + 1, n (1-p)).
    ref = REFERENCE[key]
    p, se = ref["ratio"], ref["se"]
    rows = _rows(None if key == "overall" else key, record=False)
    for level in (0.80, 0.90, 0.95):
        a = 1 - level
        n_eff = p * (1 - p) / se**2
        n_eff *= (sps.t.ppf(a / 2, ref["codes"] - 1) / sps.t.ppf(a / 2, ref["degf"])) ** 2
        lower = sps.beta.ppf(a / 2, n_eff * p, n_eff * (1 - p) + 1)
        upper = sps.beta.ppf(1 - a / 2, n_eff * p + 1, n_eff * (1 - p))
        # audit-kit's one addition: never more than an error-free sample of as many units
        # (Clopper-Pearson on n units: (a/2)^(1/n)), nor less than an all-wrong one.
        units = ref["degf"] + 2
        lower = min(lower, (a / 2) ** (1 / units))
        upper = max(upper, 1 - (a / 2) ** (1 / units))
        est = design_accuracy(
            [r[2] for r in rows],
            [r[3] for r in rows],
            strata=[r[0] for r in rows],
            populations=POPULATIONS,
            confidence=level,
            domain=None if key == "overall" else [r[1] for r in rows],
        )
        assert est.lower == pytest.approx(lower, rel=1e-6)
        assert est.upper == pytest.approx(upper, rel=1e-6)
        assert est.degrees_of_freedom == ref["degf"] and est.codes == ref["codes"]


def test_simple_sample_matches_cochran_and_kg() -> None:
    correct = np.array([5, 3, 6, 2, 4, 1, 7, 5, 3.0])
    reviewed = np.array([5, 4, 6, 4, 4, 3, 7, 6, 3.0])
    n, big_n = 9, 120
    r = correct.sum() / reviewed.sum()
    var = (
        (1 - n / big_n)
        / (n * reviewed.mean() ** 2)
        * ((correct - r * reviewed) ** 2).sum()
        / (n - 1)
    )
    est = accuracy_interval(correct, reviewed, confidence=0.90, population=big_n)
    assert est.value == pytest.approx(r) and est.se == pytest.approx(math.sqrt(var))
    a = 0.20  # one-sided 90% lower = two-sided 80% lower
    n_eff = r * (1 - r) / var * (sps.t.ppf(a / 2, 41) / sps.t.ppf(a / 2, 8)) ** 2
    assert est.one_sided_lower == pytest.approx(sps.beta.ppf(a / 2, n_eff * r, n_eff * (1 - r) + 1))
    assert est.limits(0.80)[0] == est.one_sided_lower
    assert est.lower < est.one_sided_lower < est.value < est.upper


def test_zero_errors_use_the_units_as_trials() -> None:
    reviewed = np.full(20, 6.0)
    unknown = accuracy_interval(reviewed, reviewed, confidence=0.90)
    # Clopper-Pearson, 20 of 20: lower = (a/2)^(1/n), not (a/2)^(1/120) of the 120 codes.
    assert unknown.lower == pytest.approx(0.05 ** (1 / 20))
    assert unknown.one_sided_lower == pytest.approx(0.10 ** (1 / 20))
    assert unknown.upper == 1.0 and unknown.value == 1.0
    known = accuracy_interval(reviewed, reviewed, confidence=0.90, population=200)
    # Hypergeometric: the largest K with C(200-K, 20) / C(200, 20) > 0.05, exactly.
    worst = max(
        k
        for k in range(181)
        if Fraction(math.comb(200 - k, 20), math.comb(200, 20)) > Fraction(0.05)
    )
    assert known.lower == pytest.approx(1 - worst / 200)
    census = accuracy_interval(reviewed - 1, reviewed, confidence=0.90, population=20)
    assert (census.lower, census.upper) == (census.value, census.value)


def test_one_sided_level() -> None:
    assert [one_sided_level(c) for c in (0.80, 0.90, 0.95)] == [0.6, 0.8, 0.9]


def test_bad_input_lists_every_problem() -> None:
    with pytest.raises(StatisticsError) as err:
        accuracy_interval([3, 5], [2, 4, 1], confidence=1.5, population=0)
    text = str(err.value)
    assert "confidence" in text and "population" in text and "one value per unit" in text
    with pytest.raises(StatisticsError, match="no more correct codes than codes reviewed"):
        accuracy_interval([3, 5], [2, 6], confidence=0.9)
    with pytest.raises(StatisticsError, match="N_h for every stratum"):
        design_accuracy([1], [1], strata=["Z"], populations={"A": 3}, confidence=0.9)


# -- coverage ---------------------------------------------------------------------------------


def coder(
    rng: np.random.Generator, size: int, error_share: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    reviewed = 1 + rng.poisson(4, size)
    wrong = np.where(rng.random(size) < error_share, 1 + rng.binomial(reviewed - 1, 0.4), 0)
    return (reviewed - wrong).astype(float), reviewed.astype(float)


REPS = 2000


@pytest.mark.parametrize(
    ("size", "n", "error_share", "seed"),
    [
        (600, 30, 0.03, 1),  # rare clumped errors, many zero-error samples
        (5000, 100, 0.03, 2),
        (600, 30, 0.20, 3),  # high error rate
        (2000, 8, 0.10, 4),  # a tiny group
    ],
)
def test_accuracy_interval_coverage(size: int, n: int, error_share: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    correct, reviewed = coder(rng, size, error_share)
    truth = correct.sum() / reviewed.sum()
    below_two = below_one = 0
    widths = []
    for _ in range(REPS):
        pick = rng.choice(size, n, replace=False)
        est = accuracy_interval(correct[pick], reviewed[pick], confidence=0.90, population=size)
        below_two += truth < est.lower
        assert est.one_sided_lower is not None
        below_one += truth < est.one_sided_lower
        widths.append(truth - est.one_sided_lower)
    assert below_two / REPS <= 0.05 + 0.02, below_two / REPS
    assert below_one / REPS <= 0.10 + 0.02, below_one / REPS
    # Not trivially loose: the one-sided bound sits closer to the truth on average than the
    # simple valid reference that ignores the clustering's information, a Clopper-Pearson
    # bound on error-free *units* (record accuracy), which code accuracy always exceeds here.
    cp_units = []
    for _ in range(200):
        pick = rng.choice(size, n, replace=False)
        ok = int((correct[pick] == reviewed[pick]).sum())
        cp_units.append(truth - (0.0 if ok == 0 else sps.beta.ppf(0.10, ok, n - ok + 1)))
    assert np.mean(widths) < np.mean(cp_units)


def test_design_accuracy_coverage_stratified_and_domain() -> None:
    rng = np.random.default_rng(11)
    sizes = {"A": 1500, "B": 600, "C": 300}
    shares = {"A": 0.03, "B": 0.10, "C": 0.25}
    samples = {"A": 40, "B": 30, "C": 20}
    frames = {h: coder(rng, sizes[h], shares[h]) for h in sizes}
    provider = {h: rng.random(sizes[h]) < 0.4 for h in sizes}  # a group across strata
    truth = sum(f[0].sum() for f in frames.values()) / sum(f[1].sum() for f in frames.values())
    truth_d = sum(frames[h][0][provider[h]].sum() for h in sizes) / sum(
        frames[h][1][provider[h]].sum() for h in sizes
    )
    below = below_d = 0
    labels = [h for h in sizes for _ in range(samples[h])]
    for _ in range(REPS):
        picks = {h: rng.choice(sizes[h], samples[h], replace=False) for h in sizes}
        y = np.concatenate([frames[h][0][picks[h]] for h in sizes])
        x = np.concatenate([frames[h][1][picks[h]] for h in sizes])
        d = np.concatenate([provider[h][picks[h]] for h in sizes])
        est = design_accuracy(y, x, strata=labels, populations=sizes, confidence=0.90)
        assert est.one_sided_lower is not None
        below += truth < est.one_sided_lower
        if d.any():
            dom = design_accuracy(y, x, strata=labels, populations=sizes, confidence=0.90, domain=d)
            assert dom.one_sided_lower is not None
            below_d += truth_d < dom.one_sided_lower
    assert below / REPS <= 0.12, below / REPS
    assert below_d / REPS <= 0.12, below_d / REPS


def test_one_error_never_beats_no_error() -> None:
    # The zero-error rule counts units; without the cap a sample with one wrong code in 30
    # units would get a higher lower limit than a perfect one (the KG effective n counts
    # codes). Closed form of the perfect sample's bound: Clopper-Pearson, (a/2)^(1/30).
    reviewed = np.full(30, 5.0)
    perfect = accuracy_interval(reviewed, reviewed, confidence=0.90)
    one = reviewed.copy()
    one[0] = 4.0
    single = accuracy_interval(one, reviewed, confidence=0.90)
    assert perfect.lower == pytest.approx(0.05 ** (1 / 30))
    assert single.lower <= perfect.lower and single.one_sided_lower is not None
    assert perfect.one_sided_lower is not None
    assert single.one_sided_lower <= perfect.one_sided_lower
    assert "error-free" in single.method
