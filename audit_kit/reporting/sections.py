"""Views of the report sections (groups, extrapolation, printouts, findings, sampling)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from audit_kit.reporting import charts
from audit_kit.reporting.formatting import (
    DEMAND_MEANING,
    DEMAND_RULES,
    MEASURES,
    NETTING,
    RATSTATS_STREAMS_NOTE,
    VERDICTS,
    conf,
    count,
    describe,
    finite_number,
    money,
    pct,
    pct_lower,
    pct_upper,
    percent_units,
    sub_mapping,
    text,
)
from audit_kit.values.counts import COUNT_WORDS, of_sampled, scored_of_sampled

# -- views ---------------------------------------------------------------------------------


def interval_view(obj: Any, default_conf: Any) -> dict[str, Any]:
    obj = obj if isinstance(obj, Mapping) else {}
    return {
        "value": pct(obj.get("value")),
        "lower": pct_lower(obj.get("lower")),
        "upper": pct_upper(obj.get("upper")),
        "confidence": conf(obj.get("confidence", default_conf)),
        "method": text(obj.get("method")),
        "raw": obj.get("value"),
        # "At C confidence (one-sided), accuracy is at least X": X rounded down.
        "one_sided_lower": pct_lower(obj.get("one_sided_lower"))
        if finite_number(obj.get("one_sided_lower")) is not None
        else None,
        "se": pct(obj.get("se"), 2) if finite_number(obj.get("se")) is not None else None,
    }


def financial_view(obj: Any) -> dict[str, str] | None:
    if not isinstance(obj, Mapping):
        return None
    keys = ("examined", "audited", "overpayment", "underpayment", "net", "gross")
    return {k: money(obj.get(k)) for k in keys}


def group_view(group: Mapping[str, Any], default_conf: Any) -> dict[str, Any]:
    codes = group.get("codes") if isinstance(group.get("codes"), Mapping) else None
    optional = {}
    for key in ("drg_accuracy", "financial_accuracy"):
        value = group.get(key)
        optional[key] = interval_view(value, default_conf) if isinstance(value, Mapping) else None
    sampled = group.get("units_sampled", group.get("sample"))  # a stratum's is its sample size
    scored = group.get("units_reviewed")
    both = isinstance(scored, int) and isinstance(sampled, int)
    return {
        "units_reviewed": count(group.get("units_reviewed")),
        # "20 of 30": units scored of units sampled (the count alone where sampled is unknown)
        "scored_of_sampled": of_sampled(scored, sampled) if both else count(scored),
        "scored_sentence": scored_of_sampled(scored, sampled) if both else "",
        "sampled_known": both,
        "units_with_error": count(group.get("units_with_error")),
        "units_not_reviewed": count(group.get("units_not_reviewed"))
        if group.get("units_not_reviewed") is not None
        else None,
        "record": interval_view(group.get("record_accuracy"), default_conf),
        "code": interval_view(group.get("code_accuracy"), default_conf),
        "drg": optional["drg_accuracy"],
        "financial_accuracy": optional["financial_accuracy"],
        "dollar_accuracy": pct(group.get("dollar_accuracy"))
        if finite_number(group.get("dollar_accuracy")) is not None
        else None,
        "verdict": group.get("verdict"),
        "verdict_label": VERDICTS.get(str(group.get("verdict")), "n/a"),
        "codes": {k: count(v) for k, v in codes.items() if finite_number(v) is not None}
        if codes
        else None,
        "financial": financial_view(group.get("financial")),
    }


def hcc_view(overall: Mapping[str, Any], groups: Any, default_conf: Any) -> dict[str, Any] | None:
    """The HCC section (hcc basis): HCC counts, accuracy, most deleted HCCs, per-coder rows.

    Only HCC codes and labels and counts: never a member or unit id.
    """
    hccs = overall.get("hccs")
    if not isinstance(hccs, Mapping):
        return None
    per_member = finite_number(hccs.get("raf_difference_per_member"))
    rows = []
    for g in groups or []:
        if isinstance(g, Mapping) and isinstance(g.get("hccs"), Mapping):
            acc = g.get("hcc_accuracy")
            rows.append(
                {
                    "name": text(g.get("coder")),
                    "submitted": count(g["hccs"].get("submitted")),
                    "deleted": count(g["hccs"].get("deleted")),
                    "added": count(g["hccs"].get("added")),
                    "accuracy": interval_view(acc, default_conf)
                    if isinstance(acc, Mapping)
                    else None,
                }
            )
    acc = overall.get("hcc_accuracy")
    return {
        "submitted": count(hccs.get("submitted")),
        "kept": count(hccs.get("kept")),
        "deleted": count(hccs.get("deleted")),
        "added": count(hccs.get("added")),
        "accuracy": interval_view(acc, default_conf) if isinstance(acc, Mapping) else None,
        "raf_per_member": None if per_member is None else f"{per_member:.3f}",
        "most_deleted": [
            {
                "hcc": text(d.get("hcc")),
                "label": text(d.get("label")),
                "units": count(d.get("units")),
            }
            for d in hccs.get("most_deleted") or []
            if isinstance(d, Mapping)
        ],
        "coders": rows,
    }


#: The limit each demand rule takes, and the confidence that the true total exceeds it.
_RULE_LIMITS = {
    "cms_one_sided_90": ("one_sided_90_lower", "90%"),
    "oig_two_sided_90": ("two_sided_90_lower", "95%"),
}


def _demand_plain(ex: Mapping[str, Any], rule: str) -> str | None:
    """Explain in plain words a demand of $0 whose rule's limit is not positive, else None."""
    if finite_number(ex.get("demand_amount")) != 0.0:
        return None
    point = finite_number(ex.get("point_estimate"))
    population = count(ex.get("population"))
    if rule == "point_estimate":
        if point is None or point > 0:
            return None
        return (
            f"The point estimate for the {population} units of the universe is "
            f"{money(point, cents=False)}: the sample shows no net overpayment, so there is "
            "nothing to demand."
        )
    key, confidence = _RULE_LIMITS.get(rule, (None, None))
    lower = finite_number(ex.get(key)) if key else None
    if lower is None or lower > 0:
        return None
    if point is not None and point > 0:
        first = (
            f"The sample points to about {money(point, cents=False)} for the {population} units "
            "of the universe, but the differences vary so much from unit to unit that, with "
            f"{confidence} confidence, the true total is only known to be above "
            f"{money(lower, cents=False)}, which is below zero."
        )
    else:
        first = (
            f"The point estimate for the {population} units of the universe is "
            f"{money(point, cents=False)} and, with {confidence} confidence, the true total is "
            f"only known to be above {money(lower, cents=False)}."
        )
    return (
        first + " The demand rule asks only for an amount the true total exceeds with "
        f"{confidence} confidence; as that limit is not positive, the demand amount is $0. "
        "This is the rule working as intended, not a missing result: a larger sample or less "
        "variable differences would narrow the interval."
    )


