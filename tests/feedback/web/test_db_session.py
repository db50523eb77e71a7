"""The request's database session: released on every path, never commits on its own, 503 when the
pool is exhausted.

A small app with the real plugin and the real error handler runs each path a request can take
(success, no commit, a 4xx, an exception, an error after the response started); after each, no
connection may still be checked out of the pool, and on PostgreSQL none may sit ``idle in
transaction``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar import Litestar, get, post
from litestar.di import NamedDependency
from litestar.exceptions import LitestarException
from litestar.params import FromPath
from litestar.response import Stream
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from feedback.auth.models import WebSession
from feedback.core.db import create_engine, session_factory
from feedback.core.errors import NotFound
from feedback.web.app import create_app
from feedback.web.db_session import DatabaseSessionPlugin
from feedback.web.errors import POOL_BUSY_MESSAGE_SV, handle_exception
from tests.conftest import make_settings


def _row(key: str) -> WebSession:
    return WebSession(key=key, value=b"x", expires_at=None)


@get("/api/read")
async def read(db_session: NamedDependency[AsyncSession]) -> str:
    return str(await db_session.scalar(sa.select(sa.func.count()).select_from(WebSession)))


@post("/api/commit/{key:str}", status_code=200)
async def write_commit(db_session: NamedDependency[AsyncSession], key: FromPath[str]) -> str:
    db_session.add(_row(key))
    await db_session.commit()
    return "ok"


@post("/api/no-commit/{key:str}", status_code=200)
async def write_without_commit(db_session: NamedDependency[AsyncSession], key: FromPath[str]) -> str:
    db_session.add(_row(key))
    await db_session.flush()
    return "ok"


@post("/api/refused/{key:str}", status_code=200)
async def write_then_refuse(db_session: NamedDependency[AsyncSession], key: FromPath[str]) -> str:
    db_session.add(_row(key))
    await db_session.flush()
    raise NotFound("Uppgiften finns inte.")


@post("/api/boom/{key:str}", status_code=200)
async def write_then_fail(db_session: NamedDependency[AsyncSession], key: FromPath[str]) -> str:
    db_session.add(_row(key))
    await db_session.flush()
    raise RuntimeError("a bug")


@get("/api/stream")
async def fail_mid_response(db_session: NamedDependency[AsyncSession]) -> Stream:
    """The body is produced after the handler returned; it reads, then fails after the start."""

    async def body() -> AsyncIterator[bytes]:
        yield b"first part\n"
        await db_session.execute(sa.select(WebSession.key).limit(1))
        raise RuntimeError("failed after the response started")

    return Stream(body())


def _app(engine: AsyncEngine) -> Litestar:
    # The test client serves the app on a loop of its own: its pooled connections are closed there.
    return Litestar(
        on_shutdown=[engine.dispose],
        route_handlers=[
            read,
            write_commit,
            write_without_commit,
            write_then_refuse,
            write_then_fail,
            fail_mid_response,
        ],
        plugins=[DatabaseSessionPlugin(session_factory(engine))],
        exception_handlers={Exception: handle_exception},
        logging_config=None,
        debug=False,
    )


async def _idle_in_transaction(database_url: str) -> int:
    """Connections of this database left inside a transaction (PostgreSQL; 0 on SQLite)."""
    if not database_url.startswith("postgresql"):
        return 0
    database = make_url(database_url).database
    observer = create_engine(database_url)
    try:
        async with observer.connect() as connection:
            count = await connection.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = :db AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            )
    finally:
        await observer.dispose()
    return int(count or 0)


async def _stored(database_url: str, key: str) -> bool:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return await session.get(WebSession, key) is not None
    finally:
        await engine.dispose()


async def test_every_path_gives_the_connection_back_and_only_commits_count(db_url: str) -> None:
    engine = create_engine(db_url, pool_size=2, pool_timeout_s=30)
    keys = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in ("commit", "no", "refused", "boom")}
    async with AsyncTestClient(app=_app(engine)) as client:
        assert (await client.get("/api/read")).status_code == 200
        assert (await client.post(f"/api/commit/{keys['commit']}")).status_code == 200
        assert (await client.post(f"/api/no-commit/{keys['no']}")).status_code == 200
        refused = await client.post(f"/api/refused/{keys['refused']}")
        assert refused.status_code == 404
        boom = await client.post(f"/api/boom/{keys['boom']}")
        assert boom.status_code == 500
        assert "a bug" not in boom.text
        with pytest.raises(LitestarException, match="after response started"):
            await client.get("/api/stream")
        # Many more requests than the pool has connections: a leak on any path would exhaust it.
        for _ in range(3):
            assert (await client.post(f"/api/refused/{uuid.uuid4().hex}")).status_code == 404
            assert (await client.post(f"/api/boom/{uuid.uuid4().hex}")).status_code == 500
            with pytest.raises(LitestarException):
                await client.get("/api/stream")
        assert (await client.get("/api/read")).status_code == 200
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert await _idle_in_transaction(db_url) == 0
    # Only the controller's own commit is stored; nothing was committed behind its back.
    assert await _stored(db_url, keys["commit"])
    assert not await _stored(db_url, keys["no"])
    assert not await _stored(db_url, keys["refused"])
    assert not await _stored(db_url, keys["boom"])


async def test_an_exhausted_pool_answers_a_swedish_503_instead_of_hanging(
    db_url: str, tmp_path: Path
) -> None:
    settings = make_settings(db_url, tmp_path, database_pool_size=1, database_pool_timeout_s=0.5)
    app = create_app(settings)
    engine: AsyncEngine = app.state.sessionmaker.kw["bind"]
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        # Every connection the pool may hand out (pool size + as many in overflow) is taken.
        held = [await engine.connect() for _ in range(2)]
        try:
            response = await client.get(f"/invitation/{uuid.uuid4().hex}", headers={"accept": "text/html"})
            assert response.status_code == 503
            assert POOL_BUSY_MESSAGE_SV in response.text
        finally:
            for connection in held:  # opened on this test's loop, not the app's: never pooled again
                await connection.invalidate()
                await connection.close()
        # With the connections back, the same page answers as usual again.
        response = await client.get(f"/invitation/{uuid.uuid4().hex}", headers={"accept": "text/html"})
        assert response.status_code < 500
