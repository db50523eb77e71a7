"""Caseworker pages for closures: register, list with the follow-up schedule, detail, CSV import.

Caseworkers register and change closures in their own units; managers may look. Phone numbers
are shown masked only (the stored mask; nothing is decrypted here). Every form posts with CSRF;
bad input re-renders the form with Swedish messages next to the fields (400), never a 500.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, MultipartBody, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit
from feedback.core import audit
from feedback.core.clock import Clock
from feedback.core.dblock import DatabaseBusyError, RetryPolicy, begin_immediate, is_lock_error, retry_on_lock
from feedback.core.errors import InvalidInput
from feedback.core.settings import Settings
from feedback.web import forms
from feedback.web.auth import client_ip
from feedback.web.caseworker.common import PRIVATE_HEADERS, parse_uuid, unit_names
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from surveys.closures import contact_edit, queries
from surveys.closures import service as closures
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.identifiers import looks_like_personal_number
from surveys.closures.importer import ImportFileError, ImportReport, import_closures, parse_csv
from surveys.closures.models import (
    CONSENT_CHANNEL_LABELS_SV,
    CONSENT_GIVEN_BY_LABELS_SV,
    LANGUAGE_LABELS_SV,
    REASON_LABELS_SV,
    Client,
)
from surveys.closures.schemas import ClosureFormData, validate_closure_form
from surveys.closures.service import Registration
from surveys.closures.timeline import build_timeline
from surveys.outcomes.models import OUTCOME_LABELS_SV
from surveys.plans.service import local_date
from surveys.texts import service as texts_service
from surveys.texts.shipped import languages as text_languages

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
    "contact": "Kontaktuppgifterna är ändrade. Sms som inte har skickats än går till det nya numret.",
}
# The two stops that cannot be undone by the person's own "START": confirmed on a page of their own.
CONFIRM_PAGES = {
    "do_not_contact": {
        "title": "Markera: kontakta ej",
        "route": "closure_do_not_contact",
        "explain": "Personen får inga fler sms eller samtal från uppföljningen. Pågående enkäter och "
        "samtal i kön stoppas direkt, och sms som väntar på att skickas tas bort.",
        "button": "Ja, markera kontakta ej",
    },
    "do_not_contact_off": {
        "title": "Ta bort markeringen kontakta ej",
        "route": "closure_do_not_contact",
        "explain": "Uppföljningar som ännu inte har börjat kan skickas igen. Det som redan stoppats "
        "kommer inte tillbaka.",
        "button": "Ja, ta bort markeringen",
    },
    "consent": {
        "title": "Personen återkallar sitt samtycke",
        "route": "closure_withdraw_consent",
        "explain": "Det går inte att ångra här: personen får inga fler sms eller samtal från "
        "uppföljningen. Pågående enkäter och samtal i kön stoppas direkt.",
        "button": "Ja, återkalla samtycket",
    },
}
SEARCH_PERSONNUMMER_SV = (
    "Sök på klientreferensen från verksamhetssystemet, inte på personnummer. Personnummer sparas inte här."
)


class ImportForm(msgspec.Struct):
    file: UploadFile | None = None
    unit: str = ""


def _choices() -> dict[str, Any]:
    return {
        "reasons": {k.value: v for k, v in REASON_LABELS_SV.items()},
        "languages": {k.value: v for k, v in LANGUAGE_LABELS_SV.items()},
        "rtl_languages": [code for code, info in text_languages().items() if info.direction == "rtl"],
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
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        enhet: FromQuery[str] = "",
        ref: FromQuery[str] = "",
        sida: FromQuery[int] = 1,
    ) -> Template:
        page = max(1, min(sida, 10_000))
        unit_id = parse_uuid(enhet) if enhet else None
        search = ref.strip()[:64]
        search_error = None
        if search and looks_like_personal_number(search):
            # Never search on (nor echo back) a personnummer: the reference is the only key here.
            search_error = SEARCH_PERSONNUMMER_SV
            search = ""
        rows, total = (
            ([], 0)
            if search_error
            else await queries.list_closures(
                db_session,
                user.unit_ids,
                unit_id=unit_id if unit_id in user.unit_ids else None,
                ref_prefix=search or None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
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
                "filter_ref": search,
                "filtered": bool(search or search_error or unit_id in user.unit_ids),
                "search_error": search_error,
                "can_write": user.role == Role.CASEWORKER,
                **_choices(),
            },
            status_code=400 if search_error else 200,
            headers=PRIVATE_HEADERS,
        )

    # ------------------------------------------------------------------ register
    async def _form_page(
        self,
        session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        *,
        form: ClosureFormData | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        today = local_date(clock.now())
        return Template(
            "caseworker/closure_new.html",
            context={
                "form": form or ClosureFormData(closed_on=today.isoformat()),
                "errors": errors or {},
                "units": await unit_names(session, user.unit_ids),
                "today": today.isoformat(),
                "language_review": await texts_service.review_status_sv(session),
                **_choices(),
            },
            status_code=status_code,
            headers=PRIVATE_HEADERS,
        )

    @get("/ny", name="closure_new", guards=[requires_role(Role.CASEWORKER)])
    async def new(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
    ) -> Template:
        return await self._form_page(db_session, user, clock)

    @post("/ny", status_code=303, guards=[requires_role(Role.CASEWORKER)], name="closure_register")
    async def register(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: URLEncodedBody[ClosureFormData],
    ) -> Response[Any]:
        now = clock.now()
        errors, unit_id, closure_input = validate_closure_form(data, user.unit_ids, today=local_date(now))
        if errors or unit_id is None or closure_input is None:
            return await self._form_page(db_session, user, clock, form=data, errors=errors, status_code=400)

        def done(registration: Registration) -> Redirect:
            notice = (
                "registered" if registration.created else ("changed" if registration.changed else "unchanged")
            )
            return forms.redirect(f"/caseworker/closures/{registration.closure.id}", notice)

        return await forms.submit(
            db_session,
            lambda: closures.register_closure(
                db_session,
                unit_id=unit_id,
                data=closure_input,
                phones=VaultPhoneProtector(settings),
                actor_id=user.id,
                now=now,
                min_gap_days=settings.contact_min_gap_days,
            ),
            invalid=lambda refused: self._form_page(
                db_session, user, clock, form=data, errors=refused.fields, status_code=refused.status_code
            ),
            done=done,
        )

    # ------------------------------------------------------------------ import
    async def _import_page(
        self,
        session: AsyncSession,
        user: CurrentUser,
        *,
        report: Any = None,
        error: str | None = None,
        unit: str = "",
        status_code: int = 200,
    ) -> Template:
        refused = forms.FormErrors.single(error, "file", status_code).context() if error else forms.NO_ERRORS
        return Template(
            "caseworker/closures_import.html",
            context={
                "report": report,
                **refused,
                "units": await unit_names(session, user.unit_ids),
                "chosen_unit": unit,
            },
            status_code=status_code,
            headers=PRIVATE_HEADERS,
        )

    @get("/import", name="closures_import", guards=[requires_role(Role.CASEWORKER)])
    async def import_form(
        self, db_session: NamedDependency[AsyncSession], user: NamedDependency[CurrentUser]
    ) -> Template:
        return await self._import_page(db_session, user)

    @post("/import", status_code=200, guards=[requires_role(Role.CASEWORKER)], name="closures_import_file")
    async def import_file(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        data: MultipartBody[ImportForm],
    ) -> Template:
        """Not ``submit``: a file with refused rows is still a success (the report lists them)."""
        unit_id = parse_uuid(data.unit) if data.unit else None
        if data.unit and unit_id not in user.unit_ids:
            return await self._import_page(
                db_session, user, error="Välj en av dina enheter.", status_code=400
            )
        if data.file is None or not isinstance(data.file, UploadFile):
            return await self._import_page(
                db_session, user, error="Välj en CSV-fil att läsa in.", unit=data.unit, status_code=400
            )
        content = await data.file.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            return await self._import_page(
                db_session, user, error="Filen är för stor (högst 2 MB).", unit=data.unit, status_code=413
            )
        codes = await db_session.execute(sa.select(Unit.id, Unit.code).where(Unit.id.in_(user.unit_ids)))
        units_by_code = {code.lower(): uid for uid, code in codes}
        try:
            parsed = parse_csv(content)
        except ImportFileError as exc:
            return await self._import_page(
                db_session, user, error=exc.message, unit=data.unit, status_code=400
            )

        async def import_once() -> ImportReport:
            """One whole transaction: a retry after "database is locked" starts again from nothing."""
            await db_session.rollback()
            await begin_immediate(db_session)  # SQLite: no read-then-write upgrade that can fail
            report = await import_closures(
                db_session,
                parsed,
                default_unit_id=unit_id,
                units_by_code=units_by_code,
                phones=VaultPhoneProtector(settings),
                actor_id=user.id,
                now=clock.now(),
                min_gap_days=settings.contact_min_gap_days,
            )
            await audit.record(
                db_session,
                actor_id=user.id,
                action="closures.import",
                subject_type="unit",
                subject_id=unit_id,
                reason="CSV-import på webben",
                client_ip=client_ip(request),
                detail={
                    "created": report.created,
                    "updated": report.updated,
                    "rejected": len(report.rejected),
                },
            )
            await db_session.commit()
            return report

        try:
            report = await retry_on_lock(
                import_once,
                what="closures import",
                policy=RetryPolicy(attempts=settings.database_lock_attempts),
            )
        except Exception as exc:
            if is_lock_error(exc):
                await db_session.rollback()
                raise DatabaseBusyError(saved=False) from exc
            raise
        return await self._import_page(db_session, user, report=report, unit=data.unit)

    # ------------------------------------------------------------------ detail and changes
    @get("/{closure_id:uuid}", name="closure")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        closure_id: FromPath[uuid.UUID],
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
    ) -> Template:
        """The client page: facts, truthful wave states and the timeline; the read is audited."""
        page = await self._detail(db_session, user, clock, closure_id, notice=NOTICES_SV.get(notice),
                                  client_ip=client_ip(request))  # fmt: skip
        await db_session.commit()  # the audit event of the read
        return page

    async def _detail(
        self,
        session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        closure_id: uuid.UUID,
        *,
        notice: str | None = None,
        errors: forms.FormErrors | None = None,
        form: dict[str, str] | None = None,
        client_ip: str | None = None,
    ) -> Template:
        detail = await queries.closure_detail(session, closure_id, user.unit_ids)
        timeline = await build_timeline(session, detail.closure, detail.client)
        await audit.record(
            session,
            actor_id=user.id,
            action="client.read",
            subject_type="client",
            subject_id=detail.client.id,
            reason="Klientsidan visades",
            client_ip=client_ip,
            detail={"closure_id": str(detail.closure.id)},
            at=clock.now(),
        )
        return Template(
            "caseworker/closure.html",
            context={
                "d": detail,
                "timeline": timeline,
                "can_see_cases": user.role == Role.CASEWORKER,
                "notice": notice,
                **(errors.context() if errors else forms.NO_ERRORS),
                "form": form or {},
                "units": await unit_names(session, [detail.closure.unit_id]),
                "can_write": user.role == Role.CASEWORKER,
                "today": local_date(clock.now()).isoformat(),
                **_choices(),
            },
            status_code=errors.status_code if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    async def _rerender(
        self,
        session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        closure_id: uuid.UUID,
        *,
        errors: forms.FormErrors,
        form: dict[str, str],
    ) -> Template:
        """The page again with the refusal; its own read is audited and committed."""
        page = await self._detail(session, user, clock, closure_id, errors=errors, form=form)
        await session.commit()
        return page

    async def _client(self, session: AsyncSession, user: CurrentUser, closure_id: uuid.UUID) -> Client:
        closure = await queries.get_closure_in_units(session, closure_id, user.unit_ids)
        client = await session.get(Client, closure.client_id)
        assert client is not None
        if client.erased_at is not None:
            raise InvalidInput("Personens kontaktuppgifter är raderade. Inget kan ändras.", field="form")
        return client

    async def _change(
        self,
        session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        closure_id: uuid.UUID,
        action: Callable[[], Awaitable[Any]],
        *,
        notice: str,
        form: dict[str, str],
    ) -> Response[Any]:
        """One change to a closure: back to its page with the notice, or the page with the error."""
        return await forms.submit(
            session,
            action,
            invalid=lambda errors: self._rerender(session, user, clock, closure_id, errors=errors, form=form),
            done=lambda _: forms.redirect(f"/caseworker/closures/{closure_id}", notice),
            reraise=(403, 404),  # outside the user's units: the error page, not the form
        )

    @post(
        "/{closure_id:uuid}/andra",
        status_code=303,
        guards=[requires_role(Role.CASEWORKER)],
        name="closure_change",
    )
    async def change(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        closure_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.values(data)

        async def action() -> None:
            await self._client(db_session, user, closure_id)
            await closures.change_closure(
                db_session,
                closure_id,
                closed_on=form.get("closed_on") or None,
                reason=form.get("reason") or None,
                now=clock.now(),
                min_gap_days=settings.contact_min_gap_days,
            )

        return await self._change(db_session, user, clock, closure_id, action, notice="changed", form=form)

    @post(
        "/{closure_id:uuid}/ateraktualisering",
        status_code=303,
        guards=[requires_role(Role.CASEWORKER)],
        name="closure_return",
    )
    async def register_return(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        closure_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        form = forms.values(data)

        async def action() -> None:
            await queries.get_closure_in_units(db_session, closure_id, user.unit_ids)
            await closures.register_return(
                db_session,
                closure_id,
                returned_on=form.get("returned_on", ""),
                actor_id=user.id,
                now=clock.now(),
            )

        return await self._change(db_session, user, clock, closure_id, action, notice="returned", form=form)

    # ------------------------------------------------------------------ contact data
    @post(
        "/{closure_id:uuid}/kontakt",
        status_code=303,
        guards=[requires_role(Role.CASEWORKER)],
        name="closure_contact",
    )
    async def change_contact(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        closure_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        """Phone, language and skyddad identitet with a reason (audited, reason without personnummer)."""
        form = forms.values(data)
        shown = {k: v for k, v in form.items() if k != "phone"}  # the number is not echoed back

        async def action() -> None:
            protected = {"ja": True, "nej": False}.get(form.get("protected_identity", ""))
            if form.get("protected_identity") and protected is None:
                raise InvalidInput("Välj ja eller nej.", field="protected_identity")
            client = await self._client(db_session, user, closure_id)
            await contact_edit.change_contact(
                db_session,
                client,
                contact_edit.ContactEdit(
                    phone=form.get("phone", "")[:40],
                    language=form.get("language") or None,
                    protected_identity=protected,
                ),
                reason=form.get("contact_reason", ""),
                phones=VaultPhoneProtector(settings),
                actor_id=user.id,
                now=clock.now(),
                client_ip=client_ip(request),
                reason_field="contact_reason",
            )

        return await self._change(db_session, user, clock, closure_id, action, notice="contact", form=shown)

    async def _confirm_page(
        self,
        session: AsyncSession,
        user: CurrentUser,
        closure_id: uuid.UUID,
        which: str,
        *,
        form: dict[str, str] | None = None,
        errors: forms.FormErrors | None = None,
    ) -> Template:
        closure = await queries.get_closure_in_units(session, closure_id, user.unit_ids)
        client = await session.get(Client, closure.client_id)
        return Template(
            "caseworker/closure_confirm.html",
            context={
                "closure": closure,
                "client_ref": client.client_ref if client else None,
                "page": CONFIRM_PAGES[which],
                "value": "nej" if which == "do_not_contact_off" else "ja",
                "form": form or {},
                **(errors.context() if errors else forms.NO_ERRORS),
            },
            status_code=errors.status_code if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    async def _stop(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        user: CurrentUser,
        clock: Clock,
        closure_id: uuid.UUID,
        which: str,
        form: dict[str, str],
        apply: Callable[[Client, str], Awaitable[Any]],
        notice: str,
    ) -> Response[Any]:
        """Confirmed → apply and back to the client page; not yet confirmed → the confirm page."""
        if form.get("bekrafta") != "ja":
            await queries.get_closure_in_units(session, closure_id, user.unit_ids)  # 403/404 first
            return await self._confirm_page(session, user, closure_id, which, form=form)

        async def action() -> None:
            client = await self._client(session, user, closure_id)
            await apply(client, form.get("reason", ""))

        return await forms.submit(
            session,
            action,
            invalid=lambda errors: self._confirm_page(
                session, user, closure_id, which, form=form, errors=errors
            ),
            done=lambda _: forms.redirect(f"/caseworker/closures/{closure_id}", notice),
            reraise=(403, 404),
        )

    @get(
        "/{closure_id:uuid}/kontakta-ej",
        guards=[requires_role(Role.CASEWORKER)],
        name="closure_do_not_contact_confirm",
    )
    async def do_not_contact_confirm(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        closure_id: FromPath[uuid.UUID],
        varde: FromQuery[str] = "ja",
    ) -> Template:
        which = "do_not_contact_off" if varde == "nej" else "do_not_contact"
        return await self._confirm_page(db_session, user, closure_id, which)

    @post(
        "/{closure_id:uuid}/kontakta-ej",
        status_code=303,
        guards=[requires_role(Role.CASEWORKER)],
        name="closure_do_not_contact",
    )
    async def do_not_contact(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        closure_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        """Switch "kontakta ej" after a confirmation step and with a reason (both audited)."""
        form = forms.values(data)
        flag = form.get("value", "")
        if flag not in ("ja", "nej"):
            await queries.get_closure_in_units(db_session, closure_id, user.unit_ids)
            return await self._rerender(
                db_session, user, clock, closure_id,
                errors=forms.FormErrors.single("Välj ja eller nej.", "value"), form={},
            )  # fmt: skip

        async def apply(client: Client, reason: str) -> None:
            await contact_edit.change_do_not_contact(
                db_session, client, flag == "ja", reason=reason, actor_id=user.id, now=clock.now(),
                client_ip=client_ip(request),
            )  # fmt: skip

        which = "do_not_contact" if flag == "ja" else "do_not_contact_off"
        notice = "dnc_on" if flag == "ja" else "dnc_off"
        return await self._stop(request, db_session, user, clock, closure_id, which, form, apply, notice)

    @get(
        "/{closure_id:uuid}/aterkalla-samtycke",
        guards=[requires_role(Role.CASEWORKER)],
        name="closure_withdraw_consent_confirm",
    )
    async def withdraw_consent_confirm(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        closure_id: FromPath[uuid.UUID],
    ) -> Template:
        return await self._confirm_page(db_session, user, closure_id, "consent")

    @post(
        "/{closure_id:uuid}/aterkalla-samtycke",
        status_code=303,
        guards=[requires_role(Role.CASEWORKER)],
        name="closure_withdraw_consent",
    )
    async def withdraw_consent(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        closure_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        """Withdraw consent after a confirmation step and with a reason (audited)."""
        form = forms.values(data)

        async def apply(client: Client, reason: str) -> None:
            await contact_edit.record_consent_withdrawn(
                db_session,
                client,
                reason=reason,
                actor_id=user.id,
                now=clock.now(),
                client_ip=client_ip(request),
            )

        return await self._stop(
            request, db_session, user, clock, closure_id, "consent", form, apply, "consent"
        )
