"""Password change: the current password is required; other sessions end."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role, User
from tests.helpers import PASSWORD, form_post, login, make_unit, make_user

NEW = "ett-helt-nytt-losenord-77"


async def _user(db_session: AsyncSession) -> User:
    unit = await make_unit(db_session)
    return await make_user(db_session, Role.CASEWORKER, [unit])


async def test_change_requires_current_password(client: AsyncTestClient, db_session: AsyncSession) -> None:
    user = await _user(db_session)
    await login(client, user)
    page = await client.get("/account/password")
    assert page.status_code == 200 and 'for="current_password"' in page.text
    response = await form_post(
        client,
        "/account/password",
        {"current_password": "gissning-123456", "new_password": NEW, "repeat_password": NEW},
    )
    assert response.status_code == 400
    assert "nuvarande lösenordet stämmer inte" in response.text
    await db_session.refresh(user)
    assert user.password_hash and "argon2id" in user.password_hash


async def test_weak_or_mismatched_new_password_is_refused(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    user = await _user(db_session)
    await login(client, user)
    weak = await form_post(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "kort", "repeat_password": "kort"},
    )
    assert weak.status_code == 400 and "minst 12 tecken" in weak.text
    mismatch = await form_post(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW, "repeat_password": NEW + "x"},
    )
    assert mismatch.status_code == 400 and "inte likadana" in mismatch.text


async def test_change_password_keeps_this_session_and_ends_others(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    user = await _user(db_session)
    await login(client, user)
    other_device = dict(client.cookies)  # a second browser signed in as the same person
    client.cookies.clear()
    await login(client, user)
    this_device = dict(client.cookies)
    assert other_device["uppf_session"] != this_device["uppf_session"]
    response = await form_post(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW, "repeat_password": NEW},
    )
    assert response.status_code == 200
    assert "Ditt lösenord är bytt" in response.text
    assert (await client.get("/")).status_code == 200
    client.cookies.clear()
    client.cookies.update(other_device)
    assert (await client.get("/", follow_redirects=False)).status_code == 303
    await db_session.refresh(user)
    assert NEW not in (user.password_hash or "")
    client.cookies.clear()
    await login(client, user, password=NEW)


async def test_password_change_without_csrf_token_is_403(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    user = await _user(db_session)
    await login(client, user)
    response = await client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW, "repeat_password": NEW},
    )
    assert response.status_code == 403


async def test_logout_without_csrf_token_is_403(client: AsyncTestClient, db_session: AsyncSession) -> None:
    user = await _user(db_session)
    await login(client, user)
    assert (await client.post("/logout")).status_code == 403
    assert (await client.get("/")).status_code == 200
