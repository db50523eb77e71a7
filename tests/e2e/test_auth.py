"""Login and start pages in real Chromium, with the demo users, checked by axe-core."""

from __future__ import annotations

import re

import pytest

from feedback.demo.accounts import DEMO_PASSWORD, DEMO_USERS
from tests.e2e.support import LiveServer, assert_no_axe_violations, axe_violations, login

pytestmark = pytest.mark.e2e

CASEWORKER = "handlaggare@demo.uppfoljning.se"


def test_login_page_has_no_axe_violations(page, live_server: LiveServer) -> None:
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert_no_axe_violations(page)


def test_caseworker_logs_in_and_lands_on_caseworker_start_page(page, live_server: LiveServer) -> None:
    page.goto("/")
    assert re.search(r"/login", page.url), "an anonymous visitor is sent to the login page"
    login(page, CASEWORKER, DEMO_PASSWORD)
    assert page.url.rstrip("/") == live_server.base_url
    assert "handläggare" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Logga ut").is_visible()


def test_wrong_password_shows_swedish_error(page, live_server: LiveServer) -> None:
    login(page, CASEWORKER, DEMO_PASSWORD + "-fel")
    alert = page.get_by_role("alert")
    assert "Fel e-postadress eller lösenord" in alert.inner_text()
    assert page.get_by_label("E-postadress").input_value() == CASEWORKER
    assert_no_axe_violations(page)


@pytest.mark.parametrize("email", [email for email, *_ in DEMO_USERS])
def test_each_start_page_has_no_axe_violations(page, live_server: LiveServer, email: str) -> None:
    login(page, email, DEMO_PASSWORD)
    assert "/login" not in page.url, f"{email} could not log in"
    assert page.get_by_role("heading", level=1).is_visible()
    assert_no_axe_violations(page)


def test_axe_check_can_fail(page, live_server: LiveServer) -> None:
    """The accessibility check itself works: an unlabelled input on an untitled page is reported."""
    page.goto("/login")
    page.set_content("<html><body><input type='text'><img src='x.png'></body></html>")
    ids = {v["id"] for v in axe_violations(page)}
    assert {"html-has-lang", "image-alt", "label"} <= ids
    with pytest.raises(pytest.fail.Exception, match="label"):
        assert_no_axe_violations(page)


def test_sixth_wrong_attempt_is_refused(browser, live_server_factory) -> None:
    """Runs on a server of its own: the lock would otherwise shut other tests out."""
    server = live_server_factory(isolated=True)
    context = browser.new_context(base_url=server.base_url, locale="sv-SE")
    try:
        page = context.new_page()
        for attempt in range(1, 6):
            login(page, CASEWORKER, f"fel-losenord-{attempt}")
            assert "/login" in page.url
        assert "För många misslyckade inloggningar" in page.get_by_role("alert").inner_text()
        login(page, CASEWORKER, DEMO_PASSWORD)  # the sixth attempt, now with the right password
        alert = page.get_by_role("alert").inner_text()
        assert "För många misslyckade inloggningar" in alert and "15 minuter" in alert
        page.goto("/")
        assert "/login" in page.url, "the refused attempt must not sign anybody in"
        assert_no_axe_violations(page)
    finally:
        context.close()


def test_password_page_has_no_axe_violations(page, live_server: LiveServer) -> None:
    login(page, "chef@demo.uppfoljning.se", DEMO_PASSWORD)
    page.get_by_role("link", name="Byt lösenord").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.get_by_label("Nuvarande lösenord").is_visible()
    assert_no_axe_violations(page)
    page.get_by_label("Nuvarande lösenord").fill("inte-mitt-losenord")
    page.get_by_label("Nytt lösenord").fill("ett-nytt-langt-losenord")
    page.get_by_label("Upprepa det nya lösenordet").fill("ett-nytt-langt-losenord")
    page.get_by_role("button", name="Byt lösenord").click()
    page.wait_for_load_state("domcontentloaded")
    assert "nuvarande lösenordet stämmer inte" in page.get_by_role("alert").inner_text()
    assert_no_axe_violations(page)
