"""Variable (dollar) appraisal: unrestricted and stratified, examined/audited/difference.

Sources: RAT-STATS 2010 User Guide (UG2010) ch. 4 "Variable Appraisal" (unrestricted
pp. 4-10..4-17, stratified pp. 4-26..4-34) and Companion Manual (CM2010) ch. 3; Cochran,
Sampling Techniques, 3rd ed. (1977), ch. 2 and 5.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from audit_kit.errors import StatisticsError
from audit_kit.stats._core import (
    APPRAISAL_CONFIDENCES,
    CriticalValueRule,
    Problems,
    json_float,
    t_critical,
    z_critical,
)

__all__ = [
    "MEASURES",
    "MeasuredStratum",
    "StratifiedVariableAppraisal",
    "StratifiedVariableMeasure",
    "VariableAppraisal",
    "VariableLimit",
    "VariableMeasure",
    "VariableStratum",
    "appraise_variable",
    "appraise_variable_stratified",
    "appraise_variables",
    "appraise_variables_stratified",
    "complete_measures",
]

#: The three measures of a variable appraisal, in RAT-STATS' order.
MEASURES: tuple[str, ...] = ("examined", "audited", "difference")

# Notes attached to a measure (machine-readable; the CLI explains them).
NOTE_CENSUS = "census"  # n = N: no sampling error
NOTE_SINGLE = "single_unit"  # n = 1: SD taken as 0, no variance estimate
NOTE_ZERO_VARIANCE = "zero_variance"  # all values equal: skewness/kurtosis undefined
NOTE_NONPOSITIVE_MEAN = "mean_not_positive"  # precision percent reported as 0


@dataclass(frozen=True, slots=True, kw_only=True)
class VariableLimit:
    """Two-sided limits on the universe total at one confidence level."""

    lower: float
    upper: float
    precision: float
    precision_percent: float
    critical_value: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lower": self.lower,
            "upper": self.upper,
            "precision": self.precision,
            "precision_percent": self.precision_percent,
            "critical_value": json_float(self.critical_value),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VariableMeasure:
    """One measure (examined, audited or difference) of one sample (or stratum)."""

    population: int
    sample: int
    total: float
    nonzero: int
    mean: float
    sd: float
    skewness: float | None
    kurtosis: float | None
    se_mean: float
    se_total: float
    point_estimate: float
    limits: dict[str, VariableLimit]
    notes: tuple[str, ...] = ()
    stratum: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the measure's block of the appraisal JSON (docs/cli.md)."""
        return {
            "total": self.total,
            "nonzero": self.nonzero,
            "mean": self.mean,
            "sd": self.sd,
            "skewness": json_float(self.skewness),
            "kurtosis": json_float(self.kurtosis),
            "se_mean": self.se_mean,
            "se_total": self.se_total,
            "point_estimate": self.point_estimate,
            "limits": {k: v.to_dict() for k, v in self.limits.items()},
            "notes": list(self.notes),
        }


def _limits(
    estimate: float, se_total: float, positive: bool, critical: Mapping[str, float | None]
) -> dict[str, VariableLimit]:
    out: dict[str, VariableLimit] = {}
    for key, value in critical.items():
        # No critical value (no degrees of freedom) only happens with SE = 0: precision 0.
        precision = 0.0 if se_total == 0.0 or value is None else value * se_total
        percent = precision / estimate * 100.0 if positive else 0.0
        out[key] = VariableLimit(
            lower=estimate - precision,
            upper=estimate + precision,
            precision=precision,
            precision_percent=percent,
            critical_value=value,
        )
    return out


def _measure(
    values: npt.NDArray[np.float64], population: int, stratum: str | None
) -> VariableMeasure:
    n = int(values.size)
    total = math.fsum(values.tolist())
    mean = total / n
    centred = values - mean
    # Moments of the centred values divided by their largest magnitude: the same ratios
    # without underflow (values of 1e-135 squared are 0 in double precision).
    # All values equal: no spread, whatever the rounding of their mean.
    scale = float(np.abs(centred).max()) if values.max() > values.min() else 0.0
    notes: list[str] = []
    if n == population:
        notes.append(NOTE_CENSUS)
    if n == 1:
        notes.append(NOTE_SINGLE)
    if scale > 0.0:
        unit = centred / scale
        sq = unit * unit
        m2 = float(sq.mean())
        sd = scale * math.sqrt(float(sq.sum()) / (n - 1))
        skewness: float | None = float((sq * unit).mean()) / m2**1.5
        kurtosis: float | None = float((sq * sq).mean()) / (m2 * m2)
    else:
        sd = 0.0
        skewness = kurtosis = None
        if n > 1:
            notes.append(NOTE_ZERO_VARIANCE)
    if mean <= 0:
        notes.append(NOTE_NONPOSITIVE_MEAN)
    fpc = (population - n) / population
    se_mean = sd / math.sqrt(n) * math.sqrt(fpc)
    se_total = population * se_mean
    estimate = population * mean
    critical: dict[str, float | None] = {
        k: json_float(t_critical(n - 1, int(k) / 100)) for k in APPRAISAL_CONFIDENCES
    }
    return VariableMeasure(
        population=population,
        sample=n,
        total=total,
        nonzero=int(np.count_nonzero(values)),
        mean=mean,
        sd=sd,
        skewness=skewness,
        kurtosis=kurtosis,
        se_mean=se_mean,
        se_total=se_total,
        point_estimate=estimate,
        limits=_limits(estimate, se_total, mean > 0, critical),
        notes=tuple(notes),
        stratum=stratum,
    )


