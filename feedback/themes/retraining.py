"""Retraining on request: the themes page records it, the worker's theming job carries it out.

Why not train in the web request: training and re-theming every stored answer takes seconds on
the demo year and minutes on a big city, and a second process pool in the web process competed
with the worker's own. Now there is one theming path. The page calls ``request_retrain`` and
answers at once; ``feedback.themes.jobs.ThemingJob`` picks the open request, trains in its
pool, re-queues the answers, themes them in its normal batches and finally re-applies the
manager's rules. The request row records each step, so the page shows progress by reading it
(``latest_request``) and a killed worker picks the request up again.

The state changes are plain functions on the row; the caller (the page handler or the job) owns
the transaction and commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.themes.models import RetrainRequest, RetrainStatus

# A request whose training was started this many times without finishing (the worker was killed,
# ran out of memory) is given up, so one bad request cannot crash-loop the worker for ever.
MAX_ATTEMPTS = 3

# Reasons shown verbatim to the manager on /themes/ ("Omträningen misslyckades: …").
FAILED_TRAINING_SV = (
    "modellen gick inte att träna. Försök igen om en stund. Kontakta systemförvaltaren om det händer igen."
)
FAILED_INTERRUPTED_SV = (
    f"omträningen avbröts {MAX_ATTEMPTS} gånger innan den blev klar. Kontakta systemförvaltaren."
)


async def open_request(session: AsyncSession) -> RetrainRequest | None:
    """The request that is waiting or being carried out, if any (at most one exists)."""
    return await session.scalar(
        sa.select(RetrainRequest)
        .where(RetrainRequest.open_slot.is_not(None))
        .order_by(RetrainRequest.id)
        .limit(1)
    )


async def latest_request(session: AsyncSession) -> RetrainRequest | None:
    """The newest request, open or finished: what the themes page reports on."""
    return await session.scalar(sa.select(RetrainRequest).order_by(RetrainRequest.id.desc()).limit(1))


async def request_retrain(
    session: AsyncSession, *, user_id: uuid.UUID | None, now: datetime
) -> tuple[RetrainRequest, bool]:
    """Record a retraining request unless one is already open; ``(request, created)``.

    A second click while one waits or runs returns the open one (``created`` False): retraining
    twice in a row gives the same model, and queueing it would only make the manager wait
    longer. Two clicks that race past the check meet the unique ``open_slot``; the loser's
    transaction holds nothing else (the handler does only this), so it is rolled back here and
    the winner's request is returned.
    """
    existing = await open_request(session)
    if existing is not None:
        return existing, False
    row = RetrainRequest(status=RetrainStatus.PENDING, open_slot=1, requested_by_id=user_id, requested_at=now)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        existing = await open_request(session)
        if existing is None:
            raise
        return existing, False
    return row, True


def start_training(row: RetrainRequest, *, now: datetime) -> bool:
    """Mark ``row`` as training; False (and the row failed) once it was started too often.

    Called for a pending request and for one left ``training`` by a killed worker: training is
    redone from scratch (it writes a new model directory; nothing half-done is reused).
    """
    if row.attempts >= MAX_ATTEMPTS:
        fail(row, FAILED_INTERRUPTED_SV, now=now)
        return False
    row.status = RetrainStatus.TRAINING
    row.attempts += 1
    row.started_at = now
    row.total = row.themed = 0
    return True


def start_theming(row: RetrainRequest, *, model_version: str, total: int) -> None:
    """The new model is saved and ``total`` answers are queued for the worker's batches."""
    row.status = RetrainStatus.THEMING
    row.model_version = model_version
    row.total = total
    row.themed = 0


def record_progress(row: RetrainRequest, *, pending: int) -> None:
    """``themed`` of ``total``, from the answers still waiting.

    Answers that arrive during the re-theming also wait in the same queue, so this can lag a
    little behind; it never goes below zero or above ``total``.
    """
    row.themed = max(0, min(row.total, row.total - pending))


def finish(row: RetrainRequest, *, now: datetime) -> None:
    row.status = RetrainStatus.DONE
    row.themed = row.total
    row.finished_at = now
    row.open_slot = None


def fail(row: RetrainRequest, reason_sv: str, *, now: datetime) -> None:
    row.status = RetrainStatus.FAILED
    row.error = reason_sv[:500]
    row.finished_at = now
    row.open_slot = None
