"""Admin pages: units, users with role and unit memberships, invitations (admins only).

New people get their account through an invitation link: the admin never chooses or sees anyone's
password. The link is shown once in the response to the form and is not stored in clear anywhere.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, ClassVar

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import invitations, services
from feedback.auth.identity import CurrentUser
from feedback.auth.lifecycle import NO_LOCAL_PASSWORDS_SV, local_password_allowed
from feedback.auth.models import PERSON_ROLES, ROLE_LABELS_SV, Role
from feedback.core.clock import Clock
from feedback.core.errors import Conflict
from feedback.core.settings import Settings
from feedback.web import forms
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class InviteForm(forms.Form):
    email: str = ""
    display_name: str = ""
    role: str = ""
    units: list[uuid.UUID] = msgspec.field(default_factory=list)
    messages: ClassVar[dict[str, str]] = {"units": "Okänd enhet."}


def _status(user: Any) -> str:
    from feedback.web.admin_users import account_status

    return account_status(user)


class AdminController(Controller):
    path = "/admin"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - Litestar reads the class attribute

    @get("/", name="admin")
    async def index(self) -> Redirect:
        return Redirect(path="/admin/users", status_code=303)

    # ------------------------------------------------------------------ units
    async def _units_page(self, db_session: AsyncSession, *, status: int = 200, **context: Any) -> Template:
        units = await services.list_units(db_session)
        base = {"units": units, **forms.NO_ERRORS, "form": {}, "created": None}
        return Template("admin/units.html", context={**base, **context}, status_code=status)

    @get("/units", name="admin-units")
    async def units(
        self,
        db_session: NamedDependency[AsyncSession],
        created: Annotated[str | None, QueryParameter(name="enhet", max_length=32)] = None,
        notice: Annotated[str | None, QueryParameter(name=forms.NOTICE_PARAM, max_length=32)] = None,
    ) -> Template:
        return await self._units_page(db_session, created=created if notice == "skapad" else None)

    @post("/units", status_code=303, name="admin-units-create")
    async def create_unit(
        self, db_session: NamedDependency[AsyncSession], data: URLEncodedBody[forms.RawForm]
    ) -> Response[Any]:
        form = forms.values(data)

        async def invalid(errors: forms.FormErrors) -> Template:
            context = errors.context()
            return await self._units_page(db_session, status=errors.status_code, form=form, **context)

        return await forms.submit(
            db_session,
            lambda: services.create_unit(db_session, code=form.get("code", ""), name=form.get("name", "")),
            invalid=invalid,
            done=lambda unit: forms.redirect("/admin/units", "skapad", enhet=unit.code),
        )

    # ------------------------------------------------------------------ users and invitations
    async def _users_page(self, db_session: AsyncSession, *, status: int = 200, **context: Any) -> Template:
        base = {
            "users": await services.list_users(db_session),
            "units": await services.list_units(db_session),
            "roles": ROLE_LABELS_SV,
            "role_choices": {role: ROLE_LABELS_SV[role] for role in PERSON_ROLES},
            "status_of": _status,
            **forms.NO_ERRORS,
            "form": {},
            "chosen_units": [],
            "invitation": None,
        }
        return Template("admin/users.html", context={**base, **context}, status_code=status, headers=NO_STORE)

    @get("/users", name="admin-users")
    async def users(self, db_session: NamedDependency[AsyncSession]) -> Template:
        return await self._users_page(db_session)

    async def _invite(
        self,
        db_session: AsyncSession,
        settings: Settings,
        clock: Clock,
        user: CurrentUser,
        *,
        email: str,
        role: str,
        unit_ids: list[uuid.UUID],
        display_name: str = "",
    ) -> dict[str, Any]:
        """Create (or renew) the invitation; what the page shows once (the caller commits)."""
        if role in set(Role) and not local_password_allowed(Role(role), settings.local_passwords):
            raise Conflict(NO_LOCAL_PASSWORDS_SV, field="role")
        invitation, url = await invitations.create_invitation(
            db_session,
            email=email,
            role=role,
            unit_id=None,
            unit_ids=unit_ids,
            invited_by=user,
            display_name=display_name,
            ttl=timedelta(hours=settings.invitation_ttl_hours),
            base_url=settings.public_url,
            now=clock.now(),
        )
        return {"email": services.normalise_email(email), "url": url, "expires_at": invitation.expires_at}

    @post("/users", status_code=200, name="admin-users-invite")
    async def invite_user(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        """Create the account (inactive) and show its one-time invitation link."""
        raw = data.get("units", [])
        chosen = [raw] if isinstance(raw, str) else list(raw)

        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._users_page(
                db_session,
                status=errors.status_code,
                form=forms.values(data),
                chosen_units=chosen,
                **errors.context(),
            )

        async def invite() -> dict[str, Any]:
            form = forms.parse(InviteForm, data)
            return await self._invite(
                db_session,
                settings,
                clock,
                user,
                email=form.email,
                role=form.role,
                unit_ids=form.units,
                display_name=form.display_name,
            )

        return await forms.submit(
            db_session,
            invite,
            invalid=invalid,
            done=lambda shown: self._users_page(db_session, invitation=shown),
        )

    @post("/users/{user_id:uuid}/invitation", status_code=200, name="admin-users-reinvite")
    async def reinvite(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        user_id: FromPath[uuid.UUID],
    ) -> Template:
        """A new link for someone who lost theirs or let it expire (the old one stops working)."""
        invited = await services.get_user(db_session, user_id)
        shown = await self._invite(
            db_session,
            settings,
            clock,
            user,
            email=invited.email,
            role=invited.role,
            unit_ids=sorted(invited.unit_ids),
        )
        await db_session.commit()
        return await self._users_page(db_session, invitation={**shown, "email": invited.email})
