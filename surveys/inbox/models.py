"""The inbox (inkorg): inbound messages nobody else owns (tables only).

Why: a text that is not a valid survey answer and not handled as crisis, "ring mig" or opt-out
("Hej vem är detta?", a question after the thank-you, a message from an unknown number) must
still reach a person. Each such message becomes one item in its unit's inbox; when no unit can
be determined (an unknown number) the item has no unit and belongs to the admins' inbox.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.db import Base, UUIDPrimaryKey, str_enum, utcnow


class InboxReason(enum.StrEnum):
    NOT_AN_ANSWER = "not_an_answer"  # during a survey, not a valid answer
    AFTER_SURVEY = "after_survey"  # after the thank-you or outside a survey, known number
    UNKNOWN_NUMBER = "unknown_number"  # no client has this number
    CRISIS_UNKNOWN = "crisis_unknown"  # crisis words from a number we cannot link to a case
    CALL_ME_UNKNOWN = "call_me_unknown"  # "ring mig" from a number we cannot put in a queue


REASON_LABELS_SV = {
    InboxReason.NOT_AN_ANSWER: "Inte ett svar på frågan",
    InboxReason.AFTER_SURVEY: "Meddelande utanför enkäten",
    InboxReason.UNKNOWN_NUMBER: "Okänt nummer",
    InboxReason.CRISIS_UNKNOWN: "Akut: oroande sms från okänt nummer",
    InboxReason.CALL_ME_UNKNOWN: "Vill bli uppringd, okänt nummer",
}


class InboxStatus(enum.StrEnum):
    OPEN = "open"
    HANDLED = "handled"


class InboxItem(UUIDPrimaryKey, Base):
    __tablename__ = "inbox_item"
    __table_args__ = (sa.Index("ix_inbox_item_unit_status_received", "unit_id", "status", "received_at"),)

    # One item per stored inbound SMS (``sms_inbound.id``; a retried webhook never makes a
    # second one). No foreign key: the messaging layer's retention may purge its rows first.
    inbound_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("unit.id", ondelete="CASCADE"), default=None
    )  # NULL: the admins' inbox
    closure_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("closure.id", ondelete="CASCADE"), default=None
    )
    phone_index: Mapped[str] = mapped_column(sa.String(64))
    text_redacted: Mapped[str] = mapped_column(sa.Text)
    signals: Mapped[str] = mapped_column(sa.String(64), default="")
    reason: Mapped[InboxReason] = mapped_column(str_enum(InboxReason, 24))
    language: Mapped[str] = mapped_column(sa.String(8), default="sv")
    status: Mapped[InboxStatus] = mapped_column(str_enum(InboxStatus), default=InboxStatus.OPEN)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(default=None)
    handled_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
    # A named caseworker of the unit who answers it (NULL: anyone in the unit).
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
