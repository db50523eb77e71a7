"""`POST /api/closures`, `POST /api/closures/batch`, `GET /api/closures`, `GET /api/closures/{id}`.

Thin: parse (msgspec schemas in surveys.closures.schemas, so /schema documents them), call the
closures service, convert. Errors are ProblemDetails via feedback.core.errors (401 without a session
or with an unknown/revoked key, 403 for the wrong role, a read-only key writing or a unit outside
the caller's, 400/409 for refused input). Callers: a caseworker's browser session (a POST also
needs the CSRF header ``x-csrftoken``) or a case system's API key (``Authorization: Bearer``, see
feedback.web.api_auth), whose units are the key's.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import sqlalchemy as sa
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit
from feedback.auth.scope import FORBIDDEN_SV
from feedback.core.errors import Forbidden
from feedback.core.settings import Settings
from feedback.web.api_auth import API_SECURITY
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from surveys.closures import queries
from surveys.closures import service as closures
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.importer import ParsedFile, ParsedRow, import_closures
from surveys.closures.schemas import (
    BatchRejection,
    ClosureBatch,
    ClosureBatchResult,
    ClosureCreate,
    ClosureCreated,
    ClosureDetailOut,
    ClosureOut,
    ClosurePage,
    FollowUpOut,
)
from surveys.closures.service import ClosureInput
from surveys.plans.models import FollowUp

NO_STORE = {"Cache-Control": "no-store"}


def follow_up_out(row: FollowUp | None) -> FollowUpOut | None:
    if row is None:
        return None
    return FollowUpOut(
        id=row.id,
        wave_days=row.wave_days,
        channel=row.channel.value,
        due_on=row.due_on,
        window_end=row.window_end,
        status=row.status.value,
        skip_reason=row.skip_reason,
    )


def _fields(row: queries.ClosureRow) -> dict[str, Any]:
    closure, client = row.closure, row.client
    return {
        "id": closure.id,
        "unit_id": closure.unit_id,
        "client_ref": client.client_ref,
        "closed_on": closure.closed_on,
        "reason": closure.reason.value,
        "returned_on": closure.returned_on,
        "language": client.language.value,
        "phone_masked": client.phone_masked,
        "do_not_contact": client.do_not_contact,
        "protected_identity": client.protected_identity,
        "consent_on": client.consent_on,
        "consent_withdrawn": client.consent_withdrawn_at is not None,
        "status": row.status,
        "next_follow_up": follow_up_out(row.next_follow_up),
    }


def detail_out(detail: queries.ClosureDetail) -> ClosureDetailOut:
    return ClosureDetailOut(
        **_fields(detail), follow_ups=[f for f in map(follow_up_out, detail.follow_ups) if f is not None]
    )


def closure_input(data: ClosureCreate) -> ClosureInput:
    return ClosureInput(
        client_ref=data.client_ref,
        closed_on=data.closed_on,
        reason=data.reason,
        phone=data.phone,
        language=data.language,
        consent_on=data.consent_on,
        consent_channel=data.consent_channel,
        consent_given_by=data.consent_given_by,
        do_not_contact=data.do_not_contact,
        protected_identity=data.protected_identity,
    )


async def _unit_id(session: AsyncSession, raw: str, allowed: frozenset[uuid.UUID]) -> uuid.UUID:
    """A unit code (or id) the caller belongs to; anything else is 403 (no existence oracle)."""
    value = raw.strip()
    try:
        unit_id: uuid.UUID | None = uuid.UUID(value)
    except ValueError:
        unit_id = await session.scalar(sa.select(Unit.id).where(sa.func.lower(Unit.code) == value.lower()))
    if unit_id is None or unit_id not in allowed:
        raise Forbidden(FORBIDDEN_SV, field="unit")
    return unit_id


class ClosuresApiController(Controller):
    path = "/api/closures"
    tags = ["closures"]  # noqa: RUF012 - read by Litestar
    guards = [requires_role(Role.CASEWORKER, Role.MANAGER, Role.INTEGRATION)]  # noqa: RUF012 - read by Litestar
    security = API_SECURITY  # read by Litestar; the session cookie is documented app-wide

    @post(
        "/",
        guards=[requires_role(Role.CASEWORKER, Role.INTEGRATION)],
        summary="Register a closure (idempotent on unit + client_ref + closed_on)",
        description="201 when a closure was created, 200 when it existed (changed says whether "
        "contact data or the reason changed). A client_ref that looks like a personnummer is "
        "refused with 400 and never stored.",
    )
    async def create(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: JSONBody[ClosureCreate],
    ) -> Response[ClosureCreated]:
        unit_id = await _unit_id(db_session, data.unit, user.unit_ids)
        registration = await closures.register_closure(
            db_session,
            unit_id=unit_id,
            data=closure_input(data),
            phones=VaultPhoneProtector(settings),
            actor_id=user.id,
            now=clock.now(),
            min_gap_days=settings.contact_min_gap_days,
        )
        detail = await queries.closure_detail(db_session, registration.closure.id, user.unit_ids)
        body = ClosureCreated(
            created=registration.created, changed=registration.changed, closure=detail_out(detail)
        )
        await db_session.commit()
        return Response(body, status_code=201 if registration.created else 200, headers=NO_STORE)

    @post(
        "/batch",
        guards=[requires_role(Role.CASEWORKER, Role.INTEGRATION)],
        status_code=200,
        summary="Register a batch of closures (idempotent on unit + client_ref + closed_on)",
        description="Up to 1000 closures in one call, for a case system's nightly export. Each "
        "item is registered on its own: a refused item is listed in `rejected` (with its 1-based "
        "`row` and a Swedish reason) and does not stop the others. Sending the same batch again "
        "creates nothing (`unchanged`). Every item's `unit` must be one of the caller's units. "
        "A client_ref that looks like a personnummer is refused and never stored or echoed.",
    )
    async def batch(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: JSONBody[ClosureBatch],
    ) -> Response[ClosureBatchResult]:
        units = await db_session.execute(sa.select(Unit.id, Unit.code).where(Unit.id.in_(user.unit_ids)))
        by_code = {code.lower(): unit_id for unit_id, code in units}
        by_code.update({str(unit_id): unit_id for unit_id in user.unit_ids})
        parsed = ParsedFile(
            rows=[ParsedRow(row, item.unit.strip().lower(), closure_input(item))
                  for row, item in enumerate(data.closures, start=1)]
        )  # fmt: skip
        report = await import_closures(
            db_session,
            parsed,
            default_unit_id=None,
            units_by_code=by_code,
            phones=VaultPhoneProtector(settings),
            actor_id=user.id,
            now=clock.now(),
            min_gap_days=settings.contact_min_gap_days,
        )
        await db_session.commit()
        body = ClosureBatchResult(
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=[BatchRejection(row=r.line, message=r.reason, client_ref=r.ref)
                      for r in report.rejected],
        )  # fmt: skip
        return Response(body, headers=NO_STORE)

    @get("/", summary="Closures in my units, newest first, with the next follow-up")
    async def index(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        unit: Annotated[str | None, QueryParameter(max_length=64)] = None,
        client_ref: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> Response[ClosurePage]:
        unit_id = await _unit_id(db_session, unit, user.unit_ids) if unit else None
        rows, total = await queries.list_closures(
            db_session, user.unit_ids, unit_id=unit_id, client_ref=client_ref, limit=limit, offset=offset
        )
        page = ClosurePage(
            total=total, limit=limit, offset=offset, items=[ClosureOut(**_fields(r)) for r in rows]
        )
        return Response(page, headers=NO_STORE)

    @get("/{closure_id:uuid}", summary="One closure with all its follow-ups")
    async def show(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        closure_id: FromPath[uuid.UUID],
    ) -> Response[ClosureDetailOut]:
        detail = await queries.closure_detail(db_session, closure_id, user.unit_ids)
        return Response(detail_out(detail), headers=NO_STORE)
