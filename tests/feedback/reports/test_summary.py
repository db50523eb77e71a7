"""The summary: figures with their bases, hidden exactly as in the report, change vs the period before."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from feedback.reports.filters import ReportFilters
from feedback.reports.queries import ThemeReport, ThemeRow
from feedback.reports.summary import NO_PREVIOUS_SV, OTHER_UNITS_SV, previous_filters, summarise

UNITS = [{"id": "u1", "name": "Norra"}]


def _theme(
    key: str, people: int | None, share: float | None, hidden: dict[str, str] | None = None
) -> ThemeRow:
    return ThemeRow(
        key=key,
        label=key.capitalize(),
        respondents=people,
        share=share,
        sentiment={},
        trend={},
        hidden=hidden or {},
    )


def _report(
    *,
    themes: list[ThemeRow] | None = None,
    rate: tuple[float | None, dict[str, str], Any] = (0.5, {}, None),
    satisfaction: float | None = 0.8,
    sustained: tuple[float | None, dict[str, str], Any] = (0.9, {}, None),
    units: list[dict[str, str]] = UNITS,
    period: tuple[str, str] = ("2026-01-01", "2026-11-30"),
) -> ThemeReport:
    share, hidden, bounds = rate
    total = {
        "asked": 40,
        "respondents": None if share is None else 20,
        "response_rate": share,
        "response_rate_range": bounds,
        "hidden": hidden,
    }
    kept, kept_hidden, kept_range = sustained
    return ThemeReport(
        filters={"date_from": period[0], "date_to": period[1]},
        units=units,
        generated_at="2026-11-22T10:00:00+00:00",
        respondents=50,
        periods=[],
        trend_totals={},
        sentiment_totals={},
        themes=themes if themes is not None else [_theme("a", 30, 0.6), _theme("b", 20, 0.4)],
        skr=[
            {
                "question_key": "satisfaction",
                "label": "Nöjd",
                "positive": None if satisfaction is None else 40,
                "base": 50,
                "share": satisfaction,
                "share_range": None,
                "dont_know": 0,
                "hidden": {} if satisfaction is not None else {"positive": "small"},
            }
        ],
        waves={},
        cohort={"breakdowns": [], "total": total},
        sustained=[
            {"months": 12, "base": 60, "share": kept, "share_range": kept_range, "hidden": kept_hidden}
        ],
        unit_respondents=[],
        merge_suggestions=[],
    )


def _filters(start: date, end: date) -> ReportFilters:
    return ReportFilters(date_from=start, date_to=end)


@pytest.mark.parametrize(
    ("start", "end", "before"),
    [
        (date(2026, 1, 1), date(2026, 11, 30), (date(2025, 2, 1), date(2025, 12, 31))),
        (date(2026, 3, 1), date(2026, 3, 31), (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2024, 3, 10), date(2024, 4, 2), (date(2024, 1, 1), date(2024, 2, 29))),  # snapped first
    ],
)
def test_previous_period_has_equal_length_in_whole_months(
    start: date, end: date, before: tuple[date, date]
) -> None:
    previous = previous_filters(_filters(start, end))
    assert (previous.date_from, previous.date_to) == before


def test_each_figure_names_its_base() -> None:
    summary = summarise(_report(), None)
    figures = {f["key"]: f for f in summary["figures"]}
    assert figures["response_rate"]["base"]["code"] == "tillfragade"
    assert figures["response_rate"]["base"]["count"] == {"value": 40, "hidden": None}
    assert figures["satisfaction"]["base"]["code"] == "svarade"
    assert figures["sustained_12"]["base"] == {
        "code": "foljbara_avslut",
        "term": "Avslut som kan följas upp",
        "count": {"value": 60, "hidden": None},
    }
    assert summary["themes_base"]["code"] == "skrev_sjalva"
    assert summary["change"] is None and summary["change_note"] == NO_PREVIOUS_SV


def test_hidden_in_the_report_is_hidden_in_the_summary_with_the_same_reason() -> None:
    report = _report(
        rate=(None, {"respondents": "small", "response_rate": "small"}, None),
        satisfaction=None,
        sustained=(None, {"sustained": "complement", "returned": "small"}, (0.95, 0.98)),
        themes=[_theme("a", None, None, {"respondents": "complement", "share": "complement"})],
    )
    summary = summarise(report, None)
    figures = {f["key"]: f["share"] for f in summary["figures"]}
    assert figures["response_rate"] == {"value": None, "hidden": "small", "range": None}
    assert figures["satisfaction"] == {"value": None, "hidden": "small", "range": None}
    assert figures["sustained_12"] == {"value": None, "hidden": "complement", "range": [0.95, 0.98]}
    assert summary["top_themes"][0]["respondents"] == {"value": None, "hidden": "complement"}


def test_top_themes_are_the_first_three_in_report_order() -> None:
    themes = [_theme(k, 10 - i, (10 - i) / 50) for i, k in enumerate("abcd")]
    assert [t["key"] for t in summarise(_report(themes=themes), None)["top_themes"]] == ["a", "b", "c"]


def test_biggest_change_uses_only_shares_both_periods_show() -> None:
    now = _report(themes=[_theme("a", 30, 0.60), _theme("b", 5, 0.10)], rate=(0.52, {}, None))
    before = _report(
        themes=[_theme("a", 10, 0.20), _theme("b", None, None, {"respondents": "small", "share": "small"})],
        rate=(0.50, {}, None),
        period=("2025-02-01", "2025-12-31"),
    )
    change = summarise(now, before)["change"]
    assert change is not None
    assert (change["key"], change["points"]) == ("theme.a", 40)
    assert change["base"]["code"] == "skrev_sjalva"
    # a share hidden in the earlier period is never compared, however large the move would be
    hidden_now = _report(themes=[_theme("a", None, None, {"share": "complement"})], rate=(0.9, {}, None))
    change = summarise(hidden_now, before)["change"]
    assert change is not None and change["key"] == "response_rate" and change["points"] == 40


def test_no_comparison_when_the_units_were_grouped_differently() -> None:
    before = _report(units=[*UNITS, {"id": "u2", "name": "Lilla"}], period=("2025-02-01", "2025-12-31"))
    summary = summarise(_report(), before)
    assert summary["change"] is None and summary["change_note"] == OTHER_UNITS_SV
