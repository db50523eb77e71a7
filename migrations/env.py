"""Alembic environment: async engines, batch mode on SQLite, every model imported."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from feedback.core.db import Base, create_engine, import_all_models

config = context.config
import_all_models()
target_metadata = Base.metadata


def _database_url() -> str:
    """From ``feedback.core.migrate`` (the CLI, tests) or, for plain ``alembic``, the environment.

    There is no alembic.ini: ``[tool.alembic]`` in pyproject.toml holds the script location, and
    the database URL comes from the same variable the app reads.
    """
    url = config.attributes.get("database_url")
    return url or os.environ.get("FEEDBACK_DATABASE_URL", "sqlite+aiosqlite:///./feedback.db")


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    dialect = connection.dialect.name if connection is not None else (url or "").split("+")[0].split(":")[0]
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=dialect == "sqlite",
        compare_type=True,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    _configure(url=_database_url())
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table (copy, drop, rename); with foreign keys on, dropping the old
        # table would cascade-delete the rows of every table that references it. SQLite ignores
        # this pragma inside a transaction, so it is set before the migration transaction begins.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


async def _run_async() -> None:
    engine = create_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
