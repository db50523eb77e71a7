"""report theme fact: a compact, trigger-maintained copy of open text × theme for the reports

Revision ID: 0330_report_theme_fact
Revises: 0420_theme_decisions
Create Date: 2026-11-23 01:10:00

``report_theme_fact`` holds one row per (open text, theme) — or one row with ``theme_id`` NULL for
an open text without themes — with integer respondent, theme and sentiment codes and the local
month, so the yearly theme report sorts small integers from one table instead of joining
``open_text`` to ``open_text_theme`` and sorting 40-character respondent keys.

It is maintained by triggers on ``open_text`` and ``open_text_theme`` (statement-level with
transition tables on PostgreSQL, row-level on SQLite), so every write path updates it in the same
transaction: the theming worker, manager relabels, merges, renames and retirements, deletions
(``ON DELETE CASCADE``) and raw SQL alike. The upgrade back-fills it from the existing rows.

On PostgreSQL the theme triggers first lock the answers they refresh (``FOR NO KEY UPDATE``), so
two transactions changing the same answer's themes refresh it one after the other (each
statement in a PL/pgSQL function takes a fresh snapshot under READ COMMITTED).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import feedback.core.db

revision: str = '0330_report_theme_fact'
down_revision: str | Sequence[str] | None = '0420_theme_decisions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SENTIMENT = (
    "CASE COALESCE(t.sentiment, ot.sentiment, 'none') "
    "WHEN 'pos' THEN 1 WHEN 'neu' THEN 2 WHEN 'neg' THEN 3 WHEN 'none' THEN 0 ELSE 9 END"
)
MONTH = {
    "postgresql": "(EXTRACT(YEAR FROM timezone('Europe/Stockholm', ot.received_at)) * 100"
    " + EXTRACT(MONTH FROM timezone('Europe/Stockholm', ot.received_at)))::integer",
    "sqlite": "CAST(strftime('%Y%m', ot.received_at) AS INTEGER)",
}
FACT_INSERT = """
INSERT INTO report_theme_fact (open_text_id, unit_id, received_at, period_month, channel,
    closure_reason, wave_days, language, theme_id, sentiment, respondent)
SELECT ot.id, ot.unit_id, ot.received_at, {month}, ot.channel, ot.closure_reason, ot.wave_days,
       ot.language, k.id, {sentiment}, r.id
