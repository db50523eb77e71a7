"""Inner-loop case pages: open cases in my units, detail, take ownership, close with an action note."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role, User
from feedback.core.errors import DomainError
from feedback.web.caseworker.common import PRIVATE_HEADERS, client_refs, unit_names
from feedback.web.guards import current_user, requires_role
from surveys.cases import service
from surveys.cases.models import TRIGGER_LABELS_SV, Case, CaseStatus
from surveys.closures.models import Client, Closure

NOTICES_SV = {"closed": "Ärendet är stängt.", "taken": "Du är nu ansvarig för ärendet."}
SOURCES_SV = {"sms": "Sms", "phone": "Telefon", "web": "Webb"}


class CloseForm(msgspec.Struct):
    action_note: str = ""


async def _user_names(session: AsyncSession, ids: list[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = [i for i in set(ids) if i is not None]
    if not wanted:
        return {}
    rows = await session.execute(sa.select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {row.id: row.display_name for row in rows}


class CasesController(Controller):
    """Caseworkers: the inner loop of their own units (every query is filtered by unit)."""

    path = "/caseworker/cases"
    guards = [requires_role(Role.CASEWORKER)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", name="cases")
    async def index(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        notice: FromQuery[str] = "",
    ) -> Template:
        user = current_user(request)
        today = service.local_today(request.app.state.clock.now())
        cases = await service.list_cases(db_session, user.unit_ids)
        closures = {c.id: c.client_id for c in await db_session.scalars(
            sa.select(Closure).where(Closure.id.in_([case.closure_id for case in cases])))}  # fmt: skip
        refs = await client_refs(db_session, closures.values())
        return Template(
            "caseworker/cases.html",
            context={
                "cases": cases,
                "units": await unit_names(db_session, [c.unit_id for c in cases]),
                "refs": {case.id: refs.get(closures.get(case.closure_id), "–") for case in cases},
                "owners": await _user_names(db_session, [c.owner_id for c in cases]),
                "triggers": TRIGGER_LABELS_SV,
                "today": today,
                "me": user.id,
                "notice": NOTICES_SV.get(notice),
            },
            headers=PRIVATE_HEADERS,
        )

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        case: Case,
        *,
        error: str | None = None,
        form: CloseForm | None = None,
        notice: str | None = None,
    ) -> Template:
        closure = await session.get(Closure, case.closure_id)
        client = await session.get(Client, closure.client_id) if closure else None
        names = await _user_names(session, [case.owner_id, case.closed_by_id])
        return Template(
            "caseworker/case.html",
            context={
                "case": case,
                "closure": closure,
                "client_ref": client.client_ref if client else None,
                "unit_name": (await unit_names(session, [case.unit_id])).get(case.unit_id, ""),
                "owner": names.get(case.owner_id) if case.owner_id else None,
                "closed_by": names.get(case.closed_by_id) if case.closed_by_id else None,
                "trigger": TRIGGER_LABELS_SV.get(case.trigger, str(case.trigger)),
                "source": SOURCES_SV.get(case.source, case.source),
                "is_open": case.status is CaseStatus.OPEN,
                "mine": case.owner_id == current_user(request).id,
                "today": service.local_today(request.app.state.clock.now()),
                "error": error,
                "form": form or CloseForm(),
                "notice": notice,
            },
            status_code=400 if error else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/{case_id:uuid}", name="case")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        case_id: FromPath[uuid.UUID],
        notice: FromQuery[str] = "",
    ) -> Template:
        case = await service.get_case(db_session, case_id, current_user(request).unit_ids)
        return await self._detail(request, db_session, case, notice=NOTICES_SV.get(notice))

    @post("/{case_id:uuid}/take", status_code=303)
    async def take(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        case_id: FromPath[uuid.UUID],
    ) -> Redirect:
        user = current_user(request)
        case = await service.get_case(db_session, case_id, user.unit_ids)
        await service.take_case(db_session, case, user_id=user.id)
        await db_session.commit()
        return Redirect(path=f"/caseworker/cases/{case_id}?notice=taken", status_code=303)

    @post("/{case_id:uuid}/close", status_code=303)
    async def close(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        case_id: FromPath[uuid.UUID],
        data: Annotated[CloseForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        user = current_user(request)
        case = await service.get_case(db_session, case_id, user.unit_ids)
        try:
            await service.close_case(
                db_session,
                case,
                user_id=user.id,
                action_note=data.action_note,
                now=request.app.state.clock.now(),
            )
        except DomainError as exc:
            await db_session.rollback()
            case = await service.get_case(db_session, case_id, user.unit_ids)
            page = await self._detail(request, db_session, case, error=exc.message, form=data)
            page.status_code = exc.status_code
            return page
        await db_session.commit()
        return Redirect(path="/caseworker/cases/?notice=closed", status_code=303)
