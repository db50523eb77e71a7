"""The dispatcher with the real twilio client (``TwilioGateway``) against the local fake Twilio.

Runs on SQLite and PostgreSQL. Every send is a real HTTP POST the fake records, so "exactly one
POST per attempt" and "no further POST" are counted at the provider, not inferred.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from feedback.core.clock import FrozenClock
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from notifications import outbox
from notifications.dispatcher import DispatchConfig, Dispatcher
from notifications.gateways.twilio import TwilioConfig, TwilioGateway
from notifications.models import OutboxStatus, SmsOutbox
from notifications.phone import PhoneVault
from notifications.testing.fake_twilio import FakeTwilio, Fault
from tests.notifications.support import RecordingHandler
from tests.notifications.test_webhooks import PUBLIC, inbound_params, post_signed

TUESDAY_11_LOCAL = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
NUMBER = "+46701234567"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Rig:
    dispatcher: Dispatcher
    fake: FakeTwilio
    handler: RecordingHandler
    clock: FrozenClock
    sessionmaker: Any
    settings: Settings
    vault: PhoneVault

    async def enqueue(self, key: str, to: str = NUMBER, **kwargs: Any) -> uuid.UUID:
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

    async def row(self, message_id: uuid.UUID) -> SmsOutbox:
        async with self.sessionmaker() as session:
            row = await session.get(SmsOutbox, message_id)
            assert row is not None
            return row

    def posts(self, body: str | None = None) -> int:
        requests = self.fake.create_requests()
        return len(requests) if body is None else sum(1 for r in requests if r.value("Body") == body)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TUESDAY_11_LOCAL)


@pytest.fixture
def fake(clock: FrozenClock) -> Iterator[FakeTwilio]:
    # The fake's message dates follow the test clock, so the reconciler's date filter matches.
    with FakeTwilio(now=clock.now) as server:
        yield server


@pytest.fixture
async def rig(settings: Settings, fake: FakeTwilio, clock: FrozenClock) -> AsyncIterator[Rig]:
    engine = create_engine(settings.database_url)
    sessionmaker = session_factory(engine)
    handler = RecordingHandler()
    vault = PhoneVault.from_settings(settings)
    gateway = TwilioGateway(
        TwilioConfig(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number="+46700000000",
            api_base_url=fake.base_url,
            timeout_s=3.0,  # generous: a loaded CI machine must not turn a reply into a timeout
        )
    )
    dispatcher = Dispatcher(
        sessionmaker=sessionmaker,
        gateway=gateway,
        handler=handler,
        vault=vault,
        config=DispatchConfig(public_url=PUBLIC, reconcile_grace_s=600, reconcile_check_interval_s=0),
        clock=clock,
        worker_id="w1",
        rng=random.Random(3),
    )
    yield Rig(dispatcher, fake, handler, clock, sessionmaker, settings, vault)
    await engine.dispose()


# ------------------------------------------------------------------ error classes
@pytest.mark.parametrize(
    ("fault", "status", "problem"),
    [
        (Fault.error(21211), OutboxStatus.FAILED, "failed"),
        (Fault.error(21614), OutboxStatus.FAILED, "failed"),
        (Fault.error(21610), OutboxStatus.FAILED, "opted_out"),
    ],
)
async def test_permanent_errors_fail_after_one_post(
    rig: Rig, fault: Fault, status: OutboxStatus, problem: str
) -> None:
    rig.fake.fail_next(fault)
    message_id = await rig.enqueue("perm", owner_ref="conv:1")
    await rig.dispatcher.run_once()
    row = await rig.row(message_id)
    assert row.status == status and row.last_error_code == fault.code
    assert [p.kind for p in rig.handler.problems] == [problem]
    rig.clock.advance(timedelta(days=2))
    await rig.dispatcher.run_once()
    await rig.dispatcher.reconcile()
    assert rig.posts() == 1 and rig.fake.messages == {}


@pytest.mark.parametrize("fault", [Fault.error(20429), Fault.error(429), Fault.error(20503)])
async def test_retryable_errors_retry_later_with_one_post_per_attempt(rig: Rig, fault: Fault) -> None:
    rig.fake.fail_next(fault)
    message_id = await rig.enqueue("retry")
    await rig.dispatcher.run_once()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.RETRY and row.attempts == 1 and rig.posts() == 1
    assert row.not_before > TUESDAY_11_LOCAL  # the provider's back-off is respected
    await rig.dispatcher.run_once()
    assert rig.posts() == 1  # not due yet
    rig.clock.set(row.not_before)
    await rig.dispatcher.run_once()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.SENT and row.attempts == 2
    assert rig.posts() == 2 and len(rig.fake.messages) == 1
    assert row.provider_sid in rig.fake.messages


@pytest.mark.parametrize(
    "fault", [Fault.delay(8.0), Fault.drop_after_create(), Fault.error_after_create()], ids=str
)
async def test_unknown_outcome_after_create_is_healed_by_reconciler_without_resend(
    rig: Rig, fault: Fault
) -> None:
    rig.fake.fail_next(fault)
    message_id = await rig.enqueue("unknown")
    await rig.dispatcher.run_once()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.UNKNOWN and rig.posts() == 1
    [created] = rig.fake.messages.values()
    rig.clock.advance(timedelta(hours=2))  # long past the grace period: still never resent
    await rig.dispatcher.run_once()
    assert rig.posts() == 1
    await rig.dispatcher.reconcile()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.SENT and row.provider_sid == created.sid
    await rig.dispatcher.run_once()
    assert rig.posts() == 1 and len(rig.fake.messages) == 1


@pytest.mark.parametrize("fault", [Fault.error(500), Fault.non_json(502)], ids=str)
async def test_unknown_outcome_not_at_provider_is_resent_once_after_grace(rig: Rig, fault: Fault) -> None:
    rig.fake.fail_next(fault)
    message_id = await rig.enqueue("lost")
    await rig.dispatcher.run_once()
    assert (await rig.row(message_id)).status == OutboxStatus.UNKNOWN and rig.posts() == 1
    await rig.dispatcher.reconcile()  # inside the grace period: "not found" is not trusted yet
    assert (await rig.row(message_id)).status == OutboxStatus.UNKNOWN
    rig.clock.advance(timedelta(seconds=601))
    await rig.dispatcher.reconcile()
    assert (await rig.row(message_id)).status == OutboxStatus.RETRY
    await rig.dispatcher.run_once()
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.SENT and rig.posts() == 2 and len(rig.fake.messages) == 1


async def test_status_callback_heals_unknown_before_the_reconciler(rig: Rig) -> None:
    app = create_app(rig.settings, Collaborators(inbound_handler=rig.handler, clock=rig.clock))
    rig.fake.fail_next(Fault.drop_after_create())
    message_id = await rig.enqueue("cb")
    await rig.dispatcher.run_once()
    [created] = rig.fake.messages.values()
    params = rig.fake.status_params(created, "delivered")
    async with AsyncTestClient(app=app, base_url=PUBLIC) as client:
        response = await post_signed(client, rig.settings, f"/webhooks/twilio/status?o={message_id}", params)
    assert response.status_code in (200, 204)
    row = await rig.row(message_id)
    assert row.provider_sid == created.sid and row.status == OutboxStatus.DELIVERED
    rig.clock.advance(timedelta(hours=2))
    await rig.dispatcher.run_once()
    await rig.dispatcher.reconcile()
    assert rig.posts() == 1 and (await rig.row(message_id)).status == OutboxStatus.DELIVERED


# ------------------------------------------------------------------ opt-out through the webhook
async def test_stopp_skips_pending_and_no_further_post_start_undoes_it(rig: Rig) -> None:
    app = create_app(rig.settings, Collaborators(inbound_handler=rig.handler, clock=rig.clock))
    first = await rig.enqueue("s1")
    await rig.dispatcher.run_once()
    assert (await rig.row(first)).status == OutboxStatus.SENT and rig.posts() == 1
    later = await rig.enqueue("s2", not_before=TUESDAY_11_LOCAL + timedelta(days=7))
    async with AsyncTestClient(app=app, base_url=PUBLIC) as client:
        response = await post_signed(client, rig.settings, "/webhooks/twilio/sms", inbound_params("STOPP"))
        assert response.status_code == 200
        assert (await rig.row(later)).status == OutboxStatus.SKIPPED
        # A message enqueued after STOPP is stored as skipped; only the confirmation goes out.
        after_stop = await rig.enqueue("s3")
        await rig.dispatcher.run_until_idle()
        rig.clock.advance(timedelta(days=8))
        await rig.dispatcher.run_until_idle()
        assert (await rig.row(after_stop)).status == OutboxStatus.SKIPPED
        bodies = [r.value("Body") for r in rig.fake.create_requests()]
        assert bodies[0] == "Hej! Meddelande s1." and len(bodies) == 2  # + the STOPP confirmation
        assert "Hej! Meddelande s2." not in bodies and "Hej! Meddelande s3." not in bodies
        response = await post_signed(client, rig.settings, "/webhooks/twilio/sms", inbound_params("START"))
        assert response.status_code == 200
    again = await rig.enqueue("s4")
    await rig.dispatcher.run_until_idle()
    assert (await rig.row(again)).status == OutboxStatus.SENT
    assert rig.posts("Hej! Meddelande s4.") == 1
    assert (await rig.row(later)).status == OutboxStatus.SKIPPED  # START does not resurrect old rows


# ------------------------------------------------------------------ send windows at the provider
@pytest.mark.parametrize(
    ("now", "opens"),
    [
        (utc(2026, 11, 24, 20, 0), utc(2026, 11, 25, 8, 0)),  # Tuesday 21:00 → Wednesday 09:00
        (utc(2026, 12, 24, 10, 0), utc(2026, 12, 28, 8, 0)),  # julafton (Thu) → Monday 28 Dec
        (utc(2027, 1, 6, 10, 0), utc(2027, 1, 7, 8, 0)),  # trettondedag jul → next day
        (utc(2026, 6, 19, 10, 0), utc(2026, 6, 22, 7, 0)),  # midsommarafton → Monday (CEST)
    ],
)
async def test_nothing_is_posted_outside_the_window_and_it_goes_out_next_window(
    rig: Rig, now: datetime, opens: datetime
) -> None:
    rig.clock.set(now)
    message_id = await rig.enqueue("w")
    stats = await rig.dispatcher.run_once()
    assert stats.postponed == 1 and rig.posts() == 0
    row = await rig.row(message_id)
    assert row.status == OutboxStatus.QUEUED and row.not_before == opens and row.attempts == 0
    rig.clock.set(opens - timedelta(seconds=1))
    await rig.dispatcher.run_once()
    assert rig.posts() == 0
    rig.clock.set(opens)
    await rig.dispatcher.run_once()
    assert (await rig.row(message_id)).status == OutboxStatus.SENT and rig.posts() == 1


@pytest.mark.parametrize(
    ("before", "opens"),
    [
        # Summer time starts Sunday 2026-03-29: Monday 09:00 CEST is 07:00 UTC (not 08:00).
        (utc(2026, 3, 27, 18, 30), utc(2026, 3, 30, 7, 0)),
        # Winter time starts Sunday 2026-10-25: Monday 09:00 CET is 08:00 UTC (not 07:00).
        (utc(2026, 10, 23, 17, 30), utc(2026, 10, 26, 8, 0)),
    ],
)
async def test_quiet_hours_follow_the_dst_switch(rig: Rig, before: datetime, opens: datetime) -> None:
    rig.clock.set(before)  # Friday 19:30 local
    message_id = await rig.enqueue("dst")
    await rig.dispatcher.run_once()
    assert (await rig.row(message_id)).not_before == opens
    # One minute before the window opens (with the *other* UTC offset it would already be open).
    rig.clock.set(opens - timedelta(minutes=1))
    await rig.dispatcher.run_once()
    assert rig.posts() == 0
    rig.clock.set(opens)
    await rig.dispatcher.run_once()
    assert rig.posts() == 1
    # And the evening end: 19:00 local is 17:00 UTC in summer, 18:00 UTC in winter.
    evening = opens.replace(hour=opens.hour + 10)
    rig.clock.set(evening - timedelta(minutes=1))
    last = await rig.enqueue("dst-last", to="+46701234568")
    await rig.dispatcher.run_once()
    assert (await rig.row(last)).status == OutboxStatus.SENT and rig.posts() == 2
    rig.clock.set(evening)
    late = await rig.enqueue("dst-late", to="+46701234569")
    await rig.dispatcher.run_once()
    assert (await rig.row(late)).status == OutboxStatus.QUEUED and rig.posts() == 2


async def test_conversation_reply_at_20_goes_out_but_not_at_21(rig: Rig) -> None:
    rig.clock.set(utc(2026, 11, 24, 19, 0))  # 20:00 local
    reply = await rig.enqueue("c1", conversation_exempt=True)
    survey = await rig.enqueue("c2", to="+46701234568")
    await rig.dispatcher.run_once()
    assert (await rig.row(reply)).status == OutboxStatus.SENT
    assert (await rig.row(survey)).status == OutboxStatus.QUEUED
    rig.clock.set(utc(2026, 11, 24, 20, 0))  # 21:00 local
    late_reply = await rig.enqueue("c3", conversation_exempt=True)
    await rig.dispatcher.run_once()
    assert (await rig.row(late_reply)).status == OutboxStatus.QUEUED and rig.posts() == 1
    assert (await rig.row(late_reply)).not_before == utc(2026, 11, 25, 7, 0)  # 08:00 local


# ------------------------------------------------------------------ reconciler (issue 20, item 3)
async def test_two_identical_texts_lost_mid_send_are_reconciled_to_distinct_ids(rig: Rig) -> None:
    rig.fake.fail_next(Fault.drop_after_create(), count=2)
    first = await rig.enqueue("same-1", body="Hej! Samma text.")
    second = await rig.enqueue("same-2", body="Hej! Samma text.")
    await rig.dispatcher.run_once()
    assert {(await rig.row(m)).status for m in (first, second)} == {OutboxStatus.UNKNOWN}
    assert rig.posts("Hej! Samma text.") == 2

    await rig.dispatcher.reconcile()

    rows = [await rig.row(m) for m in (first, second)]
    assert [r.status for r in rows] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert {r.provider_sid for r in rows} == set(rig.fake.messages)  # both ids, each once
    assert rig.posts() == 2  # nothing resent


async def test_a_row_that_keeps_failing_goes_to_review_and_never_blocks_the_next(rig: Rig) -> None:
    rig.fake.fail_next(Fault.drop_after_create(), count=2)
    bad = await rig.enqueue("bad", body="Hej! Trasig rad.")
    good = await rig.enqueue("good", body="Hej! Hel rad.")
    await rig.dispatcher.run_once()
    async with rig.sessionmaker() as session:  # the bad row's number can no longer be decrypted
        await session.execute(sa.update(SmsOutbox).where(SmsOutbox.id == bad).values(to_encrypted="trasig"))
        await session.commit()
    max_checks = rig.dispatcher.config.reconcile_max_checks

    await rig.dispatcher.reconcile()
    assert (await rig.row(good)).status == OutboxStatus.SENT  # not blocked by the failing row
    assert (await rig.row(bad)).status == OutboxStatus.UNKNOWN
    for _ in range(max_checks - 1):
        await rig.dispatcher.reconcile()
    row = await rig.row(bad)
    assert row.status == OutboxStatus.NEEDS_REVIEW and row.reconcile_checks == max_checks
    assert [p.kind for p in rig.handler.problems] == ["needs_review"]
    assert rig.posts() == 2


async def test_a_provider_id_linked_meanwhile_is_not_linked_twice(rig: Rig) -> None:
    """Another process links the only matching message first: the row stays undecided."""
    rig.fake.fail_next(Fault.drop_after_create())
    lost = await rig.enqueue("lost-1", body="Hej! En gång.")
    await rig.dispatcher.run_once()
    [created] = rig.fake.messages.values()
    other = await rig.enqueue("other", body="Hej! En gång.", to="+46709999999")
    real_find = rig.dispatcher.gateway.find_sent

    async def find_then_race(**kwargs: Any) -> Any:
        found = await real_find(**kwargs)
        async with rig.sessionmaker() as session:  # the race: linked between list and update
            await session.execute(
                sa.update(SmsOutbox).where(SmsOutbox.id == other).values(provider_sid=created.sid)
            )
            await session.commit()
        return found

    rig.dispatcher.gateway.find_sent = find_then_race  # type: ignore[method-assign]
    stats = await rig.dispatcher.reconcile()
    row = await rig.row(lost)
    assert row.status == OutboxStatus.UNKNOWN and row.provider_sid is None and row.reconcile_checks == 1
    assert stats.unknown == 1
