"""Erasure on request and by retention: contact data goes, answers stay, everything is audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback.auth.models import Role
from feedback.core.errors import Conflict
from feedback.core.models import AuditEvent
from notifications.models import OutboxStatus, SmsOutbox
from surveys.closures.erasure import erase_client, purge_expired
from surveys.closures.models import Client, Closure
from surveys.closures.service import ClosureInput, register_closure
from surveys.conversations.models import Conversation
from surveys.conversations.service import start_sms_follow_up
from surveys.plans.models import FollowUp, FollowUpStatus
from tests.helpers import form_post, login, make_unit, make_user
from tests.surveys.world import NOW, make_world


async def test_erasure_on_request_clears_contact_data_and_stops_messages(db_session, settings) -> None:
    world = await make_world(db_session, settings)
    conv = await start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    conv_id, client_id = conv.id, world.follow_up.client_id
    await db_session.commit()
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(SmsOutbox)) > 0

    erasure = await erase_client(
        db_session, client_id, now=NOW, actor_id=None, reason="Begäran från klienten"
    )
    await db_session.commit()
    assert erasure.messages > 0 and erasure.conversations == 1
    db_session.expire_all()
    client = await db_session.get(Client, client_id)
    assert (client.client_ref, client.phone_ciphertext, client.phone_index, client.phone_masked) == (
        None,
    ) * 4
    assert client.erased_at is not None
    assert (await db_session.get(Conversation, conv_id)).phone_index is None
    for message in await db_session.scalars(sa.select(SmsOutbox)):
        assert message.to_encrypted == "" and message.to_index == "erased"
        assert message.status == OutboxStatus.CANCELED
    statuses = set(
        await db_session.scalars(sa.select(FollowUp.status).where(FollowUp.client_id == client_id))
    )
    assert statuses == {FollowUpStatus.CANCELLED}
    # the closure (pseudonymous) stays for reports
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Closure)) == 1
    event = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "contact.erase"))
    assert event.subject_id == str(client_id) and event.reason == "Begäran från klienten"
    assert "+46" not in str(event.detail)
    with pytest.raises(Conflict):
        await erase_client(db_session, client_id, now=NOW, actor_id=None, reason="igen")


async def _closure(session, settings, unit, ref, closed_on, reason="work"):
    from surveys.closures.contact import VaultPhoneProtector

    reg = await register_closure(
        session,
        unit_id=unit.id,
        data=ClosureInput(client_ref=ref, closed_on=closed_on, reason=reason, phone="+46701234567"),
        phones=VaultPhoneProtector(settings),
        actor_id=None,
        now=datetime.combine(closed_on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10),
        min_gap_days=14,
    )
    await session.commit()
    return reg.closure


async def test_purge_erases_only_clients_whose_plan_finished_before_the_retention_period(
    db_session, settings
) -> None:
    unit = await make_unit(db_session)
    old = await _closure(db_session, settings, unit, "OLD", date(2023, 1, 10))
    recent = await _closure(db_session, settings, unit, "RECENT", date(2025, 6, 1))
    moved = await _closure(db_session, settings, unit, "MOVED", date(2024, 1, 10), reason="moved")
    # OLD's waves all finished long ago; RECENT's 365-day wave is still scheduled in this world.
    await db_session.execute(
        sa.update(FollowUp).where(FollowUp.closure_id == old.id).values(status=FollowUpStatus.DONE)
    )
    await db_session.commit()
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    dry = await purge_expired(db_session, now=now, retention_days=365, dry_run=True)
    assert set(dry) == {old.client_id, moved.client_id}
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0
    erased = await purge_expired(db_session, now=now, retention_days=365)
    await db_session.commit()
    assert set(erased) == {old.client_id, moved.client_id}
    refs = set(await db_session.scalars(sa.select(Client.client_ref)))
    assert refs == {None, "RECENT"}
    audits = list(await db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "contact.erase")))
    assert len(audits) == 2 and all("Gallring" in a.reason for a in audits)
    assert await purge_expired(db_session, now=now, retention_days=365) == []
    assert recent.client_id not in erased


async def test_admin_erasure_page(client, db_session, settings) -> None:
    world = await make_world(db_session, settings, ref="K-ERASE")
    admin = await make_user(db_session, Role.ADMIN)
    await login(client, admin)
    page = await client.get("/admin/radering/")
    assert page.status_code == 200 and 'for="client_ref"' in page.text
    found = await form_post(
        client, "/admin/radering/", {"action": "sok", "unit": str(world.unit.id), "client_ref": "K-ERASE"}
    )
    assert found.status_code == 200 and "Klient K-ERASE" in found.text and "+4670*****67" in found.text
    client_id = str(world.follow_up.client_id)
    no_reason = await form_post(
        client,
        "/admin/radering/",
        {"action": "radera", "unit": str(world.unit.id), "client_ref": "K-ERASE", "client_id": client_id},
    )
    assert no_reason.status_code == 400 and "Skriv varför" in no_reason.text
    done = await form_post(
        client,
        "/admin/radering/",
        {
            "action": "radera",
            "unit": str(world.unit.id),
            "client_ref": "K-ERASE",
            "client_id": client_id,
            "reason": "Begäran om radering",
        },
    )
    assert done.status_code == 200 and "Kontaktuppgifterna är raderade" in done.text
    again = await form_post(
        client, "/admin/radering/", {"action": "sok", "unit": str(world.unit.id), "client_ref": "K-ERASE"}
    )
    assert again.status_code == 404
    event = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "contact.erase"))
    assert event.actor_id == admin.id


async def test_erasure_page_is_for_admins_only(client, db_session) -> None:
    unit = await make_unit(db_session)
    caseworker = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, caseworker)
    assert (await client.get("/admin/radering/")).status_code == 403


async def test_erasure_reason_is_stored_redacted_in_the_audit_row(db_session, settings) -> None:
    """Issue 20: the admin's free-text reason must not carry a name or personnummer into the audit."""
    world = await make_world(db_session, settings)
    client_id = world.follow_up.client_id
    await db_session.commit()
    await erase_client(
        db_session,
        client_id,
        now=NOW,
        actor_id=None,
        reason="Begäran från Anna Berg, 811218_9876, tel 070-123 45 67",
    )
    await db_session.commit()
    event = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "contact.erase"))
    assert event is not None
    assert event.reason.startswith("Begäran från [NAMN]")
    for secret in ("Anna", "Berg", "811218", "9876", "070"):
        assert secret not in event.reason
