"""Inkorg, akut banner and case timeline through the real app: messages arrive as signed webhooks.

Unit scope (another unit's caseworker gets 404, a manager 403), newest first, reply through the
outbox (opted-out numbers refused, the reply audited without number or text), mark handled, the
banner for an untaken akut case until someone takes it. Frozen clock: Monday 10:00 Stockholm.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.models import AuditEvent
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from notifications.models import OutboxStatus, SmsOutbox
from notifications.optout import record_opt_out
from surveys.cases.models import Case, CasePriority
from surveys.conversations import service as conversations
from surveys.inbox.models import InboxItem, InboxStatus
from tests.helpers import form_post, login, make_user
from tests.notifications.test_webhooks import PUBLIC, inbound_params, post_signed
from tests.surveys.world import NOW, PHONE, World, make_world

SMS_PATH = "/webhooks/twilio/sms"
BANNER = "Akut: en person behöver kontakt i dag."
OTHER_PHONE = "+46709876543"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> Litestar:
    return create_app(settings, Collaborators(clock=clock))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url=PUBLIC) as test_client:
        yield test_client


async def _started(session: AsyncSession, settings: Settings, world: World) -> World:
    await conversations.start_sms_follow_up(session, world.follow_up, now=NOW, settings=settings)
    await session.commit()
    return world


async def _sms(client: AsyncTestClient[Litestar], settings: Settings, text: str, from_: str = PHONE) -> None:
    response = await post_signed(client, settings, SMS_PATH, inbound_params(text, from_=from_))
    assert response.status_code == 200


async def _items(session: AsyncSession) -> list[InboxItem]:
    query = sa.select(InboxItem).order_by(InboxItem.received_at).execution_options(populate_existing=True)
    return list(await session.scalars(query))


async def test_inbox_shows_my_units_messages_newest_first_and_mark_handled_removes_one(
    client: AsyncTestClient[Litestar],
    db_session: AsyncSession,
    settings: Settings,
    world: World,
    clock: FrozenClock,
) -> None:
    other = await make_world(db_session, settings, ref="K-200", phone=OTHER_PHONE)
    other_unit_id, closure_id = other.unit.id, world.follow_up.closure_id
    await _started(db_session, settings, world)
    await _started(db_session, settings, other)
    await _sms(client, settings, "Hej vem är detta? Ring 0701234567")
    clock.advance(timedelta(minutes=5))
    await _sms(client, settings, "Vem skickar det här egentligen")
    clock.advance(timedelta(minutes=5))
    await _sms(client, settings, "Vad är detta för sms", from_=OTHER_PHONE)
    first, _second, foreign = await _items(db_session)
    assert foreign.unit_id == other_unit_id

    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    home = await client.get("/")
    assert 'href="/caseworker/inkorg/"' in home.text  # in the caseworker navigation
    page = await client.get("/caseworker/inkorg")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Vem skickar det här egentligen" in page.text and "Vad är detta för sms" not in page.text
    assert page.text.index("Vem skickar") < page.text.index("Hej vem är detta?")  # newest first
    assert "0701234567" not in page.text and "[TELEFON]" in page.text  # stored redacted
    assert "2026-03-02 10:05" in page.text  # received time in Stockholm (09:05 UTC)
    assert f"/caseworker/closures/{closure_id}" in page.text

    # Another unit's item: not found, whether marked handled or answered.
    assert (await form_post(client, f"/caseworker/inkorg/{foreign.id}/hanterat", {})).status_code == 404
    refused = await form_post(client, f"/caseworker/inkorg/{foreign.id}/svar", {"body": "Hej!"})
    assert refused.status_code == 404

    done = await form_post(client, f"/caseworker/inkorg/{first.id}/hanterat", {}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/caseworker/inkorg/?klart=handled"
    after = await client.get(done.headers["location"])
    assert "Meddelandet är markerat som hanterat." in after.text and "Hej vem är detta?" not in after.text
    [handled, *_] = await _items(db_session)
    assert handled.status is InboxStatus.HANDLED and handled.handled_by_id == user.id
    again = await form_post(client, f"/caseworker/inkorg/{first.id}/hanterat", {})
    assert again.status_code == 409 and "redan hanterat" in again.text


async def test_only_caseworkers_reach_the_inbox(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, world: World
) -> None:
    assert (await client.get("/caseworker/inkorg", follow_redirects=False)).status_code in (302, 303, 401)
    manager = await make_user(db_session, Role.MANAGER, [world.unit])
    await login(client, manager)
    assert (await client.get("/caseworker/inkorg")).status_code == 403


async def test_reply_goes_through_the_outbox_and_is_audited_without_the_number(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await _started(db_session, settings, world)
    await _sms(client, settings, "Hej vem är detta?")
    [item] = await _items(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)

    empty = await form_post(client, f"/caseworker/inkorg/{item.id}/svar", {"body": " "})
    assert empty.status_code == 400 and "Skriv ett svar." in empty.text
    assert 'aria-invalid="true"' in empty.text and 'id="body-error"' in empty.text

    text = "Hej! Det är socialtjänsten i Testenheten. Vi följer upp hur det gick efter ditt ärende."
    sent = await form_post(
        client, f"/caseworker/inkorg/{item.id}/svar", {"body": text}, follow_redirects=False
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/caseworker/inkorg/?klart=sent"
    page = await client.get(sent.headers["location"])
    assert "Svaret ligger i utkorgen och skickas nu." in page.text and "Ditt svar" in page.text

    [reply] = list(await db_session.scalars(sa.select(SmsOutbox).where(SmsOutbox.kind == "inbox_reply")))
    assert reply.body == text and reply.status is OutboxStatus.QUEUED
    assert reply.to_index == world.phone_index and reply.owner_ref == f"inbox:{item.id}"
    assert not reply.conversation_exempt  # the office send window applies
    [event] = list(await db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "sms.reply")))
    assert event.actor_id == user.id and event.subject_id == str(item.id)
    assert (
        PHONE not in str(event.detail)
        and PHONE[3:] not in str(event.detail)
        and text not in str(event.detail)
    )

    # A double click is one message.
    await form_post(client, f"/caseworker/inkorg/{item.id}/svar", {"body": text})
    count = sa.select(sa.func.count()).select_from(SmsOutbox).where(SmsOutbox.kind == "inbox_reply")
    assert await db_session.scalar(count) == 1


async def test_reply_to_an_opted_out_number_is_refused(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    await _started(db_session, settings, world)
    await _sms(client, settings, "Hej vem är detta?")
    [item] = await _items(db_session)
    await record_opt_out(db_session, world.phone_index, source="keyword", at=NOW)
    await db_session.commit()
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    refused = await form_post(client, f"/caseworker/inkorg/{item.id}/svar", {"body": "Hej, vi ringer dig."})
    assert refused.status_code == 409
    assert "Personen har tackat nej till sms (STOPP). Svaret skickades inte." in refused.text
    assert "Hej, vi ringer dig." in refused.text  # what was typed is kept
    count = sa.select(sa.func.count()).select_from(SmsOutbox).where(SmsOutbox.kind == "inbox_reply")
    assert await db_session.scalar(count) == 0
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "sms.reply")) == 0  # fmt: skip


async def test_an_item_can_be_given_to_a_named_caseworker_of_its_unit(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    other = await make_world(db_session, settings, ref="K-200", phone=OTHER_PHONE)
    await _started(db_session, settings, world)
    await _sms(client, settings, "Hej vem är detta?")
    [item] = await _items(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    colleague = await make_user(db_session, Role.CASEWORKER, [world.unit])
    stranger = await make_user(db_session, Role.CASEWORKER, [other.unit])
    await login(client, user)
    page = await client.get("/caseworker/inkorg")
    assert "Ingen, hela enheten" in page.text and f'value="{colleague.id}"' in page.text
    assert f'value="{stranger.id}"' not in page.text  # only the item's unit is offered
    assert page.text.count("(du)") == 1  # I am marked among the unit's caseworkers

    wrong = await form_post(client, f"/caseworker/inkorg/{item.id}/tilldela", {"assignee": str(stranger.id)})
    assert wrong.status_code == 400 and "Välj en handläggare i enheten." in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    garbage = await form_post(client, f"/caseworker/inkorg/{item.id}/tilldela", {"assignee": "nej"})
    assert garbage.status_code == 400 and "Välj en handläggare i listan." in garbage.text

    given = await form_post(
        client,
        f"/caseworker/inkorg/{item.id}/tilldela",
        {"assignee": str(colleague.id)},
        follow_redirects=False,
    )
    assert given.status_code == 303 and given.headers["location"].endswith("klart=assigned")
    [stored] = await _items(db_session)
    assert stored.assigned_to_id == colleague.id
    mine = await form_post(client, f"/caseworker/inkorg/{item.id}/tilldela", {"assignee": str(user.id)})
    assert "<dt>Ansvarig</dt><dd>Du</dd>" in mine.text
    back = await form_post(client, f"/caseworker/inkorg/{item.id}/tilldela", {"assignee": ""})
    assert "Meddelandet är inte längre tilldelat någon." in back.text
    [stored] = await _items(db_session)
    assert stored.assigned_to_id is None


async def test_akut_banner_until_someone_takes_the_case_and_the_case_page_timeline(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    other = await make_world(db_session, settings, ref="K-200", phone=OTHER_PHONE)
    await _started(db_session, settings, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    colleague = await make_user(db_session, Role.CASEWORKER, [world.unit])
    elsewhere = await make_user(db_session, Role.CASEWORKER, [other.unit])
    await login(client, user)
    assert BANNER not in (await client.get("/caseworker/calls/")).text

    await _sms(client, settings, "Jag orkar inte mer, hyresvärden hotar med vräkning")
    await _sms(client, settings, "jag har blivit hotad av min sambo och vill prata med någon")
    [case] = list(await db_session.scalars(sa.select(Case)))
    assert case.priority is CasePriority.AKUT and case.taken_at is None
    for path in (
        "/",
        "/caseworker/calls/",
        "/caseworker/cases/",
        "/caseworker/inkorg",
        "/caseworker/closures/",
    ):
        page = await client.get(path)
        assert BANNER in page.text and f'href="/caseworker/cases/{case.id}"' in page.text, path

    listing = await client.get("/caseworker/cases/")
    assert "Akut</strong>" in listing.text
    detail = await client.get(f"/caseworker/cases/{case.id}")
    assert "Akut ärende" in detail.text and "kontakt samma arbetsdag" in detail.text
    assert "hyresvärden hotar med vräkning" in detail.text and "blivit hotad av min sambo" in detail.text
    assert detail.text.index("hyresvärden hotar") < detail.text.index("blivit hotad av min sambo")
    assert f"/caseworker/closures/{case.closure_id}" in detail.text
    assert "ingen har tagit ärendet ännu" in detail.text

    # Another unit's caseworker sees no banner and cannot open the case.
    await client.post("/logout", data={"_csrf_token": client.cookies.get("uppf_csrf", "")})
    await login(client, elsewhere)
    assert BANNER not in (await client.get("/caseworker/calls/")).text
    assert (await client.get(f"/caseworker/cases/{case.id}")).status_code == 404

    await client.post("/logout", data={"_csrf_token": client.cookies.get("uppf_csrf", "")})
    await login(client, colleague)
    taken = await form_post(client, f"/caseworker/cases/{case.id}/take", {})
    assert "Du är nu ansvarig för ärendet." in taken.text and BANNER not in taken.text
    await client.post("/logout", data={"_csrf_token": client.cookies.get("uppf_csrf", "")})
    await login(client, user)
    assert BANNER not in (await client.get("/caseworker/calls/")).text
    await db_session.refresh(case)
    assert case.owner_id == colleague.id and case.taken_at is not None


async def test_a_reply_outside_the_send_window_waits_and_says_so(
    client: AsyncTestClient[Litestar],
    db_session: AsyncSession,
    settings: Settings,
    world: World,
    clock: FrozenClock,
) -> None:
    await _started(db_session, settings, world)
    await _sms(client, settings, "Hej vem är detta?")
    [item] = await _items(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    clock.set(NOW + timedelta(days=5))  # Saturday: outside the default window
    sent = await form_post(
        client, f"/caseworker/inkorg/{item.id}/svar", {"body": "Hej, vi ringer på måndag."}
    )
    assert "Det skickas automatiskt när enhetens sms-tid börjar." in sent.text
