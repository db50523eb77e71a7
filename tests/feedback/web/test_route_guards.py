"""Every route is either explicitly public or carries a guard (role and/or unit scope)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from feedback.web.app import create_app
from feedback.web.errors import MACHINE_PREFIXES
from tests.conftest import make_settings
from tests.helpers import csrf_token

# Public by design: login, health, OpenAPI document, static assets, webhooks (signature-verified).
PUBLIC_PREFIXES = ("/schema", "/static")


def test_every_non_public_route_is_guarded(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path))
    unguarded = []
    public = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.http_methods == {"OPTIONS"}:
                continue  # Litestar's automatic CORS preflight answer; runs no handler code
            if route.path.startswith(PUBLIC_PREFIXES) or handler.opt.get("public"):
                public.append(route.path)
                continue
            if not handler.resolve_guards():
                unguarded.append(f"{sorted(handler.http_methods)} {route.path}")
    assert not unguarded, f"routes without a guard: {unguarded}"
    assert "/login" in public and "/health" in public
    # Nothing that shows personal data may be public.
    assert not [p for p in public if p.startswith(("/api", "/caseworker", "/reports", "/admin", "/panel"))]


# Guarded by client address instead of a login (tested in test_system.py).
LOOPBACK_ONLY = ("/metrics",)


def _concrete(path: str) -> str:
    """Fill path parameters with well-formed values so the request reaches the auth layer."""
    values = {"uuid": str(uuid.uuid4()), "int": "1", "str": "x", "path": "x"}
    return re.sub(r"\{[^}:]+:(\w+)\}", lambda m: values.get(m.group(1), "x"), path)


async def test_every_guarded_route_refuses_anonymous_visitors(client: AsyncTestClient) -> None:
    """Behaviour, not just declarations: anonymous → /login for pages, 401 for machine paths."""
    token = await csrf_token(client)
    client.cookies.delete("uppf_session")
    checked = []
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith((*PUBLIC_PREFIXES, *LOOPBACK_ONLY)):
            continue
        for handler in route.route_handlers:
            if handler.opt.get("public") or handler.http_methods == {"OPTIONS"}:
                continue
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                path = _concrete(route.path)
                headers = {} if method == "GET" else {"x-csrftoken": token}
                response = await client.request(method, path, headers=headers, follow_redirects=False)
                if path.startswith(MACHINE_PREFIXES):
                    ok = response.status_code in (401, 403)
                else:
                    ok = response.status_code == 303 and response.headers["location"].startswith("/login")
                assert ok, f"anonymous {method} {path} → {response.status_code}"
                checked.append(f"{method} {path}")
    assert any(c.startswith("GET /admin/users") for c in checked) and "GET /" in checked
