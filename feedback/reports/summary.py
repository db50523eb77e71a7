"""Sammanfattning: the few numbers a manager reads first, each with the base it counts.

Why computed from the finished report and not from the database: a summary figure is one of the
report's own (already suppressed) numbers, so it can never show what the report hides. A figure
hidden in the report is hidden here with the same reason; a hidden share keeps its published
range ("minst 95 %"). The change since the previous period compares two reports of equal length
(whole months, as every report is) and only numbers both of them publish; two reports that a
manager could request one by one reveal nothing new side by side.

Framework-free: the page, the printable report, the CSV and the JSON all render this same dict.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.reports.definitions import (
    DEFINITIONS_SV,
    FOLJBARA_AVSLUT,
    SKREV_SJALVA,
    SVARADE,
    TILLFRAGADE,
)
from feedback.reports.document import cell, share_cell
from feedback.reports.filters import ReportFilters, add_months
from feedback.reports.queries import ThemeReport, build_theme_report

TOP_THEMES = 3
SATISFACTION_KEY = "satisfaction"
SUSTAINED_MONTHS = 12
FIGURE_LABELS_SV = {
    "response_rate": "Svarsfrekvens",
    "satisfaction": "Nöjda med stödet",
    "sustained_12": "Självförsörjande 12 månader efter avslut",
}
NO_PREVIOUS_SV = "Förra perioden kan inte jämföras: den har inga siffror som kan visas för samma mått."
OTHER_UNITS_SV = (
    "Förra perioden kan inte jämföras: enheterna redovisas inte på samma sätt då "
    "(någon enhet har slagits ihop med en annan)."
)


def previous_filters(filters: ReportFilters) -> ReportFilters:
    """The same filters over the period of equal length just before (whole months)."""
    current = filters.snapped()
    months = (
        (current.date_to.year - current.date_from.year) * 12
        + current.date_to.month
        - current.date_from.month
        + 1
    )
    return current.replace(
        date_from=add_months(current.date_from, -months),
        date_to=current.date_from - timedelta(days=1),
    )


def _base(code: str, count: int | None, reason: object = None) -> dict[str, Any]:
    return {"code": code, "term": DEFINITIONS_SV[code][0], "count": cell(count, reason)}


def _figure(key: str, share: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "label": FIGURE_LABELS_SV[key], "share": share, "base": base}


def response_rate(report: ThemeReport) -> dict[str, Any]:
    """Svarade of tillfrågade in the period's cohort (the cohort table's total row)."""
    total = report.cohort.get("total") or {}
    hidden = total.get("hidden", {})
    share = share_cell(
        total.get("response_rate"),
        hidden.get("response_rate"),
        total.get("response_rate_range"),
    )
    return _figure("response_rate", share, _base(TILLFRAGADE, total.get("asked"), hidden.get("asked")))


def satisfaction(report: ThemeReport) -> dict[str, Any]:
    """SKR's "andel positiva" for the overall question, among the people who answered it."""
    row = next((r for r in report.skr if r["question_key"] == SATISFACTION_KEY), None)
    if row is None:
        return _figure("satisfaction", share_cell(None), _base(SVARADE, None))
    hidden = row["hidden"]
    share = share_cell(row["share"], hidden.get("positive") or hidden.get("base"), row.get("share_range"))
    return _figure("satisfaction", share, _base(SVARADE, row["base"], hidden.get("base")))


def sustained_12(report: ThemeReport) -> dict[str, Any]:
    """Not re-registered 12 months after closing to work or studies (comparable with Kolada)."""
    row = next((r for r in report.sustained if r["months"] == SUSTAINED_MONTHS), None)
    if row is None:
        return _figure("sustained_12", share_cell(None), _base(FOLJBARA_AVSLUT, None))
    hidden = row["hidden"]
    share = share_cell(row["share"], hidden.get("sustained") or hidden.get("base"), row.get("share_range"))
    return _figure("sustained_12", share, _base(FOLJBARA_AVSLUT, row["base"], hidden.get("base")))


def figures(report: ThemeReport) -> list[dict[str, Any]]:
    return [response_rate(report), satisfaction(report), sustained_12(report)]


def top_themes(report: ThemeReport) -> list[dict[str, Any]]:
    """The largest main themes in the report's own order (hidden ones stay hidden)."""
    return [
        {
            "key": row.key,
            "label": row.label,
            "respondents": cell(row.respondents, row.hidden.get("respondents")),
            "share": share_cell(row.share, row.hidden.get("share")),
        }
        for row in report.themes[:TOP_THEMES]
    ]


def _themes_base(report: ThemeReport) -> dict[str, Any]:
    return _base(SKREV_SJALVA, report.respondents, report.hidden.get("respondents"))


def _candidates(report: ThemeReport) -> dict[str, tuple[str, float, dict[str, Any]]]:
    """Every share a change can be measured on: key → (label, share, base); shown shares only."""
    out: dict[str, tuple[str, float, dict[str, Any]]] = {}
    for figure in figures(report):
        if figure["share"]["value"] is not None:
            out[figure["key"]] = (figure["label"], figure["share"]["value"], figure["base"])
    for row in report.themes:
        if row.share is not None:
            label = f"Andel som tar upp {row.label.lower()}"
            out[f"theme.{row.key}"] = (label, row.share, _themes_base(report))
    return out


def biggest_change(report: ThemeReport, previous: ThemeReport) -> dict[str, Any] | None:
    """The shown share that moved most, in whole percentage points as the page rounds them."""
    now, before = _candidates(report), _candidates(previous)
    best: dict[str, Any] | None = None
    for key, (label, value, base) in now.items():
        if key not in before:
            continue
        old = before[key][1]
        points = round(value * 100) - round(old * 100)
        if best is None or abs(points) > abs(best["points"]):
            best = {
                "key": key,
                "label": label,
                "current": value,
                "previous": old,
                "points": points,
                "base": base,
                "previous_base": before[key][2],
            }
    return best


def _period(filters: dict[str, Any]) -> dict[str, str]:
    return {"date_from": filters["date_from"], "date_to": filters["date_to"]}


def summarise(report: ThemeReport, previous: ThemeReport | None) -> dict[str, Any]:
    """The summary of ``report``, compared with ``previous`` (same filters, the period before)."""
    change = None
    note = NO_PREVIOUS_SV
    if previous is not None and {u["id"] for u in previous.units} != {u["id"] for u in report.units}:
        note = OTHER_UNITS_SV
    elif previous is not None:
        change = biggest_change(report, previous)
    return {
        "period": _period(report.filters),
        "previous_period": _period(previous.filters) if previous is not None else None,
        "figures": figures(report),
        "top_themes": top_themes(report),
        "themes_base": _themes_base(report),
        "change": change,
        "change_note": None if change is not None else note,
    }


async def build_summary(
    session: AsyncSession,
    filters: ReportFilters,
    scope: frozenset[uuid.UUID] | None,
    report: ThemeReport,
    *,
    now: datetime,
) -> dict[str, Any]:
    """``summarise`` with the previous period's report built under the same filters and scope."""
    previous = await build_theme_report(session, previous_filters(filters), scope, now=now)
    return summarise(report, previous)
