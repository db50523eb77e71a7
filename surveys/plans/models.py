"""Follow-up plans (versioned, per unit) and the follow-up rows they expand into (tables only).

Why rows and not a computation per request: the worker asks the database "what is due today?"
through an index (``ix_follow_up_status_due_on``); a plan is expanded once, when a closure is
registered or changed, in the same transaction as that change. A plan is never edited in place:
a change makes a new version, and existing follow-ups keep the version they were expanded from.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.core.db import Base, Timestamps, UUIDPrimaryKey, str_enum, utcnow
from surveys.closures.models import Closure


class StepChannel(enum.StrEnum):
    SMS = "sms"  # an SMS questionnaire conversation
    PHONE = "phone"  # a call task in the unit's phone queue
    STATUS_SMS = "status_sms"  # a one-question SMS: are you working / studying?


class FollowUpStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # waiting for due_on
    DUE = "due"  # handed to the channel (conversation or call queue) by the scheduler
    STARTED = "started"  # the channel has begun (first SMS queued, call claimed)
    SKIPPED = "skipped"  # not contacted; skip_reason says why (gate, window passed, fatigue)
    CANCELLED = "cancelled"  # plan no longer applies (return to assistance, closure changed)
    DONE = "done"  # the channel finished (any disposition)


PENDING_STATUSES = (FollowUpStatus.SCHEDULED,)
OPEN_STATUSES = (FollowUpStatus.SCHEDULED, FollowUpStatus.DUE, FollowUpStatus.STARTED)


class FollowUpPlan(UUIDPrimaryKey, Base):
    """One version of a unit's plan; the newest active version is used for new closures."""

    __tablename__ = "follow_up_plan"
    __table_args__ = (sa.UniqueConstraint("unit_id", "version", name="uq_follow_up_plan_unit_version"),)

    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )

    steps: Mapped[list[PlanStep]] = relationship(
        back_populates="plan", order_by="PlanStep.offset_days", lazy="selectin", cascade="all, delete-orphan"
    )


class PlanStep(UUIDPrimaryKey, Base):
    """A wave: ``offset_days`` after closed_on, open ``window_days`` either side."""

    __tablename__ = "follow_up_plan_step"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "offset_days", name="uq_follow_up_plan_step_plan_offset"),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("follow_up_plan.id", ondelete="CASCADE"))
    offset_days: Mapped[int]
    channel: Mapped[StepChannel] = mapped_column(str_enum(StepChannel, 20))
    questionnaire_key: Mapped[str] = mapped_column(sa.String(64))
    window_days: Mapped[int]

    plan: Mapped[FollowUpPlan] = relationship(back_populates="steps")


class FollowUp(UUIDPrimaryKey, Timestamps, Base):
    """One planned contact for one closure (a wave). Unique per closure and wave.

    Other packages build on this row: surveys.conversations starts an SMS conversation for it,
    surveys.phone creates a call task for it; both move ``status`` on to started/done.
    """

    __tablename__ = "follow_up"
    __table_args__ = (
        sa.UniqueConstraint("closure_id", "wave_days", name="uq_follow_up_closure_wave"),
        sa.Index("ix_follow_up_status_due_on", "status", "due_on"),
    )

    closure_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("closure.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("follow_up_plan.id", ondelete="SET NULL"), default=None
    )
    plan_version: Mapped[int] = mapped_column(default=1)
    wave_days: Mapped[int]  # the step's offset: 30, 90, 180, 365
    channel: Mapped[StepChannel] = mapped_column(str_enum(StepChannel, 20))
    questionnaire_key: Mapped[str] = mapped_column(sa.String(64))
    due_on: Mapped[date]  # local (Europe/Stockholm) date the contact should start
    window_end: Mapped[date]  # last date the contact may still start
    status: Mapped[FollowUpStatus] = mapped_column(
        str_enum(FollowUpStatus, 20), default=FollowUpStatus.SCHEDULED
    )
    skip_reason: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    handed_over_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # Optimistic version check: the scheduler re-reads status before handing over.
    revision: Mapped[int] = mapped_column(default=1)

    closure: Mapped[Closure] = relationship(lazy="raise")
