"""Sessions: anonymous visits store nothing, a session ends at its absolute lifetime, and a
failing session store gives a Swedish 503 instead of a bare "Internal Server Error"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role, WebSession
from feedback.web.app import create_app
from feedback.web.session_store import DatabaseStore
from tests.conftest import make_settings
from tests.helpers import PASSWORD, csrf_token, form_post, login, make_unit, make_user


async def _rows(db_session: AsyncSession) -> int:
    db_session.expire_all()
    return int(await db_session.scalar(sa.select(sa.func.count()).select_from(WebSession)) or 0)


async def test_anonymous_visits_write_no_session_rows(
    client: AsyncTestClient[Any], db_session: AsyncSession
) -> None:
    for path in ("/login", "/", "/reports/", "/api/closures/", "/no-such-page", "/login?next=/admin"):
        response = await client.get(path, follow_redirects=False)
        assert "uppf_session=" not in response.headers.get("set-cookie", ""), path
    await form_post(client, "/login", {"email": "nobody@example.se", "password": "fel-fel-fel-fel"})
    assert await _rows(db_session) == 0
    user = await make_user(db_session, Role.CASEWORKER, [await make_unit(db_session)])
    await login(client, user)
    assert await _rows(db_session) == 1
    assert (await client.get("/")).status_code == 200
    await client.post("/logout", headers={"x-csrftoken": await csrf_token(client)})
    assert await _rows(db_session) == 0


async def test_a_session_ends_at_its_absolute_lifetime(sqlite_url: str, tmp_path: Path) -> None:
    for lifetime, still_signed_in in ((3600, True), (0, False)):
        settings = make_settings(sqlite_url, tmp_path, session_absolute_max_s=lifetime)
        async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as client:
            from feedback.core.db import create_engine, session_factory

            engine = create_engine(settings.database_url)
            async with session_factory(engine)() as db:
                user = await make_user(db, Role.CASEWORKER, [await make_unit(db)])
            await engine.dispose()
            response = await form_post(
                client,
                "/login",
                {"email": user.email, "password": PASSWORD, "next": "/"},
                follow_redirects=False,
            )
            assert response.status_code == 303
            home = await client.get("/", follow_redirects=False)
            assert (home.status_code == 200) is still_signed_in, (lifetime, home.status_code)
            if not still_signed_in:
                assert home.headers["location"].startswith("/login")


@pytest.mark.parametrize("path", ["/login", "/api/closures/"])
async def test_a_failing_session_store_answers_in_swedish(
    client: AsyncTestClient[Any], db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    user = await make_user(db_session, Role.CASEWORKER, [await make_unit(db_session)])
    await login(client, user)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("UPDATE web_session", {}, Exception("disk I/O error"))

    monkeypatch.setattr(DatabaseStore, "set", broken)
    monkeypatch.setattr(DatabaseStore, "delete", broken)
    if path == "/login":  # signing in again stores a new session
        response = await form_post(
            client, "/login", {"email": user.email, "password": PASSWORD, "next": "/"}, follow_redirects=False
        )
        assert response.status_code == 503
        assert "text/html" in response.headers["content-type"]
        assert "Inloggningen kunde inte sparas" in response.text
        assert "Internal Server Error" not in response.text
    else:
        await client.post("/logout", headers={"x-csrftoken": await csrf_token(client)})  # store fails
        response = await client.get(path)
        assert response.status_code in (401, 503)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers.get("x-frame-options") == "DENY"
