"""Prepare the view model of every report from results.json and the sampling record.

Formatting only: numbers are taken from results.json as the scoring stage computed them and
turned into display strings; nothing is computed here beyond sorting and summing display rows
that results.json already totals. Keys the report cannot do without are checked up front and all
missing ones reported together; optional keys that are null or absent drop their section.

Only whitelisted fields are ever copied into a view (unit ids, never patient fields), so a
results.json that carried more than its contract still cannot leak it into a PDF.

Display conventions: accuracy to one decimal; a *lower* confidence limit is rounded down and an
*upper* limit up, so a printed limit never claims more than the computation supports; sample
dollars to the cent, extrapolated dollars to whole dollars (as RAT-STATS prints totals).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from audit_kit.errors import InputError, Problem
from audit_kit.reporting import charts

__all__ = [
    "DEMAND_RULES",
    "attestation_context",
    "check_results",
    "coder_context",
    "executive_context",
    "money",
    "pct",
    "pct_lower",
    "pct_upper",
    "safe_file_stem",
]

VERDICTS = {
    "meets": "Meets target",
    "below": "Below target",
    "inconclusive": "Inconclusive",
}

DEMAND_RULES = {
    "point_estimate": (
        "Point estimate",
        "The point estimate of the universe total is used. It is the best single estimate but "
        "is exceeded by the true amount about half the time; it is customary in voluntary "
        "self-disclosures when the disclosing party accepts the estimate.",
    ),
    "cms_one_sided_90": (
        "Lower limit of the one-sided 90% confidence interval",
        "CMS Program Integrity Manual ch. 8 demands the lower limit of a one-sided 90% "
        "confidence interval (the lower limit of the two-sided 80% interval): the true amount "
        "exceeds it with 90% confidence, so the estimate is conservative for the provider.",
    ),
    "oig_two_sided_90": (
        "Lower limit of the two-sided 90% confidence interval",
        "OIG audits customarily use the lower limit of the two-sided 90% confidence interval: "
        "the true amount exceeds it with 95% confidence, more conservative than the CMS rule.",
    ),
}

NETTING = {
    "net": "overpayments netted against underpayments",
    "gross": "overpayments and underpayments added (gross)",
    "overpayments_only": "overpayments only (underpayments not netted)",
}

CLT_NOTE = (
    "The confidence limits of the dollar extrapolation rest on the central limit theorem. On "
    "skewed overpayment data they under-cover on the upper side: in a simulation on a "
    "10,000-unit universe with lognormal paid amounts and a 15% error rate, two-sided 90% "
    "intervals covered the true total in 67% (n=30), 72% (n=50), 77% (n=100) and 81% (n=200) of "
    "4,000 samples, while the one-sided 90% lower limit stayed below the truth 96-99% of the "
    "time, i.e. conservative for the provider, as CMS intends. The sample's skewness is printed "
    "so that a reader can judge how far this applies."
)

RATSTATS_STREAMS_NOTE = (
    "The RAT-STATS 2010 generator keeps only 16 bits of the seed (VB6 Randomize), so there are "
    "at most 65,536 distinct random-number streams; different seeds can give the same sample "
    "(for example seeds 4194304 to 4194307). The seed as entered and the Wichmann-Hill triple "
    "above re-create the sample exactly in RAT-STATS."
)

ROUNDING_NOTE = (
    "Accuracy is shown to one decimal. Lower confidence limits are rounded down and upper limits "
    "up, so a printed limit never claims more than the computation supports. Sample dollar "
    "amounts are shown to the cent and extrapolated amounts to whole dollars. Every number is "
    "in results.json, attached to this PDF."
)

# -- formatting ----------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def pct(value: Any, digits: int = 1) -> str:
    """Format a share 0..1 as a percentage (``0.9613`` -> ``96.1%``); missing -> ``n/a``."""
    number = _finite(value)
    return "n/a" if number is None else f"{number * 100:.{digits}f}%"


def pct_lower(value: Any, digits: int = 1) -> str:
    """Format a lower confidence limit, rounded down (never overstating it)."""
    number = _finite(value)
    if number is None:
        return "n/a"
    scale = 10**digits
    return f"{math.floor(round(number * 100 * scale, 6)) / scale:.{digits}f}%"


def pct_upper(value: Any, digits: int = 1) -> str:
    """Format an upper confidence limit, rounded up."""
    number = _finite(value)
    if number is None:
        return "n/a"
    scale = 10**digits
    return f"{math.ceil(round(number * 100 * scale, 6)) / scale:.{digits}f}%"


def percent_units(value: Any) -> str:
    """Format a number already in percent (RAT-STATS precision percent): 201.0 -> 201.00%."""
    number = _finite(value)
    return "n/a" if number is None else f"{number:,.2f}%"


def money(value: Any, *, cents: bool = True) -> str:
    """Format dollars: ``$1,234.56`` (or whole dollars); negative as ``-$1,234.56``."""
    number = _finite(value)
    if number is None:
        return "n/a"
    text = f"${abs(number):,.2f}" if cents else f"${abs(round(number)):,.0f}"
    return ("-" + text) if number < 0 and text.strip("$0.,") else text


def count(value: Any) -> str:
    number = _finite(value)
    if number is None:
        return "n/a"
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:,.2f}"


def conf(value: Any) -> str:
    """Format a confidence level 0.95 (or 95) as ``95%``."""
    number = _finite(value)
    if number is None:
        return "n/a"
    if number <= 1:
        number *= 100
    return f"{number:g}%"


def text(value: Any) -> str:
    return "" if value is None else str(value)


def describe(value: Any) -> str:
    """Render a small JSON value (dict, list, scalar) as one readable line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return "; ".join(f"{k.replace('_', ' ')}: {describe(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(describe(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10))} | {
    f"lpt{i}" for i in range(10)
}


