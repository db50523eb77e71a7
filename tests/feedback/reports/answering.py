"""Clients who answer through the real write paths: registration, the SMS conversation, the call.

The report and review tests that cross the storage seam build their data here, so an answer
row is written exactly as in production (``register_closure`` → ``SurveyInboundHandler`` or
``phone.log_call`` → ``record_answer``), never by constructing ``OpenText`` rows by hand.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Unit
from feedback.core.settings import Settings
from notifications.ports import InboundSms
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.models import Closure
from surveys.closures.service import ClosureInput, register_closure
from surveys.conversations import service as conversations
from surveys.conversations.service import SurveyInboundHandler
from surveys.phone import service as phone
from surveys.phone.models import CallOutcome
from surveys.plans.models import FollowUp
from surveys.questionnaires.answers import SKIP_WORDS

CLOSED_ON = date(2026, 1, 30)


@dataclass
class Person:
    unit: Unit
    closure: Closure
    phone: str
    phone_index: str
    language: str
    reason: str

    async def follow_up(self, session: AsyncSession, wave: int = 30) -> FollowUp:
        follow_up = await session.scalar(
            sa.select(FollowUp).where(FollowUp.closure_id == self.closure.id, FollowUp.wave_days == wave)
        )
        assert follow_up is not None, f"no {wave}-day follow-up"
        return follow_up


async def register(
    session: AsyncSession,
    settings: Settings,
    unit: Unit,
    number: int,
    *,
    language: str = "sv",
    reason: str = "work",
    consent: bool = True,
    now: datetime,
) -> Person:
    """A client of ``unit`` with the mobile number +4670100<number>, registered like a caseworker does."""
    phone_number = f"+4670100{number:04d}"
    protector = VaultPhoneProtector(settings)
    registration = await register_closure(
        session,
        unit_id=unit.id,
        data=ClosureInput(
            client_ref=f"K-{number}",
            closed_on=CLOSED_ON,
            reason=reason,
            phone=phone_number,
            language=language,
            consent_on=CLOSED_ON if consent else None,
            consent_channel="meeting" if consent else None,
            consent_given_by="client" if consent else None,
        ),
        phones=protector,
        actor_id=None,
        now=now,
        min_gap_days=14,
    )
    await session.commit()
    return Person(
        unit,
        registration.closure,
        phone_number,
        protector.protect(phone_number).index,
        language,
        reason,
    )


async def answer_by_sms(
    session: AsyncSession,
    settings: Settings,
    person: Person,
    text: str,
    *,
    now: datetime,
    wave: int = 30,
    quote_reply: str = "nej",
) -> None:
    """Run the SMS survey for ``person``: valid answers to every question, ``text`` as the open one.

    ``quote_reply`` answers the quoting question that follows an open answer (default: no).
    """
    follow_up = await person.follow_up(session, wave)
    await conversations.start_sms_follow_up(session, follow_up, now=now, settings=settings)
    await session.commit()
    handler = SurveyInboundHandler(settings)
    quoting = [] if text.strip().lower() in SKIP_WORDS else [quote_reply]
    for minute, reply in enumerate(["1", "4", "4", "ja", "3", text, *quoting, "0"], start=1):
        sms = InboundSms(
            uuid.uuid4(),
            f"SM{uuid.uuid4().hex}",
            person.phone,
            person.phone_index,
            "+46700000000",
            reply,
            now + timedelta(minutes=minute),
        )
        await handler.handle_inbound(session, sms)
        await session.commit()


async def answer_by_phone(
    session: AsyncSession,
    settings: Settings,
    person: Person,
    caller_id: uuid.UUID,
    text: str,
    *,
    now: datetime,
    wave: int = 30,
    note: str = "",
    language: str | None = None,
    quote: bool = False,
) -> None:
    """A caseworker calls ``person``, logs the answers (``text`` as the open one) and a note.

    ``quote``: the person agreed that the open answer may be quoted.
    """
    follow_up = await person.follow_up(session, wave)
    task = await phone.create_call_task(session, follow_up, reason="plan", now=now)
    assert await phone.claim(session, task.id, user_id=caller_id, now=now)
    log = phone.CallLog(
        CallOutcome.COMPLETED,
        consent=True,
        answers={"status": "1", "satisfaction": "4", "helped": text},
        note=note,
        language=language,
        quote_consent=frozenset({"helped"}) if quote else frozenset(),
    )
    await phone.log_call(session, task, log, user_id=caller_id, now=now, secret=settings.secret_key)
    await session.commit()
