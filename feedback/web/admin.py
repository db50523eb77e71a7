"""Admin pages: units, users with role and unit memberships, invitations (admins only).

New people get their account through an invitation link: the admin never chooses or sees anyone's
password. The link is shown once in the response to the form and is not stored in clear anywhere.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import invitations, services
from feedback.auth.models import ROLE_LABELS_SV, Role
from feedback.core.errors import DomainError, InvalidInput
from feedback.web.guards import current_user, requires_role

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class UnitForm(msgspec.Struct):
    code: str = ""
    name: str = ""


class InviteForm(msgspec.Struct):
    email: str = ""
    display_name: str = ""
    role: str = ""
    # One checkbox ticked arrives as a string, several as a list.
    units: str | list[str] = msgspec.field(default_factory=list)


def _unit_ids(raw: str | list[str]) -> list[uuid.UUID]:
    values = [raw] if isinstance(raw, str) else raw
    try:
        return [uuid.UUID(v) for v in values if v]
    except ValueError as exc:
        raise InvalidInput("Okänd enhet.", field="units") from exc


def _status(user: Any) -> str:
    if user.password_hash is None:
        return "Inbjuden, har inte valt lösenord"
    return "Aktiv" if user.is_active else "Avstängd"


class AdminController(Controller):
    path = "/admin"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - Litestar reads the class attribute

    @get("/", name="admin")
    async def index(self) -> Redirect:
        return Redirect(path="/admin/users", status_code=303)

    # ------------------------------------------------------------------ units
    async def _units_page(self, db_session: AsyncSession, *, status: int = 200, **context: Any) -> Template:
        units = await services.list_units(db_session)
        base = {"units": units, "error": None, "field": None, "form": UnitForm(), "created": None}
        return Template("admin/units.html", context={**base, **context}, status_code=status)

    @get("/units", name="admin-units")
    async def units(
        self,
        db_session: NamedDependency[AsyncSession],
        created: Annotated[str | None, QueryParameter(name="skapad", max_length=32)] = None,
    ) -> Template:
        return await self._units_page(db_session, created=created)

    @post("/units", status_code=303)
    async def create_unit(
        self,
        db_session: NamedDependency[AsyncSession],
        data: Annotated[UnitForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        try:
            unit = await services.create_unit(db_session, code=data.code, name=data.name)
        except DomainError as exc:
            await db_session.rollback()
            return await self._units_page(
                db_session, status=exc.status_code, error=exc.message, field=exc.field, form=data
            )
        await db_session.commit()
        return Redirect(path=f"/admin/units?skapad={unit.code}", status_code=303)

    # ------------------------------------------------------------------ users and invitations
    async def _users_page(self, db_session: AsyncSession, *, status: int = 200, **context: Any) -> Template:
        base = {
            "users": await services.list_users(db_session),
            "units": await services.list_units(db_session),
            "roles": ROLE_LABELS_SV,
            "status_of": _status,
            "error": None,
            "field": None,
            "form": InviteForm(),
            "chosen_units": [],
            "invitation": None,
        }
        return Template("admin/users.html", context={**base, **context}, status_code=status, headers=NO_STORE)

    @get("/users", name="admin-users")
    async def users(self, db_session: NamedDependency[AsyncSession]) -> Template:
        return await self._users_page(db_session)

    @post("/users", status_code=200)
    async def invite_user(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[InviteForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        """Create the account (inactive) and show its one-time invitation link."""
        settings = request.app.state.settings
        try:
            unit_ids = _unit_ids(data.units)
            invitation, url = await invitations.create_invitation(
                db_session,
                email=data.email,
                role=data.role,
                unit_id=None,
                unit_ids=unit_ids,
                invited_by=current_user(request),
                display_name=data.display_name.strip(),
                ttl=timedelta(hours=settings.invitation_ttl_hours),
                base_url=settings.public_url,
                now=request.app.state.clock.now(),
            )
        except DomainError as exc:
            await db_session.rollback()
            chosen = [str(u) for u in ([data.units] if isinstance(data.units, str) else data.units)]
            return await self._users_page(
                db_session,
                status=exc.status_code,
                error=exc.message,
                field=exc.field,
                form=data,
                chosen_units=chosen,
            )
        await db_session.commit()
        shown = {
            "email": services.normalise_email(data.email),
            "url": url,
            "expires_at": invitation.expires_at,
        }
        return await self._users_page(db_session, invitation=shown)

    @post("/users/{user_id:uuid}/invitation", status_code=200)
    async def reinvite(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user_id: FromPath[uuid.UUID],
    ) -> Template:
        """A new link for someone who lost theirs or let it expire (the old one stops working)."""
        settings = request.app.state.settings
        user = await services.get_user(db_session, user_id)
        invitation, url = await invitations.create_invitation(
            db_session,
            email=user.email,
            role=user.role,
            unit_id=None,
            unit_ids=sorted(user.unit_ids),
            invited_by=current_user(request),
            ttl=timedelta(hours=settings.invitation_ttl_hours),
            base_url=settings.public_url,
            now=request.app.state.clock.now(),
        )
        await db_session.commit()
        shown = {"email": user.email, "url": url, "expires_at": invitation.expires_at}
        return await self._users_page(db_session, invitation=shown)
