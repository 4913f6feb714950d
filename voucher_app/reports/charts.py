"""Bar charts drawn on the server as SVG: no chart library, no script, nothing to download.

A bureau PC and a cheap phone both get the same few kilobytes of markup inside the page. The width
of the viewBox is fixed, so a chart scales down to a phone's width with the page. Colours come from
CSS classes (``chart-series-0``, ``chart-series-1`` …), so the stylesheet decides them and large-text
or print styles can change them; the functions only lay out. Every label is escaped, and each group
of bars carries a ``<title>`` that the browser shows on hover and a screen reader reads.

These functions are pure: they take the words to show (already translated) and integers, and
return markup. A chart whose values are all zero says so instead of drawing an empty grid.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 420  # narrow enough that a phone shrinks the text little; a PC's wide card enlarges it
FONT = 13  # in viewBox units, like every size here; the stylesheet may restyle, never re-lay out
LEGEND_TOP = 34


@dataclass(frozen=True)
class Series:
    """One set of bars: its name (in the legend and the hover text) and one value per label."""

    name: str
    values: Sequence[int]


def vertical_bars(labels: Sequence[str], series: Sequence[Series], *, title: str, x_label: str, y_label: str,
                  empty_text: str, value_text: Callable[[int], str] = str, height: int = 300) -> Markup:
    """Columns standing on a horizontal axis, one group per label (days, hours), series side by side."""
    if _is_empty(labels, series):
        return _empty(title, empty_text)
    top, step = nice_scale(_peak(series))
    ticks = range(0, top + 1, step)
    left = 28 + max(_text_width(value_text(t), FONT - 1) for t in ticks)  # the axis title, then the figures
    right, bottom = 8, 48
    plot_w, plot_h = WIDTH - left - right, height - LEGEND_TOP - bottom
    base = LEGEND_TOP + plot_h
    out = [_open(title, height, "chart-columns"), *_legend(series)]
    for tick in ticks:
        y = base - plot_h * tick / top
        out.append(f'<line class="chart-grid" x1="{_n(left)}" y1="{_n(y)}" x2="{WIDTH - right}" y2="{_n(y)}"/>')
        out.append(f'<text class="chart-tick" x="{_n(left - 6)}" y="{_n(y + 4)}" text-anchor="end">'
                   f'{escape(value_text(tick))}</text>')
    group_w = plot_w / len(labels)
    bar_w = group_w * 0.8 / len(series)
    label_every = max(1, math.ceil((max(_text_width(str(label), FONT - 1) for label in labels) + 6) / group_w))
    for i, label in enumerate(labels):
        x0 = left + i * group_w
        out.append(f"<g class=\"chart-group\">{_hover(label, series, i, value_text)}"
                   f'<rect class="chart-hit" opacity="0" x="{_n(x0)}" y="{LEGEND_TOP}" width="{_n(group_w)}" '
                   f'height="{plot_h}"/>')
        for j, s in enumerate(series):
            h = plot_h * max(s.values[i], 0) / top
            if h > 0:
                out.append(f'<rect class="chart-bar chart-series-{j}" x="{_n(x0 + group_w * 0.1 + j * bar_w)}" '
                           f'y="{_n(base - h)}" width="{_n(bar_w)}" height="{_n(h)}"/>')
        out.append("</g>")
        if i % label_every == 0:
            out.append(f'<text class="chart-tick" x="{_n(x0 + group_w / 2)}" y="{base + 16}" text-anchor="middle">'
                       f"{escape(label)}</text>")
    out.append(f'<line class="chart-axis" x1="{_n(left)}" y1="{base}" x2="{WIDTH - right}" y2="{base}"/>')
    out.append(f'<text class="chart-axis-label" x="{_n(left + plot_w / 2)}" y="{height - 8}" text-anchor="middle">'
               f"{escape(x_label)}</text>")
    out.append(f'<text class="chart-axis-label" transform="rotate(-90)" x="{_n(-(LEGEND_TOP + plot_h / 2))}" '
               f'y="14" text-anchor="middle">{escape(y_label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def horizontal_bars(labels: Sequence[str], series: Sequence[Series], *, title: str, x_label: str,
                    empty_text: str, value_text: Callable[[int], str] = str) -> Markup:
    """Bars lying along a horizontal axis, one row per label (districts, trades, measures): long names
    read on the left instead of slanting under columns. The chart grows in height with its rows."""
    if _is_empty(labels, series):
        return _empty(title, empty_text)
    top, step = nice_scale(_peak(series))
    label_w, bottom = 136, 44
    right = 4 + _text_width(value_text(top), FONT - 1) / 2  # room for the last figure, centred on its line
    row_h = max(26, 14 * len(series) + 10)
    plot_w, plot_h = WIDTH - label_w - right, row_h * len(labels)
    height = LEGEND_TOP + plot_h + bottom
    base = LEGEND_TOP + plot_h
    out = [_open(title, height, "chart-bars"), *_legend(series)]
    for tick in range(0, top + 1, step):
        x = label_w + plot_w * tick / top
        out.append(f'<line class="chart-grid" x1="{_n(x)}" y1="{LEGEND_TOP}" x2="{_n(x)}" y2="{base}"/>')
        out.append(f'<text class="chart-tick" x="{_n(x)}" y="{base + 16}" text-anchor="middle">'
                   f"{escape(value_text(tick))}</text>")
    bar_h = (row_h - 8) / len(series)
    for i, label in enumerate(labels):
        y0 = LEGEND_TOP + i * row_h
        out.append(f"<g class=\"chart-group\">{_hover(label, series, i, value_text)}"
                   f'<rect class="chart-hit" opacity="0" x="0" y="{y0}" width="{WIDTH}" height="{row_h}"/>'
                   f'<text class="chart-label" x="{label_w - 8}" y="{_n(y0 + row_h / 2 + 4)}" text-anchor="end">'
                   f"{escape(_fit(str(label), label_w - 12))}</text>")
        for j, s in enumerate(series):
            value = max(s.values[i], 0)
            w, y = plot_w * value / top, y0 + 4 + j * bar_h
            if w > 0:
                out.append(f'<rect class="chart-bar chart-series-{j}" x="{label_w}" y="{_n(y)}" width="{_n(w)}" '
                           f'height="{_n(bar_h - 1)}"/>')
                text, y_text = value_text(value), _n(y + bar_h / 2 + 4)
                if label_w + w + 4 + _text_width(text, FONT - 2) <= WIDTH:
                    out.append(f'<text class="chart-value" x="{_n(label_w + w + 4)}" y="{y_text}">'
                               f"{escape(text)}</text>")
                else:  # no room beside the bar's end: inside it, light on the colour
                    out.append(f'<text class="chart-value chart-value-in" x="{_n(label_w + w - 4)}" y="{y_text}" '
                               f'text-anchor="end">{escape(text)}</text>')
        out.append("</g>")
    out.append(f'<line class="chart-axis" x1="{label_w}" y1="{LEGEND_TOP}" x2="{label_w}" y2="{base}"/>')
    out.append(f'<text class="chart-axis-label" x="{_n(label_w + plot_w / 2)}" y="{height - 6}" '
               f'text-anchor="middle">{escape(x_label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def nice_scale(peak: int, ticks: int = 4) -> tuple[int, int]:
    """The top of the scale and its step: whole round numbers (1, 2, 2.5, 5 × 10ⁿ), top ≥ ``peak``,
    so the gridlines fall on figures a reader can take in at a glance."""
    raw = max(peak, 1) / ticks
    magnitude = 10 ** max(0, math.floor(math.log10(raw))) if raw >= 1 else 1
    candidates = [magnitude, 2 * magnitude, *([5 * magnitude // 2] if magnitude >= 10 else []),
                  5 * magnitude, 10 * magnitude]
    step = next(c for c in candidates if c >= raw)
    return step * math.ceil(max(peak, 1) / step), step


def _is_empty(labels: Sequence[str], series: Sequence[Series]) -> bool:
    return not labels or not series or _peak(series) <= 0


def _peak(series: Sequence[Series]) -> int:
    return max((v for s in series for v in s.values), default=0)


def _open(title: str, height: int, kind: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" viewBox="0 0 {WIDTH} {height}" '
            f'role="img" font-size="{FONT}"><title>{escape(title)}</title>')


def _empty(title: str, empty_text: str) -> Markup:
    height = 120
    return Markup(f"{_open(title, height, 'chart-empty')}"
                  f'<rect class="chart-frame" x="1" y="1" width="{WIDTH - 2}" height="{height - 2}" rx="8"/>'
                  f'<text class="chart-empty-text" x="{WIDTH // 2}" y="{height // 2 + 5}" text-anchor="middle">'
                  f"{escape(empty_text)}</text></svg>")


def _legend(series: Sequence[Series]) -> list[str]:
    out, x = [], 8.0
    for j, s in enumerate(series):
        out.append(f'<rect class="chart-bar chart-series-{j}" x="{_n(x)}" y="8" width="12" height="12" rx="2"/>'
                   f'<text class="chart-legend" x="{_n(x + 17)}" y="18">{escape(s.name)}</text>')
        x += 17 + _text_width(s.name, FONT) + 18
    return out


def _hover(label: str, series: Sequence[Series], i: int, value_text: Callable[[int], str]) -> str:
    figures = "; ".join(f"{s.name}: {value_text(s.values[i])}" for s in series)
    return f"<title>{escape(label)} — {escape(figures)}</title>"


def _text_width(text: str, size: float) -> float:
    """A fair guess at the drawn width: a Chinese character is a square, a Latin one about half."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in text)


def _fit(text: str, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` (the hover title keeps it whole)."""
    if _text_width(text, FONT) <= width:
        return text
    while text and _text_width(text + "…", FONT) > width:
        text = text[:-1]
    return text + "…"


def _n(value: float) -> str:
    """A coordinate with one decimal at most: short markup, no visible difference."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
