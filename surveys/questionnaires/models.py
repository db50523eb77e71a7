"""Versioned questionnaires, their questions and the texts per language (tables only).

Why versioned: answers must stay interpretable after an editor changes a question. A
questionnaire is identified by ``key`` (what plans refer to, e.g. "default", "status") and a
``version``; conversations pin the version they started with. Texts live in their own table
keyed by language and text key ("intro", "question:satisfaction", "reprompt:satisfaction",
"reminder", "thanks") so Swedish and English are required and lätt svenska, Arabic and Somali
can be added without schema changes. Reports group answers by question key, never by label.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.core.db import Base, UUIDPrimaryKey, str_enum, utcnow
from surveys.questionnaires.answers import QuestionKind


class TextLanguage(enum.StrEnum):
    SV = "sv"
    EN = "en"
    SV_EASY = "sv-easy"
    AR = "ar"
    SO = "so"


REQUIRED_LANGUAGES = (TextLanguage.SV, TextLanguage.EN)


class Questionnaire(UUIDPrimaryKey, Base):
    __tablename__ = "questionnaire"
    __table_args__ = (sa.UniqueConstraint("key", "version", name="uq_questionnaire_key_version"),)

    key: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    questions: Mapped[list[Question]] = relationship(
        back_populates="questionnaire",
        order_by="Question.position",
        lazy="selectin",
        cascade="all, delete-orphan",
    )
    texts: Mapped[list[QuestionnaireText]] = relationship(
        back_populates="questionnaire", lazy="selectin", cascade="all, delete-orphan"
    )


class Question(UUIDPrimaryKey, Base):
    __tablename__ = "question"
    __table_args__ = (
        sa.UniqueConstraint("questionnaire_id", "key", name="uq_question_questionnaire_key"),
        sa.UniqueConstraint("questionnaire_id", "position", name="uq_question_questionnaire_position"),
    )

    questionnaire_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("questionnaire.id", ondelete="CASCADE"))
    position: Mapped[int]
    key: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind))
    # [{"key": 1, "value": "working", "label_sv": "arbetar"}, …] for choice questions.
    choices: Mapped[list[Any]] = mapped_column(default=list)
    allow_dont_know: Mapped[bool] = mapped_column(default=False)
    allow_skip: Mapped[bool] = mapped_column(default=False)
    # SKR quality area this item maps to (helhetssyn, bemotande, delaktighet, samverkan …) or NULL.
    skr_area: Mapped[str | None] = mapped_column(sa.String(32), default=None)
    # The answer is the person's current status (working/studying/both/neither) → outcome.
    is_status: Mapped[bool] = mapped_column(default=False)
    # A 1 on this scale opens a case (the inner loop).
    low_score_opens_case: Mapped[bool] = mapped_column(default=False)
    # Phone script (Swedish): what the caseworker says, and an optional probe.
    phone_prompt: Mapped[str] = mapped_column(sa.Text, default="")
    phone_probe: Mapped[str] = mapped_column(sa.Text, default="")

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="questions")


class QuestionnaireText(UUIDPrimaryKey, Base):
    """One SMS text in one language, with its cost measured when it was saved."""

    __tablename__ = "questionnaire_text"
    __table_args__ = (
        sa.UniqueConstraint(
            "questionnaire_id", "language", "text_key", name="uq_questionnaire_text_lang_key"
        ),
    )

    questionnaire_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("questionnaire.id", ondelete="CASCADE"))
    language: Mapped[TextLanguage] = mapped_column(str_enum(TextLanguage, 8))
    text_key: Mapped[str] = mapped_column(sa.String(80))
    body: Mapped[str] = mapped_column(sa.Text)
    encoding: Mapped[str] = mapped_column(sa.String(8), default="GSM-7")
    segments: Mapped[int] = mapped_column(default=1)
    ucs2_chars: Mapped[str] = mapped_column(sa.String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="texts")
