"""The scheduler on a locked SQLite file: it waits, retries, and gives up quietly – never a traceback."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback.core.clock import FrozenClock
from feedback.core.db import create_engine, session_factory
from surveys.closures.service import ClosureInput, register_closure
from surveys.plans import scheduler
from surveys.plans.models import FollowUp, FollowUpStatus
from tests.conftest import make_settings
from tests.helpers import make_unit
from tests.surveys.plans.test_scheduler import RecordingStarter

CLOSED = date(2026, 1, 12)
REGISTERED = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
DAY_30 = datetime(2026, 2, 11, 8, 0, tzinfo=UTC)


async def test_a_held_lock_defers_the_hand_over_to_the_next_tick_without_a_traceback(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = make_settings(sqlite_url, tmp_path, database_busy_timeout_ms=20, database_lock_attempts=2)
    engine = create_engine(settings.database_url, busy_timeout_ms=settings.database_busy_timeout_ms)
    sessionmaker = session_factory(engine)
    async with sessionmaker() as session:
        unit = await make_unit(session)
        await register_closure(
            session,
            unit_id=unit.id,
            data=ClosureInput(client_ref="K-1", closed_on=CLOSED, reason="work"),
            phones=None,
            actor_id=None,
            now=REGISTERED,
            min_gap_days=14,
        )
        await session.commit()
    starter = RecordingStarter()
    tick = scheduler.scheduler_job(settings, sessionmaker, FrozenClock(DAY_30), starter)
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # e.g. a long CSV import holding the write lock
        blocked = await tick()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert blocked.handed_over == 0 and blocked.failed == 1 and starter.sms == []
    assert "database still locked" in caplog.text
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    freed = await tick()
    assert freed.handed_over == 1 and starter.sms == ["K-1"]
    async with sessionmaker() as session:
        statuses = set(await session.scalars(sa.select(FollowUp.status).where(FollowUp.wave_days == 30)))
    assert statuses == {FollowUpStatus.DUE}
    await engine.dispose()
