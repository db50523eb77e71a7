"""App-level dependencies: what handlers declare as ``NamedDependency[...]`` instead of reading
``request.app.state``.

Declared parameters make a handler's needs visible in its signature and checked by mypy; the
values are built once in ``create_app`` (settings, clock, test collaborators) or per request
(the signed-in user).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from litestar import Request
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from feedback.auth.identity import CurrentUser
from feedback.core.clock import Clock
from feedback.core.settings import Settings
from feedback.web.guards import current_user
from feedback.wiring import Collaborators
from notifications.ports import InboundHandler


@runtime_checkable
class AppClock(Clock, Protocol):
    """``Clock`` as a handler parameter type.

    Litestar validates injected values with ``isinstance``, which a plain ``Protocol`` refuses;
    this runtime-checkable twin lets handlers declare ``clock: NamedDependency[AppClock]``.
    """


Sessionmaker = async_sessionmaker[AsyncSession]


def provide_user(request: Request[Any, Any, Any]) -> CurrentUser:
    """The signed-in user (401 → login page when there is none; guards ran before this)."""
    return current_user(request)


def _value(value: Any) -> Provide:
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)


def app_dependencies(
    *,
    settings: Settings,
    clock: Clock,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    inbound_handler: InboundHandler,
    collaborators: Collaborators,
) -> dict[str, Provide]:
    """``settings``, ``clock``, ``user`` and the few wiring values machine endpoints need."""
    redact: Callable[[str], str] | None = collaborators.redact
    return {
        "settings": _value(settings),
        "clock": _value(clock),
        "engine": _value(engine),
        "sessionmaker": _value(sessionmaker),
        "inbound_handler": _value(inbound_handler),
        "redact": _value(redact),
        "user": Provide(provide_user, sync_to_thread=False),
    }
