"""Issue 15 in Chromium: a crisis SMS → the akut banner → the case's timeline → the inbox.

A caseworker registers a closure in the form; SMS from that number then arrive as signed Twilio
webhooks (signed here with the fake gateway's token, exactly as Twilio signs them). The
caseworker sees the banner, opens the case (the message is on its timeline), takes it, opens
the inbox, answers an unclear message (the answer goes into the outbox) and marks it handled.
Every page is checked with axe-core, and the inbox and case pages for sideways scrolling at
390 px. Nothing waits on wall-clock speed: each webhook is answered before the next step.
"""

from __future__ import annotations

import re
import sqlite3
import urllib.parse
import urllib.request
import uuid
from typing import Any

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from notifications.testing.fake_twilio import DEFAULT_AUTH_TOKEN, sign
from tests.e2e.conftest import LiveServerFactory
from tests.e2e.support import LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e

CASEWORKER = "handlaggare@demo.uppfoljning.se"
PHONE = "+46701110077"
REF = "E2E-INBOX"
BANNER = "Akut: en person behöver kontakt i dag."
CRISIS = "Jag orkar inte mer, hyresvärden hotar med vräkning och vi har ingen mat hemma"
UNCLEAR = "Hej vem är detta? Jag förstår inte"


@pytest.fixture
def live_server(live_server_factory: LiveServerFactory) -> LiveServer:
    # A server of its own: the banner is about every untaken akut case of the unit.
    return live_server_factory(isolated=True)


def send_sms(server: LiveServer, body: str, from_: str = PHONE) -> None:
    """One inbound SMS as Twilio posts it: form-encoded and signed against the public URL."""
    path = "/webhooks/twilio/sms"
    sid = "SM" + uuid.uuid4().hex
    params = [("Body", body), ("From", from_), ("MessageSid", sid), ("SmsSid", sid), ("To", "+46700000000")]
    signature = sign(DEFAULT_AUTH_TOKEN, server.env["FEEDBACK_PUBLIC_URL"] + path, params)
    request = urllib.request.Request(
        server.url(path),
        data=urllib.parse.urlencode(params).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=20) as response:
        assert response.status == 200


def db_rows(server: LiveServer, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.database_url.split("///", 1)[1], timeout=10) as db:
        return list(db.execute(sql, params).fetchall())


def register_closure(page: Any) -> None:
    page.goto("/caseworker/closures/ny")
    today = page.get_by_label("Avslutsdatum").get_attribute("max")
    page.get_by_label("Enhet").select_option(label="Försörjningsstöd Norra")
    page.get_by_label("Klientreferens").fill(REF)
    page.get_by_label("Mobilnummer (frivilligt)").fill(PHONE)
    page.get_by_label("Avslutsdatum").fill(today)
    page.get_by_label("Avslutsorsak").select_option("work")
    page.get_by_label("Datum för samtycke").fill(today)
    page.get_by_label("Hur samtycket gavs").select_option("meeting")
    page.get_by_label("Vem gav samtycket").select_option("client")
    page.get_by_role("button", name="Registrera avslut").click()
    page.wait_for_load_state("domcontentloaded")
    assert re.search(r"/caseworker/closures/[0-9a-f-]{36}", page.url), page.url


def assert_no_sideways_scroll(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_load_state("domcontentloaded")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide at 390 px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_crisis_banner_case_timeline_and_inbox_reply(page: Any, live_server: LiveServer) -> None:
    login(page, CASEWORKER, DEMO_PASSWORD)
    register_closure(page)
    page.goto("/caseworker/calls/")
    assert BANNER not in page.content()

    # The unclear message first: once a case is open, the person's messages go onto its timeline.
    send_sms(live_server, UNCLEAR)
    send_sms(live_server, CRISIS)

    # The banner is on every caseworker page; it leads to the case.
    page.goto("/caseworker/closures/")
    banner = page.locator("#akut-banner")
    assert BANNER in banner.inner_text()
    banner.get_by_role("link", name="Öppna ärendet och ta ansvar").click()
    page.wait_for_load_state("domcontentloaded")
    assert re.search(r"/caseworker/cases/[0-9a-f-]{36}$", page.url), page.url
    assert page.get_by_role("heading", level=1).inner_text().startswith("Akut ärende")
    timeline = page.locator("ol.timeline")
    assert "hyresvärden hotar med vräkning" in timeline.inner_text()
    assert page.get_by_role("link", name="visa avslutet").count() == 1
    assert_no_axe_violations(page)
    assert_no_sideways_scroll(page)

    page.get_by_role("button", name=re.compile("Jag tar ärendet|Ta ansvar för ärendet")).click()
    page.wait_for_load_state("domcontentloaded")
    assert "Du är nu ansvarig för ärendet." in page.get_by_role("status").inner_text()
    assert page.locator("#akut-banner").count() == 0

    # The inbox: the unclear message, answered and marked handled.
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Inkorg").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.get_by_role("heading", level=1).inner_text() == "Inkorg"
    item = page.locator("li.inbox-item", has_text="Hej vem är detta?")
    assert item.count() == 1
    assert_no_axe_violations(page)
    assert_no_sideways_scroll(page)
    item = page.locator("li.inbox-item", has_text="Hej vem är detta?")
    item.get_by_label("Svara med sms").fill("Hej! Det är socialtjänsten. Vi hör av oss om ditt avslut.")
    item.get_by_role("button", name="Skicka svaret").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Svaret ligger i utkorgen" in page.get_by_role("status").inner_text()
    replies = db_rows(live_server, "SELECT body, status FROM sms_outbox WHERE kind = 'inbox_reply'")
    assert replies == [("Hej! Det är socialtjänsten. Vi hör av oss om ditt avslut.", "queued")]
    assert db_rows(live_server, "SELECT id FROM audit_event WHERE action = 'sms.reply'")
    item = page.locator("li.inbox-item", has_text="Hej vem är detta?")
    assert "Ditt svar" in item.inner_text()
    assert_no_axe_violations(page)

    item.get_by_role("button", name=re.compile("^Markera som hanterat")).click()
    page.wait_for_load_state("domcontentloaded")
    assert "Meddelandet är markerat som hanterat." in page.get_by_role("status").inner_text()
    assert page.locator("li.inbox-item", has_text="Hej vem är detta?").count() == 0
    assert_no_axe_violations(page)
