from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from notifications import optout, outbox
from notifications.models import OutboxStatus, SmsOptOutEvent, SmsOutbox
from notifications.phone import PhoneVault

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOPP", "stop"),
        ("stopp", "stop"),
        (" Stopp! ", "stop"),
        ("STOP.", "stop"),
        ("avsluta", "stop"),
        ("Sluta", "stop"),
        ("sluta skicka", "stop"),
        ("START", "start"),
        ("start!", "start"),
        ("HJÄLP", "help"),
        ("hjälp?", "help"),
        ("help", "help"),
        ("stoppa inte", None),
        ("jag vill inte sluta", None),
        ("Stoppa inte sms:en, tack", None),
        ("4", None),
        ("", None),
        ("starta om min ansökan", None),
    ],
)
def test_parse_keyword_matches_whole_message_only(body: str, expected: str | None) -> None:
    assert optout.parse_keyword(body) == expected


async def test_ledger_opt_out_skips_pending_and_opt_in_undoes(db_session, settings) -> None:
    vault = PhoneVault.from_settings(settings)
    index = vault.blind_index("+46701234567")
    first = await outbox.enqueue(
        db_session, idempotency_key="a", to_e164="+46701234567", body="Hej", settings=settings, now=NOW
    )
    other = await outbox.enqueue(
        db_session, idempotency_key="b", to_e164="+46709999999", body="Hej", settings=settings, now=NOW
    )
    await db_session.commit()
    assert not await optout.is_opted_out(db_session, index)

    await optout.record_opt_out(db_session, index, source="keyword", at=NOW)
    await db_session.commit()
    assert await optout.is_opted_out(db_session, index)
    statuses = dict((await db_session.execute(sa.select(SmsOutbox.id, SmsOutbox.status))).all())
    assert statuses[first] == OutboxStatus.SKIPPED
    assert statuses[other] == OutboxStatus.QUEUED

    await optout.record_opt_in(db_session, index, source="keyword", at=NOW + timedelta(minutes=5))
    await db_session.commit()
    assert not await optout.is_opted_out(db_session, index)
    # The ledger keeps the whole history, newest decides.
    events = await optout.history(db_session, index)
    assert [e.action for e in events] == ["opt_out", "opt_in"]
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(SmsOptOutEvent)) == 2
    # New messages go out again after START.
    again = await outbox.enqueue(
        db_session, idempotency_key="c", to_e164="+46701234567", body="Hej", settings=settings, now=NOW
    )
    assert (await outbox.get_message(db_session, again)).status == OutboxStatus.QUEUED


async def test_record_rejects_unknown_actions(db_session) -> None:
    with pytest.raises(ValueError):
        await optout.record(db_session, "x" * 64, action="maybe", source="keyword", at=NOW)
