"""SMS conversation use-cases: start, reply, tick (reminder/expiry), delivery problem, opt-out.

``SurveyInboundHandler`` (at the end) is the survey layer's ``notifications.ports.InboundHandler``:
notifications verifies, stores and de-duplicates inbound texts and handles STOPP itself, then
hands us the reply (inside the webhook's transaction), delivery problems and opt-outs.

Each function loads the conversation's state, feeds one event to the pure machine
(``machine.py``) and applies the effects in the caller's transaction: texts go to the outbox
(``notifications.outbox.enqueue``) with idempotency keys made of conversation id, step, text
and attempt, so a retried webhook or a re-run job never texts anybody twice; answers and cases
are stored; a finished conversation finishes its follow-up and, when nobody answered or the
number did not work, puts the plan's phone step in the unit's call queue.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.answers.models import AnswerMode
from surveys.answers.service import (
    client_respondent_keys,
    record_answer,
    set_answer_quote_consent,
    withdraw_quote_consent,
)
from surveys.cases.service import append_message
from surveys.cases.signals import Signals, classify
from surveys.conversations import machine, replies
from surveys.conversations.machine import Disposition, MachineConfig
from surveys.conversations.models import Conversation
from surveys.inbox.models import InboxReason
from surveys.questionnaires import service as questionnaires
from surveys.questionnaires.answers import (
    Parsed,
    QuestionSpec,
    is_quote_withdrawal,
    parse_answer,
    parse_quote_consent,
)
from surveys.questionnaires.models import Questionnaire
from surveys.questionnaires.texts import fill_placeholders, reply_language
from surveys.texts import service as texts
from surveys.texts.catalogue import Catalogue, Resolved

if TYPE_CHECKING:
    from feedback.core.settings import Settings
    from notifications.ports import DeliveryProblem, InboundSms, KeywordReply
    from surveys.plans.models import FollowUp

log = logging.getLogger(__name__)

# After a conversation closed, a late "ring mig" or crisis reply still reaches a caseworker.
LATE_REPLY_WINDOW = timedelta(days=14)

# Called with the ids of open texts whose quoting consent was just withdrawn, in the same
# transaction: the wiring passes the reports layer's marking of review findings (surveys cannot
# import feedback.reports).
QuotesWithdrawn = Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[object]]


def owner_ref(conversation_id: uuid.UUID) -> str:
    return f"conversation:{conversation_id}"


def _config(settings: Settings) -> MachineConfig:
    return MachineConfig(reminder_after=timedelta(hours=settings.sms_reminder_hours))


# The unit table belongs to feedback.auth, a layer above surveys: read its one column through a
# lightweight table clause instead of importing the model.
_UNIT = sa.table("unit", sa.column("id", sa.Uuid()), sa.column("sms_sender_name", sa.String()))


async def _sender_name(session: AsyncSession, settings: Settings, unit_id: uuid.UUID) -> str:
    """How the SMS names its sender: the unit's own name (unit settings page) or the default."""
    own = await session.scalar(sa.select(_UNIT.c.sms_sender_name).where(_UNIT.c.id == unit_id))
    return own or settings.sms_sender_name


def _state(conv: Conversation) -> machine.State:
    return machine.State(
        started_at=conv.started_at,
        step=conv.step,
        reprompts=conv.reprompts,
        reminder_sent=conv.reminder_sent,
        answered=conv.answered,
        skipped=conv.skipped,
        last_reply_at=conv.last_reply_at,
        closed_at=conv.closed_at,
        disposition=conv.disposition,
        paused_at=conv.paused_at,
        awaiting_quote_consent=conv.awaiting_quote_consent,
    )


def _store_state(conv: Conversation, state: machine.State) -> None:
    conv.step = state.step
    conv.reprompts = state.reprompts
    conv.reminder_sent = state.reminder_sent
    conv.answered = state.answered
    conv.skipped = state.skipped
    conv.last_reply_at = state.last_reply_at
    conv.closed_at = state.closed_at
    conv.disposition = state.disposition
    conv.paused_at = state.paused_at
    conv.awaiting_quote_consent = state.awaiting_quote_consent
    conv.is_open = state.closed_at is None


