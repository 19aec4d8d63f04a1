"""Inline SVG: the stage timeline and the metric trend charts. Pure: records in, markup out.

Every piece of text that reaches the markup goes through `esc` (html.escape with quotes), SVG
text included. No style attributes (the page's Content-Security-Policy allows only its one
stylesheet): colours come from classes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TypeGuard

from modelreg.report.records import Span
from modelreg.report.timeline import lanes

PALETTE = 8  # version colours: classes c0 … c7 in the stylesheet
MAX_LANES = 4
MAX_DOTS = 150  # past this many versions, a chart draws the line and only the marked versions' dots


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def number(value: float) -> str:
    """A metric value as people read it: short, never in scientific notation for everyday sizes."""
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15):
        return f"{int(value)}"
    return f"{value:.4g}"


def is_number(value: object) -> TypeGuard[int | float]:
    """A finite int or float (not a bool): what a chart can place."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --- the stage timeline -------------------------------------------------------------------------

_LABEL_W, _TRACK_W, _LANE_H, _GAP, _AXIS_H = 130.0, 830.0, 22.0, 8.0, 34.0


def timeline_svg(rows: Sequence[tuple[str, Sequence[Span]]], events: int, ticks: Sequence[tuple[int, str]]) -> str:
    """Rows of spans (one row per stage or alias) over `events` positions; `ticks` label some positions."""
    width = _LABEL_W + _TRACK_W + 10
    parts: list[str] = []
    y = 4.0
    steps = max(events, 1)

    def x(at: float) -> float:
        return _LABEL_W + _TRACK_W * at / steps

    for label, row in rows:
        placed = lanes(row, MAX_LANES)
        height = _LANE_H * (max(placed, default=0) + 1)
        parts.append(f'<text class="row-label" x="{_LABEL_W - 8}" y="{y + height / 2 + 4:.1f}">{esc(label)}</text>')
        parts.append(f'<rect class="track" x="{_LABEL_W}" y="{y:.1f}" width="{_TRACK_W}" height="{height:.1f}"/>')
        for span, lane in zip(row, placed, strict=True):
            left = x(span.start)
            right = x(events if span.end is None else span.end)
            w = max(right - left, 3.0)
            top = y + lane * _LANE_H + 2
            until = "now" if span.end is None else f"{span.until} ({span.end_tag})"
            title = f"{label}: v{span.version} from {span.since} ({span.start_tag}) until {until}"
            parts.append(
                f'<g class="span" data-target="{esc(span.target)}" data-version="{span.version}">'
                f"<title>{esc(title)}</title>"
                f'<rect class="c{span.version % PALETTE}{" open" if span.end is None else ""}" x="{left:.1f}" '
                f'y="{top:.1f}" width="{w:.1f}" height="{_LANE_H - 4}" rx="3"/>'
            )
            if w >= 9 * (len(str(span.version)) + 1) + 6:
                parts.append(f'<text class="span-label" x="{left + 5:.1f}" y="{top + 13:.1f}">v{span.version}</text>')
            parts.append("</g>")
        y += height + _GAP
    for at, label in ticks:
        parts.append(f'<line class="tick" x1="{x(at):.1f}" x2="{x(at):.1f}" y1="2" y2="{y + 2:.1f}"/>')
        anchor = "end" if at >= steps * 0.85 else "start" if at <= steps * 0.15 else "middle"
        parts.append(
            f'<text class="tick-label" x="{x(at):.1f}" y="{y + 16:.1f}" text-anchor="{anchor}">{esc(label)}</text>'
        )
    height = y + _AXIS_H
    return (
        f'<svg class="timeline" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="stage and alias timeline">{"".join(parts)}</svg>'
    )


# --- metric charts ------------------------------------------------------------------------------

_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 400.0, 230.0, 54.0, 14.0, 20.0, 42.0


def nice_ticks(lo: float, hi: float, most: int = 5) -> tuple[list[float], int]:
    """Round values covering lo..hi, a step of 1, 2 or 5 times a power of ten apart; and the decimals they need."""
    raw = (hi - lo) / (most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    places = max(0, -math.floor(math.log10(step) + 1e-9))
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(k * step, places + 1) for k in range(first, last + 1)], places


def metric_svg(
    metric: str,
    points: Sequence[tuple[int, float]],
    held: frozenset[int],
    current: frozenset[int],
    highlight: str | None,
) -> str:
    """A trend of one metric over versions: `points` are (version, value), oldest first.

    Versions in `held` once held the highlighted stage (production) and get a ring; those in
    `current` hold it now and get a filled mark with a label.
    """
    if not points:
        return ""
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    ticks, places = nice_ticks(lo, hi)
    lo, hi = ticks[0], ticks[-1]
    first, last = points[0][0], points[-1][0]
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def px(version: int) -> float:
        return _LEFT + plot_w / 2 if first == last else _LEFT + plot_w * (version - first) / (last - first)

    def py(value: float) -> float:
        return _TOP + plot_h * (hi - value) / (hi - lo)

    parts = [f'<rect class="plot" x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}"/>']
    for value in ticks:
        y = py(value)
        parts.append(f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="y-label" x="{_LEFT - 6}" y="{y + 4:.1f}">{value:.{places}f}</text>')
    versions = sorted({points[0][0], points[len(points) // 2][0], points[-1][0]})
    for version in versions:
        parts.append(f'<text class="x-label" x="{px(version):.1f}" y="{_H - _BOTTOM + 19}">v{version}</text>')
    parts.append(f'<text class="axis-title" x="{_LEFT + plot_w / 2:.1f}" y="{_H - 6}">version</text>')
    if len(points) > 1:
        line = " ".join(f"{px(v):.1f},{py(value):.1f}" for v, value in points)
        parts.append(f'<polyline class="trend" points="{line}"/>')
    dots = len(points) <= MAX_DOTS
    for version, value in points:
        mark = "current" if version in current else "held" if version in held else ""
        if not mark and not dots:
            continue
        cx, cy = px(version), py(value)
        note = f" ({'holds' if mark == 'current' else 'held'} {highlight})" if mark and highlight else ""
        title = f"v{version}: {metric} = {number(value)}{note}"
        radius = 6 if mark == "current" else 4.5 if mark else 3
        parts.append(
            f'<g class="point{" " + mark if mark else ""}" data-version="{version}"><title>{esc(title)}</title>'
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}"/></g>'
        )
        if mark == "current" and highlight:
            anchor = "end" if cx > _LEFT + plot_w * 0.7 else "start"
            dx = -9 if anchor == "end" else 9
            parts.append(
                f'<text class="mark-label" x="{cx + dx:.1f}" y="{cy - 8:.1f}" text-anchor="{anchor}">'
                f"{esc(highlight)} v{version}</text>"
            )
    return (
        f'<svg class="chart" data-metric="{esc(metric)}" viewBox="0 0 {_W:.0f} {_H:.0f}" role="img" '
        f'aria-label="{esc(metric)} by version">{"".join(parts)}</svg>'
    )
