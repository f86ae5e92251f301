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

from collections.abc import Mapping, Sequence
from typing import Any

from audit_kit.reporting import charts
from audit_kit.reporting.formatting import (
    CLT_NOTE,
    DEMAND_RULES,
    ROUNDING_NOTE,
    count,
    describe,
    finite_number,
    money,
    pct,
    pct_lower,
    pct_upper,
    safe_file_stem,
    sub_mapping,
    text,
)
from audit_kit.reporting.rebuttal_view import rebuttal_view
from audit_kit.reporting.sections import (
    accuracy_row,
    agreement_view,
    audit_view,
    categories_view,
    doc_view,
    extrapolation_view,
    financial_view,
    finding_view,
    group_view,
    hcc_view,
    other_groups_view,
    progress_view,
    sampling_view,
    settings_view,
)

__all__ = [
    "DEMAND_RULES",
    "attestation_context",
    "coder_context",
    "executive_context",
    "money",
    "pct",
    "pct_lower",
    "pct_upper",
    "safe_file_stem",
]


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
    coders_in = coder_groups(results)
    coders = []
    for c in coders_in:
        view = group_view(c, default_conf)
        view["name"] = str(c["coder"])
        view["file"] = coder_files.get(str(c["coder"]), "")
        coders.append(view)
    accuracy_svg = charts.accuracy_chart(
        [accuracy_row(str(c["coder"]), c, "code_accuracy") for c in coders_in],
        target=target,
        title="Code accuracy per coder with confidence interval and target",
        axis_label="Code accuracy (dot) and its confidence interval (whiskers)",
    )
    categories = categories_view(results)
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
                    overpayment=finite_number(c["financial"].get("overpayment")) or 0.0,
                    underpayment=abs(finite_number(c["financial"].get("underpayment")) or 0.0),
                )
                for c in coders_in
                if isinstance(c.get("financial"), Mapping)
            ],
            title="Overpayments and underpayments per coder (sample)",
        )
    extrapolation = extrapolation_view(overall.get("extrapolation"), settings)
    strata_ex = []
    for s in results.get("strata") or []:
        if isinstance(s, Mapping) and isinstance(s.get("extrapolation"), Mapping):
            ex = extrapolation_view(s["extrapolation"], settings)
            if ex:
                ex["stratum"] = text(s.get("stratum"))
                strata_ex.append(ex)
    errors = sorted(
        (e for e in results["errors"] if isinstance(e, Mapping)),
        key=lambda e: (str(e.get("coder")), str(e.get("unit_id"))),
    )
    return {
        "doc": doc_view(
            f"Coding compliance audit report: {results['audit']['name']}", results, rendered_at
        ),
        "audit": audit_view(results),
        "settings": settings_view(settings),
        "progress": progress_view(results.get("progress")),
        "overall": group_view(overall, default_conf),
        "coders": coders,
        "coders_unscored": unscored_coders(results),
        "charts": {"accuracy": accuracy_svg, "pareto": pareto_svg, "payments": payments_svg},
        "categories": categories,
        "has_financial": bool(fin_rows) or financial_view(overall.get("financial")) is not None,
        "extrapolation": extrapolation,
        "hcc": hcc_view(overall, coders_in, default_conf),
        "strata_extrapolation": strata_ex,
        "other_groups": other_groups_view(results, default_conf),
        "findings": [finding_view(e) for e in errors],
        "agreement": agreement_view(results),
        "sampling": sampling_view(sampling, statement),
        "rebuttal": rebuttal_view(results, default_conf),
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
        accuracy_row("Your code accuracy", coder, "code_accuracy"),
        accuracy_row("Team code accuracy", overall, "code_accuracy"),
        accuracy_row("Your record accuracy", coder, "record_accuracy"),
        accuracy_row("Team record accuracy", overall, "record_accuracy"),
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
        "doc": doc_view(
            f"Coding feedback for {name}: {results['audit']['name']}", results, rendered_at
        ),
        "audit": audit_view(results),
        "settings": settings_view(settings),
        "coder": {**group_view(coder, default_conf), "name": name},
        "team": group_view(overall, default_conf),
        "chart": chart,
        "findings": [finding_view(e) for e in mine],
        "rebuttal": rebuttal_view(results, default_conf, coder=name),
        "rounding_note": ROUNDING_NOTE,
    }


def attestation_context(
    results: Mapping[str, Any], sampling: Mapping[str, Any] | None, *, rendered_at: str
) -> dict[str, Any]:
    """Return the view model of the one-page accuracy attestation."""
    settings = results["settings"]
    default_conf = settings.get("confidence")
    overall = group_view(results["overall"], default_conf)
    samp: Mapping[str, Any] = sampling if isinstance(sampling, Mapping) else {}
    frame = sub_mapping(samp, "frame")
    universe = sub_mapping(samp, "universe")
    generator = sub_mapping(samp, "generator")
    design = samp.get("design")
    design_text = (
        text(design.get("method")) if isinstance(design, Mapping) else text(design)
    ) or "simple"
    strata = [s for s in samp.get("strata") or [] if isinstance(s, Mapping)]
    return {
        "doc": doc_view(
            f"Coding accuracy attestation: {results['audit']['name']}", results, rendered_at
        ),
        "audit": audit_view(results),
        "settings": settings_view(settings),
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
        # auditor accuracy is stated only against a named reference reviewer
        "auditor_accuracy": (ag or {}).get("auditors") if (ag := agreement_view(results)) else None,
        "auditor_reference": ag["reference"] if ag else None,
        "auditor_target": ag["target"] if ag else None,
    }


def coder_groups(results: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """The coders with at least one scored unit (they get a row, a chart line and a PDF)."""
    return sorted(
        (c for c in results["coders"] if c["units_reviewed"] > 0), key=lambda c: str(c["coder"])
    )


def unscored_coders(results: Mapping[str, Any]) -> list[str]:
    """Coders in the sample none of whose units is scored yet (not returned, not reviewed)."""
    return sorted(str(c["coder"]) for c in results["coders"] if c["units_reviewed"] == 0)
