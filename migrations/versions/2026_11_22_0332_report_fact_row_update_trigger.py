"""report fact: open_text updates refresh the copy per changed row (PostgreSQL)

Revision ID: 0332_report_fact_row_update
Revises: 0331_quote_index
Create Date: 2026-11-23 03:30:00

Why: the statement-level UPDATE trigger of 0330 joined its old and new transition tables to find
answers whose report columns changed; PostgreSQL planned that join as a nested loop (quadratic),
so a status-only bulk update such as the retrain's ``UPDATE open_text SET status = 'pending'`` on
a million answers never finished (20 000 rows already took 50 s). A row-level trigger limited to
the report's columns with a ``WHEN`` clause is skipped entirely for status-only updates (1M rows:
39.0 s with it vs 37.3 s without any trigger) and costs ~1 ms per answer whose sentiment changes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0332_report_fact_row_update'
down_revision: str | Sequence[str] | None = '0331_quote_index'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("unit_id", "received_at", "channel", "closure_reason", "wave_days", "language", "sentiment", "respondent_key")
FACT_INSERT = """
INSERT INTO report_theme_fact (open_text_id, unit_id, received_at, period_month, channel,
    closure_reason, wave_days, language, theme_id, sentiment, respondent)
SELECT ot.id, ot.unit_id, ot.received_at,
       (EXTRACT(YEAR FROM timezone('Europe/Stockholm', ot.received_at)) * 100
        + EXTRACT(MONTH FROM timezone('Europe/Stockholm', ot.received_at)))::integer,
       ot.channel, ot.closure_reason, ot.wave_days, ot.language, k.id,
       CASE COALESCE(t.sentiment, ot.sentiment, 'none')
           WHEN 'pos' THEN 1 WHEN 'neu' THEN 2 WHEN 'neg' THEN 3 WHEN 'none' THEN 0 ELSE 9 END,
       r.id
FROM open_text ot
JOIN report_respondent r ON r.key = ot.respondent_key
LEFT JOIN open_text_theme t ON t.open_text_id = ot.id
LEFT JOIN report_theme_key k ON k.key = t.theme_key
WHERE ot.id = NEW.id;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's triggers are row-level with a column list already
    op.execute("DROP TRIGGER IF EXISTS report_fact_open_text_update ON open_text")
    op.execute("DROP FUNCTION IF EXISTS report_fact_open_text_update()")
    op.execute(
        "CREATE FUNCTION report_fact_open_text_update() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "INSERT INTO report_respondent (key) VALUES (NEW.respondent_key) ON CONFLICT (key) DO NOTHING;\n"
        "DELETE FROM report_theme_fact WHERE open_text_id = NEW.id;\n"
        f"{FACT_INSERT}"
        "RETURN NULL;\n"
        "END\n$body$"
    )
    old = ", ".join(f"OLD.{c}" for c in COLUMNS)
    new = ", ".join(f"NEW.{c}" for c in COLUMNS)
    op.execute(
        f"CREATE TRIGGER report_fact_open_text_update AFTER UPDATE OF {', '.join(COLUMNS)} ON open_text "
        f"FOR EACH ROW WHEN (({old}) IS DISTINCT FROM ({new})) "
        "EXECUTE FUNCTION report_fact_open_text_update()"
    )


def downgrade() -> None:
    # The row-level trigger is equivalent (and does not stall on bulk updates), so it stays; 0330's
    # downgrade drops it by the same names.
    pass
