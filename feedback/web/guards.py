"""Route guards: role and unit scope.

Every non-public route carries a guard from here; a test enumerates ``app.routes`` and fails on
any route that is neither marked ``opt={"public": True}`` nor guarded. Unit scope is checked twice:
by ``unit_scope_guard`` for routes with a ``unit_id`` path parameter, and by services, which always
filter queries by ``CurrentUser.unit_ids``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.auth.scope import FORBIDDEN_SV

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser:
    user = connection.scope.get("user")
    if not isinstance(user, CurrentUser):
        raise NotAuthorizedException("Du behöver logga in.")
    return user


def requires_role(*roles: Role | str) -> Guard:
    """Allow the given roles (admins are not implicitly allowed: admin work has its own pages)."""
    allowed = frozenset(Role(r) for r in roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user.role not in allowed:
            raise PermissionDeniedException(FORBIDDEN_SV)

    guard.roles = allowed  # type: ignore[attr-defined]  # read by the route-coverage test
    return guard


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Any signed-in role (start page, password change, logout)."""
    current_user(connection)


def unit_scope_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Refuse a ``unit_id`` path parameter outside the user's units."""
    user = current_user(connection)
    raw = connection.path_params.get("unit_id")
    if raw is None:
        return
    try:
        unit_id = raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
    except ValueError as exc:
        raise PermissionDeniedException(FORBIDDEN_SV) from exc
    if not user.can_access_unit(unit_id):
        raise PermissionDeniedException(FORBIDDEN_SV)
