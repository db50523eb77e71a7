"""The API documentation page renders from the app's own files, with the network cut off.

Every request that does not go to the live server is aborted (as on a municipal network without
internet access); the page must still show the /api operations, and Chromium must report no
Content-Security-Policy violation (the ``page`` fixture fails the test on one).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.e2e.support import LiveServer


def test_schema_page_renders_offline_and_lists_only_the_api(page: Any, live_server: LiveServer) -> None:
    local = urlsplit(live_server.base_url).netloc
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).netloc == local:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto("/schema")
    page.locator(".opblock").first.wait_for(timeout=30_000)
    text = page.locator("#swagger-ui").inner_text()
    assert "/api/closures" in text and "/api/reports/themes" in text
    assert "/login" not in text and "/dev/" not in text and "/caseworker" not in text
    assert not blocked, f"the documentation page asked the internet for {blocked}"
