"""Migration 0520 back-fills closure reason and language on stored answers, and the report follows.

Answers are written through the real SMS and phone paths on a database at 0500, then put back
into the state the old code left them in (no closure reason anywhere, every phone answer and
call note in Swedish). After ``upgrade head`` every open text must carry its closure's reason and
the language the contact was held in — recounted from closure, client and conversation — and
``report_theme_fact`` (kept by triggers) must agree with ``open_text`` row for row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback.auth.models import Role
from feedback.core import migrate
from feedback.core.db import create_engine, session_factory
from feedback.themes.models import OpenTextTheme
from surveys.answers.models import OpenText
from tests.conftest import create_pg_database, drop_pg_database, make_settings
from tests.feedback.reports.answering import answer_by_phone, answer_by_sms, register
from tests.helpers import make_unit, make_user

BEFORE = "0510_retrain_requests"
SURVEYED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# the truth, from the raw rows: each open text's closure reason and the language it was held in
TRUTH = sa.text(
    """
    SELECT ot.id AS id, c.reason AS reason,
           CASE WHEN a.mode = 'phone' THEN cl.language ELSE cv.language END AS language
    FROM open_text ot
    JOIN survey_answer a ON a.open_text_id = ot.id
    JOIN closure c ON c.id = a.closure_id
    JOIN client cl ON cl.id = c.client_id
    LEFT JOIN sms_conversation cv ON cv.follow_up_id = a.follow_up_id
    UNION ALL
    SELECT ot.id, c.reason, cl.language
    FROM open_text ot
    JOIN call_attempt ca ON ca.note_open_text_id = ot.id
    JOIN call_task t ON t.id = ca.task_id
    JOIN closure c ON c.id = t.closure_id
    JOIN client cl ON cl.id = c.client_id
    """
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url_at_0500(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
        migrate.upgrade(url, "head")
        yield url
        return
    request.getfixturevalue("postgres_template")  # skips (or fails in CI) without PostgreSQL
    name, url = create_pg_database()
    try:
        migrate.upgrade(url, "head")
        yield url
    finally:
        drop_pg_database(name)


async def _rows(session, query) -> set[tuple]:
    return {tuple(r) for r in (await session.execute(query)).all()}


async def test_back_fill_reaches_open_text_and_report_facts(url_at_0500: str, tmp_path: Path) -> None:
    settings = make_settings(url_at_0500, tmp_path)
    engine = create_engine(url_at_0500)
    try:
        async with session_factory(engine)() as session:
            unit = await make_unit(session)
            caller = await make_user(session, Role.CASEWORKER, [unit])
            at = SURVEYED - timedelta(days=31)
            sv_sms = await register(session, settings, unit, 1, now=at)
            en_sms = await register(session, settings, unit, 2, language="en", reason="studies", now=at)
            ar_phone = await register(session, settings, unit, 3, language="ar", reason="studies", now=at)
            so_phone = await register(session, settings, unit, 4, language="so", now=at)
            await answer_by_sms(session, settings, sv_sms, "Min coach trodde på mig", now=SURVEYED)
            await answer_by_sms(session, settings, en_sms, "The coach helped", now=SURVEYED)
            await answer_by_phone(
                session, settings, ar_phone, caller.id, "Praktiken", now=SURVEYED, note="Tolk behövdes"
            )
            await answer_by_phone(session, settings, so_phone, caller.id, "Jobbcoachen", now=SURVEYED)
            for text_id in await session.scalars(sa.select(OpenText.id)):
                session.add(OpenTextTheme(open_text_id=text_id, theme_key="stod_till_arbete"))
            await session.commit()
            truth = await _rows(session, TRUTH)
            assert len(truth) == 5
            assert {r[1:] for r in truth} == {
                ("work", "sv"),
                ("studies", "en"),
                ("studies", "ar"),
                ("work", "so"),
            }

            # what the old code stored: no reason anywhere, Swedish for every call
            await session.execute(sa.text("UPDATE open_text SET closure_reason = NULL"))
            await session.execute(sa.text("UPDATE open_text SET language = 'sv' WHERE channel = 'phone'"))
            await session.commit()
            facts = await _rows(
                session, sa.text("SELECT DISTINCT closure_reason, language FROM report_theme_fact")
            )
            assert facts == {(None, "sv"), (None, "en")}  # the triggers copied the damage too

        # back to the revision before the back-fill (later migrations' columns go with it), then up:
        # the rows are written with today's models, so they are written at head, not at BEFORE
        await asyncio.to_thread(migrate.downgrade, url_at_0500, BEFORE)
        await asyncio.to_thread(migrate.upgrade, url_at_0500, "head")

        async with session_factory(engine)() as session:
            stored = await _rows(session, sa.text("SELECT id, closure_reason, language FROM open_text"))
            assert stored == truth
            facts = await _rows(
                session,
                sa.text("SELECT DISTINCT open_text_id, closure_reason, language FROM report_theme_fact"),
            )
            assert facts == truth
            themed = await session.scalar(
                sa.text("SELECT count(*) FROM report_theme_fact WHERE theme_id IS NOT NULL")
            )
            assert themed == 5
    finally:
        await engine.dispose()
