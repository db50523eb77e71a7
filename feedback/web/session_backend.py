"""Server-side sessions that get a fresh id when someone signs in (no session fixation).

Litestar's server-side backend keeps whatever session id the browser presents. If an attacker
planted a known id in a victim's browser before login, that id would become an authenticated
session. ``rotate_session(request)`` marks the response so the session is stored under a newly
generated id and the old id's data is deleted.

Three more things Litestar's defaults do that we do not want:

- An anonymous visit (no session data, no session cookie) would be stored as an empty session
  row: every request of a crawler or an attacker a database write. Nothing is stored for it (an
  emptied session deletes its row and cookie, as after logging out).
- The session is written while the response starts. If that write fails, the exception escapes
  after the status line was decided and the browser got a bare "Internal Server Error". The
  middleware below answers with a Swedish 503 instead (problem+json for machine paths).
- A 5xx answer leaves the store alone: when the pool or the database is the reason for the 5xx,
  storing would fail too, and the browser would get a broken connection instead of the Swedish
  error page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession

log = logging.getLogger(__name__)

_ROTATE = "uppf_rotate_session"
_NEW_ID = "uppf_new_session_id"


def rotate_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Store this request's session under a new id (call on login and password change)."""
    connection.scope[_ROTATE] = True  # type: ignore[literal-required]


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        scope: dict[str, Any] = connection.scope  # type: ignore[assignment]
        if not scope.get(_ROTATE):
            return super().get_session_id(connection)
        if _NEW_ID not in scope:
            scope[_NEW_ID] = self.generate_session_id()
        return str(scope[_NEW_ID])

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        if message["type"] == "http.response.start" and message["status"] >= 500:
            return
        old_id = connection.cookies.get(self.config.key)
        if scope_session is Empty or not scope_session:
            if not old_id or old_id == "null":
                return  # anonymous and nothing to keep: no row, no delete, no cookie
            scope_session = Empty  # an emptied session: delete its row and the cookie
        if connection.scope.get(_ROTATE) and old_id and old_id != "null":
            await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


STORE_FAILED_SV = (
    "Inloggningen kunde inte sparas just nu. Det du gjorde kan ändå ha sparats: kontrollera "
    "resultatet innan du försöker igen. Vänta en stund och ladda om sidan."
)
STORE_FAILED_PAGE = f"""<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Inte tillgänglig – Uppföljning</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><main id="main" class="wrap"><h1>Inte tillgänglig</h1><p>{STORE_FAILED_SV}</p>
<p><a href="/">Till startsidan</a></p></main></body></html>
""".encode()
MACHINE_PREFIXES = ("/api", "/webhooks", "/health", "/metrics", "/schema")


def _store_failed_messages(path: str) -> tuple[Message, Message]:
    if path.startswith(MACHINE_PREFIXES):
        body = json.dumps(
            {"type": "about:blank", "title": "Inte tillgänglig", "status": 503, "detail": STORE_FAILED_SV},
            ensure_ascii=False,
        ).encode()
        media_type = b"application/problem+json"
    else:
        body, media_type = STORE_FAILED_PAGE, b"text/html; charset=utf-8"
    start: Message = {
        "type": "http.response.start",
        "status": 503,
        "headers": [
            (b"content-type", media_type),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", b"5"),
        ],
    }
    end: Message = {"type": "http.response.body", "body": body, "more_body": False}
    return start, end


class SafeSessionMiddleware(SessionMiddleware[RotatingSessionBackend]):
    """Session middleware whose store failure becomes a Swedish 503, never a bare 500."""

    def create_send_wrapper(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Callable[[Message], Awaitable[None]]:
        replaced = False

        async def wrapped_send(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the original body belongs to the response we replaced
            if message["type"] != "http.response.start":
                await connection.send(message)
                return
            try:
                await self.backend.store_in_message(connection.scope.get("session"), message, connection)
            except Exception as exc:  # the store is down or locked: say so in Swedish
                log.warning("session store failed on %s: %s", connection.scope["path"], type(exc).__name__)
                replaced = True
                start, end = _store_failed_messages(connection.scope["path"])
                await connection.send(start)
                await connection.send(end)
                return
            await connection.send(message)

        return wrapped_send


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend

    @property
    def middleware(self) -> DefineMiddleware:
        return DefineMiddleware(SafeSessionMiddleware, backend=self._backend_class(config=self))
