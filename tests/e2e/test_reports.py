"""Theme report in real Chromium: filters, chart and table agree, exports linked, axe-core clean."""

from __future__ import annotations

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.support import LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e

MANAGER = "chef@demo.uppfoljning.se"
CASEWORKER = "handlaggare@demo.uppfoljning.se"


def test_manager_report_filters_chart_table_and_axe(page, live_server: LiveServer) -> None:
    login(page, MANAGER, DEMO_PASSWORD)
    page.goto(f"{live_server.base_url}/reports/")
    assert page.get_by_role("heading", level=1).inner_text() == "Temarapport"
    assert page.locator("svg#trend[role=img]").count() == 1
    assert not page.locator("#trend-table").is_visible(), "details start collapsed below the overview"
    page.get_by_role("heading", name="Utveckling över tid").click()  # opens its <details>
    assert page.locator("#trend-table").is_visible()
    # every point drawn in the chart has the same number in the table alternative
    points = page.locator("svg#trend g.series g.point").all()
    assert points, "the demo data should draw at least one point"
    for point in points:
        theme = point.locator("xpath=ancestor::*[@data-theme][1]").get_attribute("data-theme")
        period = point.get_attribute("data-period")
        cell = page.locator(f'#trend-table tr[data-theme="{theme}"] td[data-period="{period}"]')
        assert cell.inner_text().split()[0] == point.get_attribute("data-value")
    assert_no_axe_violations(page)
    page.get_by_label("Kanal").select_option("panel")
    page.get_by_label("Trend per").select_option("quarter")
    page.get_by_role("button", name="Visa rapporten").click()
    page.wait_for_load_state()
    assert "kanal=panel" in page.url and "period=quarter" in page.url
    assert page.get_by_label("Kanal").input_value() == "panel"
    page.get_by_role("heading", name="Utveckling över tid").click()
    assert "kv" in page.locator("#trend-table thead").inner_text()
    assert_no_axe_violations(page)
    page.goto(f"{live_server.base_url}/reports/arenden")
    assert page.get_by_role("heading", level=1).is_visible()
    assert_no_axe_violations(page)


def test_caseworker_gets_no_report(page, live_server: LiveServer) -> None:
    login(page, CASEWORKER, DEMO_PASSWORD)
    response = page.goto(f"{live_server.base_url}/reports/")
    assert response is not None and response.status == 403
