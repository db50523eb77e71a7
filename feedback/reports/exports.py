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
from feedback.reports.document import cell_text, report_document, share_text
from feedback.reports.filters import ReportFilters
from feedback.reports.queries import ThemeReport, current_theme_labels, open_text_conditions
from feedback.reports.suppression import MIN_PEOPLE
from feedback.themes.models import OpenTextTheme
from surveys.answers.models import OpenText

MAX_EXPORT_ROWS = 200_000


def themes_csv(report: ThemeReport, summary: dict[str, Any] | None = None) -> bytes:
    """The theme table (sub-themes follow their theme), then per unit, the summary and the survey
    tables: all from the same document as the JSON API, with the page's words for hidden cells."""
    doc = report_document(report, summary)
    rows = _theme_rows(doc)
    if len(doc["unit_respondents"]) > 1:  # the same per-unit numbers as the page, suppressed alike
        rows.append([])
        rows.append(["enhet", "", "", "antal_personer", ""])
        rows += [[u["name"], "", "", cell_text(u["respondents"]), ""] for u in doc["unit_respondents"]]
    for section in (
        _summary_rows(doc),
        _skr_rows(doc),
        _wave_rows(doc),
        _cohort_rows(doc),
        _sustained_rows(doc),
    ):
        if section:
            rows += [[], *section]
    return excel_csv(rows)


def _theme_rows(doc: dict[str, Any]) -> list[list[Any]]:
    periods = doc["periods"]
    header = ["tema", "nyckel", "huvudtema", "antal_personer", "andel_procent"]
    header += [f"sentiment_{s['label'].lower().replace(' ', '_')}" for s in doc["sentiments"]]
    header += [p["label"] for p in periods]
    rows: list[list[Any]] = [header]
    for row in doc["themes"]:
        rows.append(
            [row["label"], row["key"], row["parent"] or "", cell_text(row["respondents"])]
            + [_pct(row["share"])]
            + [cell_text(row["sentiment"][s["key"]]) for s in doc["sentiments"]]
            + [cell_text(row["trend"][p["code"]]) for p in periods]
        )
    rows.append(
        ["Alla svarande", "", "", cell_text(doc["respondents"]), ""]
        + [cell_text(doc["sentiment_totals"][s["key"]]) for s in doc["sentiments"]]
        + [cell_text(doc["trend_totals"][p["code"]]) for p in periods]
    )
    return rows


def _pct(item: dict[str, Any]) -> str:
    return share_text(item, percent_sign=False)


def _base_text(base: dict[str, Any]) -> list[str]:
    return [base["term"], cell_text(base["count"])]


def _summary_rows(doc: dict[str, Any]) -> list[list[Any]]:
    summary = doc["summary"]
    if not summary:
        return []
    rows: list[list[Any]] = [["Sammanfattning"], ["mått", "andel_procent", "underlag", "antal_i_underlaget"]]
    rows += [[f["label"], _pct(f["share"]), *_base_text(f["base"])] for f in summary["figures"]]
    rows += [
        [f"Vanligt tema: {t['label']}", _pct(t["share"]), *_base_text(summary["themes_base"])]
        for t in summary["top_themes"]
    ]
    change = summary["change"]
    if change is not None:
        period = summary["previous_period"]
        rows.append(
            [
                f"Störst förändring sedan {period['date_from']} – {period['date_to']}: {change['label']}",
                _change_text(change),
                *_base_text(change["base"]),
            ]
        )
    else:
        rows.append(["Störst förändring sedan förra perioden", summary["change_note"], "", ""])
    return rows


def _change_text(change: dict[str, Any]) -> str:
    """In words, not "+5"/"-5": a cell starting with a sign would be read as a formula."""
    before, now = round(change["previous"] * 100), round(change["current"] * 100)
    if change["points"] == 0:
        return f"oförändrat ({now} %)"
    direction = "upp" if change["points"] > 0 else "ned"
    return f"{direction} {abs(change['points'])} procentenheter (från {before} % till {now} %)"


def _skr_rows(doc: dict[str, Any]) -> list[list[Any]]:
    if not doc["skr"]:
        return []
    rows: list[list[Any]] = [
        ["Andel positiva svar (SKR)"],
        ["fråga", "positiva_svar", "underlag_personer", "andel_positiva_procent", "vet_inte"],
    ]
    rows += [
        [
            r["label"],
            cell_text(r["positive"]),
            cell_text(r["base"]),
            _pct(r["share"]),
            cell_text(r["dont_know"]),
        ]
        for r in doc["skr"]
    ]
    return rows


def _wave_rows(doc: dict[str, Any]) -> list[list[Any]]:
    waves = doc["waves"]
    if not waves["rows"]:
        return []
    columns = waves["columns"]
    rows: list[list[Any]] = [
        ["Svarsfrekvens per uppföljning"],
        ["uppföljning", *[c["label"] for c in columns], "totalt", "svarsfrekvens_procent"],
    ]
    for r in waves["rows"]:
        cells = [cell_text(r["cells"][c["key"]]) for c in columns]
        rows.append([r["label"], *cells, cell_text(r["total"]), _pct(r["response_rate"])])
    totals = [cell_text(waves["totals"][c["key"]]) if c["key"] in waves["totals"] else "" for c in columns]
    rows.append(["Alla uppföljningar", *totals, cell_text(waves["grand_total"]), ""])
    return rows


COHORT_HEADER = [
    "avslutade",
    "tillfrågade",
    "svarade",
    "svarade_inte",
    "ej_tillfrågade",
    "svarsfrekvens_procent",
]


def _cohort_line(row: dict[str, Any]) -> list[Any]:
    counts = [cell_text(row[k]) for k in ("cohort", "asked", "respondents", "non_respondents", "never_asked")]
    return [row["label"], *counts, _pct(row["response_rate"])]


def _cohort_rows(doc: dict[str, Any]) -> list[list[Any]]:
    cohort = doc["cohort"]
    rows: list[list[Any]] = []
    for b in cohort["breakdowns"]:
        if rows:
            rows.append([])
        rows += [
            [f"Svarande jämfört med alla avslut, per {b['title'].lower()}"],
            [b["title"].lower(), *COHORT_HEADER],
        ]
        rows += [_cohort_line(r) for r in b["rows"]]
        if cohort["total"] is not None:
            rows.append(_cohort_line(cohort["total"]))
    if cohort.get("too_small") and cohort["total"] is not None:  # hidden as a whole: the total only
        rows += [["Svarande jämfört med alla avslut"], ["", *COHORT_HEADER], _cohort_line(cohort["total"])]
    return rows


def _sustained_rows(doc: dict[str, Any]) -> list[list[Any]]:
    if not doc["sustained"]:
        return []
    rows: list[list[Any]] = [
        ["Varaktig självförsörjning (ej återaktualiserade efter avslut)"],
        [
            "månader_efter_avslut",
            "avslut_som_kan_följas_upp",
            "ej_återaktualiserade",
            "återaktualiserade",
            "andel_procent",
        ],
    ]
    rows += [
        [
            r["months"],
            cell_text(r["base"]),
            cell_text(r["sustained"]),
            cell_text(r["returned"]),
            _pct(r["share"]),
        ]
        for r in doc["sustained"]
    ]
    return rows


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
