"""A CSV import while the worker hands follow-ups over, on a real SQLite file: no 500, nothing lost.

SQLite has one writer at a time. The worker runs in its own thread with its own engine and event
loop (as the worker process would) and keeps its write transaction open until the import has
*demonstrably* met the lock (its retry warning is logged): the contention is a condition the test
waits for, not a race it hopes for. The app's busy timeout is made short so the import's first
attempt fails fast and has to be retried.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.models import Client, Closure
from surveys.closures.service import ClosureInput, register_closure
from surveys.plans.models import FollowUp, FollowUpStatus
from surveys.plans.scheduler import ChannelStarter, scheduler_job
from tests.conftest import make_settings
from tests.helpers import csrf_token, login, make_unit, make_user
from tests.surveys.world import CLOSED_ON, NOW

DEADLINE_S = 120.0  # generous: only a hang reaches it
WAITING = 12  # follow-ups due for the worker
IMPORTED = 40  # good rows in the CSV


class LockWatch(logging.Handler):
    """Sets an event when the import logs that it met the lock and will try again."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.import_retried = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "closures import: database is locked" in record.getMessage():
            self.import_retried.set()


@pytest.fixture
def watch() -> Iterator[LockWatch]:
    handler = LockWatch()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def busy_settings(sqlite_url: str, tmp_path: Path) -> Settings:
    # 50 ms busy wait, many attempts: the import must meet the lock quickly and ride it out.
    return make_settings(sqlite_url, tmp_path, database_busy_timeout_ms=50, database_lock_attempts=200)


@pytest.fixture
async def session(busy_settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(busy_settings.database_url)
    try:
        async with session_factory(engine)() as s:
            yield s
    finally:
        await engine.dispose()


@pytest.fixture
async def client(busy_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(busy_settings, Collaborators(clock=FrozenClock(NOW)))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


def _csv(rows: int) -> bytes:
    lines = ["client_ref;phone;language;closed_on;reason;unit"]
    lines += [f"I-{n};070-555 {n // 100:02d} {n % 100:02d};sv;2026-02-20;work;" for n in range(rows)]
    lines.append("I-bad;070-555 99 99;sv;2026-02-20;semester;")  # refused: unknown reason
    return ("\n".join(lines) + "\n").encode()


async def _waiting_follow_ups(session: AsyncSession, settings: Settings, unit_id: Any) -> None:
    protector = VaultPhoneProtector(settings)
    for n in range(WAITING):
        await register_closure(
            session,
            unit_id=unit_id,
            data=ClosureInput(
                client_ref=f"W-{n}",
                closed_on=CLOSED_ON,
                reason="work",
                phone=f"+4670444{n:04d}",
                language="sv",
                consent_on=CLOSED_ON,
                consent_channel="meeting",
                consent_given_by="client",
            ),
            phones=protector,
            actor_id=None,
            now=NOW - timedelta(days=31),
            min_gap_days=14,
        )
    await session.commit()


class HoldingStarter(ChannelStarter):
    """The real channels; the first hand-over keeps the worker's transaction open until told."""

    def __init__(self, settings: Settings, holding: threading.Event, release: threading.Event) -> None:
        super().__init__(settings)
        self.holding, self.release = holding, release

    async def start_sms(self, session: AsyncSession, follow_up: FollowUp, *, now: Any) -> None:
        await super().start_sms(session, follow_up, now=now)
        if not self.holding.is_set():
            self.holding.set()
            await asyncio.to_thread(self.release.wait, DEADLINE_S)


def _worker(
    settings: Settings, starter: HoldingStarter, stop: threading.Event, errors: list[BaseException]
) -> None:
    async def main() -> None:
        engine = create_engine(settings.database_url, busy_timeout_ms=settings.database_busy_timeout_ms)
        tick = scheduler_job(settings, session_factory(engine), FrozenClock(NOW), starter)
        try:
            while not stop.is_set():
                await tick()
                await asyncio.to_thread(stop.wait, 0.01)
        finally:
            await engine.dispose()

    try:
        asyncio.run(main())
    except BaseException as exc:  # reported to the test thread
        errors.append(exc)


async def test_csv_import_during_the_hand_over_imports_every_good_row(
    client: AsyncTestClient[Litestar],
    session: AsyncSession,
    busy_settings: Settings,
    watch: LockWatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    unit = await make_unit(session)
    user = await make_user(session, Role.CASEWORKER, [unit])
    await _waiting_follow_ups(session, busy_settings, unit.id)
    await login(client, user)
    token = await csrf_token(client)

    holding, stop, errors = threading.Event(), threading.Event(), []
    starter = HoldingStarter(busy_settings, holding, watch.import_retried)
    worker = threading.Thread(target=_worker, args=(busy_settings, starter, stop, errors), daemon=True)
    worker.start()
    try:
        assert await asyncio.to_thread(holding.wait, DEADLINE_S), "the worker never started a hand-over"
        response = await client.post(
            "/caseworker/closures/import",
            data={"unit": str(unit.id), "_csrf_token": token},
            files={"file": ("avslut.csv", _csv(IMPORTED), "text/csv")},
        )
    finally:
        watch.import_retried.set()  # never leave the worker holding the lock
        stop.set()
        await asyncio.to_thread(worker.join, DEADLINE_S)
    assert not worker.is_alive() and errors == []
    assert watch.import_retried.is_set()

    assert response.status_code == 200, response.text
    assert f"{IMPORTED} nya" in response.text and "1 avvisade" in response.text
    imported = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Closure)
        .join(Client, Closure.client_id == Client.id)
        .where(Client.client_ref.like("I-%"))
    )
    assert imported == IMPORTED
    handed_over = await session.scalar(
        sa.select(sa.func.count())
        .select_from(FollowUp)
        .where(FollowUp.status != FollowUpStatus.SCHEDULED, FollowUp.handed_over_at.is_not(None))
    )
    assert handed_over == WAITING  # the worker finished its hand-over too
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


async def test_a_lock_held_past_the_retry_budget_is_a_swedish_503_and_nothing_is_saved(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    settings = make_settings(sqlite_url, tmp_path, database_busy_timeout_ms=20, database_lock_attempts=2)
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as s:
        unit = await make_unit(s)
        user = await make_user(s, Role.CASEWORKER, [unit])
    await engine.dispose()
    app = create_app(settings, Collaborators(clock=FrozenClock(NOW)))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        await login(client, user)
        token = await csrf_token(client)
        holder = sqlite3.connect(sqlite_url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another writer that does not let go
            response = await client.post(
                "/caseworker/closures/import",
                data={"unit": str(unit.id), "_csrf_token": token},
                files={"file": ("avslut.csv", _csv(3), "text/csv")},
            )
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert response.status_code == 503, response.text
        assert "Systemet är upptaget" in response.text
        assert "Ingenting av det du skickade har sparats" in response.text
        assert "Tekniskt fel" not in response.text
        page = await client.get("/caseworker/closures/")
        assert page.status_code == 200  # the lock is gone: pages work again
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(Closure)) == 0
    await engine.dispose()
    assert [r for r in caplog.records if r.exc_info] == []  # a warning, not a traceback