def _specs(questionnaire: Questionnaire) -> Sequence[QuestionSpec]:
    return [questionnaires.question_spec(q) for q in questionnaire.questions]


async def _follow_up(session: AsyncSession, follow_up_id: uuid.UUID) -> FollowUp:
    from surveys.plans.models import FollowUp

    row = await session.get(FollowUp, follow_up_id)
    assert row is not None
    return row


async def _phone(session: AsyncSession, client_id: uuid.UUID, settings: Settings) -> str | None:
    from surveys.closures.contact import VaultPhoneProtector
    from surveys.closures.models import Client

    client = await session.get(Client, client_id)
    if client is None or not client.phone_ciphertext or client.erased_at is not None:
        return None
    return VaultPhoneProtector(settings).reveal(client.phone_ciphertext)


async def start_sms_follow_up(
    session: AsyncSession, follow_up: FollowUp, *, now: datetime, settings: Settings | None = None
) -> Conversation | None:
    """Start the SMS conversation for a due follow-up: intro + question 1 into the outbox.

    Idempotent: a second call returns the existing conversation. Without a usable phone number
    the follow-up goes to the phone queue instead (and ``None`` is returned).
    """
    if settings is None:
        raise ValueError("start_sms_follow_up needs settings (keys to decrypt the number)")
    existing = await session.scalar(sa.select(Conversation).where(Conversation.follow_up_id == follow_up.id))
    if existing is not None:
        return existing
    from surveys.closures.models import Client
    from surveys.plans.models import FollowUpStatus

    client = await session.get(Client, follow_up.client_id)
    phone = await _phone(session, follow_up.client_id, settings)
    if client is None or phone is None:
        from surveys.phone.service import create_call_task

        await create_call_task(session, follow_up, reason="no_phone_sms", now=now)
        return None
    questionnaire = await questionnaires.get_active(session, follow_up.questionnaire_key)
    conv = Conversation(
        id=uuid.uuid4(),
        follow_up_id=follow_up.id,
        closure_id=follow_up.closure_id,
        unit_id=follow_up.unit_id,
        questionnaire_id=questionnaire.id,
        language=str(client.language),
        wave_days=follow_up.wave_days,
        phone_index=client.phone_index,
        started_at=now,
    )
    session.add(conv)
    await session.flush()
    outcome = machine.start(_specs(questionnaire), now)
    _store_state(conv, outcome.state)
    follow_up.status = FollowUpStatus.STARTED
    follow_up.started_at = now
    await _apply(session, conv, questionnaire, outcome, now=now, settings=settings, phone=phone)
    return conv


