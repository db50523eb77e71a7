"""Admin page for the right to erasure: find one client by unit and reference, erase on request.

The search is a POST (the reference never lands in a URL or an access log). Erasing needs a
reason, is audited (``contact.erase``) and stops everything in flight for the person; answers
stay, pseudonymous.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import services
from feedback.auth.models import Role
from feedback.core.errors import DomainError
from feedback.web.guards import current_user, requires_role
from surveys.closures.erasure import erase_client, find_client
from surveys.closures.models import Closure

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class ErasureForm(msgspec.Struct):
    action: str = "sok"
    unit: str = ""
    client_ref: str = ""
    client_id: str = ""
    reason: str = ""


class ErasureController(Controller):
    path = "/admin/radering"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - read by Litestar

    async def _page(self, session: AsyncSession, *, status_code: int = 200, **context: Any) -> Template:
        base = {"units": await services.list_units(session), "form": ErasureForm(), "found": None,
                "closures": [], "error": None, "field": None, "done": None}  # fmt: skip
        return Template(
            "admin/erasure.html", context={**base, **context}, status_code=status_code, headers=NO_STORE
        )

    @get("/", name="admin-erasure")
    async def form(self, db_session: NamedDependency[AsyncSession]) -> Template:
        return await self._page(db_session)

    @post("/", status_code=200)
    async def act(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[ErasureForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        try:
            unit_id = uuid.UUID(data.unit)
        except ValueError:
            return await self._page(db_session, form=data, error="Välj enhet.", field="unit", status_code=400)
        ref = data.client_ref.strip()[:64]
        if not ref:
            return await self._page(
                db_session, form=data, error="Skriv klientreferensen.", field="client_ref", status_code=400
            )
        client = await find_client(db_session, unit_id, ref)
        if client is None:
            return await self._page(
                db_session,
                form=data,
                error="Ingen klient med den referensen i enheten (eller redan raderad).",
                field="client_ref",
                status_code=404,
            )
        if data.action != "radera":
            closures = list(
                await db_session.scalars(
                    sa.select(Closure).where(Closure.client_id == client.id).order_by(Closure.closed_on)
                )
            )
            return await self._page(db_session, form=data, found=client, closures=closures)
        if str(client.id) != data.client_id:
            return await self._page(db_session, form=data, error="Sök fram klienten igen.", status_code=409)
        reason = data.reason.strip()
        if len(reason) < 5:
            return await self._page(
                db_session,
                form=data,
                found=client,
                error="Skriv varför uppgifterna raderas (till exempel: begäran från den registrerade).",
                field="reason",
                status_code=400,
            )
        try:
            erasure = await erase_client(
                db_session,
                client.id,
                now=request.app.state.clock.now(),
                actor_id=current_user(request).id,
                reason=reason[:300],
                client_ip=request.client.host if request.client else None,
            )
        except DomainError as exc:
            await db_session.rollback()
            return await self._page(db_session, form=data, error=exc.message, status_code=exc.status_code)
        await db_session.commit()
        return await self._page(db_session, done=erasure)
