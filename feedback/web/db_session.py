"""One database session per request, handed to handlers as ``db_session`` and always released.

Why our own and not advanced-alchemy's Litestar plugin: that package cost ~1.7 s of import at
every process start for this one job, and its release point (the last ASGI message) came too
late. A login burst on PostgreSQL showed both halves of the problem (issue 20):

* the request's connection was still checked out while the session middleware stored the
  session (``DatabaseStore.set``) at ``http.response.start``; with every pooled connection held
  by a request waiting for a second one, the pool ran dry and requests waited for each other;
* when that wait timed out *after* the response had started, the final message was never sent,
  the session was never closed and its connection stayed ``idle in transaction`` until restart.

The rules this module keeps:

1. **Lazy and one per request.** ``db_session`` is an ``AsyncSession`` created on first use; it
   takes a pooled connection only at its first statement. Everything else a request touches
   (the session store, ``retrieve_user``, the akut banner) uses short transactions of its own
   that give their connection back before the next step, so a request never holds one
   connection while waiting for another (no pool deadlock).
2. **Released before the response is sent.** The dependency is a generator: Litestar runs its
   ``finally`` right after the handler (and its response) is built, on success, on a 4xx/429
   answer and when the handler raises. The session store then writes on a free pool.
3. **Released on every other path too.** An outermost middleware closes whatever is still open
   when the request ends in any way (an exception after the response started, a cancelled
   task, a dependency that failed before the handler ran).
4. **Nothing autocommits.** Closing rolls back what a controller did not commit (the transaction
   rule in ``feedback/web/forms.py``): a controller commits, once, before it answers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.plugins import InitPluginProtocol
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

# Where the request's session lives in the ASGI scope: the safety-net middleware closes it from
# there, and the error handler reads whether it committed (``feedback.core.dblock.committed``).
SESSION_SCOPE_KEY = "feedback_db_session"
DEPENDENCY_KEY = "db_session"


async def release(session: AsyncSession) -> None:
    """Close ``session``: roll back what was not committed and return its connection to the pool.

    Closing twice is harmless. A failure to close (a connection that died) is logged, not raised:
    SQLAlchemy invalidates such a connection, and the answer the user gets must not change.
    """
    try:
        await session.close()
    except Exception:
        log.warning("closing the request's database session failed", exc_info=True)


def request_session(scope: Scope) -> AsyncSession | None:
    """The request's session, if a handler asked for one (``None`` otherwise)."""
    session = scope.get(SESSION_SCOPE_KEY)
    return session if isinstance(session, AsyncSession) else None


class DatabaseSessionPlugin(InitPluginProtocol):
    """Registers the ``db_session`` dependency and the middleware that releases it."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def provide_session(self, scope: Scope) -> AsyncGenerator[AsyncSession, None]:
        session = self._sessionmaker()
        scope[SESSION_SCOPE_KEY] = session  # type: ignore[literal-required]
        try:
            yield session
        finally:
            await release(session)

    def release_middleware(self, app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await app(scope, receive, send)
            finally:
                session = request_session(scope)
                if session is not None:
                    await release(session)

        return middleware

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.dependencies[DEPENDENCY_KEY] = Provide(self.provide_session)
        # Outermost, so it also sees what the session and auth middlewares do after the handler.
        app_config.middleware.insert(0, self.release_middleware)
        # Handlers annotate with these names under ``from __future__ import annotations``.
        app_config.signature_namespace.update({"AsyncSession": AsyncSession, "AsyncEngine": AsyncEngine})
        return app_config