def _robust(ex: Mapping[str, Any]) -> dict[str, Any] | None:
    """The robust lower bound beside the t limit (financial.robust_bound), if computed."""
    bound = ex.get("robust_bound")
    if not isinstance(bound, Mapping):
        return None
    used = str(ex.get("demand_bound") or "t_limit")
    return {
        "method": text(bound.get("method")),
        "confidence": conf(bound.get("confidence")),
        "lower": money(bound.get("lower"), cents=False),
        "assumption": text(bound.get("assumption")),
        "used": used != "t_limit",
        "t_limit": money(ex.get("t_limit_demand_amount"), cents=False)
        if finite_number(ex.get("t_limit_demand_amount")) is not None
        else None,
        "strata": [
            {
                "stratum": str(s.get("stratum")),
                "lower": money(s.get("lower"), cents=False),
                "confidence": conf(s.get("confidence")),
                "census": bool(s.get("census")),
            }
            for s in bound.get("strata") or []
            if isinstance(s, Mapping)
        ],
    }


def extrapolation_view(ex: Any, settings: Mapping[str, Any]) -> dict[str, Any] | None:
    if not isinstance(ex, Mapping):
        return None
    limits_in = sub_mapping(ex, "limits")
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
                if finite_number(lim.get("critical_value")) is not None
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
        "demand_plain": _demand_plain(ex, rule),
        # The recorded reason usually opens with the rule's name; then the name is not repeated.
        "demand_label_in_reason": text(ex.get("demand_reason")).startswith(rule_label),
        "critical_value_rule": text(ex.get("critical_value_rule") or "")
        or text(settings.get("critical_value_rule")),
        "skewness": f"{ex['skewness']:.4f}"
        if finite_number(ex.get("skewness")) is not None
        else None,
        "strata_skewness": [
            {"stratum": str(k), "skewness": f"{v:.4f}" if finite_number(v) is not None else "n/a"}
            for k, v in sub_mapping(ex, "strata_skewness").items()
        ],
        "notes": [_note(n) for n in (sub_mapping(ex, "appraisal").get("notes") or [])],
        "robust": _robust(ex),
        "left_skew": [text(n) for n in ex.get("left_skew") or []],
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
    ex = {**ex, **{k: v for k, v in sub_mapping(ex, "appraisal").items() if v is not None}}
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
        value = finite_number(ex.get(key))
        if value is None:
            continue
        shown = count(value) if key == "nonzero" else f"{value:,.2f}"
        if key in ("skewness", "kurtosis"):
            shown = f"{value:.4f}"
        lines.append(_pad(label, shown))
    lines.append(_pad("STANDARD ERROR (TOTAL):", money(ex.get("se_total"), cents=False)))
    lines.append(_pad("POINT ESTIMATE:", money(ex.get("point_estimate"), cents=False)))
    limits = sub_mapping(ex, "limits")
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
                lambda v: f"{v:.12f}" if finite_number(v) is not None else "n/a",
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
    overall = sub_mapping(att, "overall")
    # Which errors: the units whose payment changed (a difference of a cent or more), not every
    # coding error; record accuracy counts those.
    lines = [
        "ATTRIBUTE APPRAISAL (UNITS IN ERROR: PAYMENT CHANGED BY $0.01 OR MORE)"
        + (" (STRATIFIED)" if strata else ""),
        "",
    ]
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
            count(round(att["quantity"]))
            if finite_number(att.get("quantity")) is not None
            else "n/a",
        ),
    ]
    limits = sub_mapping(att, "limits")
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


