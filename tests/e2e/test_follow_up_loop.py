"""The issue's done-when story in Chromium: closure → clock +30 d → SMS loop → phone queue → case.

Everything runs through the real stack: the live server (``feedback serve`` with the worker in
the web process), the real twilio client pointed at the bundled fake Twilio, replies arriving as
signed webhooks (typed on the dev phone page, or posted by the fake's inbound poster), the admin's
"Testklocka" and the caseworker's pages (closure form, phone queue, cases). Waiting is always "poll until true or time out".
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.support import LiveServer, assert_no_axe_violations, free_port, login

pytestmark = pytest.mark.e2e

ADMIN = "admin@demo.uppfoljning.se"
CASEWORKER = "handlaggare@demo.uppfoljning.se"
ANSWERS = "+46701110001"  # walks the whole questionnaire, then asks to be called
STOPS = "+46701110002"  # writes STOPP
SILENT = "+46701110003"  # never answers → phone queue
TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def live_server_env() -> dict[str, str]:
    # The worker runs inside the web process and shares its clock; the fake Twilio listens on a
    # port we know, so the test can read what it "delivered".
    return {"FEEDBACK_WORKER_IN_APP": "1", "FEEDBACK_FAKE_TWILIO_PORT": str(free_port())}


def wait_for(check: Callable[[], Any], what: str, timeout_s: float = TIMEOUT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.2)


class Phones:
    """The fake Twilio's view: what each number received, and replies posted as signed webhooks."""

    def __init__(self, server: LiveServer) -> None:
        self.base = f"http://127.0.0.1:{server.env['FEEDBACK_FAKE_TWILIO_PORT']}"
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def received(self, number: str) -> list[str]:
        url = f"{self.base}/_fake/messages?{urllib.parse.urlencode({'number': number})}"
        with self.opener.open(url, timeout=5) as response:
            rows = json.loads(response.read())["messages"]
        return [m["body"] for m in rows if m["direction"] == "out"]

    def wait_for_text(self, number: str, fragment: str, after: int = 0) -> int:
        """Wait until a message containing ``fragment`` arrives after the first ``after``; return count."""

        def check() -> int:
            bodies = self.received(number)
            return len(bodies) if any(fragment in b for b in bodies[after:]) else 0

        return int(wait_for(check, f"an SMS to {number} containing {fragment!r}"))

    def reply(self, number: str, body: str) -> None:
        """The fake's inbound poster: signs and posts the reply to the app's webhook."""
        data = urllib.parse.urlencode({"From": number, "Body": body}).encode()
        request = urllib.request.Request(f"{self.base}/_fake/inbound", data=data, method="POST")
        with self.opener.open(request, timeout=20) as response:
            assert json.loads(response.read())["app_status"] == 200


# Queries scoped to this test's clients (the demo database may hold other conversations and calls).
CONVERSATION = (
    "SELECT v.disposition FROM sms_conversation v JOIN closure z ON z.id = v.closure_id "
    "JOIN client c ON c.id = z.client_id WHERE c.client_ref = ?"
)
CALL = "SELECT t.status FROM call_task t JOIN client c ON c.id = t.client_id WHERE c.client_ref = ?"
CASE = (
    "SELECT s.status FROM survey_case s JOIN closure z ON z.id = s.closure_id "
    "JOIN client c ON c.id = z.client_id WHERE c.client_ref = ?"
)
PHONE_ANSWERS = (
    "SELECT a.question_key FROM survey_answer a JOIN follow_up f ON f.id = a.follow_up_id "
    "JOIN client c ON c.id = f.client_id WHERE c.client_ref = ? AND a.mode = 'phone'"
)
READS = "SELECT id FROM audit_event WHERE action = 'contact.read'"


