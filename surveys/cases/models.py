"""Inner-loop cases: one person who needs someone to act (tables only).

Opened automatically by a reply such as "ring mig", a 1 on satisfaction or crisis words, or by
a caseworker from a call. A case has an owner, a priority with its due date (akut: the same
working day; normal: two working days ahead) and cannot be closed without an action note.

Every message that reaches an open case is a ``CaseEvent`` on its timeline: a later "jag har
blivit hotad" is never merged silently into an earlier "ring mig" case; it is appended, and
raises the priority when it is more urgent.
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


class CasePriority(enum.StrEnum):
    AKUT = "akut"  # crisis words: someone acts the same working day
    NORMAL = "normal"  # two working days


PRIORITY_RANK = {CasePriority.NORMAL: 0, CasePriority.AKUT: 1}
PRIORITY_LABELS_SV = {CasePriority.AKUT: "Akut", CasePriority.NORMAL: "Normal"}


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
    priority: Mapped[CasePriority] = mapped_column(
        str_enum(CasePriority), default=CasePriority.NORMAL, server_default=CasePriority.NORMAL.value
    )
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    # When a person explicitly took the case ("Ta ansvar"); the default owner (the caseworker who
    # registered the closure) has not taken it. An untaken akut case is a banner for the unit.
    taken_at: Mapped[datetime | None] = mapped_column(default=None)
    due_on: Mapped[date]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
    action_note: Mapped[str | None] = mapped_column(sa.Text, default=None)  # redacted


class CaseEventKind(enum.StrEnum):
    OPENED = "opened"
    MESSAGE = "message"  # a later message from the person, appended to the open case
    PRIORITY_RAISED = "priority_raised"
    # Another reason for the same open case (a caseworker's "open a case" after a call, a 1 given
    # on the phone): the person keeps one open case, the reason goes onto its timeline.
    REASON_ADDED = "reason_added"


class CaseEvent(UUIDPrimaryKey, Base):
    """One entry on a case's timeline (append-only)."""

    __tablename__ = "survey_case_event"
    __table_args__ = (sa.Index("ix_survey_case_event_case_at", "case_id", "at"),)

    case_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("survey_case.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[CaseEventKind] = mapped_column(str_enum(CaseEventKind, 24))
    # Signal names and crisis kinds found in the message ("crisis,call_me" / "suicide,eviction").
    signals: Mapped[str] = mapped_column(sa.String(64), default="")
    crisis_kinds: Mapped[str] = mapped_column(sa.String(120), default="")
    priority: Mapped[CasePriority | None] = mapped_column(str_enum(CasePriority), default=None)
    text_redacted: Mapped[str] = mapped_column(sa.Text, default="")
    # The stored inbound SMS (sms_inbound.id) the entry came from, if any.
    inbound_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
