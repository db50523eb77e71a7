"""Phone queue pages through the real app: unit scope, claim, audited number, script, outcome."""

from __future__ import annotations

import re
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
from surveys.answers.models import Answer, AnswerMode
from surveys.cases.models import Case
from surveys.outcomes.models import Outcome, OutcomeStatus
from surveys.phone import service
from surveys.phone.models import CallAttempt, CallOutcome, CallStatus, CallTask
from tests.helpers import form_post, login, make_user
from tests.surveys.world import NOW, PHONE, World, make_world


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


async def _task(session: AsyncSession, world: World) -> CallTask:
    task = await service.create_call_task(session, world.follow_up, reason="sms_no_response", now=NOW)
    await session.commit()
    return task


async def test_queue_shows_only_my_units_and_never_a_number(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    mine = await make_world(db_session, settings)
    other = await make_world(db_session, settings, ref="K-200", phone="+46709876543")
    task = await _task(db_session, mine)
    foreign = await _task(db_session, other)
    user = await make_user(db_session, Role.CASEWORKER, [mine.unit])
    await login(client, user)
    page = await client.get("/caseworker/calls/")
    assert page.status_code == 200
    assert f"/caseworker/calls/{task.id}/claim" in page.text
    assert str(foreign.id) not in page.text
    assert "Svarade inte på sms" in page.text
    assert "0701234567" not in page.text and PHONE not in page.text and "4567" not in page.text
    # A call in another unit cannot be claimed or opened.
    assert (await form_post(client, f"/caseworker/calls/{foreign.id}/claim", {})).status_code == 404
    assert (await client.get(f"/caseworker/calls/{foreign.id}")).status_code == 404
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "contact.read")) == 0  # fmt: skip


async def test_claimed_call_shows_script_and_number_and_audits_the_read(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    # Without a claim the call page sends you back to the queue.
    unclaimed = await client.get(f"/caseworker/calls/{task.id}", follow_redirects=False)
    assert unclaimed.status_code == 303
    claimed = await form_post(client, f"/caseworker/calls/{task.id}/claim", {}, follow_redirects=False)
    assert claimed.status_code == 303 and claimed.headers["location"] == f"/caseworker/calls/{task.id}"
    page = await client.get(f"/caseworker/calls/{task.id}")
    assert page.status_code == 200
    assert PHONE in page.text
    for part in ("Öppning", "Syfte och frivillighet", "Vill personen svara?", "Avslutning"):
        assert part in page.text
    assert "Är det en anställning som fortsätter framåt?" in page.text  # a probe
    assert 'name="answer_status" value="3"' in page.text and "3 = både och" in page.text
    assert 'name="answer_influence" value="ja"' in page.text
    for label in ("Svarade på frågorna", "Avböjde", "Svarar inte", "Upptaget", "Fel nummer", "Ring tillbaka"):
        assert label in page.text
    events = list(await db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "contact.read")))
    assert len(events) == 1
    event = events[0]
    assert event.actor_id == user.id and event.subject_type == "client" and event.reason
    assert event.detail == {"call_task_id": str(task.id), "wave_days": 30}
    assert PHONE not in str(event.detail)