def codes_view(obj: Any) -> list[str]:
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


def finding_view(err: Mapping[str, Any]) -> dict[str, Any]:
    # Whitelist: unit ids and coding only, never a patient field.
    status = text(err.get("status"))
    return {
        "unit_id": text(err.get("unit_id")),
        "coder": text(err.get("coder")),
        "auditor": text(err.get("auditor")),
        "stratum": text(err.get("stratum")),
        "status": status,
        "category": text(err.get("category")) or ("record missing" if "missing" in status else ""),
        "original": codes_view(err.get("original")),
        "audited": codes_view(err.get("audited"))
        or (["record missing: no code is supported"] if "missing" in status else []),
        "changes": _changes(err.get("changes")),
        "examined": money(err.get("examined"))
        if finite_number(err.get("examined")) is not None
        else "",
        "audited_amount": money(err.get("audited_amount"))
        if finite_number(err.get("audited_amount")) is not None
        else "",
        "difference": money(err.get("difference"))
        if finite_number(err.get("difference")) is not None
        else "",
        "rationale": text(err.get("rationale")),
        "reference": text(err.get("reference")),
    }


def audit_view(results: Mapping[str, Any]) -> dict[str, str]:
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
    view = {k: text(audit.get(k)) for k in keys}
    # Preliminary while sampled units are outstanding or a rebuttal round is open (or required
    # and not held): every page says so (base.html), the first page says why (status_reasons).
    progress = results.get("progress")
    view["status"] = text(results.get("status")) or "final"
    view["preliminary"] = ""
    outstanding_units = progress.get("units_outstanding") if isinstance(progress, Mapping) else 0
    if view["status"] == "preliminary" and isinstance(progress, Mapping) and outstanding_units:
        scored = scored_of_sampled(progress.get("units_scored"), progress.get("units_sampled"))
        outstanding = (
            f"{count(progress.get('units_outstanding'))} {COUNT_WORDS['units_outstanding']}"
        )
        # a comma, not a semicolon: the text also goes into a CSS string (page margin)
        view["preliminary"] = f"PRELIMINARY: {scored}, {outstanding}"
    elif view["status"] == "preliminary":
        view["preliminary"] = "PRELIMINARY"
    view["status_reasons"] = "; ".join(
        text(r) for r in results.get("status_reasons") or [] if text(r)
    )
    return view


