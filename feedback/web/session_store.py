"""A Litestar ``Store`` on the ``web_session`` table.

Why in the database: sessions then survive restarts and are shared by several server processes
without adding Redis to a small municipal deployment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from litestar.stores.base import NamespacedStore
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.auth.models import WebSession
from feedback.auth.web_sessions import delete_expired_sessions
from feedback.core.db import utcnow
from feedback.core.dblock import is_lock_error, retry_on_lock

# The session cookie is read on every request; writing the new expiry each time would make every
# page view a database write (on SQLite: a wait for the one write lock). An expiry that would
# move by less than this is left as it is.
RENEW_SLACK = timedelta(minutes=1)


class DatabaseStore(NamespacedStore):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], namespace: str = "session") -> None:
        self.namespace = namespace
        self._sessionmaker = sessionmaker

    def with_namespace(self, namespace: str) -> DatabaseStore:
        return DatabaseStore(self._sessionmaker, f"{self.namespace}_{namespace}")

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        if isinstance(expires_in, int):
            expires_in = timedelta(seconds=expires_in)
        expires_at = utcnow() + expires_in if expires_in else None

        async def write() -> None:
            async with self._sessionmaker() as session:
                row = await session.get(WebSession, self._key(key))
                if row is None:
                    session.add(WebSession(key=self._key(key), value=data, expires_at=expires_at))
                elif row.value == data and _close(row.expires_at, expires_at):
                    return  # nothing new to store: no write, no lock
                else:
                    row.value, row.expires_at = data, expires_at
                await session.commit()

        await retry_on_lock(write, what="web session store")

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        async with self._sessionmaker() as session:
            row = await session.get(WebSession, self._key(key))
            if row is None:
                return None
            if row.expires_at is not None and row.expires_at <= utcnow():
                await session.delete(row)
                await session.commit()
                return None
            value = row.value
            if renew_for and row.expires_at is not None:
                if isinstance(renew_for, int):
                    renew_for = timedelta(seconds=renew_for)
                renewed = utcnow() + renew_for
                if renewed - row.expires_at >= RENEW_SLACK:
                    row.expires_at = renewed
                    try:
                        await session.commit()
                    except Exception as exc:
                        # Renewal is a courtesy: a busy database must not fail the page. The
                        # session is still valid; the next request renews it.
                        if not is_lock_error(exc):
                            raise
                        await session.rollback()
            return value

    async def delete(self, key: str) -> None:
        async with self._sessionmaker() as session:
            await session.execute(sa.delete(WebSession).where(WebSession.key == self._key(key)))
            await session.commit()

    async def delete_all(self) -> None:
        async with self._sessionmaker() as session:
            await session.execute(
                sa.delete(WebSession).where(WebSession.key.startswith(f"{self.namespace}:"))
            )
            await session.commit()

    async def delete_expired(self) -> int:
        return await delete_expired_sessions(self._sessionmaker)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self._sessionmaker() as session:
            row = await session.get(WebSession, self._key(key))
            if row is None or row.expires_at is None:
                return None
            return max(0, int((row.expires_at - utcnow()).total_seconds()))


def _close(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < RENEW_SLACK
