"""The periodic conversation job: reminders and expiry, one bounded batch per run."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from feedback.core.dblock import RetryPolicy, begin_immediate, is_lock_error, retry_on_lock
from surveys.conversations import service

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from feedback.core.clock import Clock
    from feedback.core.settings import Settings


async def run_conversation_tick(sessionmaker: Any, settings: Settings, clock: Clock) -> int:
    """Open one transaction, advance due conversations, commit (a crash just repeats the batch).

    SQLite: the write lock is taken first and a locked database re-runs the whole batch a few
    times (``feedback.core.dblock``); if it stays locked the batch waits for the next run.
    """

    async def once() -> int:
        async with sessionmaker() as session:
            await begin_immediate(session)
            changed: int = await service.tick(session, now=clock.now(), settings=settings)
            await session.commit()
        return changed

    try:
        return await retry_on_lock(
            once, what="survey conversations", policy=RetryPolicy(attempts=settings.database_lock_attempts)
        )
    except Exception as exc:
        if not is_lock_error(exc):
            raise
        log.warning("survey conversations: database still locked; the next run tries again")
        return 0