def safe_file_stem(name: str, taken: set[str]) -> str:
    """Turn a coder id into a unique, portable file stem (``Jane O'Neil`` -> ``Jane_O_Neil``)."""
    stem = _UNSAFE.sub("_", name.strip()).strip("._-")[:60] or "coder"
    if stem.lower() in _WINDOWS_RESERVED:
        stem = "coder_" + stem
    candidate, i = stem, 2
    while candidate.lower() in taken:
        candidate = f"{stem}-{i}"
        i += 1
    taken.add(candidate.lower())
    return candidate


# -- validation ----------------------------------------------------------------------------

_INTERVAL_KEYS = ("value", "lower", "upper")
_GROUP_REQUIRED = ("units_reviewed", "units_with_error")


def _problem(where: str, expected: str, found: Any) -> Problem:
    shown = "nothing" if found is _MISSING else repr(found)[:60]
    return Problem(
        where=f"results.json: {where}",
        expected=expected,
        found=shown,
        fix="re-run `audit-kit score AUDIT_DIR` with this version of audit-kit.",
    )


_MISSING = object()


def _sub(obj: Any, key: str) -> Mapping[str, Any]:
    """Return obj[key] when it is a JSON object, else an empty mapping."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _get(obj: Any, key: str) -> Any:
    return obj.get(key, _MISSING) if isinstance(obj, Mapping) else _MISSING


def _check_group(group: Any, where: str, problems: list[Problem]) -> None:
    if not isinstance(group, Mapping):
        problems.append(_problem(where, "an object with the scores of a group", group))
        return
    for key in _GROUP_REQUIRED:
        value = _get(group, key)
        if _finite(value) is None:
            problems.append(_problem(f"{where}.{key}", "a number", value))
    for measure in ("record_accuracy", "code_accuracy"):
        interval = _get(group, measure)
        if not isinstance(interval, Mapping):
            problems.append(_problem(f"{where}.{measure}", "{value, lower, upper, ...}", interval))
            continue
        for key in _INTERVAL_KEYS:
            value = _get(interval, key)
            if _finite(value) is None:
                problems.append(_problem(f"{where}.{measure}.{key}", "a number", value))
    verdict = _get(group, "verdict")
    if verdict not in VERDICTS:
        problems.append(_problem(f"{where}.verdict", "one of " + ", ".join(VERDICTS), verdict))


def check_results(results: Any) -> None:
    """Raise one InputError naming every required key of results.json that is missing or wrong."""
    problems: list[Problem] = []
    if not isinstance(results, Mapping):
        raise InputError(
            "results.json is not a results document.",
            [_problem("(top level)", "a JSON object", type(results).__name__)],
        )
    audit = _get(results, "audit")
    for key in ("id", "name", "findings_sha256"):
        value = _get(audit, key)
        if not isinstance(value, str) or not value:
            problems.append(_problem(f"audit.{key}", "a non-empty string", value))
    settings = _get(results, "settings")
    for key in ("target_accuracy", "confidence"):
        value = _get(settings, key)
        if _finite(value) is None:
            problems.append(_problem(f"settings.{key}", "a number", value))
    _check_group(_get(results, "overall"), "overall", problems)
    coders = _get(results, "coders")
    if not isinstance(coders, list):
        problems.append(_problem("coders", "a list of per-coder scores", coders))
    else:
        for i, coder in enumerate(coders):
            name = _get(coder, "coder")
            if not isinstance(name, str) or not name:
                problems.append(_problem(f"coders[{i}].coder", "the coder's id", name))
            _check_group(coder, f"coders[{i}]", problems)
    errors = _get(results, "errors")
    if not isinstance(errors, list):
        problems.append(_problem("errors", "a list of units with an error (may be empty)", errors))
    else:
        for i, err in enumerate(errors):
            for key in ("unit_id", "coder"):
                value = _get(err, key)
                if value is _MISSING or value is None:
                    problems.append(_problem(f"errors[{i}].{key}", "a value", value))
    if problems:
        raise InputError(f"results.json lacks {len(problems)} value(s) the reports need.", problems)


# -- views ---------------------------------------------------------------------------------


def _interval(obj: Any, default_conf: Any) -> dict[str, Any]:
    obj = obj if isinstance(obj, Mapping) else {}
    return {
        "value": pct(obj.get("value")),
        "lower": pct_lower(obj.get("lower")),
        "upper": pct_upper(obj.get("upper")),
        "confidence": conf(obj.get("confidence", default_conf)),
        "method": text(obj.get("method")),
        "raw": obj.get("value"),
    }


def _financial(obj: Any) -> dict[str, str] | None:
    if not isinstance(obj, Mapping):
        return None
    keys = ("examined", "audited", "overpayment", "underpayment", "net", "gross")
    return {k: money(obj.get(k)) for k in keys}


def _group(group: Mapping[str, Any], default_conf: Any) -> dict[str, Any]:
    codes = group.get("codes") if isinstance(group.get("codes"), Mapping) else None
    optional = {}
    for key in ("drg_accuracy", "financial_accuracy"):
        value = group.get(key)
        optional[key] = _interval(value, default_conf) if isinstance(value, Mapping) else None
    return {
        "units_reviewed": count(group.get("units_reviewed")),
        "units_with_error": count(group.get("units_with_error")),
        "units_not_reviewed": count(group.get("units_not_reviewed"))
        if group.get("units_not_reviewed") is not None
        else None,
        "record": _interval(group.get("record_accuracy"), default_conf),
        "code": _interval(group.get("code_accuracy"), default_conf),
        "drg": optional["drg_accuracy"],
        "financial_accuracy": optional["financial_accuracy"],
        "dollar_accuracy": pct(group.get("dollar_accuracy"))
        if _finite(group.get("dollar_accuracy")) is not None
        else None,
        "verdict": group.get("verdict"),
        "verdict_label": VERDICTS.get(str(group.get("verdict")), "n/a"),
        "codes": {k: count(v) for k, v in codes.items() if _finite(v) is not None}
        if codes
        else None,
        "financial": _financial(group.get("financial")),
    }


def _extrapolation(ex: Any, settings: Mapping[str, Any]) -> dict[str, Any] | None:
    if not isinstance(ex, Mapping):
        return None
    limits_in = _sub(ex, "limits")
    limits = []
    for level in ("80", "90", "95"):
        lim = limits_in.get(level)
        if not isinstance(lim, Mapping):
            continue
        limits.append(
            {
                "level": f"{level}%",
                "lower": money(lim.get("lower"), cents=False),
                "upper": money(lim.get("upper"), cents=False),
                "precision": money(lim.get("precision"), cents=False),
                "precision_percent": percent_units(lim.get("precision_percent")),
                "critical_value": f"{lim['critical_value']:.12f}"
                if _finite(lim.get("critical_value")) is not None
                else "n/a",
            }
        )
    rule = str(ex.get("demand_rule") or settings.get("demand_rule") or "")
    rule_label, rule_why = DEMAND_RULES.get(rule, (rule or "not recorded", ""))
    netting = str(ex.get("netting") or settings.get("netting") or "")
    return {
        "measure": text(ex.get("measure")).replace("_", " ") or "difference",
        "netting": NETTING.get(netting, netting),
        "population": count(ex.get("population")),
        "sample": count(ex.get("sample")),
        "point_estimate": money(ex.get("point_estimate"), cents=False),
        "se_total": money(ex.get("se_total"), cents=False),
        "limits": limits,
        "one_sided_90_lower": money(ex.get("one_sided_90_lower"), cents=False),
        "two_sided_90_lower": money(ex.get("two_sided_90_lower"), cents=False),
        "demand_rule": rule,
        "demand_rule_label": rule_label,
        "demand_rule_why": rule_why,
        "demand_amount": money(ex.get("demand_amount"), cents=False),
        "demand_reason": text(ex.get("demand_reason")),
        "critical_value_rule": text(ex.get("critical_value_rule") or "")
        or text(settings.get("critical_value_rule")),
        "skewness": f"{ex['skewness']:.4f}" if _finite(ex.get("skewness")) is not None else None,
        "strata_skewness": [
            {"stratum": str(k), "skewness": f"{v:.4f}" if _finite(v) is not None else "n/a"}
            for k, v in _sub(ex, "strata_skewness").items()
        ],
        "notes": [_note(n) for n in (_sub(ex, "appraisal").get("notes") or [])],
        "printout": _variable_printout(ex),
        "attribute_printout": _attribute_printout(ex.get("error_rate")),
    }


_NOTES = {
    "zero_variance": "standard deviation 0 (one unit, or all differences equal): no sampling "
    "error is attributed to this stratum",
    "mean_not_positive": "mean difference not positive: precision percent reported as 0",
}


def _note(note: Any) -> str:
    """Explain an appraisal flag such as ``C01: zero_variance``."""
    label = str(note)
    head, _, code = label.rpartition(": ")
    explained = _NOTES.get(code or label)
    if explained is None:
        return label.replace("_", " ")
    return f"{head}: {explained}" if head else explained


def _pad(label: str, value: str, width: int = 34) -> str:
    return f"{label:<{width}}{value:>18}"


def _variable_printout(ex: Mapping[str, Any]) -> str:
    """The dollar appraisal in the layout of RAT-STATS' Unrestricted Variable Appraisal."""
    measure = text(ex.get("measure") or "difference").replace("_", " ").upper()
    # scoring.py keeps the appraisal statistics (mean, sd, kurtosis...) in a sub-object.
    ex = {**ex, **{k: v for k, v in _sub(ex, "appraisal").items() if v is not None}}
    stratified = bool(ex.get("strata_skewness")) or "degrees_of_freedom" in ex
    lines = [
        "VARIABLE APPRAISAL" + (" (STRATIFIED, OVERALL)" if stratified else ""),
        f"{measure} VALUES",
        "",
        _pad("SAMPLE SIZE:", count(ex.get("sample"))),
        _pad("UNIVERSE SIZE:", count(ex.get("population"))),
    ]
    for key, label in (
        ("nonzero", "NONZERO ITEMS:"),
        ("total", "SAMPLE TOTAL:"),
        ("mean", "MEAN:"),
        ("sd", "STANDARD DEVIATION:"),
        ("skewness", "SKEWNESS:"),
        ("kurtosis", "KURTOSIS:"),
        ("se_mean", "STANDARD ERROR (MEAN):"),
    ):
        value = _finite(ex.get(key))
        if value is None:
            continue
        shown = count(value) if key == "nonzero" else f"{value:,.2f}"
        if key in ("skewness", "kurtosis"):
            shown = f"{value:.4f}"
        lines.append(_pad(label, shown))
    lines.append(_pad("STANDARD ERROR (TOTAL):", money(ex.get("se_total"), cents=False)))
    lines.append(_pad("POINT ESTIMATE:", money(ex.get("point_estimate"), cents=False)))
    limits = _sub(ex, "limits")
    levels = [lv for lv in ("80", "90", "95") if isinstance(limits.get(lv), Mapping)]
    if levels:
        lines += ["", f"{'':<22}" + "".join(f"{lv + '% CONF. LEVEL':>20}" for lv in levels)]
        rows: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
            ("LOWER LIMIT", "lower", lambda v: money(v, cents=False)),
            ("UPPER LIMIT", "upper", lambda v: money(v, cents=False)),
            ("PRECISION AMOUNT", "precision", lambda v: money(v, cents=False)),
            ("PRECISION PERCENT", "precision_percent", percent_units),
            (
                "T/Z-VALUE USED",
                "critical_value",
                lambda v: f"{v:.12f}" if _finite(v) is not None else "n/a",
            ),
        )
        for label, key, fmt in rows:
            lines.append(
                f"{label:<22}" + "".join(f"{fmt(limits[lv].get(key)):>20}" for lv in levels)
            )
    return "\n".join(lines)


