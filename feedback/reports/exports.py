"""Exports of the theme report: CSV theme table, pseudonymous answer-level CSV, PDF.

Every export starts from the same ``ThemeReport`` as the page (already suppressed), so a number
hidden on screen is hidden in every file. The answer-level file holds redacted texts only, for
themes and filters where at least five people wrote, with no per-row breakdown columns, and replaces the respondent key with a
per-export pseudonym (a fresh random salt each time), so two exports cannot be joined.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.csvfiles import excel_csv
from feedback.reports.filters import ReportFilters
from feedback.reports.queries import (
    SENTIMENT_LABELS_SV,
    SENTIMENTS,
    ThemeReport,
    current_theme_labels,
    open_text_conditions,
)
from feedback.reports.suppression import MIN_PEOPLE, display, hidden_label
from feedback.themes.models import OpenTextTheme
from surveys.answers.models import OpenText

MAX_EXPORT_ROWS = 200_000


def _pct(value: float | None, reason: object = None) -> str:
    return hidden_label(reason) if value is None else f"{value * 100:.0f}"


def themes_csv(report: ThemeReport) -> bytes:
    """One row per theme (sub-themes follow their theme): people, share, sentiment, trend."""
    periods = report.periods
    header = ["tema", "nyckel", "huvudtema", "antal_personer", "andel_procent"]
    header += [f"sentiment_{SENTIMENT_LABELS_SV[s].lower().replace(' ', '_')}" for s in SENTIMENTS]
    header += [p["label"] for p in periods]
    rows: list[list[Any]] = [header]
    for theme in report.themes:
        for row in [theme, *theme.sub_themes]:
            rows.append(
                [
                    row.label,
                    row.key,
                    row.parent or "",
                    display(row.respondents, row.hidden.get("respondents")),
                    _pct(row.share, row.hidden.get("share")),
                ]
                + [display(row.sentiment[s], row.hidden.get(f"sentiment.{s}")) for s in SENTIMENTS]
                + [display(row.trend[p["code"]], row.hidden.get(f"trend.{p['code']}")) for p in periods]
            )
    rows.append(
        ["Alla svarande", "", "", display(report.respondents, report.hidden.get("respondents")), ""]
        + [display(report.sentiment_totals[s], report.hidden.get(f"sentiment.{s}")) for s in SENTIMENTS]
        + [display(report.trend_totals[p["code"]], report.hidden.get(f"trend.{p['code']}")) for p in periods]
    )
    if len(report.unit_respondents) > 1:  # the same per-unit numbers as the page, suppressed alike
        rows.append([])
        rows.append(["enhet", "", "", "antal_personer", ""])
        rows += [
            [u["name"], "", "", display(u["respondents"], u["hidden"].get("respondents")), ""]
            for u in report.unit_respondents
        ]
    return excel_csv(rows)


async def answers_csv(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID] | None, report: ThemeReport
) -> tuple[bytes, int]:
    """Answer-level rows with themes, for the themes shown with at least five people.

    Only pseudonym, themes and redacted text: a date, channel, language, closure reason, wave or
    sentiment per row would let anyone tabulate the file and recover cells the report hides (the
    report's filters are the way to see those breakdowns, suppressed). Returns the file and the
    number of rows (for the audit record).
    """
    labels, redirects = await current_theme_labels(session)
    allowed = {
        row.key
        for theme in report.themes
        for row in [theme, *theme.sub_themes]
        if row.respondents is not None and row.respondents >= MIN_PEOPLE
    }
    salt = secrets.token_bytes(16)
    query = (
        sa.select(OpenText.id, OpenText.respondent_key, OpenText.text_redacted, OpenTextTheme.theme_key)
        .join(OpenTextTheme, OpenTextTheme.open_text_id == OpenText.id)
        .where(*open_text_conditions(filters, units))
        .order_by(OpenText.received_at, OpenText.id)
        .limit(MAX_EXPORT_ROWS)
    )
    grouped: dict[uuid.UUID, dict[str, Any]] = {}
    for row in await session.execute(query):
        key = redirects.get(row.theme_key, row.theme_key)
        if key not in allowed:
            continue
        entry = grouped.setdefault(row.id, {"row": row, "themes": []})
        if labels.get(key, key) not in entry["themes"]:
            entry["themes"].append(labels.get(key, key))
    pseudonyms: dict[str, str] = {}
    rows: list[list[Any]] = [["svarande", "teman", "svar"]]
    for entry in grouped.values():
        row = entry["row"]
        person = pseudonyms.setdefault(
            row.respondent_key,
            "P" + hashlib.blake2b(row.respondent_key.encode(), key=salt, digest_size=5).hexdigest(),
        )
        rows.append([person, " | ".join(entry["themes"]), row.text_redacted])
    return excel_csv(rows), len(rows) - 1


def pdf_bytes(html: str, base_url: str) -> bytes:
    """Render the printable report with WeasyPrint (needs pango; see README)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf()
