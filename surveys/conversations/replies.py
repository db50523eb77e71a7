"""What a person's message causes besides the survey: crisis, "ring mig", opt-out, the inbox.

Called by ``service.handle_reply`` for every inbound text, *before* the survey machine sees it,
inside the webhook's transaction. Why here and not in notifications: the replies need the
person's registered language, unit, closure and follow-up, which only the survey layer knows.

* crisis → an acknowledgement naming where to get help now (in the person's language, sent at
  once, also to a number that opted out: it answers what they just wrote), an *akut* case due
  the same working day (or appended to the open case, raising its priority) and a call task;
* call-me → a confirmation ("Vi ringer dig inom två arbetsdagar …"), a call task carrying the
  message and a case (normal priority);
* opt-out phrase ("vill inte ha fler sms", "توقف", "JOOJI", "stop please") → the opt-out ledger,
  open conversations ended, a confirmation in the person's language;
* anything else that is not a survey answer → an inbox item for the unit (``keep_in_inbox``);
* "ta bort mitt citat" → quoting consent withdrawn (``service.handle_reply``), a confirmation.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.cases.models import Case, CasePriority, CaseStatus
from surveys.cases.service import local_today, record_signals
from surveys.cases.signals import Signals
from surveys.conversations.models import Conversation
from surveys.inbox.models import InboxReason
from surveys.questionnaires.texts import crisis_keys, reply_language
from surveys.texts import service as texts
from surveys.texts.catalogue import Catalogue

if TYPE_CHECKING:
    from feedback.core.settings import Settings
    from surveys.plans.models import FollowUp

log = logging.getLogger(__name__)


@dataclass
class Sender:
    """Who wrote, as far as we can tell from the number's blind index."""

    phone_index: str
    conversation: Conversation | None = None
    late: bool = False  # the conversation closed recently (after the thank-you)
    client_id: uuid.UUID | None = None
    closure_id: uuid.UUID | None = None
    follow_up_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    registered_language: str | None = None

    @property
    def known(self) -> bool:
        return self.closure_id is not None and self.unit_id is not None


async def find_sender(
    session: AsyncSession, phone_index: str, conversation: Conversation | None, late: bool
) -> Sender:
    """The sender behind ``phone_index``: from the conversation, else the newest client record."""
    from surveys.closures.models import Client, Closure

    if conversation is not None:
        from surveys.plans.models import FollowUp

        follow_up = await session.get(FollowUp, conversation.follow_up_id)
        client = await session.get(Client, follow_up.client_id) if follow_up is not None else None
        return Sender(
            phone_index,
            conversation,
            late,
            client_id=client.id if client is not None else None,
            closure_id=conversation.closure_id,
            follow_up_id=conversation.follow_up_id,
            unit_id=conversation.unit_id,
            registered_language=conversation.language,
        )
    client = await session.scalar(
        sa.select(Client)
        .where(Client.phone_index == phone_index, Client.erased_at.is_(None))
        .order_by(Client.updated_at.desc())
        .limit(1)
    )
    if client is None:
        return Sender(phone_index)
    closure = await session.scalar(
        sa.select(Closure).where(Closure.client_id == client.id).order_by(Closure.closed_on.desc()).limit(1)
    )
    follow_up_id = None
    if closure is not None:
        from surveys.plans.models import FollowUp

        follow_up_id = await session.scalar(
            sa.select(FollowUp.id)
            .where(FollowUp.closure_id == closure.id)
            .order_by(FollowUp.due_on.desc(), FollowUp.wave_days.desc())
            .limit(1)
        )
    return Sender(
        phone_index,
        client_id=client.id,
        closure_id=closure.id if closure is not None else None,
        follow_up_id=follow_up_id,
        unit_id=client.unit_id,
        registered_language=str(client.language),
    )


