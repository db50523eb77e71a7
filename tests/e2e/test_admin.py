"""Admin pages and the invitation flow in real Chromium, checked by axe-core."""

from __future__ import annotations

import uuid

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.support import LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e

ADMIN = "admin@demo.uppfoljning.se"


def test_admin_creates_unit_and_invites_a_panel_member(browser, page, live_server: LiveServer) -> None:
    login(page, ADMIN, DEMO_PASSWORD)
    page.get_by_role("link", name="Enheter").first.click()
    page.wait_for_load_state("domcontentloaded")
    assert_no_axe_violations(page)
    code = f"e2e-{uuid.uuid4().hex[:6]}"
    page.get_by_label("Namn").fill("Öppenvården Väst")
    page.get_by_label("Kod").fill(code)
    page.get_by_role("button", name="Skapa enhet").click()
    page.wait_for_load_state("domcontentloaded")
    assert f"Enheten {code} har skapats" in page.get_by_role("status").inner_text()
    assert page.get_by_role("cell", name="Öppenvården Väst", exact=True).is_visible()

    page.goto("/admin/users")
    assert_no_axe_violations(page)
    email = f"panel-{uuid.uuid4().hex[:6]}@example.se"
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Namn").fill("Leila Panel")
    page.get_by_label("Roll").select_option(label="Panelmedlem")
    page.get_by_label("Öppenvården Väst").check()
    page.get_by_role("button", name="Skapa inbjudan").click()
    page.wait_for_load_state("domcontentloaded")
    link = page.get_by_label("Inbjudningslänk").input_value()
    assert "/invitation/" in link
    assert_no_axe_violations(page)

    # The invited person opens the link in a browser of their own.
    context = browser.new_context(locale="sv-SE")
    try:
        invited = context.new_page()
        invited.goto(link)
        assert email in invited.locator("main").inner_text()
        assert_no_axe_violations(invited)
        invited.get_by_label("Välj lösenord").fill("en-lang-mening-som-losenord")
        invited.get_by_label("Upprepa lösenordet").fill("en-lang-mening-som-losenord")
        invited.get_by_role("button", name="Spara lösenord och logga in").click()
        invited.wait_for_load_state("domcontentloaded")
        assert "panelmedlem" in invited.locator("main").inner_text()
        invited.goto(link)
        assert "redan använts" in invited.locator("main").inner_text()
    finally:
        context.close()