def _check_sample(
    problems: Problems, where: str, values: Iterable[object] | None, population: object
) -> tuple[npt.NDArray[np.float64], int] | None:
    array = problems.values(f"{where}values", values)
    big_n = problems.count(f"{where}population", population, minimum=1)
    if array is None or big_n is None:
        return None
    if array.size > big_n:
        problems.add(
            f"{where}values",
            f"no more sampled items than the universe size ({big_n})",
            f"{array.size} values",
            "check the universe size and the sample file.",
        )
        return None
    return array, big_n


def appraise_variable(values: Sequence[float], population: int) -> VariableMeasure:
    """Appraise one measure of a simple random sample of dollar values (unrestricted).

    Formulas (UG2010 pp. 4-10..4-17, CM2010 pp. 3-2..3-5; Cochran 1977 ch. 2):
    mean = sum y / n; SD with divisor n-1 (0 when n = 1, flagged ``single_unit``);
    skewness m3/m2^1.5 and kurtosis m4/m2^2 with population moments m_k = sum (y-mean)^k / n
    (kurtosis is not excess; ``None`` when m2 = 0); SE(mean) = SD/sqrt(n) * sqrt((N-n)/N);
    SE(total) = N*SE(mean); point estimate N*mean; for CL in 80/90/95%:
    t = t_{n-1}((1+CL)/2), precision = t*SE(total), limits = estimate -/+ precision,
    precision percent = 100*precision/estimate, reported as 0 when mean <= 0.
    A census (n = N) has zero variance (flagged ``census``).

    Assumptions: simple random sample without replacement; the t interval relies on the
    central limit theorem and under-covers on the upper side for skewed overpayments
    (docs/methods.md 3.2): the skewness is reported so a reader can judge.
    Validated against UG2010 pp. 4-16/4-17 (DATASRS, N = 10,000, n = 50).
    """
    problems = Problems()
    checked = _check_sample(problems, "", values, population)
    problems.raise_if_any("Cannot appraise these values.")
    assert checked is not None
    return _measure(checked[0], checked[1], None)


def complete_measures(
    *,
    examined: Sequence[float] | None = None,
    audited: Sequence[float] | None = None,
    difference: Sequence[float] | None = None,
    tolerance: float = 0.005,
) -> dict[str, tuple[float, ...]]:
    """Return the measures given plus the one any two of them imply.

    Rule (docs/methods.md 3.1; UG2010 p. 4-10): difference = examined - audited (> 0: overpaid),
    so audited = examined - difference and examined = audited + difference. With one measure,
    only it is returned; with all three, each row must satisfy the rule within ``tolerance``
    (half a cent by default). Keys are in the order examined, audited, difference.
    """
    given = {"examined": examined, "audited": audited, "difference": difference}
    problems = Problems()
    arrays: dict[str, npt.NDArray[np.float64]] = {}
    for name, values in given.items():
        if values is not None:
            array = problems.values(name, values)
            if array is not None:
                arrays[name] = array
    if all(v is None for v in given.values()):
        problems.add(
            "measures",
            "at least one of examined, audited, difference",
            "none",
            "give the examined and audited amounts, or the differences.",
        )
    sizes = {name: a.size for name, a in arrays.items()}
    if len(set(sizes.values())) > 1:
        problems.add(
            "measures",
            "the same number of values in each measure",
            ", ".join(f"{k}: {v}" for k, v in sizes.items()),
        )
    problems.raise_if_any("Cannot combine these measures.")
    if "examined" in arrays and "audited" in arrays:
        derived = arrays["examined"] - arrays["audited"]
        if "difference" in arrays:
            bad = np.flatnonzero(np.abs(derived - arrays["difference"]) > tolerance)
            if bad.size:
                rows = ", ".join(str(int(i)) for i in bad[:10])
                problems.add(
                    "difference",
                    "difference = examined - audited on every row",
                    f"{bad.size} row(s) that differ (index {rows})",
                    "give only two of the three measures, or correct those rows.",
                )
                problems.raise_if_any("Inconsistent measures.")
        arrays["difference"] = derived
    elif "examined" in arrays and "difference" in arrays:
        arrays["audited"] = arrays["examined"] - arrays["difference"]
    elif "audited" in arrays and "difference" in arrays:
        arrays["examined"] = arrays["audited"] + arrays["difference"]
    return {name: tuple(arrays[name].tolist()) for name in MEASURES if name in arrays}