async def test_second_caseworker_cannot_take_a_held_call(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    task = await _task(db_session, world)
    first = await make_user(db_session, Role.CASEWORKER, [world.unit])
    second = await make_user(db_session, Role.CASEWORKER, [world.unit])
    assert await service.claim(db_session, task.id, user_id=first.id, now=NOW)
    await db_session.commit()
    await login(client, second)
    queue = await client.get("/caseworker/calls/")
    assert str(task.id) not in queue.text  # held by someone else: not offered
    response = await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    assert response.status_code == 200 and "Någon annan har redan tagit samtalet" in response.text
    assert (await client.get(f"/caseworker/calls/{task.id}", follow_redirects=False)).status_code == 303


async def test_completed_call_saves_phone_answers_outcome_redacted_note_and_case(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    form = {
        "outcome": "completed",
        "consent": "ja",
        "answer_status": "1",
        "answer_satisfaction": "9",
        "answer_influence": "ja",
        "answer_helped": "Arbetskonsulenten",
        "note": "Ring henne på 0701234567, pnr 19900101-1239",
        "duration_min": "7",
        "open_case": "ja",
        "case_reason": "Vill ha hjälp med bostad",
    }
    bad = await form_post(client, f"/caseworker/calls/{task.id}/log", form)
    assert bad.status_code == 400
    assert "Svara med en siffra 1-5." in bad.text and 'value="Arbetskonsulenten"' not in bad.text
    assert "Arbetskonsulenten" in bad.text  # what was typed is kept
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0
    form["answer_satisfaction"] = "4"
    done = await form_post(client, f"/caseworker/calls/{task.id}/log", form, follow_redirects=False)
    assert done.status_code == 303 and "klart=logged" in done.headers["location"]
    await db_session.refresh(task)
    assert task.status is CallStatus.DONE
    answers = {a.question_key: a for a in await db_session.scalars(sa.select(Answer))}
    assert set(answers) == {"status", "satisfaction", "influence", "helped"}
    assert {a.mode for a in answers.values()} == {AnswerMode.PHONE}
    outcome = await db_session.scalar(sa.select(Outcome))
    assert outcome is not None and outcome.status is OutcomeStatus.WORKING
    attempt = await db_session.scalar(sa.select(CallAttempt))
    assert attempt is not None and attempt.duration_min == 7 and attempt.consent is True
    case = await db_session.scalar(sa.select(Case))
    assert case is not None and case.owner_id == user.id and attempt.case_id == case.id
    from surveys.answers.models import OpenText

    texts = " ".join(t.text_redacted for t in await db_session.scalars(sa.select(OpenText)))
    assert "0701234567" not in texts and "19900101" not in texts


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"outcome": "nope"}, "Välj hur samtalet gick."),
        ({"outcome": "completed"}, "Fyll i om personen sa ja till att svara."),
        ({"outcome": "call_back", "call_back_at": "i morgon"}, "ÅÅÅÅ-MM-DD"),
        ({"outcome": "call_back", "call_back_at": "2026-03-01T10:00"}, "framtiden"),
        ({"outcome": "busy", "duration_min": "-3"}, "heltal mellan 0 och 240"),
        ({"outcome": "busy", "open_case": "ja"}, "varför ett ärende behövs"),
    ],
)
async def test_bad_call_forms_get_a_swedish_400(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World,
    form: dict[str, str], message: str,
) -> None:  # fmt: skip
    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    response = await form_post(client, f"/caseworker/calls/{task.id}/log", form)
    assert response.status_code == 400 and message in response.text
    await db_session.refresh(task)
    assert task.status is CallStatus.CLAIMED and task.attempts == 0


async def test_call_back_and_release_put_the_call_back_in_the_queue(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    released = await form_post(client, f"/caseworker/calls/{task.id}/release", {})
    assert "Samtalet är tillbaka i kön." in released.text
    await db_session.refresh(task)
    assert task.status is CallStatus.OPEN and task.claimed_by_id is None
    await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    response = await form_post(
        client,
        f"/caseworker/calls/{task.id}/log",
        {"outcome": "call_back", "call_back_at": "2026-03-03T14:30"},
    )
    assert response.status_code == 200 and "Samtalet är loggat." in response.text
    await db_session.refresh(task)
    assert task.status is CallStatus.OPEN and task.last_outcome is CallOutcome.CALL_BACK
    assert task.due_at.isoformat().startswith("2026-03-03T13:30")  # 14:30 Stockholm = 13:30 UTC
    assert not re.search(str(task.id) + "/claim", response.text)  # not due yet


async def test_only_caseworkers_reach_the_queue(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    manager = await make_user(db_session, Role.MANAGER, [world.unit])
    await login(client, manager)
    assert (await client.get("/caseworker/calls/")).status_code == 403
    assert (await client.get("/caseworker/cases/")).status_code == 403


async def test_an_expired_claim_goes_back_to_the_queue(
    app: Litestar,
    client: AsyncTestClient[Litestar],
    db_session: AsyncSession,
    settings: Settings,
    world: World,
) -> None:
    task = await _task(db_session, world)
    first = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, first)
    await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    queue = await client.get("/caseworker/calls/")
    assert "Samtal du har tagit" in queue.text and "Fortsätt samtalet" in queue.text and "K-100" in queue.text
    app.state.clock.advance(service.CLAIM_TTL + timedelta(minutes=1))
    expired = await client.get(f"/caseworker/calls/{task.id}")
    assert "Du har inte längre samtalet." in expired.text
    logged = await form_post(client, f"/caseworker/calls/{task.id}/log", {"outcome": "busy"})
    assert "Du har inte längre samtalet." in logged.text
    await db_session.refresh(task)
    assert task.attempts == 0
    # Someone else may now take it.
    second = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, second)
    taken = await form_post(client, f"/caseworker/calls/{task.id}/claim", {}, follow_redirects=False)
    assert taken.headers["location"] == f"/caseworker/calls/{task.id}"


