"""Phone queue pages: due calls for my units, claim, the call script form, outcome and answers.

The number is shown only on the page of a call the caseworker holds, and every such read is
written to the audit log (who, which client, when, why). Claiming is the service's single
conditional UPDATE, so two caseworkers can never hold the same call.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core import audit
from feedback.core.errors import DomainError, InvalidInput
from feedback.core.settings import Settings
from feedback.reports.reviews import mark_withdrawn_quotes
from feedback.web import forms
from feedback.web.auth import client_ip
from feedback.web.caseworker.common import (
    PRIVATE_HEADERS,
    client_refs,
    parse_int,
    parse_local_datetime,
    unit_names,
)
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.models import LANGUAGE_LABELS_SV, Client, Closure, Language
from surveys.phone import service
from surveys.phone.models import OUTCOME_LABELS_SV, REASON_LABELS_SV, CallOutcome, CallStatus, CallTask
from surveys.questionnaires import service as questionnaires
from surveys.questionnaires.defaults import PHONE_QUOTE_CONSENT
from surveys.texts import service as texts
from surveys.texts.catalogue import Catalogue, Resolved
from surveys.texts.shipped import languages

NOTICES_SV = {
    "logged": "Samtalet är loggat.",
    "new_number": "Det nya numret är sparat och samtalet ligger i kön igen för det nya numret.",
    "already": "Samtalet var redan loggat. Det sparades bara en gång.",
    "released": "Samtalet är tillbaka i kön.",
    "taken": "Någon annan har redan tagit samtalet. Välj ett annat.",
    "expired": "Du har inte längre samtalet. Ta det igen från kön.",
}
QUEUE = "/caseworker/calls/"
CLOSURE_REASONS_SV = {
    "work": "Arbete",
    "studies": "Studier",
    "other_income": "Annan försörjning",
    "moved": "Flyttat",
    "unknown": "Okänt",
}


def _holds(task: CallTask, user_id: uuid.UUID, now: Any) -> bool:
    return (
        task.status is CallStatus.CLAIMED
        and task.claimed_by_id == user_id
        and task.claim_expires_at is not None
        and task.claim_expires_at >= now
    )


class PhoneQueueController(Controller):
    """Caseworkers: the phone queue of their own units (service queries filter by unit)."""

    path = "/caseworker/calls"
    guards = [requires_role(Role.CASEWORKER)]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", name="phone_queue")
    async def queue(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
    ) -> Template:
        now = clock.now()
        tasks = await service.due_calls(db_session, user.unit_ids, now, user_id=user.id)
        names = await unit_names(db_session, [t.unit_id for t in tasks])
        return Template(
            "caseworker/queue.html",
            context={
                "mine": [t for t in tasks if _holds(t, user.id, now)],
                "tasks": [t for t in tasks if not _holds(t, user.id, now)],
                "units": names,
                "refs": await client_refs(db_session, [t.client_id for t in tasks]),
                "reasons": REASON_LABELS_SV,
                "outcomes": OUTCOME_LABELS_SV,
                "notice": NOTICES_SV.get(notice),
                "now": now,
            },
            headers=PRIVATE_HEADERS,
        )

    @post("/{task_id:uuid}/claim", status_code=303, name="phone_claim")
    async def claim(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        task_id: FromPath[uuid.UUID],
    ) -> Redirect:
        await service.get_task(db_session, task_id, user.unit_ids)  # 404 outside my units
        won = await service.claim(db_session, task_id, user_id=user.id, now=clock.now())
        await db_session.commit()
        if not won:
            return forms.redirect(QUEUE, "taken")
        return forms.redirect(f"/caseworker/calls/{task_id}")

    @post("/{task_id:uuid}/release", status_code=303, name="phone_release")
    async def release(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        task_id: FromPath[uuid.UUID],
    ) -> Redirect:
        task = await service.get_task(db_session, task_id, user.unit_ids)
        await service.release(db_session, task, user_id=user.id)
        await db_session.commit()
        return forms.redirect(QUEUE, "released")

    @get("/{task_id:uuid}", name="phone_call")
    async def call(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        task_id: FromPath[uuid.UUID],
        language: Annotated[str, QueryParameter(name="sprak")] = "",
    ) -> Template | Redirect:
        task = await service.get_task(db_session, task_id, user.unit_ids)
        if not _holds(task, user.id, clock.now()):
            return forms.redirect(QUEUE, "expired")
        form = {"language": language} if language in languages() else None
        page = await self._call_page(request, db_session, settings, user, task, form=form)
        await db_session.commit()  # the audit event of the number read
        return page

    async def _call_page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        settings: Settings,
        user: CurrentUser,
        task: CallTask,
        *,
        form: dict[str, str] | None = None,
        errors: forms.FormErrors | None = None,
    ) -> Template:
        client = await session.get(Client, task.client_id)
        closure = await session.get(Closure, task.closure_id)
        phone = None
        if client is not None and client.phone_ciphertext and client.erased_at is None:
            phone = VaultPhoneProtector(settings).reveal(client.phone_ciphertext)
            await audit.record(
                session,
                actor_id=user.id,
                action="contact.read",
                subject_type="client",
                subject_id=client.id,
                reason="Uppföljningssamtal från telefonkön",
                client_ip=client_ip(request),
                detail={"call_task_id": str(task.id), "wave_days": task.wave_days},
            )
        questionnaire = await questionnaires.get_active(session, task.questionnaire_key)
        # The call's language: what was picked (or posted), else the client's registered language.
        form = {"language": str(client.language) if client is not None else "sv", **(form or {})}
        call_language = form["language"] if form["language"] in languages() else "sv"
        catalogue = await texts.load(session)
        script = {
            key: _script_text(catalogue, questionnaire, call_language, f"phone:{key}")
            for key in ("intro", "consent", "closing")
        }
        prompts = {
            q.key: (
                _script_text(
                    catalogue, questionnaire, call_language, f"phone:question:{q.key}", q.phone_prompt
                ),
                _script_text(catalogue, questionnaire, call_language, f"phone:probe:{q.key}", q.phone_probe)
                if q.phone_probe
                else None,
            )
            for q in questionnaire.questions
        }
        quote_consent = _catalogue_text(catalogue, "phone.quote_consent", call_language, PHONE_QUOTE_CONSENT)
        names = await unit_names(session, [task.unit_id])
        return Template(
            "caseworker/call.html",
            context={
                "task": task,
                "client": client,
                "closure": closure,
                "closure_reason": CLOSURE_REASONS_SV.get(str(closure.reason), "") if closure else "",
                "phone": phone,
                "unit_name": names.get(task.unit_id, ""),
                "reason": REASON_LABELS_SV.get(task.reason, task.reason),
                "questions": list(questionnaire.questions),
                "script": script,
                "prompts": prompts,
                "quote_consent_script": quote_consent,
                "call_language": call_language,
                "directions": {code: info.direction for code, info in languages().items()},
                "outcomes": [(o.value, OUTCOME_LABELS_SV[o]) for o in CallOutcome],
                "max_attempts": service.MAX_ATTEMPTS,
                "languages": [(lang.value, LANGUAGE_LABELS_SV.get(lang, lang.value)) for lang in Language],
                "form": form,
                **(errors.context() if errors else forms.NO_ERRORS),
            },
            status_code=400 if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @post("/{task_id:uuid}/log", status_code=303, name="phone_log")
    async def log(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        task_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        now = clock.now()
        task = await service.get_task(db_session, task_id, user.unit_ids)
        if not _holds(task, user.id, now):
            # The same form sent again after it was saved (a double click, a reload): say so
            # rather than "you no longer hold the call"; nothing is stored a second time.
            resent = await service.logged_by(db_session, task, user_id=user.id, since=now - service.CLAIM_TTL)
            return forms.redirect(QUEUE, "already" if resent else "expired")
        form = forms.values(data)

        async def log_once() -> bool:
            """True when logged now; False when a parallel submission of this form won."""
            try:
                result = await service.log_call(
                    db_session,
                    task,
                    _call_log(form),
                    user_id=user.id,
                    now=now,
                    secret=settings.secret_key,
                    phones=VaultPhoneProtector(settings),
                )
            except service.AlreadyLogged:
                await db_session.rollback()
                return False
            if result.withdrawn_quotes:  # gone from the report already; mark them in review findings
                await mark_withdrawn_quotes(db_session, result.withdrawn_quotes)
                await audit.record(
                    db_session,
                    actor_id=user.id,
                    action="quote.consent_withdrawn",
                    subject_type="client",
                    subject_id=task.client_id,
                    reason="Personen drog tillbaka sitt samtycke till citat i ett uppföljningssamtal",
                    detail={"call_task_id": str(task.id), "open_texts": len(result.withdrawn_quotes)},
                )
            return True

        async def invalid(errors: forms.FormErrors) -> Template:
            again = await service.get_task(db_session, task_id, user.unit_ids)
            page = await self._call_page(request, db_session, settings, user, again, form=form, errors=errors)
            await db_session.commit()  # the audit event of the number shown again
            return page

        return await forms.submit(
            db_session,
            log_once,
            invalid=invalid,
            done=lambda logged: forms.redirect(
                QUEUE,
                ("new_number" if form.get("new_phone", "").strip() else "logged") if logged else "already",
            ),
        )


def _script_text(
    catalogue: Catalogue, questionnaire: Any, language: str, text_key: str, swedish: str = ""
) -> Resolved:
    """A phone script text in the call's language, saying which language it is actually in.

    Swedish falls back to the questionnaire's own wording (``swedish``) when given, so a
    questionnaire without catalogue texts shows what it always showed.
    """
    try:
        found = catalogue.questionnaire_text(questionnaire, language, text_key)
    except (KeyError, DomainError):
        return Resolved(text_key, language, "sv", swedish, "granskad")
    if found.language == "sv" and swedish:
        return Resolved(text_key, language, "sv", swedish, found.status)
    return found


def _catalogue_text(catalogue: Catalogue, key: str, language: str, swedish: str) -> Resolved:
    try:
        return catalogue.resolve(key, language)
    except KeyError:
        return Resolved(key, language, "sv", swedish, "granskad")


def _call_log(form: dict[str, str]) -> service.CallLog:
    """The posted call form as the service's ``CallLog`` (4xx with a Swedish message when wrong)."""
    try:
        outcome = CallOutcome(form.get("outcome", ""))
    except ValueError as exc:
        raise InvalidInput("Välj hur samtalet gick.", field="outcome") from exc
    consent_raw = form.get("consent", "")
    consent = {"ja": True, "nej": False}.get(consent_raw)
    if consent_raw and consent is None:
        raise InvalidInput("Välj ja eller nej för samtycke.", field="consent")
    if outcome is CallOutcome.COMPLETED and consent is None:
        raise InvalidInput("Fyll i om personen sa ja till att svara.", field="consent")
    answers = {key[len("answer_") :]: value for key, value in form.items() if key.startswith("answer_")}
    note = form.get("note", "")
    if len(note) > 4000:
        raise InvalidInput("Anteckningen får vara högst 4000 tecken.", field="note")
    open_case = form.get("open_case") == "ja"
    case_reason = form.get("case_reason", "").strip()
    if open_case and len(case_reason) < 3:
        raise InvalidInput("Skriv kort varför ett ärende behövs.", field="case_reason")
    language = form.get("language", "").strip()
    if language and language not in {lang.value for lang in Language}:
        raise InvalidInput("Välj ett av språken i listan.", field="language")
    quote_consent = set()
    for key, value in form.items():
        if key.startswith("quote_") and value:
            if value not in ("ja", "nej"):
                raise InvalidInput("Välj ja eller nej för citat.", field=key)
            if value == "ja":
                quote_consent.add(key[len("quote_") :])
    return service.CallLog(
        outcome=outcome,
        language=language or None,
        consent=consent,
        answers=answers if outcome is CallOutcome.COMPLETED else {},
        note=note,
        call_back_at=parse_local_datetime(form.get("call_back_at", ""), "call_back_at"),
        duration_min=parse_int(form.get("duration_min", ""), "duration_min", low=0, high=240),
        open_case=open_case,
        case_reason=case_reason[:500],
        new_phone=form.get("new_phone", "")[:40],
        quote_consent=frozenset(quote_consent) if outcome is CallOutcome.COMPLETED else frozenset(),
        withdraw_quotes=form.get("withdraw_quotes") == "ja",
    )
