"""Phone queue pages: due calls for my units, claim, the call script form, outcome and answers.

The number is shown only on the page of a call the caseworker holds, and every such read is
written to the audit log (who, which client, when, why). Claiming is the service's single
conditional UPDATE, so two caseworkers can never hold the same call.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core import audit
from feedback.core.errors import DomainError, InvalidInput
from feedback.web.caseworker.common import (
    PRIVATE_HEADERS,
    client_refs,
    form_value,
    parse_int,
    parse_local_datetime,
    unit_names,
)
from feedback.web.guards import current_user, requires_role
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.models import Client, Closure
from surveys.phone import service
from surveys.phone.models import OUTCOME_LABELS_SV, REASON_LABELS_SV, CallOutcome, CallStatus, CallTask
from surveys.questionnaires import service as questionnaires

NOTICES_SV = {
    "logged": "Samtalet är loggat.",
    "released": "Samtalet är tillbaka i kön.",
    "taken": "Någon annan har redan tagit samtalet. Välj ett annat.",
    "expired": "Du har inte längre samtalet. Ta det igen från kön.",
}
CLOSURE_REASONS_SV = {
    "work": "Arbete",
    "studies": "Studier",
    "other_income": "Annan försörjning",
    "moved": "Flyttat",
    "unknown": "Okänt",
}


def _now(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.clock.now()


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
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        notice: FromQuery[str] = "",
    ) -> Template:
        return await self._queue(request, db_session, notice=NOTICES_SV.get(notice))

    async def _queue(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        *,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Template:
        user = current_user(request)
        now = _now(request)
        tasks = await service.due_calls(session, user.unit_ids, now, user_id=user.id)
        names = await unit_names(session, [t.unit_id for t in tasks])
        return Template(
            "caseworker/queue.html",
            context={
                "mine": [t for t in tasks if _holds(t, user.id, now)],
                "tasks": [t for t in tasks if not _holds(t, user.id, now)],
                "units": names,
                "refs": await client_refs(session, [t.client_id for t in tasks]),
                "reasons": REASON_LABELS_SV,
                "outcomes": OUTCOME_LABELS_SV,
                "notice": notice,
                "now": now,
            },
            status_code=status_code,
            headers=PRIVATE_HEADERS,
        )

    @post("/{task_id:uuid}/claim", status_code=303)
    async def claim(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        task_id: FromPath[uuid.UUID],
    ) -> Redirect:
        user = current_user(request)
        await service.get_task(db_session, task_id, user.unit_ids)  # 404 outside my units
        won = await service.claim(db_session, task_id, user_id=user.id, now=_now(request))
        await db_session.commit()
        if not won:
            return Redirect(path="/caseworker/calls/?notice=taken", status_code=303)
        return Redirect(path=f"/caseworker/calls/{task_id}", status_code=303)

    @post("/{task_id:uuid}/release", status_code=303)
    async def release(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        task_id: FromPath[uuid.UUID],
    ) -> Redirect:
        user = current_user(request)
        task = await service.get_task(db_session, task_id, user.unit_ids)
        await service.release(db_session, task, user_id=user.id)
        await db_session.commit()
        return Redirect(path="/caseworker/calls/?notice=released", status_code=303)

    @get("/{task_id:uuid}", name="phone_call")
    async def call(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        task_id: FromPath[uuid.UUID],
    ) -> Template | Redirect:
        user = current_user(request)
        task = await service.get_task(db_session, task_id, user.unit_ids)
        if not _holds(task, user.id, _now(request)):
            return Redirect(path="/caseworker/calls/?notice=expired", status_code=303)
        page = await self._call_page(request, db_session, task)
        await db_session.commit()  # the audit event of the number read
        return page

    async def _call_page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        task: CallTask,
        *,
        form: dict[str, str] | None = None,
        error: str | None = None,
        errors: dict[str, str] | None = None,
        field: str | None = None,
    ) -> Template:
        user = current_user(request)
        client = await session.get(Client, task.client_id)
        closure = await session.get(Closure, task.closure_id)
        phone = None
        if client is not None and client.phone_ciphertext and client.erased_at is None:
            phone = VaultPhoneProtector(request.app.state.settings).reveal(client.phone_ciphertext)
            await audit.record(
                session,
                actor_id=user.id,
                action="contact.read",
                subject_type="client",
                subject_id=client.id,
                reason="Uppföljningssamtal från telefonkön",
                client_ip=request.client.host if request.client else None,
                detail={"call_task_id": str(task.id), "wave_days": task.wave_days},
            )
        questionnaire = await questionnaires.get_active(session, task.questionnaire_key)
        script = {key: _text(questionnaire, f"phone:{key}") for key in ("intro", "consent", "closing")}
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
                "outcomes": [(o.value, OUTCOME_LABELS_SV[o]) for o in CallOutcome],
                "max_attempts": service.MAX_ATTEMPTS,
                "form": form or {},
                "error": error,
                "errors": errors or {},
                "field": field,
            },
            status_code=400 if error else 200,
            headers=PRIVATE_HEADERS,
        )

    @post("/{task_id:uuid}/log", status_code=303)
    async def log(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        task_id: FromPath[uuid.UUID],
    ) -> Template | Redirect:
        user = current_user(request)
        now = _now(request)
        task = await service.get_task(db_session, task_id, user.unit_ids)
        if not _holds(task, user.id, now):
            return Redirect(path="/caseworker/calls/?notice=expired", status_code=303)
        raw = await request.form()
        form = {key: form_value(raw, key) for key in raw}
        try:
            entry = _call_log(form)
            await service.log_call(
                db_session,
                task,
                entry,
                user_id=user.id,
                now=now,
                secret=request.app.state.settings.secret_key,
            )
        except DomainError as exc:
            await db_session.rollback()
            task = await service.get_task(db_session, task_id, user.unit_ids)
            errors = exc.detail if isinstance(exc.detail, dict) else {}
            page = await self._call_page(
                request, db_session, task, form=form, error=exc.message, errors=errors, field=exc.field
            )
            await db_session.commit()
            return page
        await db_session.commit()
        return Redirect(path="/caseworker/calls/?notice=logged", status_code=303)


def _text(questionnaire: Any, text_key: str) -> str:
    try:
        return questionnaires.text_for(questionnaire, "sv", text_key)
    except DomainError:
        return ""


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
    return service.CallLog(
        outcome=outcome,
        consent=consent,
        answers=answers if outcome is CallOutcome.COMPLETED else {},
        note=note,
        call_back_at=parse_local_datetime(form.get("call_back_at", ""), "call_back_at"),
        duration_min=parse_int(form.get("duration_min", ""), "duration_min", low=0, high=240),
        open_case=open_case,
        case_reason=case_reason[:500],
    )
