"""The published ``/api`` description is true: schemathesis with every check, 0 failures.

The document is the one integrators get (``public_api_schema``); requests go to a real
``feedback serve`` process. Credentials (the caseworker for closures, the manager for reports)
are given to schemathesis as the documented security schemes, so its auth checks can also send
requests without them and expect the documented 401.
"""

from __future__ import annotations

from typing import Any

from feedback.core.settings import Settings
from feedback.web.api_docs import public_api_schema
from feedback.web.app import create_app


def _schema() -> dict[str, Any]:
    app = create_app(Settings(environment="test", database_url="sqlite+aiosqlite:///./unused-schema.db"))
    return public_api_schema(app.openapi_schema.to_schema())


def test_the_published_document_lists_only_the_api() -> None:
    document = _schema()
    assert document["paths"] and all(path.startswith("/api/") for path in document["paths"])
    for operations in document["paths"].values():
        for operation in operations.values():
            assert {"400", "401", "403", "503"} <= set(operation["responses"])
            assert operation["responses"]["401"]["content"].keys() == {"application/problem+json"}
    # a case system's API key (issue 18) or a signed-in person's session (+ CSRF header on writes)
    assert set(document["components"]["securitySchemes"]) == {"BearerToken", "sessionCookie", "csrfHeader"}
    for operations in document["paths"].values():
        for operation in operations.values():
            assert {"BearerToken": []} in operation["security"]
            assert any("sessionCookie" in option for option in operation["security"])


# ---------------------------------------------------------------- schemathesis, all checks
import asyncio  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import requests  # noqa: E402
import schemathesis  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from feedback.auth.models import Role  # noqa: E402
from feedback.core.db import create_engine, session_factory  # noqa: E402
from tests.e2e.support import BASE_ENV, ROOT, LiveServer, start_live_server  # noqa: E402
from tests.helpers import PASSWORD, make_unit, make_user  # noqa: E402

MAX_EXAMPLES = 15
CASEWORKER, MANAGER = "api.handlaggare@test.example", "api.chef@test.example"
ROLE_FOR = {"/api/closures": CASEWORKER, "/api/reports": MANAGER}
schema = schemathesis.openapi.from_dict(_schema())


def _prepare(path: Path) -> None:
    url = f"sqlite+aiosqlite:///{path}"
    env = {**os.environ, **BASE_ENV, "FEEDBACK_DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "feedback", "migrate"], cwd=ROOT, env=env, check=True, timeout=600)

    async def seed() -> None:
        engine = create_engine(url)
        async with session_factory(engine)() as session:
            unit = await make_unit(session, code="fsd", name="Försörjningsstöd")
            await make_user(session, Role.CASEWORKER, [unit], email=CASEWORKER)
            await make_user(session, Role.MANAGER, [unit], email=MANAGER)
        await engine.dispose()

    asyncio.run(seed())


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    template = tmp_path_factory.mktemp("api-template") / "api.db"
    _prepare(template)
    server = start_live_server(
        tmp_path_factory.mktemp("api"), template, FEEDBACK_LOGIN_MAX_FAILURES="1000000"
    )
    yield server
    server.stop()


def signed_in(server: LiveServer, email: str) -> dict[str, str]:
    """Sign in through the real form; the session and CSRF cookie values."""
    http = requests.Session()
    http.get(server.url("/login"), timeout=10)
    token = http.cookies["uppf_csrf"]
    response = http.post(
        server.url("/login"),
        data={"email": email, "password": PASSWORD, "_csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303, response.text
    return {"session": http.cookies["uppf_session"], "csrf": token}


_servers: list[LiveServer] = []
_credentials: dict[str, dict[str, str]] = {}


@schema.auth(refresh_interval=None)
class SignedIn:
    """Real credentials for the role each API is for, given to schemathesis as the documented
    security schemes, so its auth checks can also send requests without them."""

    def get(self, case: Any, context: Any) -> dict[str, str]:
        email = next(e for prefix, e in ROLE_FOR.items() if case.path.startswith(prefix))
        if not _servers:  # schemathesis asks once while collecting, before any server runs
            return {"session": "none", "csrf": "none"}
        if email not in _credentials:
            _credentials[email] = signed_in(_servers[-1], email)
        return _credentials[email]

    def set(self, case: Any, data: dict[str, str], context: Any) -> None:
        case.cookies = {**(case.cookies or {}), "uppf_session": data["session"], "uppf_csrf": data["csrf"]}
        case.headers = {**(case.headers or {}), "x-csrftoken": data["csrf"]}


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
def test_api_conforms_to_its_description(case: Any, api_server: LiveServer) -> None:
    if not _servers or _servers[-1] is not api_server:
        _servers.append(api_server)
        _credentials.clear()
    case.call_and_validate(base_url=api_server.base_url, allow_redirects=False, timeout=30)
