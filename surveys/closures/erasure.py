"""Erasure of contact data: on request (right to erasure) and after the retention period (purge).

What goes: the phone number (ciphertext, blind index, mask), the link to the case system
(``client_ref``), the number on the client's SMS conversations and outbox rows, and the raw
inbound texts from that number. What stays: answers, outcomes and cases, linked only by the
pseudonymous client id, so reports keep their counts. The opt-out ledger keeps its keyed hash: a
person who wrote STOPP must stay opted out even if the number is registered again.

Every erasure is written to the audit log in the same transaction. The caller commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core import audit
from feedback.core.errors import Conflict, NotFound
from surveys.closures.changes import stop_contact
from surveys.closures.models import Client, Closure
from surveys.plans.models import OPEN_STATUSES, FollowUp
from surveys.plans.service import local_date
from surveys.redaction import redact_text

ERASED_MARK = "erased"


@dataclass(frozen=True)
class Erasure:
    client_id: uuid.UUID
    follow_ups: int
    conversations: int
    messages: int
    calls: int


async def erase_client(
    session: AsyncSession,
    client_id: uuid.UUID,
    *,
    now: datetime,
    actor_id: uuid.UUID | None,
    reason: str,
    client_ip: str | None = None,
) -> Erasure:
    """Erase one client's contact data now (idempotent refusal: 409 when already erased)."""
    from notifications.models import SmsInbound, SmsOutbox
    from surveys.conversations.models import Conversation
    from surveys.conversations.service import owner_ref

    client = await session.get(Client, client_id, populate_existing=True)
    if client is None:
        raise NotFound("Klienten finns inte.", field="client_id")
    if client.erased_at is not None:
        raise Conflict("Klientens kontaktuppgifter är redan raderade.", field="client_id")
    stopped = await stop_contact(
        session, reason="erased", now=now, client_id=client.id, include_scheduled=True
    )

    conversation_ids = list(
        await session.scalars(
            sa.select(Conversation.id)
            .join(FollowUp, FollowUp.id == Conversation.follow_up_id)
            .where(FollowUp.client_id == client.id)
        )
    )
    if conversation_ids:
        await session.execute(
            sa.update(Conversation)
            .where(Conversation.id.in_(conversation_ids))
            .values(phone_index=None)
            .execution_options(synchronize_session="fetch")
        )
        await session.execute(
            sa.update(SmsOutbox)
            .where(SmsOutbox.owner_ref.in_([owner_ref(c) for c in conversation_ids]))
            .values(to_encrypted="", to_index=ERASED_MARK)
            .execution_options(synchronize_session=False)
        )
    phone_index = client.phone_index
    if phone_index:
        shared = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Client)
            .where(Client.phone_index == phone_index, Client.id != client.id, Client.erased_at.is_(None))
        )
        if not shared:
            await session.execute(
                sa.update(SmsInbound)
                .where(SmsInbound.from_index == phone_index)
                .values(from_encrypted="", body_encrypted="", from_index=ERASED_MARK)
                .execution_options(synchronize_session=False)
            )
    client.phone_ciphertext = None
    client.phone_index = None
    client.phone_masked = None
    client.client_ref = None
    client.erased_at = now
    await session.flush()
    erasure = Erasure(client.id, stopped.follow_ups, stopped.conversations, stopped.messages, stopped.calls)
    await audit.record(
        session,
        actor_id=actor_id,
        action="contact.erase",
        subject_type="client",
        subject_id=client.id,
        reason=redact_text(reason),  # free text by the admin: the audit row keeps no personal data
        client_ip=client_ip,
        detail={
            "unit_id": str(client.unit_id),
            "follow_ups_cancelled": erasure.follow_ups,
            "conversations_closed": erasure.conversations,
            "messages_cancelled": erasure.messages,
            "calls_cancelled": erasure.calls,
        },
    )
    return erasure


def expired_clients_query(now: datetime, retention_days: int) -> sa.Select[uuid.UUID]:
    """Clients whose plan is finished (nothing open) and whose last possible contact (the last
    wave's window end, or the closure date) is more than ``retention_days`` ago."""
    cutoff = local_date(now) - timedelta(days=retention_days)
    open_follow_up = sa.exists().where(FollowUp.client_id == Client.id, FollowUp.status.in_(OPEN_STATUSES))
    last_window = sa.select(sa.func.max(FollowUp.window_end)).where(FollowUp.client_id == Client.id)
    last_closure = sa.select(sa.func.max(Closure.closed_on)).where(Closure.client_id == Client.id)
    return (
        sa.select(Client.id)
        .where(
            Client.erased_at.is_(None),
            ~open_follow_up,
            last_closure.scalar_subquery() < cutoff,
            sa.func.coalesce(last_window.scalar_subquery(), last_closure.scalar_subquery()) < cutoff,
        )
        .order_by(Client.id)
    )


async def purge_expired(
    session: AsyncSession, *, now: datetime, retention_days: int, dry_run: bool = False, limit: int = 10_000
) -> list[uuid.UUID]:
    """Erase every client past retention (``feedback purge``); returns their ids."""
    ids = list(await session.scalars(expired_clients_query(now, retention_days).limit(limit)))
    if dry_run:
        return ids
    for client_id in ids:
        await erase_client(
            session,
            client_id,
            now=now,
            actor_id=None,
            reason=f"Gallring: {retention_days} dagar efter avslutad plan",
        )
    return ids


async def find_client(session: AsyncSession, unit_id: uuid.UUID, client_ref: str) -> Client | None:
    return await session.scalar(
        sa.select(Client).where(Client.unit_id == unit_id, Client.client_ref == client_ref.strip())
    )
