"""Every response carries the security headers, and no page needs inline code to work.

Walks the app's route table (every GET route, path parameters filled in) as an anonymous visitor
and as each role, so a new page cannot forget the headers; the PDF export and a 404 are checked
by name. HTML bodies are checked for the inline code the CSP would block: a ``<script>`` without
``src``, a ``style=`` attribute, an inline event handler, or a ``<style>`` without this
response's nonce.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.web.app import create_app
from feedback.web.security_headers import content_security_policy
from tests.conftest import make_settings
from tests.helpers import login, make_unit, make_user

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_BLOCK = re.compile(r"<style([^>]*)>", re.IGNORECASE)


def _concrete(path: str) -> str:
    values = {"uuid": str(uuid.uuid4()), "int": "1", "str": "x", "path": "app.css"}
    return re.sub(r"\{[^}:]+:(\w+)\}", lambda m: values.get(m.group(1), "x"), path)


def get_paths(app: Litestar) -> Iterator[str]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        if any("GET" in handler.http_methods for handler in route.route_handlers):
            yield _concrete(route.path)


def assert_secure(response: httpx.Response, *, production: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, where
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    assert "default-src 'self'" in csp and "script-src 'self'" in csp, where
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") in {"same-origin", "no-referrer"}, where
    assert "server" not in headers, where
    if production:
        assert headers.get("strict-transport-security", "").startswith("max-age="), where
    else:
        assert "strict-transport-security" not in headers, where
    if not response.request.url.path.startswith("/static/"):
        assert headers.get("cache-control") == "no-store", where
    if "text/html" in headers.get("content-type", ""):
        assert_no_inline_code(response.text, csp, where)


def assert_no_inline_code(html: str, csp: str, where: str) -> None:
    assert not INLINE_SCRIPT.search(html), f"inline <script> on {where}"
    assert not STYLE_ATTRIBUTE.search(html), f"style= attribute on {where}"
    assert not EVENT_HANDLER.search(html), f"inline event handler on {where}"
    for attributes in STYLE_BLOCK.findall(html):
        nonce = re.search(r'nonce="([^"]+)"', attributes)
        assert nonce and f"'nonce-{nonce.group(1)}'" in csp, (
            f"<style> without this response's nonce on {where}"
        )


async def walk(client: AsyncTestClient[Any], *, production: bool = False) -> list[int]:
    statuses = []
    for path in get_paths(client.app):
        response = await client.get(path, follow_redirects=False)
        assert_secure(response, production=production)
        statuses.append(response.status_code)
    missing = await client.get(f"/no-such-page-{uuid.uuid4().hex}")
    assert missing.status_code == 404
    assert_secure(missing, production=production)
    return statuses


async def test_every_route_answers_with_the_headers_for_each_role(
    client: AsyncTestClient[Any], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    statuses = await walk(client)  # anonymous: login page, redirects, 401s, static, health
    assert 200 in statuses
    for role in (Role.CASEWORKER, Role.MANAGER, Role.ADMIN):
        user = await make_user(db_session, role, [unit])
        await login(client, user)
        statuses = await walk(client)
        assert statuses.count(200) >= 3, (role, statuses)
        await client.post("/logout", headers={"x-csrftoken": client.cookies.get("uppf_csrf", "")})
        client.cookies.clear()


async def test_pdf_export_and_print_view_carry_the_headers(
    client: AsyncTestClient[Any], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    await login(client, await make_user(db_session, Role.MANAGER, [unit]))
    pdf = await client.get("/reports/rapport.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert_secure(pdf)
    printed = await client.get("/reports/print")
    assert printed.status_code == 200
    assert_secure(printed)
    assert "<style nonce=" in printed.text  # the print view's one style block is let through by nonce


@pytest.mark.parametrize("environment", ["production", "test"])
async def test_hsts_only_in_production(sqlite_url: str, tmp_path: Path, environment: str) -> None:
    settings = make_settings(sqlite_url, tmp_path, environment=environment)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        response = await client.get("/login")
        assert_secure(response, production=environment == "production")


def test_the_policy_has_no_nonce_unless_a_page_asked_for_one() -> None:
    assert "nonce" not in content_security_policy(None)
    assert "style-src 'self' 'nonce-abc'" in content_security_policy("abc")