FROM open_text ot
JOIN report_respondent r ON r.key = ot.respondent_key
LEFT JOIN open_text_theme t ON t.open_text_id = ot.id
LEFT JOIN report_theme_key k ON k.key = t.theme_key
WHERE {where}
"""


def fact_insert(dialect: str, where: str) -> str:
    return FACT_INSERT.format(month=MONTH[dialect], sentiment=SENTIMENT, where=where)


def _pg_refresh(ids: str, *, lock: bool) -> str:
    """Statements re-deriving the facts of the answers ``ids`` (a subquery) from the source rows."""
    out = []
    if lock:
        out.append(f"PERFORM 1 FROM open_text WHERE id IN ({ids}) ORDER BY id FOR NO KEY UPDATE;")
    out.append(
        "INSERT INTO report_theme_key (key) SELECT DISTINCT theme_key FROM open_text_theme "
        f"WHERE open_text_id IN ({ids}) ON CONFLICT (key) DO NOTHING;"
    )
    out.append(f"DELETE FROM report_theme_fact WHERE open_text_id IN ({ids});")
    out.append(fact_insert("postgresql", f"ot.id IN ({ids})") + ";")
    return "\n".join(out)


OPEN_TEXT_DIMENSIONS = (
    "unit_id", "received_at", "channel", "closure_reason", "wave_days", "language", "sentiment",
    "respondent_key",
)  # fmt: skip
CHANGED_OPEN_TEXT = (
    "SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE ("
    + ", ".join(f"n.{c}" for c in OPEN_TEXT_DIMENSIONS)
    + ") IS DISTINCT FROM ("
    + ", ".join(f"o.{c}" for c in OPEN_TEXT_DIMENSIONS)
    + ")"
)
THEME_IDS = "SELECT open_text_id FROM new_rows"
OLD_THEME_IDS = "SELECT open_text_id FROM old_rows"
BOTH_THEME_IDS = f"{THEME_IDS} UNION {OLD_THEME_IDS}"
THEME_CHANGED = (
    "(SELECT open_text_id, theme_key, sentiment FROM new_rows EXCEPT ALL "
    "SELECT open_text_id, theme_key, sentiment FROM old_rows) UNION ALL "
    "(SELECT open_text_id, theme_key, sentiment FROM old_rows EXCEPT ALL "
    "SELECT open_text_id, theme_key, sentiment FROM new_rows)"
)

PG_FUNCTIONS = {
    "report_fact_open_text_insert": (
        "INSERT INTO report_respondent (key) SELECT DISTINCT respondent_key FROM new_rows "
        "ON CONFLICT (key) DO NOTHING;\n" + fact_insert("postgresql", "ot.id IN (SELECT id FROM new_rows)") + ";"
    ),
    "report_fact_open_text_update": (
        f"IF NOT EXISTS ({CHANGED_OPEN_TEXT}) THEN RETURN NULL; END IF;\n"
        f"INSERT INTO report_respondent (key) SELECT DISTINCT respondent_key FROM new_rows "
        f"WHERE id IN ({CHANGED_OPEN_TEXT}) ON CONFLICT (key) DO NOTHING;\n"
        + _pg_refresh(CHANGED_OPEN_TEXT, lock=False)
    ),
    "report_fact_theme_insert": _pg_refresh(THEME_IDS, lock=True),
    "report_fact_theme_update": (
        f"IF NOT EXISTS ({THEME_CHANGED}) THEN RETURN NULL; END IF;\n" + _pg_refresh(BOTH_THEME_IDS, lock=True)
    ),
    "report_fact_theme_delete": _pg_refresh(OLD_THEME_IDS, lock=True),
}
PG_TRIGGERS = (
    ("report_fact_open_text_insert", "open_text", "INSERT", "NEW TABLE AS new_rows"),
    ("report_fact_open_text_update", "open_text", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("report_fact_theme_insert", "open_text_theme", "INSERT", "NEW TABLE AS new_rows"),
    ("report_fact_theme_update", "open_text_theme", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("report_fact_theme_delete", "open_text_theme", "DELETE", "OLD TABLE AS old_rows"),
)


def _sqlite_refresh(ident: str) -> str:
    return (
        f"DELETE FROM report_theme_fact WHERE open_text_id = {ident};\n"
        + fact_insert("sqlite", f"ot.id = {ident}")
        + ";"
    )


SQLITE_TRIGGERS = {
    "report_fact_open_text_insert": (
        "AFTER INSERT ON open_text",
        "INSERT OR IGNORE INTO report_respondent (key) VALUES (NEW.respondent_key);\n"
        + fact_insert("sqlite", "ot.id = NEW.id")
        + ";",
    ),
    "report_fact_open_text_update": (
        f"AFTER UPDATE OF {', '.join(OPEN_TEXT_DIMENSIONS)} ON open_text",
        "INSERT OR IGNORE INTO report_respondent (key) VALUES (NEW.respondent_key);\n" + _sqlite_refresh("NEW.id"),
    ),
    "report_fact_theme_insert": (
        "AFTER INSERT ON open_text_theme",
        "INSERT OR IGNORE INTO report_theme_key (key) VALUES (NEW.theme_key);\n"
        + _sqlite_refresh("NEW.open_text_id"),
    ),
    "report_fact_theme_update": (
        "AFTER UPDATE OF open_text_id, theme_key, sentiment ON open_text_theme",
        "INSERT OR IGNORE INTO report_theme_key (key) VALUES (NEW.theme_key);\n"
        + _sqlite_refresh("OLD.open_text_id")
        + "\n"
        + _sqlite_refresh("NEW.open_text_id"),
    ),
    "report_fact_theme_delete": ("AFTER DELETE ON open_text_theme", _sqlite_refresh("OLD.open_text_id")),
}


def upgrade() -> None:
    op.create_table('report_respondent',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_respondent')),
    sa.UniqueConstraint('key', name=op.f('uq_report_respondent_key'))
    )
    op.create_table('report_theme_key',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_theme_key')),
    sa.UniqueConstraint('key', name=op.f('uq_report_theme_key_key'))
    )
    op.create_table('report_theme_fact',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('open_text_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('received_at', feedback.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_month', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('closure_reason', sa.String(length=20), nullable=True),
    sa.Column('wave_days', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('theme_id', sa.SmallInteger(), nullable=True),
    sa.Column('sentiment', sa.SmallInteger(), nullable=False),
    sa.Column('respondent', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['open_text_id'], ['open_text.id'], name=op.f('fk_report_theme_fact_open_text_id_open_text'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_theme_fact'))
    )
    with op.batch_alter_table('report_theme_fact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_theme_fact_open_text_id'), ['open_text_id'], unique=False)
        batch_op.create_index('ix_report_theme_fact_received', ['received_at'], unique=False)
        batch_op.create_index('ix_report_theme_fact_unit_received', ['unit_id', 'received_at'], unique=False)

    dialect = op.get_bind().dialect.name
    # back-fill from the rows already stored
    op.execute("INSERT INTO report_respondent (key) SELECT DISTINCT respondent_key FROM open_text")
    op.execute("INSERT INTO report_theme_key (key) SELECT DISTINCT theme_key FROM open_text_theme")
    op.execute(fact_insert(dialect, "1 = 1"))
    if dialect == "postgresql":
        for name, body in PG_FUNCTIONS.items():
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
                f"BEGIN\n{body}\nRETURN NULL;\nEND\n$body$"
            )
        for name, table, event, referencing in PG_TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
    else:
        for name, (when, body) in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW BEGIN\n{body}\nEND")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for name, table, _event, _referencing in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('report_theme_fact', schema=None) as batch_op:
        batch_op.drop_index('ix_report_theme_fact_unit_received')
        batch_op.drop_index('ix_report_theme_fact_received')
        batch_op.drop_index(batch_op.f('ix_report_theme_fact_open_text_id'))
    op.drop_table('report_theme_fact')
    op.drop_table('report_theme_key')
    op.drop_table('report_respondent')
