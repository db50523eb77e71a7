"""Bulk expansion (import, benchmark): the COPY path on PostgreSQL writes the same rows as INSERT."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from feedback.core.db import utcnow
from surveys.closures.models import Client, Closure, ClosureReason
from surveys.plans import service as plans
from surveys.plans.models import FollowUp, FollowUpStatus, StepChannel
from tests.helpers import make_unit

TODAY = date(2026, 3, 2)


async def test_bulk_expansion_of_many_closures(db_session) -> None:
    unit = await make_unit(db_session)
    plan = await plans.active_plan(db_session, unit.id)
    now = utcnow()
    closures = []
    for i in range(300):  # 1 200 rows: above the COPY threshold
        client = Client(id=uuid.uuid4(), unit_id=unit.id, client_ref=f"B-{i}", created_at=now, updated_at=now)
        closure = Closure(
            id=uuid.uuid4(),
            client_id=client.id,
            unit_id=unit.id,
            closed_on=TODAY - timedelta(days=i % 40),
            reason=ClosureReason.WORK if i % 3 else ClosureReason.MOVED,
        )
        db_session.add_all([client, closure])
        closures.append(closure)
    await db_session.flush()
    written = await plans.expand_new_closures(db_session, closures, plan, today=TODAY, min_gap_days=14)
    await db_session.commit()
    followed = [c for c in closures if c.reason is ClosureReason.WORK]
    assert written == len(followed) * 4
    rows = list(await db_session.scalars(sa.select(FollowUp)))
    assert len(rows) == written
    sample = next(c for c in followed if c.closed_on == TODAY - timedelta(days=39))
    mine = sorted((r for r in rows if r.closure_id == sample.id), key=lambda r: r.wave_days)
    # 39 days late: the 30-day wave's window (7 days) has passed; the rest are scheduled.
    assert [(r.wave_days, r.channel, r.status) for r in mine] == [
        (30, StepChannel.SMS, FollowUpStatus.SKIPPED),
        (90, StepChannel.SMS, FollowUpStatus.SCHEDULED),
        (180, StepChannel.PHONE, FollowUpStatus.SCHEDULED),
        (365, StepChannel.STATUS_SMS, FollowUpStatus.SCHEDULED),
    ]
    assert mine[1].due_on == sample.closed_on + timedelta(days=90)
    assert mine[0].skip_reason == "window_passed" and mine[1].created_at is not None
    assert all(r.plan_id == plan.id and r.client_id == sample.client_id for r in mine)