@dataclass(frozen=True, slots=True, kw_only=True)
class VariableAppraisal:
    """Unrestricted variable appraisal of up to three measures (the command's whole result)."""

    population: int
    sample: int
    measures: dict[str, VariableMeasure]
    method: str = "unrestricted; t with n-1 degrees of freedom"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"population": self.population, "sample": self.sample}
        for name, measure in self.measures.items():
            out[name] = measure.to_dict()
        out["method"] = self.method
        return out


def appraise_variables(
    population: int,
    *,
    examined: Sequence[float] | None = None,
    audited: Sequence[float] | None = None,
    difference: Sequence[float] | None = None,
) -> VariableAppraisal:
    """Appraise every measure of an unrestricted sample (any two measures give the third).

    See :func:`appraise_variable` for the formulas and :func:`complete_measures` for the rule
    difference = examined - audited.
    """
    measures = complete_measures(examined=examined, audited=audited, difference=difference)
    results = {name: appraise_variable(values, population) for name, values in measures.items()}
    first = next(iter(results.values()))
    return VariableAppraisal(population=first.population, sample=first.sample, measures=results)


# ---------------------------------------------------------------------------------------------
# Stratified
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class VariableStratum:
    """One stratum's input: its name, universe size N_h and sampled values."""

    name: str
    population: int
    values: Sequence[float]


@dataclass(frozen=True, slots=True, kw_only=True)
class StratifiedVariableMeasure:
    """Stratified appraisal of one measure: per-stratum results and the combined total."""

    rule: CriticalValueRule
    population: int
    sample: int
    strata: tuple[VariableMeasure, ...]
    total: float
    point_estimate: float
    se_total: float
    limits: dict[str, VariableLimit]
    degrees_of_freedom: int | None
    notes: tuple[str, ...] = ()

    def overall_dict(self) -> dict[str, Any]:
        """Return the measure's block of the ``overall`` object (docs/cli.md)."""
        return {
            "point_estimate": self.point_estimate,
            "se_total": self.se_total,
            "limits": {k: v.to_dict() for k, v in self.limits.items()},
            "total": self.total,
            "degrees_of_freedom": self.degrees_of_freedom,
            "notes": list(self.notes),
        }

    def to_dict(self, measure: str = "values") -> dict[str, Any]:
        """Return the stratified appraisal JSON (docs/cli.md), this measure under ``measure``."""
        return StratifiedVariableAppraisal(
            critical_value_rule=self.rule,
            population=self.population,
            sample=self.sample,
            measures={measure: self},
        ).to_dict()


@dataclass(frozen=True, slots=True, kw_only=True)
class StratifiedVariableAppraisal:
    """Stratified variable appraisal of up to three measures (the command's whole result)."""

    critical_value_rule: CriticalValueRule
    population: int
    sample: int
    measures: dict[str, StratifiedVariableMeasure]

    def to_dict(self) -> dict[str, Any]:
        first = next(iter(self.measures.values()))
        strata: list[dict[str, Any]] = []
        for index, stratum in enumerate(first.strata):
            entry: dict[str, Any] = {
                "stratum": stratum.stratum,
                "population": stratum.population,
                "sample": stratum.sample,
            }
            for name, measure in self.measures.items():
                entry[name] = measure.strata[index].to_dict()
            strata.append(entry)
        return {
            "population": self.population,
            "sample": self.sample,
            "strata": strata,
            "overall": {name: m.overall_dict() for name, m in self.measures.items()},
            "critical_value_rule": str(self.critical_value_rule),
        }


def _parse_rule(problems: Problems, rule: object) -> CriticalValueRule | None:
    try:
        return CriticalValueRule(str(rule))
    except ValueError:
        problems.add(
            "rule",
            "one of " + ", ".join(r.value for r in CriticalValueRule),
            repr(rule),
            "use ratstats (z, as RAT-STATS 2010), t or z.",
        )
        return None


def _check_strata(problems: Problems, strata: Sequence[Any]) -> None:
    if not strata:
        problems.add("strata", "at least one stratum", "none", "list the strata.")
    seen: set[str] = set()
    for index, stratum in enumerate(strata):
        if stratum.name in seen:
            problems.add(f"strata[{index}]", "unique stratum names", f"{stratum.name!r} twice")
        seen.add(stratum.name)


