"""Issue 6 done-when in Chromium: panel reflection → themed report → theme edits survive retraining
→ CSV and PDF exports → review → published "ni sa – vi gjorde" seen by the panel member.

Runs on a server of its own: it merges and renames themes, which other tests must not see.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from feedback.demo.review import ROUND_TITLE
from nlp.redact import redact
from tests.e2e.support import assert_no_axe_violations, login

pytestmark = pytest.mark.e2e

MANAGER = "chef@demo.uppfoljning.se"
MEMBER_EMAIL = "ny.panelmedlem@example.se"
MEMBER_PASSWORD = "Panelen-ar-viktig-2026"
FIRST = "Jag heter Anna Berg och fick vänta fyra veckor på ett beslut."
EDITED = "Jag heter Anna Berg. Jag fick vänta fyra veckor på ett beslut och ingen ringde tillbaka."
SLOW = 240_000  # ms: retraining and PDF rendering take seconds, not milliseconds


def _theme_of_reflection(page: Any) -> tuple[str, str]:
    """Find the report row (theme key, label) whose drill-down shows the member's reflection."""
    page.goto("/reports/?kanal=panel")
    assert_no_axe_violations(page)
    links = page.locator("a[href*='/reports/svar?'][href*='tema=']:not([href*='manad='])")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs, "no theme in the panel report has 5 or more people"
    for href in hrefs:
        page.goto(href)
        table = page.locator("#drill-table")
        if table.count() and "ingen ringde tillbaka" in table.inner_text():
            key = re.search(r"tema=([a-z_0-9.]+)", href).group(1)  # type: ignore[union-attr]
            label = page.get_by_role("heading", level=1).inner_text().removeprefix("Svar om ")
            return key, label
    raise AssertionError(f"the reflection is under none of the themes {hrefs}")


def _retrain_and_wait(page: Any) -> None:
    """Ask for a retraining on /themes/ and follow it by reloading, as a manager without JS would.

    A retraining shows a preview first and changes nothing until the manager confirms (issue 17);
    the worker in the server trains, compares and, after the confirmation, re-themes. Waits on the
    page's own status (a condition), with SLOW as the upper bound.
    """
    page.goto("/themes/")
    page.get_by_role("button", name="Visa vad en omträning skulle ändra").click()
    page.get_by_text("Förhandsvisningen är beställd").wait_for()
    assert_no_axe_violations(page)
    status = page.locator("#retrain-status")
    deadline = time.monotonic() + SLOW / 1000
    while not page.locator("#retrain-preview").count():
        assert "Misslyckades" not in status.inner_text(), status.inner_text()
        assert time.monotonic() < deadline, f"no preview: {status.inner_text()}"
        page.wait_for_timeout(500)
        page.goto("/themes/")
    page.locator("#retrain-preview").get_by_role("button", name=re.compile("^Ja, träna om")).click()
    page.get_by_text("Omträningen är bekräftad").wait_for()
    while "Klar " not in status.inner_text():
        assert "Misslyckades" not in status.inner_text(), status.inner_text()
        assert time.monotonic() < deadline, f"retraining not done: {status.inner_text()}"
        page.wait_for_timeout(500)
        page.goto("/themes/")
    assert_no_axe_violations(page)


