"""Survey sections of the theme report: SKR shares, waves, the closure cohort, sustained outcomes.

Each section is suppressed on its own (they count different things: answers to scale questions,
follow-ups, closures), with every total it shows part of the same ``protect`` system.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Unit
from feedback.reports.filters import STOCKHOLM, ReportFilters
from feedback.reports.suppression import (
    SMALL,
    TABLE,
    TOTAL,
    Line,
    protect_table,
    reasons,
    share_range,
    suppress_series,
    suppress_table,
    tiny_table,
)
from surveys.answers.models import Answer
from surveys.closures.models import (
    FOLLOWED_UP_REASONS,
    LANGUAGE_LABELS_SV,
    REASON_LABELS_SV,
    Client,
    Closure,
)
from surveys.conversations.machine import DISPOSITION_LABELS_SV
from surveys.conversations.models import Conversation
from surveys.phone.models import CallTask
from surveys.plans.models import FollowUp, FollowUpStatus

QUESTION_LABELS_SV = {
    "satisfaction": "Nöjd med stödet (helhetssyn)",
    "respect": "Lyssnad på och respekterad (bemötande)",
    "influence": "Fick vara med och bestämma (delaktighet)",
    "cooperation": "Bra samarbete med andra (samverkan)",
}
WAVE_LABELS_SV = {30: "1 månad", 90: "3 månader", 180: "6 månader", 365: "12 månader"}
DISPOSITIONS = ("complete", "partial", "no_response", "refused", "opted_out", "unreachable", "skipped")
DISPOSITION_SV = {**{str(k): v for k, v in DISPOSITION_LABELS_SV.items()}, "skipped": "Ej kontaktad"}
ANSWERED = ("complete", "partial")
CALL_TO_DISPOSITION = {
    "completed": "complete",
    "declined": "refused",
    "no_answer": "no_response",
    "busy": "no_response",
    "wrong_number": "unreachable",
}
HORIZONS = ((1, 30), (3, 91), (6, 182), (12, 365))


async def build(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID] | None, *, now: datetime
) -> dict[str, Any]:
    return {
        "skr": await skr_shares(session, filters, units),
        "waves": await waves(session, filters, units),
        "cohort": await cohort(session, filters, units),
        "sustained": await sustained(session, filters, units, today=now.astimezone(STOCKHOLM).date()),
    }


def _answer_conditions(filters: ReportFilters, units: list[uuid.UUID] | None) -> list[Any]:
    conds: list[Any] = [Answer.answered_at >= filters.start_utc, Answer.answered_at < filters.end_utc]
    if units is not None:
        conds.append(Answer.unit_id.in_(units))
    if filters.channel in ("sms", "phone"):
        conds.append(Answer.mode == filters.channel)
    if filters.wave_days is not None:
        conds.append(Answer.wave_days == filters.wave_days)
    return conds


def _closure_conditions(filters: ReportFilters, units: list[uuid.UUID] | None) -> list[Any]:
    conds: list[Any] = []
    if units is not None:
        conds.append(Closure.unit_id.in_(units))
    if filters.closure_reason:
        conds.append(Closure.reason == filters.closure_reason)
    if filters.language:
        conds.append(Client.language == filters.language)
    return conds


async def people_answering(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Distinct people (closures) per unit who answered a scale or yes/no question under ``filters``."""
    if filters.channel == "panel":
        return {}
    query = (
        sa.select(Answer.unit_id, sa.func.count(sa.distinct(Answer.closure_id)))
        .join(Closure, Closure.id == Answer.closure_id)
        .join(Client, Client.id == Closure.client_id)
        .where(*_answer_conditions(filters, units), *_closure_conditions(filters, units))
        .where(sa.or_(Answer.is_positive.is_not(None), Answer.dont_know.is_(True)))
        .group_by(Answer.unit_id)
    )
    return {u: int(n) for u, n in await session.execute(query)}


