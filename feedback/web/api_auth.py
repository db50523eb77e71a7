"""Who calls ``/api/...``: a browser session (with its CSRF header) or a bearer API key.

Why one middleware for both: Litestar's session authentication refuses a request without a
session before any handler runs, and its CSRF middleware is path-based, so a case system with
only a key could not call the API at all. This subclass of the session middleware decides per
request:

* ``/api/...`` with an ``Authorization`` header → the key alone authenticates (a service
  account, ``feedback.auth.api_tokens``). No session, no CSRF: a key is not sent by a browser
  on its own, so there is no cross-site request to forge. A read-only key may only read.
* ``/api/...`` without it → the browser session as before, and for a write the CSRF header
  ``x-csrftoken`` must match the CSRF cookie (the app-wide CSRF middleware skips ``/api/`` so
  that it does not refuse key calls; this is the same check, made here instead).
* everything else → the session, unchanged. A key never opens an HTML page.

Rate limit: Litestar's ``RateLimitMiddleware`` keyed by the key's hash (never the key itself),
counted only for key calls; ``FEEDBACK_API_RATE_LIMIT`` calls per ``FEEDBACK_API_RATE_WINDOW``.
"""

from __future__ import annotations

import hashlib
from hmac import compare_digest
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.authentication import AuthenticationResult
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.security.session_auth.middleware import SessionAuthMiddleware
from litestar.types import Empty

from feedback.auth.api_tokens import INVALID_KEY_SV, READ_ONLY_SV, TokenRefused, authenticate_key
from feedback.auth.models import TokenScope
from feedback.core.errors import Forbidden, Unauthenticated
from feedback.core.settings import Settings
from feedback.web.errors import CSRF_FAILED_SV

API_PREFIX = "/api/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEARER_SCHEME = "BearerToken"


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/")


def bearer_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The key of an ``Authorization: Bearer …`` header ('' for any other Authorization)."""
    header = connection.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


class ApiKeyOrSessionAuthMiddleware(SessionAuthMiddleware):
    """Session authentication that also accepts a bearer API key on ``/api/...``."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        path = connection.scope["path"]
        if is_api(path):
            key = bearer_key(connection)
            if key is not None:
                return await self._authenticate_key(connection, key)
        result = await super().authenticate_request(connection)
        if is_api(path) and _method(connection) not in SAFE_METHODS:
            _check_csrf(connection)
        return result

    async def _authenticate_key(
        self, connection: ASGIConnection[Any, Any, Any, Any], key: str
    ) -> AuthenticationResult:
        # A key call opens no session: without a session cookie, Empty keeps the session
        # middleware from storing a new one. A browser's own session (a cookie sent along) is
        # left as it is; it is not used for this call.
        if not connection.cookies.get(self._session_cookie(connection)):
            connection.scope["session"] = Empty
        app = connection.app
        async with app.state.sessionmaker() as db:
            try:
                principal = await authenticate_key(db, key, now=app.state.clock.now())
            except TokenRefused:
                raise Unauthenticated(INVALID_KEY_SV) from None
            await db.commit()  # the last-use time
        if principal.scope is TokenScope.READ and _method(connection) not in SAFE_METHODS:
            raise Forbidden(READ_ONLY_SV)
        return AuthenticationResult(user=principal.user, auth=principal)

    @staticmethod
    def _session_cookie(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        return str(connection.app.state.session_cookie)


def _method(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return str(connection.scope.get("method", "GET"))


def _check_csrf(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Litestar's double-submit check: the header token and the cookie token carry one secret."""
    from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash

    config = connection.app.csrf_config
    if config is None:
        raise Forbidden(CSRF_FAILED_SV)
    header = connection.headers.get(config.header_name) or ""
    cookie = connection.cookies.get(config.cookie_name) or ""
    secret = config.secret

    def decode(token: str) -> str | None:
        token_secret, existing = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        expected = generate_csrf_hash(token=token_secret, secret=secret)
        return token_secret if existing and compare_digest(existing, expected) else None

    from_header, from_cookie = decode(header), decode(cookie)
    if from_header is None or from_cookie is None or not compare_digest(from_header, from_cookie):
        raise Forbidden(CSRF_FAILED_SV)


def _key_identifier(request: Request[Any, Any, Any]) -> str:
    key = bearer_key(request) or ""
    return hashlib.sha256(key.encode()).hexdigest()


async def _is_key_call(request: Request[Any, Any, Any]) -> bool:
    return is_api(request.url.path) and bearer_key(request) is not None


def rate_limit_config(settings: Settings) -> RateLimitConfig:
    """Per key, only for key calls (a person's session is not limited here)."""
    return RateLimitConfig(
        rate_limit=(settings.api_rate_window, settings.api_rate_limit),  # type: ignore[arg-type]
        identifier_for_request=_key_identifier,
        check_throttle_handler=_is_key_call,
        store="api_rate_limit",
    )


def bearer_components() -> Components:
    """The OpenAPI security scheme for API keys (``Authorization: Bearer uppf_…``)."""
    return Components(
        security_schemes={
            BEARER_SCHEME: SecurityScheme(
                type="http",
                scheme="bearer",
                description="API-nyckel för ett tjänstekonto (skapas av administratören eller med "
                "`feedback tokens create`). Gäller bara /api/ och bara för nyckelns enheter.",
            )
        }
    )


API_SECURITY: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]
