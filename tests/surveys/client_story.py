"""One client's year through the real services: the story the client page must tell in one timeline.

Used by the service tests (both databases) and by the Chromium test's seed
(``tests/e2e/client_page_seed.py``). Everything goes through the code paths production uses:
the first SMS of the 30-day wave comes back undelivered with Twilio 30003 through the status
callback handler (its fallback call stays in the queue); the 90-day wave is answered through
``notifications.inbound.receive`` (what the signed webhook calls), including a free-text answer
with a phone number, and ends with STOPP; the 180-day call is logged with a note (containing a
personnummer and a name, which must never be shown) and opens a case.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.settings import Settings
from notifications import inbound, status_callbacks
from notifications.models import OutboxStatus, SmsOutbox
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.service import ClosureInput, register_closure
from surveys.conversations.models import Conversation
from surveys.conversations.service import SurveyInboundHandler, owner_ref, start_sms_follow_up
from surveys.phone import service as phone
from surveys.phone.models import CallOutcome
from surveys.plans.models import FollowUp
from surveys.plans.service import local_date

STORY_PHONE = "+46701110088"
CALL_NOTE = "Pratade med Anna Svensson 19850412-1234, hon har jobb nu och mår bättre."
CASE_REASON = "Vill ha hjälp med en budget"
FREE_TEXT = "Min handläggare lyssnade, ring mig gärna på 070-111 22 33"
# The 90-day wave's answers up to the free-text question (see questionnaires/defaults.py).
ANSWERS = ("1", "4", "5", "JA", "3", FREE_TEXT)


@dataclass
class Story:
    closure_id: uuid.UUID
    client_id: uuid.UUID


async def _wave(session: AsyncSession, closure_id: uuid.UUID, days: int) -> FollowUp:
    row = await session.scalar(
        sa.select(FollowUp).where(FollowUp.closure_id == closure_id, FollowUp.wave_days == days)
    )
    assert row is not None
    return row


async def _sms_in(session: AsyncSession, settings: Settings, body: str, at: datetime) -> None:
    sid = "SM" + uuid.uuid4().hex
    fields = inbound.InboundFields(sid, STORY_PHONE, "+46700000000", body, None)
    await inbound.receive(session, settings, SurveyInboundHandler(settings), fields, now=at)
    await session.commit()


async def build_client_story(
    session: AsyncSession,
    settings: Settings,
    *,
    unit_id: uuid.UUID,
    caseworker_id: uuid.UUID,
    ref: str,
    now: datetime,
) -> Story:
    start = now - timedelta(days=200)
    reg = await register_closure(
        session,
        unit_id=unit_id,
        data=ClosureInput(
            client_ref=ref,
            closed_on=local_date(start),
            reason="work",
            phone=STORY_PHONE,
            consent_on=local_date(start),
            consent_channel="meeting",
            consent_given_by="client",
        ),
        phones=VaultPhoneProtector(settings),
        actor_id=caseworker_id,
        now=start,
        min_gap_days=settings.contact_min_gap_days,
    )
    closure_id, client_id = reg.closure.id, reg.closure.client_id
    await session.commit()

    # 30 days: the first SMS never arrives (the phone is off: 30003).
    t30 = start + timedelta(days=30)
    conv = await start_sms_follow_up(
        session, await _wave(session, closure_id, 30), now=t30, settings=settings
    )
    assert conv is not None
    first = await session.scalar(
        sa.select(SmsOutbox).where(SmsOutbox.owner_ref == owner_ref(conv.id)).order_by(SmsOutbox.created_at)
    )
    assert first is not None
    sid = "SM" + uuid.uuid4().hex
    first.status, first.provider_sid, first.provider_status, first.sent_at = (
        OutboxStatus.SENT,
        sid,
        "sent",
        t30,
    )
    await session.commit()
    fields = status_callbacks.StatusFields(first.id, sid, "undelivered", 30003)
    await status_callbacks.apply(
        session, settings, SurveyInboundHandler(settings), fields, now=t30 + timedelta(minutes=5)
    )
    await session.commit()

    # 90 days: answers by SMS, a free-text answer, then STOPP.
    t90 = start + timedelta(days=90)
    conv90 = await start_sms_follow_up(
        session, await _wave(session, closure_id, 90), now=t90, settings=settings
    )
    assert conv90 is not None
    await session.execute(
        sa.update(SmsOutbox)
        .where(SmsOutbox.owner_ref == owner_ref(conv90.id))
        .values(status=OutboxStatus.DELIVERED, sent_at=t90, provider_status="delivered")
    )
    await session.commit()
    for minute, text in enumerate(ANSWERS, start=1):
        await _sms_in(session, settings, text, t90 + timedelta(minutes=minute))
    await _sms_in(session, settings, "STOPP", t90 + timedelta(minutes=30))
    conversation = await session.get(Conversation, conv90.id, populate_existing=True)
    assert conversation is not None and not conversation.is_open

    # 180 days: the planned call, completed with a note, and a case opened from it. (The 30-day
    # wave's fallback call is still in the queue.)
    t180 = start + timedelta(days=180)
    wave180 = await _wave(session, closure_id, 180)
    task = await phone.create_call_task(session, wave180, reason="plan", now=t180)
    await session.commit()
    assert await phone.claim(session, task.id, user_id=caseworker_id, now=t180)
    await session.refresh(task)
    await phone.log_call(
        session,
        task,
        phone.CallLog(
            CallOutcome.COMPLETED, consent=True, note=CALL_NOTE, open_case=True, case_reason=CASE_REASON
        ),
        user_id=caseworker_id,
        now=t180,
        secret=settings.secret_key,
    )
    await session.commit()
    return Story(closure_id, client_id)
