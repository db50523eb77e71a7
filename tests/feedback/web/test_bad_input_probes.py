"""Bad input over the whole route table never gives a 5xx.

Every POST route (and every GET route for the path probes) gets, as each signed-in role with a
valid CSRF token so the handler code really runs: malformed JSON, JSON nested 1,500 deep,
invalid UTF-8 inside a JSON string, a lone surrogate, a body over the size limit, a form with
invalid UTF-8 and NUL bytes, and a CSV upload that is not UTF-8. Paths get NUL bytes and
overlong segments. The answer may be any 4xx (or a redirect), never 500 or another 5xx.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.settings import Settings
from feedback.web.app import create_app
from tests.helpers import csrf_token, login, make_unit, make_user

DEEP = b"[" * 1500 + b"]" * 1500
JSON_BODIES = {
    "malformed": b'{"unit": ',
    "deep": DEEP,
    "deep-object": b'{"a":' * 1200 + b"1" + b"}" * 1200,
    "invalid-utf8": b'{"client_ref": "\xff\xfe\xc3", "unit": "x"}',
    "lone-surrogate": b'{"client_ref": "\\ud800", "unit": "\\udfff"}',
    "nul": b'{"client_ref": "a\\u0000b", "unit": "\x00"}',
    "not-an-object": b"12345678901234567890123456789012345678901234567890",
}
FORM_BODIES = {
    "invalid-utf8": b"email=%ff%fe&password=\xff\xfe&next=/%00",
    "nul": b"email=a%00b&password=%00&client_ref=%00&text=%00",
    "broken-escape": b"a=%zz&b=%&c=%%%",
}


def _concrete(path: str) -> str:
    values = {"uuid": str(uuid.uuid4()), "int": "1", "str": "x", "path": "app.css"}
    return re.sub(r"\{[^}:]+:(\w+)\}", lambda m: values.get(m.group(1), "x"), path)


def _reachable(handler: Any, role: Role | None) -> bool:
    """Whether ``role`` (None: anonymous) gets past the handler's guards into its code."""
    if handler.opt.get("public"):
        return True
    if role is None:
        return False
    roles = [getattr(guard, "roles", None) for guard in handler.resolve_guards()]
    return all(allowed is None or role in allowed for allowed in roles)


def _routes(client: AsyncTestClient[Any], method: str, role: Role | None) -> list[str]:
    found = []
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        if any(method in h.http_methods and _reachable(h, role) for h in route.route_handlers):
            found.append(_concrete(route.path))
    return found


async def _probe(client: AsyncTestClient[Any], token: str, limit: int, role: Role | None) -> list[str]:
    failures = []
    csv_body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\nclient_ref;closed_on\r\n\xff\xfe\x00;2026-13-45\r\n--B--\r\n"
    )
    probes: list[tuple[str, bytes]] = [(f"json:{k}", v) for k, v in JSON_BODIES.items()]
    probes += [(f"form:{k}", v) for k, v in FORM_BODIES.items()]
    probes += [("csv", csv_body), ("huge", b"a=" + b"x" * (limit + 10))]
    content_types = {"json": "application/json", "form": "application/x-www-form-urlencoded"}
    for path in _routes(client, "POST", role):
        for name, body in probes:
            kind = name.split(":")[0]
            content_type = content_types.get(kind, "multipart/form-data; boundary=B")
            if name == "huge":
                content_type = "application/x-www-form-urlencoded"
            headers = {"content-type": content_type, "x-csrftoken": token}
            response = await client.post(path, content=body, headers=headers, follow_redirects=False)
            if response.status_code >= 500:
                failures.append(f"POST {path} {name} → {response.status_code}")
    paths = _routes(client, "GET", role)
    if role is None:
        paths += ["/static/app.css%00.py", "/caseworker/closures/%00", "/%00", "/static/" + "x" * 5000]
    for path in paths:
        for suffix in ("%00", "?q=%00&next=%ff&fran=%00"):
            response = await client.get(path + suffix, follow_redirects=False)
            if response.status_code >= 500:
                failures.append(f"GET {path}{suffix} → {response.status_code}")
    return failures


@pytest.mark.timeout(900)  # a few thousand requests; generous for a loaded machine
async def test_bad_input_never_gives_a_server_error(settings: Settings, db_session: AsyncSession) -> None:
    # The probes' wrong logins must not lock the probing client out (throttling is tested elsewhere).
    app = create_app(settings.with_overrides(login_max_failures=1_000_000))
    unit = await make_unit(db_session)
    limit = settings.max_request_body_bytes
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        failures = await _probe(client, await csrf_token(client), limit, None)
        for role in (Role.CASEWORKER, Role.MANAGER, Role.ADMIN, Role.PANEL_MEMBER):
            await login(client, await make_user(db_session, role, [unit]))
            failures += await _probe(client, await csrf_token(client), limit, role)
            client.cookies.delete("uppf_session")
    assert not failures, "\n".join(failures)
