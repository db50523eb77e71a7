"""``feedback serve --with-worker`` killed twice mid-dispatch: nothing lost, nothing twice, no ``unknown``.

Why this test: issue 20 found 156 of 732 rows stuck in ``unknown`` forever after two ``kill -9``
of the web process with its in-app worker. The reconciler matched the provider's messages by
number and text, so two identical texts to one number both claimed the same provider id, the
unique constraint failed, and that row blocked the rest every minute. Here the real CLI process
runs against the fake Twilio (which records every create, so sends are counted at the provider),
is SIGKILLed twice while sends are in flight, and is restarted; then every outbox row must have
reached the fake exactly once and be linked to its own provider message (or, if the provider
cannot tell, be handed to a person as ``needs_review``) - never left ``unknown``.

Kills wait on conditions (rows sent at the fake and rows still ``sending``), never on speed: the
fake can hold creates open (stored, but answered only after the client's 10 s timeout), so the
process is mid-dispatch when it is killed. The two identical texts to one number are held in the
first run, so both are stored at the fake while the database has not linked either: exactly the
collision the reconciler must resolve.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback.core import heartbeat
from feedback.core.settings import Settings
from notifications.models import SmsOutbox
from notifications.phone import PhoneVault
from notifications.testing.bulk import insert_rows, outbox_rows, sample_number
from notifications.testing.fake_twilio import FakeTwilio, Fault
from tests.e2e.support import free_port
from tests.notifications.test_worker_processes import ROOT, Env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

COUNT = 300  # distinct texts, one per number
DUPLICATE_TO = sample_number(4_000)  # the number that gets two identical texts
HOLD_S = 30.0  # longer than the gateway's 10 s timeout: a held create is "sent, answer lost"
LEASE_JUMP = timedelta(seconds=400)  # past the 120 s lease, so a restart sees the dead claims
FINAL = {"sent", "needs_review"}


class HoldingFake(FakeTwilio):
    """The fake Twilio, plus numbers whose creates are always held (stored, answered late).

    Held numbers take precedence over the ``fail_next`` queue, so the duplicate texts are held
    whichever position their creates have among the others.
    """

    held: frozenset[str] = frozenset()

    def _take_fault(self, to: str | None) -> Fault | None:
        if to in self.held:
            return Fault.delay(HOLD_S)
        return super()._take_fault(to)


class ServeEnv(Env):
    """:class:`Env` with the web process (``serve --with-worker``) instead of ``feedback worker``."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        super().__init__(settings)
        self.fake.stop()
        self.fake = HoldingFake(now=self.now).start()
        self.workdir = workdir
        self.logs: list[Path] = []

    def start_serve(self) -> subprocess.Popen[bytes]:
        port = free_port()
        env = {
            **os.environ,
            "FEEDBACK_ENV": "development",
            "FEEDBACK_DEV_TOOLS": "1",  # the dev clock: the send window is open whatever the time
            "FEEDBACK_DATABASE_URL": self.settings.database_url,
            "FEEDBACK_MODEL_DIR": str(self.workdir / "models"),
            "FEEDBACK_SMS_GATEWAY": "fake",
            "FEEDBACK_TWILIO_API_BASE_URL": self.fake.base_url,
            "TWILIO_ACCOUNT_SID": self.fake.account_sid,
            "TWILIO_AUTH_TOKEN": self.fake.auth_token,
            "TWILIO_FROM": "+46700000000",
            # Status callback URLs carry the outbox id (?o=...): the fake's record of who was sent.
            "FEEDBACK_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "FEEDBACK_SMS_RECONCILE_GRACE_S": "60",
            "FEEDBACK_LOG_LEVEL": "WARNING",
            "FEEDBACK_LOG_JSON": "0",
            "FEEDBACK_COOKIE_SECURE": "0",
        }
        log_path = self.workdir / f"serve-{len(self.logs)}.log"
        self.logs.append(log_path)
        with log_path.open("wb") as log_file:  # a file, not a pipe: a full pipe would stall the server
            process = subprocess.Popen(
                [sys.executable, "-m", "feedback", "serve", "--with-worker", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.processes.append(process)
        return process

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            for process in self.processes:
                if process.poll() is not None:
                    raise AssertionError(f"serve died: {self.logs[-1].read_text()[-3000:]}")
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {what}; statuses {self.statuses()}")

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        self.processes.remove(process)

    def enqueue_with_duplicates(self) -> None:
        """``COUNT`` distinct texts, then two identical texts to one number, due before the rest."""
        vault = PhoneVault.from_settings(self.settings)
        now = self.now()
        rows = list(outbox_rows(vault, COUNT, now=now, not_before=now - timedelta(minutes=1), prefix="kill"))
        twins = list(outbox_rows(vault, 2, now=now, not_before=now - timedelta(minutes=2), prefix="twin"))
        encrypted, index = vault.encrypt(DUPLICATE_TO), vault.blind_index(DUPLICATE_TO)
        for twin in twins:
            twin.update(to_encrypted=encrypted, to_index=index, body="Hej! Samma text två gånger.")
        self.sql(lambda s: insert_rows(s, iter(rows + twins)))

    def outbox(self) -> list[tuple[uuid.UUID, str, str, str, str | None]]:
        """(id, number, text, status, provider id) of every outbox row."""
        vault = PhoneVault.from_settings(self.settings)

        async def read(session):  # type: ignore[no-untyped-def]
            rows = await session.execute(
                sa.select(
                    SmsOutbox.id,
                    SmsOutbox.to_encrypted,
                    SmsOutbox.body,
                    SmsOutbox.status,
                    SmsOutbox.provider_sid,
                )
            )
            return [(i, vault.decrypt(to), body, str(status), sid) for i, to, body, status, sid in rows]

        return self.sql(read)  # type: ignore[return-value]

    def sends_per_outbox_id(self) -> collections.Counter[str]:
        """Messages the fake created, per outbox id (from each message's status callback URL)."""
        counts: collections.Counter[str] = collections.Counter()
        for message in list(self.fake.messages.values()):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(message.status_callback or "").query)
            counts[(query.get("o") or ["<none>"])[0]] += 1
        return counts

    def quiet_after(self, started: datetime) -> bool:
        """A full worker pass ended after ``started`` and nothing is waiting to be sent."""

        async def beat(session):  # type: ignore[no-untyped-def]
            return await heartbeat.last_success(session, "worker")

        if not (self.statuses().keys() & {"queued", "sending", "retry"}):
            last = self.sql(beat)
            return last is not None and last.replace(tzinfo=last.tzinfo or UTC) > started
        return False

    def in_flight(self, at_least: int) -> bool:
        """At least ``at_least`` messages at the fake and some claimed rows not yet recorded."""
        return len(self.fake.messages) >= at_least and self.statuses()["sending"] > 0


@pytest.fixture
def serve_env(settings: Settings, tmp_path: Path) -> Iterator[ServeEnv]:
    environment = ServeEnv(settings, tmp_path)
    environment.set_offset(environment.offset)
    yield environment
    environment.close()


def test_two_kills_of_serve_with_worker_leave_nothing_lost_twice_or_unknown(serve_env: ServeEnv) -> None:
    env = serve_env
    total = COUNT + 2
    env.enqueue_with_duplicates()

    # First run: every create answered after 50 ms (a kill lands between POST and record), the
    # identical texts held; killed once both are at the fake and claimed rows are unrecorded.
    env.fake.held = frozenset({DUPLICATE_TO})
    env.fake.fail_next(Fault.delay(0.05), count=100 * total)
    first = env.start_serve()
    env.wait_until(
        lambda: len(env.fake.sent_to(DUPLICATE_TO)) == 2 and env.in_flight(30), 240, "the first sends"
    )
    env.kill(first)
    after_first_kill = len(env.fake.messages)
    assert after_first_kill < total

    # Second run, after the lease: dead claims become unknown. 40 creates are answered, then every
    # create is held, so the process is again mid-dispatch when it is killed.
    env.fake.clear_faults()
    env.fake.held = frozenset()
    env.fake.fail_next(Fault.delay(0.05), count=40)
    env.fake.fail_next(Fault.delay(HOLD_S), count=100 * total)
    env.set_offset(env.offset + LEASE_JUMP)
    second = env.start_serve()
    env.wait_until(lambda: env.in_flight(after_first_kill + 40), 240, "sends after the first restart")
    env.kill(second)
    assert len(env.fake.messages) < total  # some rows are still to send

    # Then the fake answers normally. The reconciler asks about a row again only after its
    # check interval (5 min on the clock), so each run is left to finish a full worker pass and
    # the queue to drain, then stopped gracefully and restarted later on the clock, until every
    # row is final. The number of runs is bounded: after ``reconcile_max_checks`` undecided checks
    # a row goes to a person (needs_review), so "unknown forever" fails here.
    env.fake.clear_faults()
    for _ in range(8):
        env.set_offset(env.offset + LEASE_JUMP)
        started = datetime.now(UTC)
        env.start_serve()
        env.wait_until(lambda at=started: env.quiet_after(at), 300, "a worker pass and an empty queue")
        # Graceful: uvicorn shuts down, then re-raises the SIGTERM it caught (not the 30 s SIGKILL).
        assert env.stop_workers() == [-signal.SIGTERM]
        if set(env.statuses()) <= FINAL:
            break

    outbox = env.outbox()
    assert len(outbox) == total
    # Counted at the provider: every outbox row reached the fake exactly once.
    per_id = env.sends_per_outbox_id()
    assert set(per_id) == {str(row[0]) for row in outbox}, "a row never reached the fake"  # 0 lost
    assert set(per_id.values()) == {1}, [i for i, n in per_id.items() if n > 1]  # 0 twice
    assert len(env.fake.sent_to(DUPLICATE_TO)) == 2
    # No row left unknown; each sent row is linked to its own provider message, with its number and text.
    statuses = collections.Counter(row[3] for row in outbox)
    assert set(statuses) <= FINAL, statuses
    # Every text is at the provider and each twin has its own message there, so the reconciler
    # can link them all: a needs_review here would send a person to re-send a delivered text.
    assert statuses == {"sent": total}, statuses
    linked = [row for row in outbox if row[3] == "sent"]
    sids = [row[4] for row in linked]
    assert None not in sids and len(set(sids)) == len(sids), "a provider id linked twice or not at all"
    for _, to, body, _, sid in linked:
        message = env.fake.messages[sid]  # type: ignore[index]
        assert (message.to, message.body) == (to, body)
