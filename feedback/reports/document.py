"""The computed theme report as one plain document: the shape of the JSON API and of the CSV.

Why a serializer of its own: the page, the CSV, the PDF and ``GET /api/reports/themes`` must show
the same numbers, hidden the same way. All of them start from one ``ThemeReport`` (already
suppressed) and its summary; this module turns that into plain data once, so the JSON and the
CSV cannot drift apart from each other or from the page.

Every number is a *cell*: ``{"value": n, "hidden": None}`` when shown, ``{"value": None,
"hidden": "small" | "complement" | "table"}`` when hidden. A share cell has ``range`` too: the bounds a
hidden share is published with ("minst 95 %"), or None. Free text appears only as quotes the
writer agreed to, already redacted (``ThemeRow.quotes``).

Framework-free (no web imports), so review snapshots or a worker could use it as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from feedback.reports.queries import SENTIMENT_LABELS_SV, SENTIMENTS, ThemeReport, ThemeRow
from feedback.reports.suppression import COMPLEMENT, SMALL, TABLE, hidden_label

Cell = dict[str, Any]


def reason_code(reason: object) -> str | None:
    """The public reason code of a hidden number: ``small``, ``complement`` or ``table``.

    ``table``: the number belongs to a table of fewer than five people, hidden as a whole (only
    its total is said to be small). A hidden number without a known reason is reported as a
    complement (hidden to protect someone): never as "fewer than five", which would be a claim
    about its size.
    """
    if not reason:
        return None
    return reason if reason in (SMALL, TABLE) else COMPLEMENT


def cell(value: int | None, reason: object = None) -> Cell:
    """A count; hidden when ``value`` is None and there is a reason."""
    return {"value": value, "hidden": reason_code(reason) if value is None else None}


def share_cell(value: float | None, reason: object = None, bounds: object = None) -> Cell:
    """A share in 0..1; a hidden one may carry the published range it lies in."""
    hidden = reason_code(reason) if value is None else None
    shown_range = None
    if value is None and isinstance(bounds, list | tuple) and len(bounds) == 2:
        shown_range = [float(bounds[0]), float(bounds[1])]
        hidden = hidden or COMPLEMENT
    return {"value": value, "hidden": hidden, "range": shown_range}


def share_label(value: float | None, reason: object = None, bounds: object = None) -> str:
    """A share as the page writes it ("45 %", "minst 95 %", or why it is hidden)."""
    if value is not None:
        return f"{round(value * 100)} %"
    if isinstance(bounds, list | tuple) and len(bounds) == 2:
        low, high = float(bounds[0]), float(bounds[1])
        if high >= 0.5:
            return f"minst {math.floor(low * 100)} %"
        return f"högst {math.ceil(high * 100)} %"
    return hidden_label(reason)


def cell_text(item: Cell) -> str:
    """A count cell as the page and the CSV write it."""
    return hidden_label(item["hidden"]) if item["value"] is None else str(item["value"])


def share_text(item: Cell, *, percent_sign: bool = True) -> str:
    """A share cell as written on the page (``percent_sign``) or in a CSV "_procent" column."""
    if item["value"] is not None and not percent_sign:
        return f"{round(item['value'] * 100)}"
    if item["value"] is None and item["range"] is None and item["hidden"] is None:
        return ""  # nothing to divide by: no share, nothing hidden
    return share_label(item["value"], item["hidden"], item["range"])


# ---------------------------------------------------------------- sections
def _theme(row: ThemeRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "parent": row.parent,
        "respondents": cell(row.respondents, row.hidden.get("respondents")),
        "share": share_cell(row.share, row.hidden.get("share")),
        "sentiment": {s: cell(row.sentiment[s], row.hidden.get(f"sentiment.{s}")) for s in SENTIMENTS},
        "trend": {p: cell(v, row.hidden.get(f"trend.{p}")) for p, v in row.trend.items()},
        "quotes": list(row.quotes),
    }


def themes(report: ThemeReport) -> list[dict[str, Any]]:
    """Theme rows, each main theme followed by its sub-themes (as in the page's table)."""
    return [_theme(row) for theme in report.themes for row in [theme, *theme.sub_themes]]


def skr(report: ThemeReport) -> list[dict[str, Any]]:
    return [
        {
            "question_key": row["question_key"],
            "label": row["label"],
            "positive": cell(row["positive"], row["hidden"].get("positive")),
            "base": cell(row["base"], row["hidden"].get("base")),
            "share": share_cell(row["share"], row["hidden"].get("positive"), row.get("share_range")),
            "dont_know": cell(row["dont_know"], row["hidden"].get("dont_know")),
        }
        for row in report.skr
    ]


def waves(report: ThemeReport) -> dict[str, Any]:
    columns = list(report.waves.get("columns", []))
    keys = [c["key"] for c in columns]
    totals_hidden = report.waves.get("totals_hidden", {})
    totals = report.waves.get("totals", {})
    return {
        "columns": columns,
        "rows": [
            {
                "wave": row["wave"],
                "label": row["label"],
                "cells": {k: cell(row["cells"][k], row["hidden"].get(k)) for k in keys},
                "total": cell(row["total"], row["hidden"].get("total")),
                "response_rate": share_cell(row["response_rate"], row["hidden"].get("response_rate")),
            }
            for row in report.waves.get("rows", [])
        ],
        "totals": {k: cell(totals.get(k), totals_hidden.get(k)) for k in keys if k in totals},
        "grand_total": cell(report.waves.get("grand_total"), totals_hidden.get("total")),
        "too_small": bool(report.waves.get("too_small")),
    }


COHORT_FIELDS = ("cohort", "asked", "respondents", "non_respondents", "never_asked")


def _cohort_row(row: dict[str, Any], label: str) -> dict[str, Any]:
    hidden = row["hidden"]
    out: dict[str, Any] = {"label": label}
    out |= {name: cell(row[name], hidden.get(name)) for name in COHORT_FIELDS}
    rate = share_cell(row["response_rate"], hidden.get("response_rate"), row.get("response_rate_range"))
    out["response_rate"] = rate
    return out


def cohort(report: ThemeReport) -> dict[str, Any]:
    total = report.cohort.get("total")
    return {
        "breakdowns": [
            {
                "key": b["key"],
                "title": b["title"],
                "rows": [_cohort_row(row, row["label"]) for row in b["rows"]],
            }
            for b in report.cohort.get("breakdowns", [])
        ],
        "total": _cohort_row(total, "Totalt") if total else None,
        "too_small": bool(report.cohort.get("too_small")),
        "all_waves": bool(report.cohort.get("all_waves")),
    }


def sustained(report: ThemeReport) -> list[dict[str, Any]]:
    return [
        {
            "months": row["months"],
            "base": cell(row["base"], row["hidden"].get("base")),
            "sustained": cell(row["sustained"], row["hidden"].get("sustained")),
            "returned": cell(row["returned"], row["hidden"].get("returned")),
            "share": share_cell(
                row["share"],
                row["hidden"].get("sustained") or row["hidden"].get("base"),
                row.get("share_range"),
            ),
        }
        for row in report.sustained
    ]


def report_document(report: ThemeReport, summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole computed report (and its summary) as plain, JSON-ready data."""
    hidden = report.hidden
    return {
        "filters": dict(report.filters),
        "generated_at": report.generated_at,
        "min_people": report.min_people,
        "units": [dict(u) for u in report.units],
        "merged_units": [{"unit_ids": g["unit_ids"], "names": g["names"]} for g in report.merged_units],
        "merge_suggestions": [
            {"unit_ids": g["unit_ids"], "names": g["names"], "enough": g["enough"]}
            for g in report.merge_suggestions
        ],
        "definitions": [dict(d) for d in report.definitions],
        "bases": dict(report.bases),
        "summary": summary,
        "respondents": cell(report.respondents, hidden.get("respondents")),
        "themes_hidden_whole": report.themes_hidden_whole,
        "periods": [dict(p) for p in report.periods],
        "sentiments": [{"key": s, "label": SENTIMENT_LABELS_SV[s]} for s in SENTIMENTS],
        "themes": themes(report),
        "sentiment_totals": {
            s: cell(report.sentiment_totals[s], hidden.get(f"sentiment.{s}")) for s in SENTIMENTS
        },
        "trend_totals": {p: cell(v, hidden.get(f"trend.{p}")) for p, v in report.trend_totals.items()},
        "unit_respondents": [
            {
                "unit_id": u["unit_id"],
                "name": u["name"],
                "respondents": cell(u["respondents"], u["hidden"].get("respondents")),
            }
            for u in report.unit_respondents
        ],
        "skr": skr(report),
        "waves": waves(report),
        "cohort": cohort(report),
        "sustained": sustained(report),
    }


def all_cells(document: Any, path: str = "") -> Iterable[tuple[str, Cell]]:
    """Every cell of a document with its path (``themes.0.respondents``): for checks and tests."""
    if isinstance(document, dict):
        if "value" in document and "hidden" in document:
            yield path, document
            return
        for key, value in document.items():
            yield from all_cells(value, f"{path}.{key}" if path else str(key))
    elif isinstance(document, list):
        for i, value in enumerate(document):
            yield from all_cells(value, f"{path}.{i}" if path else str(i))
