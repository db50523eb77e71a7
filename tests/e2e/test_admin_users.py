"""The account page in real Chromium (axe-core): role, units, deactivate, reactivate, reset."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.people_seed import prepare_people_database
from tests.e2e.support import LiveServer, assert_no_axe_violations, login, start_live_server

pytestmark = pytest.mark.e2e

ADMIN = "admin@demo.uppfoljning.se"
JOHAN = "handlaggare.ame@demo.uppfoljning.se"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own (the test changes a demo account) over demo units and people only."""
    template = prepare_people_database(tmp_path_factory.mktemp("people") / "people.db")
    running = start_live_server(tmp_path_factory.mktemp("accounts-live"), template)
    yield running
    running.stop()


def test_admin_changes_an_account_and_johan_feels_it_at_once(browser: Any, server: LiveServer) -> None:
    admin_ctx = browser.new_context(base_url=server.base_url, locale="sv-SE")
    johan_ctx = browser.new_context(base_url=server.base_url, locale="sv-SE")
    try:
        johan = johan_ctx.new_page()
        login(johan, JOHAN, DEMO_PASSWORD)
        johan.goto("/caseworker/closures/ny")
        assert "Arbetsmarknadsenheten" in johan.locator("main").inner_text()

        admin = admin_ctx.new_page()
        login(admin, ADMIN, DEMO_PASSWORD)
        admin.goto("/admin/users")
        assert "Senast inloggad" in admin.locator("#users").inner_text()
        assert admin.get_by_label("Roll").input_value() == ""  # no default role
        assert_no_axe_violations(admin)
        admin.get_by_role("link", name="Johan Handläggare").click()
        admin.wait_for_load_state("domcontentloaded")
        assert_no_axe_violations(admin)

        admin.get_by_label("Försörjningsstöd Norra").check()
        admin.get_by_label("Arbetsmarknadsenheten").uncheck()
        admin.get_by_role("button", name="Spara enheter").click()
        admin.wait_for_load_state("domcontentloaded")
        assert "Enheterna är ändrade" in admin.get_by_role("status").inner_text()
        johan.goto("/caseworker/closures/ny")
        text = johan.locator("main").inner_text()
        assert "Försörjningsstöd Norra" in text and "Arbetsmarknadsenheten" not in text

        admin.get_by_role("button", name="Stäng av kontot").click()
        admin.wait_for_load_state("domcontentloaded")
        assert "Kontot är avstängt" in admin.get_by_role("status").inner_text()
        assert_no_axe_violations(admin)
        johan.goto("/caseworker/closures/ny")
        assert johan.url.split("?")[0].endswith("/login")

        admin.get_by_role("button", name="Aktivera kontot igen").click()
        admin.wait_for_load_state("domcontentloaded")
        admin.get_by_role("button", name="Nollställ lösenordet").click()
        admin.wait_for_load_state("domcontentloaded")
        link = admin.get_by_label("Länk för nytt lösenord").input_value()
        assert "/invitation/" in link
        assert_no_axe_violations(admin)
        johan.goto(link)
        johan.get_by_label("Välj lösenord").fill("johans-nya-langa-losenord")
        johan.get_by_label("Upprepa lösenordet").fill("johans-nya-langa-losenord")
        johan.get_by_role("button", name="Spara lösenord och logga in").click()
        johan.wait_for_load_state("domcontentloaded")
        assert "handläggare" in johan.locator("main").inner_text()
    finally:
        admin_ctx.close()
        johan_ctx.close()
