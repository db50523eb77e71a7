"""Reviews (översyn): frozen report snapshots, findings and actions (tables only).

A review starts from a snapshot of the theme report as it was on that day. The snapshot is a JSON
document written once and never updated (the service has no update path, and ``snapshot_sha256``
lets anyone check it), so a later retrain, merge or new answers cannot change what a review was
based on.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.db import Base, UUIDPrimaryKey, str_enum, utcnow


class ActionStatus(enum.StrEnum):
    PLANNED = "planned"
    ONGOING = "ongoing"
    DONE = "done"


ACTION_STATUS_LABELS_SV = {
    ActionStatus.PLANNED: "Planerad",
    ActionStatus.ONGOING: "Pågår",
    ActionStatus.DONE: "Klar",
}

# How a published action is headed on the panel page, in the review and in the SMS: only a
# finished action may say "vi gjorde"; anything else is still work in progress.
WE_DID_SV = "Vi gjorde"
WE_ARE_WORKING_ON_SV = "Vi arbetar med"


def published_label(status: ActionStatus) -> str:
    return WE_DID_SV if status is ActionStatus.DONE else WE_ARE_WORKING_ON_SV


class Review(UUIDPrimaryKey, Base):
    __tablename__ = "review"
    __table_args__ = (sa.Index("ix_review_unit_created", "unit_id", "created_at"),)

    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    period_from: Mapped[date] = mapped_column(sa.Date)
    period_to: Mapped[date] = mapped_column(sa.Date)
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    snapshot_sha256: Mapped[str] = mapped_column(sa.String(64))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Finding(UUIDPrimaryKey, Base):
    """What the review found, linked to theme keys and to approved (consented, redacted) quotes."""

    __tablename__ = "review_finding"

    review_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("review.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    theme_keys: Mapped[list[Any]] = mapped_column(default=list)
    quotes: Mapped[list[Any]] = mapped_column(default=list)  # [{"open_text_id", "text"}] copied at the time
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # set by every edit, shown as "uppdaterad": a finding can be corrected after publication
    updated_at: Mapped[datetime | None] = mapped_column(default=None)


class ReviewAction(UUIDPrimaryKey, Base):
    """Something the unit will do, with owner, due date and status; can be published to the panel."""

    __tablename__ = "review_action"

    review_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("review.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("review_finding.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(sa.String(300))
    owner: Mapped[str] = mapped_column(sa.String(200))
    due_on: Mapped[date | None] = mapped_column(sa.Date, default=None)
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus, validate=False),
        default=ActionStatus.PLANNED,
    )
    published_item_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("panel_published_item.id", ondelete="SET NULL"), default=None
    )
    sms_queued: Mapped[int | None] = mapped_column(default=None)  # how many SMS were queued, if any
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # set by every edit and status change, shown as "uppdaterad"
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
