"""Plans per unit (versioned) and the expansion of a closure into follow-up rows.

Called by the closure registration service in the caller's transaction, so a closure and its
follow-ups are written (or rescheduled) together or not at all.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.clock import STOCKHOLM
from feedback.core.db import rowcount, utcnow
from feedback.core.errors import InvalidInput
from surveys.closures.models import FOLLOWED_UP_REASONS, Closure
from surveys.plans.expansion import DEFAULT_STEPS, SKIP_FATIGUE, SKIP_WINDOW_PASSED, Slot, StepSpec, expand
from surveys.plans.models import FollowUp, FollowUpPlan, FollowUpStatus, PlanStep, StepChannel

DEFAULT_PLAN_NAME = "Standardplan: sms 30 och 90 dagar, samtal 180 dagar, statusfråga 365 dagar"
# Skips decided by expansion are recomputed on reschedule; gate skips at send time are final.
EXPANSION_SKIPS = (SKIP_WINDOW_PASSED, SKIP_FATIGUE)


def local_date(now: datetime) -> date:
    """Follow-ups are due on Swedish calendar days."""
    return now.astimezone(STOCKHOLM).date()


def validate_steps(steps: Sequence[StepSpec]) -> None:
    if not steps:
        raise InvalidInput("En plan behöver minst ett steg.", field="steps")
    offsets = [s.offset_days for s in steps]
    if len(set(offsets)) != len(offsets):
        raise InvalidInput("Två steg kan inte ha samma antal dagar efter avslut.", field="steps")
    for s in steps:
        if not 1 <= s.offset_days <= 1100:
            raise InvalidInput("Dagar efter avslut måste vara mellan 1 och 1100.", field="offset_days")
        if not 0 <= s.window_days <= 120:
            raise InvalidInput("Fönstret måste vara mellan 0 och 120 dagar.", field="window_days")
        if s.channel not in set(StepChannel):
            raise InvalidInput("Okänd kanal för steget.", field="channel")
        if not s.questionnaire_key.strip():
            raise InvalidInput("Ange vilket frågeformulär steget använder.", field="questionnaire_key")


async def create_plan_version(
    session: AsyncSession,
    unit_id: uuid.UUID,
    steps: Sequence[StepSpec],
    *,
    name: str,
    actor_id: uuid.UUID | None = None,
) -> FollowUpPlan:
    """Add a new version; existing follow-ups keep the version they were expanded from."""
    validate_steps(steps)
    current = await session.scalar(
        sa.select(sa.func.max(FollowUpPlan.version)).where(FollowUpPlan.unit_id == unit_id)
    )
    plan = FollowUpPlan(unit_id=unit_id, version=(current or 0) + 1, name=name, created_by_id=actor_id)
    plan.steps = [
        PlanStep(
            offset_days=s.offset_days,
            channel=StepChannel(s.channel),
            questionnaire_key=s.questionnaire_key,
            window_days=s.window_days,
        )
        for s in steps
    ]
    session.add(plan)
    await session.flush()
    return plan


async def active_plan(session: AsyncSession, unit_id: uuid.UUID) -> FollowUpPlan:
    """The unit's newest plan version; the default plan is created on first use."""
    plan = await session.scalar(
        sa.select(FollowUpPlan)
        .where(FollowUpPlan.unit_id == unit_id)
        .order_by(FollowUpPlan.version.desc())
        .limit(1)
    )
    if plan is None:
        plan = await create_plan_version(session, unit_id, DEFAULT_STEPS, name=DEFAULT_PLAN_NAME)
    return plan


def plan_specs(plan: FollowUpPlan) -> list[StepSpec]:
    return [StepSpec(s.offset_days, s.channel.value, s.questionnaire_key, s.window_days) for s in plan.steps]


