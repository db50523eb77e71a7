"""Issue 15 in Chromium: the client page tells one client's whole story, and contact data is
corrected there with a reason.

The client is seeded through the real services (``tests/e2e/client_page_seed.py``): an SMS that
never arrived (Twilio 30003), SMS answers with a free-text answer, STOPP, and a completed call
that opened a case. The caseworker opens the client page, sees all of it in one timeline with the
plain-Swedish failure reason, edits the phone number with a reason, and marks "kontakta ej"
through its confirmation page. Every page is checked with axe-core, and the client page for
sideways scrolling at 390×844.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from typing import Any

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.client_page_seed import CASEWORKER, REF
from tests.e2e.conftest import LiveServerFactory
from tests.e2e.support import ROOT, LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeded(live_server_factory: LiveServerFactory) -> tuple[LiveServer, str]:
    live = live_server_factory(isolated=True)
    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.client_page_seed", live.database_url],
        cwd=ROOT,
        env={**os.environ, **live.env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return live, result.stdout.strip().splitlines()[-1]


@pytest.fixture
def live_server(seeded: tuple[LiveServer, str]) -> LiveServer:
    return seeded[0]


def db_rows(server: LiveServer, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.database_url.split("///", 1)[1], timeout=10) as db:
        return list(db.execute(sql, params).fetchall())


def assert_no_sideways_scroll(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_load_state("domcontentloaded")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide at 390 px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_client_page_timeline_and_contact_edit(page: Any, seeded: tuple[LiveServer, str]) -> None:
    server, closure_id = seeded
    login(page, CASEWORKER, DEMO_PASSWORD)
    page.goto("/caseworker/closures/")
    page.goto(f"/caseworker/closures/{closure_id}")
    assert page.get_by_role("heading", level=1).inner_text() == f"Klient {REF}"

    timeline = page.locator("#timeline")
    text = timeline.inner_text()
    # SMS out with its delivery status and the plain-Swedish reason, SMS in, answers, the call,
    # the case and the opt-out: one timeline.
    assert "Sms till personen: Sms-enkät" in text and "Status: Kom inte fram" in text
    assert "Orsak: Telefonen går inte att nå" in text
    assert "Sms från personen" in text
    assert "Svar (sms, 90 dagar)" in text and "[TELEFON]" in text
    assert "Samtal (180 dagar): Svarade på frågorna" in text and "[PERSONNUMMER]" in text
    assert "Ärende (normal, öppet)" in text
    assert "Tackade nej till sms (STOPP)" in text
    assert "19850412" not in page.content() and "Anna Svensson" not in page.content()
    assert timeline.get_by_role("link", name="Visa ärendet").count() >= 1
    waves = page.locator("#follow-ups").inner_text()
    assert "Misslyckades: telefonen går inte att nå" in waves
    assert "Stoppad: personen har tackat nej till sms (STOPP)" in waves
    assert db_rows(server, "SELECT count(*) FROM audit_event WHERE action = 'client.read'")[0][0] >= 1
    assert_no_axe_violations(page)
    assert_no_sideways_scroll(page)

    # A new phone number with a reason: stored encrypted, audited, on the timeline.
    page.get_by_label("Nytt mobilnummer").fill("070-765 43 21")
    page.get_by_label("Skäl till ändringen").fill("Personen ringde och gav sitt nya nummer")
    page.get_by_role("button", name="Spara kontaktuppgifterna").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Kontaktuppgifterna är ändrade" in page.get_by_role("status").inner_text()
    assert "Kontaktuppgifter ändrade: mobilnummer" in page.locator("#timeline").inner_text()
    assert "070-765 43 21" not in page.content() and "+46707654321" not in page.content()
    rows = db_rows(server, "SELECT reason, detail FROM audit_event WHERE action = 'contact.change'")
    assert rows and rows[-1][0] == "Personen ringde och gav sitt nya nummer" and "phone" in rows[-1][1]
    stored = db_rows(server, "SELECT phone_ciphertext FROM client WHERE client_ref = ?", REF)
    assert stored and "707654321" not in stored[0][0]
    assert_no_axe_violations(page)

    # "Kontakta ej" is never one click: a confirmation page with a reason first.
    page.get_by_role("link", name=re.compile("^Markera: kontakta ej")).click()
    page.wait_for_load_state("domcontentloaded")
    assert page.get_by_role("heading", level=1).inner_text() == "Markera: kontakta ej"
    assert_no_axe_violations(page)
    assert_no_sideways_scroll(page)
    page.get_by_label("Skäl").fill("Personen bad om det i telefon")
    page.get_by_role("button", name="Ja, markera kontakta ej").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Personen är markerad: kontakta ej" in page.get_by_role("status").inner_text()
    states = page.locator("#follow-ups .wave-state").all_inner_texts()
    assert states and "Planerad" not in states and "Stoppad: kontakta ej" in states, states
    assert "Markerad: kontakta ej" in page.locator("#timeline").inner_text()
    assert_no_axe_violations(page)
