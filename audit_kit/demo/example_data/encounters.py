"""Build one synthetic encounter (codes, dates, amounts) from the case tables and a generator."""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from audit_kit.demo.example_data.cases import (
    CC,
    CHRONIC,
    CONFLICTS,
    DISCHARGE_STATUS,
    ED,
    EM_SHARE,
    INPATIENT_CASES,
    MCC,
    OUTPATIENT_VISITS,
    PRO_CHRONIC,
    PROFESSIONAL_VISITS,
    UNITS,
    Setting,
)
from audit_kit.demo.example_data.fees import (
    BASE_RATE,
    DRG_WEIGHTS,
    DrgGrouper,
    base_code,
    claim_fee,
)

QUARTER_START = dt.date(2026, 1, 1)
QUARTER_END = dt.date(2026, 3, 31)


def _category(code: str) -> str:
    return code.replace(".", "")[:3]


@dataclass(slots=True)
class _Encounter:
    service_date: dt.date
    dx: list[str]
    px: list[str] = field(default_factory=list)
    cpt: list[str] = field(default_factory=list)
    units: int = 0
    admit_date: dt.date | None = None
    discharge_status: str | None = None
    drg: str | None = None
    base: float = 0.0  # allowed amount before the payer factor
    markup: float = 1.0  # charge / allowed amount


def cumulative_shares(weights: Sequence[float]) -> list[float]:
    """Cumulative shares for :meth:`EncounterBuilder.weighted` (one uniform draw per pick)."""
    total = float(sum(weights))
    out, running = [], 0.0
    for w in weights:
        running += w / total
        out.append(running)
    out[-1] = 1.0
    return out


_INPATIENT_CUM = cumulative_shares([c.weight for c in INPATIENT_CASES])
_OUTPATIENT_CUM = cumulative_shares([v.weight for v in OUTPATIENT_VISITS])
_PROFESSIONAL_CUM = cumulative_shares([v.weight for v in PROFESSIONAL_VISITS])
_EM_CUM = {levels: cumulative_shares(share) for levels, share in EM_SHARE.items()}


class EncounterBuilder:
    """One pass of the generator; every random draw comes from ``rng`` in a fixed order."""

    def __init__(self, rng: np.random.Generator, grouper: DrgGrouper) -> None:
        self.rng = rng
        self.grouper = grouper
        self.days = (QUARTER_END - QUARTER_START).days + 1

    def pick(self, options: Sequence[str]) -> str:
        return options[int(self.rng.random() * len(options))]

    def weighted(self, cumulative: Sequence[float]) -> int:
        return min(bisect.bisect_right(cumulative, self.rng.random()), len(cumulative) - 1)

    def service_day(self, weekend_weight: float) -> dt.date:
        while True:
            day = QUARTER_START + dt.timedelta(days=int(self.rng.random() * self.days))
            if day.weekday() < 5 or self.rng.random() < weekend_weight:
                return day

    @staticmethod
    def add_secondary(codes: list[str], code: str) -> None:
        """Append a code unless it repeats a category or contradicts a combination code."""
        cats = {_category(c) for c in codes}
        cat = _category(code)
        if cat in cats or cats.intersection(CONFLICTS.get(cat, ())):
            return
        if code == "Z79.4" and "E11" not in cats:
            return
        codes.append(code)

    def chronic(self, codes: list[str], pool: Sequence[str], mean: float, cap: int) -> None:
        count = min(int(self.rng.poisson(mean)), cap, len(pool))
        if count:
            for index in self.rng.choice(len(pool), size=count, replace=False):
                self.add_secondary(codes, pool[int(index)])

    def inpatient(self, age: int, sex: str) -> _Encounter:
        rng = self.rng
        case = INPATIENT_CASES[self.weighted(_INPATIENT_CUM)]
        dx = [self.pick(case.pdx)]
        for group in case.with_one_of:
            self.add_secondary(dx, self.pick(group))
        px = list(case.px[int(rng.integers(len(case.px)))])
        secondary: list[str] = []
        self.chronic(secondary, CHRONIC, 3.2, 9)
        if rng.random() < 0.38:
            secondary.append(self.pick(CC))
        if rng.random() < 0.16:
            secondary.append(self.pick(MCC))
        for index in rng.permutation(len(secondary)):
            self.add_secondary(dx, secondary[int(index)])
        if "E66.01" in dx and rng.random() < 0.6:
            dx.append("Z68.41")
        if "I10" in dx and any(c.startswith("N18") for c in dx):
            dx[dx.index("I10")] = "I12.9"  # hypertension with CKD is presumed linked (I.C.9.a.2)
        if any(c.startswith("E11") for c in dx) and "Z79.4" not in dx and rng.random() < 0.3:
            dx.append("Z79.4")
        status = self.pick(DISCHARGE_STATUS)
        drg = self.grouper.group(age=age, sex=sex, discharge_status=status, dx=dx, px=px)
        weight, gmlos = DRG_WEIGHTS[drg]
        los = max(1, round(gmlos * float(rng.lognormal(0.0, 0.45))))
        discharge = self.service_day(0.6)
        outlier = 2.5 if rng.random() < 0.01 else 1.0
        return _Encounter(
            service_date=discharge,
            admit_date=discharge - dt.timedelta(days=los),
            discharge_status=status,
            dx=dx,
            px=px,
            drg=drg,
            base=weight * BASE_RATE * outlier * float(rng.lognormal(0.0, 0.06)),
            markup=float(rng.lognormal(math.log(3.8), 0.25)),
        )

    def visit(self, setting: Setting) -> _Encounter:
        rng = self.rng
        if setting == "outpatient":
            visit = OUTPATIENT_VISITS[self.weighted(_OUTPATIENT_CUM)]
        else:
            visit = PROFESSIONAL_VISITS[self.weighted(_PROFESSIONAL_CUM)]
        dx: list[str] = []
        for group in visit.dx:
            code = self.pick(group)
            if code:
                self.add_secondary(dx, code)
        if visit.extra_dx:
            pool = PRO_CHRONIC if setting == "professional" else CHRONIC[:12]
            self.chronic(dx, pool, visit.extra_dx * 0.6, visit.extra_dx)
        cpt: list[str] = []
        if visit.em:
            cumulative = _EM_CUM.get(visit.em)
            em = self.pick(visit.em) if cumulative is None else visit.em[self.weighted(cumulative)]
            if em:
                cpt.append(em)
        for group in visit.lines:
            line = self.pick(group)
            if line:
                cpt.append(line)
        units = []
        for item in cpt:
            options = UNITS.get(base_code(item), (1,))
            units.append(options[int(rng.random() * len(options))])
        is_ed = bool(cpt) and base_code(cpt[0]) in ED
        return _Encounter(
            service_date=self.service_day(0.9 if is_ed else 0.08),
            discharge_status="01" if setting == "outpatient" else None,
            dx=dx,
            cpt=cpt,
            units=sum(units),
            base=claim_fee(cpt, setting, units) * float(rng.lognormal(0.0, 0.05)),
            markup=float(rng.lognormal(math.log(2.6 if setting == "outpatient" else 2.1), 0.2)),
        )
