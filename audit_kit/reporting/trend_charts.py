"""SVG charts of the trend report: p-chart, funnel plot, per-coder small multiples.

Same conventions as :mod:`audit_kit.reporting.charts`: numbers already computed come in, an
``<svg>`` string goes out, every label is escaped, shapes rather than colours carry meaning
(a flagged point is a filled square, the centre line is dashed, limits are solid steps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from audit_kit.reporting.charts import (
    DARK,
    FONT,
    GRID,
    INK,
    LIGHT,
    MID,
    WIDTH,
    esc,
    fmt,
    marker,
    shorten,
    svg_doc,
)

__all__ = [
    "FunnelCurve",
    "FunnelDot",
    "MultiplePoint",
    "PChartPoint",
    "funnel_chart",
    "p_chart",
    "small_multiple",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PChartPoint:
    label: str
    p: float
    lower: float
    upper: float
    flagged: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FunnelDot:
    label: str
    n: int
    p: float
    outside: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FunnelCurve:
    n: int
    lower95: float
    upper95: float
    lower998: float
    upper998: float


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiplePoint:
    value: float | None  # None: absent from the period
    lower: float | None
    upper: float | None
    verdict: str


def _rate_axis(top_value: float) -> tuple[float, float]:
    """An axis maximum a little above ``top_value`` on a round 5% (or 1%) step, and its step."""
    top_value = max(top_value, 0.01)
    step = 0.05 if top_value > 0.2 else 0.02 if top_value > 0.06 else 0.01
    return min(1.0, math.ceil(top_value * 1.1 / step) * step), step


def _y_grid(body: list[str], sy: object, hi: float, step: float, x1: float, x2: float) -> None:
    count = int(round(hi / step))
    stride = max(1, math.ceil(count / 8))
    for i in range(0, count + 1, stride):
        value = i * step
        y = sy(value)  # type: ignore[operator]
        body.append(
            f'<line x1="{fmt(x1)}" y1="{fmt(y)}" x2="{fmt(x2)}" y2="{fmt(y)}" '
            f'stroke="{GRID}" stroke-width="0.8"/>'
            f'<text x="{fmt(x1 - 6)}" y="{fmt(y + 3.5)}" text-anchor="end">'
            f"{fmt(value * 100)}%</text>"
        )


def p_chart(points: Sequence[PChartPoint], *, center: float, title: str) -> str:
    """p-chart: error rate per period, dashed centre line, stepped limits, flagged squares."""
    height = 250.0
    left, right, top, base = 56.0, WIDTH - 20.0, 16.0, 190.0
    hi, step = _rate_axis(max([p.upper for p in points] + [p.p for p in points] + [center]))
    slot = (right - left) / max(len(points), 1)

    def sy(v: float) -> float:
        return base - min(max(v, 0.0), hi) / hi * (base - top)

    body: list[str] = []
    _y_grid(body, sy, hi, step, left, right)
    line: list[str] = []
    for i, pt in enumerate(points):
        x0, x1, cx = left + slot * i, left + slot * (i + 1), left + slot * (i + 0.5)
        for limit in (pt.lower, pt.upper):
            body.append(
                f'<line x1="{fmt(x0 + 2)}" y1="{fmt(sy(limit))}" x2="{fmt(x1 - 2)}" '
                f'y2="{fmt(sy(limit))}" stroke="{DARK}" stroke-width="1.2"/>'
            )
        line.append(f"{fmt(cx)},{fmt(sy(pt.p))}")
        label = shorten(pt.label, 14 if len(points) > 6 else 24)
        body.append(
            f'<text x="{fmt(cx)}" y="{fmt(base + 14)}" text-anchor="middle" font-size="8">'
            f"{esc(label)}</text>"
        )
    body.append(
        f'<line x1="{fmt(left)}" y1="{fmt(sy(center))}" x2="{fmt(right)}" '
        f'y2="{fmt(sy(center))}" stroke="{INK}" stroke-width="1.1" stroke-dasharray="5 3"/>'
        f'<line x1="{fmt(left)}" y1="{fmt(base)}" x2="{fmt(right)}" y2="{fmt(base)}" '
        f'stroke="{INK}" stroke-width="0.8"/>'
    )
    if line:
        body.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="{MID}" stroke-width="1"/>'
        )
    for pt, xy in zip(points, line, strict=True):
        cx, cy = (float(v) for v in xy.split(","))
        body.append(marker(cx, cy, "below" if pt.flagged else "meets", 3.5))
    ly = height - 22
    body.append(
        f'<circle cx="{fmt(left + 4)}" cy="{fmt(ly - 3.5)}" r="3.5" fill="{INK}"/>'
        f'<text x="{fmt(left + 12)}" y="{fmt(ly)}">period error rate</text>'
        f'<rect x="{fmt(left + 116)}" y="{fmt(ly - 7)}" width="7" height="7" fill="{INK}"/>'
        f'<text x="{fmt(left + 128)}" y="{fmt(ly)}">outside its limits</text>'
        f'<line x1="{fmt(left + 228)}" y1="{fmt(ly - 3.5)}" x2="{fmt(left + 252)}" '
        f'y2="{fmt(ly - 3.5)}" stroke="{INK}" stroke-dasharray="5 3"/>'
        f'<text x="{fmt(left + 258)}" y="{fmt(ly)}">centre line p-bar</text>'
        f'<line x1="{fmt(left + 356)}" y1="{fmt(ly - 3.5)}" x2="{fmt(left + 380)}" '
        f'y2="{fmt(ly - 3.5)}" stroke="{DARK}" stroke-width="1.2"/>'
        f'<text x="{fmt(left + 386)}" y="{fmt(ly)}">3-sigma limits for the period\'s n</text>'
    )
    return svg_doc(height, title, body)


def funnel_chart(
    dots: Sequence[FunnelDot], curve: Sequence[FunnelCurve], *, target: float, title: str
) -> str:
    """Funnel plot: each coder's error rate against its sample size, with 95%/99.8% limits."""
    height = 280.0
    left, right, top, base = 56.0, WIDTH - 20.0, 16.0, 220.0
    n_max = max([d.n for d in dots] + [c.n for c in curve] + [1])
    hi, step = _rate_axis(max([d.p for d in dots] + [c.upper998 for c in curve] + [target]))

    def sx(n: float) -> float:
        return left + n / n_max * (right - left)

    def sy(v: float) -> float:
        return base - min(max(v, 0.0), hi) / hi * (base - top)

    body: list[str] = []
    _y_grid(body, sy, hi, step, left, right)
    tick = max(1, math.ceil(n_max / 8))
    for n in range(0, n_max + 1, tick):
        body.append(f'<text x="{fmt(sx(n))}" y="{fmt(base + 13)}" text-anchor="middle">{n}</text>')
    for attr, dash, width in (
        ("lower95", "", 1.0),
        ("upper95", "", 1.0),
        ("lower998", "2 2", 1.0),
        ("upper998", "2 2", 1.0),
    ):
        pts = " ".join(f"{fmt(sx(c.n))},{fmt(sy(getattr(c, attr)))}" for c in curve)
        if pts:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            body.append(
                f'<polyline points="{pts}" fill="none" stroke="{DARK}" '
                f'stroke-width="{width}"{dash_attr}/>'
            )
    body.append(
        f'<line x1="{fmt(left)}" y1="{fmt(sy(target))}" x2="{fmt(right)}" '
        f'y2="{fmt(sy(target))}" stroke="{INK}" stroke-width="1.1" stroke-dasharray="5 3"/>'
        f'<line x1="{fmt(left)}" y1="{fmt(base)}" x2="{fmt(right)}" y2="{fmt(base)}" '
        f'stroke="{INK}" stroke-width="0.8"/>'
        f'<text x="{fmt((left + right) / 2)}" y="{fmt(base + 27)}" text-anchor="middle">'
        f"units scored in the period (sample size)</text>"
    )
    for d in dots:
        cx, cy = sx(d.n), sy(d.p)
        body.append(marker(cx, cy, "below" if d.outside else "inconclusive", 3.2))
        if d.outside:
            body.append(
                f'<text x="{fmt(cx + 6)}" y="{fmt(cy - 4)}" font-size="8">'
                f"{esc(shorten(d.label, 16))}</text>"
            )
    ly = height - 14
    body.append(
        f'<circle cx="{fmt(left + 4)}" cy="{fmt(ly - 3.5)}" r="3.2" fill="#ffffff" '
        f'stroke="{INK}" stroke-width="1.4"/>'
        f'<text x="{fmt(left + 12)}" y="{fmt(ly)}">coder</text>'
        f'<rect x="{fmt(left + 56)}" y="{fmt(ly - 7)}" width="7" height="7" fill="{INK}"/>'
        f'<text x="{fmt(left + 68)}" y="{fmt(ly)}">outside 95%</text>'
        f'<line x1="{fmt(left + 146)}" y1="{fmt(ly - 3.5)}" x2="{fmt(left + 170)}" '
        f'y2="{fmt(ly - 3.5)}" stroke="{INK}" stroke-dasharray="5 3"/>'
        f'<text x="{fmt(left + 176)}" y="{fmt(ly)}">period rate</text>'
        f'<line x1="{fmt(left + 250)}" y1="{fmt(ly - 3.5)}" x2="{fmt(left + 274)}" '
        f'y2="{fmt(ly - 3.5)}" stroke="{DARK}"/>'
        f'<text x="{fmt(left + 280)}" y="{fmt(ly)}">95% limits</text>'
        f'<line x1="{fmt(left + 350)}" y1="{fmt(ly - 3.5)}" x2="{fmt(left + 374)}" '
        f'y2="{fmt(ly - 3.5)}" stroke="{DARK}" stroke-dasharray="2 2"/>'
        f'<text x="{fmt(left + 380)}" y="{fmt(ly)}">99.8% limits</text>'
    )
    return svg_doc(height, title, body)


