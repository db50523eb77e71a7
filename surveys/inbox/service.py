"""Inbox use-cases: keep an unowned message, list a unit's open items, reply, mark one handled.

The caller owns the transaction. Texts are redacted before the row exists (the full message
stays encrypted in ``sms_inbound``, reachable through ``inbound_id``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import Conflict, InvalidInput, NotFound
from notifications import optout, outbox, windows
from notifications.models import OutboxStatus, SmsInbound
from notifications.phone import InvalidPhoneNumber, PhoneVault
from surveys.inbox.models import InboxItem, InboxReason, InboxStatus
from surveys.redaction import redact_text


async def keep(
    session: AsyncSession,
    *,
    inbound_id: uuid.UUID,
    unit_id: uuid.UUID | None,
    closure_id: uuid.UUID | None,
    phone_index: str,
    text: str,
    reason: InboxReason,
    now: datetime,
    signals: Iterable[str] = (),
    language: str = "sv",
) -> InboxItem:
    """One item per inbound message (a repeat returns the existing item)."""
    existing = await session.scalar(sa.select(InboxItem).where(InboxItem.inbound_id == inbound_id))
    if existing is not None:
        return existing
    item = InboxItem(
        inbound_id=inbound_id,
        unit_id=unit_id,
        closure_id=closure_id,
        phone_index=phone_index,
        text_redacted=redact_text(text)[:2000],
        signals=",".join(signals),
        reason=reason,
        language=language[:8],
        received_at=now,
    )
    session.add(item)
    await session.flush()
    return item


async def list_open_items(
    session: AsyncSession,
    unit_ids: Iterable[uuid.UUID],
    *,
    include_unowned: bool = False,
    newest_first: bool = False,
) -> list[InboxItem]:
    """Open items of my units, oldest first (or newest first: the inbox page); ``include_unowned``
    (admins) adds those without a unit."""
    where: sa.ColumnElement[bool] = InboxItem.unit_id.in_(list(unit_ids))
    if include_unowned:
        where = sa.or_(where, InboxItem.unit_id.is_(None))
    order = (
        (InboxItem.received_at.desc(), InboxItem.id)
        if newest_first
        else (InboxItem.received_at, InboxItem.id)
    )
    rows = await session.scalars(
        sa.select(InboxItem).where(where, InboxItem.status == InboxStatus.OPEN).order_by(*order)
    )
    return list(rows.all())


async def get_item(
    session: AsyncSession, item_id: uuid.UUID, unit_ids: Iterable[uuid.UUID], *, is_admin: bool = False
) -> InboxItem:
    """One item of my units (``NotFound`` for another unit's: its existence is not disclosed)."""
    item = await session.get(InboxItem, item_id)
    allowed = item is not None and (item.unit_id in set(unit_ids) or (item.unit_id is None and is_admin))
    if item is None or not allowed:
        raise NotFound("Meddelandet finns inte.")
    return item


async def assign(session: AsyncSession, item: InboxItem, assignee_id: uuid.UUID | None) -> InboxItem:
    """Give the item to a named caseworker (``None``: back to the whole unit).

    The caller checks that the assignee is a caseworker of the item's unit (users live in a layer
    above this one).
    """
    if item.status is InboxStatus.HANDLED:
        raise Conflict("Meddelandet är redan hanterat.")
    item.assigned_to_id = assignee_id
    await session.flush()
    return item


REPLY_MAX_CHARS = 640  # four SMS segments: a reply, not a letter
OPTED_OUT_SV = (
    "Personen har tackat nej till sms (STOPP). Svaret skickades inte. Ring personen i stället om det behövs."
)


@dataclass(frozen=True)
class Reply:
    outbox_id: uuid.UUID
    sends_now: bool  # inside the unit's send window; else it waits for the next window


async def reply(session: AsyncSession, item: InboxItem, *, body: str, now: datetime, settings: Any) -> Reply:
    """Answer an inbox item by SMS through the outbox (send window and opt-out apply).

    The number is read from the stored inbound message (encrypted) and goes only into the outbox
    row (encrypted too); nothing here logs it. A number that opted out is refused: the caller
    rolls back, so no ``skipped`` row is left behind. A repeated identical reply (a double
    click) is one message (the idempotency key covers item and text).
    """
    text = (body or "").strip()
    if len(text) < 2:
        raise InvalidInput("Skriv ett svar.", field="body")
    if len(text) > REPLY_MAX_CHARS:
        raise InvalidInput(f"Svaret får vara högst {REPLY_MAX_CHARS} tecken.", field="body")
    if item.status is InboxStatus.HANDLED:
        raise Conflict("Meddelandet är redan hanterat.")
    if await optout.is_opted_out(session, item.phone_index):
        raise Conflict(OPTED_OUT_SV, field="body")
    inbound = await session.get(SmsInbound, item.inbound_id)
    if inbound is None:
        raise Conflict("Numret finns inte längre sparat, så svaret kan inte skickas.", field="body")
    vault = PhoneVault.from_settings(settings)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    try:
        outbox_id = await outbox.enqueue(
            session,
            idempotency_key=f"inbox-reply:{item.id}:{digest}",
            to_e164=vault.decrypt(inbound.from_encrypted),
            body=text,
            vault=vault,
            owner_ref=f"inbox:{item.id}",
            unit_id=item.unit_id,
            now=now,
            kind="inbox_reply",
        )
    except InvalidPhoneNumber as exc:
        raise Conflict("Numret kan inte ta emot sms, så svaret kan inte skickas.", field="body") from exc
    message = await outbox.get_message(session, outbox_id)
    if message is not None and message.status == OutboxStatus.SKIPPED:
        raise Conflict(OPTED_OUT_SV, field="body")
    window = await windows.window_for_unit(session, item.unit_id)
    return Reply(outbox_id=outbox_id, sends_now=windows.is_allowed(now, window))


async def replies_for(session: AsyncSession, item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    """The replies sent to each item (outbox rows owned by ``inbox:<id>``), oldest first."""
    refs = {f"inbox:{i}": i for i in item_ids}
    if not refs:
        return {}
    from notifications.models import SmsOutbox

    rows = await session.scalars(
        sa.select(SmsOutbox).where(SmsOutbox.owner_ref.in_(list(refs))).order_by(SmsOutbox.created_at)
    )
    found: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        found.setdefault(refs[str(row.owner_ref)], []).append(row)
    return found


async def mark_handled(
    session: AsyncSession,
    item_id: uuid.UUID,
    *,
    user_id: uuid.UUID,
    unit_ids: Iterable[uuid.UUID],
    now: datetime,
    is_admin: bool = False,
) -> InboxItem:
    item = await session.get(InboxItem, item_id)
    allowed = item is not None and (item.unit_id in set(unit_ids) or (item.unit_id is None and is_admin))
    if item is None or not allowed:
        raise NotFound("Meddelandet finns inte.")
    if item.status is InboxStatus.HANDLED:
        raise Conflict("Meddelandet är redan hanterat.")
    item.status = InboxStatus.HANDLED
    item.handled_at = now
    item.handled_by_id = user_id
    await session.flush()
    return item
