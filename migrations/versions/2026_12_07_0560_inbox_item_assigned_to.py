"""inbox_item.assigned_to_id: an inbox message can be given to a named caseworker of its unit.

Why: in a unit with several caseworkers, "who answers this?" was settled in the corridor; the
inbox now says it. NULL: not assigned (anyone in the unit may take it). ``SET NULL`` when the
user row goes, like ``handled_by_id``.

Revision ID: 0560_inbox_assigned_to
Revises: 0550_case_taken_at
Create Date: 2026-12-07 17:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0560_inbox_assigned_to"
down_revision: str | Sequence[str] | None = "0550_case_taken_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_inbox_item_assigned_to_id_app_user"),
            "app_user",
            ["assigned_to_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_inbox_item_assigned_to_id_app_user"), type_="foreignkey")
        batch_op.drop_column("assigned_to_id")
