"""Putting messages into the outbox – inside the caller's transaction – and taking them back out.

Why inside the caller's transaction: the business change ("closure registered → invite due in
30 days", "answer stored → next question") and the message it causes commit together or not at
all. ``enqueue`` never commits. A unique idempotency key plus ``INSERT … ON CONFLICT DO
NOTHING`` (PostgreSQL and SQLite) makes a repeated call return the existing message instead of
creating a second one, so a retried webhook or a double click can never text anybody twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.db import insert_for, rowcount, utcnow
from notifications import encoding
from notifications.kinds import check_kind
from notifications.models import PENDING_STATUSES, OutboxStatus, SmsOutbox
from notifications.phone import PhoneVault, normalise_mobile

MAX_BODY_CHARS = 1600  # Twilio refuses longer bodies (21617)
DEFAULT_MAX_ATTEMPTS = 5


async def enqueue(
    session: AsyncSession,
    *,
    idempotency_key: str,
    to_e164: str,
    body: str,
    vault: PhoneVault | None = None,
    settings: Any = None,
    owner_ref: str | None = None,
    unit_id: uuid.UUID | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
    kind: str = "message",
    conversation_exempt: bool = False,
    ignore_opt_out: bool = False,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    language: str | None = None,
) -> uuid.UUID:
    """Add one message to the outbox (no commit) and return its id; a repeat returns the first id.

    ``to_e164`` is checked again here (a number that is not a mobile number raises
    ``notifications.phone.InvalidPhoneNumber``). If the number is opted out the row is stored as
    ``skipped`` – the call still succeeds, so a survey flow is not broken by a STOPP, and the
    row shows why nothing was sent. ``ignore_opt_out`` is only for the opt-out confirmation.
    Give either ``vault`` or ``settings`` (with ``data_keys``/``index_key``). ``kind`` must be one of
    ``notifications.kinds.SMS_KINDS`` (``UnknownSmsKind`` otherwise): it decides the fatigue cap.
    ``language`` is the language the body is actually written in (after any fallback), stored on
    the row so the client page can say which language a person really got.
    """
    check_kind(kind)  # an unclassified kind would slip past the fatigue cap
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValueError("idempotency_key must be 1–200 characters")
    if not body or not body.strip():
        raise ValueError("an SMS needs a body")
    if len(body) > MAX_BODY_CHARS:
        raise ValueError(f"an SMS body is at most {MAX_BODY_CHARS} characters")
    if vault is None:
        if settings is None:
            raise ValueError("enqueue needs a PhoneVault or settings")
        vault = PhoneVault.from_settings(settings)
    e164 = normalise_mobile(to_e164)
    at = now or utcnow()
    phone_index = vault.blind_index(e164)
    status = OutboxStatus.QUEUED
    if not ignore_opt_out:
        from notifications.optout import is_opted_out

        if await is_opted_out(session, phone_index):
            status = OutboxStatus.SKIPPED
    info = encoding.segment_info(body)
    new_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": new_id,
        "idempotency_key": idempotency_key,
        "kind": kind,
        "owner_ref": owner_ref,
        "unit_id": unit_id,
        "to_encrypted": vault.encrypt(e164),
        "to_index": phone_index,
        "body": body,
        "segments": info.segments,
        "encoding": info.encoding,
        "language": language[:16] if language else None,
        "status": status,
        "attempts": 0,
        "max_attempts": max_attempts,
        "not_before": not_before or at,
        "conversation_exempt": conversation_exempt,
        "ignore_opt_out": ignore_opt_out,
        "reconcile_checks": 0,
        "created_at": at,
        "updated_at": at,
    }
    if status == OutboxStatus.SKIPPED:
        values["last_error_reason"] = "Personen har tackat nej till SMS (STOPP)."
        values["final_at"] = at
    statement = (
        insert_for(session, SmsOutbox)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(SmsOutbox.id)
    )
    inserted = (await session.execute(statement)).scalar_one_or_none()
    if inserted is not None:
        return inserted
    existing = await session.scalar(
        sa.select(SmsOutbox.id).where(SmsOutbox.idempotency_key == idempotency_key)
    )
    if existing is None:  # pragma: no cover - the conflicting row vanished between statements
        raise RuntimeError("idempotency conflict without an existing row")
    return existing


async def cancel_pending(
    session: AsyncSession, owner_ref: str, *, now: datetime | None = None, reason_sv: str | None = None
) -> int:
    """Withdraw every not-yet-sent message of ``owner_ref`` (case reopened, consent withdrawn)."""
    at = now or utcnow()
    result = await session.execute(
        sa.update(SmsOutbox)
        .where(SmsOutbox.owner_ref == owner_ref, SmsOutbox.status.in_(PENDING_STATUSES))
        .values(
            status=OutboxStatus.CANCELED,
            final_at=at,
            updated_at=at,
            last_error_reason=reason_sv or "Utskicket stoppades innan det skickades.",
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


async def skip_pending_for_number(
    session: AsyncSession, phone_index: str, *, now: datetime | None = None
) -> int:
    """Skip every pending message to a number that opted out (confirmations excepted)."""
    at = now or utcnow()
    result = await session.execute(
        sa.update(SmsOutbox)
        .where(
            SmsOutbox.to_index == phone_index,
            SmsOutbox.status.in_(PENDING_STATUSES),
            SmsOutbox.ignore_opt_out.is_(False),
        )
        .values(
            status=OutboxStatus.SKIPPED,
            final_at=at,
            updated_at=at,
            last_error_reason="Personen har tackat nej till SMS (STOPP).",
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


async def get_message(session: AsyncSession, message_id: uuid.UUID) -> SmsOutbox | None:
    return await session.get(SmsOutbox, message_id)


async def messages_for_owner(session: AsyncSession, owner_ref: str) -> list[SmsOutbox]:
    result = await session.scalars(
        sa.select(SmsOutbox).where(SmsOutbox.owner_ref == owner_ref).order_by(SmsOutbox.created_at)
    )
    return list(result)
