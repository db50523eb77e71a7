"""Issue 15 on a phone: the list pages fit 390 px (tables become lists) and stay axe-clean.

At 390×844 every list page a caseworker or an administrator uses — closures, the phone queue,
cases (open and all), the inbox, the admin users page — must not scroll sideways:
``document.documentElement.scrollWidth <= clientWidth``. Each page is also checked with
axe-core at that width (the stacked layout keeps the table markup), and at desktop width the
tables are still laid out as tables. Demo data gives every list rows to lay out.
"""

from __future__ import annotations

from typing import Any

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.support import LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e

CASEWORKER = "handlaggare@demo.uppfoljning.se"
ADMIN = "admin@demo.uppfoljning.se"
PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1280, "height": 900}

CASEWORKER_PAGES = (
    ("/caseworker/closures/", "#closures"),
    ("/caseworker/calls/", "#due-calls"),
    ("/caseworker/cases/?visa=alla", "#cases"),
    ("/caseworker/cases/", "#open-cases"),
    ("/caseworker/inkorg", None),
)


def widths(page: Any) -> tuple[int, int]:
    return page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def assert_fits_a_phone(page: Any, path: str, table: str | None) -> None:
    page.set_viewport_size(PHONE_VIEWPORT)
    page.goto(path)
    page.wait_for_load_state("load")
    assert path.split("?")[0].rstrip("/") in page.url, page.url  # not sent to the login page
    scroll, client = widths(page)
    assert client <= PHONE_VIEWPORT["width"]
    assert scroll <= client, f"{path} is {scroll} px wide in a {client} px window"
    if table:
        rows = page.locator(f"{table} tbody tr")
        assert rows.count() >= 1
        # Stacked: one card per row, the cells under each other (not a table row).
        assert rows.first.evaluate("tr => getComputedStyle(tr).display") == "block"
    assert_no_axe_violations(page)


def assert_still_a_table_on_desktop(page: Any, path: str, table: str) -> None:
    page.set_viewport_size(DESKTOP_VIEWPORT)
    page.goto(path)
    page.wait_for_load_state("load")
    assert (
        page.locator(f"{table} tbody tr").first.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    )
    assert page.locator(f"{table} thead").evaluate("el => el.getBoundingClientRect().height") > 10


def test_caseworker_lists_fit_390_px_and_stay_axe_clean(page: Any, live_server: LiveServer) -> None:
    login(page, CASEWORKER, DEMO_PASSWORD)
    for path, table in CASEWORKER_PAGES:
        assert_fits_a_phone(page, path, table)
    # A search with no match keeps the page narrow and says why it is empty.
    page.goto("/caseworker/closures/?ref=zz-ingen")
    assert "Inga avslut matchar din sökning." in page.locator("#closures").inner_text()
    scroll, client = widths(page)
    assert scroll <= client
    assert_no_axe_violations(page)
    for path, table in CASEWORKER_PAGES:
        if table:
            assert_still_a_table_on_desktop(page, path, table)


def test_admin_users_page_fits_390_px_and_stays_axe_clean(page: Any, live_server: LiveServer) -> None:
    login(page, ADMIN, DEMO_PASSWORD)
    assert_fits_a_phone(page, "/admin/users", "#users")
    assert_still_a_table_on_desktop(page, "/admin/users", "#users")
