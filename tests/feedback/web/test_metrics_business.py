"""/metrics business gauges: outbox by status, review, theming backlog, cases, worker heartbeat.

SQLite and PostgreSQL (the ``settings`` fixture); the worker's heartbeat is written by a real
``run_worker`` pass.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.models import WorkerHeartbeat
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from notifications.models import OutboxStatus, SmsOutbox
from surveys.cases.models import Case
from tests.helpers import make_unit, make_user
from tests.surveys.client_story import build_client_story
from tests.surveys.world import NOW


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW + timedelta(days=400))))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


def gauge(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    assert match is not None, f"{name}{labels} missing"
    return float(match.group(1))


async def test_gauges_count_what_the_database_holds(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    before = (await client.get("/metrics")).text
    assert gauge(before, "uppfoljning_cases_open") == 0
    assert gauge(before, "uppfoljning_worker_last_success_age_seconds") == -1

    unit = await make_unit(db_session)
    caseworker = await make_user(db_session, Role.CASEWORKER, [unit])
    await build_client_story(
        db_session, settings, unit_id=unit.id, caseworker_id=caseworker.id, ref="K-MET", now=NOW
    )
    await db_session.commit()
    outbox = dict(
        (str(s), n)
        for s, n in await db_session.execute(
            sa.select(SmsOutbox.status, sa.func.count()).group_by(SmsOutbox.status)
        )
    )
    cases = await db_session.scalar(sa.select(sa.func.count()).select_from(Case))
    assert cases and outbox

    text = (await client.get("/metrics")).text
    for status in OutboxStatus:
        assert gauge(text, "uppfoljning_outbox_messages", f'{{status="{status.value}"}}') == outbox.get(
            status.value, 0
        )
    assert gauge(text, "uppfoljning_outbox_needs_review") == outbox.get("needs_review", 0)
    assert gauge(text, "uppfoljning_cases_open") == cases  # the story's case is open …
    assert gauge(text, "uppfoljning_cases_overdue") == cases  # … and 400 days later overdue
    assert gauge(text, "uppfoljning_theming_backlog") >= 1  # answers wait for the worker's themes


async def test_a_worker_pass_moves_the_heartbeat(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    from feedback.worker import run_worker

    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, stop))
    try:
        for _ in range(600):  # generous: the first pass runs every job once
            if await db_session.scalar(
                sa.select(WorkerHeartbeat.last_success_at).execution_options(populate_existing=True)
            ):
                break
            await asyncio.sleep(0.1)
            db_session.expire_all()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)
    text = (await client.get("/metrics")).text
    assert gauge(text, "uppfoljning_worker_last_success_timestamp_seconds") > 0
    assert gauge(text, "uppfoljning_worker_last_success_age_seconds") >= 0
