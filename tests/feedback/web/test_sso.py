"""Single sign-on through the real app against a local OpenID provider (no browser, both databases).

The provider (``tests/fakes/oidc_provider.py``) runs ``oidc-provider-mock`` on 127.0.0.1; the app
fetches its discovery document, keys and tokens over real sockets. The browser's part (following
redirects, submitting the provider's form) is played by httpx; the Chromium version of the same
story is ``tests/e2e/test_sso.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role, User
from feedback.auth.sso import mapping
from feedback.auth.sso.models import ExternalIdentity
from feedback.core.models import AuditEvent
from feedback.core.settings import Settings
from feedback.web.app import create_app
from tests.conftest import make_settings
from tests.fakes.oidc_provider import OidcProvider
from tests.helpers import form_post, make_unit, make_user

CLIENT_ID = "uppfoljning"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider.start() as running:
        yield running


@pytest.fixture
def settings(db_url: str, tmp_path: Path, provider: OidcProvider) -> Settings:
    return make_settings(
        db_url,
        tmp_path,
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret="client-secret-for-tests",
        local_passwords=False,
    )


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


async def _to_provider(client: AsyncTestClient, next_: str = "/") -> str:
    start = await client.get("/login/sso", params={"next": next_}, follow_redirects=False)
    assert start.status_code == 303, start.text
    return start.headers["location"]


async def _authorize(url: str, sub: str) -> str:
    """Play the person at the provider: submit the subject; returns the app's callback path."""
    async with httpx.AsyncClient() as browser:
        answer = await browser.post(url, data={"sub": sub})
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back.netloc == "testserver.local"
    return f"{back.path}?{back.query}"


async def sso_login(client: AsyncTestClient, sub: str, next_: str = "/") -> httpx.Response:
    callback = await _authorize(await _to_provider(client, next_), sub)
    return await client.get(callback, follow_redirects=False)


async def _map(db_session: AsyncSession, value: str, role: Role, units: list[uuid.UUID]) -> None:
    await mapping.add_mapping(db_session, claim="groups", value=value, role=role, unit_ids=units, by=None)
    await db_session.commit()


def _user(email: str) -> sa.Select[tuple[User]]:
    return sa.select(User).where(User.email == email).execution_options(populate_existing=True)


async def test_first_login_creates_a_caseworker_with_the_mapped_unit(
    client: AsyncTestClient, db_session: AsyncSession, provider: OidcProvider
) -> None:
    unit = await make_unit(db_session, name="Försörjningsstöd Norr")
    await _map(db_session, "fs-handlaggare", Role.CASEWORKER, [unit.id])
    sub = f"anna-{uuid.uuid4().hex[:6]}"
    provider.set_user(
        sub, {"email": f"{sub}@kommun.se", "name": "Anna Handläggare", "groups": ["fs-handlaggare", "alla"]}
    )

    landed = await sso_login(client, sub, next_="/caseworker/closures/ny")
    assert landed.status_code == 303 and landed.headers["location"] == "/caseworker/closures/ny"
    page = await client.get("/caseworker/closures/ny")
    assert page.status_code == 200 and "Försörjningsstöd Norr" in page.text

    user = await db_session.scalar(_user(f"{sub}@kommun.se"))
    assert user is not None and user.role == Role.CASEWORKER and user.unit_ids == {unit.id}
    assert (
        user.password_hash is None
        and user.last_login_at is not None
        and user.display_name == "Anna Handläggare"
    )
    identity = await db_session.scalar(sa.select(ExternalIdentity).where(ExternalIdentity.user_id == user.id))
    assert identity is not None and identity.issuer == provider.issuer and identity.subject == sub
    actions = set(await db_session.scalars(sa.select(AuditEvent.action)))
    assert {"sso.user.create", "login.sso"} <= actions