async def _apply(
    session: AsyncSession,
    conv: Conversation,
    questionnaire: Questionnaire,
    outcome: machine.Outcome,
    *,
    now: datetime,
    settings: Settings,
    phone: str | None = None,
) -> None:
    from notifications.outbox import cancel_pending, enqueue

    _store_state(conv, outcome.state)
    follow_up = await _follow_up(session, conv.follow_up_id)
    sender: str | None = None
    questions = {q.key: q for q in questionnaire.questions}
    catalogue = await texts.load(session) if outcome.effects else None
    for effect in outcome.effects:
        assert catalogue is not None
        if isinstance(effect, machine.Send):
            if phone is None:
                phone = await _phone(session, follow_up.client_id, settings)
            if phone is None:
                continue  # contact data erased meanwhile: nothing can be sent
            resolved = _text(catalogue, questionnaire, conv.language, effect.text_key)
            if sender is None:
                sender = await _sender_name(session, settings, follow_up.unit_id)
            body = fill_placeholders(resolved.body, {"kommun": sender})
            outbox_id = await enqueue(
                session,
                idempotency_key=f"conv:{conv.id}:{effect.step}:{effect.text_key}:{effect.attempt}",
                to_e164=phone,
                body=body,
                settings=settings,
                owner_ref=owner_ref(conv.id),
                unit_id=conv.unit_id,
                now=now,
                kind="survey",
                language=resolved.language,
            )
            conv.messages_sent += 1
            if effect.text_key.startswith(("question:", "reprompt:", "quote_consent")):
                conv.last_prompt_outbox_id = outbox_id
        elif isinstance(effect, machine.Record):
            await record_answer(
                session,
                follow_up=follow_up,
                question=questions[effect.question_key],
                parsed=effect.parsed,
                mode=AnswerMode.SMS,
                now=now,
                secret=settings.secret_key,
                # the language the question was actually put in (after any fallback)
                language=_text(
                    catalogue, questionnaire, conv.language, f"question:{effect.question_key}"
                ).language,
            )
        elif isinstance(effect, machine.QuoteConsent):
            await set_answer_quote_consent(
                session,
                follow_up_id=follow_up.id,
                mode=AnswerMode.SMS,
                question_key=effect.question_key,
                given=effect.given,
            )
        elif isinstance(effect, machine.Finish):
            from surveys.plans.models import FollowUpStatus

            follow_up.status = FollowUpStatus.DONE
            follow_up.finished_at = now
            if effect.disposition is Disposition.OPTED_OUT:
                await cancel_pending(session, owner_ref(conv.id), now=now, reason_sv="Personen skrev STOPP.")
            if effect.phone_fallback:
                from surveys.phone.service import create_call_task

                reason = (
                    "sms_unreachable" if effect.disposition is Disposition.UNREACHABLE else "sms_no_response"
                )
                await create_call_task(session, follow_up, reason=reason, now=now)
    await session.flush()


def _text(catalogue: Catalogue, questionnaire: Questionnaire, language: str, text_key: str) -> Resolved:
    """The text in the person's language (``catalogue.py`` says what happens when it is missing)."""
    key = f"quote.{text_key}" if text_key in questionnaires.QUOTE_TEXT_KEYS else None
    resolved = catalogue.questionnaire_text(questionnaire, language, text_key, key=key)
    if resolved.fell_back:
        log.info("text %s has no %s version: sent in %s", resolved.key, language, resolved.language)
    return resolved


