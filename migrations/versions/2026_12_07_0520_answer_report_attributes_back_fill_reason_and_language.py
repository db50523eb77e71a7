"""answer report attributes: back-fill closure reason and language on stored open answers

Revision ID: 0520_answer_report_attributes
Revises: 0510_retrain_requests
Create Date: 2026-12-08

Why: until now the SMS path never passed the closure reason to ``open_text`` and the phone path
stored it as NULL, and every phone answer and call note was stored with language ``sv``, so the
report filters "Avslutsorsak = Arbete" and "Telefon + Arabiska" counted nothing. New rows carry
both from the start (``surveys.answers.service.closure_report_attributes``); this fills in the
rows already stored, from their source:

* answers (``survey_answer.open_text_id``) → closure (reason) → client (registered language);
  a phone answer takes the client's language (the call form records no other); an SMS answer
  keeps the language it was stored with (its conversation's), else the conversation's or the
  client's;
* call notes (``call_attempt.note_open_text_id``) → call task → closure → client, the same way
  as phone answers.

Panel reflections have no closure and are left alone. ``report_theme_fact`` follows by itself:
the update triggers of 0330 (SQLite, ``AFTER UPDATE OF closure_reason, language, …``) and 0332
(PostgreSQL, row-level, ``WHEN`` the report columns differ) re-derive the facts of every row
changed here, and only rows whose values really change are touched.

Downgrade leaves the values: they are the correct ones, and the old wrong values (``sv`` for
every call, no reason) cannot and should not be restored. Needs SQLite 3.33+ (``UPDATE … FROM``).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0520_answer_report_attributes"
down_revision: str | Sequence[str] | None = "0510_retrain_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANSWERS = """
SELECT a.open_text_id AS open_text_id, a.mode AS mode, c.reason AS reason,
       cl.language AS client_language, cv.language AS conversation_language
FROM survey_answer a
JOIN closure c ON c.id = a.closure_id
JOIN client cl ON cl.id = c.client_id
LEFT JOIN sms_conversation cv ON cv.follow_up_id = a.follow_up_id
WHERE a.open_text_id IS NOT NULL
"""
CALL_NOTES = """
SELECT ca.note_open_text_id AS open_text_id, 'phone' AS mode, c.reason AS reason,
       cl.language AS client_language, NULL AS conversation_language
FROM call_attempt ca
JOIN call_task t ON t.id = ca.task_id
JOIN closure c ON c.id = t.closure_id
JOIN client cl ON cl.id = c.client_id
WHERE ca.note_open_text_id IS NOT NULL
"""
LANGUAGE = (
    "CASE WHEN src.mode = 'phone' THEN src.client_language "
    "ELSE COALESCE(open_text.language, src.conversation_language, src.client_language) END"
)


def _back_fill(source: str, differs: str) -> str:
    return (
        f"UPDATE open_text SET closure_reason = src.reason, language = {LANGUAGE} "
        f"FROM ({source}) AS src "
        "WHERE open_text.id = src.open_text_id "
        f"AND (open_text.closure_reason {differs} src.reason OR open_text.language {differs} {LANGUAGE})"
    )


def upgrade() -> None:
    differs = "IS DISTINCT FROM" if op.get_bind().dialect.name == "postgresql" else "IS NOT"
    op.execute(_back_fill(ANSWERS, differs))
    op.execute(_back_fill(CALL_NOTES, differs))


def downgrade() -> None:
    pass
