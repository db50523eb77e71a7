"""Riding out a busy SQLite: take the write lock up front, retry the whole unit of work.

Why: SQLite has one writer at a time. WAL and ``busy_timeout`` (see ``db.create_engine``) make a
writer wait for the lock, but two cases still end in "database is locked":

* a transaction that *read* first and then wants to write after another connection committed
  (``SQLITE_BUSY_SNAPSHOT``): waiting cannot help, SQLite refuses at once. A savepoint or a
  ``SELECT`` inside a transaction starts such a read; the CSV import (one savepoint per row) and
  the scheduler (gate reads, then the hand-over) both did this. ``begin_immediate`` takes the
  write lock before the first read, so the transaction never has to upgrade;
* a lock held longer than the busy timeout. ``retry_on_lock`` re-runs the *whole* transaction a
  few times with backoff; whatever still fails is reported, never half-applied, because the
  failed attempt was rolled back.

PostgreSQL does not raise these errors; ``begin_immediate`` is a no-op there and
``retry_on_lock`` simply never retries. No library (tenacity) for ten lines of loop.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from feedback.core.db import dialect_name

log = logging.getLogger(__name__)

T = TypeVar("T")

LOCK_MESSAGES = ("database is locked", "database table is locked", "database schema is locked")


def is_lock_error(exc: BaseException | None) -> bool:
    """True for SQLite's "database is locked" in any wrapping (SQLAlchemy, sqlite3, a cause chain)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, sa_exc.OperationalError | sqlite3.OperationalError):
            text = str(getattr(exc, "orig", None) or exc).lower()
            if any(message in text for message in LOCK_MESSAGES):
                return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """How often to re-run a transaction that met a lock, and how long to back off in between.

    Each attempt may itself wait up to the busy timeout for the lock, so the whole budget is
    about ``attempts × busy_timeout`` plus the backoff.
    """

    attempts: int = 3
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter, so two retrying writers do not collide again in step."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        return ceiling * (0.5 + random.random() / 2)  # jitter, not security


DEFAULT_POLICY = RetryPolicy()


async def retry_on_lock(
    work: Callable[[], Awaitable[T]],
    *,
    what: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """Run ``work`` (one whole transaction: begin, write, commit) again while it meets a lock.

    ``work`` must start from a clean session each time (roll back first) so a retry repeats the
    transaction from the beginning; the last lock error is re-raised when the budget is spent.
    Other errors pass through at once.
    """
    attempt = 0
    while True:
        try:
            return await work()
        except Exception as exc:
            attempt += 1
            if not is_lock_error(exc) or attempt >= policy.attempts:
                raise
            log.warning("%s: database is locked, trying again (%d of %d)", what, attempt + 1, policy.attempts)
            await sleep(policy.delay(attempt - 1))


async def begin_immediate(session: AsyncSession) -> None:
    """SQLite: start the transaction with the write lock held (``BEGIN IMMEDIATE``).

    Must be the first statement that touches the database in this transaction at the driver
    level; plain ``SELECT``s before it are fine (pysqlite runs them outside a transaction). If the
    driver is already inside a transaction nothing is done: that transaction either holds the
    write lock already or is a caller's mistake that the retry will cover.
    """
    if dialect_name(session) != "sqlite":
        return
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is not None and getattr(driver, "in_transaction", False):
        return
    await session.execute(sa.text("BEGIN IMMEDIATE"))


class DatabaseBusyError(Exception):
    """The lock did not come free within the retry budget; ``saved`` says whether anything committed.

    Raised by a page that knows exactly what it committed; the web error handler turns this (and
    any bare lock error) into a Swedish 503 that tells the user whether to try again.
    """

    def __init__(self, *, saved: bool) -> None:
        super().__init__("database is locked" + (" after a commit" if saved else ""))
        self.saved = saved


def _mark_committed(session: Session) -> None:
    session.info["committed"] = True


def committed(session: object) -> bool:
    """Whether this session has committed anything yet (so a later error must not say "nothing saved")."""
    return isinstance(session, Session | AsyncSession) and bool(session.info.get("committed"))


event.listen(Session, "after_commit", _mark_committed)
