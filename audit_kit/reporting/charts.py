"""SVG charts drawn in Python: no browser, no network, readable when printed in grayscale.

Each function takes already-computed numbers and returns an ``<svg>`` string for inline use.
Every label is XML-escaped here (coder names are user data). Grayscale readability comes from
shapes and patterns, not colour: verdicts are a filled circle (meets), an open circle
(inconclusive) and a filled square (below); the target is a dashed line; overpayments are dark
bars, underpayments light bars with an outline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = [
    "AccuracyRow",
    "PaymentRow",
    "ParetoBar",
    "accuracy_chart",
    "pareto_chart",
    "payments_chart",
]

# The shipped face first (templates/fonts.css): a chart in a system font would be the one font of
# the PDF that WeasyPrint has to subset.
FONT = "Audit Kit Sans, DejaVu Sans, sans-serif"
WIDTH = 680
LABEL_W = 150
INK = "#000000"
DARK = "#404040"
MID = "#8c8c8c"
LIGHT = "#d9d9d9"
GRID = "#e6e6e6"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccuracyRow:
    label: str
    value: float
    lower: float
    upper: float
    verdict: str  # meets | below | inconclusive | "" (no verdict: grey dot)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParetoBar:
    label: str
    count: int
    cumulative_share: float  # 0..1


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRow:
    label: str
    overpayment: float
    underpayment: float  # a positive amount


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def shorten(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def svg_doc(height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {fmt(height)}" width="{WIDTH}" height="{fmt(height)}" '
        f'font-family="{FONT}" font-size="10">'
        f"<title>{esc(title)}</title>" + "".join(body) + "</svg>"
    )


def marker(cx: float, cy: float, verdict: str, size: float = 4.0) -> str:
    if verdict == "below":
        return (
            f'<rect x="{fmt(cx - size)}" y="{fmt(cy - size)}" width="{fmt(2 * size)}" '
            f'height="{fmt(2 * size)}" fill="{INK}"/>'
        )
    if verdict not in ("meets", "inconclusive"):  # no verdict: a plain grey dot
        return f'<circle cx="{fmt(cx)}" cy="{fmt(cy)}" r="{fmt(size - 1)}" fill="{MID}"/>'
    fill = INK if verdict == "meets" else "#ffffff"
    return (
        f'<circle cx="{fmt(cx)}" cy="{fmt(cy)}" r="{fmt(size)}" fill="{fill}" '
        f'stroke="{INK}" stroke-width="1.4"/>'
    )


def accuracy_chart(
    rows: Sequence[AccuracyRow], *, target: float, title: str, axis_label: str
) -> str:
    """Dot-and-whisker chart: one row per group, its interval, and the target as a dashed line."""
    row_h = 16.0 if len(rows) <= 20 else 12.0
    top, bottom = 24.0, 58.0
    height = top + row_h * max(len(rows), 1) + bottom
    lows = [r.lower for r in rows] + [target]
    lo = max(0.0, math.floor((min(lows) - 0.01) * 20) / 20)
    hi = 1.0
    plot_l, plot_r = LABEL_W, WIDTH - 20.0

    def sx(v: float) -> float:
        return plot_l + (min(max(v, lo), hi) - lo) / (hi - lo) * (plot_r - plot_l)

    body: list[str] = []
    step = 0.05 if hi - lo > 0.25 else (0.02 if hi - lo > 0.1 else 0.01)
    # Ticks counted down from 100% so that the right end is always labelled.
    ticks = [round(hi - i * step, 6) for i in range(int((hi - lo) / step + 1e-6) + 1)]
    y_axis = top + row_h * max(len(rows), 1)
    for tick in ticks:
        x = sx(tick)
        body.append(
            f'<line x1="{fmt(x)}" y1="{fmt(top - 4)}" x2="{fmt(x)}" y2="{fmt(y_axis)}" '
            f'stroke="{GRID}" stroke-width="0.8"/>'
            f'<text x="{fmt(x)}" y="{fmt(y_axis + 13)}" text-anchor="middle">'
            f"{fmt(tick * 100)}%</text>"
        )
    body.append(
        f'<line x1="{plot_l}" y1="{fmt(y_axis)}" x2="{plot_r}" y2="{fmt(y_axis)}" '
        f'stroke="{INK}" stroke-width="0.8"/>'
    )
    for i, row in enumerate(rows):
        cy = top + row_h * (i + 0.5)
        if i % 2 == 0:
            body.append(
                f'<rect x="0" y="{fmt(cy - row_h / 2)}" width="{WIDTH}" height="{fmt(row_h)}" '
                f'fill="#f5f5f5"/>'
            )
        x1, x2 = sx(row.lower), sx(row.upper)
        body.append(
            f'<text x="{LABEL_W - 8}" y="{fmt(cy + 3.5)}" text-anchor="end">'
            f"{esc(shorten(row.label))}</text>"
            f'<line x1="{fmt(x1)}" y1="{fmt(cy)}" x2="{fmt(x2)}" y2="{fmt(cy)}" '
            f'stroke="{DARK}" stroke-width="1.4"/>'
            f'<line x1="{fmt(x1)}" y1="{fmt(cy - 3)}" x2="{fmt(x1)}" y2="{fmt(cy + 3)}" '
            f'stroke="{DARK}" stroke-width="1.4"/>'
            f'<line x1="{fmt(x2)}" y1="{fmt(cy - 3)}" x2="{fmt(x2)}" y2="{fmt(cy + 3)}" '
            f'stroke="{DARK}" stroke-width="1.4"/>' + marker(sx(row.value), cy, row.verdict)
        )
    tx = sx(target)
    body.append(
        f'<line x1="{fmt(tx)}" y1="{fmt(top - 6)}" x2="{fmt(tx)}" y2="{fmt(y_axis)}" '
        f'stroke="{INK}" stroke-width="1.2" stroke-dasharray="5 3"/>'
        f'<text x="{fmt(tx)}" y="{fmt(top - 10)}" text-anchor="middle" font-weight="bold">'
        f"Target {fmt(target * 100)}%</text>"
    )
    ly = y_axis + 30
    legend_x = plot_l
    body.append(f'<text x="{legend_x}" y="{fmt(ly)}">{esc(axis_label)}</text>')
    ly += 15
    for offset, verdict, label in (
        (0, "meets", "meets target"),
        (110, "inconclusive", "inconclusive"),
        (220, "below", "below target"),
    ):
        body.append(
            marker(legend_x + offset + 4, ly - 3.5, verdict)
            + f'<text x="{legend_x + offset + 13}" y="{fmt(ly)}">{label}</text>'
        )
    body.append(
        f'<line x1="{legend_x + 330}" y1="{fmt(ly - 3.5)}" x2="{legend_x + 356}" '
        f'y2="{fmt(ly - 3.5)}" stroke="{INK}" stroke-width="1.2" stroke-dasharray="5 3"/>'
        f'<text x="{legend_x + 362}" y="{fmt(ly)}">target</text>'
    )
    return svg_doc(height, title, body)


def _wrap(label: str, width: int) -> list[str]:
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return [shorten(x, width + 2) for x in lines[:2]] or [""]


def _nice_ceiling(value: float) -> float:
    """Round a positive axis maximum up to 4 x a round integer step (quarter ticks are whole)."""
    raw = max(value / 4, 1.0)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for mult in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        step = mult * magnitude
        if step >= raw and step.is_integer():
            return 4 * step
    return 40 * magnitude


def pareto_chart(bars: Sequence[ParetoBar], *, title: str) -> str:
    """Pareto chart: error units per category (bars, left axis) and cumulative share (line)."""
    height = 250.0
    plot_l, plot_r, top, base = 50.0, WIDTH - 50.0, 20.0, 190.0
    peak = _nice_ceiling(max([b.count for b in bars] + [1]))
    n = max(len(bars), 1)
    slot = (plot_r - plot_l) / n
    bar_w = min(slot * 0.6, 90.0)
    body: list[str] = []
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = base - frac * (base - top)
        body.append(
            f'<line x1="{plot_l}" y1="{fmt(y)}" x2="{plot_r}" y2="{fmt(y)}" '
            f'stroke="{GRID}" stroke-width="0.8"/>'
            f'<text x="{plot_r + 6}" y="{fmt(y + 3.5)}">{fmt(frac * 100)}%</text>'
        )
        value = frac * peak
        if float(value).is_integer():
            body.append(
                f'<text x="{plot_l - 6}" y="{fmt(y + 3.5)}" text-anchor="end">{value:.0f}</text>'
            )
    points: list[str] = []
    for i, bar in enumerate(bars):
        cx = plot_l + slot * (i + 0.5)
        h = bar.count / peak * (base - top)
        body.append(
            f'<rect x="{fmt(cx - bar_w / 2)}" y="{fmt(base - h)}" width="{fmt(bar_w)}" '
            f'height="{fmt(h)}" fill="{MID}" stroke="{INK}" stroke-width="0.6"/>'
            f'<text x="{fmt(cx)}" y="{fmt(base - h - 4)}" text-anchor="middle">'
            f"{bar.count}</text>"
        )
        for j, line in enumerate(_wrap(bar.label, 16)):
            body.append(
                f'<text x="{fmt(cx)}" y="{fmt(base + 14 + 12 * j)}" text-anchor="middle">'
                f"{esc(line)}</text>"
            )
        points.append(f"{fmt(cx)},{fmt(base - bar.cumulative_share * (base - top))}")
    body.append(
        f'<line x1="{plot_l}" y1="{base}" x2="{plot_r}" y2="{base}" stroke="{INK}" '
        f'stroke-width="0.8"/>'
    )
    if points:
        body.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{INK}" stroke-width="1.6"/>'
        )
        for point in points:
            px, py = point.split(",")
            body.append(
                f'<circle cx="{px}" cy="{py}" r="3.5" fill="#ffffff" stroke="{INK}" '
                f'stroke-width="1.4"/>'
            )
    ly = height - 14
    body.append(
        f'<rect x="{plot_l}" y="{fmt(ly - 9)}" width="14" height="10" fill="{MID}" '
        f'stroke="{INK}" stroke-width="0.6"/>'
        f'<text x="{plot_l + 20}" y="{fmt(ly)}">units with an error in the category '
        f"(left axis)</text>"
        f'<line x1="{plot_l + 270}" y1="{fmt(ly - 4)}" x2="{plot_l + 296}" y2="{fmt(ly - 4)}" '
        f'stroke="{INK}" stroke-width="1.6"/>'
        f'<circle cx="{plot_l + 283}" cy="{fmt(ly - 4)}" r="3.5" fill="#ffffff" '
        f'stroke="{INK}" stroke-width="1.4"/>'
        f'<text x="{plot_l + 304}" y="{fmt(ly)}">cumulative share (right axis)</text>'
    )
    return svg_doc(height, title, body)


def _money_short(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"${value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"${value / 1000:.0f}k"
    if abs(value) >= 1000:
        return f"${value / 1000:.1f}k"
    return f"${value:.0f}"


def payments_chart(rows: Sequence[PaymentRow], *, title: str) -> str:
    """Diverging bars per group: underpayments to the left, overpayments to the right."""
    row_h = 16.0 if len(rows) <= 20 else 12.0
    top, bottom = 20.0, 40.0
    height = top + row_h * max(len(rows), 1) + bottom
    plot_l, plot_r = LABEL_W, WIDTH - 16.0
    peak = max([max(r.overpayment, r.underpayment) for r in rows] + [1.0])
    mid = plot_l + (plot_r - plot_l) / 2
    half = (plot_r - plot_l) / 2 - 40

    body: list[str] = []
    for i, row in enumerate(rows):
        cy = top + row_h * (i + 0.5)
        bh = row_h * 0.6
        if i % 2 == 0:
            body.append(
                f'<rect x="0" y="{fmt(cy - row_h / 2)}" width="{WIDTH}" height="{fmt(row_h)}" '
                f'fill="#f5f5f5"/>'
            )
        body.append(
            f'<text x="{LABEL_W - 8}" y="{fmt(cy + 3.5)}" text-anchor="end">'
            f"{esc(shorten(row.label))}</text>"
        )
        if row.overpayment > 0:
            w = row.overpayment / peak * half
            body.append(
                f'<rect x="{fmt(mid)}" y="{fmt(cy - bh / 2)}" width="{fmt(w)}" '
                f'height="{fmt(bh)}" fill="{DARK}"/>'
                f'<text x="{fmt(mid + w + 3)}" y="{fmt(cy + 3.5)}" font-size="8">'
                f"{_money_short(row.overpayment)}</text>"
            )
        if row.underpayment > 0:
            w = row.underpayment / peak * half
            body.append(
                f'<rect x="{fmt(mid - w)}" y="{fmt(cy - bh / 2)}" width="{fmt(w)}" '
                f'height="{fmt(bh)}" fill="{LIGHT}" stroke="{INK}" stroke-width="0.6"/>'
                f'<text x="{fmt(mid - w - 3)}" y="{fmt(cy + 3.5)}" font-size="8" '
                f'text-anchor="end">{_money_short(row.underpayment)}</text>'
            )
    y_end = top + row_h * max(len(rows), 1)
    body.append(
        f'<line x1="{fmt(mid)}" y1="{fmt(top - 4)}" x2="{fmt(mid)}" y2="{fmt(y_end)}" '
        f'stroke="{INK}" stroke-width="1"/>'
        f'<text x="{fmt(mid - 6)}" y="{fmt(top - 8)}" text-anchor="end">'
        f"\u2190 underpaid</text>"
        f'<text x="{fmt(mid + 6)}" y="{fmt(top - 8)}">overpaid \u2192</text>'
    )
    ly = y_end + 24
    body.append(
        f'<rect x="{plot_l}" y="{fmt(ly - 9)}" width="14" height="10" fill="{DARK}"/>'
        f'<text x="{plot_l + 20}" y="{fmt(ly)}">overpayment (paid more than the audited '
        f"coding supports)</text>"
        f'<rect x="{plot_l}" y="{fmt(ly + 5)}" width="14" height="10" fill="{LIGHT}" '
        f'stroke="{INK}" stroke-width="0.6"/>'
        f'<text x="{plot_l + 20}" y="{fmt(ly + 14)}">underpayment</text>'
    )
    return svg_doc(height + 14, title, body)
