"""Login throttling: 5 failures lock an account or a client for 15 minutes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import throttle
from feedback.auth.models import LoginThrottle, Role
from feedback.core.clock import FrozenClock
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from tests.helpers import PASSWORD, form_post, make_unit, make_user

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
POLICY = throttle.ThrottlePolicy(max_failures=5, lock_for=timedelta(minutes=15))


async def test_account_locks_after_five_failures_from_any_client(db_session: AsyncSession) -> None:
    for i in range(4):
        assert (
            await throttle.record_failure(
                db_session, throttle.throttle_keys("a@x.se", f"10.0.0.{i}"), T0, POLICY
            )
            is None
        )
    assert await throttle.locked_until(db_session, throttle.throttle_keys("a@x.se", "10.0.0.9"), T0) is None
    lock = await throttle.record_failure(
        db_session, throttle.throttle_keys("A@x.se ", "10.0.0.5"), T0, POLICY
    )
    assert lock == T0 + timedelta(minutes=15)
    # Locked from a client that never failed, and for the e-mail in any letter case.
    assert await throttle.locked_until(db_session, throttle.throttle_keys("a@X.se", "10.9.9.9"), T0) == lock
    assert await throttle.locked_until(db_session, ["account:a@x.se"], T0 + timedelta(minutes=15)) is None


async def test_client_locks_after_five_failures_on_any_accounts(db_session: AsyncSession) -> None:
    for i in range(5):
        await throttle.record_failure(
            db_session, throttle.throttle_keys(f"u{i}@x.se", "10.1.1.1"), T0, POLICY
        )
    assert await throttle.locked_until(db_session, throttle.throttle_keys("other@x.se", "10.1.1.1"), T0)
    assert (
        await throttle.locked_until(db_session, throttle.throttle_keys("other@x.se", "10.1.1.2"), T0) is None
    )


async def test_old_failures_are_forgotten(db_session: AsyncSession) -> None:
    keys = throttle.throttle_keys("slow@x.se", None)
    for i in range(8):
        # One typo every 20 minutes never adds up to a lock.
        assert await throttle.record_failure(db_session, keys, T0 + timedelta(minutes=20 * i), POLICY) is None


def _app(settings: Settings, clock: FrozenClock):
    return create_app(settings, Collaborators(clock=clock))


async def test_sixth_attempt_is_refused_even_with_the_right_password(
    settings: Settings, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    clock = FrozenClock(T0)
    async with AsyncTestClient(app=_app(settings, clock), base_url="http://testserver.local") as client:
        statuses = []
        for _ in range(5):
            response = await form_post(client, "/login", {"email": user.email, "password": "fel-losenord"})
            statuses.append(response.status_code)
        assert statuses == [400, 400, 400, 400, 429]
        response = await form_post(client, "/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 429
        assert "För många misslyckade inloggningar" in response.text
        assert "spärrad i 15 minuter" in response.text
        assert (await client.get("/", follow_redirects=False)).status_code == 303  # not signed in

        clock.advance(timedelta(minutes=15, seconds=1))
        response = await form_post(
            client, "/login", {"email": user.email, "password": PASSWORD}, follow_redirects=False
        )
        assert response.status_code == 303
        assert (await client.get("/")).status_code == 200


async def test_success_clears_the_account_counter_but_not_the_client_counter(
    settings: Settings, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.CASEWORKER, [unit])
    async with AsyncTestClient(
        app=_app(settings, FrozenClock(T0)), base_url="http://testserver.local"
    ) as client:
        for _ in range(2):
            assert (
                await form_post(client, "/login", {"email": user.email, "password": "nej"})
            ).status_code == 400
        ok = await form_post(
            client, "/login", {"email": user.email, "password": PASSWORD}, follow_redirects=False
        )
        assert ok.status_code == 303
    rows = {r.key: r.failures for r in await db_session.scalars(sa.select(LoginThrottle))}
    # Logging in to one's own account must not wipe the per-client count (that would let a
    # password sprayer reset the limit with an account of their own).
    assert rows == {"client:testclient": 2}


# ---------------------------------------------------------------- concurrency (issue 20, item 2)
async def _burst(settings: Settings, keys_for: Any, n: int, check: Any) -> list[throttle.Attempt[Any]]:
    """``n`` concurrent attempts, each on its own session (its own connection), committed."""
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)

    async def one(i: int) -> throttle.Attempt[Any]:
        async with sessions() as session:
            outcome = await throttle.attempt(session, keys_for(i), T0, POLICY, check)
            await session.commit()
            return outcome

    try:
        return list(await asyncio.gather(*(one(i) for i in range(n))))
    finally:
        await engine.dispose()


async def test_fifty_concurrent_wrong_passwords_get_at_most_five_checks(
    settings: Settings, db_session: AsyncSession
) -> None:
    checks = 0

    async def wrong_password() -> None:
        nonlocal checks
        checks += 1
        for _ in range(3):  # let the other attempts run while "argon2" works
            await asyncio.sleep(0)
        return None

    # Each attempt from its own client address, as in the attack (X-Forwarded-For per request).
    outcomes = await _burst(
        settings, lambda i: throttle.throttle_keys("burst@x.se", f"10.2.0.{i}"), 50, wrong_password
    )

    assert checks <= POLICY.max_failures
    assert all(o.result is None for o in outcomes)
    assert sum(o.locked_until is not None for o in outcomes) >= 50 - POLICY.max_failures
    row = await db_session.get(LoginThrottle, "account:burst@x.se")
    assert row is not None and row.locked_until == T0 + POLICY.lock_for
    assert row.failures == checks == POLICY.max_failures
    assert await throttle.locked_until(db_session, throttle.throttle_keys("burst@x.se", "10.3.3.3"), T0)


async def test_right_password_during_a_burst_is_refused_once_locked(
    settings: Settings, db_session: AsyncSession
) -> None:
    checks = 0

    async def wrong_then_right() -> str | None:
        nonlocal checks
        checks += 1
        await asyncio.sleep(0)
        return "user" if checks == POLICY.max_failures else None

    outcomes = await _burst(
        settings, lambda i: throttle.throttle_keys("mix@x.se", f"10.4.0.{i}"), 20, wrong_then_right
    )
    # The right password came after four failures: either it got in or, if the burst locked the
    # account while it was being checked, it was refused (attempt() checks the lock again).
    winners = [o for o in outcomes if o.result is not None]
    locked = await throttle.locked_until(db_session, ["account:mix@x.se"], T0)
    assert len(winners) <= 1
    # A success resets the account's counter (as a login always does), so attempts of the burst
    # that reserve after it get a new allowance: at most max_failures checks per window between
    # successes. Without a winner the burst never gets more than max_failures checks, and a lock
    # after a win can only come from that new allowance being used up.
    assert checks <= POLICY.max_failures * (1 + len(winners))
    assert not (winners and locked) or checks > POLICY.max_failures


async def test_success_clears_the_account_and_gives_back_the_client_attempt(db_session: AsyncSession) -> None:
    keys = throttle.throttle_keys("ok@x.se", "10.5.5.5")
    await throttle.record_failure(db_session, keys, T0, POLICY)

    async def right() -> str:
        return "user"

    outcome = await throttle.attempt(db_session, keys, T0, POLICY, right)
    await db_session.commit()
    assert outcome == throttle.Attempt("user", None)
    assert await db_session.get(LoginThrottle, keys[0], populate_existing=True) is None
    client = await db_session.get(LoginThrottle, keys[1], populate_existing=True)
    assert client is not None and client.failures == 1


async def test_attempt_locks_after_the_fifth_failure_then_refuses_without_checking(
    db_session: AsyncSession,
) -> None:
    keys = throttle.throttle_keys("seq@x.se", None)
    checks = 0

    async def wrong() -> None:
        nonlocal checks
        checks += 1

    ends = []
    for _ in range(7):
        outcome: throttle.Attempt[None] = await throttle.attempt(db_session, keys, T0, POLICY, wrong)
        await db_session.commit()
        ends.append(outcome.locked_until)
    assert checks == 5
    assert ends == [None] * 4 + [T0 + POLICY.lock_for] * 3
    # After the lock period the window starts afresh.
    outcome = await throttle.attempt(db_session, keys, T0 + POLICY.lock_for, POLICY, wrong)
    assert outcome.locked_until is None and checks == 6
