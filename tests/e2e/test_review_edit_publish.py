"""Issue 14 item 10 in Chromium: a review's findings and actions are edited, an overdue action is
flagged, publishing goes through a confirm page (no script needed), an unfinished action reaches
the panel as "Vi arbetar med" and becomes "Vi gjorde" only when marked Klar, and the review
downloads as a PDF whose text holds the findings and actions.

Runs on a server of its own: it publishes to the demo unit's panel page.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.support import assert_no_axe_violations, login

pytestmark = pytest.mark.e2e

MANAGER = "chef@demo.uppfoljning.se"
MEMBER = "panel@demo.uppfoljning.se"
UNIT = "Försörjningsstöd Norra"
FINDING = "Många vet inte när handläggaren kan nås."
FINDING_EDITED = "Många vet inte när handläggaren kan nås, särskilt på fredagar."
ACTION = "Fast telefontid varje vardag"
WE_ARE_WORKING_ON = "Vi inför fast telefontid 9–11 varje vardag."
WE_DID = "Nu har vi fast telefontid 9–11 varje vardag."
EDIT_ACTION = re.compile(rf"^Ändra åtgärden\W+{re.escape(ACTION)}$")  # name = link text + hidden title


def test_review_edit_overdue_confirm_publish_and_pdf(browser: Any, live_server_factory: Any) -> None:
    server = live_server_factory(isolated=True)
    manager_ctx = browser.new_context(
        base_url=server.base_url, locale="sv-SE", timezone_id="Europe/Stockholm"
    )
    member_ctx = browser.new_context(base_url=server.base_url, locale="sv-SE", timezone_id="Europe/Stockholm")
    try:
        manager, member = manager_ctx.new_page(), member_ctx.new_page()
        for p in (manager, member):
            p.set_default_timeout(20_000)
        login(manager, MANAGER, DEMO_PASSWORD)
        login(member, MEMBER, DEMO_PASSWORD)

        # a review with a finding and an action whose due date has passed
        manager.goto("/reviews/")
        manager.get_by_label("Rubrik").fill("Översyn telefontid")
        manager.get_by_label("Enhet").select_option(label=UNIT)
        manager.get_by_role("button", name="Spara rapporten och starta översynen").click()
        review_url = manager.url.split("?")[0].split("#")[0]
        manager.get_by_label("Vad kom ni fram till?").fill(FINDING)
        manager.get_by_role("button", name="Spara fyndet").click()
        manager.get_by_label("Vad ska göras?").fill(ACTION)
        manager.get_by_label("Ansvarig").fill("Maria Enhetschef")
        # the server's clock is the real one here: a week ago is past whatever day it is
        manager.get_by_label("Klart senast (valfritt)").fill((date.today() - timedelta(days=7)).isoformat())
        manager.get_by_role("button", name="Spara åtgärden").click()
        row = manager.locator("#action-table tr", has_text=ACTION)
        assert "Försenad" in row.inner_text()
        assert "1 åtgärd är försenad" in manager.locator("#overdue-notice").inner_text()
        assert_no_axe_violations(manager)
        manager.goto("/reviews/")
        assert "1 försenad" in manager.locator("#review-list tr", has_text="Översyn telefontid").inner_text()
        assert_no_axe_violations(manager)

        # edit the finding on its own page
        manager.goto(review_url)
        manager.get_by_role("link", name=re.compile("^Ändra fyndet")).first.click()
        assert manager.get_by_label("Vad kom ni fram till?").input_value() == FINDING
        assert_no_axe_violations(manager)
        manager.get_by_label("Vad kom ni fram till?").fill("")
        manager.get_by_role("button", name="Spara ändringen").click()  # the browser's own check stops it
        assert manager.url.endswith("/andra")
        manager.get_by_label("Vad kom ni fram till?").fill(FINDING_EDITED)
        manager.get_by_role("button", name="Spara ändringen").click()
        assert "Ändringen av fyndet är sparad." in manager.get_by_role("status").inner_text()
        finding_card = manager.locator("article.finding", has_text=FINDING_EDITED)
        assert "Uppdaterad" in finding_card.inner_text()

        # edit the action: owner and status "Pågår"
        manager.get_by_role("link", name=EDIT_ACTION).click()
        assert_no_axe_violations(manager)
        manager.get_by_label("Ansvarig").fill("Ahmed Samordnare")
        manager.get_by_label("Status").select_option(label="Pågår")
        manager.get_by_role("button", name="Spara ändringen").click()
        assert "Ändringen av åtgärden är sparad." in manager.get_by_role("status").inner_text()
        assert "Ahmed Samordnare" in manager.locator("#action-table").inner_text()

        # publishing: the form says "Vi arbetar med", and a confirm page comes first
        form = manager.locator("form", has=manager.get_by_role("heading", name=re.compile(ACTION)))
        form.get_by_label("Ni sa", exact=True).fill("Det är svårt att veta när man når sin handläggare.")
        form.get_by_label("Vi arbetar med", exact=True).fill(WE_ARE_WORKING_ON)
        form.get_by_role("button", name="Granska och publicera").click()
        assert manager.get_by_role("heading", level=1).inner_text() == "Bekräfta att du vill publicera"
        assert "Det går inte att ångra" in manager.locator("#confirm-warning").inner_text()
        assert f"Vi arbetar med: {WE_ARE_WORKING_ON}" in manager.locator("#confirm-preview").inner_text()
        assert_no_axe_violations(manager)
        member.goto("/panel/")
        assert WE_ARE_WORKING_ON not in member.locator("main").inner_text()  # not yet published
        manager.get_by_role("button", name="Ja, publicera").click()
        assert "publicerad" in manager.get_by_role("status").inner_text()
        assert "som ”Vi arbetar med”" in manager.locator("#action-table tr", has_text=ACTION).inner_text()
        assert_no_axe_violations(manager)

        member.goto("/panel/")
        items = member.locator("#ni-sa-vi-gjorde").inner_text()
        assert f"Vi arbetar med: {WE_ARE_WORKING_ON}" in items
        assert_no_axe_violations(member)

        # marked Klar after publication, with the text corrected: now "Vi gjorde", dated
        manager.get_by_role("link", name=EDIT_ACTION).click()
        assert manager.locator("#published-notice").is_visible()
        manager.get_by_label("Status").select_option(label="Klar")
        manager.get_by_label("Vi gjorde eller arbetar med").fill(WE_DID)
        manager.get_by_role("button", name="Spara ändringen").click()
        action_row = manager.locator("#action-table tr", has_text=ACTION).inner_text()
        assert "som ”Vi gjorde”" in action_row and "Försenad" not in action_row
        member.goto("/panel/")
        item = member.locator("#ni-sa-vi-gjorde li", has_text=WE_DID).inner_text()
        assert f"Vi gjorde: {WE_DID}" in item and "uppdaterat" in item

        # the review as a PDF with the edited finding and the action
        pdf = manager.request.get(review_url + "/oversyn.pdf", timeout=120_000)
        assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
        import pypdfium2

        document = pypdfium2.PdfDocument(pdf.body())
        text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
        document.close()
        flat = " ".join(text.split())
        for expected in ("Översyn telefontid", FINDING_EDITED, ACTION, "Ahmed Samordnare", "Klar"):
            assert expected in flat, (expected, flat[:2000])
    finally:
        manager_ctx.close()
        member_ctx.close()
