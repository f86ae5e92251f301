"""Agreement statistics against published values and closed forms (tests/data/agreement)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from audit_kit.errors import StatisticsError
from audit_kit.stats.agreement import (
    cohen_kappa_table,
    fleiss_kappa_counts,
    gwet_ac1_table,
    krippendorff_alpha_nominal,
    pair_agreement,
)

# irrCAC vignette (Gwet), cont3x3abstractors; see tests/data/agreement/reference_values.md
ABSTRACTORS = np.array([[13, 0, 0], [0, 20, 7], [0, 4, 56]])


def _fce_kappa_se(t: np.ndarray) -> float:
    """Fleiss, Cohen & Everitt (1969) large-sample SE of kappa, written out term by term."""
    n = t.sum()
    p = t / n
    row, col = p.sum(axis=1), p.sum(axis=0)
    po = float(np.trace(p))
    pe = float(row @ col)
    q = len(t)
    a = sum(p[i, i] * ((1 - pe) - (row[i] + col[i]) * (1 - po)) ** 2 for i in range(q))
    b = (1 - po) ** 2 * sum(
        p[i, j] * (col[i] + row[j]) ** 2 for i in range(q) for j in range(q) if i != j
    )
    c = (po * pe - 2 * pe + po) ** 2
    return math.sqrt((a + b - c) / (n * (1 - pe) ** 4))


def _gwet_2008(t: np.ndarray) -> tuple[float, float]:
    """AC1 and its variance in the expanded form of Gwet (2008), two raters, f = 0."""
    n = t.sum()
    p = t / n
    q = len(t)
    pa = float(np.trace(p))
    pi = (p.sum(axis=1) + p.sum(axis=0)) / 2
    pe = float(sum(pi[k] * (1 - pi[k]) for k in range(q)) / (q - 1))
    g = (pa - pe) / (1 - pe)
    term2 = sum(p[k, k] * (1 - pi[k]) for k in range(q)) / (q - 1) - pa * pe
    term3 = (
        sum(p[k, m] * (1 - (pi[k] + pi[m]) / 2) ** 2 for k in range(q) for m in range(q))
        / (q - 1) ** 2
        - pe**2
    )
    var = (pa * (1 - pa) - 4 * (1 - g) * term2 + 4 * (1 - g) ** 2 * term3) / (n * (1 - pe) ** 2)
    return g, var


def test_cohen_kappa_equals_the_published_irrcac_value() -> None:
    k = cohen_kappa_table(ABSTRACTORS, 0.95)
    # kappa2.table(cont3x3abstractors): 0.7964094, se 0.05891072, ci (0.68, 0.913)
    assert k.value == pytest.approx(0.7964094, abs=5e-8)
    assert k.se == pytest.approx(0.05891072, abs=5e-9)
    assert k.lower == pytest.approx(0.68, abs=5e-3)
    assert k.upper == pytest.approx(0.913, abs=5e-4)


def test_cohen_kappa_matches_the_closed_forms() -> None:
    t = np.array([[30, 5, 2], [4, 25, 6], [1, 3, 24]])
    n = t.sum()
    po = np.trace(t) / n
    pe = (t.sum(axis=1) / n) @ (t.sum(axis=0) / n)
    k = cohen_kappa_table(t, 0.90)
    assert k.value == pytest.approx((po - pe) / (1 - pe), rel=1e-12)
    se = _fce_kappa_se(t)
    assert k.se == pytest.approx(se, rel=1e-9)
    crit = sps.t.ppf(0.95, n - 1)  # irrCAC's limits use t with n - 1 df
    assert k.lower == pytest.approx(k.value - crit * se, rel=1e-9)
    assert k.upper == pytest.approx(k.value + crit * se, rel=1e-9)


@pytest.mark.parametrize(
    "table",
    [ABSTRACTORS, np.array([[118, 5], [2, 0]]), np.array([[40, 9], [6, 45]])],
)
def test_gwet_ac1_and_variance_equal_gwet_2008(table: np.ndarray) -> None:
    g, var = _gwet_2008(table)
    ac1 = gwet_ac1_table(table, 0.95)
    n = table.sum()
    assert ac1.value == pytest.approx(g, rel=1e-12)
    assert ac1.se == pytest.approx(math.sqrt(var), rel=1e-9)
    crit = sps.t.ppf(0.975, n - 1)
    assert ac1.lower == pytest.approx(max(-1, g - crit * math.sqrt(var)), rel=1e-9)
    assert ac1.upper == pytest.approx(min(1, g + crit * math.sqrt(var)), rel=1e-9)


def test_prevalence_paradox_high_agreement_kappa_near_zero_ac1_high() -> None:
    # 125 records: both reviews say "no error" on 118; they disagree on 7; never both "error".
    first = ["ok"] * 118 + ["ok"] * 5 + ["error"] * 2
    second = ["ok"] * 118 + ["error"] * 5 + ["ok"] * 2
    res = pair_agreement(first, second, 0.95)
    assert res.units == 125 and res.agreed == 118
    assert res.percent_agreement == pytest.approx(0.944)
    # Cohen: p_e = (123/125)(120/125) + (2/125)(5/125); kappa = (0.944 - p_e)/(1 - p_e)
    pe = (123 / 125) * (120 / 125) + (2 / 125) * (5 / 125)
    assert res.cohen_kappa.value == pytest.approx((0.944 - pe) / (1 - pe), rel=1e-12)
    assert res.cohen_kappa.value == pytest.approx(-0.0234, abs=1e-4)
    # AC1: pi = (243/250, 7/250), p_e = 2 pi_1 pi_2 -> 0.9408
    assert res.gwet_ac1.value == pytest.approx(0.9408, abs=1e-4)
    assert res.gwet_ac1.value is not None and res.gwet_ac1.value > 0.9


def test_perfect_agreement_on_one_category_leaves_kappa_undefined() -> None:
    res = pair_agreement(["ok"] * 10, ["ok"] * 10)
    assert res.percent_agreement == 1.0
    assert res.cohen_kappa.value is None
    assert res.gwet_ac1.value == 1.0


def test_krippendorff_alpha_equals_the_published_nominal_example() -> None:
    # Krippendorff (2011), 4 observers x 12 units with missing values: alpha = 0.743
    a = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
    b = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
    c = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
    d = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
    alpha = krippendorff_alpha_nominal(list(zip(a, b, c, d, strict=True)))
    assert alpha == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_alpha_two_raters_closed_form() -> None:
    # Two raters, no missing: alpha = 1 - (n-1) * D_o / D_e with n = 2 * items pairable values.
    first = ["a", "a", "b", "b", "a", "c"]
    second = ["a", "b", "b", "b", "a", "c"]
    n = 12
    n_c = {"a": 5, "b": 5, "c": 2}
    observed = 2  # the (a, b) unit gives o_ab = o_ba = 1
    expected = n**2 - sum(v**2 for v in n_c.values())
    alpha = krippendorff_alpha_nominal(list(zip(first, second, strict=True)))
    assert alpha == pytest.approx(1 - (n - 1) * observed / expected, rel=1e-12)


def test_fleiss_kappa_equals_the_published_example() -> None:
    counts = np.array(
        [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ]
    )
    assert fleiss_kappa_counts(counts) == pytest.approx(0.210, abs=5e-4)


def test_bad_input_is_one_clear_error() -> None:
    with pytest.raises(StatisticsError) as err:
        pair_agreement(["a"], ["a", "b"])
    assert "second" in str(err.value)
    with pytest.raises(StatisticsError):
        fleiss_kappa_counts(np.array([[1, 1], [2, 1]]))