async def test_a_group_removed_at_the_provider_removes_access_at_the_next_login(
    client: AsyncTestClient, db_session: AsyncSession, provider: OidcProvider
) -> None:
    unit = await make_unit(db_session)
    await _map(db_session, "fs-handlaggare", Role.CASEWORKER, [unit.id])
    sub = f"bo-{uuid.uuid4().hex[:6]}"
    provider.set_user(sub, {"email": f"{sub}@kommun.se", "groups": ["fs-handlaggare"]})
    assert (await sso_login(client, sub)).status_code == 303

    client.cookies.clear()
    provider.set_user(sub, {"email": f"{sub}@kommun.se", "groups": ["skola"]})
    refused = await sso_login(client, sub)
    assert refused.status_code == 403 and "ingen behörighet" in refused.text
    assert (await client.get("/", follow_redirects=False)).status_code == 303  # not signed in
    user = await db_session.scalar(_user(f"{sub}@kommun.se"))
    assert user is not None and not user.is_active and user.unit_ids == frozenset()
    removed = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sso.access.remove"))
    assert removed is not None and removed.subject_id == str(user.id)

    provider.set_user(sub, {"email": f"{sub}@kommun.se", "groups": ["fs-handlaggare"]})
    assert (await sso_login(client, sub)).status_code == 303  # back in the group: back in


async def test_the_highest_mapped_role_wins_with_its_own_units_and_changes_follow_the_groups(
    client: AsyncTestClient, db_session: AsyncSession, provider: OidcProvider
) -> None:
    north, south = await make_unit(db_session), await make_unit(db_session)
    await _map(db_session, "chefer-norr", Role.MANAGER, [north.id])
    await _map(db_session, "handl-syd", Role.CASEWORKER, [south.id])
    sub = f"cia-{uuid.uuid4().hex[:6]}"
    provider.set_user(sub, {"email": f"{sub}@kommun.se", "groups": ["chefer-norr", "handl-syd"]})
    assert (await sso_login(client, sub)).status_code == 303
    user = await db_session.scalar(_user(f"{sub}@kommun.se"))
    assert user is not None and user.role == Role.MANAGER and user.unit_ids == {north.id}

    client.cookies.clear()
    provider.set_user(sub, {"email": f"{sub}@kommun.se", "groups": ["handl-syd"]})
    assert (await sso_login(client, sub)).status_code == 303
    user = await db_session.scalar(_user(f"{sub}@kommun.se"))
    assert user is not None and user.role == Role.CASEWORKER and user.unit_ids == {south.id}
    assert await db_session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "sso.access.update"))


async def test_a_forged_id_token_is_refused_in_swedish(
    client: AsyncTestClient, db_session: AsyncSession, provider: OidcProvider
) -> None:
    unit = await make_unit(db_session)
    await _map(db_session, "fs-handlaggare", Role.CASEWORKER, [unit.id])
    sub = f"eve-{uuid.uuid4().hex[:6]}"
    provider.set_user(sub, {"email": f"{sub}@kommun.se", "groups": ["fs-handlaggare"]})
    provider.forge_next_token()
    refused = await sso_login(client, sub)
    assert refused.status_code == 400 and "inte äkta" in refused.text
    assert (await client.get("/", follow_redirects=False)).status_code == 303
    assert await db_session.scalar(_user(f"{sub}@kommun.se")) is None
    event = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "login.sso.refused"))
    assert event is not None and event.detail == {"reason": "signature"}


async def test_a_wrong_nonce_is_refused_in_swedish(
    client: AsyncTestClient, db_session: AsyncSession, provider: OidcProvider
) -> None:
    unit = await make_unit(db_session)
    await _map(db_session, "fs-handlaggare", Role.CASEWORKER, [unit.id])
    sub = f"mallory-{uuid.uuid4().hex[:6]}"
    provider.set_user(sub, {"email": f"{sub}@kommun.se", "groups": ["fs-handlaggare"]})
    url = urlsplit(await _to_provider(client))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    query["nonce"] = "a-nonce-from-another-login"  # a token made for someone else's login
    callback = await _authorize(urlunsplit(url._replace(query=urlencode(query))), sub)
    refused = await client.get(callback, follow_redirects=False)
    assert refused.status_code == 400 and "hörde inte till den här inloggningen" in refused.text
    assert await db_session.scalar(_user(f"{sub}@kommun.se")) is None


