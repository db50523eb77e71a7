"""Login throttling: after N failed logins an account *or* a client is locked for a while.

Why two keys: counting per account stops guessing one person's password from many machines;
counting per client stops one machine from trying one password against many accounts. The account
key is the submitted e-mail address whether or not an account exists, so a lock never reveals
which addresses have accounts. Locked attempts are not counted, so an attacker cannot keep a
person locked out for longer than one lock period per burst of failures.

Concurrency: counting is one conditional ``UPDATE`` per key (no read-then-write), so concurrent
failures are never lost. :func:`attempt` goes further and *reserves* an attempt before the
password is checked: a burst of concurrent attempts gets at most ``max_failures`` password checks,
whatever the timing, on SQLite and PostgreSQL alike. The lock is checked before and after the
password check, so a correct password arriving while a burst locks the account is refused too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import LoginThrottle
from feedback.core.db import insert_for

T = TypeVar("T")


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)


def throttle_keys(email: str, client_ip: str | None) -> list[str]:
    keys = [f"account:{email.strip().lower()[:320]}"]
    if client_ip:
        keys.append(f"client:{client_ip[:64]}")
    return keys


async def locked_until(session: AsyncSession, keys: list[str], now: datetime) -> datetime | None:
    """The latest lock still in force for any of ``keys``, or None."""
    rows = await session.scalars(
        sa.select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now
        )
    )
    locks = [r for r in rows if r is not None]
    return max(locks) if locks else None


async def _ensure_rows(session: AsyncSession, keys: list[str], now: datetime) -> None:
    """Create the counters that do not exist yet (``INSERT … ON CONFLICT DO NOTHING``)."""
    for key in keys:
        await session.execute(
            insert_for(session, LoginThrottle)
            .values(key=key, failures=0, first_failure_at=now, locked_until=None)
            .on_conflict_do_nothing(index_elements=["key"])
        )


def _window_over(now: datetime, policy: ThrottlePolicy) -> sa.ColumnElement[bool]:
    """The old count no longer matters: its lock expired or its first failure is too old."""
    return sa.or_(
        sa.and_(LoginThrottle.locked_until.is_not(None), LoginThrottle.locked_until <= now),
        LoginThrottle.first_failure_at <= now - policy.lock_for,
    )


def _count_one(now: datetime, policy: ThrottlePolicy) -> dict[str, Any]:
    """``SET`` values that count one failure (restarting an old window at 1)."""
    over = _window_over(now, policy)
    return {
        "failures": sa.case((over, 1), else_=LoginThrottle.failures + 1),
        "first_failure_at": sa.case((over, now), else_=LoginThrottle.first_failure_at),
        "locked_until": sa.case((over, None), else_=LoginThrottle.locked_until),
    }


async def _rowcount(session: AsyncSession, statement: sa.Update) -> int:
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount


async def _lock_exhausted(
    session: AsyncSession, keys: list[str], now: datetime, policy: ThrottlePolicy
) -> datetime | None:
    """Lock every key whose count reached the policy (one conditional ``UPDATE``)."""
    await session.execute(
        sa.update(LoginThrottle)
        .where(
            LoginThrottle.key.in_(keys),
            LoginThrottle.failures >= policy.max_failures,
            sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        )
        .values(locked_until=now + policy.lock_for)
        .execution_options(synchronize_session=False)
    )
    return await locked_until(session, keys, now)


async def record_failure(
    session: AsyncSession, keys: list[str], now: datetime, policy: ThrottlePolicy
) -> datetime | None:
    """Count one failed login on every key; return the lock end when a key is now locked.

    Failures older than one lock period are forgotten, so a few typos spread over a day never
    lock anybody out. Counting and locking are conditional ``UPDATE`` statements, so concurrent
    failures are all counted (no read-then-write).
    """
    await _ensure_rows(session, keys, now)
    await session.execute(
        sa.update(LoginThrottle)
        .where(LoginThrottle.key.in_(keys))
        .values(**_count_one(now, policy))
        .execution_options(synchronize_session=False)
    )
    return await _lock_exhausted(session, keys, now, policy)


async def reserve(session: AsyncSession, keys: list[str], now: datetime, policy: ThrottlePolicy) -> bool:
    """Take one of the policy's attempts on every key, or none: False when a key has none left.

    The attempt is counted as a failure *before* the password is checked, in one conditional
    ``UPDATE`` per key that only succeeds while the key is unlocked and under the limit. The
    database serialises concurrent ``UPDATE`` s of one row (PostgreSQL re-checks the condition
    after waiting for the row lock; SQLite has one writer), so no more than ``max_failures``
    attempts per key can ever hold a reservation in one window.
    """
    await _ensure_rows(session, keys, now)
    not_locked = sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now)
    taken: list[str] = []
    for key in keys:
        count = await _rowcount(
            session,
            sa.update(LoginThrottle)
            .where(
                LoginThrottle.key == key,
                not_locked,
                sa.or_(_window_over(now, policy), LoginThrottle.failures < policy.max_failures),
            )
            .values(**_count_one(now, policy))
            .execution_options(synchronize_session=False),
        )
        if count != 1:
            await _give_back(session, taken)
            return False
        taken.append(key)
    return True


async def _give_back(session: AsyncSession, keys: list[str]) -> None:
    """Undo a reservation on ``keys`` (the attempt was refused on another key, or succeeded)."""
    if keys:
        await session.execute(
            sa.update(LoginThrottle)
            .where(LoginThrottle.key.in_(keys), LoginThrottle.failures > 0)
            .values(failures=LoginThrottle.failures - 1)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """The outcome of :func:`attempt`: the checked result, or the lock that refused it."""

    result: T | None
    locked_until: datetime | None


async def attempt(
    session: AsyncSession,
    keys: list[str],
    now: datetime,
    policy: ThrottlePolicy,
    check: Callable[[], Awaitable[T | None]],
) -> Attempt[T]:
    """One throttled login: lock check, reservation, ``check()``, then the lock check again.

    ``check`` verifies the password and returns the user (or None). It is called only when the
    lock is not in force *and* an attempt could be reserved, so ``max_failures`` concurrent
    wrong passwords are the most that are ever checked per key and window. The reservation is
    committed before ``check`` runs: the row lock (PostgreSQL) or write lock (SQLite) is held
    for one statement, never across the slow password hash. The caller commits the outcome.
    """
    fallback_end = now + policy.lock_for
    if lock := await locked_until(session, keys, now):
        return Attempt(None, lock)
    if not await reserve(session, keys, now, policy):
        await session.commit()
        return Attempt(None, await locked_until(session, keys, now) or fallback_end)
    await session.commit()
    result = await check()
    if result is None:
        return Attempt(None, await _lock_exhausted(session, keys, now, policy))
    if lock := await locked_until(session, keys, now):  # locked by a concurrent burst meanwhile
        return Attempt(None, lock)
    await clear(session, keys[0])
    await _give_back(session, keys[1:])
    return Attempt(result, None)


async def clear(session: AsyncSession, key: str) -> None:
    """Forget the failures of one key (the account, after a successful login)."""
    await session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key == key))
