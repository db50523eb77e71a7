"""Admin pages for one account's life (role, units, on/off, password reset) and the SSO mapping.

Kept apart from ``admin.py`` (units, the user list, invitations): each post calls one use-case in
``feedback.auth.lifecycle`` or ``feedback.auth.sso.mapping``, which also writes the audit row.
Changes take effect at the person's next request (the session loader reads the user afresh).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, ClassVar

import msgspec
import sqlalchemy as sa
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import lifecycle, services
from feedback.auth.identity import CurrentUser
from feedback.auth.models import PERSON_ROLES, ROLE_LABELS_SV, Role, User
from feedback.auth.sso import mapping
from feedback.auth.sso.models import ExternalIdentity
from feedback.core.settings import Settings
from feedback.web import forms
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

NOTICES_SV = {
    "roll": "Rollen är ändrad. Den gäller från personens nästa klick.",
    "enheter": "Enheterna är ändrade. De gäller från personens nästa klick.",
    "avstangd": "Kontot är avstängt. Personen loggades ut överallt.",
    "aktiverad": "Kontot är aktiverat igen. Personen behöver logga in på nytt.",
}
MAPPING_NOTICES_SV = {"skapad": "Kopplingen är sparad.", "borttagen": "Kopplingen är borttagen."}


def account_status(user: User) -> str:
    """The one Swedish status word the list and the account page show."""
    if user.role == Role.INTEGRATION:  # a service account: its state is its API key's
        return "Aktiv API-nyckel" if user.is_active else "API-nyckeln återkallad"
    if user.deactivated_at is not None:
        return "Avstängd"
    if user.password_hash is None and user.last_login_at is None:
        return "Inbjuden, har inte valt lösenord"
    if not user.is_active:
        return "Ingen behörighet via kommunens konto"
    return "Aktiv"


class RoleForm(forms.Form):
    role: str = ""


class UnitsForm(forms.Form):
    units: list[uuid.UUID] = msgspec.field(default_factory=list)
    messages: ClassVar[dict[str, str]] = {"units": "Okänd enhet."}


class MappingForm(forms.Form):
    claim: str = ""
    value: str = ""
    role: str = ""
    units: list[uuid.UUID] = msgspec.field(default_factory=list)
    messages: ClassVar[dict[str, str]] = {"units": "Okänd enhet."}


class AdminUserController(Controller):
    """``/admin/users/{id}``: one account, and the posts that change it."""

    path = "/admin/users/{user_id:uuid}"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - Litestar reads the class attribute

    async def _page(
        self, db_session: AsyncSession, user_id: uuid.UUID, *, status: int = 200, **context: Any
    ) -> Template:
        account = await services.get_user(db_session, user_id)
        sso_linked = await db_session.scalar(
            sa.select(sa.func.count())
            .select_from(ExternalIdentity)
            .where(ExternalIdentity.user_id == user_id)
        )
        base = {
            "account": account,
            "status": account_status(account),
            "sso_linked": bool(sso_linked),
            "units": await services.list_units(db_session),
            "roles": {r: ROLE_LABELS_SV[r] for r in PERSON_ROLES},
            "notice": None,
            "invitation": None,
            **forms.NO_ERRORS,
        }
        return Template("admin/user.html", context={**base, **context}, status_code=status, headers=NO_STORE)

    def _invalid(self, db_session: AsyncSession, user_id: uuid.UUID) -> forms.Rerender:
        async def rerender(errors: forms.FormErrors) -> Response[Any]:
            return await self._page(db_session, user_id, status=errors.status_code, **errors.context())

        return rerender

    def _done(self, user_id: uuid.UUID, notice: str) -> Any:
        return lambda _: forms.redirect(f"/admin/users/{user_id}", notice)

    @get("/", name="admin-user")
    async def show(
        self,
        db_session: NamedDependency[AsyncSession],
        user_id: FromPath[uuid.UUID],
        notice: Annotated[str | None, QueryParameter(name=forms.NOTICE_PARAM, max_length=32)] = None,
    ) -> Template:
        return await self._page(db_session, user_id, notice=NOTICES_SV.get(notice or ""))

    @post("/roll", status_code=303, name="admin-user-role")
    async def set_role(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        user_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.parse(RoleForm, data)
        return await forms.submit(
            db_session,
            lambda: lifecycle.set_role(db_session, user_id=user_id, role=form.role, by=user),
            invalid=self._invalid(db_session, user_id),
            done=self._done(user_id, "roll"),
            reraise=(404,),
        )

    @post("/enheter", status_code=303, name="admin-user-units")
    async def set_units(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        user_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        async def change() -> User:
            form = forms.parse(UnitsForm, data)
            return await lifecycle.set_units(db_session, user_id=user_id, unit_ids=form.units, by=user)

        return await forms.submit(
            db_session,
            change,
            invalid=self._invalid(db_session, user_id),
            done=self._done(user_id, "enheter"),
        )

    @post("/avaktivera", status_code=303, name="admin-user-deactivate")
    async def deactivate(
        self,
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        user_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        return await forms.submit(
            db_session,
            lambda: lifecycle.deactivate(db_session, user_id=user_id, by=user, now=clock.now()),
            invalid=self._invalid(db_session, user_id),
            done=self._done(user_id, "avstangd"),
            reraise=(404,),
        )

    @post("/aktivera", status_code=303, name="admin-user-reactivate")
    async def reactivate(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        user_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        return await forms.submit(
            db_session,
            lambda: lifecycle.reactivate(db_session, user_id=user_id, by=user),
            invalid=self._invalid(db_session, user_id),
            done=self._done(user_id, "aktiverad"),
            reraise=(404,),
        )

    @post("/losenord", status_code=200, name="admin-user-reset-password")
    async def reset_password(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        user_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """Clear the password and show a new invitation link once (the old password stops now)."""

        async def reset() -> dict[str, Any]:
            invitation, url = await lifecycle.reset_password(
                db_session,
                user_id=user_id,
                by=user,
                now=clock.now(),
                ttl=timedelta(hours=settings.invitation_ttl_hours),
                base_url=settings.public_url,
                local_passwords=settings.local_passwords,
            )
            return {"url": url, "expires_at": invitation.expires_at}

        return await forms.submit(
            db_session,
            reset,
            invalid=self._invalid(db_session, user_id),
            done=lambda shown: self._page(db_session, user_id, invitation=shown),
            reraise=(404,),
        )


class AdminSsoController(Controller):
    """``/admin/sso``: which claim values give which role in which units."""

    path = "/admin/sso"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - Litestar reads the class attribute

    async def _page(
        self, db_session: AsyncSession, settings: Settings, *, status: int = 200, **context: Any
    ) -> Template:
        base = {
            "mappings": await mapping.list_mappings(db_session),
            "units": await services.list_units(db_session),
            "unit_names": {u.id: u.name for u in await services.list_units(db_session)},
            "roles": {r: ROLE_LABELS_SV.get(r, r.value) for r in mapping.staff_roles()},
            "sso_enabled": settings.oidc_enabled,
            "issuer": settings.oidc_issuer,
            "default_claim": settings.oidc_groups_claim,
            "local_passwords": settings.local_passwords,
            "form": {},
            "chosen_units": [],
            "notice": None,
            **forms.NO_ERRORS,
        }
        return Template("admin/sso.html", context={**base, **context}, status_code=status)

    @get("/", name="admin-sso")
    async def show(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        notice: Annotated[str | None, QueryParameter(name=forms.NOTICE_PARAM, max_length=32)] = None,
    ) -> Template:
        return await self._page(db_session, settings, notice=MAPPING_NOTICES_SV.get(notice or ""))

    @post("/", status_code=303, name="admin-sso-create")
    async def create(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        raw = data.get("units", [])
        chosen = [raw] if isinstance(raw, str) else list(raw)

        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._page(
                db_session,
                settings,
                status=errors.status_code,
                form=forms.values(data),
                chosen_units=chosen,
                **errors.context(),
            )

        async def create() -> Any:
            form = forms.parse(MappingForm, data)
            return await mapping.add_mapping(
                db_session, claim=form.claim, value=form.value, role=form.role, unit_ids=form.units, by=user
            )

        return await forms.submit(
            db_session, create, invalid=invalid, done=lambda _: forms.redirect("/admin/sso", "skapad")
        )

    @post("/{mapping_id:uuid}/ta-bort", status_code=303, name="admin-sso-delete")
    async def delete(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        mapping_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._page(db_session, settings, status=errors.status_code, **errors.context())

        return await forms.submit(
            db_session,
            lambda: mapping.delete_mapping(db_session, mapping_id=mapping_id, by=user),
            invalid=invalid,
            done=lambda _: forms.redirect("/admin/sso", "borttagen"),
            reraise=(404,),
        )