async def _reply_to(
    session: AsyncSession, sender: Sender, reply_to: str | None, settings: Settings
) -> str | None:
    if reply_to:
        return reply_to
    if sender.client_id is None:
        return None
    from surveys.conversations.service import _phone

    return await _phone(session, sender.client_id, settings)


async def _send(
    session: AsyncSession,
    sender: Sender,
    *,
    body: str,
    kind: str,
    key: str,
    now: datetime,
    settings: Settings,
    reply_to: str | None,
    ignore_opt_out: bool = False,
    language: str | None = None,
) -> uuid.UUID | None:
    from notifications.outbox import enqueue
    from notifications.phone import InvalidPhoneNumber

    to = await _reply_to(session, sender, reply_to, settings)
    if to is None:
        return None
    try:
        return await enqueue(
            session,
            idempotency_key=f"signal:{key}:{kind}"[:200],
            to_e164=to,
            body=body,
            settings=settings,
            owner_ref=f"conversation:{sender.conversation.id}" if sender.conversation is not None else None,
            unit_id=sender.unit_id,
            now=now,
            kind=kind,
            # A direct answer to what the person just wrote: it may go at once, outside the
            # office window, like the STOPP confirmation.
            conversation_exempt=True,
            ignore_opt_out=ignore_opt_out,
            language=language,
        )
    except InvalidPhoneNumber:
        log.info("no %s sent: the sender's number cannot receive SMS", kind)
        return None


async def _follow_up(session: AsyncSession, sender: Sender) -> FollowUp | None:
    if sender.follow_up_id is None:
        return None
    from surveys.plans.models import FollowUp

    return await session.get(FollowUp, sender.follow_up_id)


async def respond_to_signals(
    session: AsyncSession,
    sender: Sender,
    signals: Signals,
    text: str,
    *,
    now: datetime,
    settings: Settings,
    key: str,
    inbound_id: uuid.UUID | None,
    reply_to: str | None,
) -> bool:
    """Act on the signals of one message; True when something took ownership of it."""
    if not signals:
        return False
    language = reply_language(sender.registered_language, signals.language)
    catalogue = await texts.load(session)
    if signals.opt_out:
        await opt_out(session, sender, now=now, settings=settings)
        body, used = _say(catalogue, language, ["opt_out_confirm"])
        await _send(session, sender, body=body, kind="optout_confirmation", key=key, now=now, settings=settings,
                    reply_to=reply_to, ignore_opt_out=True, language=used)  # fmt: skip
    if not (signals.crisis or signals.call_me):
        return True
    if not sender.known:
        # No case can be opened for a number we cannot link to a closure: the admins' inbox
        # gets it (kept by the caller); a person in crisis still gets the help lines.
        if signals.crisis:
            body, used = _say(catalogue, language, crisis_keys(signals.crisis, call=None))
            await _send(session, sender, body=body, kind="crisis_ack", key=key, now=now, settings=settings,
                        reply_to=reply_to, ignore_opt_out=True, language=used)  # fmt: skip
        return False
    assert sender.unit_id is not None and sender.closure_id is not None
    result = await record_signals(
        session,
        unit_id=sender.unit_id,
        closure_id=sender.closure_id,
        follow_up_id=sender.follow_up_id,
        signals=signals,
        text=text,
        source="sms",
        now=now,
        inbound_id=inbound_id,
    )
    follow_up = await _follow_up(session, sender)
    if follow_up is not None:
        from surveys.phone.service import request_call

        reason = "crisis" if signals.crisis else "call_me"
        await request_call(session, follow_up, reason=reason, message=text, now=now)
    if signals.crisis:
        call = "today" if result.case.due_on == local_today(now) else "next_day"
        body, used = _say(catalogue, language, crisis_keys(signals.crisis, call=call))
        await _send(session, sender, body=body, kind="crisis_ack", key=key, now=now, settings=settings,
                    reply_to=reply_to, ignore_opt_out=True, language=used)  # fmt: skip
    elif not signals.opt_out:
        body, used = _say(catalogue, language, ["call_me_confirm"])
        await _send(session, sender, body=body, kind="call_me_confirmation", key=key, now=now, settings=settings,
                    reply_to=reply_to, language=used)  # fmt: skip
    return True


