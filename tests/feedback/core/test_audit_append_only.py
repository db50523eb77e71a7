"""The audit table refuses UPDATE and DELETE in the database itself (migration 0540), on both."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core import audit
from feedback.core.db import dialect_name
from feedback.core.models import AuditEvent

STATEMENTS = [
    "UPDATE audit_event SET reason = 'ändrad'",
    "UPDATE audit_event SET actor_id = NULL",
    "DELETE FROM audit_event",
]


async def _one_event(session: AsyncSession) -> int:
    event = await audit.record(
        session, actor_id=None, action="contact.read", subject_type="client", subject_id="c1", reason="test"
    )
    await session.commit()
    return event.id


async def _unchanged(session: AsyncSession, event_id: int) -> None:
    session.expire_all()
    event = await session.get(AuditEvent, event_id)
    assert event is not None and event.reason == "test" and event.action == "contact.read"


@pytest.mark.parametrize("statement", STATEMENTS)
async def test_update_and_delete_are_refused(db_session: AsyncSession, statement: str) -> None:
    event_id = await _one_event(db_session)
    with pytest.raises(DBAPIError, match="append-only"):
        await db_session.execute(sa.text(statement))
    await db_session.rollback()
    await _unchanged(db_session, event_id)


async def test_orm_update_and_delete_are_refused(db_session: AsyncSession) -> None:
    event_id = await _one_event(db_session)
    event = await db_session.get(AuditEvent, event_id)
    assert event is not None
    event.reason = "ändrad"
    with pytest.raises(DBAPIError, match="append-only"):
        await db_session.commit()
    await db_session.rollback()
    event = await db_session.get(AuditEvent, event_id)
    assert event is not None
    await db_session.delete(event)
    with pytest.raises(DBAPIError, match="append-only"):
        await db_session.commit()
    await db_session.rollback()
    await _unchanged(db_session, event_id)


async def test_inserting_still_works_and_truncate_is_refused_on_postgres(db_session: AsyncSession) -> None:
    first, second = await _one_event(db_session), await _one_event(db_session)
    assert second > first
    if dialect_name(db_session) == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            await db_session.execute(sa.text("TRUNCATE audit_event"))
        await db_session.rollback()
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 2
