"""Caseworker pages for closures: register, list with the follow-up schedule, detail, CSV import.

Caseworkers register and change closures in their own units; managers may look. Phone numbers
are shown masked only (the stored mask; nothing is decrypted here). Every form posts with CSRF;
bad input re-renders the form with Swedish messages next to the fields (400), never a 500.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role, Unit
from feedback.core import audit
from feedback.core.errors import DomainError, InvalidInput
from feedback.web.caseworker.common import PRIVATE_HEADERS, parse_uuid, unit_names
from feedback.web.guards import current_user, requires_role
from surveys.closures import changes, queries
from surveys.closures import service as closures
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.importer import ImportFileError, import_closures, parse_csv
from surveys.closures.models import (
    CONSENT_CHANNEL_LABELS_SV,
    CONSENT_GIVEN_BY_LABELS_SV,
    LANGUAGE_LABELS_SV,
    REASON_LABELS_SV,
    Client,
)
from surveys.closures.schemas import ClosureFormData, validate_closure_form
from surveys.outcomes.models import OUTCOME_LABELS_SV
from surveys.plans.service import local_date

PAGE_SIZE = 50
MAX_UPLOAD_BYTES = 2_000_000
NOTICES_SV = {
    "registered": "Avslutet är registrerat och uppföljningarna är planerade.",
    "unchanged": "Avslutet fanns redan med samma uppgifter. Inget ändrades.",
    "changed": "Ändringen är sparad och uppföljningarna är planerade om.",
    "returned": "Återaktualiseringen är registrerad. Resten av uppföljningarna är avbrutna.",
    "dnc_on": "Personen är markerad: kontakta ej. Pågående utskick och samtal är stoppade.",
    "dnc_off": "Markeringen kontakta ej är borttagen.",
    "consent": "Samtycket är återkallat. Pågående utskick och samtal är stoppade.",
}


class ChangeForm(msgspec.Struct):
    closed_on: str = ""
    reason: str = ""


class ReturnForm(msgspec.Struct):
    returned_on: str = ""


class FlagForm(msgspec.Struct):
    value: str = ""


class ImportForm(msgspec.Struct):
    file: UploadFile | None = None
    unit: str = ""


def _now(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.clock.now()


def _choices() -> dict[str, Any]:
    return {
        "reasons": {k.value: v for k, v in REASON_LABELS_SV.items()},
        "languages": {k.value: v for k, v in LANGUAGE_LABELS_SV.items()},
        "channels": {k.value: v for k, v in CONSENT_CHANNEL_LABELS_SV.items()},
        "given_by": {k.value: v for k, v in CONSENT_GIVEN_BY_LABELS_SV.items()},
        "status_labels": queries.STATUS_LABELS_SV,
        "skip_labels": queries.SKIP_LABELS_SV,
        "fu_status": queries.FOLLOW_UP_STATUS_SV,
        "channel_labels": queries.CHANNEL_LABELS_SV,
        "outcome_labels": {k.value: v for k, v in OUTCOME_LABELS_SV.items()},
    }


class ClosuresController(Controller):
    """Caseworkers (write) and managers (read) in their own units."""

    path = "/caseworker/closures"
    guards = [requires_role(Role.CASEWORKER, Role.MANAGER)]  # noqa: RUF012 - read by Litestar

    # ------------------------------------------------------------------ list
    @get("/", name="closures")
    async def index(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        enhet: FromQuery[str] = "",
        ref: FromQuery[str] = "",
        sida: FromQuery[int] = 1,
    ) -> Template:
        user = current_user(request)
        page = max(1, min(sida, 10_000))
        unit_id = parse_uuid(enhet) if enhet else None
        rows, total = await queries.list_closures(
            db_session,
            user.unit_ids,
            unit_id=unit_id if unit_id in user.unit_ids else None,
            client_ref=ref[:64] or None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        return Template(
            "caseworker/closures.html",
            context={
                "rows": rows,
                "total": total,
                "page": page,
                "pages": max(1, -(-total // PAGE_SIZE)),
                "units": await unit_names(db_session, user.unit_ids),
                "filter_unit": str(unit_id) if unit_id in user.unit_ids else "",
                "filter_ref": ref[:64],
                "can_write": user.role == Role.CASEWORKER,
                **_choices(),
            },
            headers=PRIVATE_HEADERS,
        )

    # ------------------------------------------------------------------ register
    async def _form_page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        *,
        form: ClosureFormData | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        user = current_user(request)
        today = local_date(_now(request))
        return Template(
            "caseworker/closure_new.html",
            context={
                "form": form or ClosureFormData(closed_on=today.isoformat()),
                "errors": errors or {},
                "units": await unit_names(session, user.unit_ids),
                "today": today.isoformat(),
                **_choices(),
            },
            status_code=status_code,
            headers=PRIVATE_HEADERS,
        )

    @get("/ny", name="closure_new", guards=[requires_role(Role.CASEWORKER)])
    async def new(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        return await self._form_page(request, db_session)

    @post("/ny", status_code=303, guards=[requires_role(Role.CASEWORKER)])
    async def register(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[ClosureFormData, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        user = current_user(request)
        settings = request.app.state.settings
        now = _now(request)
        errors, unit_id, closure_input = validate_closure_form(data, user.unit_ids, today=local_date(now))
        if errors or unit_id is None or closure_input is None:
            return await self._form_page(request, db_session, form=data, errors=errors, status_code=400)
        try:
            registration = await closures.register_closure(
                db_session,
                unit_id=unit_id,
                data=closure_input,
                phones=VaultPhoneProtector(settings),
                actor_id=user.id,
                now=now,
                min_gap_days=settings.contact_min_gap_days,
            )
        except DomainError as exc:
            await db_session.rollback()
            return await self._form_page(
                request,
                db_session,
                form=data,
                errors={exc.field or "form": exc.message},
                status_code=exc.status_code,
            )
        closure_id = registration.closure.id
        await db_session.commit()
        notice = (
            "registered" if registration.created else ("changed" if registration.changed else "unchanged")
        )
        return Redirect(path=f"/caseworker/closures/{closure_id}?notice={notice}", status_code=303)

    # ------------------------------------------------------------------ import
    async def _import_page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        *,
        report: Any = None,
        error: str | None = None,
        unit: str = "",
        status_code: int = 200,
    ) -> Template:
        user = current_user(request)
        return Template(
            "caseworker/closures_import.html",
            context={
                "report": report,
                "error": error,
                "units": await unit_names(session, user.unit_ids),
                "chosen_unit": unit,
            },
            status_code=status_code,
            headers=PRIVATE_HEADERS,
        )

    @get("/import", name="closures_import", guards=[requires_role(Role.CASEWORKER)])
    async def import_form(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        return await self._import_page(request, db_session)

    @post("/import", status_code=200, guards=[requires_role(Role.CASEWORKER)])
    async def import_file(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        user = current_user(request)
        settings = request.app.state.settings
        unit_id = parse_uuid(data.unit) if data.unit else None
        if data.unit and unit_id not in user.unit_ids:
            return await self._import_page(
                request, db_session, error="Välj en av dina enheter.", status_code=400
            )
        if data.file is None or not isinstance(data.file, UploadFile):
            return await self._import_page(
                request, db_session, error="Välj en CSV-fil att läsa in.", unit=data.unit, status_code=400
            )
        content = await data.file.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            return await self._import_page(
                request, db_session, error="Filen är för stor (högst 2 MB).", unit=data.unit, status_code=413
            )
        codes = await db_session.execute(sa.select(Unit.id, Unit.code).where(Unit.id.in_(user.unit_ids)))
        try:
            parsed = parse_csv(content)
            report = await import_closures(
                db_session,
                parsed,
                default_unit_id=unit_id,
                units_by_code={code.lower(): uid for uid, code in codes},
                phones=VaultPhoneProtector(settings),
                actor_id=user.id,
                now=_now(request),
                min_gap_days=settings.contact_min_gap_days,
            )
        except ImportFileError as exc:
            return await self._import_page(
                request, db_session, error=exc.message, unit=data.unit, status_code=400
            )
        await audit.record(
            db_session,
            actor_id=user.id,
            action="closures.import",
            subject_type="unit",
            subject_id=unit_id,
            reason="CSV-import på webben",
            client_ip=request.client.host if request.client else None,
            detail={"created": report.created, "updated": report.updated, "rejected": len(report.rejected)},
        )
        await db_session.commit()
        return await self._import_page(request, db_session, report=report, unit=data.unit)

    # ------------------------------------------------------------------ detail and changes
    @get("/{closure_id:uuid}", name="closure")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        closure_id: FromPath[uuid.UUID],
        notice: FromQuery[str] = "",
    ) -> Template:
        return await self._detail(request, db_session, closure_id, notice=NOTICES_SV.get(notice))

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        closure_id: uuid.UUID,
        *,
        notice: str | None = None,
        errors: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        user = current_user(request)
        detail = await queries.closure_detail(session, closure_id, user.unit_ids)
        return Template(
            "caseworker/closure.html",
            context={
                "d": detail,
                "notice": notice,
                "errors": errors or {},
                "form": form or {},
                "units": await unit_names(session, [detail.closure.unit_id]),
                "can_write": user.role == Role.CASEWORKER,
                "today": local_date(_now(request)).isoformat(),
                **_choices(),
            },
            status_code=status_code,
            headers=PRIVATE_HEADERS,
        )

    async def _client(
        self, request: Request[Any, Any, Any], session: AsyncSession, closure_id: uuid.UUID
    ) -> Client:
        closure = await queries.get_closure_in_units(session, closure_id, current_user(request).unit_ids)
        client = await session.get(Client, closure.client_id)
        assert client is not None
        if client.erased_at is not None:
            raise InvalidInput("Personens kontaktuppgifter är raderade. Inget kan ändras.", field="form")
        return client

    async def _redirect_or_error(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        closure_id: uuid.UUID,
        action: Any,
        *,
        notice: str,
        form: dict[str, str],
    ) -> Template | Redirect:
        try:
            await action()
        except DomainError as exc:
            await session.rollback()
            if exc.status_code in (403, 404):
                raise
            return await self._detail(
                request,
                session,
                closure_id,
                errors={exc.field or "form": exc.message},
                form=form,
                status_code=exc.status_code,
            )
        await session.commit()
        return Redirect(path=f"/caseworker/closures/{closure_id}?notice={notice}", status_code=303)

    @post("/{closure_id:uuid}/andra", status_code=303, guards=[requires_role(Role.CASEWORKER)])
    async def change(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        closure_id: FromPath[uuid.UUID],
        data: Annotated[ChangeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        settings = request.app.state.settings

        async def action() -> None:
            await self._client(request, db_session, closure_id)
            await closures.change_closure(
                db_session,
                closure_id,
                closed_on=data.closed_on or None,
                reason=data.reason or None,
                now=_now(request),
                min_gap_days=settings.contact_min_gap_days,
            )

        return await self._redirect_or_error(
            request, db_session, closure_id, action, notice="changed", form=msgspec.structs.asdict(data)
        )

    @post("/{closure_id:uuid}/ateraktualisering", status_code=303, guards=[requires_role(Role.CASEWORKER)])
    async def register_return(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        closure_id: FromPath[uuid.UUID],
        data: Annotated[ReturnForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        user = current_user(request)

        async def action() -> None:
            await queries.get_closure_in_units(db_session, closure_id, user.unit_ids)
            await closures.register_return(
                db_session, closure_id, returned_on=data.returned_on, actor_id=user.id, now=_now(request)
            )

        return await self._redirect_or_error(
            request, db_session, closure_id, action, notice="returned", form=msgspec.structs.asdict(data)
        )

    @post("/{closure_id:uuid}/kontakta-ej", status_code=303, guards=[requires_role(Role.CASEWORKER)])
    async def do_not_contact(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        closure_id: FromPath[uuid.UUID],
        data: Annotated[FlagForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        value = data.value == "ja"

        async def action() -> None:
            if data.value not in ("ja", "nej"):
                raise InvalidInput("Välj ja eller nej.", field="value")
            client = await self._client(request, db_session, closure_id)
            await changes.set_do_not_contact(db_session, client, value, now=_now(request))

        return await self._redirect_or_error(
            request, db_session, closure_id, action, notice="dnc_on" if value else "dnc_off", form={}
        )

    @post("/{closure_id:uuid}/aterkalla-samtycke", status_code=303, guards=[requires_role(Role.CASEWORKER)])
    async def withdraw_consent(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        closure_id: FromPath[uuid.UUID],
    ) -> Template | Redirect:
        async def action() -> None:
            client = await self._client(request, db_session, closure_id)
            await changes.withdraw_consent(db_session, client, now=_now(request))

        return await self._redirect_or_error(
            request, db_session, closure_id, action, notice="consent", form={}
        )
