"""Correcting contact data: reasons without personnummer, encrypted numbers, re-targeting, "Fel nummer"."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.errors import InvalidInput
from feedback.core.models import AuditEvent
from feedback.core.settings import Settings
from notifications.models import OutboxStatus, SmsOutbox
from surveys.closures import contact_edit
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.models import Client, Closure, Language
from surveys.closures.timeline import build_timeline
from surveys.conversations.models import Conversation
from surveys.conversations.service import start_sms_follow_up
from surveys.phone import service as phone
from surveys.phone.models import CallOutcome, CallStatus
from surveys.plans.models import FollowUp, FollowUpStatus
from tests.helpers import make_user
from tests.surveys.world import NOW, PHONE, World

NEW_PHONE = "070-765 43 21"
NEW_E164 = "+46707654321"


async def _client(session: AsyncSession) -> Client:
    client = await session.scalar(sa.select(Client).execution_options(populate_existing=True))
    assert client is not None
    return client


async def _labels(session: AsyncSession, world: World) -> dict[int, str]:
    closure_id = world.follow_up.closure_id
    session.expire_all()
    closure = await session.get(Closure, closure_id)
    assert closure is not None
    timeline = await build_timeline(session, closure, await _client(session))
    return {w.follow_up.wave_days: w.label for w in timeline.waves}


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Skriv varför"),
        ("ok", "Skriv varför"),
        ("Ny telefon enligt 19850412-1234", "personnummer"),
        ("Enligt 850412-1236 i samtalet", "personnummer"),
        ("x" * 301, "högst 300"),
    ],
)
async def test_a_reason_is_required_and_never_a_personnummer(
    db_session: AsyncSession, settings: Settings, world: World, reason: str, message: str
) -> None:
    client = await _client(db_session)
    with pytest.raises(InvalidInput) as refused:
        await contact_edit.change_contact(
            db_session, client, contact_edit.ContactEdit(phone=NEW_PHONE), reason=reason,
            phones=VaultPhoneProtector(settings), actor_id=None, now=NOW,
        )  # fmt: skip
    assert message in refused.value.message and refused.value.field == "reason"
    await db_session.rollback()
    assert (await _client(db_session)).phone_index == world.phone_index
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


async def test_a_new_number_is_encrypted_audited_and_retargets_only_unsent_texts(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    protector = VaultPhoneProtector(settings)
    conv = await start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    assert conv is not None
    rows = list(
        await db_session.scalars(
            sa.select(SmsOutbox).order_by(SmsOutbox.created_at, SmsOutbox.idempotency_key)
        )
    )
    assert len(rows) == 2
    rows[0].status, rows[0].sent_at = OutboxStatus.DELIVERED, NOW  # the intro has gone out already
    await db_session.commit()
    user_id = (await make_user(db_session, Role.CASEWORKER, [world.unit])).id

    client = await _client(db_session)
    changed = await contact_edit.change_contact(
        db_session,
        client,
        contact_edit.ContactEdit(phone=NEW_PHONE, language="en", protected_identity=False),
        reason="Personen har bytt nummer, ring 070-111 22 33 vid frågor",
        phones=protector,
        actor_id=user_id,
        now=NOW + timedelta(minutes=5),
    )
    await db_session.commit()
    assert changed == ["phone", "language"]
    client = await _client(db_session)
    new_index = protector.protect(NEW_E164).index
    assert client.phone_index == new_index and client.language is Language.EN
    assert client.phone_ciphertext and NEW_E164 not in client.phone_ciphertext
    assert protector.reveal(client.phone_ciphertext) == NEW_E164 and client.phone_masked != NEW_E164
    sent = await db_session.get(SmsOutbox, rows[0].id, populate_existing=True)
    queued = await db_session.get(SmsOutbox, rows[1].id, populate_existing=True)
    assert sent is not None and sent.to_index == world.phone_index  # what was sent stays true
    assert (
        queued is not None
        and queued.to_index == new_index
        and protector.reveal(queued.to_encrypted) == NEW_E164
    )
    assert (await db_session.get(Conversation, conv.id, populate_existing=True)).phone_index == new_index  # type: ignore[union-attr]
    event = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "contact.change"))
    assert (
        event is not None and event.actor_id == user_id and event.detail == {"fields": ["phone", "language"]}
    )
    assert (
        "[TELEFON]" in event.reason and "111 22 33" not in event.reason and NEW_E164 not in str(event.detail)
    )

    with pytest.raises(InvalidInput) as same:
        await contact_edit.change_contact(
            db_session, await _client(db_session), contact_edit.ContactEdit(phone=NEW_PHONE, language="en"),
            reason="Samma igen", phones=protector, actor_id=user_id, now=NOW,
        )  # fmt: skip
    assert "Inget ändrades" in same.value.message
    await db_session.rollback()
    with pytest.raises(InvalidInput) as bad:
        await contact_edit.change_contact(
            db_session, await _client(db_session), contact_edit.ContactEdit(phone="12345"),
            reason="Nytt nummer", phones=protector, actor_id=user_id, now=NOW,
        )  # fmt: skip
    assert bad.value.field == "phone"


async def test_protected_identity_stops_the_waves(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await contact_edit.change_contact(
        db_session, await _client(db_session), contact_edit.ContactEdit(protected_identity=True),
        reason="Beslut om skyddad identitet", phones=VaultPhoneProtector(settings), actor_id=None, now=NOW,
    )  # fmt: skip
    await db_session.commit()
    assert set((await _labels(db_session, world)).values()) == {"Stoppad: skyddad identitet"}


async def _wrong_number_call(
    session: AsyncSession, settings: Settings, world: World, new_phone: str
) -> tuple[phone.CallResult, object]:
    user = await make_user(session, Role.CASEWORKER, [world.unit])
    task = await phone.create_call_task(session, world.follow_up, reason="plan", now=NOW)
    await session.commit()
    assert await phone.claim(session, task.id, user_id=user.id, now=NOW)
    await session.refresh(task)
    result = await phone.log_call(
        session,
        task,
        phone.CallLog(CallOutcome.WRONG_NUMBER, note="Det var en annan person", new_phone=new_phone),
        user_id=user.id,
        now=NOW + timedelta(minutes=3),
        secret=settings.secret_key,
        phones=VaultPhoneProtector(settings),
    )
    await session.commit()
    return result, task


async def test_wrong_number_with_the_right_one_stores_it_and_calls_again(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    _, task = await _wrong_number_call(db_session, settings, world, NEW_PHONE)
    client = await _client(db_session)
    assert client.phone_index == VaultPhoneProtector(settings).protect(NEW_E164).index
    await db_session.refresh(task)
    assert task.status is CallStatus.OPEN  # type: ignore[attr-defined]
    notes = " ".join(await db_session.scalars(sa.text("SELECT text_redacted FROM open_text")))
    assert "765" not in notes  # the number lives on the client, never in a note
    event = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "contact.change"))
    assert event is not None and event.detail["fields"] == ["phone"]


async def test_wrong_number_without_a_new_one_forgets_it_and_stops_the_waves_truthfully(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    _, task = await _wrong_number_call(db_session, settings, world, "")
    client = await _client(db_session)
    assert client.phone_index is None and client.phone_ciphertext is None and client.phone_masked is None
    await db_session.refresh(task)
    assert task.status is CallStatus.UNREACHABLE  # type: ignore[attr-defined]
    labels = await _labels(db_session, world)
    assert labels[30] == "Misslyckades: fel nummer"
    assert {labels[d] for d in (90, 180, 365)} == {"Stoppad: fel nummer"}
    statuses = set(await db_session.scalars(sa.select(FollowUp.status).where(FollowUp.wave_days != 30)))
    assert statuses == {FollowUpStatus.CANCELLED}

    # A right number entered later brings back the waves whose window is still open.
    await contact_edit.change_contact(
        db_session, await _client(db_session), contact_edit.ContactEdit(phone=NEW_PHONE),
        reason="Fick rätt nummer av personen", phones=VaultPhoneProtector(settings), actor_id=None,
        now=NOW + timedelta(days=1),
    )  # fmt: skip
    await db_session.commit()
    labels = await _labels(db_session, world)
    assert {labels[d] for d in (90, 180, 365)} == {"Planerad"} and labels[30] == "Misslyckades: fel nummer"


async def test_a_new_number_only_with_the_outcome_wrong_number(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    task = await phone.create_call_task(db_session, world.follow_up, reason="plan", now=NOW)
    await db_session.commit()
    assert await phone.claim(db_session, task.id, user_id=user.id, now=NOW)
    await db_session.refresh(task)
    for outcome, raw, field in (
        (CallOutcome.NO_ANSWER, NEW_PHONE, "new_phone"),
        (CallOutcome.WRONG_NUMBER, "123", "new_phone"),
    ):
        with pytest.raises(InvalidInput) as refused:
            await phone.log_call(
                db_session, task, phone.CallLog(outcome, new_phone=raw), user_id=user.id, now=NOW,
                secret=settings.secret_key, phones=VaultPhoneProtector(settings),
            )  # fmt: skip
        assert refused.value.field == field
    assert (await _client(db_session)).phone_index == VaultPhoneProtector(settings).protect(PHONE).index
