"""The phone queue: due calls per unit, atomic claim under concurrency, outcomes and answers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.db import create_engine, session_factory
from feedback.core.errors import Conflict, InvalidInput
from feedback.core.settings import Settings
from surveys.answers.models import Answer, AnswerMode, OpenText
from surveys.cases.models import Case
from surveys.outcomes.models import Outcome, OutcomeStatus
from surveys.phone import service
from surveys.phone.models import CallOutcome, CallStatus, CallTask
from surveys.plans.models import FollowUpStatus
from surveys.questionnaires import service as questionnaires
from tests.helpers import make_user
from tests.surveys.world import NOW, World, make_world


async def _task(session: AsyncSession, world: World) -> CallTask:
    task = await service.create_call_task(session, world.follow_up, reason="plan", now=NOW)
    await session.commit()
    return task


async def test_due_calls_only_for_my_units_oldest_first(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    other = await make_world(db_session, settings, ref="K-200", phone="+46709876543")
    first = await _task(db_session, world)
    first.due_at = NOW - timedelta(days=2)
    await db_session.commit()
    again = await service.create_call_task(db_session, world.follow_up, reason="plan", now=NOW)
    assert again.id == first.id
    await _task(db_session, other)
    mine = await service.due_calls(db_session, [world.unit.id], NOW)
    assert [t.id for t in mine] == [first.id]
    later = await service.create_call_task(
        db_session, world.follow_up, reason="call_me", now=NOW + timedelta(hours=1)
    )
    assert [t.id for t in await service.due_calls(db_session, [world.unit.id], NOW + timedelta(hours=2))] == [
        first.id, later.id
    ]  # fmt: skip


async def test_two_caseworkers_never_claim_the_same_call(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    task = await _task(db_session, world)
    users = [await make_user(db_session, Role.CASEWORKER, [world.unit]) for _ in range(4)]
    engine = create_engine(settings.database_url)
    try:
        maker = session_factory(engine)

        async def attempt(user_id):
            async with maker() as session:
                won = await service.claim(session, task.id, user_id=user_id, now=NOW)
                await session.commit()
                return won

        results = await asyncio.gather(*(attempt(u.id) for u in users))
    finally:
        await engine.dispose()
    assert sorted(results) == [False, False, False, True]
    await db_session.refresh(task)
    winner = users[results.index(True)]
    assert task.status is CallStatus.CLAIMED and task.claimed_by_id == winner.id
    # An expired claim can be taken over.
    other = users[results.index(False)]
    assert await service.claim(db_session, task.id, user_id=other.id, now=NOW + timedelta(hours=1))


async def test_three_failed_attempts_make_the_call_unreachable(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    now = NOW
    for expected in (CallStatus.OPEN, CallStatus.OPEN, CallStatus.UNREACHABLE):
        assert await service.claim(db_session, task.id, user_id=user.id, now=now)
        await service.log_call(db_session, task, service.CallLog(CallOutcome.NO_ANSWER), user_id=user.id, now=now,
                               secret=settings.secret_key)  # fmt: skip
        assert task.status is expected
        now = task.due_at
    await db_session.refresh(world.follow_up)
    assert world.follow_up.status is FollowUpStatus.DONE


async def test_logging_needs_the_claim_and_a_future_call_back_time(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    with pytest.raises(Conflict):
        await service.log_call(
            db_session, task, service.CallLog(CallOutcome.BUSY), user_id=user.id, now=NOW, secret="s"
        )
    await service.claim(db_session, task.id, user_id=user.id, now=NOW)
    with pytest.raises(InvalidInput, match="framtiden"):
        await service.log_call(db_session, task, service.CallLog(CallOutcome.CALL_BACK, call_back_at=NOW),
                               user_id=user.id, now=NOW, secret="s")  # fmt: skip
    back = NOW + timedelta(days=1, hours=2)
    await service.log_call(db_session, task, service.CallLog(CallOutcome.CALL_BACK, call_back_at=back),
                           user_id=user.id, now=NOW, secret="s")  # fmt: skip
    assert task.status is CallStatus.OPEN and task.due_at == back and task.attempts == 0
    assert await service.due_calls(db_session, [world.unit.id], NOW) == []


async def test_completed_call_stores_phone_answers_redacted_note_outcome_and_case(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await service.claim(db_session, task.id, user_id=user.id, now=NOW)
    with pytest.raises(InvalidInput) as bad:
        await service.log_call(db_session, task, service.CallLog(CallOutcome.COMPLETED, consent=True,
                               answers={"satisfaction": "9"}), user_id=user.id, now=NOW, secret="s")  # fmt: skip
    assert bad.value.detail == {"satisfaction": "Svara med en siffra 1-5."}
    log = service.CallLog(
        CallOutcome.COMPLETED,
        consent=True,
        answers={
            "status": "3",
            "satisfaction": "4",
            "influence": "ja",
            "helped": "Praktikplatsen, ring 0701234567",
        },
        note="Hon bad oss ringa 19900101-1239 senare",
        open_case=True,
        case_reason="Behöver hjälp med bostad",
    )
    result = await service.log_call(db_session, task, log, user_id=user.id, now=NOW, secret="s")
    await db_session.commit()
    assert task.status is CallStatus.DONE and result.attempt.case_id is not None
    answers = {a.question_key: a for a in await db_session.scalars(sa.select(Answer))}
    assert set(answers) == {"status", "satisfaction", "influence", "helped"}
    assert {a.mode for a in answers.values()} == {AnswerMode.PHONE}
    texts = [t.text_redacted for t in await db_session.scalars(sa.select(OpenText))]
    assert len(texts) == 2 and not any("0701234567" in t or "19900101" in t for t in texts)
    outcome = await db_session.scalar(sa.select(Outcome))
    assert outcome is not None and outcome.status is OutcomeStatus.BOTH
    case = await db_session.scalar(sa.select(Case))
    assert case is not None and case.owner_id == user.id


async def test_phone_answers_and_note_carry_reason_and_the_language_the_call_was_held_in(
    db_session: AsyncSession, settings: Settings
) -> None:
    plain = await make_world(db_session, settings, ref="K-300", phone="+46701112233", language="ar")
    interpreted = await make_world(db_session, settings, ref="K-301", phone="+46701112234", language="ar")
    user = await make_user(db_session, Role.CASEWORKER, [plain.unit, interpreted.unit])
    # the client's language unless the call records another; the closure's reason, always
    for world, language, expected in ((plain, None, "ar"), (interpreted, "sv", "sv")):
        task = await service.create_call_task(db_session, world.follow_up, reason="plan", now=NOW)
        await service.claim(db_session, task.id, user_id=user.id, now=NOW)
        log = service.CallLog(
            CallOutcome.COMPLETED,
            consent=True,
            answers={"helped": "Praktiken"},
            note="Lugnt",
            language=language,
        )
        await service.log_call(db_session, task, log, user_id=user.id, now=NOW, secret="s")
        await db_session.commit()
        texts = list(await db_session.scalars(sa.select(OpenText).where(OpenText.unit_id == world.unit.id)))
        assert len(texts) == 2
        assert {(t.closure_reason, t.language, t.channel.value) for t in texts} == {
            ("work", expected, "phone")
        }


async def test_one_call_never_leaves_the_person_with_a_second_case(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    """A "ring mig" case put the call in the queue; a 1 on the phone and "open a case" join it."""
    from surveys.cases.models import CaseEvent, CaseEventKind, CaseTrigger
    from surveys.cases.service import case_timeline, open_case

    ring_me = await open_case(
        db_session,
        unit_id=world.unit.id,
        closure_id=world.follow_up.closure_id,
        follow_up_id=world.follow_up.id,
        trigger=CaseTrigger.CALL_ME,
        source="sms",
        summary="Personen bad om att bli uppringd.",
        now=NOW,
    )
    task = await service.create_call_task(db_session, world.follow_up, reason="call_me", now=NOW)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await db_session.commit()
    assert await service.claim(db_session, task.id, user_id=user.id, now=NOW)
    log = service.CallLog(
        CallOutcome.COMPLETED,
        consent=True,
        answers={"satisfaction": "1", "respect": "1"},
        open_case=True,
        case_reason="Behöver hjälp med bostad, ring 0701234567",
    )
    result = await service.log_call(db_session, task, log, user_id=user.id, now=NOW, secret="s")
    await db_session.commit()
    cases = list(await db_session.scalars(sa.select(Case)))
    assert [c.id for c in cases] == [ring_me.id]
    assert [c.id for c in result.cases] == [ring_me.id] and result.attempt.case_id == ring_me.id
    added = [
        e.text_redacted
        for e in await case_timeline(db_session, ring_me.id)
        if e.kind is CaseEventKind.REASON_ADDED
    ]
    assert len(added) == 3, added  # two low scores and the caseworker's reason, each once
    assert any("Behöver hjälp med bostad" in t for t in added)
    assert not any("0701234567" in t for t in added)  # the reason is redacted like every note
    events = await db_session.scalar(sa.select(sa.func.count()).select_from(CaseEvent))
    assert events == 4  # opened + three reasons


async def test_a_call_without_an_open_case_opens_exactly_one(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    assert await service.claim(db_session, task.id, user_id=user.id, now=NOW)
    log = service.CallLog(
        CallOutcome.COMPLETED, consent=True, answers={"satisfaction": "1"}, open_case=True, case_reason="Oro"
    )
    result = await service.log_call(db_session, task, log, user_id=user.id, now=NOW, secret="s")
    await db_session.commit()
    [case] = list(await db_session.scalars(sa.select(Case)))
    assert [c.id for c in result.cases] == [case.id] and result.attempt.case_id == case.id


async def test_the_same_call_form_submitted_twice_at_once_is_stored_once(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    """Two requests carrying the same form race; the conditional UPDATE lets exactly one through."""
    from surveys.phone.models import CallAttempt

    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    assert await service.claim(db_session, task.id, user_id=user.id, now=NOW)
    await questionnaires.get_active(db_session, task.questionnaire_key)  # seeded before the race
    await db_session.commit()
    log = service.CallLog(
        CallOutcome.COMPLETED, consent=True, answers={"satisfaction": "4"}, open_case=True, case_reason="Oro"
    )
    engine = create_engine(settings.database_url)
    try:
        maker = session_factory(engine)

        async def submit() -> str:
            async with maker() as session:
                mine = await service.get_task(session, task.id, [world.unit.id])
                try:
                    await service.log_call(session, mine, log, user_id=user.id, now=NOW, secret="s")
                except service.AlreadyLogged:
                    await session.rollback()
                    return "already"
                await session.commit()
                return "logged"

        results = await asyncio.gather(submit(), submit())
    finally:
        await engine.dispose()
    assert sorted(results) == ["already", "logged"]
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(CallAttempt)) == 1
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Case)) == 1
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 1
    # Sent again later (the task is no longer held): refused before anything is written.
    await db_session.refresh(task)
    with pytest.raises(Conflict):
        await service.log_call(db_session, task, log, user_id=user.id, now=NOW, secret="s")
