"""Schemathesis over the OpenAPI document: no generated request may cause a 5xx.

The schema is read from the app object (no server needed at import); the requests go to a real
``feedback serve`` process on 127.0.0.1, signed in as the demo admin so guarded routes run their
handler code instead of stopping at the guard. Bounded: ``MAX_EXAMPLES`` per operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from feedback.core.settings import Settings
from feedback.demo.accounts import DEMO_PASSWORD
from feedback.web.app import create_app
from tests.e2e.support import LiveServer, prepare_demo_database, start_live_server

MAX_EXAMPLES = 20
ADMIN = "admin@demo.uppfoljning.se"


def _schema() -> dict[str, Any]:
    app = create_app(Settings(environment="test", database_url="sqlite+aiosqlite:///./unused-schema.db"))
    return app.openapi_schema.to_schema()


# POST /logout would end the fuzzer's own session; logout is covered by tests/feedback/auth.
schema = schemathesis.openapi.from_dict(_schema()).exclude(method="POST", path="/logout")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    template = tmp_path_factory.mktemp("fuzz-template") / "demo.db"
    prepare_demo_database(template)
    # Random logins must not lock the fuzzer out (throttling itself is tested elsewhere).
    server = start_live_server(
        tmp_path_factory.mktemp("fuzz"), template, FEEDBACK_LOGIN_MAX_FAILURES="1000000"
    )
    yield server
    server.stop()


def admin_session(server: LiveServer) -> requests.Session:
    http = requests.Session()
    http.get(server.url("/login"), timeout=10)
    token = http.cookies["uppf_csrf"]
    response = http.post(
        server.url("/login"),
        data={"email": ADMIN, "password": DEMO_PASSWORD, "_csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303, response.text
    http.headers["x-csrftoken"] = token
    return http


_sessions: dict[str, requests.Session] = {}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_error(case: Any, fuzz_server: LiveServer) -> None:
    http = _sessions.get(case.operation.label)
    if http is None:
        http = _sessions[case.operation.label] = admin_session(fuzz_server)
    response = case.call(base_url=fuzz_server.base_url, session=http, allow_redirects=False, timeout=30)
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"
