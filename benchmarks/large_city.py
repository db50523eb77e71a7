"""A large city's five years on PostgreSQL, made from the demo year by copying it with new keys.

Why copy the demo year instead of generating rows from scratch: the demo year is written by the
product's own code (closures, plans, SMS conversations, calls, cases, inbox, themes, reviews), so
every status, text and foreign key has a shape the pages really meet. Generating the same by hand
would be a second, drifting model of the domain.

How: the demo's units, staff, plans, panel and reviews (the *unit-level* tables) are copied once per
extra unit; its people and everything that happened to them (the *data* tables) are copied ``k``
times, copy ``k`` going to unit copy ``k % unit_copies`` and moved ``(k // unit_copies) % years``
years back. Every uuid is replaced by ``md5(uuid || k)`` so references stay consistent; unique
strings (client reference, message ids, phone and respondent keys) get a copy suffix; strings that
embed a uuid (``owner_ref``, ``source_ref``) get their uuid replaced. Work in old copies is
finished (no four-year-old open call task). The database's triggers fill the report's compact copy
as in production. Extra caseworkers bring the staff to ``staff``, and audited reads of contact data
fill the audit log (the loggkontroll's volume).

Tables this module does not know are left empty and named on stderr, so a new table is noticed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

# Not copied: configuration shared by all units, the report's trigger-filled copy, sessions.
GLOBAL_TABLES = frozenset(
    {
        "alembic_version",
        "questionnaire",
        "question",
        "questionnaire_text",
        "theme_codebook_event",
        "theme_proposal",
        "theme_proposal_decision",
        "theme_retrain_request",
        "report_theme_fact",
        "report_theme_key",
        "report_respondent",
        "dev_clock",
        "web_session",
        "login_throttle",
        "invitation",
        "catalogue_text",
        "theme_edit",
        "theme_edit_answer",
        "theme_model_change",
        "external_identity",
        "sso_role_mapping",
        "sso_role_mapping_unit",
        "api_token",
        "accessibility_report",
        "worker_heartbeat",
    }
)
# Copied once per extra unit: the unit, its staff and what its managers and panel made.
UNIT_TABLES = (
    "unit",
    "app_user",
    "membership",
    "follow_up_plan",
    "follow_up_plan_step",
    "sms_send_window",
    "panel_round",
    "panel_reflection",
    "review",
    "review_finding",
    "panel_published_item",
    "review_action",
)
# Copied k times: people and what happened to them.
DATA_TABLES = (
    "client",
    "closure",
    "follow_up",
    "outcome",
    "sms_outbox",
    "sms_status_event",
    "sms_inbound",
    "sms_opt_out_event",
    "sms_conversation",
    "open_text",
    "open_text_theme",
    "theme_answer_label",
    "survey_answer",
    "call_task",
    "survey_case",
    "survey_case_event",
    "call_attempt",
    "inbox_item",
    "audit_event",
)
# Unique (or per-person) strings: a copy suffix keeps them unique and per person.
SUFFIXED = {
    ("client", "client_ref"),
    ("client", "phone_index"),
    ("sms_outbox", "idempotency_key"),
    ("sms_outbox", "provider_sid"),
    ("sms_outbox", "to_index"),
    ("sms_status_event", "provider_sid"),
    ("sms_inbound", "message_sid"),
    ("sms_inbound", "from_index"),
    ("sms_opt_out_event", "phone_index"),
    ("sms_conversation", "phone_index"),
    ("open_text", "respondent_key"),
    ("inbox_item", "phone_index"),
}
UUID_IN_TEXT = {("sms_outbox", "owner_ref"), ("open_text", "source_ref"), ("audit_event", "subject_id")}
# Old copies: work that would long be finished.
FINISHED = {
    "call_task": {
        "status": "CASE WHEN {c} IN ('open','claimed') THEN 'done' ELSE {c} END",
        "claimed_by_id": "NULL",
        "claim_expires_at": "NULL",
    },
    "follow_up": {"status": "CASE WHEN {c} IN ('scheduled','due','started') THEN 'done' ELSE {c} END"},
    "survey_case": {"status": "'closed'", "closed_at": "COALESCE({c}, opened_at + interval '3 days')"},
    "inbox_item": {"status": "'handled'", "handled_at": "COALESCE({c}, received_at + interval '1 day')"},
    "sms_conversation": {"is_open": "false", "closed_at": "COALESCE({c}, started_at + interval '7 days')"},
}

FUNCTIONS = """
CREATE OR REPLACE FUNCTION bench_copy_id(u uuid, k int) RETURNS uuid
  LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN u IS NULL OR k = 0 THEN u
                                          ELSE md5(u::text || ':' || k)::uuid END $$

