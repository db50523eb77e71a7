"""Tables of the messaging layer: the outbox, delivery events, inbound messages, opt-outs, windows.

Why an outbox table and not "send now": every outgoing SMS is written in the same transaction as
the business change that causes it (``notifications.outbox.enqueue``) and delivered later by the
worker (``notifications.dispatcher``). Nothing is lost when the process dies, and the unique
idempotency key makes a repeated planner run a no-op.

Phone numbers are never stored in clear: ``*_encrypted`` is Fernet ciphertext
(``notifications.phone.PhoneVault``), ``*_index`` the keyed blind index used for lookups.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.db import Base, UUIDPrimaryKey, str_enum, utcnow


class OutboxStatus(enum.StrEnum):
    """The outbox state machine (see ``notifications.dispatcher`` for the transitions).

    queued → sending → sent → delivered ✔ | undelivered ✖ | failed ✖
    sending → retry (provider positively did not accept) → sending …
    sending → failed ✖ (permanent) | dead ⚑ (max attempts) | unknown (outcome not known)
    unknown → sent (callback / reconciler found it) | retry (provider has no record) | needs_review ⚑
    queued/retry → skipped (opted out) | canceled (owner withdrew it)
    """

    QUEUED = "queued"
    SENDING = "sending"
    RETRY = "retry"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    UNKNOWN = "unknown"
    NEEDS_REVIEW = "needs_review"
    SKIPPED = "skipped"
    CANCELED = "canceled"
    DEAD = "dead"


# Rows the dispatcher may claim (when due); rows that may still be withdrawn.
DUE_STATUSES = (OutboxStatus.QUEUED, OutboxStatus.RETRY)
PENDING_STATUSES = DUE_STATUSES
FINAL_STATUSES = frozenset(
    {
        OutboxStatus.DELIVERED,
        OutboxStatus.UNDELIVERED,
        OutboxStatus.FAILED,
        OutboxStatus.NEEDS_REVIEW,
        OutboxStatus.SKIPPED,
        OutboxStatus.CANCELED,
        OutboxStatus.DEAD,
    }
)


class OptOutAction(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


class OptOutSource(enum.StrEnum):
    KEYWORD = "keyword"  # the person wrote STOPP/START in a reply
    TWILIO_21610 = "twilio_21610"  # Twilio refused a send: the number opted out at the provider
    OPT_OUT_TYPE = "opt_out_type"  # Twilio Advanced Opt-Out told us in the inbound webhook
    ADMIN = "admin"  # a caseworker recorded it (e.g. said on the phone)


_DUE_WHERE = sa.text("status IN ('queued', 'retry')")


class SmsOutbox(UUIDPrimaryKey, Base):
    """One outgoing SMS. ``id`` doubles as the correlation id in the StatusCallback URL (``?o=``)."""

    __tablename__ = "sms_outbox"
    __table_args__ = (
        # Due selection reads only rows with not_before <= now among claimable rows, so its cost
        # depends on the number of due rows, not on the (large) number of future follow-ups.
        sa.Index(
            "ix_sms_outbox_due",
            "not_before",
            postgresql_where=_DUE_WHERE,
            sqlite_where=_DUE_WHERE,
        ),
        sa.Index("ix_sms_outbox_status_lease", "status", "lease_until"),
        sa.Index("ix_sms_outbox_owner_ref", "owner_ref"),
        sa.Index("ix_sms_outbox_to_index_status", "to_index", "status"),
    )

    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(32), default="message")
    owner_ref: Mapped[str | None] = mapped_column(sa.String(120))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("unit.id", ondelete="SET NULL"))
    to_encrypted: Mapped[str] = mapped_column(sa.Text)
    to_index: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text)
    segments: Mapped[int] = mapped_column(default=1)
    encoding: Mapped[str] = mapped_column(sa.String(8), default="gsm7")
    # The language the body is actually written in (the catalogue's choice after any fallback),
    # NULL for texts written by a person (a caseworker's reply) or before this was recorded.
    language: Mapped[str | None] = mapped_column(sa.String(16), default=None)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, validate=False), default=OutboxStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    attempt_started_at: Mapped[datetime | None] = mapped_column()
    # Replies inside an ongoing conversation: allowed outside the office window (see windows.py).
    conversation_exempt: Mapped[bool] = mapped_column(default=False)
    # The opt-out confirmation itself must reach a person who just wrote STOPP.
    ignore_opt_out: Mapped[bool] = mapped_column(default=False)
    provider_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    provider_status: Mapped[str | None] = mapped_column(sa.String(16))
    last_error_code: Mapped[int | None] = mapped_column()
    last_error_reason: Mapped[str | None] = mapped_column(sa.String(300))
    reconcile_checks: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    final_at: Mapped[datetime | None] = mapped_column()


class SmsStatusEvent(UUIDPrimaryKey, Base):
    """Append-only delivery callbacks; unique (sid, status) makes a repeated callback a no-op."""

    __tablename__ = "sms_status_event"
    __table_args__ = (sa.UniqueConstraint("provider_sid", "status"),)

    provider_sid: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16))
    error_code: Mapped[int | None] = mapped_column()
    outbox_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsInbound(UUIDPrimaryKey, Base):
    """A verified inbound SMS, stored once per MessageSid; sender and text encrypted."""

    __tablename__ = "sms_inbound"

    message_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    from_index: Mapped[str] = mapped_column(sa.String(64), index=True)
    from_encrypted: Mapped[str] = mapped_column(sa.Text)
    to_number: Mapped[str] = mapped_column(sa.String(32))
    body_encrypted: Mapped[str] = mapped_column(sa.Text)
    opt_out_type: Mapped[str | None] = mapped_column(sa.String(16))
    outcome: Mapped[str | None] = mapped_column(sa.String(32))
    handled: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsOptOutEvent(Base):
    """Append-only opt-out ledger: the newest event per number decides (never updated or deleted)."""

    __tablename__ = "sms_opt_out_event"
    __table_args__ = (sa.Index("ix_sms_opt_out_event_phone_at", "phone_index", "at"),)

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    phone_index: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[OptOutAction] = mapped_column(str_enum(OptOutAction, validate=False))
    source: Mapped[OptOutSource] = mapped_column(str_enum(OptOutSource, validate=False))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(sa.String(200))


class SmsSendWindow(UUIDPrimaryKey, Base):
    """Per-unit send window (local time, Europe/Stockholm by default); absent → the default window."""

    __tablename__ = "sms_send_window"

    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), unique=True)
    weekdays: Mapped[str] = mapped_column(sa.String(7), default="01234")  # Monday = 0
    start_minute: Mapped[int] = mapped_column(default=9 * 60)
    end_minute: Mapped[int] = mapped_column(default=19 * 60)
    skip_holidays: Mapped[bool] = mapped_column(default=True)
    timezone: Mapped[str] = mapped_column(sa.String(40), default="Europe/Stockholm")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
