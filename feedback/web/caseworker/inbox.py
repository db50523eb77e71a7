"""Inkorg: messages nobody else owns, for the caseworkers of the unit; reply by SMS, mark handled.

What the page shows is the redacted text stored on the item (``surveys/inbox``): no number, no
personnummer, so reading it is not a contact-data read and is not audited (like a case's
summary). Replying is: the number is decrypted from the stored inbound message to put the SMS in
the outbox, so every reply is an ``sms.reply`` audit event (who, which item, when; ids and
counts only — neither the number nor the text).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Annotated, Any

import sqlalchemy as sa
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Membership, Role, User
from feedback.core import audit
from feedback.core.errors import InvalidInput
from feedback.core.settings import Settings
from feedback.web import forms
from feedback.web.auth import client_ip
from feedback.web.caseworker.common import PRIVATE_HEADERS, unit_names
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from notifications.models import OutboxStatus
from surveys.inbox import service
from surveys.inbox.models import REASON_LABELS_SV

INBOX = "/caseworker/inkorg"
NOTICES_SV = {
    "handled": "Meddelandet är markerat som hanterat.",
    "assigned": "Meddelandet har fått en ansvarig handläggare.",
    "unassigned": "Meddelandet är inte längre tilldelat någon.",
    "sent": "Svaret ligger i utkorgen och skickas nu.",
    "later": "Svaret ligger i utkorgen. Det skickas automatiskt när enhetens sms-tid börjar.",
}
REPLY_STATUS_SV = {
    OutboxStatus.SENT: "Skickat",
    OutboxStatus.DELIVERED: "Levererat",
    OutboxStatus.SKIPPED: "Skickades inte",
    OutboxStatus.CANCELED: "Stoppat",
}


class ReplyForm(forms.Form):
    messages = {"body": "Skriv ett svar."}  # noqa: RUF012 - read by forms.parse

    body: str = ""


class AssignForm(forms.Form):
    messages = {"assignee": "Välj en handläggare i listan."}  # noqa: RUF012 - read by forms.parse

    assignee: uuid.UUID | None = None


async def caseworkers_by_unit(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    """Active caseworkers per unit, by name: who an item can be given to."""
    ids = list(set(unit_ids))
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(Membership.unit_id, User.id, User.display_name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.unit_id.in_(ids), User.role == Role.CASEWORKER, User.is_active.is_(True))
        .order_by(User.display_name, User.id)
    )
    found: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    for unit_id, user_id, name in rows:
        found.setdefault(unit_id, []).append((user_id, name))
    return found


class InboxController(Controller):
    """Caseworkers: the inbox of their own units (every query is filtered by unit)."""

    path = INBOX
    guards = [requires_role(Role.CASEWORKER)]  # noqa: RUF012 - Litestar reads this class attribute

    async def _page(
        self,
        session: AsyncSession,
        user: CurrentUser,
        *,
        notice: str | None = None,
        errors: forms.FormErrors | None = None,
        error_item: uuid.UUID | None = None,
        form: dict[str, str] | None = None,
    ) -> Template:
        items = await service.list_open_items(session, user.unit_ids, newest_first=True)
        caseworkers = await caseworkers_by_unit(session, [i.unit_id for i in items if i.unit_id])
        names = {uid: name for people in caseworkers.values() for uid, name in people}
        return Template(
            "caseworker/inbox.html",
            context={
                "items": items,
                "units": await unit_names(session, [i.unit_id for i in items if i.unit_id]),
                "reasons": REASON_LABELS_SV,
                "replies": await service.replies_for(session, [i.id for i in items]),
                "reply_status": REPLY_STATUS_SV,
                "caseworkers": caseworkers,
                "names": names,
                "me_id": user.id,
                "max_chars": service.REPLY_MAX_CHARS,
                "notice": notice,
                "error_item": error_item,
                "form": form or {},
                **(errors.context() if errors else forms.NO_ERRORS),
            },
            status_code=errors.status_code if errors else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/", name="inbox")
    async def index(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        notice: Annotated[str, QueryParameter(name=forms.NOTICE_PARAM)] = "",
    ) -> Template:
        return await self._page(db_session, user, notice=NOTICES_SV.get(notice))

    @post("/{item_id:uuid}/hanterat", status_code=303, name="inbox_handled")
    async def handled(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        item_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        async def invalid(errors: forms.FormErrors) -> Template:
            # Already handled: the item is no longer listed, so the message goes on top of the page.
            return await self._page(db_session, user, errors=errors)

        return await forms.submit(
            db_session,
            lambda: service.mark_handled(
                db_session, item_id, user_id=user.id, unit_ids=user.unit_ids, now=clock.now()
            ),
            invalid=invalid,
            done=lambda _: forms.redirect(f"{INBOX}/", "handled"),
            reraise=(404,),
        )

    @post("/{item_id:uuid}/tilldela", status_code=303, name="inbox_assign")
    async def assign(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        item_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        item = await service.get_item(db_session, item_id, user.unit_ids)  # 404 outside my units

        async def give() -> uuid.UUID | None:
            assignee = forms.parse(AssignForm, data).assignee
            unit_id = item.unit_id
            people = (await caseworkers_by_unit(db_session, [unit_id])).get(unit_id, []) if unit_id else []
            if assignee is not None and assignee not in {uid for uid, _ in people}:
                raise InvalidInput("Välj en handläggare i enheten.", field="assignee")
            await service.assign(db_session, item, assignee)
            return assignee

        async def invalid(errors: forms.FormErrors) -> Template:
            refused = forms.FormErrors.single(errors.message, "assignee", errors.status_code)
            return await self._page(db_session, user, errors=refused, error_item=item_id)

        return await forms.submit(
            db_session,
            give,
            invalid=invalid,
            done=lambda who: forms.redirect(f"{INBOX}/", "assigned" if who else "unassigned"),
        )

    @post("/{item_id:uuid}/svar", status_code=303, name="inbox_reply")
    async def reply(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        item_id: FromPath[uuid.UUID],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any] | Redirect:
        item = await service.get_item(db_session, item_id, user.unit_ids)  # 404 outside my units
        form = forms.values(data)
        now = clock.now()

        async def send() -> service.Reply:
            parsed = forms.parse(ReplyForm, data)
            sent = await service.reply(db_session, item, body=parsed.body, now=now, settings=settings)
            await audit.record(
                db_session,
                actor_id=user.id,
                action="sms.reply",
                subject_type="inbox_item",
                subject_id=item.id,
                reason="Svar på meddelande i inkorgen",
                client_ip=client_ip(request),
                detail={"outbox_id": str(sent.outbox_id), "chars": len(parsed.body.strip())},
            )
            return sent

        async def invalid(errors: forms.FormErrors) -> Template:
            # The reply text is the form's only field: whatever was refused, it is where to look.
            refused = forms.FormErrors.single(errors.message, "body", errors.status_code)
            return await self._page(db_session, user, errors=refused, error_item=item_id, form=form)

        return await forms.submit(
            db_session,
            send,
            invalid=invalid,
            done=lambda sent: forms.redirect(f"{INBOX}/", "sent" if sent.sends_now else "later"),
        )
