"""Bad input becomes a 4xx with a message (Swedish page or ProblemDetails), never a 500."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Annotated

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.params import Body, FromPath
from litestar.testing import AsyncTestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.dblock import DatabaseBusyError
from feedback.core.errors import NotFound
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.web.errors import handle_exception
from tests.conftest import make_settings
from tests.helpers import csrf_token, form_post, login, make_user


class Closure(msgspec.Struct):
    client_ref: str
    months: int


@post("/api/echo", status_code=200)
async def echo(data: Annotated[Closure, Body()]) -> dict[str, int]:
    return {"months": data.months}


@get("/api/things/{thing_id:uuid}")
async def thing(thing_id: FromPath[uuid.UUID]) -> dict[str, str]:
    raise NotFound("Uppgiften finns inte.", field="thing_id")


@get("/api/boom")
async def boom() -> None:
    raise RuntimeError("secret detail that must not leak")


def _locked() -> OperationalError:
    return OperationalError("UPDATE …", {}, sqlite3.OperationalError("database is locked"))


@get("/api/locked-read")
async def locked_read() -> None:
    raise _locked()


@post("/api/locked-write")
async def locked_write() -> None:
    raise _locked()


@post("/api/locked-after-commit")
async def locked_after_commit() -> None:
    raise DatabaseBusyError(saved=True)


def _api_app() -> Litestar:
    return Litestar(
        [echo, thing, boom, locked_read, locked_write, locked_after_commit],
        exception_handlers={Exception: handle_exception},
        request_max_body_size=2000,
    )


async def test_malformed_json_is_400_problem_details() -> None:
    async with AsyncTestClient(app=_api_app()) as client:
        response = await client.post(
            "/api/echo",
            content=b'{"client_ref": "a", "months":',
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]


async def test_wrong_types_are_400_with_the_field_named() -> None:
    async with AsyncTestClient(app=_api_app()) as client:
        response = await client.post("/api/echo", json={"client_ref": "a", "months": "sex"})
    body = response.json()
    assert response.status_code == 400 and body["status"] == 400
    assert any(
        "months" in (e.get("key") or "") or "months" in (e.get("message") or "") for e in body["errors"]
    )


async def test_huge_body_is_413_with_a_message() -> None:
    async with AsyncTestClient(app=_api_app()) as client:
        response = await client.post("/api/echo", json={"client_ref": "x" * 10_000, "months": 1})
    assert response.status_code == 413
    assert response.json()["detail"] == "Det du skickade är för stort."


async def test_unknown_id_is_404_and_a_crash_is_a_plain_500_without_details() -> None:
    async with AsyncTestClient(app=_api_app()) as client:
        missing = await client.get(f"/api/things/{uuid.uuid4()}")
        assert missing.status_code == 404 and missing.json()["detail"] == "Uppgiften finns inte."
        assert (await client.get("/api/things/not-a-uuid")).status_code == 404
        crash = await client.get("/api/boom")
    assert crash.status_code == 500 and "secret detail" not in crash.text


async def test_a_locked_database_is_a_503_that_says_whether_anything_was_saved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with AsyncTestClient(app=_api_app()) as client:
        read = await client.get("/api/locked-read")
        write = await client.post("/api/locked-write")
        saved = await client.post("/api/locked-after-commit")
    assert read.status_code == write.status_code == saved.status_code == 503
    assert "ladda om sidan" in read.json()["detail"]
    assert "Ingenting av det du skickade har sparats" in write.json()["detail"]
    assert "har sparats, men" in saved.json()["detail"]
    assert all("database is locked" not in r.text for r in (read, write, saved))
    assert [r for r in caplog.records if r.exc_info] == []  # busy is logged, not a traceback


async def test_huge_form_post_to_a_page_is_413_in_swedish(tmp_path: Path, sqlite_url: str) -> None:
    settings: Settings = make_settings(sqlite_url, tmp_path, max_request_body_bytes=4096)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        token = await csrf_token(client)
        response = await client.post(
            "/login",
            content=f"_csrf_token={token}&email=a%40b.se&password={'x' * 10_000}".encode(),
            headers={"content-type": "application/x-www-form-urlencoded", "accept": "text/html"},
        )
    assert response.status_code == 413
    assert "för stort" in response.text and 'lang="sv"' in response.text


async def test_garbage_form_body_is_a_4xx_page(client: AsyncTestClient, db_session: AsyncSession) -> None:
    admin = await make_user(db_session, Role.ADMIN)
    await login(client, admin)
    token = await csrf_token(client)
    response = await client.post(
        "/admin/units",
        content=b"\xff\xfe\x00garbage=%%%&&&",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-csrftoken": token,
            "accept": "text/html",
        },
    )
    assert 400 <= response.status_code < 500
    json_to_form = await client.post(
        "/admin/units",
        json={"code": ["not", "a", "string"]},
        headers={"x-csrftoken": token, "accept": "text/html"},
    )
    assert 400 <= json_to_form.status_code < 500
    unknown_page = await client.get("/admin/users/not-a-uuid/invitation")
    assert unknown_page.status_code in (404, 405) and 'lang="sv"' in unknown_page.text
    bad_code = await form_post(client, "/admin/units", {"code": "x" * 500, "name": "y"})
    assert bad_code.status_code == 400 and "Enhetskoden" in bad_code.text
