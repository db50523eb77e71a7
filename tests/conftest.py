"""Shared fixtures: settings as data, a fresh database per test on SQLite and PostgreSQL, the app.

Each test gets its own database copied from a migrated template (SQLite: a file copy;
PostgreSQL: CREATE DATABASE … TEMPLATE …), so tests never depend on each other's order.
PostgreSQL tests are skipped with a visible reason only when the server is unreachable and
``CI`` is unset; in CI an unreachable server fails the run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core import migrate
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.web.app import create_app

POSTGRES_URL = os.environ.get(
    "FEEDBACK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = bool(os.environ.get("CI"))


# ---------------------------------------------------------------- PostgreSQL plumbing
def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _pg_execute(sql: str, url: str = POSTGRES_URL) -> None:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def pg_execute(sql: str, url: str = POSTGRES_URL) -> None:
    asyncio.run(_pg_execute(sql, url))


def postgres_available() -> str | None:
    """Return None when reachable, else the reason."""
    try:
        pg_execute("SELECT 1")
    except Exception as exc:  # unreachable for whatever reason
        return f"PostgreSQL at {POSTGRES_URL} unreachable: {type(exc).__name__}: {exc}"
    return None


def pg_database_url(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def create_pg_database(template: str | None = None) -> tuple[str, str]:
    name = f"uppf_t_{uuid.uuid4().hex[:12]}"
    pg_execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name, pg_database_url(name)


def drop_pg_database(name: str) -> None:
    pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    reason = postgres_available()
    if reason:
        if IN_CI:
            pytest.fail(f"CI requires PostgreSQL: {reason}")
        pytest.skip(reason)
    name = f"uppf_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    pg_execute(f'CREATE DATABASE "{name}"')
    migrate.upgrade(pg_database_url(name))
    yield name
    drop_pg_database(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def _fresh_sqlite(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "test.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return _fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    name, url = create_pg_database(template=postgres_template)
    yield url
    drop_pg_database(name)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """CLI tests run ``configure_logging``, which installs a process-wide scrubbing record factory
    and root handler: undo both so each test sees logging as pytest set it up."""
    root = logging.getLogger()
    factory, handlers, level = logging.getLogRecordFactory(), list(root.handlers), root.level
    yield
    logging.setLogRecordFactory(factory)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database on each backend: tests using it run on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


# ---------------------------------------------------------------- settings, sessions, app
def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    base = Settings(
        environment="test",
        database_url=database_url,
        model_dir=tmp_path / "models",
        public_url="http://testserver.local",
        twilio_auth_token="test-auth-token-0123456789",
        twilio_account_sid="AC" + "0" * 32,
        twilio_from="+46700000000",
    )
    return base.with_overrides(**overrides)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)


@pytest.fixture
async def db_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session on the test database, separate from the app's; the test commits what it needs."""
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last.

    Why: Playwright's sync API keeps an event loop running in the main thread while its
    session-scoped browser lives; any ordinary test that calls ``asyncio.run`` afterwards would
    fail. Moving e2e items to the end (stable order otherwise) keeps both kinds independent.
    """
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None or "tests/e2e/" in item.nodeid)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Say in the log how many tests really ran on PostgreSQL (CI must show they did)."""
    passed = [r for r in terminalreporter.stats.get("passed", []) if "postgres" in r.keywords]
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "postgres" in r.keywords]
    if passed or skipped:
        terminalreporter.write_line(
            f"PostgreSQL ({make_url(POSTGRES_URL).render_as_string(hide_password=True)}): "
            f"{len(passed)} tests passed, {len(skipped)} skipped"
        )
