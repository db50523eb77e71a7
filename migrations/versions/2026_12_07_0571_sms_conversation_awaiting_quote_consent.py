"""sms_conversation.awaiting_quote_consent: the quoting question awaits its reply.

Why: SMS clients are now asked, after an open answer, whether it may be quoted anonymously;
the conversation must remember that its next message answers that question (issue 14, item 7).
Existing conversations are not waiting for it (``false``).

Revision ID: 0571_conversation_quote_consent
Revises: 0560_inbox_assigned_to
Create Date: 2026-12-07 19:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0571_conversation_quote_consent"
down_revision: str | Sequence[str] | None = "0560_inbox_assigned_to"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sms_conversation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("awaiting_quote_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("sms_conversation", schema=None) as batch_op:
        batch_op.drop_column("awaiting_quote_consent")