def _cohort_status() -> Any:
    """Per closure: 2 = svarade, 1 = tillfrågade but no answer, 0 = never asked (see definitions).

    Answers count whenever they came (a cohort is followed wherever its answers fall), in any
    wave and by any channel: the wave and channel filters do not apply to the cohort. Why: those
    filters move people between "svarade", "svarade inte" and "ej tillfrågade" while the
    avslutade stay the same, so two reports a filter apart showed the same people split two ways,
    and together they could pin a hidden small cell (issue 14; found by
    ``tests/feedback/reports/test_no_differencing.py``). The per-wave and per-channel response
    is in the waves table, which counts follow-ups. Asked means a contact attempt: an SMS
    conversation was started or a call was made for one of the closure's follow-ups; anyone who
    answered was asked.
    """
    answered = sa.select(Answer.closure_id)
    sms = sa.select(Conversation.closure_id)
    calls = sa.select(CallTask.closure_id).where(CallTask.attempts > 0)
    return sa.case(
        (Closure.id.in_(answered), 2),
        (Closure.id.in_(sa.union_all(sms, calls)), 1),
        else_=0,
    )


COHORT_COLUMNS = {2: "resp", 1: "non", 0: "never"}


async def _cohort_rows(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID] | None
) -> list[tuple[Any, str, str, str, int]]:
    status = _cohort_status().label("status")
    query = (
        sa.select(Closure.unit_id, Closure.reason, Client.language, status, sa.func.count())
        .join(Client, Client.id == Closure.client_id)
        .where(Closure.closed_on >= filters.date_from, Closure.closed_on <= filters.date_to)
        .where(*_closure_conditions(filters, units))
        .group_by(Closure.unit_id, Closure.reason, Client.language, status)
    )
    return [
        (u, str(r), str(lang), COHORT_COLUMNS[int(st)], int(n))
        for u, r, lang, st, n in await session.execute(query)
    ]


async def cohort_people(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID]
) -> dict[uuid.UUID, list[int]]:
    """Per unit, the cohort table's numbers: avslutade, tillfrågade, svarade, svarade inte, ej tillfrågade."""
    if filters.channel == "panel":
        return {}
    by_unit: dict[uuid.UUID, dict[str, int]] = {}
    for u, _r, _lang, col, n in await _cohort_rows(session, filters, units):
        cells = by_unit.setdefault(u, {})
        cells[col] = cells.get(col, 0) + n
    out = {}
    for u, c in by_unit.items():
        resp, non, never = c.get("resp", 0), c.get("non", 0), c.get("never", 0)
        out[u] = [resp + non + never, resp + non, resp, non, never]
    return out


async def skr_shares(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID] | None
) -> list[dict[str, Any]]:
    """SKR "andel positiva svar": positive / (positive + negative); "vet inte" is outside the base."""
    if filters.channel == "panel":
        return []
    # One answer per person and question, the latest: someone who answered at 1 and 3 months is
    # one person in the base (it counted 143 people where there were 120).
    category = sa.case(
        (Answer.dont_know.is_(True), "dont_know"), (Answer.is_positive.is_(True), "pos"), else_="neg"
    )
    latest = sa.func.row_number().over(
        partition_by=(Answer.closure_id, Answer.question_key),
        order_by=(Answer.answered_at.desc(), Answer.id.desc()),
    )
    each = (
        sa.select(Answer.question_key, category.label("category"), latest.label("n"))
        .join(Closure, Closure.id == Answer.closure_id)
        .join(Client, Client.id == Closure.client_id)
        .where(*_answer_conditions(filters, units), *_closure_conditions(filters, units))
        .where(sa.or_(Answer.is_positive.is_not(None), Answer.dont_know.is_(True)))
        .subquery()
    )
    query = (
        sa.select(each.c.question_key, each.c.category, sa.func.count())
        .where(each.c.n == 1)
        .group_by(each.c.question_key, each.c.category)
    )
    counts: dict[str, dict[str, int]] = {}
    for key, cat, people in await session.execute(query):
        counts.setdefault(key, {})[cat] = int(people)
    out = []
    for key in sorted(
        counts, key=lambda k: (list(QUESTION_LABELS_SV).index(k) if k in QUESTION_LABELS_SV else 99, k)
    ):
        c = counts[key]
        pos, neg = c.get("pos", 0), c.get("neg", 0)
        series = suppress_series({"pos": pos, "neg": neg}, total=pos + neg)
        dont_know = suppress_series({"dk": c.get("dont_know", 0)})
        shown_pos, base = series.values["pos"], series.total
        hidden = {
            name: why
            for name, why in (
                ("positive", series.why("pos")),
                ("base", series.why(TOTAL)),
                ("dont_know", dont_know.why("dk")),
            )
            if why
        }
        out.append(
            {
                "question_key": key,
                "label": QUESTION_LABELS_SV.get(key, key),
                "positive": shown_pos,
                "base": base,
                "share": (shown_pos / base) if shown_pos is not None and base else None,
                "share_range": _series_range(series, "pos", "neg"),
                "dont_know": dont_know.values["dk"],
                "hidden": hidden,
            }
        )
    return out


