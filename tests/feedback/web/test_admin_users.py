"""The user lifecycle from the admin pages: on/off, role, units, password reset, audit, last login.

Each test uses two browsers' worth of cookies: the admin's client and the affected person's own
client with an open session, to show a change reaches that session at its very next request.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role, User
from feedback.core.models import AuditEvent
from tests.helpers import PASSWORD, form_post, login, make_unit, make_user

LINK = re.compile(r'value="(http://[^"]+/invitation/[A-Za-z0-9_\-]+)"')


class Browser:
    """A second person's cookies on the same test client.

    Why not a second ``AsyncTestClient``: each runs the app on a loop of its own, and asyncpg
    connections in the shared pool belong to one loop. Swapping cookie jars gives two browsers
    on one app and one loop.
    """

    def __init__(self, client: AsyncTestClient) -> None:
        self.client = client
        self.jar = httpx.Cookies()

    async def _as_me(self, call: Any) -> Any:
        mine, theirs = self.jar, httpx.Cookies(self.client.cookies)
        self.client.cookies = mine
        try:
            return await call()
        finally:
            self.jar = httpx.Cookies(self.client.cookies)
            self.client.cookies = theirs

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self._as_me(lambda: self.client.get(path, **kwargs))

    async def post_form(self, path: str, data: dict[str, Any]) -> Any:
        return await self._as_me(lambda: form_post(self.client, path, data))

    async def login(self, user: User) -> None:
        await self._as_me(lambda: login(self.client, user))


@pytest.fixture
def person(client: AsyncTestClient) -> Browser:
    return Browser(client)


async def _actions(db_session: AsyncSession, user: User) -> list[str]:
    rows = await db_session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.subject_id == str(user.id)).order_by(AuditEvent.at)
    )
    return list(rows)


async def _signed_in(client: AsyncTestClient | Browser, path: str = "/") -> bool:
    response = await client.get(path, follow_redirects=False)
    return response.status_code == 200


async def test_deactivation_ends_the_open_session_at_once_and_reactivation_does_not_revive_it(
    client: AsyncTestClient, person: Browser, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    admin = await make_user(db_session, Role.ADMIN)
    worker = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, admin)
    await person.login(worker)
    assert await _signed_in(person)

    response = await form_post(client, f"/admin/users/{worker.id}/avaktivera", {})
    assert response.status_code == 200 and "Kontot är avstängt" in response.text
    assert "Avstängd" in response.text

    refused = await person.get("/", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
    again = await person.post_form("/login", {"email": worker.email, "password": PASSWORD})
    assert again.status_code == 400  # a deactivated account cannot sign in

    reactivated = await form_post(client, f"/admin/users/{worker.id}/aktivera", {})
    assert reactivated.status_code == 200 and "aktiverat igen" in reactivated.text
    assert not await _signed_in(person)  # the old session stays dead
    await person.login(worker)
    assert await _signed_in(person)
    assert await _actions(db_session, worker) == ["user.deactivate", "user.reactivate"]
    event = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.deactivate"))
    assert event is not None and event.actor_id == admin.id


async def test_role_and_unit_changes_take_effect_at_the_next_request(
    client: AsyncTestClient, person: Browser, db_session: AsyncSession
) -> None:
    north = await make_unit(db_session, name="Försörjningsstöd Norr")
    south = await make_unit(db_session, name="AME Syd")
    admin = await make_user(db_session, Role.ADMIN)
    worker = await make_user(db_session, Role.CASEWORKER, [north])
    await login(client, admin)
    await person.login(worker)
    page = await person.get("/caseworker/closures/ny")
    assert page.status_code == 200 and "Försörjningsstöd Norr" in page.text and "AME Syd" not in page.text

    moved = await form_post(client, f"/admin/users/{worker.id}/enheter", {"units": [str(south.id)]})
    assert moved.status_code == 200 and "Enheterna är ändrade" in moved.text
    page = await person.get("/caseworker/closures/ny")
    assert "AME Syd" in page.text and "Försörjningsstöd Norr" not in page.text

    promoted = await form_post(client, f"/admin/users/{worker.id}/roll", {"role": "manager"})
    assert promoted.status_code == 200 and "Rollen är ändrad" in promoted.text
    assert (await person.get("/caseworker/closures/ny")).status_code == 403
    assert "enhetschef" in (await person.get("/")).text

    assert await _actions(db_session, worker) == ["user.units", "user.role"]
    role_event = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.role"))
    assert role_event is not None and role_event.detail == {"from": "caseworker", "to": "manager"}
    units_event = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.units"))
    assert units_event is not None and units_event.detail == {
        "added": [str(south.id)],
        "removed": [str(north.id)],
    }


async def test_bad_changes_are_refused_in_swedish_and_change_nothing(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    admin = await make_user(db_session, Role.ADMIN)
    worker = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, admin)
    no_units = await form_post(client, f"/admin/users/{worker.id}/enheter", {})
    assert no_units.status_code == 400 and "Välj minst en enhet" in no_units.text
    bad_unit = await form_post(client, f"/admin/users/{worker.id}/enheter", {"units": "inte-ett-id"})
    assert bad_unit.status_code == 400 and "Okänd enhet" in bad_unit.text
    bad_role = await form_post(client, f"/admin/users/{worker.id}/roll", {"role": "kung"})
    assert bad_role.status_code == 400 and "Okänd roll" in bad_role.text
    myself = await form_post(client, f"/admin/users/{admin.id}/avaktivera", {})
    assert myself.status_code == 409 and "ditt eget konto" in myself.text
    demote_me = await form_post(client, f"/admin/users/{admin.id}/roll", {"role": "caseworker"})
    assert demote_me.status_code == 409
    assert (
        await form_post(client, "/admin/users/00000000-0000-0000-0000-000000000000/avaktivera", {})
    ).status_code == 404
    await db_session.refresh(worker)
    assert worker.role == Role.CASEWORKER and worker.is_active and worker.unit_ids == {unit.id}
    assert await _actions(db_session, worker) == []


async def test_password_reset_stops_the_old_password_and_sessions_and_gives_a_link_once(
    client: AsyncTestClient, person: Browser, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    admin = await make_user(db_session, Role.ADMIN)
    worker = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, admin)
    await person.login(worker)
    response = await form_post(client, f"/admin/users/{worker.id}/losenord", {})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    url = LINK.search(response.text).group(1)
    assert url not in (await client.get(f"/admin/users/{worker.id}")).text

    assert not await _signed_in(person)
    old = await person.post_form("/login", {"email": worker.email, "password": PASSWORD})
    assert old.status_code == 400
    path = url.split("testserver.local")[-1]
    new_password = "ett-helt-nytt-losenord-7"
    accepted = await person.post_form(path, {"password": new_password, "repeat_password": new_password})
    assert accepted.status_code == 200 and "handläggare" in accepted.text
    assert await _actions(db_session, worker) == [
        "user.password_reset",
        "invitation.create",
        "invitation.accept",
    ]


async def test_user_list_shows_last_login_and_the_invitation_form_has_no_default_role(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    admin = await make_user(db_session, Role.ADMIN)
    await make_user(db_session, Role.CASEWORKER, [unit], email="aldrig@test.example")
    await login(client, admin)
    listing = await client.get("/admin/users")
    assert "Senast inloggad" in listing.text and "Aldrig" in listing.text
    assert re.search(r'<option value="" selected>Välj roll</option>', listing.text)
    assert 'value="admin" selected' not in listing.text
    no_role = await form_post(client, "/admin/users", {"email": "ny@example.se", "units": str(unit.id)})
    assert no_role.status_code == 400 and "Välj en roll" in no_role.text
    assert await db_session.scalar(sa.select(User.id).where(User.email == "ny@example.se")) is None
    detail = await client.get(f"/admin/users/{admin.id}")
    assert "Senast inloggad" in detail.text and "Aldrig" not in detail.text.split("Senast inloggad")[1][:60]


async def test_lifecycle_pages_are_for_admins_only(client: AsyncTestClient, db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    manager = await make_user(db_session, Role.MANAGER, [unit])
    worker = await make_user(db_session, Role.CASEWORKER, [unit])
    await login(client, manager)
    assert (await client.get(f"/admin/users/{worker.id}")).status_code == 403
    assert (await form_post(client, f"/admin/users/{worker.id}/avaktivera", {})).status_code == 403
    assert (await client.get("/admin/sso")).status_code == 403
    await db_session.refresh(worker)
    assert worker.is_active
