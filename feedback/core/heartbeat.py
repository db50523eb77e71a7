"""The worker's heartbeat: one row per process kind, moved forward after a good pass."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.models import WorkerHeartbeat


async def record(session: AsyncSession, name: str, at: datetime) -> None:
    """Upsert ``name``'s last good pass (the caller commits)."""
    row = await session.get(WorkerHeartbeat, name)
    if row is None:
        session.add(WorkerHeartbeat(name=name, last_success_at=at))
    elif row.last_success_at < at:
        row.last_success_at = at
    await session.flush()


async def last_success(session: AsyncSession, name: str = "worker") -> datetime | None:
    row = await session.get(WorkerHeartbeat, name)
    return row.last_success_at if row is not None else None
