"""Server-rendered SVG charts (no JavaScript, no CDN): the same markup on screen, in print and PDF.

Accessibility: each chart is ``role="img"`` with a ``<title>`` and a ``<desc>`` and always sits
next to a table with the same numbers (the table is the accessible alternative). Series differ by
colour *and* by dash pattern and marker shape, so they are distinguishable without colour. Hidden
(suppressed) values are gaps in a line and hatched bars, never zeros.

The trend legend is HTML (``trend_legend``), not SVG text: a list wraps at any width, so every
series stays named on a phone and in the PDF, where a one-line SVG legend ran off the chart after
three names. Shapes are plain lines, rects and paths, which WeasyPrint draws quickly.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from feedback.reports.queries import ThemeReport, ThemeRow
from feedback.reports.suppression import display, hidden_label

# Okabe–Ito colours, darkened where needed for 3:1 contrast against white.
COLOURS = ("#0062a3", "#b35900", "#007a5e", "#a6337a", "#5a5a5a", "#8c6d00")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")
MAX_SERIES = 6


def trend_series(report: ThemeReport) -> list[ThemeRow]:
    """The themes drawn as lines (largest first); the chart and its legend use the same list."""
    return [t for t in report.themes if t.respondents is not None][:MAX_SERIES]


def trend_svg(report: ThemeReport, *, chart_id: str = "trend", width: int = 720, height: int = 270) -> Markup:
    """Line chart: distinct respondents per period for the largest themes (legend: ``trend_legend``)."""
    themes = trend_series(report)
    periods = report.periods
    left, right, top, bottom = 48, 16, 16, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([v for t in themes for v in t.trend.values() if v is not None] + [5])
    step = _nice_step(peak)
    y_max = step * -(-peak // step)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / max(len(periods), 1))

    def y(v: int) -> float:
        return top + plot_h - plot_h * v / y_max

    desc = "; ".join(
        f"{t.label}: "
        + ", ".join(
            f"{p['label']} {display(t.trend.get(p['code']), t.hidden.get('trend.' + p['code']))}"
            for p in periods
        )
        for t in themes
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">Antal personer per tema och {"kvartal" if report.filters["granularity"] == "quarter" else "månad"}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc or "Inga svar i perioden.")} Samma siffror finns i tabellen under diagrammet.</desc>',
    ]
    for tick in range(0, y_max + 1, step):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#d0d0d0"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11" fill="#1a1a1a">{tick}</text>'
        )
    for i, period in enumerate(periods):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="end" font-size="11" fill="#1a1a1a" '
            f'transform="rotate(-35 {x(i):.1f} {height - bottom + 16})">{escape(period["label"])}</text>'
        )
    for n, theme in enumerate(themes):
        colour, dash = COLOURS[n % len(COLOURS)], DASHES[n % len(DASHES)]
        parts.append(f'<g class="series" data-theme="{escape(theme.key)}">')
        for segment in _segments(theme, periods):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr} points="{points}"/>'
            )
        for i, period in enumerate(periods):
            value = theme.trend.get(period["code"])
            if value is None:
                continue
            parts.append(
                f'<g class="point" data-period="{period["code"]}" data-value="{value}">'
                + _marker(n, x(i), y(value), colour)
                + "</g>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every dynamic text above is escaped


def bars_svg(report: ThemeReport, *, chart_id: str = "shares", width: int = 720) -> Markup:
    """Horizontal bars: share of respondents per theme (hatched: fewer than five people)."""
    themes = report.themes
    row_h, left, right = 28, 220, 70
    height = max(row_h * len(themes) + 24, 60)
    plot_w = width - left - right
    desc = "; ".join(f"{t.label}: {_share(t)}" for t in themes)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">Andel personer som tog upp varje tema</title>',
        f'<desc id="{chart_id}-desc">{escape(desc or "Inga teman i perioden.")}</desc>',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#5a5a5a" stroke-width="2"/></pattern></defs>',
    ]
    for i, theme in enumerate(themes):
        top = 12 + i * row_h
        parts.append(
            f'<text x="{left - 8}" y="{top + 15}" text-anchor="end" font-size="13" fill="#1a1a1a">{escape(theme.label)}</text>'
        )
        if theme.share is None:
            parts.append(
                f'<rect x="{left}" y="{top + 2}" width="40" height="18" fill="url(#hatch)" stroke="#5a5a5a"/>'
                f'<text x="{left + 48}" y="{top + 15}" font-size="12" fill="#1a1a1a">{_share(theme)}</text>'
            )
            continue
        bar = max(plot_w * theme.share, 1)
        parts.append(
            f'<rect x="{left}" y="{top + 2}" width="{bar:.1f}" height="18" fill="{COLOURS[0]}"/>'
            f'<text x="{left + bar + 6:.1f}" y="{top + 15}" font-size="12" fill="#1a1a1a">{_share(theme)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every dynamic text above is escaped


def _share(theme: ThemeRow) -> str:
    return hidden_label(theme.hidden.get("share")) if theme.share is None else f"{round(theme.share * 100)} %"


def _segments(theme: ThemeRow, periods: Sequence[dict[str, str]]) -> list[list[tuple[int, int]]]:
    """Runs of consecutive visible values (a hidden value breaks the line)."""
    out: list[list[tuple[int, int]]] = [[]]
    for i, period in enumerate(periods):
        value = theme.trend.get(period["code"])
        if value is None:
            out.append([])
        else:
            out[-1].append((i, value))
    return [seg for seg in out if len(seg) >= 2]


def _marker(n: int, cx: float, cy: float, colour: str) -> str:
    shape = n % 3
    if shape == 0:
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}"/>'
    if shape == 1:
        return f'<rect x="{cx - 4:.1f}" y="{cy - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    return f'<path d="M{cx:.1f},{cy - 5:.1f} L{cx + 5:.1f},{cy + 4:.1f} L{cx - 5:.1f},{cy + 4:.1f} Z" fill="{colour}"/>'


def trend_legend(report: ThemeReport, *, chart_id: str = "trend") -> Markup:
    """Every series of ``trend_svg`` with its colour, dash and marker, as a list that wraps."""
    themes = trend_series(report)
    if not themes:
        return Markup("")
    items = []
    for n, theme in enumerate(themes):
        colour, dash = COLOURS[n % len(COLOURS)], DASHES[n % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        items.append(
            f'<li data-theme="{escape(theme.key)}"><svg class="swatch" xmlns="http://www.w3.org/2000/svg" '
            f'aria-hidden="true" focusable="false" width="32" height="12" viewBox="0 0 32 12">'
            f'<line x1="2" x2="30" y1="6" y2="6" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
            + _marker(n, 16, 6, colour)
            + f"</svg> {escape(theme.label)}</li>"
        )
    return Markup(  # noqa: S704 - labels are escaped
        f'<ul class="chart-legend" id="{chart_id}-legend" aria-label="Teckenförklaring till diagrammet">'
        + "".join(items)
        + "</ul>"
    )


def _nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if peak / step <= 6:
            return step
    return 100000
