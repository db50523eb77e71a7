"""The caseworkers' phone queue: call tasks and each attempt at a call (tables only).

A call task is created by the plan's phone step, by an SMS conversation that got no answer or
could not be delivered, or by "ring mig". Claiming is one conditional UPDATE, so two
caseworkers can never hold the same task; at most three attempts, then unreachable.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.db import Base, UUIDPrimaryKey, str_enum, utcnow


class CallStatus(enum.StrEnum):
    OPEN = "open"  # in the queue (due_at says from when)
    CLAIMED = "claimed"  # a caseworker holds it (until claim_expires_at)
    DONE = "done"  # finished: completed or declined
    UNREACHABLE = "unreachable"  # max attempts or wrong number
    CANCELLED = "cancelled"


class CallOutcome(enum.StrEnum):
    COMPLETED = "completed"
    DECLINED = "declined"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"
    CALL_BACK = "call_back"


OUTCOME_LABELS_SV = {
    CallOutcome.COMPLETED: "Svarade på frågorna",
    CallOutcome.DECLINED: "Avböjde",
    CallOutcome.NO_ANSWER: "Svarar inte",
    CallOutcome.BUSY: "Upptaget",
    CallOutcome.WRONG_NUMBER: "Fel nummer",
    CallOutcome.CALL_BACK: "Ring tillbaka vid annan tid",
}

REASON_LABELS_SV = {
    "plan": "Planerat samtal",
    "sms_no_response": "Svarade inte på sms",
    "sms_unreachable": "Sms gick inte fram",
    "no_phone_sms": "Inget mobilnummer för sms",
    "call_me": "Bad om att bli uppringd",
    "crisis": "Akut: oroande sms",
}


class CallTask(UUIDPrimaryKey, Base):
    __tablename__ = "call_task"
    __table_args__ = (
        sa.Index("ix_call_task_unit_status_due", "unit_id", "status", "due_at"),
        sa.UniqueConstraint("follow_up_id", "reason", name="uq_call_task_follow_up_reason"),
    )

    follow_up_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("follow_up.id", ondelete="CASCADE"))
    closure_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("closure.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"))
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"))
    questionnaire_key: Mapped[str] = mapped_column(sa.String(64))
    wave_days: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(24))
    status: Mapped[CallStatus] = mapped_column(str_enum(CallStatus), default=CallStatus.OPEN)
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime]
    claimed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
    claim_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_outcome: Mapped[CallOutcome | None] = mapped_column(str_enum(CallOutcome), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # What the person wrote when asking to be called (redacted), newest last.
    message: Mapped[str | None] = mapped_column(sa.Text, default=None)


class CallAttempt(UUIDPrimaryKey, Base):
    __tablename__ = "call_attempt"

    task_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("call_task.id", ondelete="CASCADE"), index=True)
    caller_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[CallOutcome] = mapped_column(str_enum(CallOutcome))
    call_back_at: Mapped[datetime | None] = mapped_column(default=None)
    consent: Mapped[bool | None] = mapped_column(default=None)
    duration_min: Mapped[int | None] = mapped_column(default=None)
    note_open_text_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("open_text.id", ondelete="SET NULL"), default=None
    )
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("survey_case.id", ondelete="SET NULL"), default=None
    )
