"""Mapping errors to HTTP: Swedish HTML pages for browsers, ProblemDetails for APIs.

Why one mapping: bad input must always give a clear 4xx with a message and never a 500, whichever
layer notices it. Services raise ``feedback.core.errors.DomainError``; only this module knows HTTP.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy import exc as sa_exc

from feedback.core.dblock import DatabaseBusyError, committed, is_lock_error
from feedback.core.errors import DomainError
from feedback.web.db_session import request_session

log = logging.getLogger(__name__)


GENERIC_MESSAGES_SV = {
    400: "Uppgifterna kunde inte tas emot. Kontrollera och försök igen.",
    401: "Du behöver logga in.",
    403: "Du har inte behörighet till det här.",
    404: "Sidan eller uppgiften finns inte.",
    405: "Den här åtgärden stöds inte här.",
    409: "Uppgiften har redan ändrats eller finns redan.",
    410: "Det här finns inte längre.",
    413: "Det du skickade är för stort.",
    415: "Fel format på det du skickade.",
    429: "För många försök. Vänta en stund och försök igen.",
    500: "Något gick fel hos oss. Försök igen senare.",
    503: "Tjänsten är inte tillgänglig just nu.",
}
TITLES_SV = {
    400: "Felaktiga uppgifter",
    401: "Inloggning krävs",
    403: "Ingen behörighet",
    404: "Hittades inte",
    405: "Åtgärden stöds inte",
    409: "Konflikt",
    410: "Gäller inte längre",
    413: "För stort",
    415: "Fel format",
    429: "För många försök",
    500: "Tekniskt fel",
    503: "Inte tillgänglig",
}

# SQLite stayed locked past the retry budget (feedback.core.dblock): say plainly whether the
# user's input was kept, so they neither lose work nor send it twice.
BUSY_MESSAGES_SV = {
    "read": "Systemet är upptaget just nu och sidan kunde inte visas. Vänta en stund och ladda om sidan.",
    "not_saved": (
        "Systemet är upptaget just nu. Ingenting av det du skickade har sparats. "
        "Vänta en stund och försök igen."
    ),
    "saved": (
        "Systemet är upptaget just nu. Det du skickade har sparats, men sidan kunde inte visas "
        "färdigt. Kontrollera resultatet innan du skickar något igen."
    ),
}
# Litestar's own English refusals, said in Swedish (no English key may reach a Swedish page).
CSRF_FAILED_SV = (
    "Formuläret kunde inte tas emot: sidan har varit öppen för länge eller skickades från en annan "
    "flik. Ladda om sidan och försök igen."
)
LITESTAR_DETAILS_SV = {"CSRF token verification failed": CSRF_FAILED_SV}
# The connection pool had no free connection within the pool timeout (a burst of requests):
# nothing of this request was saved, and waiting a moment helps.
POOL_BUSY_MESSAGE_SV = (
    "Många använder tjänsten just nu. Ingenting har sparats. Vänta en stund och försök igen."
)

MACHINE_PREFIXES = ("/api", "/webhooks", "/health", "/metrics", "/schema")


def wants_problem_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return path.startswith(MACHINE_PREFIXES) or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )


def _problem(status: int, detail: str, extra: dict[str, Any] | None = None) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": "about:blank", "title": TITLES_SV.get(status, "Fel"), "status": status}
    body["detail"] = detail
    if extra:
        body.update(extra)
    return Response(body, status_code=status, media_type="application/problem+json")


def _page(request: Request[Any, Any, Any], status: int, detail: str) -> Response[Any]:
    return Template(
        template_name="errors/error.html",
        context={
            "status": status,
            "title": TITLES_SV.get(status, "Fel"),
            "detail": detail,
            "request": request,
        },
        status_code=status,
        media_type=MediaType.HTML,
    )


def _validation_messages(exc: ValidationException) -> list[dict[str, Any]]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    return [
        {"key": e.get("key"), "message": e.get("message"), "source": e.get("source")}
        for e in extra
        if isinstance(e, dict)
    ]


def busy_message(request: Request[Any, Any, Any], exc: Exception) -> str:
    """Which busy message is true: a read, a write that was rolled back, or one already committed."""
    if isinstance(exc, DatabaseBusyError):
        saved = exc.saved
    else:
        saved = committed(request_session(request.scope))
    if saved:
        return BUSY_MESSAGES_SV["saved"]
    if request.method in {"GET", "HEAD"}:
        return BUSY_MESSAGES_SV["read"]
    return BUSY_MESSAGES_SV["not_saved"]


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The single exception handler registered on the app."""
    extra: dict[str, Any] | None
    if isinstance(exc, DomainError):
        status, detail = exc.status_code, exc.message
        extra = {"field": exc.field} if exc.field else None
    elif isinstance(exc, NotAuthorizedException):
        if not wants_problem_json(request):
            return Redirect(path=f"/login?next={request.url.path}", status_code=303)
        status, detail, extra = 401, GENERIC_MESSAGES_SV[401], None
    elif isinstance(exc, ValidationException):
        status = 400
        errors = _validation_messages(exc)
        detail = GENERIC_MESSAGES_SV[400]
        extra = {"errors": errors} if errors else None
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        detail = GENERIC_MESSAGES_SV.get(status) or (exc.detail if status < 500 else GENERIC_MESSAGES_SV[500])
        extra = None
        if status == 403 and exc.detail and exc.detail != "Forbidden":
            detail = LITESTAR_DETAILS_SV.get(exc.detail, exc.detail)
    elif isinstance(exc, DatabaseBusyError) or is_lock_error(exc):
        status, detail, extra = 503, busy_message(request, exc), None
        log.warning("database busy on %s %s: answered 503", request.method, request.url.path)
    elif isinstance(exc, sa_exc.TimeoutError):
        saved = committed(request_session(request.scope))
        status, extra = 503, None
        detail = BUSY_MESSAGES_SV["saved"] if saved else POOL_BUSY_MESSAGE_SV
        log.warning("no free database connection for %s %s: answered 503", request.method, request.url.path)
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        status, detail, extra = HTTP_500_INTERNAL_SERVER_ERROR, GENERIC_MESSAGES_SV[500], None
    response = (
        _problem(status, detail, extra) if wants_problem_json(request) else _page(request, status, detail)
    )
    if isinstance(exc, HTTPException) and exc.headers:
        # e.g. 405's Allow (RFC 9110) or 429's Retry-After: the status code's own headers stay
        response.headers.update(exc.headers)
    return response
