"""The akut banner's query: open, akut, untaken, my units; one statement on the unit index."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.settings import Settings
from surveys.cases import service
from surveys.cases.models import Case, CasePriority, CaseTrigger
from tests.helpers import make_user
from tests.surveys.world import NOW, World, make_world


async def _case(session: AsyncSession, world: World, priority: CasePriority, now: Any = NOW) -> Case:
    return await service.open_case(
        session,
        unit_id=world.unit.id,
        closure_id=world.follow_up.closure_id,
        follow_up_id=None,
        trigger=CaseTrigger.CRISIS if priority is CasePriority.AKUT else CaseTrigger.CALL_ME,
        source="sms",
        summary="",
        now=now,
        priority=priority,
    )


async def test_untaken_akut_cases_of_my_units_only(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    other = await make_world(db_session, settings, ref="K-200", phone="+46709876543")
    unit_id, other_unit_id = world.unit.id, other.unit.id
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    assert await service.untaken_akut(db_session, [unit_id]) is None
    await _case(db_session, world, CasePriority.NORMAL)
    await _case(db_session, other, CasePriority.AKUT)
    assert await service.untaken_akut(db_session, [unit_id]) is None  # normal, or another unit
    later = await _case(db_session, world, CasePriority.AKUT)
    earlier = await _case(db_session, world, CasePriority.AKUT, now=NOW - timedelta(days=3))
    alert = await service.untaken_akut(db_session, [unit_id])
    assert alert is not None and alert.case_id == earlier.id and alert.count == 2  # due first
    await service.take_case(db_session, earlier, user_id=user.id, now=NOW)
    await service.close_case(db_session, later, user_id=user.id, action_note="Ringde upp", now=NOW)
    assert await service.untaken_akut(db_session, [unit_id]) is None
    assert await service.untaken_akut(db_session, []) is None
    assert (await service.untaken_akut(db_session, [other_unit_id])) is not None


async def test_the_banner_query_is_one_statement_on_the_unit_index(
    db_session: AsyncSession, world: World
) -> None:
    unit_id = world.unit.id
    await _case(db_session, world, CasePriority.AKUT)
    await db_session.commit()
    statements: list[tuple[str, Any]] = []
    engine = db_session.bind.sync_engine  # type: ignore[union-attr]

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert await service.untaken_akut(db_session, [unit_id]) is not None
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    if engine.dialect.name == "sqlite":  # PostgreSQL's planner picks by table size; SQLite's is stable
        statement, parameters = statements[0]
        connection = await db_session.connection()
        plan = await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        assert "ix_survey_case_unit_status_due" in " ".join(str(row) for row in plan)
