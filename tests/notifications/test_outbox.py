from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from notifications import optout, outbox
from notifications.models import OutboxStatus, SmsOutbox
from notifications.phone import InvalidPhoneNumber, PhoneVault

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def _count(session) -> int:
    return await session.scalar(sa.select(sa.func.count()).select_from(SmsOutbox))


async def test_enqueue_stores_encrypted_number_and_segments(db_session, settings) -> None:
    message_id = await outbox.enqueue(
        db_session,
        idempotency_key="followup:1:invite",
        to_e164="070-123 45 67",
        body="Hej! Svara 1–5.",
        settings=settings,
        owner_ref="conversation:1",
        not_before=NOW + timedelta(days=30),
        now=NOW,
    )
    await db_session.commit()
    row = await outbox.get_message(db_session, message_id)
    assert row.status == OutboxStatus.QUEUED
    assert "701234567" not in row.to_encrypted
    vault = PhoneVault.from_settings(settings)
    assert vault.decrypt(row.to_encrypted) == "+46701234567"
    assert row.to_index == vault.blind_index("+46701234567")
    assert (row.encoding, row.segments) == ("ucs2", 1)
    assert row.not_before == NOW + timedelta(days=30)
    assert row.attempts == 0


async def test_enqueue_twice_returns_the_same_message(db_session, settings) -> None:
    kwargs = dict(idempotency_key="k1", to_e164="+46701234567", body="Hej", settings=settings, now=NOW)
    first = await outbox.enqueue(db_session, **kwargs)
    second = await outbox.enqueue(db_session, **{**kwargs, "body": "Annan text"})
    await db_session.commit()
    assert first == second
    assert await _count(db_session) == 1
    assert (await outbox.get_message(db_session, first)).body == "Hej"


async def test_enqueue_rolls_back_with_the_callers_transaction(db_session, settings) -> None:
    await outbox.enqueue(
        db_session, idempotency_key="k2", to_e164="+46701234567", body="Hej", settings=settings
    )
    await db_session.rollback()
    assert await _count(db_session) == 0


async def test_enqueue_rejects_landline_and_empty_body(db_session, settings) -> None:
    with pytest.raises(InvalidPhoneNumber):
        await outbox.enqueue(
            db_session, idempotency_key="k3", to_e164="08-123 456 78", body="Hej", settings=settings
        )
    with pytest.raises(ValueError):
        await outbox.enqueue(
            db_session, idempotency_key="k4", to_e164="+46701234567", body=" ", settings=settings
        )
    assert await _count(db_session) == 0


async def test_enqueue_to_opted_out_number_is_skipped_unless_confirmation(db_session, settings) -> None:
    index = PhoneVault.from_settings(settings).blind_index("+46701234567")
    await optout.record_opt_out(db_session, index, source="keyword", at=NOW)
    skipped = await outbox.enqueue(
        db_session, idempotency_key="k5", to_e164="+46701234567", body="Hej", settings=settings, now=NOW
    )
    confirmation = await outbox.enqueue(
        db_session,
        idempotency_key="k6",
        to_e164="+46701234567",
        body="Du får inga fler SMS.",
        settings=settings,
        now=NOW,
        kind="optout_confirmation",
        ignore_opt_out=True,
    )
    await db_session.commit()
    assert (await outbox.get_message(db_session, skipped)).status == OutboxStatus.SKIPPED
    assert (await outbox.get_message(db_session, confirmation)).status == OutboxStatus.QUEUED


async def test_cancel_pending_only_touches_pending_rows_of_the_owner(db_session, settings) -> None:
    ids = [
        await outbox.enqueue(
            db_session,
            idempotency_key=f"c{i}",
            to_e164="+46701234567",
            body="Hej",
            settings=settings,
            owner_ref="conversation:A" if i < 2 else "conversation:B",
            now=NOW,
        )
        for i in range(3)
    ]
    await db_session.execute(
        sa.update(SmsOutbox).where(SmsOutbox.id == ids[1]).values(status=OutboxStatus.SENT)
    )
    assert await outbox.cancel_pending(db_session, "conversation:A", now=NOW) == 1
    await db_session.commit()
    statuses = [(await outbox.get_message(db_session, i)).status for i in ids]
    assert statuses == [OutboxStatus.CANCELED, OutboxStatus.SENT, OutboxStatus.QUEUED]