def small_multiple(
    label: str,
    points: Sequence[MultiplePoint],
    *,
    lo: float,
    target: float | None,
    title: str,
) -> str:
    """One coder's accuracy per period with interval whiskers; an absent period is a gap."""
    width, height = 210.0, 96.0
    left, right, top, base = 30.0, width - 6.0, 16.0, height - 14.0
    slot = (right - left) / max(len(points), 1)

    def sy(v: float) -> float:
        return base - (min(max(v, lo), 1.0) - lo) / (1.0 - lo) * (base - top)

    body = [
        f'<text x="{fmt(left)}" y="10" font-weight="bold" font-size="9">'
        f"{esc(shorten(label, 30))}</text>",
        f'<rect x="{fmt(left)}" y="{fmt(top)}" width="{fmt(right - left)}" '
        f'height="{fmt(base - top)}" fill="none" stroke="{LIGHT}" stroke-width="0.8"/>',
    ]
    for value in (lo, 1.0):
        body.append(
            f'<text x="{fmt(left - 3)}" y="{fmt(sy(value) + 3)}" text-anchor="end" '
            f'font-size="7">{fmt(value * 100)}%</text>'
        )
    if target is not None and lo < target < 1.0:
        body.append(
            f'<line x1="{fmt(left)}" y1="{fmt(sy(target))}" x2="{fmt(right)}" '
            f'y2="{fmt(sy(target))}" stroke="{INK}" stroke-width="0.8" stroke-dasharray="4 2"/>'
        )
    for i, pt in enumerate(points):
        cx = left + slot * (i + 0.5)
        body.append(
            f'<text x="{fmt(cx)}" y="{fmt(height - 4)}" text-anchor="middle" font-size="6.5">'
            f"{i + 1}</text>"
        )
        if pt.value is None:
            body.append(
                f'<text x="{fmt(cx)}" y="{fmt((top + base) / 2 + 3)}" text-anchor="middle" '
                f'font-size="6.5" fill="{DARK}">absent</text>'
            )
            continue
        if pt.lower is not None and pt.upper is not None:
            body.append(
                f'<line x1="{fmt(cx)}" y1="{fmt(sy(pt.lower))}" x2="{fmt(cx)}" '
                f'y2="{fmt(sy(pt.upper))}" stroke="{DARK}" stroke-width="1.2"/>'
            )
        body.append(marker(cx, sy(pt.value), pt.verdict, 2.6))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="multiple" role="img" '
        f'viewBox="0 0 {fmt(width)} {fmt(height)}" width="{fmt(width)}" '
        f'height="{fmt(height)}" font-family="{FONT}" font-size="8">'
        f"<title>{esc(title)}</title>" + "".join(body) + "</svg>"
    )
