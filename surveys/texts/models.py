"""The text catalogue's edits: one row per key and language that an admin changed (table only).

Why only edits: the shipped texts live in files (``surveys/texts/shipped.py``); a row here
overrides one of them. It keeps the newest version (``body``, ``status``) and, beside it, the
last reviewed version (``reviewed_body``, who, when): a draft never replaces a reviewed text in
what people receive until it is reviewed itself ("reviewed > draft"). ``language`` is a plain
string so a new language needs no schema change.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.db import Base, UUIDPrimaryKey, utcnow


class CatalogueText(UUIDPrimaryKey, Base):
    __tablename__ = "catalogue_text"
    __table_args__ = (sa.UniqueConstraint("key", "language", name="uq_catalogue_text_key_language"),)

    key: Mapped[str] = mapped_column(sa.String(120))
    language: Mapped[str] = mapped_column(sa.String(16))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="utkast")  # utkast | granskad
    encoding: Mapped[str] = mapped_column(sa.String(8), default="GSM-7")
    segments: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[str] = mapped_column(sa.String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last reviewed version: what is sent while ``body`` is a draft.
    reviewed_body: Mapped[str | None] = mapped_column(sa.Text, default=None)
    reviewed_by: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
