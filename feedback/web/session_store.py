"""A Litestar ``Store`` on the ``web_session`` table.

Why in the database: sessions then survive restarts and are shared by several server processes
without adding Redis to a small municipal deployment.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from litestar.stores.base import NamespacedStore
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.auth.models import WebSession
from feedback.auth.web_sessions import delete_expired_sessions
from feedback.core.db import utcnow


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
        async with self._sessionmaker() as session:
            row = await session.get(WebSession, self._key(key))
            if row is None:
                session.add(WebSession(key=self._key(key), value=data, expires_at=expires_at))
            else:
                row.value, row.expires_at = data, expires_at
            await session.commit()

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        async with self._sessionmaker() as session:
            row = await session.get(WebSession, self._key(key))
            if row is None:
                return None
            if row.expires_at is not None and row.expires_at <= utcnow():
                await session.delete(row)
                await session.commit()
                return None
            if renew_for and row.expires_at is not None:
                if isinstance(renew_for, int):
                    renew_for = timedelta(seconds=renew_for)
                row.expires_at = utcnow() + renew_for
                await session.commit()
            return row.value

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
