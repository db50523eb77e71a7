"""Answers from every mode (SMS, phone, web) in one schema (tables only).

Why one table: reports compute SKR's "andel positiva svar" per question key across modes and
flag mode effects, so the mode is a column, not a table. Free text is never stored here: it
goes, redacted, to ``open_text`` (themes) and the answer points at that row.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.db import Base, UUIDPrimaryKey, utcnow


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
    mode: Mapped[AnswerMode] = mapped_column(
        sa.Enum(AnswerMode, native_enum=False, length=8, values_callable=lambda e: [m.value for m in e])
    )
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
