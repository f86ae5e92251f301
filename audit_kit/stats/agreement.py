"""Agreement between auditors (inter-rater reliability) for nominal judgements: pure numbers.

* **Percent agreement** p_a: share of items both reviews put in the same category.
* **Cohen's kappa** (Cohen 1960): (p_a - p_e) / (1 - p_e), p_e = sum_k p_k+ p_+k; its standard
  error is the large-sample one of Fleiss, Cohen & Everitt (1969), from statsmodels
  (``statsmodels.stats.inter_rater.cohens_kappa``, BSD); limits value -/+ t_{n-1} se, cut to
  [-1, 1], as R irrCAC ``kappa2.table`` prints them.
* **Gwet's AC1** (Gwet 2008, Br J Math Stat Psychol 61:29-48): (p_a - p_e) / (1 - p_e) with
  p_e = 1/(q-1) sum_k pi_k (1 - pi_k), pi_k = (p_k+ + p_+k)/2; variance (Gwet 2008, eq. for
  two raters, as R irrCAC ``gwet.ac1.table`` computes it, no finite-population correction)
  ((1 - f) / (n (1 - p_e)^2)) (sum_kl p_kl (w_kl - 2 (1 - AC1) c_kl)^2 - (p_a - 2 (1 - AC1) p_e)^2),
  c_kl = (1 - (pi_k + pi_l)/2) / (q - 1), w = identity; limits AC1 -/+ t_{n-1} se, cut to
  [-1, 1]. Kappa misleads when nearly every item falls in one category (the "prevalence
  paradox": agreement 95 %, kappa near 0); AC1 does not.
* **Fleiss' kappa** (Fleiss 1971) for a fixed number of ratings per item, from statsmodels
  (``fleiss_kappa``, no variance).
* **Krippendorff's alpha**, nominal (Krippendorff 2011, "Computing Krippendorff's
  alpha-reliability"): 1 - (n - 1) sum_{c != k} o_ck / sum_{c != k} n_c n_k, from the coincidence
  matrix o of items with two or more ratings; any number of raters, missing ratings allowed.

Categories are any hashable labels; the functions count them. This module knows nothing of
audits: ``audit_kit.scoring`` turns findings into labels.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps
from statsmodels.stats.inter_rater import cohens_kappa as _sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as _sm_fleiss_kappa

from audit_kit.stats._core import Problems

Label = Hashable


@dataclass(frozen=True, slots=True)
class Coefficient:
    """A chance-corrected agreement coefficient with its two-sided limits (None if undefined)."""

    value: float | None
    lower: float | None
    upper: float | None
    se: float | None

    def to_dict(self) -> dict[str, float | None]:
        return {"value": self.value, "lower": self.lower, "upper": self.upper, "se": self.se}


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """Agreement of two reviews of the same items."""

    units: int
    agreed: int
    categories: tuple[str, ...]
    #: table[i][j]: items the first review put in category i and the second in j
    table: tuple[tuple[int, ...], ...]
    percent_agreement: float
    cohen_kappa: Coefficient
    gwet_ac1: Coefficient
    confidence: float

    def to_dict(self) -> dict[str, object]:
        return {
            "units": self.units,
            "agreed": self.agreed,
            "percent_agreement": self.percent_agreement,
            "cohen_kappa": self.cohen_kappa.to_dict(),
            "gwet_ac1": self.gwet_ac1.to_dict(),
            "confidence": self.confidence,
            "categories": list(self.categories),
            "table": [list(r) for r in self.table],
        }


def contingency(
    first: Sequence[Label], second: Sequence[Label]
) -> tuple[tuple[Label, ...], np.ndarray]:
    """Return (categories in sorted text order, q x q table of counts) of two paired reviews."""
    cats = tuple(sorted(set(first) | set(second), key=str))
    at = {c: i for i, c in enumerate(cats)}
    table = np.zeros((len(cats), len(cats)), dtype=np.int64)
    for a, b in zip(first, second, strict=True):
        table[at[a], at[b]] += 1
    return cats, table


def _check_table(table: np.ndarray, what: str) -> None:
    problems = Problems()
    if table.ndim != 2 or table.shape[0] != table.shape[1]:
        problems.add(what, "a square table of counts", f"shape {table.shape}")
    elif (table < 0).any():
        problems.add(what, "counts >= 0", "a negative count")
    elif table.sum() < 1:
        problems.add(what, "at least one rated item", "none")
    problems.raise_if_any("Cannot compute agreement.")


def cohen_kappa_table(table: np.ndarray, confidence: float = 0.95) -> Coefficient:
    """Cohen's kappa of a q x q table with Fleiss-Cohen-Everitt SE (statsmodels), t limits."""
    t = np.asarray(table, dtype=float)
    _check_table(t, "table")
    n = t.sum()
    pa = float(np.trace(t) / n)
    pe = float((t.sum(axis=1) / n) @ (t.sum(axis=0) / n))
    if math.isclose(pe, 1.0):
        # Both reviews used one and the same category for every item: kappa is 0/0.
        return Coefficient(None, None, None, None)
    value = (pa - pe) / (1.0 - pe)
    with warnings.catch_warnings():
        # statsmodels also divides by the SE under "no agreement" for its z test, which is 0
        # when one review used a single category; that test is not used here.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = _sm_cohens_kappa(t, return_results=True)
    se = float(result.std_kappa)
    if n < 2:
        return Coefficient(value, None, None, se)
    crit = float(sps.t.ppf(0.5 + confidence / 2, n - 1))
    return Coefficient(value, max(-1.0, value - crit * se), min(1.0, value + crit * se), se)


