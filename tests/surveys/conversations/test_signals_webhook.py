"""Issue 15 through signed Twilio webhooks: crisis, "ring mig", opt-out phrases, the inbox.

The real app (its ``SurveyInboundHandler``), a frozen clock (Monday 10:00 in Stockholm), signed
requests as Twilio sends them; outbox rows are counted in the same request and, for the crisis
path, sent by the real dispatcher through the real twilio client to the local fake Twilio,
where the POSTs are counted. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.clock import FrozenClock
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from notifications.dispatcher import DispatchConfig, Dispatcher
from notifications.gateways.twilio import TwilioConfig, TwilioGateway
from notifications.models import OutboxStatus, SmsInbound, SmsOutbox
from notifications.optout import is_opted_out
from notifications.phone import PhoneVault
from notifications.testing.fake_twilio import FakeTwilio
from surveys.cases.models import Case, CasePriority, CaseTrigger
from surveys.conversations import service
from surveys.conversations.models import Conversation
from surveys.inbox.models import InboxItem, InboxReason
from surveys.inbox.service import list_open_items
from surveys.phone.models import CallTask
from surveys.questionnaires.texts import signal_reply
from tests.notifications.support import RecordingHandler
from tests.notifications.test_webhooks import PUBLIC, inbound_params, post_signed
from tests.surveys.world import NOW, PHONE, World, make_world

SMS_PATH = "/webhooks/twilio/sms"
UNKNOWN = "+46709998877"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def client(settings: Settings, clock: FrozenClock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(
        app=create_app(settings, Collaborators(clock=clock)), base_url=PUBLIC
    ) as test_client:
        yield test_client


async def _started(session: AsyncSession, settings: Settings, language: str = "sv") -> World:
    world = await make_world(session, settings, language=language)
    await service.start_sms_follow_up(session, world.follow_up, now=NOW, settings=settings)
    await session.commit()
    session.expunge(world.unit)  # ids stay readable after the tests expire the session
    session.expunge(world.follow_up)
    return world


async def _send(client: AsyncTestClient[Litestar], settings: Settings, text: str, from_: str = PHONE) -> None:
    response = await post_signed(client, settings, SMS_PATH, inbound_params(text, from_=from_))
    assert response.status_code == 200 and "<Response/>" in response.text


async def _outbox(session: AsyncSession) -> list[SmsOutbox]:
    session.expire_all()
    return list(await session.scalars(sa.select(SmsOutbox).order_by(SmsOutbox.created_at)))


async def _by_kind(session: AsyncSession, kind: str) -> list[SmsOutbox]:
    return [row for row in await _outbox(session) if row.kind == kind]


# ------------------------------------------------------------------ crisis
async def test_crisis_during_the_survey_is_acknowledged_opens_an_akut_case_and_pauses(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, clock: FrozenClock
) -> None:
    await _started(db_session, settings)
    assert len(await _outbox(db_session)) == 2  # intro + question 1
    await _send(client, settings, "Jag vill inte leva längre, hyresvärden hotar med vräkning")

    rows = await _outbox(db_session)
    assert len(rows) == 3  # queued in the same request: the acknowledgement, no next question
    [ack] = [r for r in rows if r.kind == "crisis_ack"]
    assert "Självmordslinjen 90101" in ack.body and "112" in ack.body
    assert ack.body.endswith("En person från oss ringer dig i dag.")
    assert "1177" not in ack.body and "Kvinnofridslinjen" not in ack.body
    assert ack.conversation_exempt and ack.status is OutboxStatus.QUEUED

    [case] = list(await db_session.scalars(sa.select(Case)))
    assert case.priority is CasePriority.AKUT and case.trigger is CaseTrigger.CRISIS
    assert case.due_on == NOW.date() and "vräkning" in case.summary
    task = await db_session.scalar(sa.select(CallTask))
    assert task is not None and task.reason == "crisis" and "vräkning" in (task.message or "")
    conv = await db_session.scalar(sa.select(Conversation))
    assert conv is not None and conv.is_open and conv.paused_at is not None
    inbound = await db_session.scalar(sa.select(SmsInbound))
    assert inbound is not None and inbound.outcome == "signals:crisis"

    # Sent by the real dispatcher to the fake Twilio: three POSTs, one of them the acknowledgement.
    with FakeTwilio(now=clock.now) as fake:
        engine = create_engine(settings.database_url)
        try:
            dispatcher = Dispatcher(
                sessionmaker=session_factory(engine),
                gateway=TwilioGateway(
                    TwilioConfig(
                        fake.account_sid,
                        fake.auth_token,
                        "+46700000000",
                        api_base_url=fake.base_url,
                        timeout_s=3.0,
                    )
                ),
                handler=RecordingHandler(),
                vault=PhoneVault.from_settings(settings),
                config=DispatchConfig(public_url=PUBLIC),
                clock=clock,
                worker_id="w1",
                rng=random.Random(1),
            )
            await dispatcher.run_once()
        finally:
            await engine.dispose()
        bodies = [r.value("Body") for r in fake.create_requests()]
    assert len(bodies) == 3 and bodies.count(ack.body) == 1

    # Paused: no reminder, even days after the question was sent.
    clock.advance(timedelta(days=3))
    assert await service.tick(db_session, now=clock.now(), settings=settings) == 0
    await db_session.commit()
    assert [r.kind for r in await _outbox(db_session)].count("survey") == 2


@pytest.mark.parametrize(
    ("language", "text", "help_line", "opening"),
    [
        ("ar", "زوجي يضربني", "020-50 50 50", "شكرًا لأنك كتبت إلينا."),
        ("so", "Aad baan u xanuunsanahay, neefsan kari waayay", "1177", "Waad ku mahadsan tahay"),
        ("en", "I want to kill myself", "90101", "Thank you for writing to us."),
        ("sv-easy", "Min man slår mig.", "Kvinnofridslinjen", "Tack för ditt sms."),
    ],
)
async def test_crisis_acknowledgement_is_in_the_registered_language_with_the_right_line(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    db_session: AsyncSession,
    language: str,
    text: str,
    help_line: str,
    opening: str,
) -> None:
    await _started(db_session, settings, language=language)
    await _send(client, settings, text)
    [ack] = await _by_kind(db_session, "crisis_ack")
    assert ack.body.startswith(opening) and help_line in ack.body and "112" in ack.body
    case = await db_session.scalar(sa.select(Case))
    assert case is not None and case.priority is CasePriority.AKUT and case.due_on == NOW.date()


async def test_a_later_threat_is_appended_to_the_open_case_and_raises_it(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    await _started(db_session, settings)
    await _send(client, settings, "ring mig")
    await _send(client, settings, "jag har blivit hotad av min sambo och vill prata med någon")
    [case] = list(await db_session.scalars(sa.select(Case)))
    await db_session.refresh(case)
    assert case.priority is CasePriority.AKUT and case.trigger is CaseTrigger.CRISIS
    [ack] = await _by_kind(db_session, "crisis_ack")
    assert "Kvinnofridslinjen 020-50 50 50" in ack.body


# ------------------------------------------------------------------ ring mig
@pytest.mark.parametrize("when", ["during", "after_thanks"])
async def test_ring_mig_gets_a_confirmation_and_a_call_task_with_the_text(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, when: str
) -> None:
    await _started(db_session, settings)
    if when == "after_thanks":
        for answer in ["1", "4", "4", "ja", "4", "0", "0"]:
            await _send(client, settings, answer)
    await _send(client, settings, "Kan ni ringa mig efter lunch?")
    [confirmation] = await _by_kind(db_session, "call_me_confirmation")
    assert confirmation.body.startswith("Tack! Vi ringer dig inom två arbetsdagar.")
    assert not any(r.body.startswith("Vi förstod inte") for r in await _outbox(db_session))
    task = await db_session.scalar(sa.select(CallTask).where(CallTask.reason == "call_me"))
    assert task is not None and task.message == "Kan ni ringa mig efter lunch?" and task.due_at <= NOW
    case = await db_session.scalar(sa.select(Case))
    assert case is not None and case.trigger is CaseTrigger.CALL_ME and case.priority is CasePriority.NORMAL
    if when == "during":
        conv = await db_session.scalar(sa.select(Conversation))
        assert conv is not None and conv.paused_at is not None


async def test_ring_mig_in_somali_is_confirmed_in_somali(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    await _started(db_session, settings, language="so")
    await _send(client, settings, "Fadlan i soo wac")
    [confirmation] = await _by_kind(db_session, "call_me_confirmation")
    assert confirmation.body == signal_reply("so", "call_me_confirm")


# ------------------------------------------------------------------ opt-out phrases
@pytest.mark.parametrize(
    ("language", "text"),
    [("ar", "توقف"), ("so", "JOOJI"), ("en", "stop please"), ("sv", "vill inte ha fler sms")],
)
async def test_opt_out_phrases_opt_out_and_are_confirmed_in_that_language(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, language: str, text: str
) -> None:
    world = await _started(db_session, settings, language=language)
    await _send(client, settings, text)
    assert await is_opted_out(db_session, world.phone_index)
    [confirmation] = await _by_kind(db_session, "optout_confirmation")
    assert confirmation.body == signal_reply(language, "opt_out_confirm")
    conv = await db_session.scalar(sa.select(Conversation))
    assert conv is not None and not conv.is_open and conv.disposition == "opted_out"
    survey = await _by_kind(db_session, "survey")
    assert {r.status for r in survey} <= {OutboxStatus.CANCELED, OutboxStatus.SKIPPED}


async def test_an_unknown_number_writing_jooji_is_opted_out_in_somali(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    await _send(client, settings, "JOOJI", from_=UNKNOWN)
    assert await is_opted_out(db_session, PhoneVault.from_settings(settings).blind_index(UNKNOWN))
    [confirmation] = await _by_kind(db_session, "optout_confirmation")
    assert confirmation.body == signal_reply("so", "opt_out_confirm")


# ------------------------------------------------------------------ nothing without an owner
async def test_an_unknown_numbers_message_is_kept_for_the_admins(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    world = await _started(db_session, settings)
    await _send(client, settings, "Hej vem är detta?", from_=UNKNOWN)
    [item] = list(await db_session.scalars(sa.select(InboxItem)))
    assert item.unit_id is None and item.reason is InboxReason.UNKNOWN_NUMBER
    assert item.text_redacted == "Hej vem är detta?"
    assert await list_open_items(db_session, [world.unit.id]) == []
    assert [i.id for i in await list_open_items(db_session, [], include_unowned=True)] == [item.id]
    assert len(await _outbox(db_session)) == 2  # nothing is sent to a number we do not know


async def test_a_question_after_the_thank_you_lands_in_the_units_inbox(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    world = await _started(db_session, settings)
    for answer in ["1", "4", "4", "ja", "4", "0", "0"]:
        await _send(client, settings, answer)
    await _send(client, settings, "Får jag svar på mitt mejl?")
    [item] = await list_open_items(db_session, [world.unit.id])
    assert item.reason is InboxReason.AFTER_SURVEY and item.closure_id == world.follow_up.closure_id


async def test_an_unclear_reply_is_re_prompted_and_kept_in_the_inbox(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    world = await _started(db_session, settings)
    await _send(client, settings, "Hej vem är detta?")
    assert (await _outbox(db_session))[-1].body.startswith("Vi förstod inte ditt svar.")
    [item] = await list_open_items(db_session, [world.unit.id])
    assert item.reason is InboxReason.NOT_AN_ANSWER


async def test_ring_mig_from_a_known_number_outside_any_conversation(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession
) -> None:
    world = await make_world(db_session, settings, language="en")  # registered, no survey started yet
    closure_id = world.follow_up.closure_id
    await _send(client, settings, "please call me")
    [confirmation] = await _by_kind(db_session, "call_me_confirmation")
    assert confirmation.body == signal_reply("en", "call_me_confirm")
    task = await db_session.scalar(sa.select(CallTask))
    assert task is not None and task.message == "please call me" and task.reason == "call_me"
    assert task.closure_id == closure_id  # on the closure's newest wave
