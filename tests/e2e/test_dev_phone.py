"""Dev phone page in Chromium: a reply typed here arrives through the real signed webhook."""

from __future__ import annotations

import sqlite3

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.support import LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e

ADMIN = "admin@demo.uppfoljning.se"
CASEWORKER = "handlaggare@demo.uppfoljning.se"
NUMBER = "+46701112233"


def _inbound_rows(server: LiveServer) -> int:
    path = server.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM sms_inbound").fetchone()[0])


def test_admin_replies_as_a_phone_and_the_webhook_stores_it(page, live_server: LiveServer) -> None:
    before = _inbound_rows(live_server)
    login(page, ADMIN, DEMO_PASSWORD)
    page.goto("/dev/phone/")
    assert page.get_by_role("heading", name="Testtelefon").is_visible()
    assert_no_axe_violations(page)
    page.get_by_label("Från nummer").fill(NUMBER)
    page.get_by_label("Svar").fill("Det har gått bra, tack")
    page.get_by_role("button", name="Skicka svar").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Svaret skickades." in page.get_by_role("status").inner_text()
    conversation = page.locator("ol.conversation")
    assert "Det har gått bra, tack" in conversation.inner_text()
    assert "Från telefonen" in conversation.inner_text() and "status 200" in conversation.inner_text()
    assert _inbound_rows(live_server) == before + 1
    assert_no_axe_violations(page)


def test_bad_number_gets_a_swedish_error(page, live_server: LiveServer) -> None:
    login(page, ADMIN, DEMO_PASSWORD)
    page.goto("/dev/phone/")
    page.get_by_label("Från nummer").fill("0701")
    page.get_by_label("Svar").fill("4")
    page.get_by_role("button", name="Skicka svar").click()
    assert "formatet +46701234567" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Svar").input_value() == "4"
    assert_no_axe_violations(page)


def test_caseworker_may_not_open_the_dev_phone(page, live_server: LiveServer) -> None:
    login(page, CASEWORKER, DEMO_PASSWORD)
    response = page.goto("/dev/phone/")
    assert response is not None and response.status == 403