def appraise_variable_stratified(
    strata: Sequence[VariableStratum], *, rule: CriticalValueRule | str = "ratstats"
) -> StratifiedVariableMeasure:
    """Appraise one measure of a stratified sample.

    Formulas (UG2010 pp. 4-26..4-34, CM2010 pp. 3-12..3-14; Cochran 1977 ch. 5): each stratum
    as :func:`appraise_variable` (own t with n_h-1 df); overall estimate sum N_h*mean_h,
    SE(total) = sqrt(sum SE(total)_h^2); limits estimate -/+ c*SE with c set by ``rule``:
    ``ratstats`` (default) and ``z``: z = Phi^-1((1+CL)/2), as RAT-STATS 2010 prints;
    ``t``: t with sum(n_h - 1) degrees of freedom. Precision percent is 0 when the overall
    estimate is <= 0.

    Census strata (n_h = N_h) contribute zero variance; n_h = 1 strata have SD 0 and are
    flagged (``single_unit``) because they contribute no variance although they are sampled;
    all-zero strata contribute nothing. Flags appear per stratum and, prefixed by the stratum
    name, in ``notes`` of the combined result.
    Validated against UG2010 pp. 4-33/4-34 (DATASTRAT, two strata).
    """
    problems = Problems()
    parsed = _parse_rule(problems, rule)
    _check_strata(problems, strata)
    checked: list[tuple[str, npt.NDArray[np.float64], int]] = []
    for index, stratum in enumerate(strata):
        result = _check_sample(
            problems, f"strata[{index}] ({stratum.name}): ", stratum.values, stratum.population
        )
        if result is not None:
            checked.append((stratum.name, result[0], result[1]))
    problems.raise_if_any("Cannot appraise this stratified sample.")
    assert parsed is not None
    measures = tuple(_measure(values, big_n, name) for name, values, big_n in checked)
    return _combine(measures, parsed)


def _combine(
    measures: tuple[VariableMeasure, ...], rule: CriticalValueRule
) -> StratifiedVariableMeasure:
    estimate = math.fsum(m.point_estimate for m in measures)
    se_total = math.hypot(*(m.se_total for m in measures))  # no underflow of tiny SEs
    df: int | None = None
    if rule is CriticalValueRule.T:
        df = sum(m.sample - 1 for m in measures)
        critical = {k: json_float(t_critical(df, int(k) / 100)) for k in APPRAISAL_CONFIDENCES}
    else:
        critical = {k: z_critical(int(k) / 100) for k in APPRAISAL_CONFIDENCES}
    notes = tuple(f"{m.stratum}: {note}" for m in measures for note in m.notes)
    return StratifiedVariableMeasure(
        rule=rule,
        population=sum(m.population for m in measures),
        sample=sum(m.sample for m in measures),
        strata=measures,
        total=math.fsum(m.total for m in measures),
        point_estimate=estimate,
        se_total=se_total,
        limits=_limits(estimate, se_total, estimate > 0, critical),
        degrees_of_freedom=df,
        notes=notes,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasuredStratum:
    """One stratum with up to three measures (any two give the third)."""

    name: str
    population: int
    examined: Sequence[float] | None = None
    audited: Sequence[float] | None = None
    difference: Sequence[float] | None = None


def appraise_variables_stratified(
    strata: Sequence[MeasuredStratum], *, rule: CriticalValueRule | str = "ratstats"
) -> StratifiedVariableAppraisal:
    """Appraise every measure of a stratified sample (see :func:`appraise_variable_stratified`).

    Every stratum must carry the same measures; any two give the third
    (difference = examined - audited).
    """
    problems = Problems()
    parsed = _parse_rule(problems, rule)
    _check_strata(problems, strata)
    completed: list[tuple[MeasuredStratum, dict[str, tuple[float, ...]]]] = []
    for index, stratum in enumerate(strata):
        try:
            measures = complete_measures(
                examined=stratum.examined, audited=stratum.audited, difference=stratum.difference
            )
        except StatisticsError as exc:  # re-located under the stratum
            for p in exc.problems:
                problems.add(
                    f"strata[{index}] ({stratum.name}): {p.where}", p.expected, p.found, p.fix
                )
            continue
        completed.append((stratum, measures))
    names = {tuple(m) for _, m in completed}
    if len(names) > 1:
        problems.add(
            "strata",
            "the same measures in every stratum",
            "; ".join(sorted(",".join(n) for n in names)),
        )
    problems.raise_if_any("Cannot appraise this stratified sample.")
    assert parsed is not None
    results: dict[str, StratifiedVariableMeasure] = {}
    for measure in next(iter(names)):
        results[measure] = appraise_variable_stratified(
            [
                VariableStratum(name=s.name, population=s.population, values=m[measure])
                for s, m in completed
            ],
            rule=parsed,
        )
    first = next(iter(results.values()))
    return StratifiedVariableAppraisal(
        critical_value_rule=parsed,
        population=first.population,
        sample=first.sample,
        measures=results,
    )
