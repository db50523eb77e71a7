"""The "ni sa – vi gjorde" SMS end to end: answers stored by the real SMS and phone paths, a
published review action, the outbox, the dispatcher, and the messages counted at the fake Twilio.

Why this crosses the seam: the recipients are found by the respondent key the answers were
stored under. The earlier test built its answers with the key the lookup used, so a lookup with
the wrong secret (the phone index key instead of the secret key) sent nothing in production
while the test passed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.db import create_engine, session_factory
from feedback.core.errors import Conflict
from feedback.core.settings import Settings
from feedback.reports import reviews
from notifications.dispatcher import DispatchConfig, Dispatcher
from notifications.gateways.twilio import TwilioConfig, TwilioGateway
from notifications.models import OutboxStatus, SmsOutbox
from notifications.optout import record_opt_out
from notifications.phone import PhoneVault
from notifications.testing.fake_twilio import FakeTwilio
from surveys.answers.models import OpenText
from surveys.answers.service import closure_respondent_key
from surveys.texts.shipped import shipped
from tests.feedback.reports.answering import answer_by_phone, answer_by_sms, register
from tests.helpers import make_unit, make_user
from tests.notifications.support import RecordingHandler

SURVEYED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Stockholm, 31 days after closing
PUBLISHED = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # Tuesday 10:00: inside the send window
SMS_TEXT = "Tack för dina svar! Nu svarar vi i telefon samma dag."
TITLE = "Svara i telefon samma dag"
# an Arabic-registered respondent gets the catalogue's Arabic text with the title as written
AR_TEXT = shipped()["ar"]["review.sms_working"].body.replace("{title}", TITLE)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(PUBLISHED)


@pytest.fixture
def fake(clock: FrozenClock) -> Iterator[FakeTwilio]:
    with FakeTwilio(now=clock.now) as server:
        yield server


async def _dispatch(settings: Settings, fake: FakeTwilio, clock: FrozenClock) -> None:
    engine = create_engine(settings.database_url)
    try:
        dispatcher = Dispatcher(
            sessionmaker=session_factory(engine),
            gateway=TwilioGateway(
                TwilioConfig(
                    account_sid=fake.account_sid,
                    auth_token=fake.auth_token,
                    from_number="+46700000000",
                    api_base_url=fake.base_url,
                    timeout_s=3.0,
                )
            ),
            handler=RecordingHandler(),
            vault=PhoneVault.from_settings(settings),
            config=DispatchConfig(public_url=settings.public_url, reconcile_check_interval_s=0),
            clock=clock,
            worker_id="review-test",
            rng=random.Random(7),
        )
        await dispatcher.run_until_idle()
    finally:
        await engine.dispose()


def _review_sms_at_fake(fake: FakeTwilio, bodies: tuple[str, ...] = (SMS_TEXT, AR_TEXT)) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in fake.messages.values():
        if message.body in bodies:
            counts[message.to] = counts.get(message.to, 0) + 1
    return counts


async def test_review_sms_reaches_each_consenting_respondent_of_the_unit_once(
    db_session: AsyncSession, settings: Settings, fake: FakeTwilio, clock: FrozenClock
) -> None:
    assert settings.secret_key != settings.index_key  # with equal keys the wrong one would pass
    unit = await make_unit(db_session, name="Norra")
    other_unit = await make_unit(db_session, name="Södra")
    caller = await make_user(db_session, Role.CASEWORKER, [unit, other_unit])
    manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [unit]))
    at = SURVEYED - timedelta(days=31)

    by_sms = await register(db_session, settings, unit, 1, now=at)
    by_phone = await register(db_session, settings, unit, 2, language="ar", now=at)
    both = await register(db_session, settings, unit, 3, reason="studies", now=at)  # answers twice
    stopped = await register(db_session, settings, unit, 4, now=at)
    silent = await register(db_session, settings, unit, 5, now=at)  # consented, never answered
    elsewhere = await register(db_session, settings, other_unit, 6, now=at)

    await answer_by_sms(db_session, settings, by_sms, "Min coach trodde på mig", now=SURVEYED)
    await answer_by_phone(db_session, settings, by_phone, caller.id, "Praktiken hjälpte", now=SURVEYED)
    await answer_by_sms(db_session, settings, both, "Bra stöd med studierna", now=SURVEYED)
    await answer_by_phone(
        db_session, settings, both, caller.id, "Studievägledningen", now=SURVEYED, note="Nöjd med allt"
    )
    await answer_by_sms(db_session, settings, stopped, "Lång väntan", now=SURVEYED)
    await answer_by_sms(db_session, settings, elsewhere, "Bra bemötande", now=SURVEYED)
    await record_opt_out(db_session, stopped.phone_index, source="keyword", at=SURVEYED + timedelta(hours=2))
    await db_session.commit()
    del silent

    # the stored keys are the ones the recipient lookup computes (one function owns them)
    stored = set(
        await db_session.scalars(sa.select(OpenText.respondent_key).where(OpenText.unit_id == unit.id))
    )
    expected = {
        closure_respondent_key(settings.secret_key, p.closure.id) for p in (by_sms, by_phone, both, stopped)
    }
    assert stored == expected

    review = await reviews.create_review(
        db_session,
        user=manager,
        unit_id=unit.id,
        title="Översyn våren 2026",
        period_from=date(2026, 1, 1),
        period_to=date(2026, 3, 31),
        now=PUBLISHED,
    )
    action = await reviews.add_action(
        db_session,
        user=manager,
        review_id=review.id,
        title="Svara i telefon samma dag",
        owner="Maria",
        due_on=None,
        finding_id=None,
        now=PUBLISHED,
    )
    await reviews.publish_action(
        db_session,
        user=manager,
        action_id=action.id,
        you_said="Det var svårt att nå oss.",
        we_did="Nu svarar vi i telefon samma dag.",
        sms_text=SMS_TEXT,
        settings=settings,
        now=PUBLISHED,
    )
    await db_session.commit()
    assert action.sms_queued == 4  # by_sms, by_phone, both (once), stopped (stored as skipped)

    outbox = list(
        await db_session.scalars(
            sa.select(SmsOutbox).where(SmsOutbox.owner_ref == f"review_action:{action.id}")
        )
    )
    assert sorted(r.status for r in outbox) == sorted([OutboxStatus.QUEUED] * 3 + [OutboxStatus.SKIPPED])
    vault = PhoneVault.from_settings(settings)
    assert {r.to_index for r in outbox if r.status is OutboxStatus.QUEUED} == {
        vault.blind_index(p.phone) for p in (by_sms, by_phone, both)
    }

    await _dispatch(settings, fake, clock)
    assert _review_sms_at_fake(fake) == {by_sms.phone: 1, by_phone.phone: 1, both.phone: 1}
    # by_phone is registered with Arabic: the Arabic text, the others the manager's Swedish one
    assert _review_sms_at_fake(fake, (AR_TEXT,)) == {by_phone.phone: 1}
    assert {r.language for r in outbox} == {"sv", "ar"}

    # publishing again is refused, and queuing the same action again sends nothing new
    review_id, action_id = review.id, action.id
    with pytest.raises(Conflict):
        await reviews.publish_action(
            db_session,
            user=manager,
            action_id=action_id,
            you_said="a",
            we_did="b",
            sms_text=SMS_TEXT,
            settings=settings,
            now=PUBLISHED,
        )
    await db_session.rollback()
    action, review = await reviews.get_action(db_session, manager, action_id)
    assert review.id == review_id
    await reviews._send_sms(db_session, review, action, SMS_TEXT, settings, PUBLISHED)
    await db_session.commit()
    clock.advance(timedelta(hours=1))
    await _dispatch(settings, fake, clock)
    assert _review_sms_at_fake(fake) == {by_sms.phone: 1, by_phone.phone: 1, both.phone: 1}

    # editing after publication (texts, status to klar, back again) sends nothing either
    for status in ("done", "ongoing"):
        await reviews.update_action(
            db_session,
            user=manager,
            action_id=action_id,
            title="Svara i telefon samma dag, också på fredagar",
            owner="Maria",
            due_on=None,
            finding_id=None,
            status=status,
            now=clock.now(),
            you_said="Det var svårt att nå oss på fredagar.",
            we_did="Nu svarar vi i telefon samma dag, alla vardagar.",
        )
        await db_session.commit()
    await reviews.set_status(db_session, user=manager, action_id=action_id, status="done", now=clock.now())
    await db_session.commit()
    clock.advance(timedelta(hours=1))
    await _dispatch(settings, fake, clock)
    assert _review_sms_at_fake(fake) == {by_sms.phone: 1, by_phone.phone: 1, both.phone: 1}
    assert stopped.phone not in {m.to for m in fake.messages.values()}  # STOPP: nothing at all
    assert (
        await db_session.scalar(
            sa.select(sa.func.count())
            .select_from(SmsOutbox)
            .where(SmsOutbox.owner_ref == f"review_action:{action_id}")
        )
        == 4
    )


async def test_publishing_through_the_pages_confirms_first_and_texts_each_person_once(
    db_session: AsyncSession, settings: Settings, fake: FakeTwilio, clock: FrozenClock
) -> None:
    """The manager's path: publish form → confirm page (who gets the SMS) → publish, then a double
    confirm, an edit after publication and a status change: each consenting, not opted-out
    respondent gets the one SMS, counted at the fake Twilio; the opted-out one gets none."""
    from litestar.testing import AsyncTestClient

    from feedback.web.app import create_app
    from feedback.wiring import Collaborators
    from tests.helpers import form_post, login

    unit = await make_unit(db_session, name="Norra")
    caller = await make_user(db_session, Role.CASEWORKER, [unit])
    manager_user = await make_user(db_session, Role.MANAGER, [unit])
    manager = CurrentUser.from_user(manager_user)
    at = SURVEYED - timedelta(days=31)
    people = [await register(db_session, settings, unit, n, now=at) for n in (11, 12, 13)]
    stopped = await register(db_session, settings, unit, 14, now=at)
    await answer_by_sms(db_session, settings, people[0], "Bra coach", now=SURVEYED)
    await answer_by_phone(db_session, settings, people[1], caller.id, "Lång väntan", now=SURVEYED)
    await answer_by_sms(db_session, settings, people[2], "Trevligt", now=SURVEYED)
    await answer_by_phone(db_session, settings, people[2], caller.id, "Trevligt igen", now=SURVEYED)
    await answer_by_sms(db_session, settings, stopped, "Svårt att få tid", now=SURVEYED)
    await record_opt_out(db_session, stopped.phone_index, source="keyword", at=SURVEYED + timedelta(hours=1))
    review = await reviews.create_review(
        db_session,
        user=manager,
        unit_id=unit.id,
        title="Översyn",
        period_from=date(2026, 1, 1),
        period_to=date(2026, 3, 31),
        now=PUBLISHED,
    )
    action = await reviews.add_action(
        db_session,
        user=manager,
        review_id=review.id,
        title="Svara i telefon samma dag",
        owner="Maria",
        due_on=None,
        finding_id=None,
        now=PUBLISHED,
    )
    await db_session.commit()
    action_id = action.id
    publish = f"/reviews/actions/{action_id}/publish"
    texts = {
        "you_said": "Det var svårt att nå oss.",
        "we_did": "Nu svarar vi i telefon samma dag.",
        "send_sms": "ja",
        "sms_text": SMS_TEXT,
    }

    app = create_app(settings, Collaborators(clock=clock))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        await login(client, manager_user)
        # a pågår action cannot text "vi har ändrat": refused next to the SMS field, nothing queued
        r = await form_post(client, publish, {**texts, "sms_text": "Nu har vi ändrat telefontiderna."})
        assert r.status_code == 400 and "Åtgärden är inte klar" in r.text
        r = await form_post(client, publish, texts)
        assert r.status_code == 200 and "Bekräfta att du vill publicera" in r.text
        assert "Sms:et skickas till <strong>3 personer</strong>" in r.text  # STOPP not counted
        queued = sa.select(sa.func.count()).where(SmsOutbox.owner_ref == f"review_action:{action_id}")
        assert await db_session.scalar(queued) == 0  # the confirm step writes nothing
        r = await form_post(client, publish, {**texts, "bekrafta": "ja"})
        assert r.status_code == 200 and "publicerad" in r.text
        r = await form_post(client, publish, {**texts, "bekrafta": "ja"})  # back button + confirm again
        assert r.status_code == 409 and "redan publicerad" in r.text
        assert await db_session.scalar(queued) == 4  # three to send, the STOPP one stored as skipped
        await _dispatch(settings, fake, clock)
        expected = {p.phone: 1 for p in people}
        assert _review_sms_at_fake(fake) == expected

        # edited after publication and marked klar: "uppdaterad", "Vi gjorde", and no new SMS
        r = await form_post(
            client,
            f"/reviews/actions/{action_id}",
            {
                "title": "Svara i telefon samma dag",
                "owner": "Maria",
                "status": "done",
                "you_said": "Det var svårt att nå oss.",
                "we_did": "Nu svarar vi i telefon samma dag, alla vardagar.",
            },
        )
        assert r.status_code == 200 and "Inga nya sms skickas" in r.text and "som ”Vi gjorde”" in r.text
        clock.advance(timedelta(hours=1))
        await _dispatch(settings, fake, clock)
    assert _review_sms_at_fake(fake) == expected
    assert stopped.phone not in {m.to for m in fake.messages.values()}


async def test_each_respondent_gets_the_sms_in_their_own_language(
    db_session: AsyncSession, settings: Settings, fake: FakeTwilio, clock: FrozenClock
) -> None:
    """Issue 16: an Arabic-registered respondent gets the Arabic "ni sa – vi gjorde" text, a
    Swedish one the manager's Swedish text, each once at the fake Twilio; the outbox row says
    which language was actually used."""
    unit = await make_unit(db_session, name="Östra")
    caller = await make_user(db_session, Role.CASEWORKER, [unit])
    manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [unit]))
    at = SURVEYED - timedelta(days=31)
    swedish = await register(db_session, settings, unit, 21, now=at)
    arabic = await register(db_session, settings, unit, 22, language="ar", now=at)
    await answer_by_sms(db_session, settings, swedish, "Bra coach", now=SURVEYED)
    await answer_by_phone(db_session, settings, arabic, caller.id, "Praktiken hjälpte", now=SURVEYED)
    review = await reviews.create_review(
        db_session,
        user=manager,
        unit_id=unit.id,
        title="Översyn",
        period_from=date(2026, 1, 1),
        period_to=date(2026, 3, 31),
        now=PUBLISHED,
    )
    title = "Längre öppettider i telefon"
    action = await reviews.add_action(
        db_session,
        user=manager,
        review_id=review.id,
        title=title,
        owner="Ali",
        due_on=None,
        finding_id=None,
        now=PUBLISHED,
    )
    await reviews.set_status(db_session, user=manager, action_id=action.id, status="done", now=PUBLISHED)
    swedish_text = reviews.default_sms_text(action)
    arabic_text = shipped()["ar"]["review.sms_done"].body.replace("{title}", title)
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic_text) and title in arabic_text

    plan = await reviews.prepare_publication(
        db_session,
        user=manager,
        action_id=action.id,
        you_said="Svårt att nå er.",
        we_did=title,
        sms_text=swedish_text,
        settings=settings,
    )
    assert [(lang, n, body) for lang, n, body, _ in plan.sms_translations] == [("ar", 1, arabic_text)]
    await reviews.publish_action(
        db_session,
        user=manager,
        action_id=action.id,
        you_said="Svårt att nå er.",
        we_did=title,
        sms_text=swedish_text,
        settings=settings,
        now=PUBLISHED,
    )
    await db_session.commit()
    rows = list(
        await db_session.scalars(
            sa.select(SmsOutbox).where(SmsOutbox.owner_ref == f"review_action:{action.id}")
        )
    )
    vault = PhoneVault.from_settings(settings)
    assert {(r.to_index, r.language) for r in rows} == {
        (vault.blind_index(swedish.phone), "sv"),
        (vault.blind_index(arabic.phone), "ar"),
    }

    await _dispatch(settings, fake, clock)
    assert _review_sms_at_fake(fake, (arabic_text,)) == {arabic.phone: 1}
    assert _review_sms_at_fake(fake, (swedish_text,)) == {swedish.phone: 1}
    # sending again (a retry, a double click) queues nothing new in either language
    await reviews._send_sms(db_session, review, action, swedish_text, settings, PUBLISHED)
    await db_session.commit()
    clock.advance(timedelta(hours=1))
    await _dispatch(settings, fake, clock)
    assert _review_sms_at_fake(fake, (arabic_text, swedish_text)) == {arabic.phone: 1, swedish.phone: 1}
