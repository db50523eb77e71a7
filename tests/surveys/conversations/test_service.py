"""Conversations against a real database and the real outbox: the whole SMS survey flow."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.settings import Settings
from notifications.models import OutboxStatus, SmsOutbox
from notifications.ports import DeliveryProblem, InboundSms
from surveys.answers.models import Answer, OpenText
from surveys.cases.models import Case, CaseEventKind, CasePriority, CaseTrigger
from surveys.cases.service import case_timeline
from surveys.conversations import service
from surveys.conversations.machine import Disposition
from surveys.conversations.models import Conversation
from surveys.conversations.service import SurveyInboundHandler
from surveys.outcomes.models import Outcome, OutcomeStatus
from surveys.phone.models import CallTask
from surveys.plans.models import FollowUpStatus
from tests.surveys.world import NOW, World


async def _bodies(session: AsyncSession) -> list[str]:
    rows = await session.scalars(
        sa.select(SmsOutbox).order_by(SmsOutbox.created_at, SmsOutbox.idempotency_key)
    )
    return [r.body for r in rows]


async def _reply(session: AsyncSession, settings: Settings, world: World, text: str, minutes: int) -> None:
    sms = InboundSms(uuid.uuid4(), f"SM{uuid.uuid4().hex}", "+46701234567", world.phone_index, "+46700000000",
                     text, NOW + timedelta(minutes=minutes))  # fmt: skip
    await SurveyInboundHandler(settings).handle_inbound(session, sms)
    await session.commit()


async def _conv(session: AsyncSession) -> Conversation:
    conv = await session.scalar(sa.select(Conversation))
    assert conv is not None
    await session.refresh(conv)
    return conv


async def test_start_queues_intro_and_question_one_once(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    conv = await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    again = await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    assert conv is not None and again is not None and again.id == conv.id
    bodies = await _bodies(db_session)
    assert len(bodies) == 2
    assert bodies[0].startswith("Hej! Här är Kommunen.") and "STOPP" in bodies[0]
    assert bodies[1].startswith("Fråga 1 av 7")
    assert world.follow_up.status is FollowUpStatus.STARTED
    keys = await db_session.scalars(sa.select(SmsOutbox.idempotency_key))
    assert all(k.startswith(f"conv:{conv.id}:") for k in keys)


async def test_replies_walk_to_thank_you_with_answers_outcome_and_themes(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    for i, text in enumerate(
        ["1", "tja", "4", "5", "JA", "٣", "Att min handläggare trodde på mig", "nej", "0"], start=1
    ):
        await _reply(db_session, settings, world, text, i)
    conv = await _conv(db_session)
    assert not conv.is_open and conv.disposition is Disposition.COMPLETE
    bodies = await _bodies(db_session)
    assert bodies[-3].startswith("Får vi visa det du skrev som citat") and bodies[-2].startswith(
        "Fråga 7 av 7"
    )
    assert (
        bodies[2]
        == "Fråga 2 av 7: Hur nöjd är du med stödet du fick av oss? Svara 1-5 (1 = inte alls nöjd, 5 = mycket nöjd)."
    )
    assert bodies[3].startswith("Vi förstod inte ditt svar. Svara med en siffra 1-5.")
    assert bodies[-1].startswith("Tack för dina svar!")
    answers = {a.question_key: a for a in await db_session.scalars(sa.select(Answer))}
    assert answers["status"].value == "working" and answers["satisfaction"].is_positive is True
    assert answers["influence"].value == "yes" and answers["cooperation"].numeric == 3
    assert answers["improve"].skipped and answers["helped"].open_text_id is not None
    assert {a.mode.value for a in answers.values()} == {"sms"}
    text = await db_session.scalar(sa.select(OpenText))
    assert (
        text is not None
        and text.text_redacted == "Att min handläggare trodde på mig"
        and text.question_key == "helped"
        and text.quote_consent is False
    )
    outcome = await db_session.scalar(sa.select(Outcome))
    assert outcome is not None and outcome.status is OutcomeStatus.WORKING and outcome.wave_days == 30
    await db_session.refresh(world.follow_up)
    assert world.follow_up.status is FollowUpStatus.DONE


async def test_a_personnummer_in_free_text_is_never_stored(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    for i, text in enumerate(
        ["2", "3", "3", "nej", "0", "Jag heter Anna, 19850412-1234, ring 070-123 45 67"], 1
    ):
        await _reply(db_session, settings, world, text, i)
    stored = [t.text_redacted for t in await db_session.scalars(sa.select(OpenText))]
    stored += [c.summary for c in await db_session.scalars(sa.select(Case))]
    assert stored and not any("1234" in s or "850412" in s or "123 45 67" in s for s in stored)
    assert any("[PERSONNUMMER]" in s for s in stored)


async def test_ring_mig_opens_a_case_and_a_later_crisis_raises_it_on_its_timeline(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    await _reply(db_session, settings, world, "Ring mig är du snäll", 1)
    case = await db_session.scalar(sa.select(Case))
    assert case is not None and case.trigger is CaseTrigger.CALL_ME and case.priority is CasePriority.NORMAL
    assert case.due_on == date(2026, 3, 4)  # Monday → Wednesday: two working days
    await _reply(db_session, settings, world, "ring mig", 2)  # the same request does not open a second case
    await _reply(db_session, settings, world, "jag orkar inte, hotas av vräkning", 3)
    [case] = list(await db_session.scalars(sa.select(Case)))
    await db_session.refresh(case)
    assert case.trigger is CaseTrigger.CRISIS and case.priority is CasePriority.AKUT
    assert case.due_on == date(2026, 3, 2) and case.unit_id == world.unit.id  # akut: the same day
    assert "vräkning" in case.summary
    timeline = await case_timeline(db_session, case.id)
    assert [e.kind for e in timeline] == [
        CaseEventKind.OPENED,
        CaseEventKind.MESSAGE,
        CaseEventKind.MESSAGE,
        CaseEventKind.MESSAGE,
        CaseEventKind.PRIORITY_RAISED,
    ]
    assert "vräkning" in timeline[3].text_redacted and timeline[3].crisis_kinds == "eviction"
    assert not any(b.startswith("Vi förstod inte") for b in await _bodies(db_session))


async def test_a_one_on_satisfaction_opens_a_low_score_case(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    await _reply(db_session, settings, world, "4", 1)
    await _reply(db_session, settings, world, "1", 2)
    case = await db_session.scalar(sa.select(Case))
    assert case is not None and case.trigger is CaseTrigger.LOW_SCORE


async def test_late_call_me_after_thank_you_still_opens_a_case(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    for i, text in enumerate(["1", "4", "4", "ja", "4", "0", "0", "RING MIG"], 1):
        await _reply(db_session, settings, world, text, i)
    assert (await _conv(db_session)).disposition is Disposition.COMPLETE
    assert (await db_session.scalar(sa.select(Case))).trigger is CaseTrigger.CALL_ME


async def test_reminder_counts_from_the_actual_send_time(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    assert await service.tick(db_session, now=NOW + timedelta(days=3), settings=settings) == 0  # still queued
    conv = await _conv(db_session)
    prompt = await db_session.get(SmsOutbox, conv.last_prompt_outbox_id)
    prompt.status, prompt.sent_at = OutboxStatus.SENT, NOW + timedelta(days=2)
    await db_session.commit()
    assert await service.tick(db_session, now=NOW + timedelta(days=3), settings=settings) == 0
    assert await service.tick(db_session, now=NOW + timedelta(days=4), settings=settings) == 1
    assert await service.tick(db_session, now=NOW + timedelta(days=5), settings=settings) == 0
    await db_session.commit()
    assert (await _bodies(db_session))[-1].startswith("Hej igen!")


async def test_expiry_without_answers_goes_to_the_phone_queue(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    await service.tick(db_session, now=NOW + timedelta(days=7), settings=settings)
    await db_session.commit()
    conv = await _conv(db_session)
    assert conv.disposition is Disposition.NO_RESPONSE and not conv.is_open
    task = await db_session.scalar(sa.select(CallTask))
    assert task is not None and task.reason == "sms_no_response" and task.unit_id == world.unit.id


async def test_opt_out_ends_the_conversation_and_cancels_pending(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    await SurveyInboundHandler(settings).handle_opt_out(
        db_session, world.phone_index, NOW + timedelta(hours=1)
    )
    await db_session.commit()
    conv = await _conv(db_session)
    assert conv.disposition is Disposition.OPTED_OUT
    statuses = {r.status for r in await db_session.scalars(sa.select(SmsOutbox))}
    assert statuses == {OutboxStatus.CANCELED}
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(CallTask)) == 0


async def test_delivery_failure_makes_a_phone_task(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    conv = await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    problem = DeliveryProblem(uuid.uuid4(), f"conversation:{conv.id}", "undelivered", 30003, "Ej nåbar", NOW)
    await SurveyInboundHandler(settings).handle_delivery_problem(db_session, problem)
    await db_session.commit()
    assert (await _conv(db_session)).disposition is Disposition.UNREACHABLE
    task = await db_session.scalar(sa.select(CallTask))
    assert task is not None and task.reason == "sms_unreachable"


async def test_reply_from_an_unknown_number_changes_nothing(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await service.start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    await db_session.commit()
    assert await service.handle_reply(db_session, "x" * 40, "ring mig", now=NOW, settings=settings) is None
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0
