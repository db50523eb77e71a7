"""Issue 14, item 7: SMS clients are asked whether an open answer may be quoted; they can withdraw.

Through the real app and signed Twilio webhooks (the app's wiring, so a withdrawal also reaches
the reports layer's marking of review findings), a frozen clock (Monday 10:00 in Stockholm),
and the real dispatcher sending through the real twilio client to the local fake Twilio, where
the messages are counted. The report is the one managers read (``build_theme_report``); themes
are assigned by hand, as the worker's theming job would. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.reports import reviews
from feedback.reports.filters import ReportFilters
from feedback.reports.models import Finding
from feedback.reports.queries import build_theme_report
from feedback.themes.models import OpenTextTheme
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from notifications.dispatcher import DispatchConfig, Dispatcher
from notifications.gateways.twilio import TwilioConfig, TwilioGateway
from notifications.models import SmsInbound
from notifications.phone import PhoneVault
from notifications.testing.fake_twilio import FakeTwilio
from surveys.answers.models import OpenText, ThemingStatus
from surveys.answers.service import register_open_text
from surveys.cases.models import Case, CasePriority
from surveys.conversations import service
from surveys.conversations.models import Conversation
from surveys.questionnaires.defaults import QUOTE_CONSENT_TEXTS
from tests.helpers import make_user
from tests.notifications.support import RecordingHandler
from tests.notifications.test_webhooks import PUBLIC, inbound_params, post_signed
from tests.surveys.world import NOW, PHONE, World, make_world

SMS_PATH = "/webhooks/twilio/sms"
THEME = "bemotande"
OPEN_ANSWER = "Min coach lyssnade. Mitt nummer är 070-123 45 67"
# Replies up to the first open question (status, satisfaction, respect, influence, cooperation).
BEFORE_OPEN = ["1", "4", "5", "ja", "4"]
REPORT = ReportFilters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def client(settings: Settings, clock: FrozenClock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(
        app=create_app(settings, Collaborators(clock=clock)), base_url=PUBLIC
    ) as test_client:
        yield test_client


@pytest.fixture
def fake(clock: FrozenClock) -> Iterator[FakeTwilio]:
    with FakeTwilio(now=clock.now) as server:
        yield server


async def _dispatch(settings: Settings, clock: FrozenClock, fake: FakeTwilio) -> list[str]:
    """Send everything due through the fake Twilio; the bodies it received in this run.

    Sorted: one run sends concurrently, so the order of arrival says nothing.
    """
    before = len(fake.create_requests())
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
    sent = fake.create_requests()[before:]
    assert all(r.value("To") == PHONE for r in sent)
    return sorted(r.value("Body") or "" for r in sent)


async def _send(client: AsyncTestClient[Litestar], settings: Settings, clock: FrozenClock, text: str) -> None:
    clock.advance(timedelta(minutes=1))
    response = await post_signed(client, settings, SMS_PATH, inbound_params(text, from_=PHONE))
    assert response.status_code == 200 and "<Response/>" in response.text


async def _open_answer_given(
    session: AsyncSession,
    settings: Settings,
    client: AsyncTestClient[Litestar],
    clock: FrozenClock,
    fake: FakeTwilio,
    language: str = "sv",
) -> tuple[World, list[str]]:
    """A started survey answered up to and including the first open question (and dispatched)."""
    world = await make_world(session, settings, language=language)
    session.expunge(world.unit)  # its id stays readable after the tests expire the session
    await service.start_sms_follow_up(session, world.follow_up, now=clock.now(), settings=settings)
    await session.commit()
    for text in [*BEFORE_OPEN, OPEN_ANSWER]:
        await _send(client, settings, clock, text)
    return world, await _dispatch(settings, clock, fake)


async def _others_with_the_theme(session: AsyncSession, unit_id: uuid.UUID, count: int = 5) -> None:
    """Enough other people on the theme for it (and its quotes) to be shown (>= 5 people)."""
    for i in range(count):
        row = await register_open_text(
            session,
            channel="sms",
            source_ref=f"other:{i}",
            unit_id=unit_id,
            respondent_key=f"other-{i}",
            text="Bra bemötande",
            received_at=NOW,
            language="sv",
            wave_days=30,
            closure_reason="work",
            redact=lambda t: t,
        )
        row.status = ThemingStatus.THEMED
        session.add(OpenTextTheme(open_text_id=row.id, theme_key=THEME))
    await session.commit()


async def _themed_answer(session: AsyncSession) -> OpenText:
    """The SMS open answer, themed as the worker would."""
    session.expire_all()
    row = await session.scalar(sa.select(OpenText).where(OpenText.question_key == "helped"))
    assert row is not None
    if not row.themes:
        row.status = ThemingStatus.THEMED
        session.add(OpenTextTheme(open_text_id=row.id, theme_key=THEME))
        await session.commit()
    return row


async def _report_quotes(session: AsyncSession) -> list[str]:
    session.expire_all()
    report = await build_theme_report(session, REPORT, None, now=NOW + timedelta(days=40))
    [row] = [t for t in report.themes if t.key == THEME]
    assert row.respondents is not None and row.respondents >= 5  # the theme itself is shown
    return row.quotes


async def _conversation(session: AsyncSession) -> Conversation:
    session.expire_all()
    conv = await session.scalar(sa.select(Conversation))
    assert conv is not None
    return conv


# ------------------------------------------------------------------ asking
@pytest.mark.parametrize("language", ["sv", "sv-easy", "en", "ar", "so"])
async def test_the_quoting_question_follows_the_open_answer_in_the_persons_language(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, clock: FrozenClock,
    fake: FakeTwilio, language: str,
) -> None:  # fmt: skip
    _, bodies = await _open_answer_given(db_session, settings, client, clock, fake, language)
    # intro, 6 questions, then the quoting question, exactly once
    assert len(bodies) == 8
    assert bodies.count(QUOTE_CONSENT_TEXTS[language]["quote_consent"]) == 1
    conv = await _conversation(db_session)
    assert conv.awaiting_quote_consent and conv.is_open
    text = await _themed_answer(db_session)
    assert text.quote_consent is False  # default no until the person says yes


@pytest.mark.parametrize("reply", ["JA", "ja gärna!", "1", "yes"])
async def test_yes_puts_the_redacted_answer_among_the_report_quotes(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, clock: FrozenClock,
    fake: FakeTwilio, reply: str,
) -> None:  # fmt: skip
    world, _ = await _open_answer_given(db_session, settings, client, clock, fake)
    await _others_with_the_theme(db_session, world.unit.id)
    assert await _report_quotes(db_session) == []
    await _send(client, settings, clock, reply)
    [body] = await _dispatch(settings, clock, fake)
    assert body.startswith("Fråga 7 av 7")  # the survey goes on
    await _themed_answer(db_session)
    quotes = await _report_quotes(db_session)
    assert quotes == ["Min coach lyssnade. Mitt nummer är [TELEFON]"]  # redacted, as stored
    inbound = (await db_session.scalars(sa.select(SmsInbound).order_by(SmsInbound.received_at))).all()
    assert inbound[-1].outcome == "answer"


@pytest.mark.parametrize("reply", ["nej", "NEJ TACK", "2", "kanske sen", "vad menar ni?", "ok nej"])
async def test_no_or_an_unclear_reply_is_not_quoted_and_the_survey_goes_on(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, clock: FrozenClock,
    fake: FakeTwilio, reply: str,
) -> None:  # fmt: skip
    world, _ = await _open_answer_given(db_session, settings, client, clock, fake)
    await _others_with_the_theme(db_session, world.unit.id)
    await _send(client, settings, clock, reply)
    [body] = await _dispatch(settings, clock, fake)
    assert body.startswith("Fråga 7 av 7")  # no re-prompt, never stuck
    conv = await _conversation(db_session)
    assert not conv.awaiting_quote_consent and conv.step == 6
    text = await _themed_answer(db_session)
    assert text.quote_consent is False
    assert await _report_quotes(db_session) == []
    await _send(client, settings, clock, "0")  # the last question, skipped: the thank-you
    [thanks] = await _dispatch(settings, clock, fake)
    assert thanks.startswith("Tack för dina svar!")


async def test_crisis_words_as_the_reply_to_the_quoting_question_are_a_crisis(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, clock: FrozenClock,
    fake: FakeTwilio,
) -> None:  # fmt: skip
    await _open_answer_given(db_session, settings, client, clock, fake)
    await _send(client, settings, clock, "ja, men jag vill inte leva längre")
    [ack] = await _dispatch(settings, clock, fake)
    assert "Självmordslinjen 90101" in ack  # the acknowledgement, nothing else
    case = await db_session.scalar(sa.select(Case))
    assert case is not None and case.priority is CasePriority.AKUT
    conv = await _conversation(db_session)
    assert conv.paused_at is not None and conv.step == 5  # paused at the quoting question
    text = await _themed_answer(db_session)
    assert text.quote_consent is False  # the "ja" in a crisis message is not a consent
    inbound = (await db_session.scalars(sa.select(SmsInbound).order_by(SmsInbound.received_at))).all()
    assert inbound[-1].outcome == "signals:crisis"


# ------------------------------------------------------------------ withdrawing
async def test_withdrawal_by_sms_removes_the_quote_from_the_report_and_marks_the_finding(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, clock: FrozenClock,
    fake: FakeTwilio,
) -> None:  # fmt: skip
    world, _ = await _open_answer_given(db_session, settings, client, clock, fake)
    await _others_with_the_theme(db_session, world.unit.id)
    for text in ["ja", "0"]:  # yes to quoting, skip the last question: the thank-you
        await _send(client, settings, clock, text)
    quoted = await _themed_answer(db_session)
    quoted_id = quoted.id
    assert quoted.quote_consent and await _report_quotes(db_session)
    manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [world.unit]))
    review = await reviews.create_review(
        db_session, user=manager, unit_id=world.unit.id, title="Våren", period_from=date(2026, 3, 1),
        period_to=date(2026, 3, 31), now=clock.now(),
    )  # fmt: skip
    finding = await reviews.add_finding(
        db_session, user=manager, review_id=review.id, text="Coacherna lyssnar", theme_keys=[THEME],
        quote_ids=[quoted_id], now=clock.now(),
    )  # fmt: skip
    finding_id, review_id = finding.id, review.id
    await db_session.commit()
    assert finding.quotes[0]["text"].startswith("Min coach lyssnade")
    await _dispatch(settings, clock, fake)

    await _send(client, settings, clock, "Ta bort mitt citat tack")

    assert await _report_quotes(db_session) == []  # gone from the report at once
    db_session.expire_all()
    marked = await db_session.get(Finding, finding_id)
    assert marked is not None
    assert marked.quotes == [
        {"open_text_id": str(quoted_id), "text": reviews.WITHDRAWN_QUOTE_SV, "withdrawn": True}
    ]
    assert "coach" not in str(marked.quotes)
    assert await _dispatch(settings, clock, fake) == [QUOTE_CONSENT_TEXTS["sv"]["quote_withdrawn"]]
    inbound = (await db_session.scalars(sa.select(SmsInbound).order_by(SmsInbound.received_at))).all()
    assert inbound[-1].outcome == "quote_withdrawn"
    # Choosing the quote again for a new finding is refused: it is no longer approved.
    review = await reviews.get_review(db_session, user=manager, review_id=review_id)
    assert quoted_id not in {q.id for q in await reviews.quotable(db_session, review)}


async def test_withdrawal_in_the_middle_of_the_survey_is_not_taken_as_an_answer(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, clock: FrozenClock,
    fake: FakeTwilio,
) -> None:  # fmt: skip
    await _open_answer_given(db_session, settings, client, clock, fake)
    for text in ["ja", "remove my quote"]:  # yes, then at the last (free-text) question: withdraw
        await _send(client, settings, clock, text)
    conv = await _conversation(db_session)
    assert conv.is_open and conv.step == 6  # still waiting for an answer to question 7
    texts = list(await db_session.scalars(sa.select(OpenText)))
    assert [t.question_key for t in texts] == ["helped"] and texts[0].quote_consent is False
    bodies = await _dispatch(settings, clock, fake)  # the quoting question's next: question 7, then the reply
    assert bodies[-1] == QUOTE_CONSENT_TEXTS["sv"]["quote_withdrawn"] and len(bodies) == 2
