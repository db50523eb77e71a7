"""SMS conversations: one per SMS follow-up, holding the state machine's state (tables only).

Why a row per conversation with the machine's fields as columns: the webhook finds the open
conversation by the sender's blind index through an index, and the periodic job finds those
due for a reminder or expiry through another, without loading anything else.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.db import Base, UUIDPrimaryKey, str_enum, utcnow
from surveys.conversations.machine import Disposition


class Conversation(UUIDPrimaryKey, Base):
    __tablename__ = "sms_conversation"
    __table_args__ = (
        sa.Index("ix_sms_conversation_phone_open", "phone_index", "is_open"),
        sa.Index("ix_sms_conversation_open_started", "is_open", "started_at"),
    )

    follow_up_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("follow_up.id", ondelete="CASCADE"), unique=True
    )
    closure_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("closure.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    questionnaire_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("questionnaire.id", ondelete="RESTRICT")
    )
    language: Mapped[str] = mapped_column(sa.String(8), default="sv")
    wave_days: Mapped[int]
    # Keyed blind index of the number texted; NULL once contact data is erased.
    phone_index: Mapped[str | None] = mapped_column(sa.String(64))
    is_open: Mapped[bool] = mapped_column(default=True)
    step: Mapped[int] = mapped_column(default=0)
    reprompts: Mapped[int] = mapped_column(default=0)
    reminder_sent: Mapped[bool] = mapped_column(default=False)
    answered: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_reply_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    disposition: Mapped[Disposition | None] = mapped_column(str_enum(Disposition), default=None)
    # The outbox row of the newest question/re-prompt: its sent_at starts the reminder clock.
    last_prompt_outbox_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    messages_sent: Mapped[int] = mapped_column(default=0)
    # Set when the person wrote crisis words or asked to be called: no next question, no
    # reminder; a caseworker takes over (see machine.on_pause).
    paused_at: Mapped[datetime | None] = mapped_column(default=None)
    # The quoting question ("Får vi visa det du skrev som citat?") awaits its reply: the next
    # message answers it, not the current question (see machine.on_reply).
    awaiting_quote_consent: Mapped[bool] = mapped_column(default=False)
