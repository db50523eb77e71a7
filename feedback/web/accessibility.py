"""Tillgänglighetsredogörelse (``/tillganglighet``, public, linked from every page's footer) with a
form that stores reported problems, and the admin's list of them (``/admin/tillganglighet``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import accessibility
from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.web import forms
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role


class StatementController(Controller):
    path = "/tillganglighet"

    @get("/", opt={"public": True}, name="accessibility")
    async def statement(
        self, notice: Annotated[str | None, QueryParameter(name=forms.NOTICE_PARAM, max_length=32)] = None
    ) -> Template:
        context = {"form": {}, "sent": notice == "skickad", **forms.NO_ERRORS}
        return Template("accessibility.html", context=context)

    @post("/", opt={"public": True}, status_code=303, name="accessibility-report")
    async def report(
        self,
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        shown = forms.values(data)

        async def invalid(errors: forms.FormErrors) -> Template:
            context = {"form": shown, "sent": False, **errors.context()}
            return Template("accessibility.html", context=context, status_code=errors.status_code)

        return await forms.submit(
            db_session,
            lambda: accessibility.submit(
                db_session,
                page=shown.get("page", ""),
                description=shown.get("description", ""),
                reply_to=shown.get("reply_to", ""),
                now=clock.now(),
            ),
            invalid=invalid,
            done=lambda _: forms.redirect("/tillganglighet/", "skickad", fragment="rapportera"),
        )


class AccessibilityReportsController(Controller):
    path = "/admin/tillganglighet"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - read by Litestar

    @get("/", name="admin-accessibility")
    async def index(self, db_session: NamedDependency[AsyncSession]) -> Template:
        reports = await accessibility.list_reports(db_session)
        return Template("admin/accessibility.html", context={"reports": reports})

    @post("/{report_id:uuid}/hanterad", status_code=303, name="admin-accessibility-handled")
    async def handled(
        self,
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        report_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        await accessibility.mark_handled(db_session, report_id, by=user.id, now=clock.now())
        await db_session.commit()
        return forms.redirect("/admin/tillganglighet/")