def _attribute_printout(att: Any) -> str | None:
    """The error-rate appraisal in the layout of RAT-STATS' Unrestricted Attribute Appraisal."""
    if not isinstance(att, Mapping):
        return None
    strata = [s for s in att.get("strata") or [] if isinstance(s, Mapping)]
    overall = _sub(att, "overall")
    lines = ["ATTRIBUTE APPRAISAL (UNITS IN ERROR)" + (" (STRATIFIED)" if strata else ""), ""]
    if strata:
        lines.append(f"{'STRATUM':<14}{'UNIVERSE':>10}{'SAMPLE':>9}{'ERRORS':>9}{'PERCENT':>11}")
        for item in strata:
            lines.append(
                f"{text(item.get('stratum'))[:13]:<14}{count(item.get('population')):>10}"
                f"{count(item.get('sample')):>9}{count(item.get('errors')):>9}"
                f"{pct(item.get('rate'), 3):>11}"
            )
        lines.append("")
        att = {**overall, "population": overall.get("population"), "errors": overall.get("errors")}
    lines += [
        _pad("UNIVERSE SIZE:", count(att.get("population"))),
        _pad("SAMPLE SIZE:", count(att.get("sample"))),
        _pad("NUMBER OF ITEMS OF INTEREST:", count(att.get("errors"))),
        _pad("PERCENT OF ITEMS OF INTEREST:", pct(att.get("rate"), 3)),
        _pad(
            "PROJECTED QUANTITY:",
            count(round(att["quantity"])) if _finite(att.get("quantity")) is not None else "n/a",
        ),
    ]
    limits = _sub(att, "limits")
    levels = [lv for lv in ("80", "90", "95") if isinstance(limits.get(lv), Mapping)]
    if levels:
        lines += ["", f"{'':<22}" + "".join(f"{lv + '% CONF. LEVEL':>20}" for lv in levels)]
        for label, key, fmt in (
            ("LOWER LIMIT QUANTITY", "lower", count),
            ("UPPER LIMIT QUANTITY", "upper", count),
            ("LOWER LIMIT PERCENT", "lower_rate", lambda v: pct(v, 3)),
            ("UPPER LIMIT PERCENT", "upper_rate", lambda v: pct(v, 3)),
        ):
            cells = []
            for lv in levels:
                value = limits[lv].get(key)
                cells.append(f"{fmt(value) if value is not None else '---':>20}")
            lines.append(f"{label:<22}" + "".join(cells))
    return "\n".join(lines)