def settings_view(settings: Mapping[str, Any]) -> dict[str, Any]:
    rule = text(settings.get("demand_rule"))
    return {
        "measures": {k: {"label": v[0], "meaning": v[1]} for k, v in MEASURES.items()},
        "demand_meaning": DEMAND_MEANING.get(rule, ""),
        "target": pct(settings.get("target_accuracy")),
        "target_raw": float(settings["target_accuracy"]),
        "confidence": conf(settings.get("confidence")),
        "netting": NETTING.get(text(settings.get("netting")), text(settings.get("netting"))),
        "demand_rule": rule,
        "demand_rule_label": DEMAND_RULES.get(rule, (rule, ""))[0],
        "basis": text(settings.get("basis")),
        "critical_value_rule": text(settings.get("critical_value_rule")),
    }


def accuracy_row(label: str, group: Mapping[str, Any], measure: str) -> charts.AccuracyRow:
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


def other_groups_view(results: Mapping[str, Any], default_conf: Any) -> list[dict[str, Any]]:
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
                view = group_view(g, default_conf)
            except (KeyError, TypeError):
                continue
            view["name"] = text(g.get(name_key))
            rows.append(view)
        if rows:
            out.append({"title": title, "label": name_key.capitalize(), "rows": rows})
    return out


def sampling_view(sampling: Mapping[str, Any] | None, statement: str | None) -> dict[str, Any]:
    if not isinstance(sampling, Mapping):
        return {"present": False, "statement": statement}
    universe = sub_mapping(sampling, "universe")
    frame = sub_mapping(sampling, "frame")
    generator = sub_mapping(sampling, "generator")
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


def progress_view(progress: Any) -> list[tuple[str, str]] | None:
    if not isinstance(progress, Mapping):
        return None
    # The same words as the command line and results.xlsx (values/counts.py).
    meaning = {
        "units_record_missing": " (scored as errors)",
        "units_not_reviewed": " (excluded from scoring)",
        "units_outstanding": " (not in these results)",
    }
    rows = [
        (words[0].upper() + words[1:] + meaning.get(k, ""), count(progress[k]))
        for k, words in COUNT_WORDS.items()
        if progress.get(k) is not None
    ]
    return rows or None


def categories_view(results: Mapping[str, Any]) -> list[dict[str, Any]] | None:
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
                "units_raw": int(finite_number(c.get("units")) or 0),
                "share": pct(c.get("share")),
                "cumulative_share": pct(c.get("cumulative_share")),
                "cumulative_raw": finite_number(c.get("cumulative_share")) or 0.0,
                "overpayment": money(c.get("overpayment")),
                "underpayment": money(c.get("underpayment")),
                "net": money(c.get("net")),
            }
        )
    rows.sort(key=lambda r: -int(r["units_raw"]))
    return rows or None