def _row(closure: Closure, plan: FollowUpPlan, slot: Slot, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {
        "id": uuid.uuid4(),
        "closure_id": closure.id,
        "client_id": closure.client_id,
        "unit_id": closure.unit_id,
        "plan_id": plan.id,
        "plan_version": plan.version,
        "wave_days": slot.step.offset_days,
        "channel": StepChannel(slot.step.channel),
        "questionnaire_key": slot.step.questionnaire_key,
        "due_on": slot.due_on,
        "window_end": slot.window_end,
        "status": FollowUpStatus.SCHEDULED if slot.scheduled else FollowUpStatus.SKIPPED,
        "skip_reason": slot.skip_reason,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
    }


async def expand_new_closures(
    session: AsyncSession,
    closures: Iterable[Closure],
    plan: FollowUpPlan,
    *,
    today: date,
    min_gap_days: int,
) -> int:
    """Bulk path for closures without follow-ups yet (registration, import, benchmark)."""
    specs = plan_specs(plan)
    now = utcnow()
    # Closures without earlier contacts and the same closed_on get the same slots: compute once.
    slots_by_day: dict[date, list[Slot]] = {}

    def slots(closed_on: date) -> list[Slot]:
        found = slots_by_day.get(closed_on)
        if found is None:
            found = slots_by_day[closed_on] = expand(closed_on, specs, today=today, min_gap_days=min_gap_days)
        return found

    rows = [
        _row(c, plan, slot, now)
        for c in closures
        if c.reason in FOLLOWED_UP_REASONS and c.returned_on is None
        for slot in slots(c.closed_on)
    ]
    await bulk_insert_follow_ups(session, rows)
    return len(rows)


COPY_THRESHOLD = 1_000


async def bulk_insert_follow_ups(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write many follow-up rows. On PostgreSQL (asyncpg) large batches use COPY, several times
    faster than multi-row INSERTs; it runs on the session's connection, in its transaction."""
    if not rows:
        return
    if len(rows) >= COPY_THRESHOLD and session.bind is not None and session.bind.dialect.driver == "asyncpg":
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        columns = list(rows[0])
        records = [
            tuple(v.value if isinstance(v, enum.Enum) else v for v in (row[c] for c in columns))
            for row in rows
        ]
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            FollowUp.__tablename__, records=records, columns=columns
        )
        return
    await session.execute(sa.insert(FollowUp), rows)


async def cancel_open(
    session: AsyncSession, closure_id: uuid.UUID, reason: str, *, include_due: bool = True
) -> int:
    """Cancel what has not yet reached the person (return to assistance, reason no longer followed up)."""
    statuses = [FollowUpStatus.SCHEDULED, *([FollowUpStatus.DUE] if include_due else [])]
    result = await session.execute(
        sa.update(FollowUp)
        .where(FollowUp.closure_id == closure_id, FollowUp.status.in_(statuses))
        .values(
            status=FollowUpStatus.CANCELLED,
            skip_reason=reason,
            revision=FollowUp.revision + 1,
            updated_at=utcnow(),
        )
    )
    return rowcount(result)


async def schedule_closure(
    session: AsyncSession, closure: Closure, *, today: date, min_gap_days: int
) -> list[FollowUp]:
    """(Re)compute the closure's follow-ups after registration or a change of date or reason.

    Rows that already reached the person (due/started/done) and gate skips stay as they are and
    count towards the gap; scheduled rows and expansion skips are recomputed in place.
    """
    existing = list(
        await session.scalars(
            sa.select(FollowUp).where(FollowUp.closure_id == closure.id).order_by(FollowUp.wave_days)
        )
    )
    if closure.reason not in FOLLOWED_UP_REASONS or closure.returned_on is not None:
        await cancel_open(
            session, closure.id, "not_followed_up" if closure.returned_on is None else "case_reopened"
        )
        return existing
    if existing and existing[0].plan_id is not None:
        plan = await session.get(FollowUpPlan, existing[0].plan_id) or await active_plan(
            session, closure.unit_id
        )
    else:
        plan = await active_plan(session, closure.unit_id)
    if not existing:
        await expand_new_closures(session, [closure], plan, today=today, min_gap_days=min_gap_days)
        return list(await session.scalars(sa.select(FollowUp).where(FollowUp.closure_id == closure.id)))

    def recomputable(f: FollowUp) -> bool:
        return f.status == FollowUpStatus.SCHEDULED or (
            f.status in (FollowUpStatus.SKIPPED, FollowUpStatus.CANCELLED)
            and f.skip_reason in (*EXPANSION_SKIPS, "not_followed_up")
        )

    by_wave = {f.wave_days: f for f in existing}
    fixed = [f for f in existing if not recomputable(f)]
    fixed_waves = {f.wave_days for f in fixed}
    specs = [s for s in plan_specs(plan) if s.offset_days not in fixed_waves]
    slots = expand(
        closure.closed_on,
        specs,
        today=today,
        min_gap_days=min_gap_days,
        earlier_contacts=[f.due_on for f in fixed if f.status != FollowUpStatus.SKIPPED],
    )
    for slot in slots:
        row = by_wave.get(slot.step.offset_days)
        if row is None:
            session.add(FollowUp(**_row(closure, plan, slot)))
            continue
        row.due_on = slot.due_on
        row.window_end = slot.window_end
        row.status = FollowUpStatus.SCHEDULED if slot.scheduled else FollowUpStatus.SKIPPED
        row.skip_reason = slot.skip_reason
        row.revision += 1
    await session.flush()
    return list(await session.scalars(sa.select(FollowUp).where(FollowUp.closure_id == closure.id)))
