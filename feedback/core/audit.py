"""The audit helper every feature calls when someone reads or changes personal data.

The table is append-only: there is no update or delete here, the purge job and erasure never
touch it, and database triggers (migration ``0540_audit_append_only``) refuse UPDATE and DELETE
on SQLite and PostgreSQL whoever connects.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.models import AuditEvent


async def record(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: str | uuid.UUID | None = None,
    reason: str = "",
    client_ip: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's transaction (the caller commits).

    ``action`` is a dotted verb such as ``contact.read`` or ``contact.erase``; ``detail`` must not
    contain personal data itself (ids and counts only). ``at`` lets a caller with an injected
    clock date the event on that clock (the client page's timeline orders by it).
    """
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id) if subject_id is not None else None,
        reason=reason,
        client_ip=client_ip,
        detail=detail or {},
    )
    if at is not None:
        event.at = at
    session.add(event)
    await session.flush()
    return event
