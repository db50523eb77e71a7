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
