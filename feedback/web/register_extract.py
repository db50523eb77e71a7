"""Registerutdrag (``/admin/registerutdrag/``): one client's data as a page, a PDF and JSON.

The search is a POST (the reference never lands in a URL or an access log). Each format is a
separate read of contact data and is audited (``client.extract``); the decrypted number is in
the answer to that POST only (no-store), never in a link.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import services
from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.clock import STOCKHOLM
from feedback.core.errors import InvalidInput, NotFound
from feedback.core.settings import Settings
from feedback.reports import exports
from feedback.web import forms
from feedback.web.auth import client_ip
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.erasure import find_client
from surveys.closures.extract import KIND_LABELS_SV, RegisterExtract, as_json, build_extract

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
FORMATS = ("visa", "pdf", "json")


class ExtractForm(forms.Form):
    unit: uuid.UUID
    client_ref: str
    format: str = "visa"
    messages: ClassVar[dict[str, str]] = {"unit": "Välj enhet.", "client_ref": "Skriv klientreferensen."}


class RegisterExtractController(Controller):
    path = "/admin/registerutdrag"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - read by Litestar

    async def _page(self, session: AsyncSession, *, status_code: int = 200, **context: Any) -> Template:
        base = {"units": await services.list_units(session), "form": {}, "extract": None,
                "kinds": KIND_LABELS_SV, **forms.NO_ERRORS}  # fmt: skip
        return Template(
            "admin/register_extract.html",
            context={**base, **context},
            status_code=status_code,
            headers=NO_STORE,
        )

    @get("/", name="admin-register-extract")
    async def form(self, db_session: NamedDependency[AsyncSession]) -> Template:
        return await self._page(db_session)

    @post("/", status_code=200, name="admin-register-extract-make")
    async def make(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        shown = forms.values(data)

        async def action() -> tuple[str, RegisterExtract]:
            form = forms.parse(ExtractForm, data)
            if form.format not in FORMATS:
                raise InvalidInput("Välj format.", field="format")
            unit = await services.get_unit(db_session, form.unit)
            client = await find_client(db_session, form.unit, form.client_ref[:64])
            if client is None:
                raise NotFound(
                    "Ingen klient med den referensen i enheten (eller uppgifterna är raderade).",
                    field="client_ref",
                )
            extract = await build_extract(
                db_session, client, unit_name=unit.name, phones=VaultPhoneProtector(settings),
                actor_id=user.id, now=clock.now(), purpose=form.format, client_ip=client_ip(request),
            )  # fmt: skip
            return form.format, extract

        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._page(
                db_session, status_code=errors.status_code, form=shown, **errors.context()
            )

        async def done(result: tuple[str, RegisterExtract]) -> Response[Any]:
            fmt, extract = result
            ref = extract.client.client_ref or "klient"
            safe_ref = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in ref)[:40]
            if fmt == "json":
                body = json.dumps(as_json(extract), ensure_ascii=False, indent=2).encode()
                return Response(
                    body,
                    media_type="application/json; charset=utf-8",
                    headers={
                        **NO_STORE,
                        "Content-Disposition": f'attachment; filename="registerutdrag-{safe_ref}.json"',
                    },
                )
            if fmt == "pdf":
                engine = request.app.template_engine
                assert engine is not None  # configured in create_app
                html = engine.get_template("admin/register_extract_print.html").render(
                    extract=extract, kinds=KIND_LABELS_SV, made=extract.made_at.astimezone(STOCKHOLM),
                    request=request, csrf_input="",
                )  # fmt: skip
                pdf = await anyio.to_thread.run_sync(exports.pdf_bytes, html, str(request.base_url))
                return Response(
                    pdf,
                    media_type="application/pdf",
                    headers={
                        **NO_STORE,
                        "Content-Disposition": f'attachment; filename="registerutdrag-{safe_ref}.pdf"',
                    },
                )
            return await self._page(db_session, form=shown, extract=extract)

        return await forms.submit(db_session, action, invalid=invalid, done=done)
