"""Loggkontroll (``/admin/logg/``) for the admin and the granskare: filter, stickprov, CSV.

The filter form is a POST (a client reference typed into it never lands in a URL or an access
log); the first GET shows the last seven days. Every view, sample and export is written to the
audit log before the answer goes out (``feedback.auth.audit_log.record_review``).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date, timedelta
from typing import Any, ClassVar

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import audit_log
from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.clock import STOCKHOLM
from feedback.core.csvfiles import excel_csv
from feedback.core.errors import DomainError
from feedback.web import forms
from feedback.web.auth import client_ip
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
PAGE_SIZE = 100


class FilterForm(forms.Form):
    fran: date | None = None
    till: date | None = None
    anvandare: uuid.UUID | None = None
    handelse: str = ""
    klient: str = ""
    sida: int = 0
    messages: ClassVar[dict[str, str]] = {
        "fran": "Skriv datumet som ÅÅÅÅ-MM-DD.",
        "till": "Skriv datumet som ÅÅÅÅ-MM-DD.",
        "anvandare": "Okänd användare.",
        "sida": "Okänd sida.",
    }


class SampleForm(forms.Form):
    fran: date | None = None
    till: date | None = None
    antal: int = 20
    nummer: int | None = None
    messages: ClassVar[dict[str, str]] = {
        "fran": "Skriv datumet som ÅÅÅÅ-MM-DD.",
        "till": "Skriv datumet som ÅÅÅÅ-MM-DD.",
        "antal": "Skriv antalet som ett heltal.",
        "nummer": "Stickprovets nummer är ett heltal.",
    }


def _filter(form: FilterForm, today: date) -> audit_log.AuditFilter:
    return audit_log.AuditFilter(
        start=form.fran or today - timedelta(days=6),
        end=form.till or today,
        actor_id=form.anvandare,
        action=form.handelse or None,
        client_ref=form.klient.strip()[:64] or None,
    )


class AuditLogController(Controller):
    path = "/admin/logg"
    guards = [requires_role(Role.ADMIN, Role.AUDITOR)]  # noqa: RUF012 - read by Litestar

    async def _page(self, session: AsyncSession, *, status_code: int = 200, **context: Any) -> Template:
        base = {
            "actions": audit_log.ACTION_LABELS_SV,
            "actors": await audit_log.actors(session),
            "form": {},
            "page": None,
            "sample": None,
            "sample_form": {},
            "page_size": PAGE_SIZE,
            **forms.NO_ERRORS,
        }
        return Template(
            "admin/audit_log.html", context={**base, **context}, status_code=status_code, headers=NO_STORE
        )

    async def _search(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        clock: AppClock,
        user: CurrentUser,
        data: forms.RawForm,
    ) -> Response[Any]:
        shown = forms.values(data)
        today = clock.now().astimezone(STOCKHOLM).date()

        async def action() -> dict[str, Any]:
            form = forms.parse(FilterForm, data)
            wanted = _filter(form, today)
            offset = max(form.sida, 0) * PAGE_SIZE
            page = await audit_log.search(session, wanted, limit=PAGE_SIZE, offset=offset)
            await audit_log.record_review(
                session, actor_id=user.id, action="audit.read", wanted=wanted, client_ids=page.client_ids,
                rows=len(page.rows), client_ip=client_ip(request), now=clock.now(),
            )  # fmt: skip
            form_values = {**shown, "fran": wanted.start.isoformat(), "till": wanted.end.isoformat()}
            return {"page": page, "form": form_values, "sida": max(form.sida, 0)}

        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._page(session, status_code=errors.status_code, form=shown, **errors.context())

        async def done(result: dict[str, Any]) -> Template:
            return await self._page(session, **result)

        return await forms.submit(session, action, invalid=invalid, done=done)

    @get("/", name="admin-audit-log")
    async def index(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
    ) -> Response[Any]:
        return await self._search(request, db_session, clock, user, {})

    @post("/", status_code=200, name="admin-audit-log-search")
    async def search(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        return await self._search(request, db_session, clock, user, data)

    @post("/stickprov", status_code=200, name="admin-audit-log-sample")
    async def sample(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        shown = forms.values(data)
        today = clock.now().astimezone(STOCKHOLM).date()

        async def action() -> dict[str, Any]:
            form = forms.parse(SampleForm, data)
            start, end = form.fran or today - timedelta(days=30), form.till or today
            seed = form.nummer if form.nummer is not None else secrets.randbelow(1_000_000)
            rows, total = await audit_log.sample(db_session, start, end, size=form.antal, seed=seed)
            await audit_log.record_review(
                db_session, actor_id=user.id, action="audit.sample",
                wanted=audit_log.AuditFilter(start=start, end=end), rows=len(rows),
                client_ip=client_ip(request), now=clock.now(), extra={"seed": seed, "size": form.antal},
            )  # fmt: skip
            return {
                "sample": {"rows": rows, "total": total, "seed": seed, "start": start, "end": end},
                "sample_form": {
                    **shown,
                    "fran": start.isoformat(),
                    "till": end.isoformat(),
                    "nummer": str(seed),
                },
            }

        async def invalid(errors: forms.FormErrors) -> Template:
            return await self._page(
                db_session, status_code=errors.status_code, sample_form=shown, **errors.context()
            )

        async def done(result: dict[str, Any]) -> Template:
            return await self._page(db_session, **result)

        return await forms.submit(db_session, action, invalid=invalid, done=done)

    @post("/export.csv", status_code=200, name="admin-audit-log-export")
    async def export(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[AppClock],
        user: NamedDependency[CurrentUser],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        """The filtered log as a CSV for Excel (cells neutralised against formula injection)."""
        today = clock.now().astimezone(STOCKHOLM).date()
        try:
            wanted = _filter(forms.parse(FilterForm, data), today)
        except DomainError:
            await db_session.rollback()
            raise
        found = await audit_log.all_matching(db_session, wanted)
        await audit_log.record_review(
            db_session, actor_id=user.id, action="audit.export", wanted=wanted,
            client_ids=found.client_ids, rows=found.total, client_ip=client_ip(request), now=clock.now(),
        )  # fmt: skip
        await db_session.commit()
        name = f"logg-{wanted.start.isoformat()}-{wanted.end.isoformat()}.csv"
        return Response(
            excel_csv(audit_log.csv_rows(found.rows)),
            media_type="text/csv; charset=utf-8",
            headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
        )