_CODE_FIELDS = (("dx", "Dx"), ("px", "Px"), ("cpt", "CPT/HCPCS"))


def _codes(obj: Any) -> list[str]:
    if not isinstance(obj, Mapping):
        return []
    lines = []
    for key, label in _CODE_FIELDS:
        values = obj.get(key)
        if isinstance(values, list) and values:
            lines.append(f"{label}: " + "; ".join(str(v) for v in values))
    if obj.get("drg"):
        lines.append(f"DRG: {obj['drg']}")
    return lines


def _changes(obj: Any) -> list[str]:
    if not isinstance(obj, Mapping):
        return []
    out = []
    if obj.get("added"):
        out.append("added " + ", ".join(str(c) for c in obj["added"]))
    if obj.get("deleted"):
        out.append("deleted " + ", ".join(str(c) for c in obj["deleted"]))
    for pair in obj.get("revised") or []:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            out.append(f"revised {pair[0]} \u2192 {pair[1]}")
    if obj.get("principal_dx_changed"):
        out.append("principal diagnosis changed")
    if obj.get("sequencing_changed"):
        out.append("sequencing changed")
    return out


def _finding(err: Mapping[str, Any]) -> dict[str, Any]:
    # Whitelist: unit ids and coding only, never a patient field.
    status = text(err.get("status"))
    return {
        "unit_id": text(err.get("unit_id")),
        "coder": text(err.get("coder")),
        "auditor": text(err.get("auditor")),
        "stratum": text(err.get("stratum")),
        "status": status,
        "category": text(err.get("category")) or ("record missing" if "missing" in status else ""),
        "original": _codes(err.get("original")),
        "audited": _codes(err.get("audited"))
        or (["record missing: no code is supported"] if "missing" in status else []),
        "changes": _changes(err.get("changes")),
        "examined": money(err.get("examined")) if _finite(err.get("examined")) is not None else "",
        "audited_amount": money(err.get("audited_amount"))
        if _finite(err.get("audited_amount")) is not None
        else "",
        "difference": money(err.get("difference"))
        if _finite(err.get("difference")) is not None
        else "",
        "rationale": text(err.get("rationale")),
        "reference": text(err.get("reference")),
    }


