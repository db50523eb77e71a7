"""dev clock: the development app's persisted time-travel offset

Revision ID: 0240_dev_clock
Revises: 0301_panel
Create Date: 2026-11-22 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import feedback.core.db

revision: str = "0240_dev_clock"
down_revision: str | Sequence[str] | None = "0301_panel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dev_clock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("offset_seconds", sa.Float(), nullable=False),
        sa.Column("updated_at", feedback.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_clock")),
    )


def downgrade() -> None:
    op.drop_table("dev_clock")
