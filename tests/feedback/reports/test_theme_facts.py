"""The report's compact copy (``report_theme_fact``) always equals the source rows.

The theme report counts from ``report_theme_fact``, which database triggers keep in step with
``open_text`` and ``open_text_theme``. After every kind of write — the theming worker's
assignments, a manager's relabel, a merge and a rename, a re-theme, a changed answer and an
erasure — the copy must hold exactly the rows derived from the source, and the report built from
it must equal the report computed directly from the source rows (in Python, here).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit
from feedback.reports import queries
from feedback.reports.filters import ReportFilters
from feedback.themes import decisions, theming
from feedback.themes.models import (
    SENTIMENT_CODES,
    OpenTextTheme,
    ReportRespondent,
    ReportThemeFact,
    ReportThemeKey,
)
from surveys.answers.models import OpenText
from surveys.answers.service import register_open_text
from tests.helpers import make_unit, make_user

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
THEMES = ["bemotande", "handlaggning", "samverkan", "halsa", "delaktighet"]
SENTIMENTS = ["pos", "neu", "neg", None]


def _plain(text: str) -> str:
    return text


async def _register(session: AsyncSession, units: list[Unit]) -> list[OpenText]:
    """60 answers from 23 people over 2026 in two units, with every filter dimension varied."""
    rows = []
    start = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)
    for i in range(60):
        # a few land on UTC month ends, where the Stockholm month is already the next one
        received = start + timedelta(days=6 * i, hours=(i % 5) * 5)
        if i % 11 == 0:
            received = datetime(2026, 1 + (i % 12), 1, 0, 0, tzinfo=UTC) - timedelta(minutes=30)
        rows.append(
            await register_open_text(
                session,
                channel=("sms", "phone", "panel")[i % 3],
                source_ref=f"fact:{i}",
                unit_id=units[i % 2].id,
                respondent_key=f"person-{i % 23}",
                text=f"Svar nummer {i}",
                received_at=received,
                language=("sv", "en", "ar")[i % 3 if i % 4 else 0],
                wave_days=(30, 90, 180, 365)[i % 4],
                closure_reason=("work", "studies")[i % 2 if i % 3 else 0],
                quote_consent=i % 2 == 0,
                redact=_plain,
            )
        )
    await session.commit()
    return rows


def _result(i: int, salt: int = 0) -> dict[str, Any]:
    """What the model would say for answer ``i``: one or two themes, some with their own sentiment."""
    first = THEMES[(i + salt) % len(THEMES)]
    keys = [first] if i % 3 else [first, THEMES[(i + salt + 2) % len(THEMES)]]
    return {
        "themes": keys,
        "scores": {k: 0.8 for k in keys},
        "evidence": {k: ["ord"] for k in keys},
        "sentiment": SENTIMENTS[(i + salt) % 4],
        "theme_sentiments": {keys[0]: SENTIMENTS[(i + salt + 1) % 4]} if i % 4 == 1 else {},
        "model_version": "test",
    }


# ---------------------------------------------------------------- the reference, from source rows
async def _source_rows(session: AsyncSession) -> list[dict[str, Any]]:
    query = sa.select(
        OpenText.id,
        OpenText.unit_id,
        OpenText.received_at,
        OpenText.channel,
        OpenText.closure_reason,
        OpenText.wave_days,
        OpenText.language,
        OpenText.respondent_key,
        OpenText.sentiment,
        OpenTextTheme.theme_key,
        OpenTextTheme.sentiment.label("theme_sentiment"),
    ).select_from(sa.outerjoin(OpenText, OpenTextTheme, OpenTextTheme.open_text_id == OpenText.id))
    postgres = session.bind.dialect.name == "postgresql"
    out = []
    for row in await session.execute(query):
        values = row._asdict()
        local = values["received_at"].astimezone(STOCKHOLM if postgres else UTC)
        values["month"] = local.year * 100 + local.month  # as stored (UTC on SQLite)
        report_local = values["received_at"].astimezone(STOCKHOLM)
        values["report_month"] = report_local.year * 100 + report_local.month  # as reported, always local
        values["effective_sentiment"] = values["theme_sentiment"] or values["sentiment"] or "none"
        out.append(values)
    return out


async def _fact_rows(session: AsyncSession) -> list[tuple[Any, ...]]:
    query = (
        sa.select(
            ReportThemeFact.open_text_id,
            ReportThemeFact.unit_id,
            ReportThemeFact.received_at,
            ReportThemeFact.period_month,
            ReportThemeFact.channel,
            ReportThemeFact.closure_reason,
            ReportThemeFact.wave_days,
            ReportThemeFact.language,
            ReportThemeKey.key,
            ReportThemeFact.sentiment,
            ReportRespondent.key,
        )
        .join(ReportRespondent, ReportRespondent.id == ReportThemeFact.respondent)
        .outerjoin(ReportThemeKey, ReportThemeKey.id == ReportThemeFact.theme_id)
    )
    return sorted((tuple(r) for r in await session.execute(query)), key=repr)


def _expected_fact_rows(source: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            (
                r["id"],
                r["unit_id"],
                r["received_at"],
                r["month"],
                str(r["channel"]),
                r["closure_reason"],
                r["wave_days"],
                r["language"],
                r["theme_key"],
                SENTIMENT_CODES.get(r["effective_sentiment"], 9),
                r["respondent_key"],
            )
            for r in source
        ),
        key=repr,
    )


def _reference_counts(
    source: list[dict[str, Any]],
    filters: ReportFilters,
    units: list[uuid.UUID] | None,
    redirects: dict[str, str],
) -> dict[tuple[str, ...], int]:
    """``queries._theme_counts`` computed the obvious way: sets of respondent keys in Python."""
    people: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for r in source:
        if not (filters.start_utc <= r["received_at"] < filters.end_utc):
            continue
        if units is not None and r["unit_id"] not in units:
            continue
        if (filters.channel and str(r["channel"]) != filters.channel) or (
            filters.closure_reason and r["closure_reason"] != filters.closure_reason
        ):
            continue
        if (filters.wave_days is not None and r["wave_days"] != filters.wave_days) or (
            filters.language and r["language"] != filters.language
        ):
            continue
        month = r["report_month"]
        period = str(
            month // 100 * 10 + (month % 100 + 2) // 3 if filters.granularity == "quarter" else month
        )
        sentiment = r["effective_sentiment"]
        person = r["respondent_key"]
        people[("",)].add(person)
        people[("p", period)].add(person)
        people[("s", sentiment)].add(person)
        people[("u", str(r["unit_id"]))].add(person)
        if r["theme_key"] is not None:
            theme = redirects.get(r["theme_key"], r["theme_key"])
            people[("t", theme)].add(person)
            people[("tp", theme, period)].add(person)
            people[("ts", theme, sentiment)].add(person)
    return {key: len(found) for key, found in people.items() if key[0] != "s" or key[1] in queries.SENTIMENTS}


FILTERS = [
    ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31)),
    ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31), granularity="quarter"),
    ReportFilters(date_from=date(2026, 2, 1), date_to=date(2026, 6, 15), channel="sms"),
    ReportFilters(
        date_from=date(2026, 1, 1), date_to=date(2026, 12, 31), closure_reason="work", language="sv"
    ),
    ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31), wave_days=90),
]


async def _assert_report_equals_source(
    session: AsyncSession, units: list[uuid.UUID], step: str
) -> dict[str, Any]:
    source = await _source_rows(session)
    assert await _fact_rows(session) == _expected_fact_rows(source), (
        f"facts differ from the source after {step}"
    )
    _labels, redirects = await queries.current_theme_labels(session)
    scopes = [None, frozenset({units[0]})]
    for filters in [
        *FILTERS,
        ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31), unit_ids=(units[1],)),
    ]:
        for scope in scopes:
            if filters.unit_ids and scope is not None:
                continue  # outside that manager's scope (a 403, tested elsewhere)
            unit_list = queries.resolve_units(filters, scope)
            counts = await queries._theme_counts(session, filters, unit_list, redirects)
            assert counts == _reference_counts(source, filters, unit_list, redirects), (step, filters, scope)
    # and the whole report, built from the copy and from the source rows, is the same
    filters, scope = FILTERS[0], None
    from_facts = (await queries.build_theme_report(session, filters, scope, now=NOW)).to_dict()
    original = queries._theme_counts

    async def from_source(
        _s: AsyncSession, f: ReportFilters, u: Any, r: dict[str, str]
    ) -> dict[tuple[str, ...], int]:
        return _reference_counts(source, f, u, r)

    queries._theme_counts = from_source  # type: ignore[assignment]
    try:
        reference = (await queries.build_theme_report(session, filters, scope, now=NOW)).to_dict()
    finally:
        queries._theme_counts = original  # type: ignore[assignment]
    assert from_facts == reference, step
    return from_facts


async def test_report_copy_equals_source_after_assign_relabel_merge_and_erasure(
    db_session: AsyncSession,
) -> None:
    session = db_session
    units = [await make_unit(session, name="Norra"), await make_unit(session, name="Södra")]
    manager = CurrentUser.from_user(await make_user(session, Role.MANAGER, units))
    rows = await _register(session, units)
    row_ids = [r.id for r in rows]
    unit_ids = [u.id for u in units]
    await _assert_report_equals_source(session, unit_ids, "registering (nothing themed yet)")

    # the theming worker's path; the last five stay pending (counted in the totals only)
    await theming.store_assignments(session, rows[:55], [_result(i) for i in range(55)], now=NOW)
    await session.commit()
    report = await _assert_report_equals_source(session, unit_ids, "assigning themes")
    assert report["themes"] and report["respondents"] == 23, "the scenario should show themes"

    await decisions.relabel_answer(
        session, user=manager, open_text_id=rows[3].id, theme_keys=["halsa"], now=NOW
    )
    await decisions.move_answer(
        session, user=manager, open_text_id=rows[7].id, from_key=THEMES[7 % 5], to_key="samverkan", now=NOW
    )
    await session.commit()
    await _assert_report_equals_source(session, unit_ids, "relabel and move")

    await decisions.record_theme_event(
        session, user=manager, kind="merge", payload={"key": "handlaggning", "into": "bemotande"}, now=NOW
    )
    await decisions.record_theme_event(
        session,
        user=manager,
        kind="rename",
        payload={"key": "bemotande", "label_sv": "Bemötande och stöd"},
        now=NOW,
    )
    await session.commit()
    await _assert_report_equals_source(session, unit_ids, "merge and rename")

    # re-theming (after a retrain) with the merged key still coming from the model
    await theming.store_assignments(
        session, rows[10:30], [_result(i, salt=1) for i in range(10, 30)], now=NOW
    )
    await session.commit()
    await _assert_report_equals_source(session, unit_ids, "re-theming")

    # a changed answer (the same person moved unit) and a rolled-back change leave no trace
    rows[12].unit_id = units[0].id
    rows[12].respondent_key = "person-new"
    await session.commit()
    await session.execute(sa.update(OpenText).where(OpenText.id == row_ids[13]).values(sentiment="neg"))
    await session.rollback()
    await _assert_report_equals_source(session, unit_ids, "changing an answer")

    # erasure: an answer and its themes deleted, then a whole unit (cascade)
    await session.execute(sa.delete(OpenText).where(OpenText.id.in_(row_ids[:2])))
    await session.commit()
    await _assert_report_equals_source(session, unit_ids, "erasing answers")
    await session.execute(sa.delete(Unit).where(Unit.id == unit_ids[1]))
    await session.commit()
    assert await session.scalar(sa.select(sa.func.count()).select_from(ReportThemeFact)) > 0
    await _assert_report_equals_source(session, unit_ids[:1] * 2, "deleting a unit")


@pytest.mark.parametrize("granularity", ["month", "quarter"])
async def test_fact_periods_match_the_drill_down_periods(db_session: AsyncSession, granularity: str) -> None:
    """The stored month gives the same period codes as ``period_expr`` (used by the drill-down)."""
    session = db_session
    units = [await make_unit(session, name="Norra"), await make_unit(session, name="Södra")]
    await _register(session, units)
    fact = await session.execute(
        sa.select(ReportThemeFact.open_text_id, queries.fact_period(granularity).label("p"))
    )
    source = await session.execute(
        sa.select(OpenText.id, queries.period_expr(session, granularity).label("p"))
    )
    # compared as numbers, not truncated: a quarter computed as 20261.67 would match no drill-down
    assert dict(list(fact)) == dict(list(source))
