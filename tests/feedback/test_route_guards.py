"""Every route is either explicitly public or carries a guard (role and/or unit scope)."""

from __future__ import annotations

from pathlib import Path

from litestar.routes import HTTPRoute

from feedback.app import create_app
from tests.conftest import make_settings

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
