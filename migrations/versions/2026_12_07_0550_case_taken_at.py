"""survey_case.taken_at: when a person explicitly took the case (the akut banner's condition).

Why a column and not ``owner_id IS NULL``: a case gets the registering caseworker as its owner
by default, who may be away; an *akut* case must be shown to every caseworker of the unit until
someone actually says "I take it". ``take_case`` sets it; the banner query is one indexed
lookup on ``(unit_id, status, due_on)`` filtered by ``priority`` and ``taken_at IS NULL``.

Revision ID: 0550_case_taken_at
Revises: 0540_audit_append_only
Create Date: 2026-12-07 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0550_case_taken_at"
down_revision: str | Sequence[str] | None = "0540_audit_append_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("survey_case", sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey_case") as batch:
        batch.drop_column("taken_at")
