"""Charts never draw a suppressed value: a hidden trend cell is a gap, a hidden share a hatched bar."""

from __future__ import annotations

import re

from feedback.reports.charts import MAX_SERIES, bars_svg, trend_legend, trend_svg
from feedback.reports.queries import ThemeReport, ThemeRow
from feedback.reports.suppression import COMPLEMENT_SV, SUPPRESSED_SV


def _report() -> ThemeReport:
    periods = [{"code": c, "label": c} for c in ("202601", "202602", "202603", "202604")]
    shown = ThemeRow(
        key="bemotande",
        label="Bemötande",
        respondents=40,
        share=0.5,
        sentiment={},
        trend={"202601": 12, "202602": None, "202603": 9, "202604": 11},
        hidden={"trend.202602": "small"},
    )
    hidden = ThemeRow(
        key="halsa",
        label="Hälsa",
        respondents=None,
        share=None,
        sentiment={},
        trend={"202601": None},
        hidden={"respondents": "complement", "share": "complement", "trend.202601": "small"},
    )
    return ThemeReport(
        filters={"granularity": "month"},
        units=[],
        generated_at="2026-05-01T00:00:00",
        respondents=80,
        periods=periods,
        trend_totals={},
        sentiment_totals={},
        themes=[shown, hidden],
        skr=[],
        waves={},
        cohort={},
        sustained=[],
        unit_respondents=[],
        merge_suggestions=[],
    )


def test_trend_chart_leaves_a_gap_for_a_hidden_value() -> None:
    svg = str(trend_svg(_report()))
    points = dict(re.findall(r'data-period="(\d+)" data-value="(\d+)"', svg))
    assert points == {"202601": "12", "202603": "9", "202604": "11"}
    assert 'data-theme="halsa"' not in svg  # a theme with a hidden total is not drawn at all
    # one line segment only (202603–202604): the hidden February breaks the line, never a zero
    assert svg.count("<polyline") == 1
    assert f"202602 {SUPPRESSED_SV}" in svg  # the text alternative says so too


def test_bars_hatch_a_hidden_share() -> None:
    svg = str(bars_svg(_report()))
    assert svg.count('fill="url(#hatch)"') == 1
    # Hälsa is hidden only to protect a small group: it must not be called "färre än 5"
    assert f"Hälsa: {COMPLEMENT_SV}" in svg and "Bemötande: 50 %" in svg
    assert SUPPRESSED_SV not in svg


def test_trend_legend_names_every_series_drawn() -> None:
    """The legend once ran off the chart after three of six names: now a list of all of them."""
    report = _report()
    extra = [
        ThemeRow(
            key=f"tema{i}",
            label=f"Ett långt temanamn <{i}> & mer",
            respondents=30 - i,
            share=0.3,
            sentiment={},
            trend={"202601": 10 + i, "202602": 8, "202603": 9, "202604": 7},
            hidden={},
        )
        for i in range(7)
    ]
    report.themes = [report.themes[0], *extra, report.themes[1]]
    svg, legend = str(trend_svg(report)), str(trend_legend(report))
    drawn = re.findall(r'<g class="series" data-theme="([^"]+)"', svg)
    named = re.findall(r'<li data-theme="([^"]+)"', legend)
    assert len(drawn) == MAX_SERIES and named == drawn
    assert "halsa" not in named  # a theme with a hidden total is neither drawn nor named
    assert "Ett långt temanamn &lt;0&gt; &amp; mer" in legend and "<0>" not in legend
    assert 'aria-hidden="true"' in legend  # the swatches are decoration; the label is the text
    assert "Ett långt" not in svg.split("</desc>")[1]  # no clipped SVG legend any more
