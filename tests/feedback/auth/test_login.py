from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from tests.helpers import PASSWORD, form_post, login, make_unit, make_user


async def test_unauthenticated_page_redirects_to_login(client: AsyncTestClient) -> None:
    response = await client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_login_lands_on_role_start_page(client: AsyncTestClient, db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, user)
    response = await client.get("/")
    assert response.status_code == 200
    assert "handläggare" in response.text


async def test_wrong_password_shows_swedish_error(client: AsyncTestClient, db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.MANAGER, [unit])
    response = await form_post(client, "/login", {"email": user.email, "password": PASSWORD + "x"})
    assert response.status_code == 400
    assert "Fel e-postadress eller lösenord" in response.text


async def test_form_post_without_csrf_is_403(client: AsyncTestClient) -> None:
    await client.get("/login")
    response = await client.post("/login", data={"email": "a@b.se", "password": "x"})
    assert response.status_code == 403


async def test_logout_ends_the_session(client: AsyncTestClient, db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, user)
    await form_post(client, "/logout", {})
    response = await client.get("/", follow_redirects=False)
    assert response.status_code == 303


async def test_no_plaintext_password_in_database(client: AsyncTestClient, db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    assert user.password_hash and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_login_gets_a_fresh_session_id(client: AsyncTestClient, db_session: AsyncSession) -> None:
    """No session fixation: a session id planted before login is never the authenticated one."""
    unit = await make_unit(db_session)
    attacker = await make_user(db_session, Role.PANEL_MEMBER, [unit])
    victim = await make_user(db_session, Role.MANAGER, [unit])
    await login(client, attacker)
    planted = client.cookies["uppf_session"]
    await login(client, victim)  # the victim logs in with the planted cookie in their browser
    fresh = client.cookies["uppf_session"]
    assert fresh != planted
    assert "inloggad som enhetschef" in (await client.get("/")).text
    client.cookies.clear()
    client.cookies.set("uppf_session", planted)
    assert (await client.get("/", follow_redirects=False)).status_code == 303  # the old id is dead
