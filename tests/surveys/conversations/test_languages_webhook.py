"""Issue 16: a client registered with ar, so or lätt svenska is surveyed in that language.

Through the real app and signed Twilio webhooks, a frozen clock, and the real dispatcher sending
with the real twilio client to the local fake Twilio (as in ``test_quote_consent_webhook``). The
expected texts are the catalogue's shipped texts in the client's language; the test also checks
what a reader would: Arabic arrives in Arabic script, nothing arrives in ordinary Swedish, and
every outbox row and stored answer says which language was used. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role, Unit
from feedback.core.clock import FrozenClock
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from notifications.models import SmsOutbox
from notifications.optout import is_opted_out
from notifications.testing.fake_twilio import FakeTwilio
from surveys.answers.models import Answer
from surveys.conversations import service
from surveys.conversations.machine import Disposition
from surveys.conversations.models import Conversation
from surveys.texts.shipped import shipped
from tests.helpers import login, make_user
from tests.notifications.test_webhooks import PUBLIC
from tests.surveys.conversations.test_quote_consent_webhook import _dispatch, _send
from tests.surveys.world import NOW, make_world


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


ARABIC = re.compile("[\u0600-\u06ff]")
Q = "default_followup."


@dataclass(frozen=True)
class Script:
    language: str
    status: str  # question 1 (choice): "both" = 3
    bad: str  # not an answer to question 2
    satisfaction: str  # 4
    respect: str  # 5
    yes: str
    stop: str


SCRIPTS = [
    Script("ar", "٣", "ماذا تقصد", "٤", "۵", "نعم", "توقف"),
    Script("so", "3", "waa maxay", "4", "5", "HAA", "JOOJI"),
    Script("sv-easy", "3", "vad menar ni", "4", "5", "ja", "STOPP"),
]


def _text(settings: Settings, language: str, key: str) -> str:
    return shipped()[language][key].body.replace("{kommun}", settings.sms_sender_name)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.language)
async def test_a_client_is_surveyed_parsed_reprompted_and_stopped_in_their_language(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, clock: FrozenClock,
    fake: FakeTwilio, script: Script,
) -> None:  # fmt: skip
    lang = script.language
    world = await make_world(db_session, settings, language=lang)
    await service.start_sms_follow_up(db_session, world.follow_up, now=clock.now(), settings=settings)
    await db_session.commit()

    first = await _dispatch(settings, clock, fake)
    assert first == sorted([_text(settings, lang, Q + "intro"), _text(settings, lang, Q + "question:status")])
    assert all(body != _text(settings, "sv", Q + "intro") for body in first)
    if lang == "ar":
        assert all(ARABIC.search(body) for body in first)

    await _send(client, settings, clock, script.status)
    assert await _dispatch(settings, clock, fake) == [_text(settings, lang, Q + "question:satisfaction")]
    await _send(client, settings, clock, script.bad)
    [reprompt] = await _dispatch(settings, clock, fake)
    assert reprompt == _text(settings, lang, Q + "reprompt:satisfaction")
    assert reprompt != _text(settings, "sv", Q + "reprompt:satisfaction")
    for reply, next_key in [
        (script.satisfaction, "question:respect"),
        (script.respect, "question:influence"),
        (script.yes, "question:cooperation"),
    ]:
        await _send(client, settings, clock, reply)
        assert await _dispatch(settings, clock, fake) == [_text(settings, lang, Q + next_key)]

    await _send(client, settings, clock, script.stop)
    [confirmation] = await _dispatch(settings, clock, fake)
    assert confirmation == _text(settings, lang, "signal.opt_out_confirm")
    if lang == "ar":
        assert ARABIC.search(confirmation)

    db_session.expire_all()
    assert await is_opted_out(db_session, world.phone_index)
    conv = await db_session.scalar(sa.select(Conversation))
    assert conv is not None and conv.disposition is Disposition.OPTED_OUT
    answers = {a.question_key: a for a in await db_session.scalars(sa.select(Answer))}
    assert {k: (a.value, a.numeric) for k, a in answers.items()} == {
        "status": ("both", 3),
        "satisfaction": ("4", 4),
        "respect": ("5", 5),
        "influence": ("yes", None),
    }
    assert {a.language for a in answers.values()} == {lang}
    outbox = list(await db_session.scalars(sa.select(SmsOutbox)))
    assert len(outbox) == 8  # intro, questions 1-5, one re-prompt, the confirmation
    assert {row.language for row in outbox} == {lang}
    assert {row.encoding for row in outbox} == ({"ucs2"} if lang == "ar" else {"gsm7"})


async def test_a_language_without_texts_falls_back_to_swedish_and_says_so(
    client: AsyncTestClient[Litestar], settings: Settings, db_session: AsyncSession, clock: FrozenClock,
    fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A language the closure form offers but the catalogue lacks a text for: Swedish, recorded."""
    world = await make_world(db_session, settings, language="so")
    closure_id, unit_id = world.follow_up.closure_id, world.unit.id
    without = {**shipped(), "so": {k: v for k, v in shipped()["so"].items() if k != Q + "question:status"}}
    monkeypatch.setattr("surveys.texts.catalogue.shipped", lambda: without)
    await service.start_sms_follow_up(db_session, world.follow_up, now=clock.now(), settings=settings)
    await db_session.commit()
    bodies = await _dispatch(settings, clock, fake)
    assert bodies == sorted(
        [_text(settings, "so", Q + "intro"), _text(settings, "sv", Q + "question:status")]
    )
    rows = {row.body: row.language for row in await db_session.scalars(sa.select(SmsOutbox))}
    assert rows[_text(settings, "sv", Q + "question:status")] == "sv"
    assert rows[_text(settings, "so", Q + "intro")] == "so"
    await _send(client, settings, clock, "1")
    [answer] = list(await db_session.scalars(sa.select(Answer)))
    assert answer.language == "sv"  # the question was put in Swedish

    # The client page says which languages the person actually got, and why Swedish.
    unit = await db_session.get(Unit, unit_id)
    assert unit is not None
    await login(client, await make_user(db_session, Role.CASEWORKER, [unit]))
    page = await client.get(f"/caseworker/closures/{closure_id}")
    assert page.status_code == 200
    assert "Somaliska: 2 sms, Svenska: 1 sms" in page.text  # intro, question 2; question 1
    assert "Svenska användes eftersom texten saknas på somaliska" in page.text
