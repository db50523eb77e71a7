"""Tables of the kernel: the audit trail every layer writes to (tables only).

Why here and not in ``feedback.auth``: surveys, notifications and the web layer all record who
read or changed personal data, and they sit below auth; the FK to ``app_user`` is by table name.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.db import Base, utcnow


class AuditEvent(Base):
    """Append-only record of who read or changed personal data, when and why."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    subject_type: Mapped[str] = mapped_column(sa.String(64))
    subject_id: Mapped[str | None] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    client_ip: Mapped[str | None] = mapped_column(sa.String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class WorkerHeartbeat(Base):
    """When the worker last finished a pass with no failing job (``/metrics`` reads it).

    Why a table: the worker is another process; the web app's metrics endpoint can only learn
    that the worker is alive from the database they share.
    """

    __tablename__ = "worker_heartbeat"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_success_at: Mapped[datetime]