async def test_a_replayed_or_unknown_callback_is_refused(
    client: AsyncTestClient, db_session: AsyncSession, provider: OidcProvider
) -> None:
    unit = await make_unit(db_session)
    await _map(db_session, "fs-handlaggare", Role.CASEWORKER, [unit.id])
    sub = f"dan-{uuid.uuid4().hex[:6]}"
    provider.set_user(sub, {"email": f"{sub}@kommun.se", "groups": ["fs-handlaggare"]})
    callback = await _authorize(await _to_provider(client), sub)
    assert (await client.get(callback, follow_redirects=False)).status_code == 303
    client.cookies.clear()
    replay = await client.get(callback, follow_redirects=False)
    assert replay.status_code == 400 and "gått ut" in replay.text
    cancelled = await client.get("/login/sso/callback?error=access_denied&state=x")
    assert cancelled.status_code == 400 and "avbröts" in cancelled.text


async def test_admin_deactivation_wins_over_the_groups(
    client: AsyncTestClient, db_session: AsyncSession, provider: OidcProvider
) -> None:
    unit = await make_unit(db_session)
    await _map(db_session, "fs-handlaggare", Role.CASEWORKER, [unit.id])
    sub = f"gun-{uuid.uuid4().hex[:6]}"
    provider.set_user(sub, {"email": f"{sub}@kommun.se", "groups": ["fs-handlaggare"]})
    assert (await sso_login(client, sub)).status_code == 303
    user = await db_session.scalar(_user(f"{sub}@kommun.se"))
    assert user is not None
    from feedback.auth import lifecycle
    from feedback.core.db import utcnow

    await lifecycle.deactivate(db_session, user_id=user.id, by=None, now=utcnow())
    await db_session.commit()
    assert (await client.get("/", follow_redirects=False)).status_code == 303  # session ended
    refused = await sso_login(client, sub)
    assert refused.status_code == 403 and "avstängt" in refused.text


async def test_logout_ends_the_session_and_continues_at_the_provider(
    client: AsyncTestClient, db_session: AsyncSession, provider: OidcProvider
) -> None:
    unit = await make_unit(db_session)
    await _map(db_session, "fs-handlaggare", Role.CASEWORKER, [unit.id])
    sub = f"hugo-{uuid.uuid4().hex[:6]}"
    provider.set_user(sub, {"email": f"{sub}@kommun.se", "groups": ["fs-handlaggare"]})
    assert (await sso_login(client, sub)).status_code == 303
    out = await form_post(client, "/logout", {}, follow_redirects=False)
    assert out.status_code == 303
    location = out.headers["location"]
    assert location.startswith(f"{provider.issuer}/oauth2/end_session?")
    params = parse_qs(urlsplit(location).query)
    assert params["post_logout_redirect_uri"] == ["http://testserver.local/login?utloggad=1"]
    assert params["id_token_hint"][0].count(".") == 2
    assert (await client.get("/", follow_redirects=False)).status_code == 303


async def test_login_page_offers_sso_and_staff_passwords_are_refused_when_switched_off(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    page = await client.get("/login")
    assert "Logga in med kommunens konto" in page.text and "Panelmedlem?" in page.text
    worker = await make_user(db_session, Role.CASEWORKER, [unit])
    refused = await form_post(
        client, "/login", {"email": worker.email, "password": "korrekt-hast-batteri-42"}
    )
    assert refused.status_code == 403 and "kommunens konto" in refused.text
    panel = await make_user(db_session, Role.PANEL_MEMBER, [unit])
    allowed = await form_post(client, "/login", {"email": panel.email, "password": "korrekt-hast-batteri-42"})
    assert allowed.status_code == 200 and "Logga ut" in allowed.text


async def test_sso_pages_are_404_when_not_configured(tmp_path: Path, sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url, tmp_path))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as plain:
        assert (await plain.get("/login/sso", follow_redirects=False)).status_code == 404
        assert "kommunens konto" not in (await plain.get("/login")).text
