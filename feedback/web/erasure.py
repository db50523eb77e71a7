"""Admin page for the right to erasure: find one client by unit and reference, erase on request.

The search is a POST (the reference never lands in a URL or an access log). Erasing needs a
reason, is audited (``contact.erase``) and stops everything in flight for the person; answers
stay, pseudonymous.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import sqlalchemy as sa
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import services
from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.errors import Conflict, InvalidInput, NotFound
from feedback.web import forms
from feedback.web.auth import client_ip
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from surveys.closures.erasure import erase_client, find_client
from surveys.closures.models import REASON_LABELS_SV, Closure

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class ErasureForm(forms.Form):
    unit: uuid.UUID
    client_ref: str
    action: str = "sok"
    client_id: str = ""
    reason: str = ""
    messages: ClassVar[dict[str, str]] = {"unit": "Välj enhet.", "client_ref": "Skriv klientreferensen."}


class ErasureController(Controller):
    path = "/admin/radering"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - read by Litestar

    async def _page(self, session: AsyncSession, *, status_code: int = 200, **context: Any) -> Template:
        base = {"units": await services.list_units(session), "form": {}, "found": None,
                "closures": [], **forms.NO_ERRORS, "done": None, "reasons": REASON_LABELS_SV}  # fmt: skip
        return Template(
            "admin/erasure.html", context={**base, **context}, status_code=status_code, headers=NO_STORE
        )

    @get("/", name="admin-erasure")
    async def form(self, db_session: NamedDependency[AsyncSession]) -> Template:
        return await self._page(db_session)

    @post("/", status_code=200, name="admin-erasure-act")
    async def act(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        """Search (``action=sok``) or erase (``action=radera``) one client of one unit."""
        shown: dict[str, Any] = {"form": forms.values(data)}

        async def action() -> dict[str, Any]:
            form = forms.parse(ErasureForm, data)
            client = await find_client(db_session, form.unit, form.client_ref[:64])
            if client is None:
                raise NotFound(
                    "Ingen klient med den referensen i enheten (eller redan raderad).", field="client_ref"
                )
            if form.action != "radera":
                query = sa.select(Closure).where(Closure.client_id == client.id).order_by(Closure.closed_on)
                return {"found": client, "closures": list(await db_session.scalars(query))}
            if str(client.id) != form.client_id:
                raise Conflict("Sök fram klienten igen.")
            reason = form.reason.strip()
            if len(reason) < 5:
                # the reason is asked for again beside the client; plain values, because submit()
                # rolls back before the form is shown again and that expires the loaded row
                shown["found"] = {
                    "id": client.id,
                    "client_ref": client.client_ref,
                    "phone_masked": client.phone_masked,
                }
                raise InvalidInput(
                    "Skriv varför uppgifterna raderas (till exempel: begäran från den registrerade).",
                    field="reason",
                )
            erasure = await erase_client(
                db_session,
                client.id,
                now=clock.now(),
                actor_id=user.id,
                reason=reason[:300],
                client_ip=client_ip(request),
            )
            return {"done": erasure, "form": {}}

        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._page(db_session, status_code=errors.status_code, **shown, **errors.context())

        async def done(result: dict[str, Any]) -> Template:
            return await self._page(db_session, **{**shown, **result})

        return await forms.submit(db_session, action, invalid=invalid, done=done)
