"""The one SQLAlchemy ``Base``, engine/session factories and the list of model modules.

Why an explicit ``MODEL_MODULES`` list: Alembic autogenerate and the migration test must see
every table. Importing them by name (errors propagate) beats a scan that silently skips a module
with an import error; a test asserts that every ``models.py`` in the tree is listed here.
"""

from __future__ import annotations

import enum
import importlib
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Dialect, Result
from sqlalchemy.ext.asyncio import (
    AsyncAttrs,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

MODEL_MODULES: tuple[str, ...] = (
    "feedback.core.models",
    "feedback.auth.models",
    "feedback.auth.sso.models",
    "feedback.themes.models",
    "surveys.questionnaires.models",
    "surveys.texts.models",
    "surveys.conversations.models",
    "surveys.answers.models",
    "surveys.cases.models",
    "surveys.phone.models",
    "surveys.inbox.models",
    "surveys.closures.models",
    "surveys.plans.models",
    "surveys.outcomes.models",
    "notifications.models",
    "feedback.panel.models",
    "feedback.reports.models",
    "feedback.devtools.models",
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every dialect.

    SQLite has no time zone type and hands back naive values; PostgreSQL converts to the session
    zone. Normalising here means application code only ever sees aware UTC datetimes.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(AsyncAttrs, DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        uuid.UUID: sa.Uuid(),
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON(),
        list[Any]: sa.JSON(),
    }


def str_enum(cls: type[enum.StrEnum], length: int = 16, *, validate: bool = True) -> sa.Enum:
    """A StrEnum column stored as its values in a VARCHAR (no database enum type to migrate).

    ``validate`` refuses unknown strings on the Python side before they reach the database.
    """
    return sa.Enum(
        cls,
        native_enum=False,
        length=length,
        validate_strings=validate,
        values_callable=lambda e: [m.value for m in e],
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class UUIDPrimaryKey:
    """Mixin for tables keyed by a random UUID (no information leaks through sequential ids)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def import_all_models() -> None:
    """Import every model module so ``Base.metadata`` is complete (errors propagate)."""
    for module in MODEL_MODULES:
        importlib.import_module(module)


DEFAULT_BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def create_engine(
    database_url: str,
    *,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    pool_size: int | None = None,
    pool_timeout_s: float | None = None,
    idle_in_transaction_timeout_s: int | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """Create an async engine; every SQLite connection gets WAL, foreign keys and a busy timeout.

    WAL lets readers go on while one connection writes; the busy timeout makes a writer wait for
    the lock instead of failing at once. What is left (a lock held longer, a stale read snapshot)
    is handled by ``feedback.core.dblock``.

    ``pool_size`` (plus as many overflow connections) and ``pool_timeout_s`` bound the pool: a
    caller that cannot get a connection in time gets ``sqlalchemy.exc.TimeoutError`` instead of
    waiting without end. ``idle_in_transaction_timeout_s`` (PostgreSQL) makes the server end a
    connection that sits inside an open transaction doing nothing for that long.
    """
    memory = database_url.startswith("sqlite") and (
        ":memory:" in database_url or database_url.endswith("://")
    )
    if pool_size is not None and not memory:
        kwargs.setdefault("pool_size", pool_size)
        kwargs.setdefault("max_overflow", pool_size)
    if pool_timeout_s is not None and not memory:
        kwargs.setdefault("pool_timeout", pool_timeout_s)
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if idle_in_transaction_timeout_s is not None and database_url.startswith("postgresql+asyncpg"):
        connect_args = dict(kwargs.pop("connect_args", {}))
        server_settings = dict(connect_args.get("server_settings", {}))
        server_settings.setdefault(
            "idle_in_transaction_session_timeout", str(idle_in_transaction_timeout_s * 1000)
        )
        connect_args["server_settings"] = server_settings
        kwargs["connect_args"] = connect_args
    return create_async_engine(database_url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def dialect_name(session: AsyncSession) -> str:
    """``postgresql`` or ``sqlite``: the database this session's statements go to."""
    return session.get_bind().dialect.name


def insert_for(session: AsyncSession, entity: Any) -> postgresql.Insert | sqlite.Insert:
    """The dialect's own ``INSERT`` (with ``on_conflict_do_nothing``) for ``entity``.

    The dialect modules are imported on first use: importing this module stays cheap.
    """
    if dialect_name(session) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(entity)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(entity)


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """How many rows an ``UPDATE``/``DELETE`` matched.

    ``AsyncSession.execute`` is typed as returning ``Result``; for DML it returns its subclass
    ``CursorResult``, which is the one with ``rowcount``.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"rowcount of a {type(result).__name__}: not the result of an UPDATE/DELETE")
    return result.rowcount
