"""Review edits and honest "vi gjorde": updated_at on findings, actions and published items, and
``panel_published_item.done``.

Why: findings and actions can now be edited (also after publication), and the page shows when
("uppdaterad"). A published item says "Vi gjorde" only while its action is "klar", otherwise "Vi
arbetar med"; ``done`` carries that to the panel page, which may not read review tables. Existing
items are back-filled from their action's status.

Revision ID: 0581_review_edits
Revises: 0571_conversation_quote_consent
Create Date: 2026-12-07 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0581_review_edits"
down_revision: str | Sequence[str] | None = "0571_conversation_quote_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("review_finding", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("review_action", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "panel_published_item",
        sa.Column("done", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("panel_published_item", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE panel_published_item SET done = TRUE WHERE action_id IN "
        "(SELECT id FROM review_action WHERE status = 'done')"
    )


def downgrade() -> None:
    with op.batch_alter_table("panel_published_item") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("done")
    with op.batch_alter_table("review_action") as batch:
        batch.drop_column("updated_at")
    with op.batch_alter_table("review_finding") as batch:
        batch.drop_column("updated_at")
