"""Retraining on request, with a preview: the page records it, the worker trains and compares,
the manager confirms, and only then does anything change.

The steps of a request (``RetrainStatus``): ``pending`` (recorded) → ``training`` (the worker
trains a candidate model beside the current one and assigns every stored answer with it, to
count which answers would get other themes) → ``ready`` (the preview is stored; nothing has
changed yet) → ``confirmed`` (the manager said yes) → ``theming`` (the candidate is current; the
answers are re-themed in batches) → ``done``, with the model change recorded for the report. A
manager can cancel a ready preview; a preview made for other themes than today's is refused.

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
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import InvalidInput
from feedback.themes.models import ModelChange, RetrainRequest, RetrainStatus

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


def ready(row: RetrainRequest, *, model_version: str, codebook_version: str, preview: dict[str, Any]) -> None:
    """The candidate is trained and compared: the manager can now confirm or cancel."""
    row.status = RetrainStatus.READY
    row.model_version = model_version
    row.codebook_version = codebook_version
    row.preview = preview


STALE_SV = (
    "Temana har ändrats sedan förhandsvisningen, så den stämmer inte längre. "
    "Gör en ny förhandsvisning innan du tränar om."
)


async def confirm(
    session: AsyncSession, *, request_id: int, user_id: uuid.UUID | None, codebook_version: str, now: datetime
) -> RetrainRequest:
    """The manager's yes to a ready preview; refused (and the preview dropped) if themes changed."""
    row = await session.get(RetrainRequest, request_id)
    if row is None or row.status != RetrainStatus.READY:
        raise InvalidInput("Det finns ingen förhandsvisning att bekräfta. Gör en ny förhandsvisning.")
    if row.codebook_version != codebook_version:
        cancel(row, now=now, reason_sv=STALE_SV)
        await session.commit()
        raise InvalidInput(STALE_SV)
    row.status = RetrainStatus.CONFIRMED
    row.confirmed_by_id = user_id
    row.confirmed_at = now
    return row


async def cancel_ready(session: AsyncSession, *, request_id: int, now: datetime) -> RetrainRequest:
    row = await session.get(RetrainRequest, request_id)
    if row is None or row.status != RetrainStatus.READY:
        raise InvalidInput("Det finns ingen förhandsvisning att avbryta.")
    cancel(row, now=now)
    return row


def cancel(row: RetrainRequest, *, now: datetime, reason_sv: str | None = None) -> None:
    row.status = RetrainStatus.CANCELLED
    row.error = reason_sv
    row.finished_at = now
    row.open_slot = None


def start_theming(row: RetrainRequest, *, model_version: str, total: int) -> None:
    """The confirmed model is current and ``total`` answers are queued for the worker's batches."""
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


def finish(row: RetrainRequest, *, now: datetime) -> ModelChange:
    """Done: the counts now come from ``row.model_version`` (recorded for the report)."""
    row.status = RetrainStatus.DONE
    row.themed = row.total
    row.finished_at = now
    row.open_slot = None
    changed = (row.preview or {}).get("changed")
    return ModelChange(model_version=row.model_version or "", at=now, request_id=row.id, changed=changed)


async def current_model(session: AsyncSession) -> ModelChange | None:
    """Which model the stored themes come from, and since when (the newest change)."""
    return await session.scalar(sa.select(ModelChange).order_by(ModelChange.id.desc()).limit(1))


async def note_model(session: AsyncSession, *, model_version: str, now: datetime) -> None:
    """Record a model the job started using without a request (the first one it trained)."""
    latest = await current_model(session)
    if latest is None or latest.model_version != model_version:
        session.add(ModelChange(model_version=model_version, at=now))


def fail(row: RetrainRequest, reason_sv: str, *, now: datetime) -> None:
    row.status = RetrainStatus.FAILED
    row.error = reason_sv[:500]
    row.finished_at = now
    row.open_slot = None
