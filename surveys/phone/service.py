"""Phone-queue use-cases: create a call task, list due calls, claim one, log an attempt.

Claiming is a single conditional UPDATE (``WHERE status = 'open' OR the claim expired``): the
database decides who wins, so two caseworkers never call the same person, on SQLite and
PostgreSQL alike. Three attempts without reaching the person make the task unreachable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.db import rowcount
from feedback.core.errors import Conflict, InvalidInput, NotFound
from surveys.answers.models import AnswerMode
from surveys.answers.service import record_answer
from surveys.cases.models import Case, CaseTrigger
from surveys.cases.service import open_or_join_case
from surveys.closures.contact import PhoneProtector, ProtectedPhone
from surveys.phone.models import CallAttempt, CallOutcome, CallStatus, CallTask
from surveys.questionnaires import service as questionnaires
from surveys.questionnaires.answers import Invalid, Parsed, parse_answer


class AlreadyLogged(Conflict):
    """The call was logged already (the same form submitted twice): nothing more is stored."""


MAX_ATTEMPTS = 3
CLAIM_TTL = timedelta(minutes=30)
RETRY_AFTER = {CallOutcome.NO_ANSWER: timedelta(hours=4), CallOutcome.BUSY: timedelta(hours=1)}
FINISHING = {CallOutcome.COMPLETED: CallStatus.DONE, CallOutcome.DECLINED: CallStatus.DONE}


async def create_call_task(session: AsyncSession, follow_up: Any, *, reason: str, now: datetime) -> CallTask:
    """Put ``follow_up`` in its unit's phone queue (once per follow-up and reason)."""
    existing = await session.scalar(
        sa.select(CallTask).where(CallTask.follow_up_id == follow_up.id, CallTask.reason == reason)
    )
    if existing is not None:
        return existing
    task = CallTask(
        follow_up_id=follow_up.id,
        closure_id=follow_up.closure_id,
        client_id=follow_up.client_id,
        unit_id=follow_up.unit_id,
        questionnaire_key=follow_up.questionnaire_key,
        wave_days=follow_up.wave_days,
        reason=reason,
        due_at=now,
        created_at=now,
    )
    session.add(task)
    await session.flush()
    return task


async def request_call(
    session: AsyncSession, follow_up: Any, *, reason: str, message: str, now: datetime
) -> CallTask:
    """The person asked to be called ("ring mig") or wrote crisis words: a task due now.

    Carries what they wrote (redacted). An open task for the same follow-up and reason gets the
    new message appended; a finished one is reopened (the unique key allows one row per reason).
    """
    from surveys.redaction import redact_text

    text = redact_text(message).strip()[:1000]
    task = await create_call_task(session, follow_up, reason=reason, now=now)
    if task.status in (CallStatus.OPEN, CallStatus.CLAIMED):
        if task.message and text and text not in task.message:
            task.message = (task.message + "\n" + text)[-4000:]
        elif not task.message:
            task.message = text
        task.due_at = min(task.due_at, now)
    else:
        task.status = CallStatus.OPEN
        task.attempts = 0
        task.due_at = now
        task.finished_at = None
        task.claimed_by_id = None
        task.claim_expires_at = None
        task.message = text
    await session.flush()
    return task


def _available(now: datetime) -> Any:
    return sa.or_(
        CallTask.status == CallStatus.OPEN,
        sa.and_(CallTask.status == CallStatus.CLAIMED, CallTask.claim_expires_at < now),
    )


async def due_calls(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], now: datetime, *, user_id: uuid.UUID | None = None
) -> list[CallTask]:
    """Calls due now in my units, oldest first; calls I hold come first."""
    units = list(unit_ids)
    query = sa.select(CallTask).where(CallTask.unit_id.in_(units), CallTask.due_at <= now, _available(now))
    rows = list(
        (await session.scalars(query.order_by(CallTask.due_at, CallTask.created_at).limit(200))).all()
    )
    if user_id is not None:
        mine = await session.scalars(
            sa.select(CallTask)
            .where(
                CallTask.unit_id.in_(units),
                CallTask.status == CallStatus.CLAIMED,
                CallTask.claimed_by_id == user_id,
                CallTask.claim_expires_at >= now,
            )
            .order_by(CallTask.due_at)
        )
        rows = list(mine.all()) + rows
    return rows


async def get_task(session: AsyncSession, task_id: uuid.UUID, unit_ids: Iterable[uuid.UUID]) -> CallTask:
    task = await session.get(CallTask, task_id)
    if task is None or task.unit_id not in set(unit_ids):
        raise NotFound("Samtalet finns inte.")
    return task


