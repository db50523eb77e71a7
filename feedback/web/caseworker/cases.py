"""Inner-loop case pages: open cases in my units, detail, take ownership, close with an action note."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import sqlalchemy as sa
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, User
from feedback.core import audit
from feedback.core.clock import Clock
from feedback.core.errors import InvalidInput
from feedback.core.settings import Settings
from feedback.reports.reviews import mark_withdrawn_quotes
from feedback.web import forms
from feedback.web.caseworker.common import PRIVATE_HEADERS, client_refs, parse_uuid, unit_names
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from surveys.cases import service
from surveys.cases.models import (
    PRIORITY_LABELS_SV,
    TRIGGER_LABELS_SV,
    Case,
    CaseEventKind,
    CasePriority,
    CaseStatus,
    CaseTrigger,
)
from surveys.closures.models import Client, Closure

# The list's "Visa" filter: open cases (the default: the work to do), closed ones, or both.
SHOW_STATUS: dict[str, CaseStatus | None] = {
    "oppna": CaseStatus.OPEN,
    "stangda": CaseStatus.CLOSED,
    "alla": None,
}
SHOW_LABELS_SV = {"oppna": "Öppna ärenden", "stangda": "Stängda ärenden", "alla": "Alla ärenden"}
LIST_LIMIT = 200
NOTICES_SV = {
    "closed": "Ärendet är stängt.",
    "taken": "Du är nu ansvarig för ärendet.",
    "quotes_withdrawn": "Klart. Inget som personen har skrivit eller sagt visas längre som citat.",
}
SOURCES_SV = {"sms": "Sms", "phone": "Telefon", "web": "Webb"}
EVENTS_SV = {
    CaseEventKind.OPENED: "Ärendet öppnades",
    CaseEventKind.MESSAGE: "Meddelande från personen",
    CaseEventKind.PRIORITY_RAISED: "Prioriteten höjdes",
    CaseEventKind.REASON_ADDED: "Ny anledning till ärendet",
}


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
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
        visa: FromQuery[str] = "oppna",
        enhet: FromQuery[str] = "",
        varfor: FromQuery[str] = "",
    ) -> Template:
        today = service.local_today(clock.now())
        if visa not in SHOW_STATUS:
            raise InvalidInput("Välj öppna, stängda eller alla ärenden.", field="visa")
        unit_id = parse_uuid(enhet) if enhet else None
        if enhet and unit_id not in user.unit_ids:
            raise InvalidInput("Välj en av dina enheter.", field="enhet")
        try:
            trigger = CaseTrigger(varfor) if varfor else None
        except ValueError as exc:
            raise InvalidInput("Välj en av anledningarna i listan.", field="varfor") from exc
        filters: dict[str, Any] = {"status": SHOW_STATUS[visa], "unit_id": unit_id, "trigger": trigger}
        cases = await service.list_cases(db_session, user.unit_ids, limit=LIST_LIMIT, **filters)
        total = await service.count_cases(db_session, user.unit_ids, **filters)
        closures = {c.id: c.client_id for c in await db_session.scalars(
            sa.select(Closure).where(Closure.id.in_([case.closure_id for case in cases])))}  # fmt: skip
        refs = await client_refs(db_session, closures.values())
        return Template(
            "caseworker/cases.html",
            context={
                "cases": cases,
                "total": total,
                "limit": LIST_LIMIT,
                "units": await unit_names(db_session, user.unit_ids),
                "refs": {
                    case.id: refs.get(closures[case.closure_id], "–") if case.closure_id in closures else "–"
                    for case in cases
                },
                "owners": await _user_names(
                    db_session, [c.owner_id for c in cases] + [c.closed_by_id for c in cases]
                ),
                "triggers": TRIGGER_LABELS_SV,
                "priorities": PRIORITY_LABELS_SV,
                "akut": CasePriority.AKUT,
                "open": CaseStatus.OPEN,
                "today": today,
                "me_id": user.id,
                "notice": NOTICES_SV.get(notice),
                "show": visa,
                "show_labels": SHOW_LABELS_SV,
                "filter_unit": str(unit_id) if unit_id else "",
                "filter_trigger": trigger.value if trigger else "",
                "filtered": bool(unit_id or trigger),
            },
            headers=PRIVATE_HEADERS,
        )

    async def _detail(
        self,
        session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        case: Case,
        *,
        errors: forms.FormErrors | None = None,
        form: dict[str, str] | None = None,
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
                "priority": PRIORITY_LABELS_SV.get(case.priority, str(case.priority)),
                "is_akut": case.priority == CasePriority.AKUT,
                "taken": case.taken_at is not None,
                "timeline": await service.case_timeline(session, case.id),
                "events": EVENTS_SV,
                "priorities": PRIORITY_LABELS_SV,
                "source": SOURCES_SV.get(case.source, case.source),
                "is_open": case.status is CaseStatus.OPEN,
                "mine": case.owner_id == user.id,
                "today": service.local_today(clock.now()),
                **(errors.context() if errors else forms.NO_ERRORS),
                "form": form or {},
                "notice": notice,
            },
            status_code=errors.status_code if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/{case_id:uuid}", name="case")
    async def detail(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        case_id: FromPath[uuid.UUID],
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
    ) -> Template:
        case = await service.get_case(db_session, case_id, user.unit_ids)
        return await self._detail(db_session, user, clock, case, notice=NOTICES_SV.get(notice))

    @post("/{case_id:uuid}/take", status_code=303, name="case_take")
    async def take(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        case_id: FromPath[uuid.UUID],
    ) -> Redirect:
        case = await service.get_case(db_session, case_id, user.unit_ids)
        await service.take_case(db_session, case, user_id=user.id, now=clock.now())
        await db_session.commit()
        return forms.redirect(f"/caseworker/cases/{case_id}", "taken")

    @post("/{case_id:uuid}/withdraw-quotes", status_code=303, name="case_withdraw_quotes")
    async def withdraw_quotes(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        case_id: FromPath[uuid.UUID],
    ) -> Redirect:
        """The person told a caseworker they no longer want to be quoted: consent off everywhere.

        Withdrawn for everything the client answered (all closures, SMS and phone); the report
        stops quoting it at once and review findings that held it are marked, in one transaction.
        """
        from surveys.answers.service import client_respondent_keys, withdraw_quote_consent

        case = await service.get_case(db_session, case_id, user.unit_ids)
        closure = await db_session.get(Closure, case.closure_id)
        withdrawn: list[uuid.UUID] = []
        if closure is not None:
            keys = await client_respondent_keys(db_session, settings.secret_key, closure.client_id)
            withdrawn = await withdraw_quote_consent(db_session, respondent_keys=keys)
            await mark_withdrawn_quotes(db_session, withdrawn)
            await audit.record(
                db_session,
                actor_id=user.id,
                action="quote.consent_withdrawn",
                subject_type="client",
                subject_id=closure.client_id,
                reason="Personen drog tillbaka sitt samtycke till citat (ärendesidan)",
                detail={"case_id": str(case.id), "open_texts": len(withdrawn)},
            )
        await db_session.commit()
        return forms.redirect(f"/caseworker/cases/{case_id}", "quotes_withdrawn")

    @post("/{case_id:uuid}/close", status_code=303, name="case_close")
    async def close(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        case_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.values(data)
        case = await service.get_case(db_session, case_id, user.unit_ids)

        async def invalid(errors: forms.FormErrors) -> Template:
            again = await service.get_case(db_session, case_id, user.unit_ids)
            # The note is the form's only field: whatever was refused, it is where the user fixes it.
            refused = forms.FormErrors.single(errors.message, "action_note", errors.status_code)
            return await self._detail(db_session, user, clock, again, errors=refused, form=form)

        return await forms.submit(
            db_session,
            lambda: service.close_case(
                db_session, case, user_id=user.id, action_note=form.get("action_note", ""), now=clock.now()
            ),
            invalid=invalid,
            done=lambda _: forms.redirect("/caseworker/cases/", "closed"),
        )
