"""Helpers shared by tests: users, login through the real form, CSRF tokens."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import services
from feedback.auth.models import Role, Unit, User

PASSWORD = "korrekt-hast-batteri-42"
CSRF_COOKIE = "uppf_csrf"


async def make_unit(session: AsyncSession, code: str | None = None, name: str = "Testenheten") -> Unit:
    unit = await services.create_unit(session, code=code or f"u{uuid.uuid4().hex[:8]}", name=name)
    await session.commit()
    return unit


async def make_user(
    session: AsyncSession,
    role: Role | str,
    units: list[Unit] | None = None,
    email: str | None = None,
    password: str = PASSWORD,
) -> User:
    user = await services.create_user(
        session,
        email=email or f"{uuid.uuid4().hex[:8]}@test.example",
        display_name=f"Test {role}",
        role=role,
        unit_ids=[u.id for u in units or []],
        password=password,
    )
    await session.commit()
    return user


async def csrf_token(client: AsyncTestClient[Any]) -> str:
    """Fetch a page so the CSRF cookie is set, and return the token to post back."""
    if CSRF_COOKIE not in client.cookies:
        await client.get("/login")
    return client.cookies[CSRF_COOKIE]


async def form_post(client: AsyncTestClient[Any], url: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """POST a form like a browser does, CSRF token included."""
    token = await csrf_token(client)
    return await client.post(url, data={**data, "_csrf_token": token}, **kwargs)


async def login(client: AsyncTestClient[Any], user: User, password: str = PASSWORD) -> None:
    response = await form_post(client, "/login", {"email": user.email, "password": password, "next": "/"})
    assert response.status_code in (200, 303), response.text
    assert response.status_code == 303 or "Logga ut" in response.text
