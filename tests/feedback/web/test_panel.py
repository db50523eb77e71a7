"""Panel pages through the real app: member writes and edits; manager never sees a name; scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.settings import Settings
from feedback.panel.models import PanelRound, Reflection
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from tests.helpers import form_post, login, make_unit, make_user


def fake_redact(text: str) -> str:
    return text.replace("Anna Berg", "[NAMN]")


@pytest.fixture
def app(settings: Settings) -> Litestar:
    clock = FrozenClock(datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    return create_app(settings, Collaborators(redact=fake_redact, clock=clock))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


async def test_round_reflection_and_manager_view(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session, name="Norra")
    other_unit = await make_unit(db_session, name="Södra")
    manager = await make_user(db_session, Role.MANAGER, [unit])
    other_manager = await make_user(db_session, Role.MANAGER, [other_unit])
    member = await make_user(db_session, Role.PANEL_MEMBER, [unit])
    caseworker = await make_user(db_session, Role.CASEWORKER, [unit])

    await login(client, manager)
    response = await form_post(
        client,
        "/panel/manage/rounds",
        {
            "unit_id": str(unit.id),
            "title": "Vinterns panel",
            "prompts": "Vad hjälpte dig?\nVad kan bli bättre?",
            "opens_on": "2026-11-01",
            "closes_on": "2026-12-15",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    round_id = await db_session.scalar(sa.select(PanelRound.id))
    bad = await form_post(
        client,
        "/panel/manage/rounds",
        {"unit_id": str(unit.id), "title": "", "prompts": "x", "opens_on": "2026-11-01", "closes_on": "nej"},
    )
    assert bad.status_code == 400 and "ÅÅÅÅ-MM-DD" in bad.text
    await client.post("/logout", headers={"x-csrftoken": client.cookies["uppf_csrf"]})

    client.cookies.clear()
    await login(client, member)
    home = await client.get("/panel/")
    assert home.status_code == 200 and "Vinterns panel" in home.text
    saved = await form_post(
        client,
        f"/panel/rounds/{round_id}",
        {
            "prompt_index": "0",
            "text": "Anna Berg lyssnade verkligen.",
            "importance": "5",
            "quote_consent": "ja",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    edited = await form_post(
        client,
        f"/panel/rounds/{round_id}",
        {"prompt_index": "0", "text": "Anna Berg lyssnade, och jag fick en plan.", "importance": ""},
    )
    assert edited.status_code == 200 and "Din reflektion är sparad" in edited.text
    assert "jag fick en plan" in edited.text  # the owner sees their own words
    empty = await form_post(client, f"/panel/rounds/{round_id}", {"prompt_index": "1", "text": "  "})
    assert empty.status_code == 400 and "Skriv din reflektion" in empty.text
    reflections = list(await db_session.scalars(sa.select(Reflection)))
    assert (
        len(reflections) == 1 and reflections[0].quote_consent is False and reflections[0].importance is None
    )
    assert (await client.get("/panel/manage/")).status_code == 403
    assert (await client.get("/reports/")).status_code in (403, 404)

    client.cookies.clear()
    await login(client, manager)
    page = await client.get(f"/panel/manage/rounds/{round_id}")
    assert page.status_code == 200
    assert member.display_name not in page.text and member.email not in page.text
    assert "Anna Berg" not in page.text
    assert "färre än 5" in page.text  # one person wrote: no texts, suppressed count
    assert (await client.get("/panel/")).status_code == 403

    client.cookies.clear()
    await login(client, other_manager)
    assert (await client.get(f"/panel/manage/rounds/{round_id}")).status_code == 404
    assert "Vinterns panel" not in (await client.get("/panel/manage/")).text

    client.cookies.clear()
    await login(client, caseworker)
    assert (await client.get("/panel/manage/")).status_code == 403
    assert (await client.get("/panel/")).status_code == 403


async def test_manager_invites_a_member_to_own_unit_only(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    other_unit = await make_unit(db_session)
    manager = await make_user(db_session, Role.MANAGER, [unit])
    await login(client, manager)
    ok = await form_post(client, "/panel/manage/invite", {"unit_id": str(unit.id), "email": "ny@exempel.se"})
    assert ok.status_code == 200 and "/invitation/" in ok.text
    refused = await form_post(
        client, "/panel/manage/invite", {"unit_id": str(other_unit.id), "email": "x@exempel.se"}
    )
    assert refused.status_code == 400 and "/invitation/" not in refused.text
    assert date(2026, 11, 22)  # frozen clock date used by the page
