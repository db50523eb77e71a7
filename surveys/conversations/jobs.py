"""The periodic conversation job: reminders and expiry, one bounded batch per run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from surveys.conversations import service

if TYPE_CHECKING:
    from feedback.core.clock import Clock
    from feedback.core.settings import Settings


async def run_conversation_tick(sessionmaker: Any, settings: Settings, clock: Clock) -> int:
    """Open one transaction, advance due conversations, commit (a crash just repeats the batch)."""
    async with sessionmaker() as session:
        changed = await service.tick(session, now=clock.now(), settings=settings)
        await session.commit()
    return changed
