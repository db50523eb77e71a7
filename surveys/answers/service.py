"""Storing one answer (any mode), with the side effects every answer has.

* free text is redacted and registered for theming (``register_open_text``, also called by the
  panel for reflections); only the redacted text is stored, in ``open_text``, and the answer
  points at it;
* the status question records an outcome (working / studying / both / neither);
* a 1 on a question marked ``low_score_opens_case`` opens an inner-loop case.
A repeated call for the same follow-up, mode and question updates the answer (idempotent).

Every open text stored here carries the report's filter attributes from the start, taken from
the closure the answer belongs to (``closure_report_attributes``): unit, closure reason, the
language the contact was held in, channel and wave. Callers cannot leave them out.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from nlp.redact import redact as nlp_redact
from surveys.answers.models import Answer, AnswerMode, Channel, OpenText, ThemingStatus
from surveys.cases.models import Case, CaseTrigger
from surveys.cases.service import open_case, open_or_join_case
from surveys.closures.models import Client, Closure
from surveys.questionnaires.answers import Parsed
from surveys.questionnaires.models import Question
from surveys.redaction import redact_text

_CHANNEL = {AnswerMode.SMS: Channel.SMS, AnswerMode.PHONE: Channel.PHONE, AnswerMode.WEB: Channel.SMS}


async def record_answer(
    session: AsyncSession,
    *,
    follow_up: Any,
    question: Question,
    parsed: Parsed,
    mode: AnswerMode,
    now: datetime,
    secret: str,
    language: str | None = None,
    join_open_case: bool = False,
    quote_consent: bool = False,
) -> tuple[Answer, list[Case]]:
    """Store ``parsed`` as the answer to ``question`` for ``follow_up``; return it and any cases.

    ``secret`` is ``Settings.secret_key`` (see ``closure_respondent_key``). ``language`` is the
    language the contact was held in (an SMS conversation's language, the language of a call);
    without it, the client's registered language. ``join_open_case``: a 1 that would open a case
    adds its reason to the person's open case instead (a call must not open a second case).
    ``quote_consent`` is the person's yes to quoting a free-text answer when it is known at once (phone); SMS asks afterwards
    (``set_answer_quote_consent``).
    """
    answer = await session.scalar(
        sa.select(Answer).where(
            Answer.follow_up_id == follow_up.id, Answer.mode == mode, Answer.question_key == question.key
        )
    )
    if answer is None:
        answer = Answer(
            follow_up_id=follow_up.id,
            closure_id=follow_up.closure_id,
            unit_id=follow_up.unit_id,
            questionnaire_id=question.questionnaire_id,
            question_key=question.key,
            mode=mode,
            wave_days=follow_up.wave_days,
        )
        session.add(answer)
    answer.value = parsed.value
    answer.numeric = parsed.numeric
    answer.dont_know = parsed.dont_know
    answer.skipped = parsed.skipped
    answer.is_positive = parsed.is_positive
    answer.answered_at = now
    closure_reason = client_language = ""
    if language is None or parsed.text:
        closure_reason, client_language = await closure_report_attributes(session, follow_up.closure_id)
    answer.language = (language or client_language)[:16]
    await session.flush()
    cases: list[Case] = []
    if parsed.text:
        row = await register_open_text(
            session,
            channel=_CHANNEL[mode],
            source_ref=f"answer:{answer.id}",
            unit_id=follow_up.unit_id,
            respondent_key=closure_respondent_key(secret, follow_up.closure_id),
            text=parsed.text,
            received_at=now,
            language=language or client_language,
            wave_days=follow_up.wave_days,
            closure_reason=closure_reason,
            question_key=question.key,
            quote_consent=quote_consent,
            redact=redact_text,
        )
        answer.open_text_id = row.id
    if question.is_status and parsed.value in {"working", "studying", "both", "neither"}:
        from surveys.outcomes.service import record_outcome

        await record_outcome(
            session, follow_up.closure_id, follow_up.wave_days, parsed.value, mode.value, now
        )
    if question.low_score_opens_case and parsed.numeric == 1 and not parsed.dont_know:
        case_args: dict[str, Any] = {
            "unit_id": follow_up.unit_id,
            "closure_id": follow_up.closure_id,
            "follow_up_id": follow_up.id,
            "trigger": CaseTrigger.LOW_SCORE,
            "source": mode.value,
            "summary": low_score_summary(question.position, question.phone_prompt),
            "now": now,
        }
        if join_open_case:
            cases.append((await open_or_join_case(session, **case_args))[0])
        else:
            cases.append(await open_case(session, **case_args))
    await session.flush()
    return answer, cases


def low_score_summary(position: int, prompt: str) -> str:
    """The case summary in the caseworker's Swedish: the question as it is read out, never its
    internal key ("respect (3)" was shown before)."""
    question = prompt.strip().rstrip("?.")
    if question.endswith(" 1 till 5"):
        question = question[: -len(" 1 till 5")].rstrip("?. ")
    if not question:
        return f"Svarade 1 (lägsta) på fråga {position}."
    return f"Svarade 1 (lägsta) på fråga {position}: {question}?"


async def answers_for(session: AsyncSession, follow_up_id: uuid.UUID) -> list[Answer]:
    rows = await session.scalars(
        sa.select(Answer).where(Answer.follow_up_id == follow_up_id).order_by(Answer.answered_at)
    )
    return list(rows.all())


def redacted_excerpt(text: str, limit: int = 200) -> str:
    return redact_text(text).strip()[:limit]


async def closure_report_attributes(session: AsyncSession, closure_id: uuid.UUID) -> tuple[str, str]:
    """The closure's reason and its client's registered language, as stored on open text."""
    row = (
        await session.execute(
            sa.select(Closure.reason, Client.language)
            .join(Client, Client.id == Closure.client_id)
            .where(Closure.id == closure_id)
        )
    ).one_or_none()
    if row is None:
        raise LookupError(f"closure {closure_id} does not exist")
    return str(row.reason), str(row.language)


# ---------------------------------------------------------------- open text intake
def respondent_key(secret: str, kind: str, ident: str | uuid.UUID) -> str:
    """A stable pseudonym for counting distinct respondents without storing who they are."""
    return hmac.new(secret.encode(), f"{kind}:{ident}".encode(), hashlib.sha256).hexdigest()[:40]


def closure_respondent_key(secret_key: str, closure_id: uuid.UUID) -> str:
    """The respondent key of everything a closure's client answered (SMS, phone, call notes).

    The one place this key is made: answers are stored under it and "ni sa – vi gjorde" finds
    its SMS recipients by it, so the two cannot diverge. ``secret_key`` is always
    ``Settings.secret_key`` (the key answers have been stored with from the start), never the
    phone number's ``index_key``.
    """
    return respondent_key(secret_key, "closure", closure_id)


async def register_open_text(
    session: AsyncSession,
    *,
    channel: Channel | str,
    source_ref: str,
    unit_id: uuid.UUID,
    respondent_key: str,
    text: str,
    received_at: datetime,
    language: str | None = None,
    wave_days: int | None = None,
    closure_reason: str | None = None,
    question_key: str | None = None,
    quote_consent: bool = False,
    redact: Callable[[str], str] = nlp_redact,
) -> OpenText:
    """Redact ``text`` and store it for theming; a second call for the same source updates it.

    The raw text never reaches the database: redaction happens here, before the row exists.
    The worker's theming job picks up rows in status ``pending``.
    """
    redacted = redact(text).strip()
    existing = await session.scalar(sa.select(OpenText).where(OpenText.source_ref == source_ref))
    if existing is not None:
        if existing.text_redacted != redacted:
            existing.text_redacted = redacted
            existing.status = ThemingStatus.PENDING
            existing.attempts = 0
        existing.quote_consent = quote_consent
        await session.flush()
        return existing
    row = OpenText(
        channel=Channel(channel),
        source_ref=source_ref,
        unit_id=unit_id,
        respondent_key=respondent_key,
        text_redacted=redacted,
        received_at=received_at,
        language=language,
        wave_days=wave_days,
        closure_reason=closure_reason,
        question_key=question_key,
        quote_consent=quote_consent,
    )
    session.add(row)
    await session.flush()
    return row


# ---------------------------------------------------------------- quoting consent
async def set_answer_quote_consent(
    session: AsyncSession, *, follow_up_id: uuid.UUID, mode: AnswerMode, question_key: str, given: bool
) -> OpenText | None:
    """Record the reply to the quoting question on the open text of that answer (if it has one)."""
    open_text_id = await session.scalar(
        sa.select(Answer.open_text_id).where(
            Answer.follow_up_id == follow_up_id, Answer.mode == mode, Answer.question_key == question_key
        )
    )
    if open_text_id is None:
        return None
    row = await session.get(OpenText, open_text_id)
    if row is not None:
        row.quote_consent = given
        await session.flush()
    return row


async def client_respondent_keys(session: AsyncSession, secret_key: str, client_id: uuid.UUID) -> list[str]:
    """The respondent keys of everything a client answered, over all their closures."""
    closures = await session.scalars(sa.select(Closure.id).where(Closure.client_id == client_id))
    return [closure_respondent_key(secret_key, closure_id) for closure_id in closures]


async def withdraw_quote_consent(
    session: AsyncSession,
    *,
    respondent_keys: Sequence[str] = (),
    open_text_ids: Sequence[uuid.UUID] = (),
) -> list[uuid.UUID]:
    """Withdraw quoting consent: the texts leave the report's quotes at once.

    The one place consent is taken back, whoever records it: the person by SMS ("ta bort mitt
    citat"), a caseworker on the case or call page, a panel member unticking (panel keeps its own
    reflection flag and calls this for the open text). Returns the ids of the open texts that
    were quotable until now, so the caller's reports layer can mark them in review findings
    (``feedback.reports.reviews.mark_withdrawn_quotes``): surveys cannot import reports.
    """
    if not respondent_keys and not open_text_ids:
        return []
    conditions = []
    if respondent_keys:
        conditions.append(OpenText.respondent_key.in_(list(respondent_keys)))
    if open_text_ids:
        conditions.append(OpenText.id.in_(list(open_text_ids)))
    ids = list(
        await session.scalars(
            sa.select(OpenText.id).where(sa.or_(*conditions), OpenText.quote_consent.is_(True))
        )
    )
    if ids:
        await session.execute(
            sa.update(OpenText)
            .where(OpenText.id.in_(ids))
            .values(quote_consent=False)
            .execution_options(synchronize_session="fetch")
        )
        await session.flush()
    return ids