def _rate_reason(hidden: dict[str, str], parts: list[str]) -> str | None:
    """Why a rate is hidden: the reason of the first hidden number it is made from, if any.

    The rate itself is not a count, so it is "small" only when one of its own parts is.
    """
    return next((hidden[p] for p in parts if p in hidden), None)


def _series_range(series: Any, part: str, other: str) -> tuple[float, float] | None:
    """``share_range`` for ``part`` of a two-category series when it is hidden but its base is not."""
    if series.values[part] is not None or series.total is None:
        return None
    if series.why(part) == SMALL and series.why(other) is not None:
        return share_range(series.total, small_part=True)
    if series.why(other) == SMALL:
        return share_range(series.total, small_part=False)
    return None


async def waves(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID] | None
) -> dict[str, Any]:
    """Follow-ups due in the period by wave and disposition; response rate per wave."""
    if filters.channel == "panel":
        return {"rows": [], "columns": [], "totals": {}, "grand_total": None}
    query = (
        sa.select(
            FollowUp.wave_days,
            FollowUp.status,
            Conversation.disposition,
            Conversation.is_open,
            CallTask.last_outcome,
            sa.func.count(),
        )
        .select_from(FollowUp)
        .join(Closure, Closure.id == FollowUp.closure_id)
        .join(Client, Client.id == Closure.client_id)
        .outerjoin(Conversation, Conversation.follow_up_id == FollowUp.id)
        .outerjoin(CallTask, CallTask.follow_up_id == FollowUp.id)
        .where(FollowUp.due_on >= filters.date_from, FollowUp.due_on <= filters.date_to)
        .where(FollowUp.status.in_([FollowUpStatus.DONE, FollowUpStatus.SKIPPED, FollowUpStatus.STARTED]))
        .where(*_closure_conditions(filters, units))
        .group_by(
            FollowUp.wave_days,
            FollowUp.status,
            Conversation.disposition,
            Conversation.is_open,
            CallTask.last_outcome,
        )
    )
    if units is not None:
        query = query.where(FollowUp.unit_id.in_(units))
    if filters.wave_days is not None:
        query = query.where(FollowUp.wave_days == filters.wave_days)
    counts: dict[tuple[int, str], int] = {}
    for wave, status, disposition, _is_open, call_outcome, n in await session.execute(query):
        if call_outcome is not None and str(call_outcome) in CALL_TO_DISPOSITION:
            bucket = CALL_TO_DISPOSITION[str(call_outcome)]  # the phone step has the final word
        elif disposition is not None:
            bucket = str(disposition)
        elif status == FollowUpStatus.SKIPPED:
            bucket = "skipped"
        else:
            continue  # still in progress: not counted yet
        counts[(int(wave), bucket)] = counts.get((int(wave), bucket), 0) + int(n)
    wave_keys = sorted({w for w, _ in counts})
    if not wave_keys:
        return {"rows": [], "columns": [], "totals": {}, "grand_total": None}
    row_totals = {w: sum(n for (ww, _), n in counts.items() if ww == w) for w in wave_keys}
    col_totals = {d: sum(n for (_, dd), n in counts.items() if dd == d) for d in DISPOSITIONS}
    table = suppress_table(
        counts,
        wave_keys,
        list(DISPOSITIONS),
        row_totals=row_totals,
        col_totals=col_totals,
        grand_total=sum(row_totals.values()),
        listed=True,
    )
    rows = []
    for w in [] if table.whole else wave_keys:  # a table hidden as a whole lists no rows
        cells = {d: table.cell(w, d) for d in DISPOSITIONS}
        answered = [cells[d] for d in ANSWERED]
        total = table.row_totals[w]
        contacted = None if total is None or cells["skipped"] is None else total - cells["skipped"]
        rate = None
        if None not in answered and contacted:
            rate = sum(a for a in answered if a is not None) / contacted
        hidden = {d: why for d in DISPOSITIONS if (why := table.why(w, d))}
        if why := table.why(w, TOTAL):
            hidden["total"] = why
        if rate is None and (why := _rate_reason(hidden, [*ANSWERED, "skipped", "total"])):
            hidden["response_rate"] = why
        rows.append(
            {
                "wave": w,
                "label": WAVE_LABELS_SV.get(w, f"{w} dagar"),
                "cells": cells,
                "total": total,
                "response_rate": rate,
                "hidden": hidden,
            }
        )
    totals_hidden = {d: why for d in DISPOSITIONS if (why := table.why(TOTAL, d))}
    if why := table.why(TOTAL, TOTAL):
        totals_hidden["total"] = why
    return {
        "rows": rows,
        "columns": [{"key": d, "label": DISPOSITION_SV[d]} for d in DISPOSITIONS],
        "totals": table.col_totals,
        "grand_total": table.grand_total,
        "totals_hidden": totals_hidden,
        "too_small": table.whole,
    }


