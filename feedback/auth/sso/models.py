"""Single sign-on tables: linked external identities and the admin's claim → role/unit mapping."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.auth.models import Role
from feedback.core.db import Base, UUIDPrimaryKey, str_enum, utcnow


class ExternalIdentity(UUIDPrimaryKey, Base):
    """One person at one identity provider (``iss`` + ``sub``), linked to a local user.

    Why not match by e-mail at every login: an address can be reused or renamed at the provider;
    the subject is stable. The e-mail is used once, to link an existing local account.
    """

    __tablename__ = "external_identity"
    __table_args__ = (sa.UniqueConstraint("issuer", "subject"),)

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    protocol: Mapped[str] = mapped_column(sa.String(16), default="oidc")
    issuer: Mapped[str] = mapped_column(sa.String(400))
    subject: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class SsoRoleMapping(UUIDPrimaryKey, Base):
    """ "Whoever has ``claim`` = ``value`` (e.g. groups = fs-handlaggare) gets ``role`` in ``units``."""

    __tablename__ = "sso_role_mapping"
    __table_args__ = (sa.UniqueConstraint("claim", "value"),)

    claim: Mapped[str] = mapped_column(sa.String(100))
    value: Mapped[str] = mapped_column(sa.String(400))
    role: Mapped[Role] = mapped_column(str_enum(Role, 20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    units: Mapped[list[SsoRoleMappingUnit]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="mapping"
    )

    @property
    def unit_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(u.unit_id for u in self.units)


class SsoRoleMappingUnit(Base):
    __tablename__ = "sso_role_mapping_unit"

    mapping_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("sso_role_mapping.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)

    mapping: Mapped[SsoRoleMapping] = relationship(back_populates="units")