def _audit_view(results: Mapping[str, Any]) -> dict[str, str]:
    audit = results["audit"]
    keys = (
        "id",
        "name",
        "objective",
        "organisation",
        "period",
        "sampling_unit",
        "preset",
        "tool_version",
        "scored_at",
        "findings_sha256",
    )
    return {k: text(audit.get(k)) for k in keys}


def _settings_view(settings: Mapping[str, Any]) -> dict[str, Any]:
    rule = text(settings.get("demand_rule"))
    return {
        "target": pct(settings.get("target_accuracy")),
        "target_raw": float(settings["target_accuracy"]),
        "confidence": conf(settings.get("confidence")),
        "netting": NETTING.get(text(settings.get("netting")), text(settings.get("netting"))),
        "demand_rule": rule,
        "demand_rule_label": DEMAND_RULES.get(rule, (rule, ""))[0],
        "basis": text(settings.get("basis")),
        "critical_value_rule": text(settings.get("critical_value_rule")),
    }


def _accuracy_row(label: str, group: Mapping[str, Any], measure: str) -> charts.AccuracyRow:
    interval = group[measure]
    # `verdict` judges code accuracy; record accuracy has its own verdict only when scored so.
    verdict = group.get("verdict") if measure == "code_accuracy" else group.get("record_verdict")
    return charts.AccuracyRow(
        label=label,
        value=float(interval["value"]),
        lower=float(interval["lower"]),
        upper=float(interval["upper"]),
        verdict=str(verdict) if verdict in VERDICTS else "",
    )


