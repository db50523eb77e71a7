"""``feedback worker`` as real processes against the fake Twilio: SIGKILL mid-batch, and 4 workers.

The fake runs in the test process and records every create POST, so "sent exactly once" is
counted at the provider. The workers run the real CLI (``python -m feedback worker``) with the
real twilio client; their clock is the development clock (``dev_clock`` row), set to the next
Swedish working day at 10:00 so the send window is open whatever the real time is.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.devtools import clock as devclock
from notifications.models import SmsOutbox
from notifications.phone import PhoneVault
from notifications.testing.bulk import insert_rows, outbox_rows
from notifications.testing.fake_twilio import FakeTwilio, Fault

ROOT = Path(__file__).resolve().parents[2]


class Env:
    """The database, the dev-clock offset shared by the fake and the workers, and the fake."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        real = datetime.now(UTC)
        self.start = devclock.next_weekday_at(real)  # a working day, 10:00 Stockholm
        self.offset = self.start - real
        self.fake = FakeTwilio(now=self.now).start()
        self.processes: list[subprocess.Popen[bytes]] = []

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    async def _run(self, fn) -> object:  # type: ignore[no-untyped-def]
        engine = create_engine(self.settings.database_url)
        try:
            async with session_factory(engine)() as session:
                result = await fn(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    def sql(self, fn) -> object:  # type: ignore[no-untyped-def]
        return asyncio.run(self._run(fn))

    def set_offset(self, offset: timedelta) -> None:
        self.offset = offset
        self.sql(lambda s: devclock.save_offset(s, offset))

    def enqueue(self, count: int, prefix: str) -> None:
        vault = PhoneVault.from_settings(self.settings)
        now = self.now()
        rows = outbox_rows(vault, count, now=now, not_before=now - timedelta(minutes=1), prefix=prefix)
        self.sql(lambda s: insert_rows(s, rows))

    def statuses(self) -> collections.Counter[str]:
        async def read(session):  # type: ignore[no-untyped-def]
            rows = await session.execute(
                sa.select(SmsOutbox.status, sa.func.count()).group_by(SmsOutbox.status)
            )
            return collections.Counter({str(status): n for status, n in rows})

        return self.sql(read)  # type: ignore[return-value]

    def claimed_by(self) -> set[str]:
        async def read(session):  # type: ignore[no-untyped-def]
            return set(await session.scalars(sa.select(SmsOutbox.claimed_by).distinct()))

        return self.sql(read)  # type: ignore[return-value]

    def start_worker(self) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "FEEDBACK_ENV": "development",
            "FEEDBACK_DEV_TOOLS": "1",
            "FEEDBACK_DATABASE_URL": self.settings.database_url,
            "FEEDBACK_SMS_GATEWAY": "fake",
            "FEEDBACK_TWILIO_API_BASE_URL": self.fake.base_url,
            "TWILIO_ACCOUNT_SID": self.fake.account_sid,
            "TWILIO_AUTH_TOKEN": self.fake.auth_token,
            "TWILIO_FROM": "+46700000000",
            "FEEDBACK_PUBLIC_URL": "http://127.0.0.1:9",  # no callbacks in these tests
            "FEEDBACK_SMS_RECONCILE_GRACE_S": "60",
            "FEEDBACK_LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "feedback", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.processes.append(process)
        return process

    def wait_for(self, condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            for process in self.processes:
                if process.poll() not in (None, -signal.SIGKILL, 0):
                    raise AssertionError(f"worker died: {process.stderr.read().decode()[-3000:]}")  # type: ignore[union-attr]
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {what}; statuses {self.statuses()}")

    def stop_workers(self) -> list[int]:
        codes = []
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                codes.append(process.wait(timeout=30))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        self.processes = []
        return codes

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        self.fake.stop()

    def posts_per_body(self) -> collections.Counter[str]:
        """Sends per text. A POST that the SIGKILL cut off before its body arrived carries no
        Body; the fake refuses it with 400 as Twilio would, so it is no send and not counted."""
        return collections.Counter(body for r in self.fake.create_requests() if (body := r.value("Body")))


@pytest.fixture
def env(settings: Settings) -> Iterator[Env]:
    environment = Env(settings)
    environment.set_offset(environment.offset)
    yield environment
    environment.close()


def test_sigkill_mid_batch_then_restart_loses_nothing_and_sends_nothing_twice(env: Env) -> None:
    count = 200
    env.enqueue(count, "crash")
    # Each create is stored at once but answered 50 ms later: the kill lands between POST and record.
    env.fake.fail_next(Fault.delay(0.05), count=10 * count)
    worker = env.start_worker()
    env.wait_for(lambda: len(env.fake.messages) >= 30, 60, "the first sends")
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    env.processes.remove(worker)
    posted_before_kill = len(env.fake.create_requests())
    statuses = env.statuses()
    assert statuses["sending"] > 0, statuses  # killed mid-batch: claimed rows not recorded
    assert 30 <= posted_before_kill < count
    env.fake.clear_faults()

    # Restart after the 120 s lease: expired leases → unknown → reconciler asks the fake.
    env.set_offset(env.offset + timedelta(seconds=400))
    env.start_worker()
    env.wait_for(lambda: env.statuses()["sent"] == count, 60, "every message sent")
    assert env.stop_workers() == [0]  # SIGTERM: graceful

    per_body = env.posts_per_body()
    assert len(per_body) == count  # no message lost
    assert max(per_body.values()) == 1, [b for b, n in per_body.items() if n > 1]  # none twice
    assert len(env.fake.messages) == count
    assert env.statuses() == collections.Counter({"sent": count})


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_four_worker_processes_on_postgresql_send_each_message_exactly_once(env: Env) -> None:
    count = 2000
    env.enqueue(count, "many")
    for _ in range(4):
        env.start_worker()
    env.wait_for(lambda: env.statuses()["sent"] == count, 120, "every message sent")
    assert env.stop_workers() == [0, 0, 0, 0]
    per_body = env.posts_per_body()
    assert len(per_body) == count and set(per_body.values()) == {1}
    assert len(env.claimed_by()) >= 2  # the work really was shared between processes