def db_rows(server: LiveServer, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    path = server.database_url.split("///", 1)[1]
    with sqlite3.connect(path, timeout=10) as db:
        return list(db.execute(sql, params).fetchall())


def register_closure(page: Any, ref: str, phone: str) -> None:
    """A caseworker registers a closure in the form (consent given at the closing meeting)."""
    page.goto("/caseworker/closures/ny")
    today = page.get_by_label("Avslutsdatum").get_attribute("max")  # the app's today
    page.get_by_label("Enhet").select_option(label="Försörjningsstöd Norra")
    page.get_by_label("Klientreferens").fill(ref)
    page.get_by_label("Mobilnummer (frivilligt)").fill(phone)
    page.get_by_label("Avslutsdatum").fill(today)
    page.get_by_label("Avslutsorsak").select_option("work")
    page.get_by_label("Datum för samtycke").fill(today)
    page.get_by_label("Hur samtycket gavs").select_option("meeting")
    page.get_by_label("Vem gav samtycket").select_option("client")
    page.get_by_role("button", name="Registrera avslut").click()
    page.wait_for_load_state("domcontentloaded")
    assert re.search(r"/caseworker/closures/[0-9a-f-]{36}", page.url), page.url


def reply_on_dev_phone(page: Any, number: str, body: str) -> None:
    page.goto(f"/dev/phone/?number={urllib.parse.quote(number)}")
    page.get_by_label("Från nummer").fill(number)
    page.get_by_label("Svar").fill(body)
    page.get_by_role("button", name="Skicka svar").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Svaret skickades." in page.get_by_role("status").inner_text()


def move_clock(page: Any, button: str, days: str | None = None) -> str:
    page.goto("/dev/clock/")
    if days is not None:
        page.get_by_label("Antal dagar").fill(days)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state("domcontentloaded")
    return str(page.get_by_role("status").inner_text())


def test_closure_sms_loop_phone_queue_and_case(
    page: Any, browser: Any, live_server: LiveServer, request: pytest.FixtureRequest
) -> None:
    phones = Phones(live_server)
    # The caseworker (own browser context) registers three closures in the form.
    context = browser.new_context(
        base_url=live_server.base_url, locale="sv-SE", timezone_id="Europe/Stockholm"
    )
    request.addfinalizer(context.close)
    context.set_default_timeout(15_000)
    worker = context.new_page()
    login(worker, CASEWORKER, DEMO_PASSWORD)
    for ref, number in (("E2E-A1", ANSWERS), ("E2E-B2", STOPS), ("E2E-C3", SILENT)):
        register_closure(worker, ref, number)
    assert len(db_rows(live_server, "SELECT id FROM client WHERE client_ref LIKE 'E2E-%'")) == 3

    login(page, ADMIN, DEMO_PASSWORD)

    # Nothing is sent before the first wave is due.
    page.goto("/dev/clock/")
    assert_no_axe_violations(page)
    assert phones.received(ANSWERS) == []

    # +30 days (and into the weekday sending window): the first SMS goes out through Twilio's client.
    # (The count on the page may be lower than 3: the in-process worker's scheduler can win the race.)
    assert re.search(r"Uppföljningar som startade nu: \d+", move_clock(page, "Flytta klockan 30 dagar"))
    move_clock(page, "Flytta klockan till nästa vardag kl. 10")
    for number in (ANSWERS, STOPS, SILENT):
        phones.wait_for_text(number, "Fråga 1 av 7")
    assert any("Svara STOPP" in body for body in phones.received(ANSWERS))

    # Replies typed on the dev phone page arrive as signed webhooks and walk the conversation.
    seen = len(phones.received(ANSWERS))
    reply_on_dev_phone(page, ANSWERS, "3")
    seen = phones.wait_for_text(ANSWERS, "Fråga 2 av 7", seen)
    reply_on_dev_phone(page, ANSWERS, "kanske")  # invalid → re-prompt
    seen = phones.wait_for_text(ANSWERS, "Vi förstod inte ditt svar", seen)
    assert "Svara med en siffra 1-5" in phones.received(ANSWERS)[-1]
    for answer, next_text in (
        ("4", "Fråga 3 av 7"),
        ("5", "Fråga 4 av 7"),
        ("ja", "Fråga 5 av 7"),
        ("0", "Fråga 6 av 7"),
        ("Praktikplatsen och min handläggare", "Får vi visa det du skrev som citat"),  # quoting question
        ("ja", "Fråga 7 av 7"),
        ("0", "Tack för dina svar"),
    ):
        phones.reply(ANSWERS, answer)  # the fake's inbound poster (signed like Twilio)
        seen = phones.wait_for_text(ANSWERS, next_text, seen)
    assert db_rows(live_server, CONVERSATION + " AND v.is_open = 0 AND v.answered >= 5", "E2E-A1")
    reply_on_dev_phone(page, ANSWERS, "Ring mig gärna")  # after the thank-you: opens a case

    # STOPP ends the other conversation; nothing more is asked.
    stops_seen = len(phones.received(STOPS))
    phones.reply(STOPS, "STOPP")
    wait_for(
        lambda: db_rows(live_server, CONVERSATION + " AND v.disposition = 'opted_out'", "E2E-B2"),
        "the STOPP conversation to end as opted out",
    )
    assert not any("Fråga 2 av 7" in b for b in phones.received(STOPS)[stops_seen:])

    # A week later the silent person's conversation expires and goes to the phone queue.
    assert "8 dagar" in move_clock(page, "Flytta klockan", days="8")
    wait_for(
        lambda: db_rows(live_server, CALL + " AND t.reason = 'sms_no_response'", "E2E-C3"),
        "a phone follow-up for the silent person",
    )

    # The caseworker works the call in the queue.
    worker.goto("/caseworker/calls/")
    assert_no_axe_violations(worker)
    queue = worker.locator("#due-calls")
    assert "Svarade inte på sms" in queue.inner_text()
    assert SILENT not in worker.content()  # the number only on the claimed call page
    reads = len(db_rows(live_server, READS))
    queue.get_by_role("button", name="Ta samtalet med E2E-C3").click()
    worker.wait_for_load_state("domcontentloaded")
    assert worker.get_by_role("heading", name="Uppföljningssamtal").is_visible()
    assert worker.locator("#phone-number").inner_text() == SILENT
    assert len(db_rows(live_server, READS)) == reads + 1  # the number read is audited
    assert_no_axe_violations(worker)
    worker.get_by_role("group", name="Vill personen svara?").get_by_label("Ja, vill svara").check()
    worker.get_by_role("group", name=re.compile("^Fråga 1:")).get_by_label("1 = arbetar").check()
    worker.get_by_role("group", name=re.compile("^Fråga 2:")).get_by_label("4", exact=True).check()
    worker.get_by_role("group", name=re.compile("^Fråga 4:")).get_by_label("Ja", exact=True).check()
    worker.get_by_label(re.compile("^Fråga 6:")).fill("Att någon ringde och frågade hur det gick")
    quoting = worker.get_by_role("group", name=re.compile("^Citat av svaret på fråga 6"))
    assert quoting.get_by_label("Nej (förvalt)").is_checked()  # no unless the person says yes
    quoting.get_by_label("Ja, får citeras").check()
    worker.get_by_role("group", name="Hur gick samtalet?").get_by_label("Svarade på frågorna").check()
    worker.get_by_label("Anteckning").fill("Nöjd, jobbar heltid. Nås på 070-111 00 03.")
    worker.get_by_role("button", name="Spara samtalet").click()
    worker.wait_for_load_state("domcontentloaded")
    assert "Samtalet är loggat." in worker.get_by_role("status").inner_text()
    assert db_rows(live_server, CALL, "E2E-C3") == [("done",)]
    keys = db_rows(live_server, PHONE_ANSWERS, "E2E-C3")
    assert sorted(k for (k,) in keys) == ["helped", "influence", "satisfaction", "status"]
    assert not db_rows(live_server, "SELECT 1 FROM open_text WHERE text_redacted LIKE '%111 00 03%'")
    quotable = "SELECT text_redacted FROM open_text WHERE quote_consent = 1 AND question_key = 'helped'"
    texts = {t for (t,) in db_rows(live_server, quotable)}
    assert {"Praktikplatsen och min handläggare", "Att någon ringde och frågade hur det gick"} <= texts

    # The "ring mig" reply is an open case for the unit, due in two working days.
    worker.goto("/caseworker/cases/")
    assert_no_axe_violations(worker)
    cases = worker.locator("#open-cases")
    assert "Vill bli uppringd" in cases.inner_text()
    cases.get_by_role("link", name="Visa ärendet E2E-A1, vill bli uppringd").click()
    worker.wait_for_load_state("domcontentloaded")
    assert "Personen bad om att bli uppringd." in worker.content()
    assert_no_axe_violations(worker)
    worker.get_by_label("Vad gjordes?").fill("Ringde upp och bokade ett möte.")
    worker.get_by_role("button", name="Stäng ärendet").click()
    worker.wait_for_load_state("domcontentloaded")
    assert "Ärendet är stängt." in worker.get_by_role("status").inner_text()
    assert db_rows(live_server, CASE + " AND s.\"trigger\" = 'call_me'", "E2E-A1") == [("closed",)]
