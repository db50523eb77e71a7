"""Answers from every mode (SMS, phone, web) and the open text they carry (tables only).

Why one table: reports compute SKR's "andel positiva svar" per question key across modes and
flag mode effects, so the mode is a column, not a table. Free text is never stored here: it
goes, redacted, to ``open_text`` (themes) and the answer points at that row.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.core.db import Base, UUIDPrimaryKey, str_enum, utcnow

if TYPE_CHECKING:
    from feedback.themes.models import OpenTextTheme  # the themes layer adds them; typing only


class AnswerMode(enum.StrEnum):
    SMS = "sms"
    PHONE = "phone"
    WEB = "web"


class Answer(UUIDPrimaryKey, Base):
    __tablename__ = "survey_answer"
    __table_args__ = (
        sa.UniqueConstraint(
            "follow_up_id", "mode", "question_key", name="uq_survey_answer_follow_up_mode_key"
        ),
        sa.Index("ix_survey_answer_unit_answered", "unit_id", "answered_at"),
    )

    follow_up_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("follow_up.id", ondelete="CASCADE"))
    closure_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("closure.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"))
    questionnaire_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("questionnaire.id", ondelete="RESTRICT")
    )
    question_key: Mapped[str] = mapped_column(sa.String(64))
    mode: Mapped[AnswerMode] = mapped_column(str_enum(AnswerMode, 8, validate=False))
    wave_days: Mapped[int]
    value: Mapped[str | None] = mapped_column(sa.String(32), default=None)  # language-neutral
    numeric: Mapped[int | None] = mapped_column(default=None)
    dont_know: Mapped[bool] = mapped_column(default=False)
    skipped: Mapped[bool] = mapped_column(default=False)
    # SKR top-2-box: True/False inside the base, NULL outside (vet inte, choice, free text).
    is_positive: Mapped[bool | None] = mapped_column(default=None)
    open_text_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("open_text.id", ondelete="SET NULL"), default=None
    )
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The language the question was actually put in (SMS: after any catalogue fallback; phone:
    # the language the call was held in). NULL for answers stored before it was recorded.
    language: Mapped[str | None] = mapped_column(sa.String(16), default=None)


class Channel(enum.StrEnum):
    SMS = "sms"
    PHONE = "phone"
    PANEL = "panel"


class ThemingStatus(enum.StrEnum):
    PENDING = "pending"
    THEMED = "themed"
    FAILED = "failed"


class OpenText(UUIDPrimaryKey, Base):
    """One open answer from any channel, stored already redacted.

    Why one table for all open text: SMS replies, phone-call notes and panel reflections are
    themed by the same engine and reported side by side; each source registers its text here
    once, with the few dimensions reports filter on copied in (unit, channel, wave, reason,
    language) so a yearly report is one indexed scan, not a join across every package.
    """

    __tablename__ = "open_text"
    __table_args__ = (
        sa.Index("ix_open_text_status_received", "status", "received_at"),
        sa.Index("ix_open_text_unit_received", "unit_id", "received_at"),
        # the report's newest quotable answers, without sorting a year of rows
        sa.Index(
            "ix_open_text_quote_received",
            "received_at",
            postgresql_where=sa.text("quote_consent IS true"),
            sqlite_where=sa.text("quote_consent IS 1"),
        ),
    )

    channel: Mapped[Channel] = mapped_column(str_enum(Channel, validate=False))
    # Where the text came from, e.g. "answer:<uuid>" or "reflection:<uuid>"; unique so a source
    # that registers twice (retried webhook, edited reflection) updates instead of duplicating.
    source_ref: Mapped[str] = mapped_column(sa.String(80), unique=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"))
    # Pseudonymous key for counting distinct respondents (small-cell suppression); never shown.
    respondent_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    language: Mapped[str | None] = mapped_column(sa.String(8))
    wave_days: Mapped[int | None] = mapped_column()
    closure_reason: Mapped[str | None] = mapped_column(sa.String(20))
    question_key: Mapped[str | None] = mapped_column(sa.String(64))
    text_redacted: Mapped[str] = mapped_column(sa.Text)
    quote_consent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ThemingStatus] = mapped_column(
        str_enum(ThemingStatus, validate=False), default=ThemingStatus.PENDING
    )
    sentiment: Mapped[str | None] = mapped_column(sa.String(3))
    model_version: Mapped[str | None] = mapped_column(sa.String(64))
    codebook_version: Mapped[str | None] = mapped_column(sa.String(64))
    themed_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)

    themes: Mapped[list[OpenTextTheme]] = relationship(
        back_populates="open_text", cascade="all, delete-orphan", lazy="selectin"
    )
