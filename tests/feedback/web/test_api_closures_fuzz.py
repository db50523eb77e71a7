"""Schemathesis over /api/closures signed in as a caseworker, so the handlers (not only the
guards) see the generated bodies and parameters: no request may cause a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.support import LiveServer, prepare_demo_database, start_live_server
from tests.feedback.web.test_schema_fuzz import _schema

CASEWORKER = "handlaggare@demo.uppfoljning.se"
schema = schemathesis.openapi.from_dict(_schema()).include(path_regex="^/api/closures")


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    template = tmp_path_factory.mktemp("api-fuzz-template") / "demo.db"
    prepare_demo_database(template)
    server = start_live_server(
        tmp_path_factory.mktemp("api-fuzz"), template, FEEDBACK_LOGIN_MAX_FAILURES="1000000"
    )
    yield server
    server.stop()


_sessions: dict[str, requests.Session] = {}


def caseworker_session(server: LiveServer) -> requests.Session:
    http = requests.Session()
    http.get(server.url("/login"), timeout=10)
    token = http.cookies["uppf_csrf"]
    response = http.post(
        server.url("/login"),
        data={"email": CASEWORKER, "password": DEMO_PASSWORD, "_csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303, response.text
    http.headers["x-csrftoken"] = token
    return http


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_closures_never_answer_5xx(case: Any, api_server: LiveServer) -> None:
    http = _sessions.get("s") or _sessions.setdefault("s", caseworker_session(api_server))
    response = case.call(base_url=api_server.base_url, session=http, allow_redirects=False, timeout=30)
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"


def test_a_valid_post_through_the_live_server_is_created(api_server: LiveServer) -> None:
    http = caseworker_session(api_server)
    body = {"unit": "fsd", "client_ref": "FUZZ-OK", "closed_on": "2026-01-05", "reason": "studies"}
    response = http.post(api_server.url("/api/closures"), json=body, timeout=10)
    assert response.status_code in (200, 201), response.text
    assert response.json()["closure"]["client_ref"] == "FUZZ-OK"
