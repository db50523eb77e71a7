"""Demo time travel: admin-only, dev-only, persisted, shared with the worker, runs due jobs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.clock import OffsetClock, SystemClock
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.devtools import clock as devclock
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from feedback.worker import build_jobs
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.service import ClosureInput, register_closure
from surveys.conversations.models import Conversation
from surveys.plans.models import FollowUp, FollowUpStatus
from tests.conftest import make_settings
from tests.helpers import form_post, login, make_unit, make_user


def _dev(settings: Settings) -> Settings:
    return settings.with_overrides(dev_tools=True)


def test_only_mounted_with_dev_tools_in_development(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    paths = lambda s: {r.path for r in create_app(s).routes}  # noqa: E731
    assert "/dev/clock" in paths(make_settings(url, tmp_path, dev_tools=True))
    assert "/dev/clock" not in paths(make_settings(url, tmp_path))
    prod = make_settings(url, tmp_path, dev_tools=True, environment="production")
    assert not devclock.enabled(prod)
    assert isinstance(create_app(make_settings(url, tmp_path, dev_tools=True)).state.clock, OffsetClock)
    assert isinstance(create_app(make_settings(url, tmp_path)).state.clock, SystemClock)


def test_next_weekday_at_ten_and_bounds() -> None:
    friday_evening = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # 21:00 Stockholm
    assert devclock.next_weekday_at(friday_evening) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Mon 10:00
    early = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)  # Mon 07:00 Stockholm
    assert devclock.next_weekday_at(early, time(10, 0)) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    christmas_eve = datetime(2026, 12, 23, 12, 0, tzinfo=UTC)
    assert devclock.next_weekday_at(christmas_eve).date().isoformat() == "2026-12-28"
    assert devclock.bounded(timedelta(days=-3)) == timedelta()
    assert devclock.bounded(timedelta(days=5000)) == devclock.MAX_OFFSET


async def _closure_today(session: AsyncSession, settings: Settings) -> FollowUp:
    """A closure registered today (real time) with its +30 d SMS follow-up."""
    unit = await make_unit(session)
    today = datetime.now(UTC).astimezone(devclock.STOCKHOLM).date()
    reg = await register_closure(
        session,
        unit_id=unit.id,
        data=ClosureInput(client_ref="K-TT1", closed_on=today, reason="work", phone="+46701230001",
                          language="sv", consent_on=today, consent_channel="meeting", consent_given_by="client"),
        phones=VaultPhoneProtector(settings),
        actor_id=None,
        now=datetime.now(UTC),
        min_gap_days=14,
    )  # fmt: skip
    follow_up = await session.scalar(
        sa.select(FollowUp).where(FollowUp.closure_id == reg.closure.id, FollowUp.wave_days == 30)
    )
    assert follow_up is not None
    await session.commit()
    return follow_up


async def test_moving_the_clock_starts_due_follow_ups_and_survives_a_restart(
    db_session: AsyncSession, settings: Settings
) -> None:
    settings = _dev(settings)
    follow_up = await _closure_today(db_session, settings)
    admin = await make_user(db_session, Role.ADMIN)
    caseworker = await make_user(db_session, Role.CASEWORKER, [await make_unit(db_session)])
    app = create_app(settings)
    clock = app.state.clock
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        await login(client, caseworker)
        assert (await client.get("/dev/clock/")).status_code == 403
        assert (await form_post(client, "/dev/clock/advance", {"days": "30"})).status_code == 403
        await login(client, admin)
        page = await client.get("/dev/clock/")
        assert page.status_code == 200 and "Flytta klockan 30 dagar" in page.text
        bad = await form_post(client, "/dev/clock/advance", {"days": "tusen"})
        assert bad.status_code == 400 and "mellan 1 och 366" in bad.text
        assert clock.offset == timedelta()
        moved = await form_post(client, "/dev/clock/advance", {"days": "30"})
        assert moved.status_code == 200
        assert "Klockan flyttades 30 dagar. Uppföljningar som startade nu: 1." in moved.text
        assert clock.offset == timedelta(days=30)
    await db_session.refresh(follow_up)
    assert follow_up.status is FollowUpStatus.STARTED
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Conversation)) == 1
    # Persisted: a new app (restart) and a separate worker's sync job read the same offset.
    again = create_app(settings)
    async with AsyncTestClient(app=again, base_url="http://testserver.local"):
        assert again.state.clock.offset == timedelta(days=30)
    engine = create_engine(settings.database_url)
    try:
        jobs = build_jobs(settings, session_factory(engine))
        sync = next(job for job in jobs if job.name == "dev-clock-sync")
        assert await sync.run() == timedelta(days=30)
        shared = build_jobs(settings, session_factory(engine), Collaborators(clock=clock))
        assert "dev-clock-sync" not in {job.name for job in shared}  # in-process: the same clock object
    finally:
        await engine.dispose()


async def test_reset_goes_back_to_real_time(db_session: AsyncSession, settings: Settings) -> None:
    settings = _dev(settings)
    admin = await make_user(db_session, Role.ADMIN)
    await devclock.save_offset(db_session, timedelta(days=90))
    await db_session.commit()
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        assert app.state.clock.offset == timedelta(days=90)
        await login(client, admin)
        response = await form_post(client, "/dev/clock/reset", {})
        assert "tillbaka till verklig tid" in response.text
    assert app.state.clock.offset == timedelta()
    assert await devclock.load_offset(db_session) == timedelta()


async def test_workday_jump_with_nothing_due(db_session: AsyncSession, settings: Settings) -> None:
    settings = _dev(settings)
    admin = await make_user(db_session, Role.ADMIN)
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        await login(client, admin)
        response = await form_post(client, "/dev/clock/workday", {})
        assert response.status_code == 200 and "Uppföljningar som startade nu: 0." in response.text
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(FollowUp)) == 0
