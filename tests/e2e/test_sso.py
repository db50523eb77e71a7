"""Single sign-on in real Chromium against a local OpenID provider on 127.0.0.1 (no internet).

The live server runs ``feedback serve`` with FEEDBACK_OIDC_* pointing at the provider from
``tests/fakes/oidc_provider.py``; every request the browser makes to anything but 127.0.0.1 is
aborted and counted, and the test fails if there was one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.people_seed import prepare_people_database
from tests.e2e.support import LiveServer, assert_no_axe_violations, login, start_live_server
from tests.fakes.oidc_provider import OidcProvider

pytestmark = pytest.mark.e2e

ADMIN = "admin@demo.uppfoljning.se"
GROUP = f"ame-handlaggare-{uuid.uuid4().hex[:4]}"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider.start() as running:
        yield running


@pytest.fixture(scope="module")
def sso_server(provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``feedback serve`` with SSO on, over the demo units and people (no demo year needed)."""
    template = prepare_people_database(tmp_path_factory.mktemp("sso-people") / "people.db")
    server = start_live_server(
        tmp_path_factory.mktemp("sso-live"),
        template,
        FEEDBACK_OIDC_ISSUER=provider.issuer,
        FEEDBACK_OIDC_CLIENT_ID="uppfoljning-e2e",
        FEEDBACK_OIDC_CLIENT_SECRET="e2e-client-secret-0123456789",
    )
    yield server
    server.stop()


@pytest.fixture
def live_server(sso_server: LiveServer) -> LiveServer:
    return sso_server


@pytest.fixture
def offline(page: Any) -> Iterator[list[str]]:
    """Abort (and list) every request that would leave 127.0.0.1."""
    outside: list[str] = []

    def guard(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", guard)
    yield outside
    assert outside == [], f"the browser tried to reach the internet: {outside}"


def _sso(page: Any, sub: str) -> None:
    page.goto("/login")
    page.get_by_role("link", name="Logga in med kommunens konto").click()
    page.wait_for_load_state("domcontentloaded")
    page.locator("input[name=sub]").fill(sub)  # the provider's own form
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_load_state("domcontentloaded")


def _map_group(browser: Any, live_server: LiveServer) -> None:
    """The admin maps the group to caseworker in Arbetsmarknadsenheten on /admin/sso."""
    context = browser.new_context(base_url=live_server.base_url, locale="sv-SE")
    try:
        admin = context.new_page()
        login(admin, ADMIN, DEMO_PASSWORD)
        admin.goto("/admin/sso")
        if GROUP in admin.locator("#mappings").inner_text():
            return
        assert_no_axe_violations(admin)
        admin.get_by_label("Värde").fill(GROUP)
        admin.get_by_label("Roll").select_option(label="Handläggare")
        admin.get_by_label("Arbetsmarknadsenheten").check()
        admin.get_by_role("button", name="Spara kopplingen").click()
        admin.wait_for_load_state("domcontentloaded")
        assert "Kopplingen är sparad" in admin.get_by_role("status").inner_text()
        assert GROUP in admin.locator("#mappings").inner_text()
        assert_no_axe_violations(admin)
    finally:
        context.close()


def test_sso_login_lands_a_caseworker_in_the_mapped_unit_logout_and_removed_group(
    browser: Any, page: Any, live_server: LiveServer, provider: OidcProvider, offline: list[str]
) -> None:
    _map_group(browser, live_server)
    sub = f"sara-{uuid.uuid4().hex[:6]}"
    provider.set_user(sub, {"email": f"{sub}@kommun.example", "name": "Sara Sso", "groups": [GROUP, "alla"]})

    page.goto("/login")
    assert_no_axe_violations(page)
    _sso(page, sub)
    main = page.locator("main").inner_text()
    assert "Välkommen, Sara Sso" in main and "handläggare" in main
    page.goto("/caseworker/closures/ny")
    form = page.locator("main").inner_text()
    assert "Arbetsmarknadsenheten" in form and "Försörjningsstöd Norra" not in form

    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url.startswith(provider.issuer)  # RP-initiated logout at the provider
    page.get_by_role("button", name="End session").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Du är utloggad" in page.locator("main").inner_text()
    page.goto("/caseworker/closures/ny")
    assert urlsplit(page.url).path == "/login"

    provider.set_user(sub, {"email": f"{sub}@kommun.example", "name": "Sara Sso", "groups": ["alla"]})
    _sso(page, sub)
    alert = page.get_by_role("alert").inner_text()
    assert "ingen behörighet" in alert
    assert_no_axe_violations(page)
    page.goto("/caseworker/closures/ny")
    assert urlsplit(page.url).path == "/login"


def test_a_forged_id_token_is_refused(
    browser: Any, page: Any, live_server: LiveServer, provider: OidcProvider, offline: list[str]
) -> None:
    _map_group(browser, live_server)
    sub = f"eve-{uuid.uuid4().hex[:6]}"
    provider.set_user(sub, {"email": f"{sub}@kommun.example", "groups": [GROUP]})
    provider.forge_next_token()
    _sso(page, sub)
    assert "inte äkta" in page.get_by_role("alert").inner_text()
    page.goto("/")
    assert urlsplit(page.url).path == "/login"


def test_a_token_for_another_nonce_is_refused(
    browser: Any, page: Any, live_server: LiveServer, provider: OidcProvider, offline: list[str]
) -> None:
    _map_group(browser, live_server)
    sub = f"mallory-{uuid.uuid4().hex[:6]}"
    provider.set_user(sub, {"email": f"{sub}@kommun.example", "groups": [GROUP]})

    def other_nonce(route: Any) -> None:
        url = urlsplit(route.request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        query["nonce"] = "nonce-of-another-login"
        route.continue_(url=urlunsplit(url._replace(query=urlencode(query))))

    page.route(f"{provider.issuer}/oauth2/authorize*", other_nonce)
    _sso(page, sub)
    assert "hörde inte till den här inloggningen" in page.get_by_role("alert").inner_text()
    page.goto("/")
    assert urlsplit(page.url).path == "/login"
