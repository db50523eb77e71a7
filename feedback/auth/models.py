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
    # Reads the audit log only (loggkontroll); sees no client data pages.
    AUDITOR = "auditor"
    # A service account: a case system calling /api/... with a bearer token, never a person.
    INTEGRATION = "integration"


ROLE_LABELS_SV = {
    Role.ADMIN: "Administratör",
    Role.MANAGER: "Enhetschef",
    Role.CASEWORKER: "Handläggare",
    Role.PANEL_MEMBER: "Panelmedlem",
    Role.AUDITOR: "Granskare",
    Role.INTEGRATION: "Tjänstekonto (API)",
}
# Roles that need no unit: the admin sees every unit, the granskare reads the whole audit log.
UNITLESS_ROLES = frozenset({Role.ADMIN, Role.AUDITOR})
# Roles a person can be invited to; service accounts are made on the API key page.
PERSON_ROLES = (Role.ADMIN, Role.MANAGER, Role.CASEWORKER, Role.PANEL_MEMBER, Role.AUDITOR)


class Unit(UUIDPrimaryKey, Timestamps, Base):
    """An organisational unit (e.g. försörjningsstöd, AME) that owns cases and report scope."""

    __tablename__ = "unit"

    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    # How survey texts name the sender ("{kommun}"); NULL: FEEDBACK_SMS_SENDER_NAME. Kept to the
    # rules of a Twilio alphanumeric sender id (<= 11 characters) so it can also be one.
    sms_sender_name: Mapped[str | None] = mapped_column(sa.String(11), default=None)


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


class TokenScope(enum.StrEnum):
    READ = "read"
    WRITE = "write"


TOKEN_SCOPE_LABELS_SV = {TokenScope.READ: "Läsa", TokenScope.WRITE: "Läsa och skriva"}


class ApiToken(UUIDPrimaryKey, Base):
    """A service account's API key: only the SHA-256 of the key is stored, never the key.

    The account itself is an ``app_user`` row with the role ``integration`` (so audit rows and
    registered closures name it like any actor); its unit memberships are the key's unit scope.
    """

    __tablename__ = "api_token"

    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters of the key, shown in lists so an operator can tell keys apart.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    scope: Mapped[TokenScope] = mapped_column(str_enum(TokenScope, 8))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class AccessibilityReport(UUIDPrimaryKey, Base):
    """A problem reported from the tillgänglighetsredogörelse (DOS-lagen): read by the admin.

    ``description`` is stored redacted (anyone may write here); ``reply_to`` is an address the
    reporter chose to give for an answer, shown to admins only.
    """

    __tablename__ = "accessibility_report"

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    page: Mapped[str] = mapped_column(sa.String(300), default="")
    description: Mapped[str] = mapped_column(sa.Text)
    reply_to: Mapped[str | None] = mapped_column(sa.String(320), default=None)
    handled_at: Mapped[datetime | None] = mapped_column(default=None)
    handled_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
