"""PostgreSQL uses an index for the due query even with many future follow-ups."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from feedback.core.db import utcnow
from surveys.closures.models import Client, Closure, ClosureReason
from surveys.plans.models import FollowUp, FollowUpStatus, StepChannel
from surveys.plans.scheduler import due_query
from tests.helpers import make_unit

pytestmark = pytest.mark.postgres
TODAY = date(2026, 6, 1)


@pytest.fixture
def db_url(postgres_url: str) -> str:  # this module is PostgreSQL only
    return postgres_url


async def test_due_query_uses_the_status_due_on_index(db_session) -> None:
    unit = await make_unit(db_session)
    clients, closures, rows = [], [], []
    now = utcnow()
    for i in range(5000):
        client_id, closure_id = uuid.uuid4(), uuid.uuid4()
        clients.append(
            {
                "id": client_id,
                "unit_id": unit.id,
                "client_ref": f"R{i}",
                "language": "sv",
                "do_not_contact": False,
                "protected_identity": False,
                "created_at": now,
                "updated_at": now,
            }
        )
        closures.append(
            {
                "id": closure_id,
                "client_id": client_id,
                "unit_id": unit.id,
                "closed_on": TODAY,
                "reason": ClosureReason.WORK,
                "registered_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        for days in (30, 90, 180, 365):
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "closure_id": closure_id,
                    "client_id": client_id,
                    "unit_id": unit.id,
                    "plan_version": 1,
                    "wave_days": days,
                    "channel": StepChannel.SMS,
                    "questionnaire_key": "default",
                    "due_on": TODAY + timedelta(days=days - (400 if i < 20 and days == 30 else 0)),
                    "window_end": TODAY + timedelta(days=days + 7),
                    "status": FollowUpStatus.SCHEDULED,
                    "revision": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    await db_session.execute(sa.insert(Client), clients)
    await db_session.execute(sa.insert(Closure), closures)
    await db_session.execute(sa.insert(FollowUp), rows)
    await db_session.commit()
    await db_session.execute(sa.text("ANALYZE follow_up"))
    compiled = due_query(TODAY, 200).compile(
        dialect=db_session.bind.dialect, compile_kwargs={"literal_binds": True}
    )
    plan = "\n".join((await db_session.execute(sa.text(f"EXPLAIN {compiled}"))).scalars())
    assert "ix_follow_up_status_due_on" in plan, plan
    assert "Index Scan" in plan or "Bitmap Index Scan" in plan, plan
    assert "Seq Scan on follow_up" not in plan, plan
    due = list(await db_session.scalars(due_query(TODAY, 200)))
    assert len(due) == 20