def test_panel_reflection_to_report_theme_edits_exports_review_and_published_item(
    browser: Any, live_server_factory: Any, tmp_path: Path
) -> None:
    # the worker runs in the server: it carries out the retraining the manager asks for
    server = live_server_factory(isolated=True, FEEDBACK_WORKER_IN_APP="1")
    manager_ctx = browser.new_context(
        base_url=server.base_url, locale="sv-SE", timezone_id="Europe/Stockholm"
    )
    member_ctx = browser.new_context(base_url=server.base_url, locale="sv-SE", timezone_id="Europe/Stockholm")
    try:
        manager, member = manager_ctx.new_page(), member_ctx.new_page()
        for p in (manager, member):
            p.set_default_timeout(20_000)

        # 1. the manager invites a panel member by single-use link
        login(manager, MANAGER, DEMO_PASSWORD)
        manager.goto("/panel/manage/")
        assert_no_axe_violations(manager)
        manager.get_by_label("E-postadress").fill(MEMBER_EMAIL)
        manager.get_by_label("Enhet", exact=True).last.select_option(label="Försörjningsstöd Norra")
        manager.get_by_role("button", name="Skapa inbjudningslänk").click()
        invite_url = manager.locator("#invite-link").get_attribute("href")
        assert invite_url and invite_url.startswith(server.base_url)

        # 2. the member follows it, sets a password, writes and edits a reflection
        member.goto(invite_url)
        assert_no_axe_violations(member)
        member.get_by_label("Välj lösenord").fill(MEMBER_PASSWORD)
        member.get_by_label("Upprepa lösenordet").fill(MEMBER_PASSWORD)
        member.get_by_role("button", name="Spara lösenord och logga in").click()
        member.goto("/panel/")
        member.get_by_role("link", name=ROUND_TITLE).click()
        assert_no_axe_violations(member)
        member.locator("#text-0").fill(FIRST)
        member.locator("#text-0").locator("xpath=ancestor::form").get_by_label(
            re.compile("Ni får citera")
        ).check()
        member.get_by_role("button", name="Spara reflektionen").first.click()
        # stored redacted, so the writer sees the placeholders too (the page says so)
        assert member.locator("#text-0").input_value() == redact(FIRST)
        assert "[NAMN]" in redact(FIRST)
        member.locator("#text-0").fill(EDITED)
        member.get_by_role("button", name="Spara ändringen").first.click()
        assert member.locator("#text-0").input_value() == redact(EDITED)
        assert_no_axe_violations(member)

        # 3. the manager retrains (themes every answer) and finds it, redacted and nameless, in the report
        manager.goto("/themes/")
        assert_no_axe_violations(manager)
        _retrain_and_wait(manager)
        key, label = _theme_of_reflection(manager)
        drill = manager.locator("#drill-table").inner_text()
        assert "[NAMN]" in drill and "Anna Berg" not in drill and "Panelmedlem" not in drill
        assert_no_axe_violations(manager)

        # 4. merge that theme into another, rename the target, retrain: the edits are still there
        target, new_label = (
            ("bemotande", "Bemötande och väntan") if key != "bemotande" else ("halsa", "Hälsa och bemötande")
        )
        manager.goto(f"/themes/t/{key}")
        assert_no_axe_violations(manager)
        manager.get_by_label("Slå ihop med").select_option(value=target)
        manager.locator("#merge-scope-all").check()  # a decision the manager makes (issue 17)
        manager.get_by_role("button", name="Slå ihop …").click()
        manager.get_by_role("button", name="Ja, slå ihop").click()  # the confirmation page
        assert "sammanslagna" in manager.get_by_role("status").inner_text()
        manager.goto(f"/themes/t/{target}")
        manager.get_by_label("Nytt namn", exact=True).fill(new_label)
        manager.get_by_role("button", name="Byt namn").click()
        _retrain_and_wait(manager)
        table = manager.locator("#theme-table").inner_text()
        assert new_label in table and label not in table
        assert_no_axe_violations(manager)
        key2, label2 = _theme_of_reflection(manager)
        assert (key2, label2) == (target, new_label), "the answer carries the merged, renamed theme"

        # 5. exports: CSV with the renamed theme, and a PDF that renders to a non-blank image
        csv = manager.request.get(f"{server.base_url}/reports/teman.csv?kanal=panel")
        assert csv.status == 200 and new_label in csv.text()
        pdf = manager.request.get(f"{server.base_url}/reports/rapport.pdf?kanal=panel", timeout=SLOW)
        assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
        import pypdfium2

        document = pypdfium2.PdfDocument(pdf.body())
        image = document[0].render(scale=1.5).to_pil().convert("L")
        image.save(tmp_path / "report-page-1.png")
        dark = sum(image.histogram()[:128])  # pixels darker than mid-grey: text, bars, rules
        assert image.width > 500 and dark > 2_000, "the PDF's first page is blank"
        text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
        assert new_label in text, "the PDF's theme table uses the renamed theme"
        document.close()

        # 6. a review: frozen snapshot, a finding, an action published to the panel
        manager.goto("/reviews/")
        assert_no_axe_violations(manager)
        manager.get_by_label("Rubrik").fill("Översyn vintern 2026")
        manager.get_by_label("Enhet").select_option(label="Försörjningsstöd Norra")
        manager.get_by_role("button", name="Spara rapporten och starta översynen").click()
        assert new_label in manager.locator("#snapshot").inner_text()
        manager.get_by_label("Vad kom ni fram till?").fill(
            "Väntan på beslut och återkoppling är det som skaver mest."
        )
        manager.get_by_label(new_label).check()
        manager.get_by_role("button", name="Spara fyndet").click()
        manager.get_by_label("Vad ska göras?").fill("Vi ringer tillbaka inom två arbetsdagar")
        manager.get_by_label("Ansvarig").fill("Maria Enhetschef")
        manager.get_by_role("button", name="Spara åtgärden").click()
        assert_no_axe_violations(manager)
        # the action is not "Klar" yet: it is published as "Vi arbetar med", after a confirm page
        manager.get_by_label("Ni sa", exact=True).fill("Det tar för lång tid att få svar.")
        manager.get_by_label("Vi arbetar med", exact=True).fill(
            "Nu ringer vi alltid tillbaka inom två arbetsdagar."
        )
        manager.get_by_role("button", name="Granska och publicera").click()
        assert_no_axe_violations(manager)
        manager.get_by_role("button", name="Ja, publicera").click()
        assert "publicerad" in manager.get_by_role("status").inner_text()
        assert_no_axe_violations(manager)

        # 7. the panel member sees it
        member.goto("/panel/")
        assert (
            "Vi arbetar med: Nu ringer vi alltid tillbaka inom två arbetsdagar."
            in member.locator("main").inner_text()
        )
        assert_no_axe_violations(member)
    finally:
        manager_ctx.close()
        member_ctx.close()
