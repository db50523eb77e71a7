"""Demo time travel: one ``OffsetClock`` shared by the app and its in-process worker, persisted.

Why persisted in the database: ``make run`` restarts the app on code changes, and a separate
``feedback worker`` process must follow the web app's clock; both read the ``dev_clock`` row
(the worker re-reads it every few seconds). Never used outside development with dev tools on.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.clock import STOCKHOLM, OffsetClock
from feedback.core.settings import Settings
from feedback.devtools.models import DevClockState
from notifications.windows import is_holiday

ROW_ID = 1
MAX_OFFSET = timedelta(days=3 * 366)


def enabled(settings: Settings) -> bool:
    return bool(settings.dev_tools and settings.is_dev)


async def load_offset(session: AsyncSession) -> timedelta:
    try:
        seconds = await session.scalar(
            sa.select(DevClockState.offset_seconds).where(DevClockState.id == ROW_ID)
        )
    except sa.exc.DBAPIError:  # table missing (database not migrated yet): real time
        await session.rollback()
        return timedelta()
    return timedelta(seconds=seconds or 0.0)


async def save_offset(session: AsyncSession, offset: timedelta) -> None:
    row = await session.get(DevClockState, ROW_ID)
    if row is None:
        row = DevClockState(id=ROW_ID)
        session.add(row)
    row.offset_seconds = offset.total_seconds()
    row.updated_at = datetime.now(UTC)
    await session.flush()


async def sync(clock: OffsetClock, sessionmaker: Any) -> timedelta:
    """Set ``clock``'s offset from the database (start-up; the separate worker's periodic job)."""
    async with sessionmaker() as session:
        clock.offset = await load_offset(session)
    return clock.offset


def next_weekday_at(now: datetime, at: time = time(10, 0)) -> datetime:
    """The next Swedish working day at ``at`` (today if that is still ahead), as UTC."""
    local = now.astimezone(STOCKHOLM)
    day = local.date()
    if local.time() >= at:
        day += timedelta(days=1)
    while day.weekday() >= 5 or is_holiday(day):
        day += timedelta(days=1)
    return datetime.combine(day, at, tzinfo=STOCKHOLM).astimezone(UTC)


def bounded(offset: timedelta) -> timedelta:
    """Keep the demo within three years of real time, and never behind it."""
    return max(timedelta(), min(offset, MAX_OFFSET))