def _other_groups(results: Mapping[str, Any], default_conf: Any) -> list[dict[str, Any]]:
    out = []
    for key, name_key, title in (
        ("providers", "provider", "Providers"),
        ("auditors", "auditor", "Auditors"),
        ("settings_groups", "setting", "Settings of care"),
        ("strata", "stratum", "Strata"),
    ):
        groups = results.get(key)
        if not isinstance(groups, list) or not groups:
            continue
        rows = []
        for g in groups:
            if not isinstance(g, Mapping):
                continue
            try:
                view = _group(g, default_conf)
            except (KeyError, TypeError):
                continue
            view["name"] = text(g.get(name_key))
            rows.append(view)
        if rows:
            out.append({"title": title, "label": name_key.capitalize(), "rows": rows})
    return out


def _sampling_view(sampling: Mapping[str, Any] | None, statement: str | None) -> dict[str, Any]:
    if not isinstance(sampling, Mapping):
        return {"present": False, "statement": statement}
    universe = _sub(sampling, "universe")
    frame = _sub(sampling, "frame")
    generator = _sub(sampling, "generator")
    audit = sampling.get("audit")
    rows: list[tuple[str, str]] = []
    if isinstance(audit, Mapping):
        for key in ("name", "objective", "id"):
            if audit.get(key):
                rows.append((f"Audit {key}", text(audit[key])))
    elif audit:
        rows.append(("Audit", text(audit)))
    rows += [
        ("Universe file", text(universe.get("file"))),
        ("Universe SHA-256", text(universe.get("sha256"))),
        ("Universe rows", count(universe.get("rows"))),
        ("Sampling unit", text(sampling.get("sampling_unit"))),
        ("Frame size N (after filters)", count(frame.get("size"))),
        ("Design", describe(sampling.get("design"))),
        ("Sample size n (how chosen)", describe(sampling.get("sample_size"))),
    ]
    excluded = []
    for item in frame.get("excluded") or []:
        if isinstance(item, Mapping):
            excluded.append({"filter": text(item.get("filter")), "rows": count(item.get("rows"))})
    strata = []
    for item in sampling.get("strata") or []:
        if isinstance(item, Mapping):
            strata.append(
                {
                    "stratum": text(item.get("stratum")),
                    "population": count(item.get("population")),
                    "sample": count(item.get("sample")),
                    "census": "yes" if item.get("census") else "no",
                    "certainty": "yes" if item.get("certainty") else "no",
                }
            )
    name = text(generator.get("name"))
    gen_rows = [
        (
            "Generator",
            name + (f" (version {generator['version']})" if generator.get("version") else ""),
        ),
        ("Seed as entered", describe(generator.get("seed"))),
        ("Seed used", describe(generator.get("seed_used"))),
    ]
    if generator.get("wh_seeds"):
        gen_rows.append(("Wichmann-Hill seeds", describe(generator.get("wh_seeds"))))
    for key, value in generator.items():
        if key not in ("name", "version", "seed", "seed_used", "wh_seeds"):
            gen_rows.append((key.replace("_", " ").capitalize(), describe(value)))
    spares = sampling.get("spares")
    tail = [
        ("Spares and spare policy", describe(spares) if spares is not None else "none"),
        ("Tool version", text(sampling.get("tool_version"))),
        ("Sample drawn at", text(sampling.get("created_at"))),
    ]
    return {
        "present": True,
        "rows": [r for r in rows if r[1]],
        "excluded": excluded,
        "strata": strata,
        "generator": [r for r in gen_rows if r[1]],
        "ratstats": name.lower() == "ratstats",
        "ratstats_note": RATSTATS_STREAMS_NOTE,
        "tail": [r for r in tail if r[1]],
        "statement": statement,
    }


