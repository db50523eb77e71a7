"""Record outcomes (status at a wave, return to assistance).

``record_outcome`` is the entry point for surveys.conversations (the status question) and
surveys.phone (the call); a later observation for the same closure and wave replaces the earlier
one, so a call that corrects an SMS answer wins.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import InvalidInput, NotFound
from surveys.closures.models import Closure
from surveys.outcomes.models import Outcome, OutcomeKind, OutcomeSource, OutcomeStatus
from surveys.plans.service import local_date


async def _upsert(
    session: AsyncSession,
    closure: Closure,
    *,
    kind: OutcomeKind,
    wave_days: int,
    status: OutcomeStatus,
    source: OutcomeSource,
    observed_on: date,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> Outcome:
    outcome = await session.scalar(
        sa.select(Outcome).where(
            Outcome.closure_id == closure.id, Outcome.kind == kind, Outcome.wave_days == wave_days
        )
    )
    if outcome is None:
        outcome = Outcome(closure_id=closure.id, unit_id=closure.unit_id, kind=kind, wave_days=wave_days)
        session.add(outcome)
    outcome.status = status
    outcome.source = source
    outcome.observed_on = observed_on
    outcome.recorded_at = now
    outcome.recorded_by_id = actor_id
    await session.flush()
    return outcome


async def record_outcome(
    session: AsyncSession,
    closure_id: uuid.UUID,
    wave_days: int,
    status: OutcomeStatus | str,
    source: OutcomeSource | str,
    now: datetime,
    *,
    actor_id: uuid.UUID | None = None,
) -> Outcome:
    """Working / studying / both / neither for one closure at one wave."""
    closure = await session.get(Closure, closure_id)
    if closure is None:
        raise NotFound("Avslutet finns inte.", field="closure_id")
    try:
        parsed = OutcomeStatus(status)
        parsed_source = OutcomeSource(source)
    except ValueError as exc:
        raise InvalidInput("Okänt utfall eller källa.", field="status") from exc
    if parsed == OutcomeStatus.RETURNED:
        raise InvalidInput("Återaktualisering registreras av handläggare på avslutet.", field="status")
    return await _upsert(
        session,
        closure,
        kind=OutcomeKind.STATUS,
        wave_days=int(wave_days),
        status=parsed,
        source=parsed_source,
        observed_on=local_date(now),
        actor_id=actor_id,
        now=now,
    )


async def record_return(
    session: AsyncSession, closure: Closure, *, returned_on: date, actor_id: uuid.UUID | None, now: datetime
) -> Outcome:
    """Called by surveys.closures.service.register_return (one per closure)."""
    existing = await session.scalar(
        sa.select(Outcome).where(Outcome.closure_id == closure.id, Outcome.kind == OutcomeKind.RETURN)
    )
    if existing is not None:
        await session.delete(existing)
        await session.flush()
    return await _upsert(
        session,
        closure,
        kind=OutcomeKind.RETURN,
        wave_days=(returned_on - closure.closed_on).days,
        status=OutcomeStatus.RETURNED,
        source=OutcomeSource.CASEWORKER,
        observed_on=returned_on,
        actor_id=actor_id,
        now=now,
    )
