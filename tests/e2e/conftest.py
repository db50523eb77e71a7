"""Fixtures for browser tests: a live server on 127.0.0.1 with demo data and headless Chromium.

How feature tests use it::

    import pytest
    from tests.e2e.support import assert_no_axe_violations, login
    from feedback.demo.accounts import DEMO_PASSWORD

    pytestmark = pytest.mark.e2e

    def test_queue_page(page, live_server):
        login(page, "handlaggare@demo.uppfoljning.se", DEMO_PASSWORD)
        page.goto("/caseworker/queue")          # relative to live_server.base_url
        assert_no_axe_violations(page)

Different settings for one test module: override ``live_server_env`` in that module::

    @pytest.fixture(scope="module")
    def live_server_env(fake_twilio):
        return {"FEEDBACK_SMS_GATEWAY": "twilio", "FEEDBACK_TWILIO_API_BASE_URL": fake_twilio.url}

Servers are shared by every test asking for the same environment. A test that changes state other
tests rely on (e.g. locks an account) asks ``live_server_factory(isolated=True, **env)`` for a
server of its own with a fresh copy of the demo database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import (
    AXE_JS,
    CHROMIUM,
    LiveServer,
    assert_no_axe_violations,
    axe_violations,
    login,
    prepare_demo_database,
    start_live_server,
    watch_csp_violations,
)

__all__ = ["LiveServer", "assert_no_axe_violations", "axe_violations", "login"]

IN_CI = bool(os.environ.get("CI"))
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is an e2e test, even if a module forgets the marker."""
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def _require(path: Path, what: str) -> None:
    if path.exists():
        return
    reason = f"{what} not found at {path}: run `make e2e-deps`"
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def demo_database_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo data, copied for every live server."""
    path = tmp_path_factory.mktemp("e2e-template") / "demo.db"
    prepare_demo_database(path)
    return path


LiveServerFactory = Callable[..., LiveServer]


@pytest.fixture(scope="session")
def live_server_factory(
    demo_database_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServerFactory]:
    """``factory(isolated=False, **env) -> LiveServer``; the same env reuses the running server."""
    shared: dict[tuple[tuple[str, str], ...], LiveServer] = {}
    own: list[LiveServer] = []

    def factory(*, isolated: bool = False, **env: str) -> LiveServer:
        key = tuple(sorted(env.items()))
        if not isolated and key in shared:
            return shared[key]
        server = start_live_server(tmp_path_factory.mktemp("live"), demo_database_template, **env)
        if isolated:
            own.append(server)
        else:
            shared[key] = server
        return server

    yield factory
    for server in [*shared.values(), *own]:
        server.stop()


@pytest.fixture(scope="module")
def live_server_env() -> dict[str, str]:
    """Extra environment for this module's live server; override in a test module."""
    return {}


@pytest.fixture
def live_server(live_server_factory: LiveServerFactory, live_server_env: dict[str, str]) -> LiveServer:
    return live_server_factory(**live_server_env)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright's Python package (no browser download)."""
    _require(CHROMIUM, "Chromium")
    _require(AXE_JS, "axe-core")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    """Per-test context options; override to add e.g. ``extra_http_headers``."""
    return {"locale": "sv-SE", "timezone_id": "Europe/Stockholm"}


@pytest.fixture
def page(browser: Any, live_server: LiveServer, browser_context_args: dict[str, Any]) -> Iterator[Any]:
    """A fresh browser context (no cookies) whose relative URLs go to ``live_server``."""
    context = browser.new_context(base_url=live_server.base_url, **browser_context_args)
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations = watch_csp_violations(page)
    try:
        yield page
    finally:
        context.close()
    # A page that needs inline code the Content-Security-Policy blocks is broken for real users.
    assert not violations, f"Content-Security-Policy violations: {violations}"
