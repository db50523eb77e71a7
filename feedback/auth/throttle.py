"""Login throttling: after N failed logins an account *or* a client is locked for a while.

Why two keys: counting per account stops guessing one person's password from many machines;
counting per client stops one machine from trying one password against many accounts. The account
key is the submitted e-mail address whether or not an account exists, so a lock never reveals
which addresses have accounts. Locked attempts are not counted, so an attacker cannot keep a
person locked out for longer than one lock period per burst of failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import LoginThrottle


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


async def _row(session: AsyncSession, key: str, now: datetime) -> LoginThrottle:
    row = await session.get(LoginThrottle, key, populate_existing=True)
    if row is not None:
        return row
    try:
        async with session.begin_nested():
            row = LoginThrottle(key=key, failures=0, first_failure_at=now)
            session.add(row)
    except IntegrityError:  # a concurrent failure created it first
        row = await session.get(LoginThrottle, key, populate_existing=True)
        assert row is not None
    return row


async def record_failure(
    session: AsyncSession, keys: list[str], now: datetime, policy: ThrottlePolicy
) -> datetime | None:
    """Count one failed login on every key; return the lock end when a key is now locked.

    Failures older than one lock period are forgotten, so a few typos spread over a day never
    lock anybody out.
    """
    lock_end: datetime | None = None
    for key in keys:
        row = await _row(session, key, now)
        expired_lock = row.locked_until is not None and row.locked_until <= now
        if expired_lock or row.first_failure_at <= now - policy.lock_for:
            row.failures, row.first_failure_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= policy.max_failures:
            row.locked_until = now + policy.lock_for
            lock_end = max(lock_end or row.locked_until, row.locked_until)
    await session.flush()
    return lock_end


async def clear(session: AsyncSession, key: str) -> None:
    """Forget the failures of one key (the account, after a successful login)."""
    await session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key == key))
