"""Role and unit-scope guards: wrong role or another unit → 403 with a Swedish message."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.auth.scope import ensure_unit_access
from feedback.core.errors import Forbidden
from feedback.web.errors import handle_exception
from feedback.web.guards import requires_role, unit_scope_guard

UNIT_A, UNIT_B = uuid.uuid4(), uuid.uuid4()


def _user(role: Role, *units: uuid.UUID) -> CurrentUser:
    return CurrentUser(
        id=uuid.uuid4(), email="x@y.se", display_name="X", role=role, unit_ids=frozenset(units)
    )


@get(
    "/api/units/{unit_id:uuid}/queue", guards=[requires_role(Role.CASEWORKER, Role.MANAGER), unit_scope_guard]
)
async def queue(unit_id: FromPath[uuid.UUID]) -> dict[str, str]:
    return {"unit": str(unit_id)}


def _app(user: CurrentUser | None) -> Litestar:
    def middleware(app: Any) -> Any:
        async def inner(scope: Any, receive: Any, send: Any) -> None:
            if user is not None:
                scope["user"] = user
            await app(scope, receive, send)

        return inner

    return Litestar([queue], middleware=[middleware], exception_handlers={Exception: handle_exception})


@pytest.mark.parametrize(
    ("user", "unit", "status"),
    [
        (_user(Role.CASEWORKER, UNIT_A), UNIT_A, 200),
        (_user(Role.CASEWORKER, UNIT_A), UNIT_B, 403),  # other unit
        (_user(Role.PANEL_MEMBER, UNIT_A), UNIT_A, 403),  # wrong role
        (_user(Role.ADMIN), UNIT_A, 403),  # admins are not implicitly caseworkers
        (None, UNIT_A, 401),
    ],
)
async def test_role_and_unit_scope(user: CurrentUser | None, unit: uuid.UUID, status: int) -> None:
    async with AsyncTestClient(app=_app(user)) as client:
        response = await client.get(f"/api/units/{unit}/queue")
    assert response.status_code == status
    if status == 403:
        assert response.json()["detail"] == "Du har inte behörighet till det här."


def test_service_level_scope_check() -> None:
    ensure_unit_access(_user(Role.MANAGER, UNIT_A), UNIT_A)
    ensure_unit_access(_user(Role.ADMIN), [UNIT_A, UNIT_B])
    with pytest.raises(Forbidden):
        ensure_unit_access(_user(Role.MANAGER, UNIT_A), [UNIT_A, UNIT_B])