async def test_the_call_language_defaults_to_the_clients_and_reaches_the_stored_answer(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    from surveys.answers.models import OpenText

    world = await make_world(db_session, settings, language="ar")
    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    page = await client.get(f"/caseworker/calls/{task.id}")
    assert 'id="language"' in page.text and '<option value="ar" selected>Arabiska</option>' in page.text
    form = {"outcome": "completed", "consent": "ja", "answer_helped": "Arbetskonsulenten", "language": "xx"}
    bad = await form_post(client, f"/caseworker/calls/{task.id}/log", form)
    assert bad.status_code == 400 and "Välj ett av språken i listan." in bad.text
    form["language"] = "so"  # the call was held in Somali, not the registered Arabic
    done = await form_post(client, f"/caseworker/calls/{task.id}/log", form, follow_redirects=False)
    assert done.status_code == 303
    [text] = list(await db_session.scalars(sa.select(OpenText)))
    assert text.language == "so"


async def test_the_script_is_shown_in_the_language_picked_for_the_call(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    """Issue 16: an Arabic client's call page shows the Arabic script right-to-left; picking
    another language shows that one (and preselects it for the log); Swedish stays as it was."""
    from surveys.texts.shipped import shipped

    world = await make_world(db_session, settings, language="ar")
    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    arabic = shipped()["ar"]
    page = await client.get(f"/caseworker/calls/{task.id}")
    assert page.status_code == 200
    for key in ("default_followup.phone:intro", "default_followup.phone:closing", "phone.quote_consent"):
        body = arabic[key].body
        assert any("\u0600" <= ch <= "\u06ff" for ch in body)
        assert f'lang="ar" dir="rtl">{body}</' in page.text.replace("&#34;", '"')
    prompt = arabic["default_followup.phone:question:helped"].body
    assert f'<span lang="ar" dir="rtl">{prompt}</span>' in page.text
    assert "Hej, jag heter" not in page.text  # not the Swedish opening
    assert 'id="script-draft"' in page.text  # the Arabic texts are drafts: the caseworker is told

    somali = await client.get(f"/caseworker/calls/{task.id}", params={"sprak": "so"})
    body = shipped()["so"]["default_followup.phone:intro"].body
    assert f'lang="so" dir="ltr">{body}</' in somali.text and 'dir="rtl"' not in somali.text
    assert '<option value="so" selected>Somaliska</option>' in somali.text

    swedish = await client.get(f"/caseworker/calls/{task.id}", params={"sprak": "sv"})
    assert "Är det en anställning som fortsätter framåt?" in swedish.text and 'dir="rtl"' not in swedish.text
    unknown = await client.get(f"/caseworker/calls/{task.id}", params={"sprak": "xx"})
    assert unknown.status_code == 200 and f'lang="ar" dir="rtl">{prompt}' in unknown.text  # the client's


async def test_wrong_number_offers_a_field_for_the_right_one_stored_encrypted_never_in_the_note(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    from surveys.closures.contact import VaultPhoneProtector
    from surveys.closures.models import Client

    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    page = await client.get(f"/caseworker/calls/{task.id}")
    assert 'name="new_phone"' in page.text and "Nytt mobilnummer (bara vid Fel nummer)" in page.text
    bad = await form_post(
        client, f"/caseworker/calls/{task.id}/log", {"outcome": "wrong_number", "new_phone": "12"}
    )
    assert bad.status_code == 400 and 'id="new_phone-error"' in bad.text
    done = await form_post(
        client,
        f"/caseworker/calls/{task.id}/log",
        {"outcome": "wrong_number", "new_phone": "0707654321", "note": "Fel person svarade"},
    )
    assert done.status_code == 200 and "Det nya numret är sparat" in done.text
    row = await db_session.scalar(sa.select(Client).execution_options(populate_existing=True))
    assert row is not None and row.phone_ciphertext and "0707654321" not in row.phone_ciphertext
    assert VaultPhoneProtector(settings).reveal(row.phone_ciphertext) == "+46707654321"
    await db_session.refresh(task)
    assert task.status is CallStatus.OPEN
    notes = " ".join(await db_session.scalars(sa.text("SELECT text_redacted FROM open_text")))
    assert "765" not in notes and "Fel person svarade" in notes


async def test_the_call_form_submitted_twice_logs_one_call_and_one_case(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    task = await _task(db_session, world)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    form = {
        "outcome": "completed",
        "consent": "ja",
        "answer_satisfaction": "1",
        "open_case": "ja",
        "case_reason": "Vill ha hjälp med bostad",
    }
    first = await form_post(client, f"/caseworker/calls/{task.id}/log", form, follow_redirects=False)
    assert first.status_code == 303 and "klart=logged" in first.headers["location"]
    again = await form_post(client, f"/caseworker/calls/{task.id}/log", form)
    assert again.status_code == 200 and "Samtalet var redan loggat. Det sparades bara en gång." in again.text
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(CallAttempt)) == 1
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Case)) == 1
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 1
    # Someone else's form for a call they no longer hold still says "take it again".
    other = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, other)
    stale = await form_post(client, f"/caseworker/calls/{task.id}/log", form)
    assert "Du har inte längre samtalet." in stale.text
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(CallAttempt)) == 1