async def handle_reply(
    session: AsyncSession,
    phone_index: str,
    text: str,
    *,
    now: datetime,
    settings: Settings,
    inbound_id: uuid.UUID | None = None,
    reply_to: str | None = None,
    on_quotes_withdrawn: QuotesWithdrawn | None = None,
) -> Conversation | None:
    """A message from the number behind ``phone_index``: signals first, then the survey.

    Every message ends with an owner: a survey answer, a case (crisis, "ring mig", or a later
    message while a case is open), the opt-out ledger, or the unit's inbox (``replies.py``).
    A request to stop quoting ("ta bort mitt citat") withdraws the person's quoting consent for
    everything they wrote (``on_quotes_withdrawn`` then marks the quotes in review findings);
    while the quoting question awaits its reply it is also that reply (a no).
    """
    conv = await session.scalar(
        sa.select(Conversation)
        .where(Conversation.phone_index == phone_index, Conversation.is_open.is_(True))
        .order_by(Conversation.started_at.desc())
        .limit(1)
    )
    late = False
    if conv is None:
        conv = await session.scalar(
            sa.select(Conversation)
            .where(Conversation.phone_index == phone_index, Conversation.closed_at >= now - LATE_REPLY_WINDOW)
            .order_by(Conversation.closed_at.desc())
            .limit(1)
        )
        late = conv is not None
    found = classify(text)
    sender = await replies.find_sender(session, phone_index, conv, late)
    key = str(inbound_id or f"{phone_index}:{now.isoformat()}")
    owned = await replies.respond_to_signals(
        session, sender, found, text, now=now, settings=settings, key=key, inbound_id=inbound_id,
        reply_to=reply_to,
    )  # fmt: skip
    withdrawal = is_quote_withdrawal(text) and sender.client_id is not None
    if withdrawal:
        await _withdraw_quotes(session, sender, found, settings=settings, now=now, key=key, reply_to=reply_to,
                               on_quotes_withdrawn=on_quotes_withdrawn)  # fmt: skip
    if conv is not None and conv.is_open:
        questionnaire = await questionnaires.get(session, conv.questionnaire_id)
        specs = _specs(questionnaire)
        if conv.awaiting_quote_consent:
            understood = parse_quote_consent(text) is not None
        else:
            understood = isinstance(parse_answer(specs[conv.step], text), Parsed)
        valid = conv.paused_at is None and understood
        if withdrawal and not conv.awaiting_quote_consent and not found:
            # not an answer to the current question: the survey waits for one
            await replies.mark_inbound(session, inbound_id, "quote_withdrawn")
            await session.flush()
            return conv
        if found.crisis or (found.call_me and not valid):
            await _apply(session, conv, questionnaire, machine.on_pause(_state(conv), now), now=now,
                         settings=settings)  # fmt: skip
        elif conv.paused_at is None:
            outcome = machine.on_reply(_state(conv), specs, text, now, _config(settings))
            await _apply(session, conv, questionnaire, outcome, now=now, settings=settings)
            if not valid and not owned:
                await replies.keep_in_inbox(session, sender, found, text, now=now, inbound_id=inbound_id,
                                            reason=InboxReason.NOT_AN_ANSWER)  # fmt: skip
            await replies.mark_inbound(session, inbound_id, "answer" if valid else "inbox")
            await session.flush()
            return conv
    if withdrawal and not found:
        await replies.mark_inbound(session, inbound_id, "quote_withdrawn")
        await session.flush()
        return conv
    if not owned:
        case = await replies.open_case_of(session, sender)
        if case is not None:  # a later word from a person whose case is open: onto its timeline
            await append_message(session, case, text=text, now=now, inbound_id=inbound_id)
            owned = True
    if not owned:
        await replies.keep_in_inbox(session, sender, found, text, now=now, inbound_id=inbound_id)
    await replies.mark_inbound(session, inbound_id, _outcome(found, owned))
    await session.flush()
    return conv


async def _withdraw_quotes(
    session: AsyncSession,
    sender: replies.Sender,
    found: Signals,
    *,
    settings: Settings,
    now: datetime,
    key: str,
    reply_to: str | None,
    on_quotes_withdrawn: QuotesWithdrawn | None,
) -> None:
    """The person asked us to stop quoting them: consent off for all they wrote, and a confirmation.

    The confirmation is sent even when nothing was quotable (the person is told it is done
    either way), but not beside a crisis acknowledgement, which must stand alone.
    """
    assert sender.client_id is not None
    keys = await client_respondent_keys(session, settings.secret_key, sender.client_id)
    withdrawn = await withdraw_quote_consent(session, respondent_keys=keys)
    if withdrawn and on_quotes_withdrawn is not None:
        await on_quotes_withdrawn(session, withdrawn)
    log.info("quoting consent withdrawn by SMS for %d open texts", len(withdrawn))
    if not found.crisis:
        await replies.confirm_quote_withdrawal(session, sender, now=now, settings=settings, key=key,
                                               reply_to=reply_to)  # fmt: skip


def _outcome(found: Signals, owned: bool) -> str:
    if found:
        return "signals:" + ",".join(found.names)
    return "case_timeline" if owned else "inbox"


async def _last_prompt_sent_at(session: AsyncSession, conv: Conversation) -> datetime | None:
    if conv.last_prompt_outbox_id is None:
        return None
    from notifications.models import SmsOutbox

    return await session.scalar(
        sa.select(SmsOutbox.sent_at).where(SmsOutbox.id == conv.last_prompt_outbox_id)
    )


