"""quote index: the theme report's newest quotable answers without sorting a year of rows

Revision ID: 0331_quote_index
Revises: 0330_report_theme_fact
Create Date: 2026-11-23 01:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0331_quote_index'
down_revision: str | Sequence[str] | None = '0330_report_theme_fact'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('open_text', schema=None) as batch_op:
        batch_op.create_index(
            'ix_open_text_quote_received',
            ['received_at'],
            unique=False,
            postgresql_where=sa.text('quote_consent IS true'),
            sqlite_where=sa.text('quote_consent IS 1'),
        )


def downgrade() -> None:
    with op.batch_alter_table('open_text', schema=None) as batch_op:
        batch_op.drop_index('ix_open_text_quote_received')
