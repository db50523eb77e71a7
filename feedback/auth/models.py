"""People, units, access and the audit trail (tables only)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.core.db import Base, Timestamps, UUIDPrimaryKey, str_enum, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CASEWORKER = "caseworker"
    PANEL_MEMBER = "panel_member"


ROLE_LABELS_SV = {
    Role.ADMIN: "Administratör",
    Role.MANAGER: "Enhetschef",
    Role.CASEWORKER: "Handläggare",
    Role.PANEL_MEMBER: "Panelmedlem",
}


class Unit(UUIDPrimaryKey, Timestamps, Base):
    """An organisational unit (e.g. försörjningsstöd, AME) that owns cases and report scope."""

    __tablename__ = "unit"

    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(default=True)


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "app_user"

    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, 20))
    # argon2id hash; NULL until an invited user sets a password.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set when an admin switches the account off (NULL while invited, active, or while single
    # sign-on alone withholds access): an SSO login never reopens an account an admin closed.
    deactivated_at: Mapped[datetime | None] = mapped_column(default=None)
    # Part of every session's marker: bumping it ends all of the user's open sessions at once.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def unit_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(m.unit_id for m in self.memberships)


class Membership(Base):
    """A user's access to one unit; role checks are always combined with this unit scope."""

    __tablename__ = "membership"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship(lazy="joined")


class Invitation(UUIDPrimaryKey, Base):
    """A single-use, expiring link; only the SHA-256 of the token is stored."""

    __tablename__ = "invitation"

    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginThrottle(Base):
    """Failed login counter per key (``account:<email>`` or ``client:<ip>``)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(sa.String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class WebSession(Base):
    """Server-side session data (Litestar store); survives restarts, shared by processes."""

    __tablename__ = "web_session"

    key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    value: Mapped[bytes] = mapped_column(sa.LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