async def tick(session: AsyncSession, *, now: datetime, settings: Settings, limit: int = 200) -> int:
    """Send due reminders and expire old conversations; returns how many changed."""
    config = _config(settings)
    rows = await session.scalars(
        sa.select(Conversation)
        .where(
            Conversation.is_open.is_(True),
            sa.or_(
                Conversation.reminder_sent.is_(False), Conversation.started_at <= now - config.expire_after
            ),
        )
        .order_by(Conversation.started_at)
        .limit(limit)
    )
    changed = 0
    for conv in list(rows.all()):
        sent_at = await _last_prompt_sent_at(session, conv)
        outcome = machine.on_tick(_state(conv), now, sent_at, config)
        if outcome.effects:
            questionnaire = await questionnaires.get(session, conv.questionnaire_id)
            await _apply(session, conv, questionnaire, outcome, now=now, settings=settings)
            changed += 1
    return changed


async def delivery_failed(
    session: AsyncSession, conversation_id: uuid.UUID, *, now: datetime, settings: Settings
) -> Conversation | None:
    conv = await session.get(Conversation, conversation_id)
    if conv is None or not conv.is_open:
        return conv
    questionnaire = await questionnaires.get(session, conv.questionnaire_id)
    await _apply(
        session,
        conv,
        questionnaire,
        machine.on_delivery_failed(_state(conv), now),
        now=now,
        settings=settings,
    )
    return conv


async def opted_out(session: AsyncSession, phone_index: str, *, now: datetime, settings: Settings) -> int:
    """End every open conversation with this number as opted out; pending texts are cancelled."""
    rows = await session.scalars(
        sa.select(Conversation).where(Conversation.phone_index == phone_index, Conversation.is_open.is_(True))
    )
    count = 0
    for conv in list(rows.all()):
        questionnaire = await questionnaires.get(session, conv.questionnaire_id)
        await _apply(
            session, conv, questionnaire, machine.on_opt_out(_state(conv), now), now=now, settings=settings
        )
        count += 1
    return count


# ---------------------------------------------------------------- the InboundHandler port
# The catalogue text that confirms each keyword notifications recognised.
KEYWORD_TEXTS = {"stop": "signal.opt_out_confirm", "start": "keyword.start", "help": "keyword.help"}
# Problems after which the person cannot be reached by SMS for this conversation.
FAILURE_KINDS = frozenset({"failed", "undelivered", "unreachable", "dead", "expired"})


class SurveyInboundHandler:
    def __init__(self, settings: Settings, *, on_quotes_withdrawn: QuotesWithdrawn | None = None) -> None:
        self.settings = settings
        self.on_quotes_withdrawn = on_quotes_withdrawn

    async def handle_inbound(self, session: AsyncSession, sms: InboundSms) -> None:
        await handle_reply(
            session,
            sms.from_index,
            sms.body,
            now=sms.received_at,
            settings=self.settings,
            inbound_id=sms.inbound_id,
            reply_to=sms.from_e164,
            on_quotes_withdrawn=self.on_quotes_withdrawn,
        )

    async def handle_delivery_problem(self, session: AsyncSession, problem: DeliveryProblem) -> None:
        ref = problem.owner_ref or ""
        if not ref.startswith("conversation:"):
            return
        try:
            conversation_id = uuid.UUID(ref.split(":", 1)[1])
        except ValueError:
            return
        if problem.kind in FAILURE_KINDS:
            await delivery_failed(session, conversation_id, now=problem.at, settings=self.settings)

    async def handle_opt_out(self, session: AsyncSession, phone_index: str, at: datetime) -> None:
        await opted_out(session, phone_index, now=at, settings=self.settings)

    async def keyword_reply(
        self, session: AsyncSession, phone_index: str, keyword: str, wrote_in: str | None
    ) -> KeywordReply | None:
        """STOPP/START/HJÄLP confirmed in the registered language, else the keyword's own."""
        from notifications.ports import KeywordReply

        key = KEYWORD_TEXTS.get(keyword)
        if key is None:
            return None
        sender = await replies.find_sender(session, phone_index, None, False)
        if sender.registered_language is None and wrote_in is None:
            return None  # an unknown number writing STOP: notifications answers in sv and en
        language = reply_language(sender.registered_language, wrote_in)
        resolved = (await texts.load(session)).resolve(key, language)
        return KeywordReply(resolved.body, resolved.language)
