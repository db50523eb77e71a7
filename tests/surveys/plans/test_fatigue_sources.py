"""The 14-day contact gap counts every way we approach a person, on SQLite and PostgreSQL.

Contacts: survey waves (not their reminders), "ni sa – vi gjorde" SMS, panel invitations by SMS
and call attempts. A wave due while the person rests is deferred inside its window, not dropped;
messages that never reached the person, and answers to what they wrote to us, do not count.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.settings import Settings
from notifications import outbox
from notifications.models import OutboxStatus, SmsOutbox
from surveys.phone.models import CallAttempt, CallOutcome, CallTask
from surveys.plans import scheduler
from surveys.plans.models import FollowUp, FollowUpStatus
from tests.surveys.plans.test_scheduler import RecordingStarter
from tests.surveys.world import PHONE, World, make_world

# The 90-day wave of the world's closure (closed 2026-01-30): due 2026-04-30, window to 2026-05-14.
DUE = date(2026, 4, 30)
TODAY = datetime(2026, 4, 30, 8, 0, tzinfo=UTC)  # 10:00 in Stockholm
THREE_DAYS_AGO = TODAY - timedelta(days=3)


@pytest.fixture
async def world90(db_session: AsyncSession, settings: Settings) -> World:
    return await make_world(db_session, settings, wave=90)


async def _sms(
    session: AsyncSession,
    settings: Settings,
    kind: str,
    at: datetime,
    status: OutboxStatus = OutboxStatus.SENT,
) -> None:
    row_id = await outbox.enqueue(
        session,
        idempotency_key=f"test:{uuid.uuid4()}",
        to_e164=PHONE,
        body="Ni sa att väntetiden var lång – nu har vi fler telefontider.",
        settings=settings,
        kind=kind,
        now=at,
        not_before=at,
    )
    row = await session.get(SmsOutbox, row_id)
    assert row is not None
    row.status = status
    row.sent_at = at if status in (OutboxStatus.SENT, OutboxStatus.DELIVERED) else None
    await session.commit()


async def _call(session: AsyncSession, world: World, at: datetime) -> None:
    """A "ring mig" call task on the person's 30-day wave, with one unanswered attempt."""
    wave30 = await session.scalar(
        sa.select(FollowUp).where(FollowUp.closure_id == world.follow_up.closure_id, FollowUp.wave_days == 30)
    )
    assert wave30 is not None
    task = CallTask(
        follow_up_id=wave30.id,
        closure_id=wave30.closure_id,
        client_id=wave30.client_id,
        unit_id=wave30.unit_id,
        questionnaire_key=wave30.questionnaire_key,
        wave_days=30,
        reason="call_me",
        due_at=at,
    )
    session.add(task)
    await session.flush()
    session.add(CallAttempt(task_id=task.id, at=at, outcome=CallOutcome.NO_ANSWER))
    await session.commit()


async def _wave90(session: AsyncSession, world: World) -> FollowUp:
    row = await session.scalar(
        sa.select(FollowUp).where(FollowUp.id == world.follow_up.id).execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def _tick(session: AsyncSession, now: datetime, starter: RecordingStarter) -> scheduler.TickResult:
    result = await scheduler.run_due(session, now=now, starter=starter, min_gap_days=14)
    await session.commit()
    return result


@pytest.mark.parametrize("source", ["loop", "panel_invitation", "call"])
async def test_a_contact_three_days_ago_defers_the_wave_which_then_goes_out(
    db_session: AsyncSession, settings: Settings, world90: World, source: str
) -> None:
    if source == "call":
        await _call(db_session, world90, THREE_DAYS_AGO)
    else:
        await _sms(db_session, settings, source, THREE_DAYS_AGO)
    starter = RecordingStarter()
    result = await _tick(db_session, TODAY, starter)
    wave = await _wave90(db_session, world90)
    assert starter.sms == [] and result.deferred == 1
    assert wave.status == FollowUpStatus.SCHEDULED and wave.skip_reason is None
    assert wave.due_on == DUE + timedelta(days=11)  # 14 days after the contact, inside the window
    # Deferred, not dropped: on that day it goes out.
    assert (await _tick(db_session, TODAY + timedelta(days=10), starter)).handed_over == 0
    assert (await _tick(db_session, TODAY + timedelta(days=11), starter)).handed_over == 1
    assert starter.sms == ["K-100"]
    assert (await _wave90(db_session, world90)).status == FollowUpStatus.DUE


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("survey", OutboxStatus.SENT),  # a reminder of an earlier wave
        ("crisis_ack", OutboxStatus.SENT),  # an answer to what the person wrote
        ("call_me_confirmation", OutboxStatus.DELIVERED),
        ("loop", OutboxStatus.FAILED),  # never reached the person
        ("loop", OutboxStatus.SKIPPED),
    ],
)
async def test_reminders_answers_and_undelivered_sms_do_not_hold_a_wave_back(
    db_session: AsyncSession, settings: Settings, world90: World, kind: str, status: OutboxStatus
) -> None:
    await _sms(db_session, settings, kind, THREE_DAYS_AGO, status)
    starter = RecordingStarter()
    result = await _tick(db_session, TODAY, starter)
    assert result.handed_over == 1 and result.deferred == 0 and starter.sms == ["K-100"]


async def test_a_contact_fifteen_days_ago_is_rested_from(
    db_session: AsyncSession, settings: Settings, world90: World
) -> None:
    await _sms(db_session, settings, "loop", TODAY - timedelta(days=15))
    await _call(db_session, world90, TODAY - timedelta(days=15))
    starter = RecordingStarter()
    assert (await _tick(db_session, TODAY, starter)).handed_over == 1


async def test_a_loop_sms_queued_for_later_counts_from_when_it_may_go(
    db_session: AsyncSession, settings: Settings, world90: World
) -> None:
    await _sms(db_session, settings, "loop", TODAY - timedelta(days=1), OutboxStatus.QUEUED)
    starter = RecordingStarter()
    result = await _tick(db_session, TODAY, starter)
    assert result.deferred == 1 and (await _wave90(db_session, world90)).due_on == DUE + timedelta(days=13)


async def test_the_persons_own_wave_does_not_block_its_reminder(
    db_session: AsyncSession, settings: Settings, world90: World
) -> None:
    """Hand the wave over for real; its reminder is not a new contact and is not held back."""
    from surveys.conversations import service
    from surveys.conversations.models import Conversation

    await _sms(db_session, settings, "loop", TODAY - timedelta(days=20))  # rested from
    result = await _tick(db_session, TODAY, scheduler.ChannelStarter(settings))  # type: ignore[arg-type]
    assert result.handed_over == 1
    conv = await db_session.scalar(sa.select(Conversation))
    assert conv is not None
    prompt = await db_session.get(SmsOutbox, conv.last_prompt_outbox_id)
    assert prompt is not None and prompt.kind == "survey"
    prompt.status, prompt.sent_at = OutboxStatus.SENT, TODAY
    await db_session.commit()
    before = await db_session.scalar(sa.select(sa.func.count()).select_from(SmsOutbox))
    later = TODAY + timedelta(hours=settings.sms_reminder_hours, minutes=1)
    assert await service.tick(db_session, now=later, settings=settings) == 1
    await db_session.commit()
    rows = list(await db_session.scalars(sa.select(SmsOutbox).order_by(SmsOutbox.created_at)))
    assert len(rows) == before + 1
    assert rows[-1].kind == "survey" and rows[-1].body.startswith("Hej igen!")  # the reminder
