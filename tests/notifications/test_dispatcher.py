"""The dispatcher's state machine on SQLite and PostgreSQL, with a scripted in-memory gateway."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback.core.clock import FrozenClock
from feedback.core.db import create_engine, session_factory
from notifications import optout, outbox
from notifications.dispatcher import DispatchConfig, Dispatcher, TokenBucket, claim
from notifications.errors import (
    OptedOutSendError,
    PermanentSendError,
    RetryableSendError,
    UnknownOutcomeError,
)
from notifications.models import OptOutAction, OutboxStatus, SmsOptOutEvent, SmsOutbox
from notifications.phone import PhoneVault
from tests.notifications.support import RecordingHandler, ScriptedGateway

TUESDAY_11_LOCAL = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
NUMBER = "+46701234567"


@dataclass
class Rig:
    dispatcher: Dispatcher
    gateway: ScriptedGateway
    handler: RecordingHandler
    clock: FrozenClock
    sessionmaker: object
    settings: object
    vault: PhoneVault

    async def enqueue(self, key: str, to: str = NUMBER, **kwargs: object):
        async with self.sessionmaker() as session:
            message_id = await outbox.enqueue(
                session,
                idempotency_key=key,
                to_e164=to,
                body=kwargs.pop("body", f"Hej! Meddelande {key}."),
                vault=self.vault,
                now=self.clock.now(),
                **kwargs,
            )
            await session.commit()
        return message_id

    async def row(self, message_id) -> SmsOutbox:
        async with self.sessionmaker() as session:
            return await session.get(SmsOutbox, message_id)


@pytest.fixture
async def rig(settings) -> AsyncIterator[Rig]:
    engine = create_engine(settings.database_url)
    sessionmaker = session_factory(engine)
    gateway, handler = ScriptedGateway(), RecordingHandler()
    clock = FrozenClock(TUESDAY_11_LOCAL)
    vault = PhoneVault.from_settings(settings)
    dispatcher = Dispatcher(
        sessionmaker=sessionmaker,
        gateway=gateway,
        handler=handler,
        vault=vault,
        config=DispatchConfig(
            public_url="http://testserver.local", reconcile_grace_s=600, reconcile_max_checks=3
        ),
        clock=clock,
        worker_id="w1",
        rng=random.Random(1),
    )
    yield Rig(dispatcher, gateway, handler, clock, sessionmaker, settings, vault)
    await engine.dispose()


async def test_success_records_sid_and_callback_url_carries_outbox_id(rig: Rig) -> None:
    message_id = await rig.enqueue("a")
    stats = await rig.dispatcher.run_once()
    assert stats.sent == 1
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.SENT
    assert row.provider_sid == rig.gateway.accepted[message_id].provider_sid
    assert row.attempts == 1 and row.lease_until is None
    assert rig.gateway.calls[0].to_e164 == NUMBER
    assert (
        rig.gateway.calls[0].status_callback_url
        == f"http://testserver.local/webhooks/twilio/status?o={message_id}"
    )
    assert (await rig.dispatcher.run_once()).claimed == 0
    assert len(rig.gateway.calls) == 1


@pytest.mark.parametrize(("code", "kind"), [(21614, "failed"), (21211, "failed"), (30003, "unreachable")])
async def test_permanent_error_fails_once_and_tells_the_owner(rig: Rig, code: int, kind: str) -> None:
    rig.gateway.script[NUMBER] = [PermanentSendError(code)]
    message_id = await rig.enqueue("p", owner_ref="conversation:1")
    await rig.dispatcher.run_once()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.FAILED and row.last_error_code == code
    assert row.final_at == TUESDAY_11_LOCAL
    assert [(p.kind, p.owner_ref, p.error_code) for p in rig.handler.problems] == [
        (kind, "conversation:1", code)
    ]
    rig.clock.advance(timedelta(days=1))
    await rig.dispatcher.run_once()
    assert rig.gateway.sends_for(message_id) == 1


async def test_21610_records_opt_out_and_skips_other_pending_messages(rig: Rig) -> None:
    rig.gateway.script[NUMBER] = [OptedOutSendError()]
    first = await rig.enqueue("o1", owner_ref="c:1")
    later = await rig.enqueue("o2", not_before=TUESDAY_11_LOCAL + timedelta(days=30))
    await rig.dispatcher.run_once()
    assert (await rig.row(first)).status == OutboxStatus.FAILED
    assert (await rig.row(later)).status == OutboxStatus.SKIPPED
    index = rig.vault.blind_index(NUMBER)
    async with rig.sessionmaker() as session:
        events = await optout.history(session, index)
    assert [(e.action, e.source) for e in events] == [("opt_out", "twilio_21610")]
    assert rig.handler.opt_outs == [index]
    assert [p.kind for p in rig.handler.problems] == ["opted_out"]
    rig.clock.advance(timedelta(days=31))
    await rig.dispatcher.run_once()
    assert len(rig.gateway.calls) == 1


async def test_retryable_error_backs_off_inside_window_then_sends(rig: Rig) -> None:
    rig.gateway.script[NUMBER] = [RetryableSendError(20429)]
    message_id = await rig.enqueue("r")
    await rig.dispatcher.run_once()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.RETRY and row.attempts == 1
    # full jitter for attempt 1: at most base·2 = 60 s later
    assert TUESDAY_11_LOCAL <= row.not_before <= TUESDAY_11_LOCAL + timedelta(seconds=60)
    assert row.last_error_code == 20429
    rig.clock.set(row.not_before - timedelta(microseconds=1))
    if row.not_before > TUESDAY_11_LOCAL:
        assert (await rig.dispatcher.run_once()).claimed == 0
    rig.clock.set(row.not_before)
    await rig.dispatcher.run_once()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.SENT and row.attempts == 2
    assert rig.gateway.sends_for(message_id) == 2  # exactly one POST per attempt


async def test_retry_backoff_lands_in_next_window(rig: Rig) -> None:
    rig.clock.set(datetime(2026, 11, 24, 17, 59, 50, tzinfo=UTC))  # 18:59:50 local
    rig.dispatcher.config = DispatchConfig(backoff_base_s=3600, backoff_cap_s=3600)
    rig.dispatcher.rng = random.Random(3)
    rig.gateway.script[NUMBER] = [RetryableSendError(503)]
    message_id = await rig.enqueue("rw")
    await rig.dispatcher.run_once()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.RETRY
    # Any positive delay from 18:59:50 local crosses 19:00, so the retry waits for 09:00 next day.
    assert row.not_before == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


async def test_max_attempts_goes_dead_and_tells_owner(rig: Rig) -> None:
    rig.gateway.script[NUMBER] = [RetryableSendError(503), RetryableSendError(503)]
    message_id = await rig.enqueue("d", max_attempts=2, owner_ref="c:2")
    for _ in range(2):
        await rig.dispatcher.run_once()
        rig.clock.advance(timedelta(minutes=5))
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.DEAD and row.attempts == 2
    assert [p.kind for p in rig.handler.problems] == ["dead"]
    rig.clock.advance(timedelta(days=1))
    await rig.dispatcher.run_once()
    assert rig.gateway.sends_for(message_id) == 2


async def test_unknown_outcome_is_never_resent_and_reconciler_finds_it(rig: Rig) -> None:
    rig.gateway.script[NUMBER] = [("accepted_then", UnknownOutcomeError(detail="read timeout"))]
    message_id = await rig.enqueue("u")
    await rig.dispatcher.run_once()
    assert (await rig.row(message_id)).status == OutboxStatus.UNKNOWN
    rig.clock.advance(timedelta(hours=2))
    await rig.dispatcher.run_once()
    assert rig.gateway.sends_for(message_id) == 1
    await rig.dispatcher.reconcile()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.SENT
    assert row.provider_sid == rig.gateway.accepted[message_id].provider_sid
    assert rig.gateway.sends_for(message_id) == 1


async def test_unknown_not_at_provider_is_retried_only_after_grace(rig: Rig) -> None:
    rig.gateway.script[NUMBER] = [UnknownOutcomeError(detail="connection dropped")]
    message_id = await rig.enqueue("g")
    await rig.dispatcher.run_once()
    await rig.dispatcher.reconcile()  # inside the grace period: "not found" is not trusted yet
    assert (await rig.row(message_id)).status == OutboxStatus.UNKNOWN
    rig.clock.advance(timedelta(seconds=601))
    await rig.dispatcher.reconcile()
    assert (await rig.row(message_id)).status == OutboxStatus.RETRY
    await rig.dispatcher.run_once()
    assert (await rig.row(message_id)).status == OutboxStatus.SENT
    assert rig.gateway.sends_for(message_id) == 2


async def test_provider_that_cannot_tell_leads_to_needs_review(rig: Rig) -> None:
    rig.gateway.script[NUMBER] = [UnknownOutcomeError(detail="timeout")]
    rig.gateway.find_errors = 10
    message_id = await rig.enqueue("n", owner_ref="c:3")
    await rig.dispatcher.run_once()
    for _ in range(3):
        await rig.dispatcher.reconcile()
        rig.clock.advance(timedelta(minutes=6))
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.NEEDS_REVIEW
    assert [p.kind for p in rig.handler.problems] == ["needs_review"]
    assert rig.gateway.find_calls == 3
    assert rig.gateway.sends_for(message_id) == 1


async def test_expired_lease_becomes_unknown_not_queued(rig: Rig) -> None:
    message_id = await rig.enqueue("l")
    async with rig.sessionmaker() as session:
        claimed = await claim(session, "dead-worker", 10, timedelta(seconds=60), now=rig.clock.now())
        await session.commit()
    assert [m.id for m in claimed] == [message_id]
    rig.clock.advance(timedelta(seconds=30))
    await rig.dispatcher.run_once()  # lease still valid: row untouched, not claimed twice
    assert (await rig.row(message_id)).status == OutboxStatus.SENDING
    rig.clock.advance(timedelta(seconds=31))
    await rig.dispatcher.run_once()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.UNKNOWN and "avbröts" in row.last_error_reason
    assert rig.gateway.calls == []


async def test_stopp_skips_pending_and_start_undoes_for_new_messages(rig: Rig) -> None:
    pending = await rig.enqueue("s1")
    index = rig.vault.blind_index(NUMBER)
    async with rig.sessionmaker() as session:
        await optout.record_opt_out(session, index, source="keyword", at=rig.clock.now())
        await session.commit()
    await rig.dispatcher.run_once()
    assert (await rig.row(pending)).status == OutboxStatus.SKIPPED
    assert rig.gateway.calls == []
    async with rig.sessionmaker() as session:
        await optout.record_opt_in(
            session, index, source="keyword", at=rig.clock.now() + timedelta(seconds=1)
        )
        await session.commit()
    rig.clock.advance(timedelta(seconds=2))
    after = await rig.enqueue("s2")
    await rig.dispatcher.run_once()
    assert (await rig.row(after)).status == OutboxStatus.SENT
    assert (await rig.row(pending)).status == OutboxStatus.SKIPPED  # no silent re-send of old ones
    assert [c.outbox_id for c in rig.gateway.calls] == [after]


async def test_opt_out_is_checked_again_at_claim_time(rig: Rig) -> None:
    message_id = await rig.enqueue("race")
    async with rig.sessionmaker() as session:  # a ledger row written without the usual skip step
        session.add(
            SmsOptOutEvent(
                phone_index=rig.vault.blind_index(NUMBER),
                action=OptOutAction.OPT_OUT,
                source="admin",
                at=rig.clock.now(),
            )
        )
        await session.commit()
    stats = await rig.dispatcher.run_once()
    assert stats.skipped == 1
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.SKIPPED and row.attempts == 0
    assert rig.gateway.calls == []


@pytest.mark.parametrize(
    ("now", "next_window"),
    [
        (datetime(2026, 11, 24, 20, 0, tzinfo=UTC), datetime(2026, 11, 25, 8, 0, tzinfo=UTC)),  # 21:00 local
        (datetime(2026, 12, 24, 9, 0, tzinfo=UTC), datetime(2026, 12, 28, 8, 0, tzinfo=UTC)),  # julafton
        (datetime(2026, 6, 19, 9, 0, tzinfo=UTC), datetime(2026, 6, 22, 7, 0, tzinfo=UTC)),  # midsommarafton
        (datetime(2026, 3, 27, 18, 30, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),  # DST weekend
        (datetime(2026, 10, 23, 17, 30, tzinfo=UTC), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),  # DST back
    ],
)
async def test_outside_window_nothing_is_sent_until_next_window(
    rig: Rig, now: datetime, next_window: datetime
) -> None:
    rig.clock.set(now)
    message_id = await rig.enqueue("w")
    stats = await rig.dispatcher.run_once()
    assert stats.postponed == 1 and rig.gateway.calls == []
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.QUEUED and row.not_before == next_window and row.attempts == 0
    rig.clock.set(next_window - timedelta(seconds=1))
    assert (await rig.dispatcher.run_once()).claimed == 0
    rig.clock.set(next_window)
    await rig.dispatcher.run_once()
    assert (await rig.row(message_id)).status == OutboxStatus.SENT
    assert len(rig.gateway.calls) == 1


async def test_conversation_reply_may_go_out_in_the_evening_but_not_at_night(rig: Rig) -> None:
    rig.clock.set(datetime(2026, 11, 28, 19, 0, tzinfo=UTC))  # Saturday 20:00 local
    evening = await rig.enqueue("c1", conversation_exempt=True)
    ordinary = await rig.enqueue("c2")
    await rig.dispatcher.run_once()
    assert (await rig.row(evening)).status == OutboxStatus.SENT
    assert (await rig.row(ordinary)).status == OutboxStatus.QUEUED
    rig.clock.set(datetime(2026, 11, 28, 20, 30, tzinfo=UTC))  # 21:30 local
    night = await rig.enqueue("c3", conversation_exempt=True)
    await rig.dispatcher.run_once()
    row = await rig.row(night)
    assert row.status == OutboxStatus.QUEUED and row.not_before == datetime(2026, 11, 29, 7, 0, tzinfo=UTC)


async def test_a_callback_that_arrived_first_is_not_undone(rig: Rig) -> None:
    message_id = await rig.enqueue("cb")
    original_send = rig.gateway.send

    async def send_and_callback(message):
        result = await original_send(message)
        async with rig.sessionmaker() as session:  # what the status webhook does meanwhile
            await session.execute(
                sa.update(SmsOutbox)
                .where(SmsOutbox.id == message.outbox_id)
                .values(
                    status=OutboxStatus.DELIVERED,
                    provider_sid=result.provider_sid,
                    provider_status="delivered",
                )
            )
            await session.commit()
        return result

    rig.gateway.send = send_and_callback  # type: ignore[method-assign]
    await rig.dispatcher.run_once()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.DELIVERED and row.provider_status == "delivered"
    assert row.sent_at is not None and row.lease_until is None


async def test_stop_releases_claimed_rows_not_yet_sent(rig: Rig) -> None:
    ids = [await rig.enqueue(f"stop{i}", to=f"+4670123456{i}") for i in range(5)]
    stop = asyncio.Event()
    rig.dispatcher.stop = stop
    rig.dispatcher.config = DispatchConfig(concurrency=1)
    original_send = rig.gateway.send

    async def send_then_stop(message):
        stop.set()  # SIGTERM arrives while the first message is in flight
        return await original_send(message)

    rig.gateway.send = send_then_stop  # type: ignore[method-assign]
    stats = await rig.dispatcher.run_once()
    assert (stats.sent, stats.released) == (1, 4)
    rows = [await rig.row(i) for i in ids]
    assert [r.status for r in rows].count(OutboxStatus.SENT) == 1
    released = [r for r in rows if r.status == OutboxStatus.QUEUED]
    assert len(released) == 4
    assert all(r.attempts == 0 and r.lease_until is None and r.claimed_by is None for r in released)


async def test_future_rows_are_not_claimed(rig: Rig) -> None:
    await rig.enqueue("f", not_before=TUESDAY_11_LOCAL + timedelta(days=30))
    assert (await rig.dispatcher.run_once()).claimed == 0
    assert rig.gateway.calls == []


async def test_token_bucket_limits_segments_per_second() -> None:
    clock = {"t": 0.0}
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock["t"] += seconds

    bucket = TokenBucket(2.0, monotonic=lambda: clock["t"], sleep=fake_sleep)
    for _ in range(4):
        await bucket.acquire(2)  # a two-segment message each
    assert sum(slept) == pytest.approx(3.0)  # 8 segments at 2/s with a 2-segment burst
    off = TokenBucket(0.0, monotonic=lambda: clock["t"], sleep=fake_sleep)
    slept.clear()
    for _ in range(100):
        await off.acquire(5)
    assert slept == []
