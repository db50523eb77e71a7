"""Server-side sessions that get a fresh id when someone signs in (no session fixation).

Litestar's server-side backend keeps whatever session id the browser presents. If an attacker
planted a known id in a victim's browser before login, that id would become an authenticated
session. ``rotate_session(request)`` marks the response so the session is stored under a newly
generated id and the old id's data is deleted.

Two more rules keep the session table off the hot path (a login burst, a crawler):

* an empty session is not stored: an anonymous visit writes no row and sets no cookie (one that
  is already there is deleted, as after logging out);
* a 5xx answer leaves the store alone: when the pool or the database is the reason for the 5xx,
  storing would fail too, after the response has started, and the browser would get a broken
  connection instead of the Swedish error page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession

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
        has_cookie = bool(old_id) and old_id != "null"
        if scope_session is not Empty and not scope_session:
            if has_cookie:  # emptied: forget it, as after logging out
                await super().store_in_message(Empty, message, connection)
            return
        if connection.scope.get(_ROTATE) and has_cookie and old_id:
            await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
