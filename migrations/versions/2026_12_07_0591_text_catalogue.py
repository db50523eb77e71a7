"""The text catalogue's edits (``catalogue_text``) and the language of each outbox row.

Why: every client-facing text exists in sv, lätt svenska, en, ar and so, with a review status;
admins' edits are stored per key and language beside the shipped texts, and the outbox and each answer
record which language a message was actually sent in, so nothing falls back to Swedish silently.

Revision ID: 0591_text_catalogue
Revises: 0581_review_edits
Create Date: 2026-12-07 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import feedback.core.db

revision: str = "0591_text_catalogue"
down_revision: str | Sequence[str] | None = "0581_review_edits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalogue_text",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", feedback.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_body", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", feedback.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_text")),
        sa.UniqueConstraint("key", "language", name="uq_catalogue_text_key_language"),
    )
    op.add_column("sms_outbox", sa.Column("language", sa.String(length=16), nullable=True))
    op.add_column("survey_answer", sa.Column("language", sa.String(length=16), nullable=True))
    # Answers from before: the language their open text was stored with, else the client's.
    op.execute(
        "UPDATE survey_answer SET language = (SELECT open_text.language FROM open_text "
        "WHERE open_text.id = survey_answer.open_text_id) WHERE open_text_id IS NOT NULL"
    )
    op.execute(
        "UPDATE survey_answer SET language = (SELECT client.language FROM closure JOIN client "
        "ON client.id = closure.client_id WHERE closure.id = survey_answer.closure_id) "
        "WHERE language IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("survey_answer") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("sms_outbox") as batch:
        batch.drop_column("language")
    op.drop_table("catalogue_text")
