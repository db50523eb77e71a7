"""Registerutdrag: one client's data as a page, a PDF and JSON, audited, in Swedish.

SQLite and PostgreSQL (the ``settings`` fixture); the client is the demo-like year of
``tests/surveys/client_story.py`` (an undelivered SMS, a 90-day SMS survey answered with a free
text and STOPP, a logged call with a personnummer in the note, a case).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pypdfium2
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
from tests.helpers import form_post, login, make_unit, make_user
from tests.surveys.client_story import STORY_PHONE, build_client_story
from tests.surveys.world import NOW


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(data)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


async def test_extract_as_page_pdf_and_json_contains_messages_and_answers(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    unit = await make_unit(db_session, name="Försörjningsstöd Norra")
    caseworker = await make_user(db_session, Role.CASEWORKER, [unit])
    story = await build_client_story(
        db_session, settings, unit_id=unit.id, caseworker_id=caseworker.id, ref="K-UTDRAG", now=NOW
    )
    await db_session.commit()
    admin = await make_user(db_session, Role.ADMIN, [])
    await login(client, admin)
    form = {"unit": str(unit.id), "client_ref": "K-UTDRAG"}

    page = await client.post("/admin/registerutdrag/", data={**form, "format": "visa",
                             "_csrf_token": client.cookies["uppf_csrf"]})  # fmt: skip
    assert page.status_code == 200 and page.headers["cache-control"].startswith("no-store")
    assert STORY_PHONE in page.text  # decrypted, shown once
    assert "Sms till personen" in page.text and "Svar (sms, 90 dagar)" in page.text
    assert "Tackade nej till sms (STOPP)" in page.text and "Ärende" in page.text
    assert "19850412" not in page.text

    pdf = await form_post(client, "/admin/registerutdrag/", {**form, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = " ".join(pdf_text(pdf.content).split())
    assert "Registerutdrag" in text and "K-UTDRAG" in text and STORY_PHONE in text
    assert "Min handläggare lyssnade" in text  # the free-text answer (redacted)
    assert "Svar (sms, 90 dagar)" in text and "Sms till personen" in text  # answers and messages
    assert "19850412" not in text

    as_json = await form_post(client, "/admin/registerutdrag/", {**form, "format": "json"})
    assert as_json.status_code == 200
    body = json.loads(as_json.content)["registerutdrag"]
    assert body["klientreferens"] == "K-UTDRAG" and body["mobilnummer"] == STORY_PHONE
    events = body["avslut"][0]["händelser"]
    kinds = {e["typ"] for e in events}
    assert {"Sms till personen", "Svar", "Samtal", "Ärende", "Sms av/på"} <= kinds
    assert "sms_out" not in as_json.text and "19850412" not in as_json.text

    reads = list(await db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "client.extract")))
    assert [r.detail["format"] for r in sorted(reads, key=lambda r: r.id)] == ["visa", "pdf", "json"]
    assert all(r.actor_id == admin.id and r.subject_id == str(story.client_id) for r in reads)


async def test_unknown_client_is_a_swedish_404_on_the_form_and_only_admins_may(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    admin = await make_user(db_session, Role.ADMIN, [])
    await login(client, admin)
    missing = await form_post(
        client, "/admin/registerutdrag/", {"unit": str(unit.id), "client_ref": "FINNS-INTE"}
    )
    assert missing.status_code == 404 and "Ingen klient med den referensen" in missing.text
    bad_unit = await form_post(client, "/admin/registerutdrag/", {"unit": "nej", "client_ref": "X"})
    assert bad_unit.status_code == 400 and "Välj enhet." in bad_unit.text
    client.cookies.clear()
    manager = await make_user(db_session, Role.MANAGER, [unit])
    await login(client, manager)
    assert (await client.get("/admin/registerutdrag/")).status_code == 403
