"""Business gauges for ``/metrics``: what an operator watches besides HTTP latency.

Outbox depth by status, messages waiting for a person's review, the theming backlog, open and
overdue cases, and when the worker last finished a good pass. Counted per scrape with indexed
aggregate queries (no personal data, counts only). Framework-free; ``feedback.web.system``
renders them with prometheus_client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core import heartbeat
from feedback.core.clock import STOCKHOLM
from notifications.models import OutboxStatus, SmsOutbox
from surveys.answers.models import OpenText, ThemingStatus
from surveys.cases.models import Case, CaseStatus


@dataclass(frozen=True)
class OperationalFigures:
    outbox_by_status: dict[str, int]
    needs_review: int
    theming_backlog: int
    open_cases: int
    overdue_cases: int
    worker_last_success: datetime | None


async def operational_figures(session: AsyncSession, now: datetime) -> OperationalFigures:
    counted = dict(
        (str(status), int(n))
        for status, n in await session.execute(
            sa.select(SmsOutbox.status, sa.func.count()).group_by(SmsOutbox.status)
        )
    )
    by_status = {s.value: counted.get(s.value, 0) for s in OutboxStatus}
    backlog = await session.scalar(
        sa.select(sa.func.count()).select_from(OpenText).where(OpenText.status == ThemingStatus.PENDING)
    )
    today = now.astimezone(STOCKHOLM).date()
    open_cases = await session.scalar(
        sa.select(sa.func.count()).select_from(Case).where(Case.status == CaseStatus.OPEN)
    )
    overdue = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Case)
        .where(Case.status == CaseStatus.OPEN, Case.due_on < today)
    )
    return OperationalFigures(
        outbox_by_status=by_status,
        needs_review=by_status.get(OutboxStatus.NEEDS_REVIEW.value, 0),
        theming_backlog=backlog or 0,
        open_cases=open_cases or 0,
        overdue_cases=overdue or 0,
        worker_last_success=await heartbeat.last_success(session),
    )
