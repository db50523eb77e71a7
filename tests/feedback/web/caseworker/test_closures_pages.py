"""Closure pages through the real app: register with field errors, list, detail changes, import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

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
from surveys.closures.models import Client, Closure
from surveys.conversations.models import Conversation
from surveys.conversations.service import start_sms_follow_up
from surveys.outcomes.models import Outcome, OutcomeStatus
from surveys.plans.models import FollowUp, FollowUpStatus
from tests.helpers import csrf_token, form_post, login, make_unit, make_user
from tests.surveys.world import NOW, make_world

TODAY = date(2026, 3, 2)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


def _form(unit, **overrides):
    return {
        "unit": str(unit.id),
        "client_ref": "K-77",
        "phone": "070-123 45 67",
        "language": "sv",
        "closed_on": (TODAY - timedelta(days=2)).isoformat(),
        "reason": "work",
        "consent_on": (TODAY - timedelta(days=2)).isoformat(),
        "consent_channel": "meeting",
        "consent_given_by": "client",
        **overrides,
    }


async def test_caseworker_registers_a_closure_and_sees_the_schedule(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session, name="Försörjningsstöd Norr")
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, user)
    form = await client.get("/caseworker/closures/ny")
    assert form.status_code == 200 and 'for="client_ref"' in form.text
    response = await form_post(client, "/caseworker/closures/ny", _form(unit), follow_redirects=False)
    assert response.status_code == 303, response.text
    detail = await client.get(response.headers["location"])
    assert "Avslutet är registrerat" in detail.text
    assert "30 dagar efter avslut" in detail.text and "Telefonsamtal" in detail.text
    assert "+4670*****67" in detail.text and "0701234567" not in detail.text
    listing = await client.get("/caseworker/closures/")
    assert "K-77" in listing.text and "+4670*****67" in listing.text
    assert (TODAY + timedelta(days=28)).isoformat() in listing.text  # next wave: 30 days after closure
    # The same form again changes nothing.
    again = await form_post(client, "/caseworker/closures/ny", _form(unit), follow_redirects=False)
    assert again.headers["location"].endswith("klart=unchanged")
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Closure)) == 1


async def test_every_bad_field_gets_a_swedish_message_and_nothing_is_stored(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, user)
    bad = _form(
        unit,
        client_ref="19811228-9874",
        phone="08-123 456 78",
        closed_on="2026-02-30",
        reason="",
        consent_channel="",
    )
    response = await form_post(client, "/caseworker/closures/ny", bad)
    assert response.status_code == 400
    text = response.text
    assert "ser ut som ett personnummer" in text
    assert "mobilnummer" in text
    assert "ÅÅÅÅ-MM-DD" in text
    assert "avslutsorsak" in text.lower()
    assert "Välj hur samtycket gavs" in text
    assert 'aria-invalid="true"' in text and 'id="client_ref-error"' in text
    assert "19811228" not in text and "9874" not in text  # never echoed back
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


async def test_a_unit_outside_mine_is_refused(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    mine, other = await make_unit(db_session), await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [mine])
    await login(client, user)
    response = await form_post(client, "/caseworker/closures/ny", _form(other))
    assert response.status_code == 400 and "Välj en av dina enheter" in response.text
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Closure)) == 0


async def test_other_units_closures_are_not_listed_or_shown(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    mine = await make_world(db_session, settings, ref="K-MINE")
    other = await make_world(db_session, settings, ref="K-OTHER", phone="+46709876543")
    user = await make_user(db_session, Role.CASEWORKER, [mine.unit])
    await login(client, user)
    listing = await client.get("/caseworker/closures/")
    assert "K-MINE" in listing.text and "K-OTHER" not in listing.text
    assert (await client.get(f"/caseworker/closures/{other.follow_up.closure_id}")).status_code == 403
    token = await csrf_token(client)
    refused = await client.post(
        f"/caseworker/closures/{other.follow_up.closure_id}/kontakta-ej",
        data={"value": "ja", "_csrf_token": token},
    )
    assert refused.status_code == 403


async def test_manager_may_view_but_not_change(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    world = await make_world(db_session, settings)
    manager = await make_user(db_session, Role.MANAGER, [world.unit])
    await login(client, manager)
    closure_id = world.follow_up.closure_id
    page = await client.get(f"/caseworker/closures/{closure_id}")
    assert page.status_code == 200 and "Uppföljningsplan" in page.text and "Spara ändringen" not in page.text
    assert (await client.get("/caseworker/closures/ny")).status_code == 403
    response = await form_post(client, f"/caseworker/closures/{closure_id}/andra", {"reason": "moved"})
    assert response.status_code == 403


async def test_changing_the_date_reschedules_in_the_same_request(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    world = await make_world(db_session, settings)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    closure_id = world.follow_up.closure_id
    new_date = date(2026, 2, 10)
    response = await form_post(
        client,
        f"/caseworker/closures/{closure_id}/andra",
        {"closed_on": new_date.isoformat(), "reason": "studies"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    db_session.expire_all()
    rows = list(
        await db_session.scalars(
            sa.select(FollowUp).where(FollowUp.closure_id == closure_id).order_by(FollowUp.wave_days)
        )
    )
    assert [r.due_on for r in rows] == [new_date + timedelta(days=d) for d in (30, 90, 180, 365)]
    bad = await form_post(client, f"/caseworker/closures/{closure_id}/andra", {"closed_on": "2031-01-01"})
    assert bad.status_code == 400 and "framtiden" in bad.text


async def test_return_to_assistance_cancels_the_rest_and_the_sms_in_flight(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    world = await make_world(db_session, settings)
    conv = await start_sms_follow_up(db_session, world.follow_up, now=NOW, settings=settings)
    assert conv is not None
    conv_id = conv.id
    await db_session.commit()
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    closure_id = world.follow_up.closure_id
    response = await form_post(
        client, f"/caseworker/closures/{closure_id}/ateraktualisering", {"returned_on": "2026-03-01"}
    )
    assert response.status_code == 200 and "Återaktualiseringen är registrerad" in response.text
    db_session.expire_all()
    statuses = set(
        await db_session.scalars(sa.select(FollowUp.status).where(FollowUp.closure_id == closure_id))
    )
    assert statuses == {FollowUpStatus.CANCELLED}
    assert (await db_session.get(Conversation, conv_id)).is_open is False
    pending = await db_session.scalars(sa.select(SmsOutbox.status))
    assert set(pending) == {OutboxStatus.CANCELED}
    outcome = await db_session.scalar(sa.select(Outcome).where(Outcome.closure_id == closure_id))
    assert outcome.status == OutcomeStatus.RETURNED and outcome.wave_days == 30


async def test_do_not_contact_and_consent_withdrawal(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    world = await make_world(db_session, settings)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    closure_id = world.follow_up.closure_id
    url = f"/caseworker/closures/{closure_id}/kontakta-ej"

    async def flags() -> tuple[bool, bool]:
        row = await db_session.scalar(sa.select(Client).execution_options(populate_existing=True))
        return row.do_not_contact, row.consent_withdrawn_at is not None

    # One click is never enough: an unconfirmed post (a no-JS button, a replayed form) only
    # shows the confirmation page, and the link on the client page leads there too.
    ask = await form_post(client, url, {"value": "ja"})
    assert ask.status_code == 200 and "Ja, markera kontakta ej" in ask.text and 'name="reason"' in ask.text
    assert (await client.get(url)).status_code == 200
    assert await flags() == (False, False)
    no_reason = await form_post(client, url, {"value": "ja", "bekrafta": "ja", "reason": " "})
    assert no_reason.status_code == 400 and "Skriv varför" in no_reason.text
    assert await flags() == (False, False)

    on = await form_post(client, url, {"value": "ja", "bekrafta": "ja", "reason": "Sa det i telefon"})
    assert "Personen är markerad: kontakta ej" in on.text and "Stoppad: kontakta ej" in on.text
    assert "Planerad<" not in on.text
    assert await flags() == (True, False)
    off = await form_post(client, url, {"value": "nej", "bekrafta": "ja", "reason": "Fel person markerad"})
    assert "borttagen" in off.text

    consent_url = f"/caseworker/closures/{closure_id}/aterkalla-samtycke"
    assert "Ja, återkalla samtycket" in (await client.get(consent_url)).text
    assert "Ja, återkalla samtycket" in (await form_post(client, consent_url, {})).text
    assert await flags() == (False, False)
    consent = await form_post(client, consent_url, {"bekrafta": "ja", "reason": "Personen ringde oss"})
    assert "Samtycket är återkallat" in consent.text and "Stoppad: samtycket återkallat" in consent.text
    assert await flags() == (False, True)
    assert (await form_post(client, url, {"value": "x"})).status_code == 400
    actions = set(await db_session.scalars(sa.select(AuditEvent.action)))
    assert {"contact.do_not_contact", "contact.consent_withdrawn", "client.read"} <= actions


async def test_csv_upload_lists_bad_rows_and_a_second_upload_changes_nothing(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, user)
    content = (
        "\ufeffclient_ref;phone;language;closed_on;reason;unit\n"
        "K-1;070-123 45 67;sv;2026-02-01;work;\n"
        "8112289874;070-123 45 68;sv;2026-02-01;work;\n"
        "K-3;070-123 45 69;sv;2026-02-01;semester;\n"
    ).encode()

    async def upload() -> str:
        token = await csrf_token(client)
        response = await client.post(
            "/caseworker/closures/import",
            data={"unit": str(unit.id), "_csrf_token": token},
            files={"file": ("avslut.csv", content, "text/csv")},
        )
        assert response.status_code == 200, response.text
        return response.text

    first = await upload()
    assert "1 nya" in first and "2 avvisade" in first
    assert "<td>3</td>" in first and "personnummer" in first and "8112289874" not in first
    assert "<td>4</td>" in first and "avslutsorsak" in first
    second = await upload()
    assert "0 nya, 0 ändrade, 1 oförändrade" in second
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Closure)) == 1
    audits = await db_session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "closures.import")
    )
    assert audits == 2


async def test_upload_without_file_or_with_a_broken_header(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, user)
    token = await csrf_token(client)
    response = await client.post(
        "/caseworker/closures/import",
        data={"unit": str(unit.id), "_csrf_token": token},
        files={"file": ("x.csv", b"namn,datum\nA,B\n", "text/csv")},
    )
    assert response.status_code == 400 and "Rubrikraden saknar" in response.text


async def test_client_page_shows_one_audited_timeline_and_truthful_waves(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    from tests.surveys.client_story import CALL_NOTE, build_client_story

    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    user_id = user.id
    story = await build_client_story(
        db_session, settings, unit_id=unit.id, caseworker_id=user_id, ref="K-STORY", now=NOW
    )
    await login(client, user)
    page = await client.get(f"/caseworker/closures/{story.closure_id}")
    assert page.status_code == 200
    text = page.text
    assert "Klient K-STORY" in text and 'id="timeline"' in text
    assert "Misslyckades: telefonen går inte att nå" in text
    assert "Orsak: Telefonen går inte att nå" in text and "Kom inte fram" in text
    assert (
        "Tackade nej till sms (STOPP)" in text and "[PERSONNUMMER]" in text and "/caseworker/cases/" in text
    )
    assert "19850412" not in text and CALL_NOTE not in text and "+46701110088" not in text
    reads = list(await db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "client.read")))
    assert len(reads) == 1 and reads[0].actor_id == user_id and reads[0].subject_id == str(story.client_id)

    manager = await make_user(db_session, Role.MANAGER, [unit])
    await login(client, manager)
    seen = await client.get(f"/caseworker/closures/{story.closure_id}")
    assert seen.status_code == 200 and "Ändra kontaktuppgifter" not in seen.text
    assert "/caseworker/cases/" not in seen.text  # the case page is for caseworkers
    stranger = await make_user(db_session, Role.CASEWORKER, [await make_unit(db_session)])
    await login(client, stranger)
    assert (await client.get(f"/caseworker/closures/{story.closure_id}")).status_code == 403


async def test_contact_data_is_changed_with_a_reason_and_never_with_a_personnummer(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    world = await make_world(db_session, settings)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    url = f"/caseworker/closures/{world.follow_up.closure_id}/kontakt"
    form = {"phone": "070-765 43 21", "language": "ar", "protected_identity": "nej"}
    no_reason = await form_post(client, url, form)
    assert no_reason.status_code == 400 and 'id="contact_reason-error"' in no_reason.text
    pnr = await form_post(client, url, {**form, "contact_reason": "Enligt 19850412-1234"})
    assert pnr.status_code == 400 and "personnummer" in pnr.text
    assert "070-765 43 21" not in pnr.text  # the number typed is not echoed back
    bad_phone = await form_post(client, url, {**form, "phone": "123", "contact_reason": "Nytt nummer"})
    assert bad_phone.status_code == 400 and 'id="phone-error"' in bad_phone.text
    row = await db_session.scalar(sa.select(Client).execution_options(populate_existing=True))
    assert row.phone_index == world.phone_index and str(row.language) == "sv"

    done = await form_post(client, url, {**form, "contact_reason": "Personen ringde och gav nytt nummer"})
    assert done.status_code == 200 and "Kontaktuppgifterna är ändrade" in done.text
    assert "Kontaktuppgifter ändrade: mobilnummer, språk" in done.text
    row = await db_session.scalar(sa.select(Client).execution_options(populate_existing=True))
    assert row.phone_index != world.phone_index and str(row.language) == "ar"
    event = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "contact.change"))
    assert event is not None and event.reason == "Personen ringde och gav nytt nummer"


async def test_search_by_reference_prefix_with_the_right_empty_state(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, user)
    empty = await client.get("/caseworker/closures/")
    assert "Inga avslut registrerade ännu." in empty.text
    assert "matchar din sökning" not in empty.text
    for ref in ("K-100", "k-101", "K-200"):
        await form_post(client, "/caseworker/closures/ny", _form(unit, client_ref=ref, phone=""))
    found = await client.get("/caseworker/closures/", params={"ref": "k-1"})
    assert found.status_code == 200
    assert "K-100" in found.text and "k-101" in found.text and "K-200" not in found.text
    assert 'value="k-1"' in found.text
    nothing = await client.get("/caseworker/closures/", params={"ref": "K-9"})
    assert nothing.status_code == 200
    assert "Inga avslut matchar din sökning." in nothing.text
    assert "Inga avslut registrerade ännu." not in nothing.text


async def test_a_personnummer_in_the_search_is_refused_and_not_echoed(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    world = await make_world(db_session, settings, ref="K-100")
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    response = await client.get("/caseworker/closures/", params={"ref": "19811228-9874"})
    assert response.status_code == 400
    assert "inte på personnummer" in response.text
    assert "19811228-9874" not in response.text and "K-100" not in response.text
    assert 'aria-invalid="true"' in response.text
