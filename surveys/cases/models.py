"""Inner-loop cases: one person who needs someone to act (tables only).

Opened automatically by a reply such as "ring mig", a 1 on satisfaction or crisis words, or by
a caseworker from a call. A case has an owner, a due date two working days ahead and cannot be
closed without an action note (what was done).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.db import Base, UUIDPrimaryKey, str_enum, utcnow


class CaseTrigger(enum.StrEnum):
    CALL_ME = "call_me"
    LOW_SCORE = "low_score"
    CRISIS = "crisis"
    CASEWORKER = "caseworker"


TRIGGER_LABELS_SV = {
    CaseTrigger.CALL_ME: "Vill bli uppringd",
    CaseTrigger.LOW_SCORE: "Mycket lågt betyg",
    CaseTrigger.CRISIS: "Oroande ord i svaret",
    CaseTrigger.CASEWORKER: "Öppnat av handläggare",
}


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Case(UUIDPrimaryKey, Base):
    __tablename__ = "survey_case"
    __table_args__ = (sa.Index("ix_survey_case_unit_status_due", "unit_id", "status", "due_on"),)

    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"))
    closure_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("closure.id", ondelete="CASCADE"), index=True)
    follow_up_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("follow_up.id", ondelete="SET NULL"), default=None
    )
    trigger: Mapped[CaseTrigger] = mapped_column(str_enum(CaseTrigger))
    source: Mapped[str] = mapped_column(sa.String(8))  # sms | phone | web
    # Why it was opened, already redacted (no personnummer, phone numbers or names).
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.OPEN)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    due_on: Mapped[date]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
    action_note: Mapped[str | None] = mapped_column(sa.Text, default=None)  # redacted
