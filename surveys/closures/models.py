"""Clients and closures (tables only).

Why a separate ``client`` row: the same person (same pseudonymous ``client_ref`` in a unit) can
be closed, return to assistance and be closed again; contact data and consent belong to the
person, the follow-up plan belongs to each closure. Contact data lives only here so erasure
(``feedback purge``) has one place to clear, while answers stay linked by the pseudonymous id.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.core.db import Base, Timestamps, UUIDPrimaryKey, str_enum, utcnow


class Language(enum.StrEnum):
    SV = "sv"
    EN = "en"
    SV_EASY = "sv-easy"  # lätt svenska
    AR = "ar"
    SO = "so"


LANGUAGE_LABELS_SV = {
    Language.SV: "Svenska",
    Language.SV_EASY: "Lätt svenska",
    Language.EN: "Engelska",
    Language.AR: "Arabiska",
    Language.SO: "Somaliska",
}


class ClosureReason(enum.StrEnum):
    WORK = "work"
    STUDIES = "studies"
    OTHER_INCOME = "other_income"
    MOVED = "moved"
    UNKNOWN = "unknown"


REASON_LABELS_SV = {
    ClosureReason.WORK: "Arbete",
    ClosureReason.STUDIES: "Studier",
    ClosureReason.OTHER_INCOME: "Annan inkomst",
    ClosureReason.MOVED: "Flyttat",
    ClosureReason.UNKNOWN: "Okänt",
}

# Only closures to work or studies are followed up (the "closed to self-sufficiency").
FOLLOWED_UP_REASONS = frozenset({ClosureReason.WORK, ClosureReason.STUDIES})


class ConsentChannel(enum.StrEnum):
    MEETING = "meeting"
    PHONE = "phone"
    WRITTEN = "written"
    DIGITAL = "digital"


CONSENT_CHANNEL_LABELS_SV = {
    ConsentChannel.MEETING: "Vid möte",
    ConsentChannel.PHONE: "Per telefon",
    ConsentChannel.WRITTEN: "Skriftligt",
    ConsentChannel.DIGITAL: "Digitalt",
}


class ConsentGivenBy(enum.StrEnum):
    CLIENT = "client"
    REPRESENTATIVE = "representative"  # god man, förvaltare, vårdnadshavare


CONSENT_GIVEN_BY_LABELS_SV = {
    ConsentGivenBy.CLIENT: "Klienten själv",
    ConsentGivenBy.REPRESENTATIVE: "Företrädare (god man, förvaltare)",
}


class Client(UUIDPrimaryKey, Timestamps, Base):
    """A pseudonymous client of one unit, with (encrypted) contact data and consent."""

    __tablename__ = "client"
    __table_args__ = (sa.UniqueConstraint("unit_id", "client_ref", name="uq_client_unit_ref"),)

    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    # The case system's pseudonymous reference; NULL once erased (the link to the case is cut).
    client_ref: Mapped[str | None] = mapped_column(sa.String(64))
    # Phone: Fernet ciphertext + HMAC blind index for lookups + a mask for lists (no decrypt needed).
    phone_ciphertext: Mapped[str | None] = mapped_column(sa.Text, default=None)
    phone_index: Mapped[str | None] = mapped_column(sa.String(64), default=None, index=True)
    phone_masked: Mapped[str | None] = mapped_column(sa.String(24), default=None)
    language: Mapped[Language] = mapped_column(str_enum(Language, 8), default=Language.SV)
    consent_on: Mapped[date | None] = mapped_column(default=None)
    consent_channel: Mapped[ConsentChannel | None] = mapped_column(str_enum(ConsentChannel, 20), default=None)
    consent_given_by: Mapped[ConsentGivenBy | None] = mapped_column(
        str_enum(ConsentGivenBy, 20), default=None
    )
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    do_not_contact: Mapped[bool] = mapped_column(default=False)
    protected_identity: Mapped[bool] = mapped_column(default=False)
    erased_at: Mapped[datetime | None] = mapped_column(default=None)

    closures: Mapped[list[Closure]] = relationship(back_populates="client", order_by="Closure.closed_on")

    @property
    def has_consent(self) -> bool:
        return self.consent_on is not None and self.consent_withdrawn_at is None


class Closure(UUIDPrimaryKey, Timestamps, Base):
    """A case closed on a date for a reason; anchor of the follow-up plan and of outcomes."""

    __tablename__ = "closure"
    __table_args__ = (
        sa.UniqueConstraint("client_id", "closed_on", name="uq_closure_client_closed_on"),
        sa.Index("ix_closure_unit_closed_on", "unit_id", "closed_on"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"))
    # Copied from the client so unit-scoped lists and reports need no join.
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"))
    closed_on: Mapped[date]
    reason: Mapped[ClosureReason] = mapped_column(str_enum(ClosureReason, 20))
    registered_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"), default=None
    )
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Återaktualisering: the client applied for assistance again; the rest of the plan is cancelled.
    returned_on: Mapped[date | None] = mapped_column(default=None)

    client: Mapped[Client] = relationship(back_populates="closures", lazy="joined")