def _progress(progress: Any) -> list[tuple[str, str]] | None:
    if not isinstance(progress, Mapping):
        return None
    labels = (
        ("units_sampled", "Units sampled"),
        ("units_returned", "Units returned by auditors"),
        ("units_reviewed", "Units reviewed"),
        ("units_record_missing", "Records missing (scored as errors)"),
        ("units_not_reviewed", "Units not reviewed (excluded from scoring)"),
    )
    rows = [(label, count(progress[k])) for k, label in labels if progress.get(k) is not None]
    return rows or None


def _categories(results: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    cats = results.get("categories")
    if not isinstance(cats, list) or not cats:
        return None
    rows: list[dict[str, Any]] = []
    for c in cats:
        if not isinstance(c, Mapping):
            continue
        rows.append(
            {
                "category": text(c.get("category")),
                "units": count(c.get("units")),
                "units_raw": int(_finite(c.get("units")) or 0),
                "share": pct(c.get("share")),
                "cumulative_share": pct(c.get("cumulative_share")),
                "cumulative_raw": _finite(c.get("cumulative_share")) or 0.0,
                "overpayment": money(c.get("overpayment")),
                "underpayment": money(c.get("underpayment")),
                "net": money(c.get("net")),
            }
        )
    rows.sort(key=lambda r: -int(r["units_raw"]))
    return rows or None


def _doc(title: str, results: Mapping[str, Any], rendered_at: str) -> dict[str, str]:
    audit = results["audit"]
    return {
        "title": title,
        "author": text(audit.get("organisation")) or "audit-kit",
        "subject": text(audit.get("id")),
        "rendered_at": rendered_at,
    }


def executive_context(
    results: Mapping[str, Any],
    sampling: Mapping[str, Any] | None,
    *,
    statement: str | None,
    rendered_at: str,
    coder_files: Mapping[str, str],
) -> dict[str, Any]:
    """Return the view model of the executive report."""
    settings = results["settings"]
    default_conf = settings.get("confidence")
    target = float(settings["target_accuracy"])
    overall = results["overall"]
    coders_in = sorted(results["coders"], key=lambda c: str(c["coder"]))
    coders = []
    for c in coders_in:
        view = _group(c, default_conf)
        view["name"] = str(c["coder"])
        view["file"] = coder_files.get(str(c["coder"]), "")
        coders.append(view)
    accuracy_svg = charts.accuracy_chart(
        [_accuracy_row(str(c["coder"]), c, "code_accuracy") for c in coders_in],
        target=target,
        title="Code accuracy per coder with confidence interval and target",
        axis_label="Code accuracy (dot) and its confidence interval (whiskers)",
    )
    categories = _categories(results)
    pareto_svg = (
        charts.pareto_chart(
            [
                charts.ParetoBar(
                    label=r["category"], count=r["units_raw"], cumulative_share=r["cumulative_raw"]
                )
                for r in categories
            ],
            title="Error categories (Pareto)",
        )
        if categories
        else None
    )
    fin_rows = [c for c in coders if c["financial"]]
    payments_svg = None
    if fin_rows:
        payments_svg = charts.payments_chart(
            [
                charts.PaymentRow(
                    label=str(c["coder"]),
                    overpayment=_finite(c["financial"].get("overpayment")) or 0.0,
                    underpayment=abs(_finite(c["financial"].get("underpayment")) or 0.0),
                )
                for c in coders_in
                if isinstance(c.get("financial"), Mapping)
            ],
            title="Overpayments and underpayments per coder (sample)",
        )
    extrapolation = _extrapolation(overall.get("extrapolation"), settings)
    strata_ex = []
    for s in results.get("strata") or []:
        if isinstance(s, Mapping) and isinstance(s.get("extrapolation"), Mapping):
            ex = _extrapolation(s["extrapolation"], settings)
            if ex:
                ex["stratum"] = text(s.get("stratum"))
                strata_ex.append(ex)
    errors = sorted(
        (e for e in results["errors"] if isinstance(e, Mapping)),
        key=lambda e: (str(e.get("coder")), str(e.get("unit_id"))),
    )
    return {
        "doc": _doc(
            f"Coding compliance audit report: {results['audit']['name']}", results, rendered_at
        ),
        "audit": _audit_view(results),
        "settings": _settings_view(settings),
        "progress": _progress(results.get("progress")),
        "overall": _group(overall, default_conf),
        "coders": coders,
        "charts": {"accuracy": accuracy_svg, "pareto": pareto_svg, "payments": payments_svg},
        "categories": categories,
        "has_financial": bool(fin_rows) or _financial(overall.get("financial")) is not None,
        "extrapolation": extrapolation,
        "strata_extrapolation": strata_ex,
        "other_groups": _other_groups(results, default_conf),
        "findings": [_finding(e) for e in errors],
        "sampling": _sampling_view(sampling, statement),
        "clt_note": CLT_NOTE,
        "rounding_note": ROUNDING_NOTE,
    }


def coder_context(
    results: Mapping[str, Any], coder: Mapping[str, Any], *, rendered_at: str
) -> dict[str, Any]:
    """Return the view model of one coder's feedback: that coder, the team and the target only."""
    settings = results["settings"]
    default_conf = settings.get("confidence")
    name = str(coder["coder"])
    target = float(settings["target_accuracy"])
    overall = results["overall"]
    rows = [
        _accuracy_row("Your code accuracy", coder, "code_accuracy"),
        _accuracy_row("Team code accuracy", overall, "code_accuracy"),
        _accuracy_row("Your record accuracy", coder, "record_accuracy"),
        _accuracy_row("Team record accuracy", overall, "record_accuracy"),
    ]
    chart = charts.accuracy_chart(
        rows,
        target=target,
        title=f"Accuracy of {name} against the team and the target",
        axis_label="Accuracy (dot) and its confidence interval (whiskers)",
    )
    mine = sorted(
        (e for e in results["errors"] if isinstance(e, Mapping) and str(e.get("coder")) == name),
        key=lambda e: str(e.get("unit_id")),
    )
    return {
        "doc": _doc(
            f"Coding feedback for {name}: {results['audit']['name']}", results, rendered_at
        ),
        "audit": _audit_view(results),
        "settings": _settings_view(settings),
        "coder": {**_group(coder, default_conf), "name": name},
        "team": _group(overall, default_conf),
        "chart": chart,
        "findings": [_finding(e) for e in mine],
        "rounding_note": ROUNDING_NOTE,
    }


def attestation_context(
    results: Mapping[str, Any], sampling: Mapping[str, Any] | None, *, rendered_at: str
) -> dict[str, Any]:
    """Return the view model of the one-page accuracy attestation."""
    settings = results["settings"]
    default_conf = settings.get("confidence")
    overall = _group(results["overall"], default_conf)
    samp: Mapping[str, Any] = sampling if isinstance(sampling, Mapping) else {}
    frame = _sub(samp, "frame")
    universe = _sub(samp, "universe")
    generator = _sub(samp, "generator")
    design = samp.get("design")
    design_text = (
        text(design.get("method")) if isinstance(design, Mapping) else text(design)
    ) or "simple"
    strata = [s for s in samp.get("strata") or [] if isinstance(s, Mapping)]
    return {
        "doc": _doc(
            f"Coding accuracy attestation: {results['audit']['name']}", results, rendered_at
        ),
        "audit": _audit_view(results),
        "settings": _settings_view(settings),
        "overall": overall,
        "population": count(frame.get("size")) if frame.get("size") is not None else None,
        "universe_file": text(universe.get("file")),
        "universe_sha256": text(universe.get("sha256")),
        "sampling_unit": text(samp.get("sampling_unit") or results["audit"].get("sampling_unit")),
        "design": design_text,
        "strata_count": len(strata),
        "generator": text(generator.get("name")),
        "seed": describe(generator.get("seed")),
        "sample_drawn_at": text(samp.get("created_at")),
    }


def coder_groups(results: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    return sorted(results["coders"], key=lambda c: str(c["coder"]))
