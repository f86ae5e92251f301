"""Risk scores (RAF) of an enrollee-year under the CMS-HCC model, with ``hccinfhir``.

The hcc financial basis: the RAF of the submitted and of the supported diagnosis codes, each
``sum over models of weight x risk_score_payment`` (the payment year's blend, e.g. 2024: 33 %
V28 + 67 % V24; 2026: 100 % V28), where hccinfhir's payment score is the model score x
(1 - MACI) / normalisation. Payment = RAF x base rate (per member per month) x months enrolled.

HCCs are compared after the model's hierarchies (a masked HCC is not counted), in the model of
the largest weight (V28 for a tie): CMS RADV compares the HCCs that pay.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hccinfhir import HCCInFHIR

#: plan model name -> hccinfhir model name.
MODEL_NAMES = {"V24": "CMS-HCC Model V24", "V28": "CMS-HCC Model V28"}


@dataclass(frozen=True, slots=True, kw_only=True)
class HccDemographics:
    """What the CMS-HCC model needs of an enrollee-year besides the codes."""

    age: int
    sex: str  # M or F
    orec: str  # '0'-'3'
    dual_status: str  # '00'-'10', '99' or 'NA'
    institutional: bool
    months: int  # 1-12

    def for_hccinfhir(self) -> dict[str, Any]:
        return {
            "age": self.age,
            "sex": self.sex,
            "orec": self.orec,
            "dual_elgbl_cd": self.dual_status,
            "lti": self.institutional,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RafScore:
    """The payment RAF of one set of codes, per model and blended, with its HCCs."""

    raf: float
    by_model: Mapping[str, float]
    #: HCCs after hierarchies in the comparison model, e.g. ``("V28 HCC 37", ...)``
    hccs: tuple[str, ...]
    labels: Mapping[str, str]


@cache
def _engine(model: str) -> HCCInFHIR:
    # hccinfhir 0.4 reads its bundled tables with a deprecated importlib call: keep its
    # DeprecationWarning out of the user's terminal (the tables load all the same).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from hccinfhir import HCCInFHIR

        return HCCInFHIR(model_name=MODEL_NAMES[model])


def comparison_model(weights: Mapping[str, float]) -> str:
    """The model whose HCCs are compared: the largest weight, V28 on a tie."""
    return max(sorted(weights, reverse=True), key=lambda m: weights[m])


def raf_score(
    codes: Iterable[str],
    demographics: HccDemographics,
    *,
    weights: Mapping[str, float],
    maci: float = 0.0,
    normalisation: float = 1.0,
) -> RafScore:
    """Return the blended payment RAF of ``codes`` (ICD-10-CM, dots allowed) for one enrollee."""
    dx = sorted({c.replace(".", "").strip().upper() for c in codes if c.strip()})
    main = comparison_model(weights)
    by_model: dict[str, float] = {}
    hccs: tuple[str, ...] = ()
    labels: dict[str, str] = {}
    for model in weights:
        result = _engine(model).calculate_from_diagnosis(
            dx, demographics.for_hccinfhir(), maci=maci, norm_factor=normalisation
        )
        by_model[model] = float(result.risk_score_payment)
        if model == main:
            hccs = tuple(f"{model} HCC {h}" for h in sorted(result.hcc_list, key=_hcc_order))
            labels = {f"{model} HCC {d.hcc}": str(d.label or "") for d in result.hcc_details}
    raf = sum(weights[m] * by_model[m] for m in weights)
    return RafScore(raf=raf, by_model=by_model, hccs=hccs, labels=labels)


def _hcc_order(hcc: str) -> tuple[int, str]:
    return (int(hcc), hcc) if hcc.isdigit() else (10**6, hcc)


def hcc_labels(codes: Iterable[str], model: str = "V28") -> dict[str, tuple[str, ...]]:
    """Code -> the model's HCCs (before hierarchies) it maps to, e.g. for workbook hints."""
    engine = _engine(model)
    name = MODEL_NAMES[model]
    out: dict[str, tuple[str, ...]] = {}
    for code in codes:
        key = code.replace(".", "").strip().upper()
        ccs = engine.dx_to_cc_mapping.get((key, name), set())
        out[code] = tuple(f"HCC {c}" for c in sorted(ccs, key=_hcc_order))
    return out
