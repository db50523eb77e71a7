"""/api/closures: JSON in and out, ProblemDetails on errors, 401/403, unit scope, idempotency."""

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
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from surveys.closures.models import Client, Closure
from tests.helpers import csrf_token, login, make_unit, make_user
from tests.surveys.world import NOW

TODAY = date(2026, 3, 2)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


def _body(unit_code: str, **overrides):
    return {
        "unit": unit_code,
        "client_ref": "API-1",
        "closed_on": (TODAY - timedelta(days=1)).isoformat(),
        "reason": "work",
        "phone": "+46701234567",
        "consent_on": (TODAY - timedelta(days=1)).isoformat(),
        "consent_channel": "phone",
        "consent_given_by": "client",
        **overrides,
    }


async def _post(client, body):
    token = await csrf_token(client)
    return await client.post("/api/closures", json=body, headers={"x-csrftoken": token})


async def test_post_creates_then_is_idempotent_and_get_returns_follow_ups(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, user)
    created = await _post(client, _body(unit.code))
    assert created.status_code == 201, created.text
    payload = created.json()
    assert payload["created"] is True
    closure = payload["closure"]
    assert closure["phone_masked"] == "+4670*****67" and "+46701234567" not in created.text
    assert [f["wave_days"] for f in closure["follow_ups"]] == [30, 90, 180, 365]
    assert closure["next_follow_up"]["due_on"] == (TODAY + timedelta(days=29)).isoformat()
    again = await _post(client, _body(unit.code))
    assert again.status_code == 200 and again.json()["changed"] is False
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Closure)) == 1

    listing = await client.get("/api/closures", params={"unit": unit.code})
    assert listing.status_code == 200
    assert listing.json()["total"] == 1 and listing.json()["items"][0]["client_ref"] == "API-1"
    one = await client.get(f"/api/closures/{closure['id']}")
    assert one.status_code == 200 and len(one.json()["follow_ups"]) == 4


async def test_personnummer_is_refused_as_problem_details_and_not_stored(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, user)
    response = await _post(client, _body(unit.code, client_ref="811228-9874"))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == "client_ref" and "personnummer" in problem["detail"]
    assert "9874" not in response.text
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"reason": "semester"}, "reason"),
        ({"phone": "08-123 456 78"}, "phone"),
        ({"closed_on": "2031-01-01"}, "closed_on"),
        ({"language": "klingon"}, "language"),
    ],
)
async def test_bad_values_are_400_with_the_field(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, override, field
) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, user)
    response = await _post(client, _body(unit.code, **override))
    assert response.status_code == 400 and response.json()["field"] == field


async def test_malformed_bodies_are_400_not_500(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, user)
    token = await csrf_token(client)
    for content in (
        b"{",
        b"[]",
        b'{"unit": 1}',
        b'{"unit":"x","client_ref":"a","closed_on":"nej","reason":"work"}',
    ):
        response = await client.post(
            "/api/closures",
            content=content,
            headers={"x-csrftoken": token, "content-type": "application/json"},
        )
        assert response.status_code == 400, (content, response.text)
    unknown = await _post(client, {**_body(unit.code), "personnummer": "x"})
    assert unknown.status_code == 400


async def test_anonymous_is_401_and_wrong_role_or_unit_is_403(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    mine, other = await make_unit(db_session), await make_unit(db_session)
    assert (await client.get("/api/closures")).status_code == 401
    manager = await make_user(db_session, Role.MANAGER, [mine])
    await login(client, manager)
    assert (await client.get("/api/closures")).status_code == 200
    assert (await _post(client, _body(mine.code))).status_code == 403
    client.cookies.clear()
    caseworker = await make_user(db_session, Role.CASEWORKER, [mine])
    await login(client, caseworker)
    assert (await _post(client, _body(other.code))).status_code == 403
    assert (await _post(client, _body("finns-inte"))).status_code == 403
    assert (await client.get("/api/closures", params={"unit": other.code})).status_code == 403
    client.cookies.clear()
    other_worker = await make_user(db_session, Role.CASEWORKER, [other])
    await login(client, other_worker)
    created = await _post(client, _body(other.code))
    client.cookies.clear()
    await login(client, caseworker)
    foreign = await client.get(f"/api/closures/{created.json()['closure']['id']}")
    assert foreign.status_code == 403
    assert (await client.get(f"/api/closures/{'0' * 8}-0000-0000-0000-{'0' * 12}")).status_code == 404
    panel = await make_user(db_session, Role.PANEL_MEMBER, [mine])
    client.cookies.clear()
    await login(client, panel)
    assert (await client.get("/api/closures")).status_code == 403
