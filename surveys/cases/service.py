"""Inner-loop case use-cases: open (deduplicated), list for my units, close with an action note."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.clock import STOCKHOLM
from feedback.core.errors import Conflict, InvalidInput, NotFound
from notifications.windows import is_holiday
from surveys.cases.models import Case, CaseStatus, CaseTrigger
from surveys.redaction import redact_text

DUE_WORKING_DAYS = 2


def add_working_days(start: date, days: int) -> date:
    """``days`` Swedish working days after ``start`` (weekends and public holidays skipped)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and not is_holiday(current):
            remaining -= 1
    return current


async def open_case(
    session: AsyncSession,
    *,
    unit_id: uuid.UUID,
    closure_id: uuid.UUID,
    follow_up_id: uuid.UUID | None,
    trigger: CaseTrigger,
    source: str,
    summary: str,
    now: datetime,
    owner_id: uuid.UUID | None = None,
) -> Case:
    """Open a case, or return the open one for the same follow-up and trigger (no duplicates)."""
    if follow_up_id is not None:
        existing = await session.scalar(
            sa.select(Case).where(
                Case.follow_up_id == follow_up_id, Case.trigger == trigger, Case.status == CaseStatus.OPEN
            )
        )
        if existing is not None:
            return existing
    if owner_id is None:  # the caseworker who registered the closure owns it by default
        from surveys.closures.models import Closure

        owner_id = await session.scalar(sa.select(Closure.registered_by_id).where(Closure.id == closure_id))
    case = Case(
        unit_id=unit_id,
        closure_id=closure_id,
        follow_up_id=follow_up_id,
        trigger=trigger,
        source=source,
        summary=redact_text(summary)[:500],
        owner_id=owner_id,
        due_on=add_working_days(now.astimezone(STOCKHOLM).date(), DUE_WORKING_DAYS),
        opened_at=now,
    )
    session.add(case)
    await session.flush()
    return case


async def list_cases(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], *, status: CaseStatus | None = CaseStatus.OPEN
) -> list[Case]:
    query = sa.select(Case).where(Case.unit_id.in_(list(unit_ids)))
    if status is not None:
        query = query.where(Case.status == status)
    return list((await session.scalars(query.order_by(Case.due_on, Case.opened_at))).all())


async def get_case(session: AsyncSession, case_id: uuid.UUID, unit_ids: Iterable[uuid.UUID]) -> Case:
    case = await session.get(Case, case_id)
    if case is None or case.unit_id not in set(unit_ids):
        raise NotFound("Ärendet finns inte.")
    return case


async def close_case(
    session: AsyncSession, case: Case, *, user_id: uuid.UUID, action_note: str, now: datetime
) -> Case:
    """Close with a note of what was done; a case cannot be closed without one."""
    note = (action_note or "").strip()
    if len(note) < 3:
        raise InvalidInput("Skriv vad som gjordes innan du stänger ärendet.", field="action_note")
    if case.status is CaseStatus.CLOSED:
        raise Conflict("Ärendet är redan stängt.")
    case.status = CaseStatus.CLOSED
    case.action_note = redact_text(note)[:4000]
    case.closed_at = now
    case.closed_by_id = user_id
    await session.flush()
    return case


async def take_case(session: AsyncSession, case: Case, *, user_id: uuid.UUID) -> Case:
    case.owner_id = user_id
    await session.flush()
    return case


def local_today(now: datetime) -> date:
    """Today in Stockholm (due dates are calendar days there)."""
    return now.astimezone(STOCKHOLM).date()


def working_days_between(start: date, end: date) -> int:
    """Swedish working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5 and not is_holiday(current):
            count += 1
    return count


@dataclass(frozen=True)
class CaseAge:
    """One open case as a manager sees it: no personal data, only unit, reason, owner and age."""

    case_id: uuid.UUID
    unit_id: uuid.UUID
    trigger: CaseTrigger
    source: str
    owner_id: uuid.UUID | None
    opened_at: datetime
    due_on: date
    age_days: int  # calendar days since opened (Stockholm dates)
    overdue_working_days: int  # working days past due_on (0 when not overdue)

    @property
    def overdue(self) -> bool:
        return self.overdue_working_days > 0


async def open_case_ages(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], now: datetime
) -> list[CaseAge]:
    """Open cases in ``unit_ids``, oldest first, with age and SLA status (for the managers' report).

    Read-only and free of personal data: the summary and the client are deliberately left out.
    """
    today = local_today(now)
    rows = await session.scalars(
        sa.select(Case)
        .where(Case.unit_id.in_(list(unit_ids)), Case.status == CaseStatus.OPEN)
        .order_by(Case.opened_at, Case.id)
    )
    return [
        CaseAge(
            case_id=case.id,
            unit_id=case.unit_id,
            trigger=case.trigger,
            source=case.source,
            owner_id=case.owner_id,
            opened_at=case.opened_at,
            due_on=case.due_on,
            age_days=(today - local_today(_aware(case.opened_at))).days,
            overdue_working_days=working_days_between(case.due_on, today),
        )
        for case in rows
    ]


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