CREATE OR REPLACE FUNCTION bench_unit_id(u uuid, j int) RETURNS uuid
  LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN u IS NULL OR j = 0 THEN u
                                          ELSE md5(u::text || ':unit:' || j)::uuid END $$

CREATE OR REPLACE FUNCTION bench_suffix(s text, k int, width int) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN s IS NULL OR k = 0 THEN s
                                          ELSE left(s, width - 8) || '~' || lpad(k::text, 7, '0') END $$

CREATE OR REPLACE FUNCTION bench_uuid_in_text(s text, k int) RETURNS text
  LANGUAGE plpgsql IMMUTABLE AS $$
  DECLARE m text[];
  BEGIN
    IF s IS NULL OR k = 0 THEN RETURN s; END IF;
    FOR m IN SELECT regexp_matches(s, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', 'g')
    LOOP s := replace(s, m[1], bench_copy_id(m[1]::uuid, k)::text); END LOOP;
    RETURN s;
  END $$
"""


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    width: int | None
    serial: bool


async def _columns(conn: AsyncConnection, table: str) -> list[Column]:
    rows = await conn.execute(
        sa.text(
            "SELECT column_name, data_type, character_maximum_length, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public' AND table_name = :t "
            "ORDER BY ordinal_position"
        ),
        {"t": table},
    )
    return [Column(n, t, w, bool(d and str(d).startswith("nextval("))) for n, t, w, d in rows]


async def _foreign_keys(conn: AsyncConnection) -> dict[tuple[str, str], str]:
    rows = await conn.execute(
        sa.text(
            "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text "
            "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f'"
        )
    )
    return {(t, c): target for t, c, target in rows}


def _expression(table: str, col: Column, fks: dict[tuple[str, str], str], *, unit_level: bool) -> str:
    """The SELECT expression that makes copy ``g.k`` (unit copy ``g.j``, ``g.y`` years back) of a column."""
    c = f'src."{col.name}"'
    if col.data_type == "uuid":
        target = fks.get((table, col.name), "self" if col.name == "id" else "data")
        if target == "self":
            target = table
        if target in GLOBAL_TABLES:
            return c
        if target in UNIT_TABLES:
            return f"bench_unit_id({c}, g.j)"
        return f"bench_copy_id({c}, g.k)"
    if unit_level:
        if (table, col.name) == ("unit", "code"):
            return f"{c} || '-' || g.j"
        if (table, col.name) == ("unit", "name"):
            return f"{c} || ' ' || g.j"
        if (table, col.name) == ("app_user", "email"):
            return f"'e' || g.j || '.' || {c}"
        return c
    if col.data_type == "date":
        return f"({c} - make_interval(years => g.y))::date"
    if col.data_type.startswith("timestamp"):
        return f"{c} - make_interval(years => g.y)"
    if (table, col.name) in SUFFIXED:
        return f"bench_suffix({c}, g.k, {col.width or 200})"
    if (table, col.name) in UUID_IN_TEXT:
        return f"bench_uuid_in_text({c}, g.k)"
    return c


async def multiply(conn: AsyncConnection, *, copies: int, unit_copies: int, years: int) -> None:
    """Copy the demo year ``copies`` times in all (copy 0 is the demo itself)."""
    for statement in FUNCTIONS.split("\n\n"):  # one statement per call (prepared statements)
        await conn.exec_driver_sql(statement)
    fks = await _foreign_keys(conn)
    tables = {
        r[0]
        for r in await conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
    }
    unknown = sorted(tables - GLOBAL_TABLES - set(UNIT_TABLES) - set(DATA_TABLES))
    if unknown:
        print(f"# large_city: not copied (unknown tables): {', '.join(unknown)}", file=sys.stderr)
    units = f"(SELECT j AS k, j, 0 AS y FROM generate_series(1, {unit_copies - 1}) AS j) AS g"
    data = (
        f"(SELECT k, k % {unit_copies} AS j, (k / {unit_copies}) % {years} AS y "
        f"FROM generate_series(1, {copies - 1}) AS k) AS g"
    )
    for table, source, unit_level in [(t, units, True) for t in UNIT_TABLES] + [
        (t, data, False) for t in DATA_TABLES
    ]:
        if table not in tables:
            continue
        columns = [col for col in await _columns(conn, table) if not col.serial]
        finished = FINISHED.get(table, {})
        expressions = []
        for col in columns:
            expression = _expression(table, col, fks, unit_level=unit_level)
            if col.name in finished:
                old = finished[col.name].format(c=expression)
                expression = f"CASE WHEN g.y > 0 THEN {old} ELSE {expression} END"
            expressions.append(expression)
        names = ", ".join(f'"{col.name}"' for col in columns)
        await conn.exec_driver_sql(
            f'INSERT INTO "{table}" ({names}) SELECT {", ".join(expressions)} FROM "{table}" AS src, {source}'
        )


async def add_staff_and_reads(
    conn: AsyncConnection, *, staff: int, reads: int, password_hash: str | None
) -> None:
    """Caseworkers up to ``staff`` users in all (spread over the units), and ``reads`` audited reads."""
    have = await conn.scalar(sa.text("SELECT count(*) FROM app_user"))
    extra = max(0, staff - int(have or 0))
    await conn.execute(
        sa.text(
            "INSERT INTO app_user (id, email, display_name, role, password_hash, is_active, created_at, updated_at) "
            "SELECT md5('staff:' || n)::uuid, 'handlaggare' || n || '@bench.uppfoljning.se', "
            "'Handläggare ' || n, 'caseworker', :hash, true, now(), now() FROM generate_series(1, :extra) AS n"
        ),
        {"hash": password_hash, "extra": extra},
    )
    await conn.execute(
        sa.text(
            "INSERT INTO membership (user_id, unit_id, created_at) "
            "SELECT md5('staff:' || n)::uuid, u.id, now() FROM generate_series(1, :extra) AS n "
            "JOIN (SELECT id, row_number() OVER (ORDER BY code) - 1 AS i, count(*) OVER () AS c FROM unit) AS u "
            "ON u.i = n % u.c"
        ),
        {"extra": extra},
    )
    await conn.execute(
        sa.text(
            # the counts as scalars, so the joins below are hash joins on g.n alone
            "WITH c AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM closure), "
            "m AS (SELECT user_id, row_number() OVER (ORDER BY user_id, unit_id) - 1 AS i FROM membership), "
            "g AS (SELECT n, (n * 7919) % (SELECT count(*) FROM closure) AS ci, "
            "(n * 31) % (SELECT count(*) FROM membership) AS mi FROM generate_series(1, :reads) AS n) "
            "INSERT INTO audit_event (at, actor_id, action, subject_type, subject_id, reason, client_ip, detail) "
            "SELECT now() - make_interval(mins => g.n::int), m.user_id, 'client.read', 'closure', c.id::text, '', "
            "'127.0.0.1', '{}'::json FROM g JOIN c ON c.i = g.ci JOIN m ON m.i = g.mi"
        ),
        {"reads": reads},
    )