async def claim(session: AsyncSession, task_id: uuid.UUID, *, user_id: uuid.UUID, now: datetime) -> bool:
    """Atomically take ``task_id``; False when someone else holds it (or it is finished)."""
    result = await session.execute(
        sa.update(CallTask)
        .where(
            CallTask.id == task_id,
            sa.or_(
                _available(now),
                sa.and_(CallTask.status == CallStatus.CLAIMED, CallTask.claimed_by_id == user_id),
            ),
        )
        .values(status=CallStatus.CLAIMED, claimed_by_id=user_id, claim_expires_at=now + CLAIM_TTL)
        .execution_options(synchronize_session=False)
    )
    won = rowcount(result) == 1
    task = await session.get(CallTask, task_id)
    if task is not None:
        await session.refresh(task)
    return won


async def release(session: AsyncSession, task: CallTask, *, user_id: uuid.UUID) -> None:
    if task.status is CallStatus.CLAIMED and task.claimed_by_id == user_id:
        task.status = CallStatus.OPEN
        task.claimed_by_id = None
        task.claim_expires_at = None
        await session.flush()


@dataclass
class CallLog:
    outcome: CallOutcome
    consent: bool | None = None
    answers: Mapping[str, str] = field(default_factory=dict)  # question key → raw answer
    note: str = ""
    call_back_at: datetime | None = None
    duration_min: int | None = None
    open_case: bool = False
    case_reason: str = ""
    # The language the call was held in, when the caller records one; else the client's language.
    language: str | None = None
    # "Fel nummer": the right number, when the person who answered (or the client) gave one.
    # Stored encrypted on the client, never in the note.
    new_phone: str = ""
    # Question keys of open answers the person agreed may be quoted (asked after each; default no).
    quote_consent: frozenset[str] = frozenset()
    # The person withdrew consent to quoting what they said or wrote before.
    withdraw_quotes: bool = False


@dataclass
class CallResult:
    attempt: CallAttempt
    errors: dict[str, str]
    cases: list[Case]
    # Open texts whose quoting consent this call withdrew (the web layer marks them in reviews).
    withdrawn_quotes: list[uuid.UUID] = field(default_factory=list)