def gwet_ac1_table(table: np.ndarray, confidence: float = 0.95) -> Coefficient:
    """Gwet's AC1 of a q x q table with Gwet's (2008) variance; t limits with n - 1 df."""
    t = np.asarray(table, dtype=float)
    _check_table(t, "table")
    q = t.shape[0]
    n = t.sum()
    if q < 2:
        # One category only: both reviews agree on everything and AC1 is 1 by convention
        # (Gwet defines p_e = 0 for q = 1), with no variance to speak of.
        return Coefficient(1.0, None, None, None)
    p = t / n
    pa = float(np.trace(p))
    pi = (p.sum(axis=1) + p.sum(axis=0)) / 2
    pe = float(np.sum(pi * (1 - pi)) / (q - 1))
    value = (pa - pe) / (1 - pe)
    c = (1 - (pi[:, None] + pi[None, :]) / 2) / (q - 1)
    sum1 = float(np.sum(p * (np.eye(q) - 2 * (1 - value) * c) ** 2))
    variance = (sum1 - (pa - 2 * (1 - value) * pe) ** 2) / (n * (1 - pe) ** 2)
    if n < 2:
        return Coefficient(value, None, None, None)
    se = math.sqrt(max(variance, 0.0))
    crit = float(sps.t.ppf(0.5 + confidence / 2, n - 1))
    return Coefficient(value, max(-1.0, value - crit * se), min(1.0, value + crit * se), se)


def pair_agreement(
    first: Sequence[Label], second: Sequence[Label], confidence: float = 0.95
) -> PairAgreement:
    """Percent agreement, Cohen's kappa and Gwet's AC1 of two reviews of the same items."""
    problems = Problems()
    if len(first) != len(second):
        problems.add("second", f"{len(first)} ratings, one per item", len(second))
    elif not first:
        problems.add("first", "at least one rated item", "none")
    problems.confidence("confidence", confidence)
    problems.raise_if_any("Cannot compute agreement.")
    cats, table = contingency(first, second)
    agreed = int(np.trace(table))
    return PairAgreement(
        units=len(first),
        agreed=agreed,
        categories=tuple(str(c) for c in cats),
        table=tuple(tuple(int(v) for v in row) for row in table),
        percent_agreement=agreed / len(first),
        cohen_kappa=cohen_kappa_table(table, confidence),
        gwet_ac1=gwet_ac1_table(table, confidence),
        confidence=confidence,
    )


def fleiss_kappa_counts(counts: np.ndarray) -> float | None:
    """Fleiss' kappa of an items x categories table of rating counts (same total per item)."""
    c = np.asarray(counts, dtype=float)
    problems = Problems()
    if c.ndim != 2 or c.shape[0] < 1:
        problems.add("counts", "an items x categories table", f"shape {c.shape}")
    elif len(set(c.sum(axis=1).tolist())) != 1 or c.sum(axis=1)[0] < 2:
        problems.add("counts", "the same number (>= 2) of ratings for every item", "unequal")
    problems.raise_if_any("Cannot compute Fleiss' kappa.")
    p_j = c.sum(axis=0) / c.sum()
    if math.isclose(float(np.sum(p_j**2)), 1.0):
        return None  # one category for every rating: 0/0
    return float(_sm_fleiss_kappa(c, method="fleiss"))


def krippendorff_alpha_nominal(units: Sequence[Sequence[Label | None]]) -> float | None:
    """Krippendorff's alpha for nominal data; each unit lists its ratings, None for missing.

    Units with fewer than two ratings are not pairable and are left out (Krippendorff 2011).
    None when the pairable ratings all share one category (alpha is 0/0).
    """
    pairable = [[v for v in u if v is not None] for u in units]
    pairable = [u for u in pairable if len(u) >= 2]
    if not pairable:
        return None
    cats = sorted({v for u in pairable for v in u}, key=str)
    at = {c: i for i, c in enumerate(cats)}
    o = np.zeros((len(cats), len(cats)))
    for u in pairable:
        m = len(u)
        counts = Counter(at[v] for v in u)
        for i, ni in counts.items():
            for k, nk in counts.items():
                o[i, k] += ni * (nk - (1 if i == k else 0)) / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    disagree_observed = o.sum() - np.trace(o)
    disagree_expected = n_c.sum() ** 2 - np.sum(n_c**2)
    if disagree_expected == 0:
        return None
    return float(1 - (n - 1) * disagree_observed / disagree_expected)
