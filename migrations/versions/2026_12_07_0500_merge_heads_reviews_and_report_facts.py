"""Merge the two heads: reviews (0320) and the report fact table (0330–0332).

Both branches grew from 0420_theme_decisions while the parts were built in parallel; with two
heads ``alembic upgrade head`` refused to run. The branches touch different tables, so the merge
has nothing to do but join them. Revision ids are kept as they are (databases in use store them),
even though their numbers do not follow the chain order.

Revision ID: 0500_merge_heads
Revises: 0320_reviews, 0332_report_fact_row_update
Create Date: 2026-12-07
"""

from collections.abc import Sequence

revision: str = "0500_merge_heads"
down_revision: str | Sequence[str] | None = ("0320_reviews", "0332_report_fact_row_update")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