def doc_view(title: str, results: Mapping[str, Any], rendered_at: str) -> dict[str, Any]:
    audit = results["audit"]
    preliminary = text(results.get("status")) == "preliminary"
    return {
        "preliminary": preliminary,
        "status_reasons": [text(r) for r in results.get("status_reasons") or [] if text(r)],
        "title": ("PRELIMINARY: " if preliminary else "") + title,
        "author": text(audit.get("organisation")) or "audit-kit",
        "subject": text(audit.get("id")),
        "rendered_at": rendered_at,
    }


AGREEMENT_LEVELS = {
    "record": "Record (error yes/no)",
    "codes": "Codes (each code kept/changed)",
    "drg": "DRG",
}
DISAGREEMENT_KINDS = {"record": "error yes/no", "codes": "codes", "drg": "DRG"}


def _coefficient(obj: Any) -> str:
    c = obj if isinstance(obj, Mapping) else {}
    value = finite_number(c.get("value"))
    if value is None:
        return "not defined"
    lower, upper = finite_number(c.get("lower")), finite_number(c.get("upper"))

    def show(x: float) -> str:
        return f"{round(x, 3) + 0.0:.3f}"  # + 0.0: no "-0.000"

    if lower is None or upper is None:
        return show(value)
    return f"{show(value)} ({show(lower)} to {show(upper)})"


def agreement_view(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """The agreement section: statistics per level, auditor accuracy, disagreements by kind."""
    ag = results.get("agreement")
    if not isinstance(ag, Mapping):
        return None
    levels = []
    for key, label in AGREEMENT_LEVELS.items():
        lv = (ag.get("levels") or {}).get(key)
        if not isinstance(lv, Mapping):
            continue
        levels.append(
            {
                "level": label,
                "units": count(lv.get("units")),
                "compared": count(lv.get("items")),
                "percent": pct(lv.get("percent_agreement")),
                "kappa": _coefficient(lv.get("cohen_kappa")),
                "ac1": _coefficient(lv.get("gwet_ac1")),
                "fleiss": _coefficient({"value": lv.get("fleiss_kappa")})
                if "fleiss_kappa" in lv
                else None,
                "alpha": _coefficient({"value": lv.get("krippendorff_alpha")})
                if "krippendorff_alpha" in lv
                else None,
            }
        )
    auditors = [
        {
            "auditor": text(a.get("auditor")),
            "units": count(a.get("units")),
            "agreed": count(a.get("agreed")),
            "accuracy": pct(sub_mapping(a, "accuracy").get("value")),
            "lower": pct_lower(sub_mapping(a, "accuracy").get("lower")),
            "upper": pct_upper(sub_mapping(a, "accuracy").get("upper")),
            "verdict": VERDICTS.get(str(a.get("verdict")), text(a.get("verdict"))),
        }
        for a in ag.get("auditor_accuracy") or []
        if isinstance(a, Mapping)
    ]
    by_kind: dict[str, list[str]] = {}
    for d in ag.get("disagreements") or []:
        if isinstance(d, Mapping):
            for kind in d.get("kinds") or []:
                by_kind.setdefault(DISAGREEMENT_KINDS.get(str(kind), str(kind)), []).append(
                    text(d.get("unit_id"))
                )
    return {
        "planned": count(ag.get("planned_units")),
        "compared": count(ag.get("compared_units")),
        "pending": [text(u) for u in ag.get("pending") or []],
        "reference": text(ag.get("reference")) if ag.get("reference") else None,
        "confidence": conf(ag.get("confidence")),
        "target": pct(ag.get("auditor_target")),
        "levels": levels,
        "has_multi": any(lv["fleiss"] is not None for lv in levels),
        "auditors": auditors,
        "disagreements": [{"kind": k, "units": ", ".join(v)} for k, v in by_kind.items()],
        "resolution": text(ag.get("resolution")),
    }
