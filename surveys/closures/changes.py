"""Stop contact with a person: do-not-contact, withdrawn consent, return to assistance, erasure.

Why one place: the pre-send gate already refuses *future* waves, but a conversation that has
started, texts waiting in the outbox and calls in the queue must stop too, in the same
transaction as the change that requires it. The caller owns the transaction and commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.db import rowcount, utcnow
from surveys.closures.models import Client
from surveys.plans.models import FollowUp, FollowUpStatus

STOP_MESSAGES_SV = {
    "do_not_contact": "Handläggaren har markerat att personen inte ska kontaktas.",
    "consent_withdrawn": "Personen har återkallat sitt samtycke.",
    "case_reopened": "Personen har fått bistånd igen (återaktualisering).",
    "erased": "Kontaktuppgifterna har raderats.",
    "protected_identity": "Personen har fått skyddad identitet.",
    "wrong_number": "Numret var fel: det gick till någon annan.",
}


@dataclass
class Stopped:
    follow_ups: int = 0
    conversations: int = 0
    messages: int = 0
    calls: int = 0


async def stop_contact(
    session: AsyncSession,
    *,
    reason: str,
    now: datetime,
    client_id: uuid.UUID | None = None,
    closure_id: uuid.UUID | None = None,
    include_scheduled: bool = False,
) -> Stopped:
    """End what is in flight for a client (all closures) or one closure.

    Open SMS conversations are closed and their unsent texts cancelled; open or claimed calls are
    cancelled; follow-ups that were handed over (due/started) become cancelled with ``reason``.
    ``include_scheduled`` also cancels waves not yet due (return to assistance, erasure); without
    it they stay scheduled and the gate decides at due time (a flag can be switched back).
    """
    from notifications.outbox import cancel_pending
    from surveys.conversations.models import Conversation
    from surveys.conversations.service import owner_ref
    from surveys.phone.models import CallStatus, CallTask

    if (client_id is None) == (closure_id is None):
        raise ValueError("give exactly one of client_id and closure_id")
    scope_fu = FollowUp.client_id == client_id if client_id else FollowUp.closure_id == closure_id
    follow_up_ids = sa.select(FollowUp.id).where(scope_fu).scalar_subquery()
    stopped = Stopped()
    message_sv = STOP_MESSAGES_SV.get(reason)

    conversations = list(
        await session.scalars(
            sa.select(Conversation).where(
                Conversation.follow_up_id.in_(follow_up_ids), Conversation.is_open.is_(True)
            )
        )
    )
    for conv in conversations:
        stopped.messages += await cancel_pending(session, owner_ref(conv.id), now=now, reason_sv=message_sv)
        conv.is_open = False
        conv.closed_at = now
        stopped.conversations += 1

    calls = await session.execute(
        sa.update(CallTask)
        .where(
            CallTask.follow_up_id.in_(follow_up_ids),
            CallTask.status.in_([CallStatus.OPEN, CallStatus.CLAIMED]),
        )
        .values(status=CallStatus.CANCELLED, finished_at=now, claim_expires_at=None)
        .execution_options(synchronize_session="fetch")
    )
    stopped.calls = rowcount(calls)

    statuses = [FollowUpStatus.DUE, FollowUpStatus.STARTED]
    if include_scheduled:
        statuses.append(FollowUpStatus.SCHEDULED)
    result = await session.execute(
        sa.update(FollowUp)
        .where(scope_fu, FollowUp.status.in_(statuses))
        .values(
            status=FollowUpStatus.CANCELLED,
            skip_reason=reason,
            finished_at=now,
            revision=FollowUp.revision + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session="fetch")
    )
    stopped.follow_ups = rowcount(result)
    await session.flush()
    return stopped


async def set_do_not_contact(
    session: AsyncSession, client: Client, value: bool, *, now: datetime
) -> Stopped | None:
    """Switch the caseworker's do-not-contact flag; switching it on stops contact in flight."""
    if client.do_not_contact == value:
        return None
    client.do_not_contact = value
    await session.flush()
    if value:
        return await stop_contact(session, reason="do_not_contact", now=now, client_id=client.id)
    return Stopped()


async def withdraw_consent(session: AsyncSession, client: Client, *, now: datetime) -> Stopped | None:
    """Record that the person withdrew consent (idempotent) and stop contact in flight."""
    if client.consent_withdrawn_at is not None:
        return None
    client.consent_withdrawn_at = now
    await session.flush()
    return await stop_contact(session, reason="consent_withdrawn", now=now, client_id=client.id)
