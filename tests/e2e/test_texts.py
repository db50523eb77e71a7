"""Issue 16: the admin text catalogue in real Chromium, checked by axe-core.

An admin opens the Arabic texts (right to left), previews a long Arabic text (UCS-2, three
parts), is stopped from saving it until the cost warning is ticked, saves it as a draft and
marks it reviewed. A caseworker's closure form says per language whether its texts are reviewed.
"""

from __future__ import annotations

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.support import LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e

ADMIN = "admin@demo.uppfoljning.se"
CASEWORKER = "handlaggare@demo.uppfoljning.se"
KEY = "default_followup.question:influence"
LONG_AR = "هل شاركت في اتخاذ القرار بشأن خطتك مع الموظف المسؤول عنك خلال فترة الدعم كلها؟ أجب نعم أو لا. أرسل توقف إذا أردت التوقف عن تلقي الرسائل."


def test_admin_edits_previews_and_reviews_an_arabic_text(page, live_server: LiveServer) -> None:
    login(page, ADMIN, DEMO_PASSWORD)
    page.get_by_role("link", name="Texter").click()
    page.wait_for_load_state("domcontentloaded")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Arabiska").click()
    page.wait_for_load_state("domcontentloaded")
    cell = page.locator("#texts td[lang=ar]").first
    assert cell.get_attribute("dir") == "rtl"
    assert_no_axe_violations(page)

    page.get_by_role("link", name=KEY, exact=True).click()
    page.wait_for_load_state("domcontentloaded")
    assert "Utkast (inte granskad)" in page.locator("#status").inner_text()
    assert "UCS-2" in page.locator("#cost").inner_text()
    assert page.get_by_label("Text på arabiska").get_attribute("dir") == "rtl"
    assert_no_axe_violations(page)

    page.get_by_label("Text på arabiska").fill(LONG_AR)
    page.get_by_role("button", name="Förhandsgranska").click()
    page.wait_for_load_state("domcontentloaded")
    cost = page.locator("#cost").inner_text()
    assert f"{len(LONG_AR)} tecken" in cost and "3 sms-delar" in cost and "UCS-2" in cost and "67" in cost
    assert page.locator("#preview").inner_text().strip() == LONG_AR
    assert page.locator("#preview").get_attribute("dir") == "rtl"

    page.get_by_role("button", name="Spara utkast").click()
    page.wait_for_load_state("domcontentloaded")
    assert "3 sms-delar" in page.get_by_role("alert").inner_text()
    assert_no_axe_violations(page)
    page.get_by_label("Jag vet att texten kan bli mer än 2 sms-delar och kosta mer").check()
    page.get_by_role("button", name="Spara utkast").click()
    page.wait_for_load_state("domcontentloaded")
    assert "sparad som utkast" in page.get_by_role("status").inner_text()
    assert "Utkast" in page.locator("#status").inner_text()

    page.get_by_role("button", name="Markera som granskad").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Granskad av Alva Admin" in page.locator("#status").inner_text()
    assert_no_axe_violations(page)
    page.goto("/admin/texts?sprak=ar")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=KEY, exact=True))
    assert "Granskad" in row.inner_text() and "3" in row.inner_text()


def test_the_closure_form_says_which_languages_are_reviewed(page, live_server: LiveServer) -> None:
    login(page, CASEWORKER, DEMO_PASSWORD)
    page.goto("/caseworker/closures/ny")
    hint = page.locator("#language-hint").inner_text()
    assert "Svenska: texterna är granskade" in hint
    assert "Somaliska: texterna är inte granskade" in hint
    assert page.get_by_label("Språk för sms").get_attribute("aria-describedby") == "language-hint"
    assert_no_axe_violations(page)
