"""Security headers on every response: CSP, framing, sniffing, referrer, HSTS and caching.

Why a ``before_send`` hook and not a middleware: Litestar's middleware wraps route handlers
only, so a 404, a 405 or an error raised while routing would go out bare. ``before_send`` sees
every ``http.response.start`` the app sends, whatever produced it.

Why a nonce for styles: the pages carry no inline script or ``style=`` attribute at all; the two
print views (report and review) keep one ``<style>`` block because WeasyPrint renders the same
HTML into the PDF. A per-response nonce lets exactly those blocks through without
``'unsafe-inline'``; anything injected into a page cannot guess it.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from feedback.core.settings import Settings

NONCE_SCOPE_KEY = "csp_nonce"
# Static files are public and versioned with the app: the browser may cache them.
CACHEABLE_PREFIXES = ("/static/",)
HSTS_VALUE = "max-age=63072000; includeSubDomains"


def csp_nonce(request: Any) -> str:
    """The nonce of this response (made on first use); templates put it on their ``<style>``.

    Without a request (the PDF rendered by a job or a benchmark, never sent to a browser) there is
    no policy to match: an empty nonce.
    """
    if request is None:
        return ""
    scope = request.scope
    nonce = scope.get(NONCE_SCOPE_KEY)
    if not nonce:
        nonce = secrets.token_urlsafe(18)
        scope[NONCE_SCOPE_KEY] = nonce
    return str(nonce)


def content_security_policy(nonce: str | None, form_targets: str = "") -> str:
    """Same-origin only, no inline code, never framed (clickjacking of one-click actions)."""
    styles = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {styles}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            # a form may also lead to the municipality's identity provider: logout answers with a
            # redirect to its end-session page, and browsers check form-action on redirects too
            "form-action 'self'" + (f" {form_targets}" if form_targets else ""),
            "frame-ancestors 'none'",
        ]
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def security_headers(settings: Settings) -> Any:
    """A ``before_send`` hook that adds the headers to every HTTP response of the app."""
    production = settings.environment == "production"
    sso_origin = _origin(settings.oidc_issuer) if settings.oidc_issuer else ""

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders(message)
        nonce = scope.get(NONCE_SCOPE_KEY)
        headers["Content-Security-Policy"] = content_security_policy(
            str(nonce) if nonce else None, sso_origin
        )
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        if "referrer-policy" not in headers:  # invitation and admin pages ask for no-referrer
            headers["Referrer-Policy"] = "same-origin"
        if production:
            headers["Strict-Transport-Security"] = HSTS_VALUE
        if not scope.get("path", "").startswith(CACHEABLE_PREFIXES):
            # Pages, exports and API answers may carry personal data: never kept by a browser
            # or proxy cache (the back button must not show a logged-out user's page either).
            headers["Cache-Control"] = "no-store"

    return add_headers
