"""Admin page for service accounts and their API keys (``/admin/api-nycklar``).

The key is shown once, in the answer to the form that made it (never stored in clear, never in
a URL); the list shows name, scope, units, the key's first characters, last use and state.
Creating and revoking are audited (``api_token.create`` / ``api_token.revoke``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import api_tokens, services
from feedback.auth.identity import CurrentUser
from feedback.auth.models import TOKEN_SCOPE_LABELS_SV, ApiToken, Role
from feedback.core.errors import InvalidInput, NotFound
from feedback.web import forms
from feedback.web.auth import client_ip
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
NOTICES_SV = {"aterkallad": "Nyckeln är återkallad. Anrop med den nekas från och med nu."}


def _chosen_units(data: forms.RawForm) -> list[uuid.UUID]:
    raw = data.get("units", [])
    values = [raw] if isinstance(raw, str) else list(raw)
    try:
        return [uuid.UUID(v) for v in values if v.strip()]
    except ValueError as exc:
        raise InvalidInput("Okänd enhet.", field="units") from exc


class ApiTokensController(Controller):
    path = "/admin/api-nycklar"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - read by Litestar

    async def _page(self, session: AsyncSession, *, status_code: int = 200, **context: Any) -> Template:
        base = {
            "tokens": await api_tokens.list_tokens(session),
            "units": await services.list_units(session),
            "scopes": TOKEN_SCOPE_LABELS_SV,
            "form": {},
            "chosen_units": [],
            "issued": None,
            "notice": None,
            **forms.NO_ERRORS,
        }
        return Template(
            "admin/api_tokens.html", context={**base, **context}, status_code=status_code, headers=NO_STORE
        )

    @get("/", name="admin-api-tokens")
    async def index(
        self,
        db_session: NamedDependency[AsyncSession],
        notice: Annotated[str | None, QueryParameter(name=forms.NOTICE_PARAM, max_length=32)] = None,
    ) -> Template:
        return await self._page(db_session, notice=NOTICES_SV.get(notice or ""))

    @post("/", status_code=200, name="admin-api-tokens-create")
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        shown = forms.values(data)
        raw_units = data.get("units", [])
        chosen = [raw_units] if isinstance(raw_units, str) else list(raw_units)

        async def action() -> api_tokens.IssuedToken:
            return await api_tokens.create_token(
                db_session,
                name=shown.get("name", ""),
                unit_ids=_chosen_units(data),
                scope=shown.get("scope", ""),
                created_by=user.id,
                now=clock.now(),
                client_ip=client_ip(request),
            )

        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._page(
                db_session,
                status_code=errors.status_code,
                form=shown,
                chosen_units=chosen,
                **errors.context(),
            )

        async def done(issued: api_tokens.IssuedToken) -> Template:
            return await self._page(db_session, issued={"name": issued.token.name, "key": issued.key})

        return await forms.submit(db_session, action, invalid=invalid, done=done)

    @post("/{token_id:uuid}/aterkalla", status_code=303, name="admin-api-tokens-revoke")
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        token_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        token = await db_session.get(ApiToken, token_id)
        if token is None:
            raise NotFound("Nyckeln finns inte.")
        name = token.name

        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._page(db_session, status_code=errors.status_code, **errors.context())

        return await forms.submit(
            db_session,
            lambda: api_tokens.revoke_token(
                db_session, name=name, revoked_by=user.id, now=clock.now(), client_ip=client_ip(request)
            ),
            invalid=invalid,
            done=lambda _: forms.redirect("/admin/api-nycklar/", "aterkallad"),
        )
