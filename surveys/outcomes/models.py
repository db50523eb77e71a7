"""Outcomes per closure and wave: working / studying / both / neither, or returned (tables only).

Why its own table: outcomes come from several sources (the status question by SMS, a phone call,
a caseworker registering a return to assistance) and reports compute sustained
self-sufficiency at 1/3/6/12 months from them, comparable with Kolada's "ej återaktualiserade
ett år efter avslut".
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.db import Base, UUIDPrimaryKey, str_enum, utcnow


class OutcomeStatus(enum.StrEnum):
    WORKING = "working"
    STUDYING = "studying"
    BOTH = "both"
    NEITHER = "neither"
    RETURNED = "returned"  # återaktualiserad: applied for assistance again


OUTCOME_LABELS_SV = {
    OutcomeStatus.WORKING: "Arbetar",
    OutcomeStatus.STUDYING: "Studerar",
    OutcomeStatus.BOTH: "Arbetar och studerar",
    OutcomeStatus.NEITHER: "Varken arbetar eller studerar",
    OutcomeStatus.RETURNED: "Återaktualiserad",
}


class OutcomeSource(enum.StrEnum):
    SMS = "sms"
    PHONE = "phone"
    WEB = "web"
    CASEWORKER = "caseworker"


class OutcomeKind(enum.StrEnum):
    STATUS = "status"  # an observation at a wave (working/studying/both/neither)
    RETURN = "return"  # the registered return to assistance (one per closure)


class Outcome(UUIDPrimaryKey, Base):
    __tablename__ = "outcome"
    __table_args__ = (
        sa.UniqueConstraint("closure_id", "kind", "wave_days", name="uq_outcome_closure_kind_wave"),
        sa.Index("ix_outcome_unit_observed_on", "unit_id", "observed_on"),
    )

    closure_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("closure.id", ondelete="CASCADE"))
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"))
    kind: Mapped[OutcomeKind] = mapped_column(str_enum(OutcomeKind, 8))
    # Days after closed_on the observation belongs to (the wave); for a return, days until it.
    wave_days: Mapped[int]
    status: Mapped[OutcomeStatus] = mapped_column(str_enum(OutcomeStatus, 20))
    source: Mapped[OutcomeSource] = mapped_column(str_enum(OutcomeSource, 20))
    observed_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
