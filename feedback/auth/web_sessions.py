"""Housekeeping of stored browser sessions, shared by the web store and the worker.

Why outside the web layer: the worker purges expired sessions on a timer and must not import
Litestar to do it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.auth.models import WebSession
from feedback.core.db import rowcount, utcnow


async def delete_expired_sessions(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Delete every session row past its expiry; returns how many went."""
    async with sessionmaker() as session:
        result = await session.execute(sa.delete(WebSession).where(WebSession.expires_at <= utcnow()))
        await session.commit()
        return rowcount(result)
