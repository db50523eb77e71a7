"""Inbox use-cases: keep an unowned message, list a unit's open items, mark one handled.

The caller owns the transaction. Texts are redacted before the row exists (the full message
stays encrypted in ``sms_inbound``, reachable through ``inbound_id``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import Conflict, NotFound
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
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], *, include_unowned: bool = False
) -> list[InboxItem]:
    """Open items of my units, oldest first; ``include_unowned`` (admins) adds those without a unit."""
    where: sa.ColumnElement[bool] = InboxItem.unit_id.in_(list(unit_ids))
    if include_unowned:
        where = sa.or_(where, InboxItem.unit_id.is_(None))
    rows = await session.scalars(
        sa.select(InboxItem)
        .where(where, InboxItem.status == InboxStatus.OPEN)
        .order_by(InboxItem.received_at, InboxItem.id)
    )
    return list(rows.all())


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