async def log_call(
    session: AsyncSession,
    task: CallTask,
    log: CallLog,
    *,
    user_id: uuid.UUID,
    now: datetime,
    secret: str,
    phones: PhoneProtector | None = None,
) -> CallResult:
    """Record one attempt; on 'completed' store the answers (mode phone) after validating them.

    "Fel nummer" with a new number stores it on the client (encrypted, audited) and puts the
    call back in the queue for the new number; without one the wrong number is forgotten and the
    person's remaining waves stop as "fel nummer" (``surveys.closures.contact_edit.wrong_number``).
    """
    if task.status is not CallStatus.CLAIMED or task.claimed_by_id != user_id:
        raise Conflict("Ta samtalet först. Någon annan kan ha tagit det.")
    if log.outcome is CallOutcome.CALL_BACK and (log.call_back_at is None or log.call_back_at <= now):
        raise InvalidInput("Ange en tid i framtiden att ringa tillbaka.", field="call_back_at")
    from surveys.plans.models import FollowUp

    follow_up = await session.get(FollowUp, task.follow_up_id)
    if follow_up is None:
        raise NotFound("Uppföljningen finns inte.")
    new_phone: ProtectedPhone | None = None
    if log.new_phone.strip():
        if log.outcome is not CallOutcome.WRONG_NUMBER:
            raise InvalidInput("Ett nytt nummer anges bara när utfallet är Fel nummer.", field="new_phone")
        if phones is None:
            raise InvalidInput("Numret kan inte sparas just nu.", field="new_phone")
        try:
            new_phone = phones.protect(log.new_phone)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field="new_phone") from exc
    questionnaire = await questionnaires.get_active(session, task.questionnaire_key)
    errors: dict[str, str] = {}
    parsed: list[tuple[Any, Parsed]] = []
    if log.outcome is CallOutcome.COMPLETED:
        if log.consent is False:
            raise InvalidInput("Personen sa nej till att svara: välj utfallet Avböjde.", field="outcome")
        for question in questionnaire.questions:
            raw = (log.answers.get(question.key) or "").strip()
            if not raw:
                continue
            result = parse_answer(questionnaires.question_spec(question), raw)
            if isinstance(result, Invalid):
                errors[question.key] = result.reason_sv
            else:
                parsed.append((question, result))
        if errors:
            raise InvalidInput("Några svar behöver rättas.", field="answers", detail=errors)
    # Give the claim back in one conditional UPDATE before anything is written: of two
    # submissions of the same call form (a double click, a resent POST) only the first passes;
    # the database decides, so this holds across processes on SQLite and PostgreSQL alike.
    released = await session.execute(
        sa.update(CallTask)
        .where(
            CallTask.id == task.id, CallTask.status == CallStatus.CLAIMED, CallTask.claimed_by_id == user_id
        )
        .values(claimed_by_id=None, claim_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if rowcount(released) != 1:
        raise AlreadyLogged("Samtalet är redan loggat. Det sparades bara en gång.")
    attempt = CallAttempt(
        task_id=task.id,
        caller_id=user_id,
        at=now,
        outcome=log.outcome,
        call_back_at=log.call_back_at,
        consent=log.consent,
        duration_min=log.duration_min,
    )
    session.add(attempt)
    if log.outcome in (CallOutcome.NO_ANSWER, CallOutcome.BUSY):
        task.attempts += 1  # only failed tries count towards "unreachable after 3"
    task.last_outcome = log.outcome
    task.claimed_by_id = None
    task.claim_expires_at = None
    cases: list[Case] = []
    withdrawn: list[uuid.UUID] = []
    if log.withdraw_quotes:  # before this call's answers, whose own consent was just asked
        from surveys.answers.service import client_respondent_keys, withdraw_quote_consent

        keys = await client_respondent_keys(session, secret, task.client_id)
        withdrawn = await withdraw_quote_consent(session, respondent_keys=keys)
    for question, result in parsed:
        _, opened = await record_answer(
            session,
            follow_up=follow_up,
            question=question,
            parsed=result,
            mode=AnswerMode.PHONE,
            now=now,
            secret=secret,
            language=log.language,
            join_open_case=True,
            quote_consent=question.key in log.quote_consent and bool(result.text),
        )
        cases += [case for case in opened if case not in cases]
    await session.flush()
    if log.note.strip():
        from surveys.answers.models import Channel
        from surveys.answers.service import (
            closure_report_attributes,
            closure_respondent_key,
            register_open_text,
        )
        from surveys.redaction import redact_text

        closure_reason, client_language = await closure_report_attributes(session, task.closure_id)
        row = await register_open_text(
            session,
            channel=Channel.PHONE,
            source_ref=f"call:{attempt.id}",
            unit_id=task.unit_id,
            respondent_key=closure_respondent_key(secret, task.closure_id),
            text=log.note,
            received_at=now,
            language=log.language or client_language,
            wave_days=task.wave_days,
            closure_reason=closure_reason,
            question_key="call_note",
            redact=redact_text,
        )
        attempt.note_open_text_id = row.id
    if log.open_case:
        # One call, one case: the person's open case (the "ring mig" case behind this call, or
        # the one a 1 opened above) gets the caseworker's reason on its timeline instead.
        case, _ = await open_or_join_case(
            session,
            unit_id=task.unit_id,
            closure_id=task.closure_id,
            follow_up_id=task.follow_up_id,
            trigger=CaseTrigger.CASEWORKER,
            source="phone",
            summary=log.case_reason or "Öppnat från ett uppföljningssamtal.",
            now=now,
            owner_id=user_id,
        )
        attempt.case_id = case.id
        if case not in cases:
            cases.append(case)
    _advance_task(task, log, now, new_number=new_phone is not None)
    if task.status in (CallStatus.DONE, CallStatus.UNREACHABLE):
        from surveys.plans.models import FollowUpStatus

        follow_up.status = FollowUpStatus.DONE
        follow_up.finished_at = now
    await session.flush()
    if log.outcome is CallOutcome.WRONG_NUMBER:
        from surveys.closures.contact_edit import wrong_number
        from surveys.closures.models import Client

        client = await session.get(Client, task.client_id)
        if client is not None and client.erased_at is None:
            await wrong_number(session, client, new_phone=new_phone, actor_id=user_id, now=now)
    return CallResult(attempt, errors, cases, withdrawn)


async def logged_by(session: AsyncSession, task: CallTask, *, user_id: uuid.UUID, since: datetime) -> bool:
    """Whether ``user_id`` logged an attempt on ``task`` since ``since`` (a resent call form)."""
    found = await session.scalar(
        sa.select(CallAttempt.id)
        .where(CallAttempt.task_id == task.id, CallAttempt.caller_id == user_id, CallAttempt.at >= since)
        .limit(1)
    )
    return found is not None


def _advance_task(task: CallTask, log: CallLog, now: datetime, *, new_number: bool = False) -> None:
    if log.outcome is CallOutcome.WRONG_NUMBER and new_number:
        task.status = CallStatus.OPEN  # call the right number next
        task.due_at = now
    elif log.outcome in FINISHING:
        task.status = FINISHING[log.outcome]
        task.finished_at = now
    elif log.outcome is CallOutcome.WRONG_NUMBER or task.attempts >= MAX_ATTEMPTS:
        task.status = CallStatus.UNREACHABLE
        task.finished_at = now
    elif log.outcome is CallOutcome.CALL_BACK:
        task.status = CallStatus.OPEN
        task.due_at = log.call_back_at or now
    else:
        task.status = CallStatus.OPEN
        task.due_at = now + RETRY_AFTER.get(log.outcome, timedelta(hours=4))