def _say(catalogue: Catalogue, language: str, keys: list[str]) -> tuple[str, str]:
    """The signal reply made of ``keys`` (``signal.<key>``) and the language it is actually in."""
    parts = [catalogue.resolve(f"signal.{k}", language) for k in keys]
    used = parts[0].language
    if any(p.language != used for p in parts):
        log.info("a signal reply mixes languages %s", sorted({p.language for p in parts}))
    return " ".join(p.body for p in parts), used


async def opt_out(session: AsyncSession, sender: Sender, *, now: datetime, settings: Settings) -> None:
    """An opt-out phrase counts as STOPP: the ledger, pending texts skipped, conversations ended."""
    from notifications import optout
    from notifications.models import OptOutAction, OptOutSource
    from surveys.conversations.service import opted_out

    await optout.record(
        session, sender.phone_index, action=OptOutAction.OPT_OUT, source=OptOutSource.KEYWORD, at=now,
        note="Opt-out phrase in a message",
    )  # fmt: skip
    await opted_out(session, sender.phone_index, now=now, settings=settings)


async def open_case_of(session: AsyncSession, sender: Sender) -> Case | None:
    if sender.closure_id is None:
        return None
    return await session.scalar(
        sa.select(Case)
        .where(Case.closure_id == sender.closure_id, Case.status == CaseStatus.OPEN)
        .order_by(sa.case((Case.priority == CasePriority.AKUT, 0), else_=1), Case.opened_at.desc())
        .limit(1)
    )


async def keep_in_inbox(
    session: AsyncSession,
    sender: Sender,
    signals: Signals,
    text: str,
    *,
    now: datetime,
    inbound_id: uuid.UUID | None,
    reason: InboxReason | None = None,
) -> None:
    """Nothing else owns this message: the unit's inbox (an unknown number's: the admins')."""
    if inbound_id is None:
        log.warning("an unowned message without a stored inbound row cannot be kept in the inbox")
        return
    from surveys.inbox.service import keep

    if reason is None:
        if not sender.known:
            reason = (
                InboxReason.CRISIS_UNKNOWN
                if signals.crisis
                else InboxReason.CALL_ME_UNKNOWN
                if signals.call_me
                else InboxReason.UNKNOWN_NUMBER
            )
        else:
            reason = InboxReason.AFTER_SURVEY
    await keep(
        session,
        inbound_id=inbound_id,
        unit_id=sender.unit_id,
        closure_id=sender.closure_id,
        phone_index=sender.phone_index,
        text=text,
        reason=reason,
        now=now,
        signals=signals.names,
        language=reply_language(sender.registered_language, signals.language),
    )


async def mark_inbound(session: AsyncSession, inbound_id: uuid.UUID | None, outcome: str) -> None:
    """Say on the stored inbound row what became of it (it was stored as ``handed_on``)."""
    if inbound_id is None:
        return
    from notifications.models import SmsInbound

    await session.execute(
        sa.update(SmsInbound)
        .where(SmsInbound.id == inbound_id)
        .values(outcome=outcome[:32])
        .execution_options(synchronize_session=False)
    )


async def confirm_quote_withdrawal(
    session: AsyncSession,
    sender: Sender,
    *,
    now: datetime,
    settings: Settings,
    key: str,
    reply_to: str | None,
) -> None:
    """Tell the person, in their language, that their quote is gone ("Vi har tagit bort ditt citat.")."""
    resolved = (await texts.load(session)).resolve(
        "quote.quote_withdrawn", reply_language(sender.registered_language)
    )
    await _send(session, sender, body=resolved.body, kind="quote_withdrawn", key=key, now=now, settings=settings,
                reply_to=reply_to, language=resolved.language)  # fmt: skip
