"""The scheduler: hands due follow-ups to their channel (SMS conversation or phone queue).

Runs as a worker job. It asks the database for due rows through ``ix_follow_up_status_due_on``,
applies the pre-send gate and hands each row over in its own savepoint, so one failing row is
retried on the next tick and never blocks the others; a crash between ticks loses nothing because
the state lives in the ``follow_up`` rows (PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets several
workers share the work).

The channels belong to other modules (surveys.conversations, surveys.phone). They are reached
through the small ``FollowUpStarter`` protocol so tests and the demo can record hand-overs; the
default ``ChannelStarter`` calls the two channels directly (a missing channel fails at import).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.core.clock import Clock
from feedback.core.dblock import RetryPolicy, begin_immediate, is_lock_error, retry_on_lock
from feedback.core.settings import Settings
from surveys.conversations.service import start_sms_follow_up
from surveys.phone.service import create_call_task
from surveys.plans import gate
from surveys.plans.models import FollowUp, FollowUpStatus, StepChannel
from surveys.plans.service import local_date

log = logging.getLogger(__name__)


class FollowUpStarter(Protocol):
    async def start_sms(self, session: AsyncSession, follow_up: FollowUp, *, now: datetime) -> None: ...

    async def start_call(
        self, session: AsyncSession, follow_up: FollowUp, *, reason: str, now: datetime
    ) -> None: ...


class ChannelStarter:
    """Hands a due follow-up to the SMS conversation or the unit's phone queue."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def start_sms(self, session: AsyncSession, follow_up: FollowUp, *, now: datetime) -> None:
        await start_sms_follow_up(session, follow_up, now=now, settings=self.settings)

    async def start_call(
        self, session: AsyncSession, follow_up: FollowUp, *, reason: str, now: datetime
    ) -> None:
        await create_call_task(session, follow_up, reason=reason, now=now)


@dataclass
class TickResult:
    handed_over: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    deferred: int = 0
    failed: int = 0

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def due_query(today: date, limit: int) -> sa.Select[FollowUp]:
    """Due follow-ups, oldest first; served by ``ix_follow_up_status_due_on``."""
    return (
        sa.select(FollowUp)
        .where(FollowUp.status == FollowUpStatus.SCHEDULED, FollowUp.due_on <= today)
        .order_by(FollowUp.status, FollowUp.due_on)
        .limit(limit)
    )


async def run_due(
    session: AsyncSession,
    *,
    now: datetime,
    starter: FollowUpStarter,
    min_gap_days: int,
    batch: int = 200,
) -> TickResult:
    """One bounded batch. The caller commits."""
    today = local_date(now)
    result = TickResult()
    query = due_query(today, batch)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.scalars(query))
    for follow_up in rows:
        follow_up_id = follow_up.id  # read now: a rolled-back savepoint expires the object
        try:
            async with session.begin_nested():
                await _hand_over(
                    session,
                    follow_up,
                    today=today,
                    now=now,
                    starter=starter,
                    min_gap_days=min_gap_days,
                    result=result,
                )
        except Exception:  # this row stays scheduled and is retried on the next tick
            log.exception("follow-up %s could not be handed over", follow_up_id)
            result.failed += 1
    return result


async def _hand_over(
    session: AsyncSession,
    follow_up: FollowUp,
    *,
    today: date,
    now: datetime,
    starter: FollowUpStarter,
    min_gap_days: int,
    result: TickResult,
) -> None:
    if follow_up.window_end < today:
        _skip(follow_up, "window_passed", result)
        return
    decision = await gate.check(
        session, follow_up, today=today, min_gap_days=min_gap_days, local_date=local_date
    )
    if decision.skip_reason:
        _skip(follow_up, decision.skip_reason, result)
        return
    if decision.defer_to is not None:
        follow_up.due_on = decision.defer_to
        follow_up.revision += 1
        result.deferred += 1
        log.info("follow-up %s deferred to %s (contact gap)", follow_up.id, decision.defer_to)
        return
    follow_up.status = FollowUpStatus.DUE
    follow_up.handed_over_at = now
    follow_up.revision += 1
    await session.flush()
    if follow_up.channel == StepChannel.PHONE:
        await starter.start_call(session, follow_up, reason="plan", now=now)
    else:
        await starter.start_sms(session, follow_up, now=now)
    result.handed_over += 1


def _skip(follow_up: FollowUp, reason: str, result: TickResult) -> None:
    follow_up.status = FollowUpStatus.SKIPPED
    follow_up.skip_reason = reason
    follow_up.revision += 1
    result.skip(reason)
    log.info("follow-up %s skipped: %s", follow_up.id, reason)


def scheduler_job(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    starter: FollowUpStarter | None = None,
) -> Callable[[], Any]:
    """The worker job: one committed batch per tick, time from the injected clock.

    SQLite: the batch takes the write lock before its first read (``begin_immediate``), so the
    gate's reads can never go stale under a concurrent commit, and a tick that meets a held lock
    is re-run whole. If the lock stays held past the retry budget the tick gives up quietly (a
    warning, no traceback): nothing was handed over, and the next tick tries again.
    """
    chosen = starter or ChannelStarter(settings)
    policy = RetryPolicy(attempts=settings.database_lock_attempts)

    async def once() -> TickResult:
        async with sessionmaker() as session:
            await begin_immediate(session)
            result = await run_due(
                session, now=clock.now(), starter=chosen, min_gap_days=settings.contact_min_gap_days
            )
            await session.commit()
        return result

    async def tick() -> TickResult:
        try:
            return await retry_on_lock(once, what="follow-up scheduler", policy=policy)
        except Exception as exc:
            if not is_lock_error(exc):
                raise
            log.warning("follow-up scheduler: database still locked; nothing handed over, next tick retries")
            return TickResult(failed=1)

    return tick
