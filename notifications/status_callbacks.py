"""A verified delivery status callback: record once, move the outbox row forward only.

Callbacks are at-least-once HTTP: repeated and reordered. The ``(provider_sid, status)`` unique
event row makes a repeat a no-op; ``delivery_status.moves_forward`` keeps a late ``sent`` from
undoing ``delivered``. The ``?o=<outbox id>`` in the callback URL links a message whose create
response was lost (outcome ``unknown``) to its SID, which is how such rows heal.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.db import insert_for
from feedback.core.settings import Settings
from notifications import delivery_status, optout
from notifications.errors import OPTED_OUT_CODE, UNREACHABLE_CODES, reason_for_code
from notifications.models import OptOutAction, OptOutSource, OutboxStatus, SmsOutbox, SmsStatusEvent
from notifications.ports import DeliveryProblem, InboundHandler
from notifications.signature import FormPairs

_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")

# Our outbox status for each Twilio status (the outbox has states Twilio does not know).
OUTBOX_STATUS = {
    "scheduled": OutboxStatus.SENT,
    "accepted": OutboxStatus.SENT,
    "queued": OutboxStatus.SENT,
    "sending": OutboxStatus.SENT,
    "sent": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.DELIVERED,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
    "canceled": OutboxStatus.FAILED,
}
# Outbox states a callback may move on from. A callback proves Twilio created the message, so it
# also heals rows we were unsure about (sending, unknown, needs_review) or had given up on
# (retry, dead): they must not be sent again. Skipped/canceled rows were never sent.
HEALABLE = frozenset(
    {
        OutboxStatus.SENDING,
        OutboxStatus.RETRY,
        OutboxStatus.SENT,
        OutboxStatus.DELIVERED,
        OutboxStatus.UNKNOWN,
        OutboxStatus.NEEDS_REVIEW,
        OutboxStatus.DEAD,
    }
)


@dataclass(frozen=True)
class StatusFields:
    outbox_id: uuid.UUID | None
    message_sid: str
    status: str
    error_code: int | None

    @classmethod
    def from_form(cls, form: FormPairs, raw_outbox_id: str | None) -> StatusFields:
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        if not _SID.match(sid):
            raise ValueError("MessageSid saknas eller är ogiltigt")
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
        if not delivery_status.is_known(status):
            raise ValueError("okänd status")
        raw_code = (form.get("ErrorCode") or "").strip()
        if raw_code and not raw_code.isdigit():
            raise ValueError("ErrorCode är inte ett tal")
        outbox_id = None
        if raw_outbox_id:
            try:
                outbox_id = uuid.UUID(raw_outbox_id)
            except ValueError as exc:
                raise ValueError("o är inte ett giltigt id") from exc
        return cls(outbox_id, sid, status, int(raw_code) if raw_code else None)


def _insert_event(session: AsyncSession, values: dict[str, Any]) -> Any:
    statement = insert_for(session, SmsStatusEvent).values(**values)
    statement = statement.on_conflict_do_nothing(index_elements=["provider_sid", "status"])
    return statement.returning(SmsStatusEvent.id)


async def _find_row(session: AsyncSession, fields: StatusFields) -> SmsOutbox | None:
    if fields.outbox_id is not None:
        row = await session.get(SmsOutbox, fields.outbox_id, with_for_update=True)
        if row is not None and row.provider_sid in (None, fields.message_sid):
            return row
    return await session.scalar(
        sa.select(SmsOutbox).where(SmsOutbox.provider_sid == fields.message_sid).with_for_update()
    )


async def apply(
    session: AsyncSession,
    settings: Settings,
    handler: InboundHandler,
    fields: StatusFields,
    *,
    now: datetime | None = None,
) -> str:
    """Record and apply one callback; returns ``duplicate``, ``applied``, ``stale`` or ``orphan``."""
    at = now or datetime.now(UTC)
    inserted = (
        await session.execute(
            _insert_event(
                session,
                {
                    "id": uuid.uuid4(),
                    "provider_sid": fields.message_sid,
                    "status": fields.status,
                    "error_code": fields.error_code,
                    "outbox_id": fields.outbox_id,
                    "received_at": at,
                },
            )
        )
    ).scalar_one_or_none()
    if inserted is None:
        return "duplicate"
    row = await _find_row(session, fields)
    if row is None:
        return "orphan"  # e.g. a message sent before a database restore; the event is kept
    if row.provider_sid is None:
        row.provider_sid = fields.message_sid  # the callback tells us the SID of a lost create
    if not delivery_status.moves_forward(row.provider_status, fields.status):
        return "stale"
    row.provider_status = fields.status
    if row.status in HEALABLE:
        row.status = OUTBOX_STATUS[fields.status]
        row.sent_at = row.sent_at or at
    if fields.error_code is not None:
        row.last_error_code = fields.error_code
        row.last_error_reason = reason_for_code(fields.error_code)
    row.updated_at = at
    if fields.status in delivery_status.TERMINAL:
        row.final_at = at
    if fields.error_code == OPTED_OUT_CODE:
        await optout.record(
            session, row.to_index, action=OptOutAction.OPT_OUT, source=OptOutSource.TWILIO_21610, at=at
        )
        await handler.handle_opt_out(session, row.to_index, at)
    if fields.status in delivery_status.FAILED:
        unreachable = fields.error_code in UNREACHABLE_CODES
        await handler.handle_delivery_problem(
            session,
            DeliveryProblem(
                outbox_id=row.id,
                owner_ref=row.owner_ref,
                kind="unreachable" if unreachable else fields.status,  # type: ignore[arg-type]
                error_code=fields.error_code,
                reason_sv=reason_for_code(fields.error_code)
                if fields.error_code
                else "Sms:et kom inte fram.",
                at=at,
            ),
        )
    return "applied"
