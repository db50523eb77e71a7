"""Admin pages: units, users and invitations; admins only."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Invitation, Role, Unit, User
from tests.helpers import form_post, login, make_unit, make_user

LINK = re.compile(r'value="(http://[^"]+/invitation/[A-Za-z0-9_\-]+)"')


async def _as_admin(client: AsyncTestClient, db_session: AsyncSession) -> User:
    admin = await make_user(db_session, Role.ADMIN)
    await login(client, admin)
    return admin


async def test_admin_pages_are_for_admins_only(client: AsyncTestClient, db_session: AsyncSession) -> None:
    assert (await client.get("/admin/users", follow_redirects=False)).status_code == 303  # → login
    unit = await make_unit(db_session)
    manager = await make_user(db_session, Role.MANAGER, [unit])
    await login(client, manager)
    for path in ("/admin/units", "/admin/users"):
        response = await client.get(path)
        assert response.status_code == 403 and "behörighet" in response.text
    response = await form_post(client, "/admin/units", {"code": "x", "name": "X"})
    assert response.status_code == 403
    assert await db_session.scalar(sa.select(Unit.id).where(Unit.code == "x")) is None


async def test_create_and_list_units(client: AsyncTestClient, db_session: AsyncSession) -> None:
    await _as_admin(client, db_session)
    response = await form_post(client, "/admin/units", {"code": "ame-syd", "name": "AME Syd"})
    assert response.status_code == 200 and "Enheten ame-syd har skapats" in response.text
    assert "AME Syd" in (await client.get("/admin/units")).text
    duplicate = await form_post(client, "/admin/units", {"code": "ame-syd", "name": "Igen"})
    assert duplicate.status_code == 409 and "finns redan" in duplicate.text
    bad = await form_post(client, "/admin/units", {"code": "å ä", "name": "Fel"})
    assert bad.status_code == 400 and "Enhetskoden" in bad.text and 'value="Fel"' in bad.text


async def test_invite_user_with_two_units_shows_link_once(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    await _as_admin(client, db_session)
    fsd, ame = await make_unit(db_session, name="FSD"), await make_unit(db_session, name="AME")
    response = await form_post(
        client,
        "/admin/users",
        {
            "email": "Chef@Example.se",
            "display_name": "Eva Chef",
            "role": "manager",
            "units": [str(fsd.id), str(ame.id)],
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    url = LINK.search(response.text).group(1)
    user = await db_session.scalar(sa.select(User).where(User.email == "chef@example.se"))
    assert user is not None and user.role == Role.MANAGER and user.unit_ids == {fsd.id, ame.id}
    assert user.password_hash is None
    listing = await client.get("/admin/users")
    assert "Eva Chef" in listing.text and "Inbjuden" in listing.text
    assert url not in listing.text  # shown once, never again
    client.cookies.clear()
    assert (await client.get(url.split("testserver.local")[-1])).status_code == 200


async def test_invite_with_one_unit_and_errors(client: AsyncTestClient, db_session: AsyncSession) -> None:
    await _as_admin(client, db_session)
    unit = await make_unit(db_session)
    ok = await form_post(
        client, "/admin/users", {"email": "p@example.se", "role": "panel_member", "units": str(unit.id)}
    )
    assert ok.status_code == 200 and LINK.search(ok.text)
    no_unit = await form_post(client, "/admin/users", {"email": "h@example.se", "role": "caseworker"})
    assert no_unit.status_code == 400 and "Välj minst en enhet" in no_unit.text
    bad_role = await form_post(
        client, "/admin/users", {"email": "h@example.se", "role": "kung", "units": str(unit.id)}
    )
    assert bad_role.status_code == 400 and "Okänd roll" in bad_role.text
    bad_unit = await form_post(
        client, "/admin/users", {"email": "h@example.se", "role": "caseworker", "units": str(uuid.uuid4())}
    )
    assert bad_unit.status_code == 404 and "Enheten finns inte" in bad_unit.text
    assert await db_session.scalar(sa.select(User.id).where(User.email == "h@example.se")) is None


async def test_reinvite_gives_new_link_and_unknown_user_is_404(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    await _as_admin(client, db_session)
    unit = await make_unit(db_session)
    first = await form_post(
        client, "/admin/users", {"email": "p@example.se", "role": "panel_member", "units": str(unit.id)}
    )
    old_url = LINK.search(first.text).group(1)
    user = await db_session.scalar(sa.select(User).where(User.email == "p@example.se"))
    again = await form_post(client, f"/admin/users/{user.id}/invitation", {})
    new_url = LINK.search(again.text).group(1)
    assert new_url != old_url
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 2
    missing = await form_post(client, f"/admin/users/{uuid.uuid4()}/invitation", {})
    assert missing.status_code == 404 and "Användaren finns inte" in missing.text


async def test_admin_form_without_csrf_is_403(client: AsyncTestClient, db_session: AsyncSession) -> None:
    await _as_admin(client, db_session)
    response = await client.post("/admin/units", data={"code": "abc", "name": "Abc"})
    assert response.status_code == 403
