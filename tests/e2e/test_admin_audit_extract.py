"""Issue 18 in Chromium: loggkontroll and registerutdrag, checked by axe-core.

The demo-like client of ``tests/e2e/client_page_seed.py`` (SMS, answers with free text, STOPP,
a call, a case) is seeded into an isolated live server. A caseworker opens the client page (a
read that is logged); the admin takes a register extract on the page and as a PDF (whose text
must hold the client's messages and answers), then finds both reads in the loggkontroll by the
client reference, draws a stickprov and exports the log as CSV.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.client_page_seed import CASEWORKER, REF
from tests.e2e.conftest import LiveServerFactory
from tests.e2e.support import ROOT, LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e

ADMIN = "admin@demo.uppfoljning.se"
STORY_PHONE = "+46701110088"
DOWNLOAD_TIMEOUT_MS = 120_000


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


def test_registerutdrag_and_loggkontroll(browser: Any, page: Any, seeded: tuple[LiveServer, str]) -> None:
    import pypdfium2

    server, closure_id = seeded
    context = browser.new_context(locale="sv-SE", base_url=server.base_url)
    try:  # the caseworker reads the client page: an audited read of client data
        caseworker = context.new_page()
        login(caseworker, CASEWORKER, DEMO_PASSWORD, base_url=server.base_url)
        caseworker.goto(f"/caseworker/closures/{closure_id}")
        assert caseworker.get_by_role("heading", level=1).inner_text() == f"Klient {REF}"
    finally:
        context.close()

    login(page, ADMIN, DEMO_PASSWORD)
    page.get_by_role("link", name="Registerutdrag").first.click()
    page.wait_for_load_state("domcontentloaded")
    assert_no_axe_violations(page)
    page.get_by_label("Enhet").select_option(label="Försörjningsstöd Norra")
    page.get_by_label("Klientreferens").fill(REF)
    page.get_by_role("button", name="Ta fram utdrag").click()
    page.wait_for_load_state("domcontentloaded")
    extract = page.locator("#extract").inner_text()
    assert STORY_PHONE in extract and "Sms till personen" in extract and "Svar" in extract
    assert "Tackade nej till sms (STOPP)" in extract and "19850412" not in extract
    assert_no_axe_violations(page)

    page.get_by_label("PDF att skriva ut eller skicka").check()
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as download_info:
        page.get_by_role("button", name="Ta fram utdrag").click()
    pdf_path = download_info.value.path()
    document = pypdfium2.PdfDocument(pdf_path)
    text = " ".join(
        " ".join(document[i].get_textpage().get_text_range() for i in range(len(document))).split()
    )
    assert REF in text and STORY_PHONE in text
    assert "Svar (sms, 90 dagar)" in text and "Min handläggare lyssnade" in text  # answers
    assert "Sms till personen" in text and "Sms från personen" in text  # messages
    assert "19850412" not in text

    page.goto("/admin/logg/")
    assert page.get_by_role("heading", level=1).inner_text() == "Loggkontroll"
    assert_no_axe_violations(page)
    # the default period is the last seven days: today's reads are in it
    page.get_by_label("Klientreferens").fill(REF)
    page.get_by_role("button", name="Visa", exact=True).click()
    page.wait_for_load_state("domcontentloaded")
    log = page.locator("#log").inner_text()
    assert "Klientsidan visades" in log and "Registerutdrag togs fram" in log and REF in log
    assert "Karin Handläggare" in log
    assert_no_axe_violations(page)

    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as csv_info:
        page.get_by_role("button", name="Exportera till CSV").click()
    csv_text = open(csv_info.value.path(), encoding="utf-8-sig").read()
    assert csv_text.startswith("Tid;Användare;Roll;Händelse") and "Registerutdrag togs fram" in csv_text

    page.goto("/admin/logg/")
    page.get_by_label("Antal").fill("5")
    page.get_by_role("button", name="Ta stickprov").click()
    page.wait_for_load_state("domcontentloaded")
    summary = page.locator("#sample-summary").inner_text()
    assert summary.startswith("Stickprov nummer") and "läsningar" in summary
    assert page.locator("#sample tbody tr").count() >= 2  # the client page read and the extracts
    assert_no_axe_violations(page)
