"""The integration API: bearer API keys on /api/..., without a session or CSRF.

Runs on SQLite and PostgreSQL (the ``settings`` fixture). Keys are made the two ways an operator
makes them: the CLI (``feedback tokens create``) and the service the admin page calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import api_tokens
from feedback.auth.models import ApiToken, Role, TokenScope, Unit
from feedback.cli.tokens import tokens
from feedback.core.clock import FrozenClock
from feedback.core.models import AuditEvent
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from surveys.closures.models import Closure
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


def _body(unit_code: str, ref: str = "API-1", **overrides: Any) -> dict[str, Any]:
    return {
        "unit": unit_code,
        "client_ref": ref,
        "closed_on": (TODAY - timedelta(days=1)).isoformat(),
        "reason": "work",
        "phone": "+46701234567",
        "consent_on": (TODAY - timedelta(days=1)).isoformat(),
        "consent_channel": "phone",
        "consent_given_by": "client",
        **overrides,
    }


async def _key(session: AsyncSession, units: list[Unit], scope: str, name: str = "procapita") -> str:
    issued = await api_tokens.create_token(
        session, name=name, unit_ids=[u.id for u in units], scope=scope, created_by=None, now=NOW
    )
    await session.commit()
    return issued.key


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_read_key_lists_its_units_closures_without_session_or_csrf(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit, other = await make_unit(db_session), await make_unit(db_session)
    caseworker = await make_user(db_session, Role.CASEWORKER, [unit, other])
    await login(client, caseworker)
    csrf = await csrf_token(client)
    for u, ref in ((unit, "MINE-1"), (other, "OTHER-1")):
        made = await client.post("/api/closures", json=_body(u.code, ref), headers={"x-csrftoken": csrf})
        assert made.status_code == 201, made.text
    client.cookies.clear()  # from here on: no session, no CSRF cookie

    key = await _key(db_session, [unit], "read")
    listing = await client.get("/api/closures", headers=_bearer(key))
    assert listing.status_code == 200, listing.text
    assert [i["client_ref"] for i in listing.json()["items"]] == ["MINE-1"]
    # a key call opens no session (the session middleware at most clears an absent cookie)
    assert listing.headers.get("set-cookie", "uppf_session=null").startswith("uppf_session=null")

    wrong_unit = await client.get("/api/closures", params={"unit": other.code}, headers=_bearer(key))
    assert wrong_unit.status_code == 403
    assert wrong_unit.json()["detail"] == "Du har inte behörighet till det här."

    writing = await client.post("/api/closures", json=_body(unit.code, "NEW-1"), headers=_bearer(key))
    assert writing.status_code == 403 and writing.json()["detail"] == "API-nyckeln får bara läsa."

    token = await db_session.scalar(sa.select(ApiToken).where(ApiToken.name == "procapita"))
    assert token is not None and token.last_used_at == NOW and token.token_hash != key
    assert key not in str(token.prefix) or len(token.prefix) < len(key)


async def test_a_write_key_registers_closures_and_a_batch_idempotently(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit, other = await make_unit(db_session), await make_unit(db_session)
    key = await _key(db_session, [unit], "write")
    one = await client.post("/api/closures", json=_body(unit.code, "ONE-1"), headers=_bearer(key))
    assert one.status_code == 201, one.text

    batch = {
        "closures": [
            _body(unit.code, "B-1"),
            _body(unit.code, "B-2", reason="studies"),
            _body(unit.code, "811228-9874"),  # a personnummer: refused, never echoed
            _body(other.code, "B-3"),  # not the key's unit
            _body(unit.code, "B-4", phone="08-123"),
        ]
    }
    first = await client.post("/api/closures/batch", json=batch, headers=_bearer(key))
    assert first.status_code == 200, first.text
    result = first.json()
    assert (result["rows"], result["created"], result["unchanged"]) == (5, 2, 0)
    assert [r["row"] for r in result["rejected"]] == [3, 4, 5]
    assert "9874" not in first.text and all(r["message"] for r in result["rejected"])

    again = await client.post("/api/closures/batch", json=batch, headers=_bearer(key))
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 2)
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Closure)) == 3

    actors = set(await db_session.scalars(sa.select(Closure.registered_by_id)))
    token = await db_session.scalar(sa.select(ApiToken))
    assert token is not None and actors == {token.user_id}  # the service account is the actor

    empty = await client.post("/api/closures/batch", json={"closures": []}, headers=_bearer(key))
    assert empty.status_code == 400


async def test_revoked_unknown_and_malformed_keys_are_401_in_swedish(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    key = await _key(db_session, [unit], "write")
    assert (await client.get("/api/closures", headers=_bearer(key))).status_code == 200
    await api_tokens.revoke_token(db_session, name="procapita", revoked_by=None, now=NOW)
    await db_session.commit()
    for headers in (_bearer(key), _bearer("uppf_" + "x" * 43), _bearer(""), {"Authorization": "Basic eDp5"}):
        refused = await client.get("/api/closures", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json()["detail"] == "API-nyckeln är ogiltig eller återkallad."
    posted = await client.post("/api/closures", json=_body(unit.code), headers=_bearer(key))
    assert posted.status_code == 401
    actions = set(await db_session.scalars(sa.select(AuditEvent.action)))
    assert {"api_token.create", "api_token.revoke"} <= actions


async def test_a_key_opens_no_page_and_a_session_write_still_needs_csrf(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    key = await _key(db_session, [unit], "write")
    page = await client.get("/caseworker/closures/", headers=_bearer(key), follow_redirects=False)
    assert page.status_code in (302, 303) and "/login" in page.headers["location"]

    caseworker = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, caseworker)
    forged = await client.post("/api/closures", json=_body(unit.code))
    assert forged.status_code == 403 and "CSRF" not in forged.text
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Closure)) == 0


async def test_calls_per_key_are_rate_limited(settings: Settings, db_session: AsyncSession) -> None:
    app = create_app(settings.with_overrides(api_rate_limit=2, api_rate_window="hour"),
                     Collaborators(clock=FrozenClock(NOW)))  # fmt: skip
    unit = await make_unit(db_session)
    key = await _key(db_session, [unit], "read")
    other_key = await _key(db_session, [unit], "read", name="annat-system")
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        answers = [(await client.get("/api/closures", headers=_bearer(key))).status_code for _ in range(3)]
        assert answers == [200, 200, 429]
        limited = await client.get("/api/closures", headers=_bearer(key))
        assert limited.json()["detail"].startswith("För många")
        assert (await client.get("/api/closures", headers=_bearer(other_key))).status_code == 200


def test_cli_creates_a_key_once_and_revokes_it(settings: Settings) -> None:
    from feedback.core.db import create_engine, session_factory

    async def unit_code() -> str:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                return (await make_unit(session)).code
        finally:
            await engine.dispose()

    code = asyncio.run(unit_code())
    runner = CliRunner()
    made = runner.invoke(
        tokens, ["create", "--name", "Procapita", "--unit", code, "--scope", "write"], obj=settings
    )
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("uppf_") and len(key) > 40
    listed = runner.invoke(tokens, ["list"], obj=settings)
    assert "procapita\twrite\t" + code in listed.output and key not in listed.output
    again = runner.invoke(
        tokens, ["create", "--name", "procapita", "--unit", code, "--scope", "read"], obj=settings
    )
    assert again.exit_code != 0 and "finns redan" in again.output
    assert runner.invoke(tokens, ["revoke", "procapita"], obj=settings).exit_code == 0

    async def state() -> tuple[TokenScope, bool]:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                token = await session.scalar(sa.select(ApiToken))
                assert token is not None
                return token.scope, token.revoked_at is not None
        finally:
            await engine.dispose()

    assert asyncio.run(state()) == (TokenScope.WRITE, True)


async def test_the_admin_page_makes_a_key_shown_once_and_revokes_it(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    from tests.helpers import form_post

    unit = await make_unit(db_session)
    admin = await make_user(db_session, Role.ADMIN, [])
    await login(client, admin)
    refused = await form_post(
        client, "/admin/api-nycklar/", {"name": "Fel namn!", "scope": "read", "units": str(unit.id)}
    )
    assert refused.status_code == 400 and "Namnet ska vara" in refused.text
    no_unit = await form_post(client, "/admin/api-nycklar/", {"name": "procapita", "scope": "read"})
    assert no_unit.status_code == 400 and "minst en enhet" in no_unit.text

    made = await form_post(
        client, "/admin/api-nycklar/", {"name": "procapita", "scope": "write", "units": str(unit.id)}
    )
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    key = made.text.split('id="issued-key" type="text" readonly value="')[1].split('"')[0]
    assert key.startswith("uppf_")
    listing = await client.get("/admin/api-nycklar/")
    assert key not in listing.text and "procapita" in listing.text and "Aldrig" in listing.text

    client_with_key = await client.get("/api/closures", headers=_bearer(key))
    assert client_with_key.status_code == 200
    token = await db_session.scalar(sa.select(ApiToken))
    assert token is not None
    revoked = await form_post(client, f"/admin/api-nycklar/{token.id}/aterkalla", {}, follow_redirects=False)
    assert revoked.status_code == 303, revoked.text
    await db_session.refresh(token)
    assert token.revoked_at is not None, revoked.headers
    client.cookies.clear()
    assert (await client.get("/api/closures", headers=_bearer(key))).status_code == 401
    audited = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "api_token.revoke"))
    assert audited is not None and audited.actor_id == admin.id and key not in str(audited.detail)


async def test_the_schema_documents_the_bearer_scheme_and_the_batch_endpoint(
    client: AsyncTestClient[Litestar],
) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    scheme = schema["components"]["securitySchemes"]["BearerToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    batch = schema["paths"]["/api/closures/batch"]["post"]
    assert {"BearerToken": []} in batch["security"] and "idempotent" in batch["summary"]
