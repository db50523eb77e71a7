"""The lock helpers: what counts as "database is locked", and how a retry re-runs the whole work."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

from feedback.core.dblock import RetryPolicy, is_lock_error, retry_on_lock


def _locked() -> sa_exc.OperationalError:
    return sa_exc.OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))


def test_lock_errors_are_recognised_in_every_wrapping() -> None:
    assert is_lock_error(_locked())
    assert is_lock_error(sqlite3.OperationalError("database is locked"))
    try:
        try:
            raise _locked()
        except sa_exc.OperationalError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert is_lock_error(outer)
    assert not is_lock_error(sqlite3.OperationalError("no such table: closure"))
    assert not is_lock_error(ValueError("database is locked"))  # not a database error
    assert not is_lock_error(None)


async def test_retry_re_runs_until_the_lock_is_free_and_backs_off() -> None:
    calls, pauses = [], []

    async def work() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _locked()
        return "klart"

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    policy = RetryPolicy(attempts=5, base_delay_s=0.1, max_delay_s=1.0)
    assert await retry_on_lock(work, what="test", policy=policy, sleep=sleep) == "klart"
    assert len(calls) == 3 and len(pauses) == 2
    assert 0.05 <= pauses[0] <= 0.1 and 0.1 <= pauses[1] <= 0.2  # exponential, with jitter


async def test_the_budget_ends_with_the_lock_error_and_other_errors_pass_at_once() -> None:
    calls = []

    async def locked() -> None:
        calls.append(1)
        raise _locked()

    async def no_sleep(_: float) -> None:
        return None

    with pytest.raises(sa_exc.OperationalError):
        await retry_on_lock(locked, what="test", policy=RetryPolicy(attempts=3), sleep=no_sleep)
    assert len(calls) == 3

    async def broken() -> None:
        calls.append(1)
        raise ValueError("fel")

    calls.clear()
    with pytest.raises(ValueError):
        await retry_on_lock(broken, what="test", policy=RetryPolicy(attempts=3), sleep=no_sleep)
    assert len(calls) == 1
