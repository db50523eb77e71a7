"""The worker composes the conversation job, and one run expires what is due."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.clock import FrozenClock
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.wiring import Collaborators
from feedback.worker import build_jobs
from surveys.conversations import service
from surveys.conversations.machine import Disposition
from surveys.conversations.models import Conversation
from tests.surveys.world import NOW, World


async def test_worker_job_expires_conversations(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    engine = create_engine(settings.database_url)
    try:
        clock = FrozenClock(NOW + timedelta(days=8))
        jobs = {
            job.name: job for job in build_jobs(settings, session_factory(engine), Collaborators(clock=clock))
        }
        assert await jobs["survey-conversations"].run() == 1
    finally:
        await engine.dispose()
    conv = await db_session.scalar(sa.select(Conversation))
    await db_session.refresh(conv)
    assert conv.disposition is Disposition.NO_RESPONSE
