"""The demo clock's offset, persisted so a restart of ``make run`` keeps the travelled time."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.db import Base, utcnow


class DevClockState(Base):
    """One row (id 1): how far the development app's clock is ahead of real time."""

    __tablename__ = "dev_clock"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    offset_seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
