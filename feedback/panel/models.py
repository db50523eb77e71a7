"""User panel (brukarpanel): rounds, reflections and published "ni sa – vi gjorde" items (tables only).

Panel members are ordinary users with role ``panel_member`` and a membership in the unit; there is
no separate member table, so unit scope works the same way as for staff.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.db import Base, Timestamps, UUIDPrimaryKey, utcnow


class PanelRound(UUIDPrimaryKey, Timestamps, Base):
    """A round of prompts the panel reflects on; open from ``opens_on`` to ``closes_on`` inclusive."""

    __tablename__ = "panel_round"
    __table_args__ = (sa.Index("ix_panel_round_unit_closes", "unit_id", "closes_on"),)

    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    prompts: Mapped[list[Any]] = mapped_column(default=list)  # list[str], shown in order
    opens_on: Mapped[date] = mapped_column(sa.Date)
    closes_on: Mapped[date] = mapped_column(sa.Date)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))

    def is_open(self, today: date) -> bool:
        return self.opens_on <= today <= self.closes_on


class Reflection(UUIDPrimaryKey, Timestamps, Base):
    """One member's answer to one prompt of a round.

    ``text`` is the member's words, redacted before they are stored (``nlp.redact``: names,
    phone, e-mail, address and personnummer become placeholders), shown only to that member.
    Everyone else reads the copy registered in ``open_text`` (source_ref ``reflection:<id>``).
    """

    __tablename__ = "panel_reflection"
    __table_args__ = (sa.UniqueConstraint("round_id", "member_id", "prompt_index"),)

    round_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("panel_round.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    prompt_index: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(sa.Text)
    importance: Mapped[int | None] = mapped_column(default=None)  # "hur viktigt är detta?" 1–5
    quote_consent: Mapped[bool] = mapped_column(default=False)
    consent_changed_at: Mapped[datetime | None] = mapped_column(default=None)


class PublishedItem(UUIDPrimaryKey, Base):
    """A "ni sa – vi gjorde" item on the unit's panel page (published from a review action)."""

    __tablename__ = "panel_published_item"
    __table_args__ = (sa.Index("ix_panel_published_item_unit", "unit_id", "published_at"),)

    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"))
    you_said: Mapped[str] = mapped_column(sa.Text)
    we_did: Mapped[str] = mapped_column(sa.Text)
    action_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, unique=True, default=None)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL")
    )
    # True only while the action behind it is "klar": the page then says "Vi gjorde", otherwise
    # "Vi arbetar med". Kept in step by feedback.reports.reviews whenever the action changes.
    done: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_at: Mapped[datetime | None] = mapped_column(default=None)  # last edit after publication
