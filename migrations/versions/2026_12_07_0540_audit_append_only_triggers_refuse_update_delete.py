"""Audit table append-only (issue 20, item 11): triggers refuse UPDATE and DELETE on audit_event.

Until now the audit log was append-only by convention (``feedback.core.audit`` has no update or
delete, the purge job never touches it). The database now enforces it, whoever connects:

* PostgreSQL: one statement-level ``BEFORE UPDATE OR DELETE OR TRUNCATE`` trigger raising
  ``insufficient_privilege`` (TRUNCATE bypasses row triggers, so it is refused too);
* SQLite: ``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers that ``RAISE(ABORT, …)``.

Consequences: an ``app_user`` that has audit rows can no longer be deleted (the foreign key's
``ON DELETE SET NULL`` is an UPDATE of audit_event); the product never deletes users, it
deactivates them. A later migration that rebuilds audit_event on SQLite (batch mode copies the
table) must create these triggers again.

Revision ID: 0540_audit_append_only
Revises: 0530_crisis_inbox
Create Date: 2026-12-07 17:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0540_audit_append_only"
down_revision: str | Sequence[str] | None = "0530_crisis_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit_event is append-only: UPDATE and DELETE are refused"
PG_FUNCTION = "audit_event_append_only"
PG_TRIGGER = "audit_event_append_only"
SQLITE_TRIGGERS = {
    "audit_event_no_update": "BEFORE UPDATE ON audit_event",
    "audit_event_no_delete": "BEFORE DELETE ON audit_event",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
            f"BEGIN\nRAISE EXCEPTION '{MESSAGE} (%)', TG_OP USING ERRCODE = 'insufficient_privilege';\n"
            "END\n$body$"
        )
        op.execute(
            f"CREATE TRIGGER {PG_TRIGGER} BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
        )
    else:
        for name, when in SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when} FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON audit_event")
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