async def cohort(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID] | None
) -> dict[str, Any]:
    """Avslutade in the period, split into svarade, svarade inte and ej tillfrågade (definitions).

    Only the tillfrågade can be non-response: people never asked (closed for another reason, or too
    recently) are a column of their own. The response rate is svarade / tillfrågade. The three
    breakdowns (unit, reason, language) share the column totals and the grand total, so they are
    protected as one system of lines.
    """
    if filters.channel == "panel":
        return {"breakdowns": [], "total": {}, "too_small": False, "all_waves": False}
    raw = await _cohort_rows(session, filters, units)
    names = {u: n for u, n in await session.execute(sa.select(Unit.id, Unit.name))}
    dims = {
        "unit": ("Enhet", lambda row: names.get(row[0], "?")),
        "reason": ("Avslutsorsak", lambda row: REASON_LABELS_SV.get(row[1], row[1])),
        "language": ("Språk", lambda row: LANGUAGE_LABELS_SV.get(row[2], row[2])),
    }
    parts = ("resp", "non", "never")
    values: dict[tuple[str, ...], int] = {}
    lines: list[Line[tuple[str, ...]]] = []

    def add_row(prefix: tuple[str, ...]) -> None:
        for col in parts:
            values.setdefault((*prefix, col), 0)
        values[(*prefix, "asked")] = values[(*prefix, "resp")] + values[(*prefix, "non")]
        values[(*prefix, "all")] = values[(*prefix, "asked")] + values[(*prefix, "never")]
        lines.append(Line(((*prefix, "resp"), (*prefix, "non")), (*prefix, "asked")))
        lines.append(Line(((*prefix, "asked"), (*prefix, "never")), (*prefix, "all")))

    for _u, _r, _lang, col, n in raw:
        values[("T", col)] = values.get(("T", col), 0) + n
    add_row(("T",))
    # the wave and channel filters do not apply to the cohort (``_cohort_status``): say so
    ignored = filters.wave_days is not None or filters.channel is not None
    everyone = values[("T", "all")]
    if tiny_table(everyone):
        return {
            "breakdowns": [],
            "total": _whole_cohort_row(everyone),
            "too_small": True,
            "all_waves": ignored,
        }
    order: dict[str, list[str]] = {}
    for dim, (_, label_of) in dims.items():
        labels: list[str] = []
        for row in raw:
            label = label_of(row)
            if label not in labels:
                labels.append(label)
            key = (dim, label, row[3])
            values[key] = values.get(key, 0) + row[4]
        order[dim] = sorted(labels)
        for label in labels:
            add_row((dim, label))
        for col in (*parts, "asked", "all"):
            lines.append(Line(tuple((dim, label, col) for label in labels), ("T", col)))
    # a row is listed only when someone is in it: the reader knows its avslutade are not 0
    listed = [key for key in values if key[-1] == "all" and values[key] > 0]
    hidden, whole = protect_table(values, lines, positive=listed)
    if whole:
        return {
            "breakdowns": [],
            "total": _whole_cohort_row(everyone),
            "too_small": True,
            "all_waves": ignored,
        }
    why = reasons(values, hidden)
    names_of = {
        "all": "cohort",
        "asked": "asked",
        "resp": "respondents",
        "non": "non_respondents",
        "never": "never_asked",
    }

    def shown(key: tuple[str, ...]) -> int | None:
        return None if key in hidden else values[key]

    def rate_range(prefix: tuple[str, ...]) -> tuple[float, float] | None:
        resp, non, whole = ((*prefix, c) for c in ("resp", "non", "asked"))
        if resp not in hidden or whole in hidden:
            return None
        if why[resp] == SMALL and non in hidden:
            return share_range(values[whole], small_part=True)
        if why.get(non) == SMALL:
            return share_range(values[whole], small_part=False)
        return None

    def cohort_row(prefix: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {name: shown((*prefix, col)) for col, name in names_of.items()}
        resp, asked = out["respondents"], out["asked"]
        out["response_rate"] = resp / asked if resp is not None and asked else None
        out["response_rate_range"] = rate_range(prefix)
        out["hidden"] = {name: why[(*prefix, col)] for col, name in names_of.items() if (*prefix, col) in why}
        if out["response_rate"] is None and (reason := _rate_reason(out["hidden"], ["respondents", "asked"])):
            out["hidden"]["response_rate"] = reason
        return out

    breakdowns = [
        {
            "key": dim,
            "title": title,
            "rows": [{"label": label, **cohort_row((dim, label))} for label in order[dim]],
        }
        for dim, (title, _) in dims.items()
    ]
    return {"breakdowns": breakdowns, "total": cohort_row(("T",)), "too_small": False, "all_waves": ignored}


def _whole_cohort_row(everyone: int) -> dict[str, Any]:
    """The total row of a cohort hidden as a whole: only its avslutade are said ("färre än 5"
    when they are); every other number says "table" (no claim about its size)."""
    names = ("asked", "respondents", "non_respondents", "never_asked", "response_rate")
    small = tiny_table(everyone)
    return {
        "cohort": None if small else everyone,
        "asked": None,
        "respondents": None,
        "non_respondents": None,
        "never_asked": None,
        "response_rate": None,
        "response_rate_range": None,
        "hidden": {**({"cohort": SMALL} if small else {}), **dict.fromkeys(names, TABLE)},
    }


async def sustained(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID] | None, *, today: date
) -> list[dict[str, Any]]:
    """Closures to work or studies not returned to assistance 1/3/6/12 months after closing.

    12 months is comparable with Kolada's "ej återaktualiserade ett år efter avslut". A closure
    counts at a horizon when that horizon's date falls in the period (and has passed), so a yearly
    report measures the 12-month outcome of the closures from the year before.
    """
    if filters.channel == "panel":
        return []
    reasons = [filters.closure_reason] if filters.closure_reason else [str(r) for r in FOLLOWED_UP_REASONS]
    query = (
        sa.select(Closure.closed_on, Closure.returned_on)
        .join(Client, Client.id == Closure.client_id)
        .where(
            Closure.closed_on >= filters.date_from - timedelta(days=365), Closure.closed_on <= filters.date_to
        )
        .where(Closure.reason.in_(reasons))
        .where(*_closure_conditions(filters, units))
    )
    rows = list(await session.execute(query))
    out = []
    for months, days in HORIZONS:
        last = min(filters.date_to, today)
        eligible = [(c, r) for c, r in rows if filters.date_from <= c + timedelta(days=days) <= last]
        kept = sum(1 for c, r in eligible if r is None or r > c + timedelta(days=days))
        series = suppress_series({"kept": kept, "returned": len(eligible) - kept}, total=len(eligible))
        shown_kept, base = series.values["kept"], series.total
        hidden = {
            name: why
            for name, why in (
                ("base", series.why(TOTAL)),
                ("sustained", series.why("kept")),
                ("returned", series.why("returned")),
            )
            if why
        }
        out.append(
            {
                "months": months,
                "base": base,
                "sustained": shown_kept,
                "returned": series.values["returned"],
                "share": shown_kept / base if shown_kept is not None and base else None,
                "share_range": _series_range(series, "kept", "returned"),
                "hidden": hidden,
            }
        )
    return out
