"""The dispatcher: claim due outbox rows with a lease, check them again, send, record the outcome.

Why it works this way (see shared/design/notifications.md §4):

* **Claim with a lease, commit, then send.** ``claim`` moves due rows to ``sending`` with
  ``lease_until`` and ``claimed_by`` in one statement (PostgreSQL: ``FOR UPDATE SKIP LOCKED``,
  so several workers never take the same row; SQLite: ``BEGIN IMMEDIATE`` makes the worker the
  single writer). The claim is committed before the gateway is called.
* **Check again at claim time.** Between enqueue and the due date the person may have written
  STOPP, or the row may fall outside the send window (evening, weekend, holiday). Opted-out rows
  become ``skipped``; rows outside the window go back to waiting with ``not_before`` moved to the
  next window start (the claim does not count as an attempt).
* **Replies inside an ongoing conversation** (``conversation_exempt``) use the conversation
  window: every day 08:00–21:00 Europe/Stockholm, holidays included (``notifications.windows``).
* **An SMS is never resent blindly.** Twilio has no idempotency key. A timeout or dropped
  connection after the POST (``UnknownOutcomeError``) and a lease that expired while a row was
  ``sending`` (the worker died) both lead to ``unknown``. The reconciler asks the provider
  (``SmsGateway.find_sent``): found → ``sent``; positively not there after the grace period →
  ``retry``; the provider cannot tell ``reconcile_max_checks`` times → ``needs_review``.
* **Retries** only for ``RetryableSendError``: full-jitter exponential backoff, pushed into the
  next allowed window; ``attempts >= max_attempts`` → ``dead``.
* **Every ✖/⚑ end state** (failed, dead, needs_review, opted out at the provider) calls the
  owner's ``InboundHandler.handle_delivery_problem`` in the same transaction as the transition.
* **Transitions are monotonic**: each record statement only matches the row in the state it
  expects (``sending`` owned by this worker, or ``unknown``), so a late result or a status
  callback that already moved the row on is never undone.
* **Rate**: a token bucket per sender counted in segments (``rate_segments_per_s``, 0 = off).
  It is per worker process; run one worker per sender when the provider's rate matters.
* **Graceful shutdown**: when ``stop`` is set, messages already handed to the gateway finish
  and are recorded; claimed rows not yet sent are released (back to waiting, lease cleared).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.core.clock import Clock, SystemClock
from feedback.core.db import dialect_name, rowcount
from notifications import optout, windows
from notifications.errors import (
    UNREACHABLE_CODES,
    OptedOutSendError,
    PermanentSendError,
    RetryableSendError,
    SendError,
    UnknownOutcomeError,
)
from notifications.models import OptOutAction, OptOutSource, OutboxStatus, SmsOptOutEvent, SmsOutbox
from notifications.phone import PhoneVault
from notifications.ports import DeliveryProblem, InboundHandler, OutboundSms, SendResult, SmsGateway

log = logging.getLogger(__name__)

# Literal SQL, identical to the partial index predicate, so both planners can use ix_sms_outbox_due
# (a bound-parameter IN list cannot be proven to imply the index predicate).
DUE_PREDICATE = sa.text("sms_outbox.status IN ('queued', 'retry')")

REASON_LEASE_EXPIRED = "Arbetsprocessen avbröts under utskicket. Vi kontrollerar om SMS:et skickades."
REASON_NEEDS_REVIEW = (
    "Det gick inte att ta reda på om SMS:et skickades. Kontrollera och skicka igen vid behov."
)
REASON_OPTED_OUT = "Personen har tackat nej till SMS (STOPP)."
REASON_DEAD = "SMS:et kunde inte skickas efter flera försök."
REASON_INTERNAL = "Ett internt fel hindrade utskicket."


@dataclass(frozen=True)
class DispatchConfig:
    batch_size: int = 100
    lease_s: float = 120.0
    concurrency: int = 8  # sends in flight per batch (each in a thread: the twilio client is sync)
    lanes: int = 2  # batches in progress at once: one claims/records while another sends
    record_every: int = 25  # accepted sends recorded per transaction
    rate_segments_per_s: float = 0.0  # 0 = no rate limit
    backoff_base_s: float = 30.0
    backoff_cap_s: float = 3600.0
    reconcile_grace_s: float = 1800.0
    reconcile_check_interval_s: float = 300.0
    reconcile_max_checks: int = 6
    reconcile_batch: int = 50
    public_url: str = ""
    validity_period_s: int | None = 14400
    sender: str = "default"

    @classmethod
    def from_settings(cls, settings: Any, **changes: Any) -> DispatchConfig:
        values: dict[str, Any] = {
            "public_url": settings.public_url,
            "validity_period_s": settings.sms_validity_period_s,
            "rate_segments_per_s": settings.sms_rate_segments_per_s,
            "reconcile_grace_s": settings.sms_reconcile_grace_s,
            "sender": settings.twilio_messaging_service_sid or settings.twilio_from or "default",
        }
        values.update(changes)
        return cls(**values)


@dataclass(frozen=True)
class ClaimedMessage:
    id: uuid.UUID
    to_encrypted: str
    to_index: str
    body: str
    segments: int
    unit_id: uuid.UUID | None
    owner_ref: str | None
    conversation_exempt: bool
    ignore_opt_out: bool
    attempts: int
    max_attempts: int

    @classmethod
    def from_row(cls, row: sa.Row[*tuple[Any, ...]]) -> ClaimedMessage:
        """From a row selected or returned with ``*_RETURNED`` (further columns may follow).

        Taken by column name, not position: the two ``str`` columns ``to_encrypted`` and
        ``to_index`` cannot be swapped by reordering ``_RETURNED``.
        """
        values = row._mapping
        return cls(**{f.name: values[f.name] for f in fields(cls)})


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    retry: int = 0
    failed: int = 0
    dead: int = 0
    unknown: int = 0
    skipped: int = 0
    postponed: int = 0
    released: int = 0

    def add(self, other: DispatchStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class TokenBucket:
    """Segments per second with a burst of one second's worth (at least one message)."""

    def __init__(
        self,
        rate: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self.tokens = self.capacity
        self._monotonic = monotonic
        self._sleep = sleep
        self._last = monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self, tokens: float) -> None:
        if self.rate <= 0:
            return
        async with self._lock:
            need = min(tokens, self.capacity)
            while True:
                now = self._monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
                self._last = now
                if self.tokens >= need:
                    self.tokens -= need
                    return
                await self._sleep((need - self.tokens) / self.rate)


# ---------------------------------------------------------------------------------------- claim
_RETURNED = (
    SmsOutbox.id,
    SmsOutbox.to_encrypted,
    SmsOutbox.to_index,
    SmsOutbox.body,
    SmsOutbox.segments,
    SmsOutbox.unit_id,
    SmsOutbox.owner_ref,
    SmsOutbox.conversation_exempt,
    SmsOutbox.ignore_opt_out,
    SmsOutbox.attempts,
    SmsOutbox.max_attempts,
)


def due_select(now: datetime, n: int) -> sa.Select[Any]:
    """The due-row query (also timed by the benchmark): uses the partial index on not_before."""
    return (
        sa.select(SmsOutbox.id)
        .where(DUE_PREDICATE, SmsOutbox.not_before <= now)
        .order_by(SmsOutbox.not_before)
        .limit(n)
    )


async def begin_write(session: AsyncSession) -> None:
    """SQLite: take the write lock up front (``BEGIN IMMEDIATE``) so read-then-write cannot race."""
    if dialect_name(session) == "sqlite":
        await session.execute(sa.text("BEGIN IMMEDIATE"))


async def claim(
    session: AsyncSession, worker_id: str, n: int, lease: timedelta, *, now: datetime
) -> list[ClaimedMessage]:
    """Move up to ``n`` due rows to ``sending`` for ``worker_id`` and return them (no commit).

    PostgreSQL: the inner select locks with ``FOR UPDATE SKIP LOCKED``, so concurrent workers
    take disjoint rows. SQLite: the caller's transaction must hold the write lock
    (``begin_write``); the single ``UPDATE … RETURNING`` is then atomic.
    """
    inner = due_select(now, n)
    if dialect_name(session) == "postgresql":
        inner = inner.with_for_update(skip_locked=True)
    statement = (
        sa.update(SmsOutbox)
        .where(SmsOutbox.id.in_(inner.scalar_subquery()))
        .values(
            status=OutboxStatus.SENDING,
            claimed_by=worker_id,
            lease_until=now + lease,
            attempt_started_at=now,
            attempts=SmsOutbox.attempts + 1,
            updated_at=now,
        )
        .returning(*_RETURNED)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(statement)).all()
    return [ClaimedMessage.from_row(row) for row in rows]


async def _opted_out(session: AsyncSession, indexes: set[str]) -> set[str]:
    if not indexes:
        return set()
    rows = await session.execute(
        sa.select(SmsOptOutEvent.phone_index, SmsOptOutEvent.action)
        .where(SmsOptOutEvent.phone_index.in_(indexes))
        .order_by(SmsOptOutEvent.at, SmsOptOutEvent.id)
    )
    latest: dict[str, str] = {}
    for index, action in rows:
        latest[index] = action
    return {index for index, action in latest.items() if action == OptOutAction.OPT_OUT}


def status_callback_url(public_url: str, outbox_id: uuid.UUID) -> str | None:
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/webhooks/twilio/status?o={outbox_id}"


def default_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{uuid.uuid4().hex[:8]}"


# ----------------------------------------------------------------------------------- dispatcher
@dataclass
class Dispatcher:
    sessionmaker: async_sessionmaker[AsyncSession]
    gateway: SmsGateway
    handler: InboundHandler
    vault: PhoneVault
    config: DispatchConfig = field(default_factory=DispatchConfig)
    clock: Clock = field(default_factory=SystemClock)
    worker_id: str = field(default_factory=default_worker_id)
    stop: asyncio.Event | None = None
    rng: random.Random = field(default_factory=random.Random)
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    # -- helpers
    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _bucket(self) -> TokenBucket:
        bucket = self.buckets.get(self.config.sender)
        if bucket is None:
            bucket = self.buckets[self.config.sender] = TokenBucket(self.config.rate_segments_per_s)
        return bucket

    async def _problem(
        self,
        session: AsyncSession,
        message_id: uuid.UUID,
        owner_ref: str | None,
        kind: str,
        code: int | None,
        reason: str,
        at: datetime,
    ) -> None:
        await self.handler.handle_delivery_problem(
            session,
            DeliveryProblem(
                outbox_id=message_id,
                owner_ref=owner_ref,
                kind=kind,  # type: ignore[arg-type]
                error_code=code,
                reason_sv=reason,
                at=at,
            ),
        )

    # -- one batch
    async def run_once(self) -> DispatchStats:
        """Expire stale leases, claim one batch, send it; returns what happened."""
        stats = DispatchStats()
        if self._stopping():
            return stats
        await self.expire_leases()
        claimed, checks = await self._claim_and_check()
        stats.add(checks)
        if not claimed:
            return stats
        stats.claimed += len(claimed)
        lease_end = self.clock.now() + timedelta(seconds=self.config.lease_s)
        pending = collections.deque(claimed)
        accepted: list[tuple[ClaimedMessage, SendResult]] = []

        async def worker() -> None:
            while pending:
                message = pending.popleft()
                # Leave a margin so no send starts after our lease could have been expired by others.
                if self._stopping() or self.clock.now() >= lease_end - timedelta(seconds=15):
                    pending.appendleft(message)
                    return
                outcome = await self._send_one(message, accepted)
                setattr(stats, outcome, getattr(stats, outcome) + 1)
                if len(accepted) >= self.config.record_every:
                    batch = accepted[:]
                    accepted.clear()
                    await self._record_sent_many(batch)

        try:
            await asyncio.gather(*(worker() for _ in range(max(1, self.config.concurrency))))
        finally:
            # Accepted sends are recorded together (one transaction); if the process dies before
            # this, the rows stay ``sending`` and the lease expiry + reconciler find them.
            if accepted:
                await self._record_sent_many(accepted)
        if pending:
            stats.released += await self._release([m.id for m in pending])
        return stats

    async def _claim_and_check(self) -> tuple[list[ClaimedMessage], DispatchStats]:
        stats = DispatchStats()
        now = self.clock.now()
        async with self.sessionmaker() as session:
            await begin_write(session)
            claimed = await claim(
                session,
                self.worker_id,
                self.config.batch_size,
                timedelta(seconds=self.config.lease_s),
                now=now,
            )
            if not claimed:
                await session.commit()
                return [], stats
            opted_out = await _opted_out(session, {m.to_index for m in claimed if not m.ignore_opt_out})
            unit_windows: dict[uuid.UUID | None, windows.SendWindow] = {}
            ready: list[ClaimedMessage] = []
            for message in claimed:
                if not message.ignore_opt_out and message.to_index in opted_out:
                    await session.execute(
                        sa.update(SmsOutbox)
                        .where(SmsOutbox.id == message.id)
                        .values(
                            status=OutboxStatus.SKIPPED,
                            attempts=SmsOutbox.attempts - 1,
                            lease_until=None,
                            claimed_by=None,
                            last_error_reason=REASON_OPTED_OUT,
                            final_at=now,
                            updated_at=now,
                        )
                    )
                    stats.skipped += 1
                    continue
                if message.unit_id not in unit_windows:
                    unit_windows[message.unit_id] = await windows.window_for_unit(session, message.unit_id)
                window = windows.window_for(message.conversation_exempt, unit_windows[message.unit_id])
                if not windows.is_allowed(now, window):
                    await session.execute(
                        sa.update(SmsOutbox)
                        .where(SmsOutbox.id == message.id)
                        .values(
                            status=OutboxStatus.RETRY if message.attempts > 1 else OutboxStatus.QUEUED,
                            attempts=SmsOutbox.attempts - 1,
                            not_before=windows.next_allowed(now, window),
                            lease_until=None,
                            claimed_by=None,
                            updated_at=now,
                        )
                    )
                    stats.postponed += 1
                    continue
                ready.append(message)
            await session.commit()
        return ready, stats

    async def _release(self, ids: Sequence[uuid.UUID]) -> int:
        """Give claimed-but-unsent rows back (shutdown, lease running out): not an attempt."""
        now = self.clock.now()
        async with self.sessionmaker() as session:
            result = await session.execute(
                sa.update(SmsOutbox)
                .where(
                    SmsOutbox.id.in_(list(ids)),
                    SmsOutbox.status == OutboxStatus.SENDING,
                    SmsOutbox.claimed_by == self.worker_id,
                )
                .values(
                    status=sa.case(
                        (SmsOutbox.attempts > 1, OutboxStatus.RETRY.value), else_=OutboxStatus.QUEUED.value
                    ),
                    attempts=SmsOutbox.attempts - 1,
                    lease_until=None,
                    claimed_by=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        return rowcount(result)

    def _mine(self, message_id: uuid.UUID) -> Any:
        return sa.and_(
            SmsOutbox.id == message_id,
            SmsOutbox.status == OutboxStatus.SENDING,
            SmsOutbox.claimed_by == self.worker_id,
        )

    async def _send_one(
        self, message: ClaimedMessage, accepted: list[tuple[ClaimedMessage, SendResult]] | None = None
    ) -> str:
        """Send one claimed row; failures are recorded at once, successes appended to ``accepted``
        (recorded in bulk by the caller) or recorded at once when ``accepted`` is None."""
        try:
            to_e164 = self.vault.decrypt(message.to_encrypted)
        except ValueError:
            # Nothing was sent; a number we cannot decrypt will not heal by itself.
            return await self._record_poison(message, "cannot decrypt the recipient")
        await self._bucket().acquire(message.segments)
        outbound = OutboundSms(
            outbox_id=message.id,
            to_e164=to_e164,
            body=message.body,
            status_callback_url=status_callback_url(self.config.public_url, message.id),
            validity_period_s=self.config.validity_period_s,
        )
        try:
            result = await self.gateway.send(outbound)
        except OptedOutSendError as exc:
            return await self._record_opted_out(message, exc)
        except PermanentSendError as exc:
            return await self._record_failed(message, exc)
        except RetryableSendError as exc:
            return await self._record_retry(message, exc)
        except UnknownOutcomeError as exc:
            return await self._record_unknown(message, exc.code, exc.reason_sv, exc.detail)
        except SendError as exc:  # an unclassified SendError: treat as "may have been sent"
            return await self._record_unknown(message, exc.code, exc.reason_sv, exc.detail)
        except Exception as exc:  # a bug in a gateway: the POST may have happened
            log.exception("gateway raised an unexpected error for outbox %s", message.id)
            return await self._record_unknown(message, None, REASON_INTERNAL, type(exc).__name__)
        if accepted is not None:
            accepted.append((message, result))
            return "sent"
        return await self._record_sent(message, result.provider_sid, result.provider_status)

    # -- recording outcomes (each its own short transaction)
    async def _record_sent(self, message: ClaimedMessage, sid: str, provider_status: str) -> str:
        now = self.clock.now()
        async with self.sessionmaker() as session:
            result = await session.execute(
                sa.update(SmsOutbox)
                .where(
                    SmsOutbox.id == message.id,
                    SmsOutbox.status.in_((OutboxStatus.SENDING, OutboxStatus.UNKNOWN)),
                )
                .values(
                    status=OutboxStatus.SENT,
                    provider_sid=sid,
                    provider_status=sa.func.coalesce(SmsOutbox.provider_status, provider_status),
                    sent_at=now,
                    lease_until=None,
                    last_error_code=None,
                    last_error_reason=None,
                    updated_at=now,
                )
            )
            if not rowcount(result):
                # A status callback got here first and already moved the row on: keep its state.
                await session.execute(
                    sa.update(SmsOutbox)
                    .where(SmsOutbox.id == message.id)
                    .values(
                        sent_at=sa.func.coalesce(SmsOutbox.sent_at, now),
                        provider_sid=sa.func.coalesce(SmsOutbox.provider_sid, sid),
                        lease_until=None,
                    )
                )
            await session.commit()
        return "sent"

    async def _record_sent_many(self, accepted: Sequence[tuple[ClaimedMessage, SendResult]]) -> None:
        """Record several accepted sends in one transaction (two executemany statements).

        The first moves rows still ``sending``/``unknown`` to ``sent``; the second fills in the
        SID and clears the lease on rows a status callback already moved on (it never changes
        their status), exactly like :meth:`_record_sent` for one row.
        """
        if not accepted:
            return
        now = self.clock.now()
        # the Table itself: ``SmsOutbox.__table__`` is typed as a FromClause, which update() refuses
        table = SmsOutbox.metadata.tables[SmsOutbox.__tablename__]
        params = [
            {"oid": message.id, "sid": result.provider_sid, "pstatus": result.provider_status}
            for message, result in accepted
        ]
        to_sent = (
            sa.update(table)
            .where(
                table.c.id == sa.bindparam("oid"),
                # Not IN (...): an expanding IN cannot be used with executemany.
                sa.or_(table.c.status == OutboxStatus.SENDING, table.c.status == OutboxStatus.UNKNOWN),
            )
            .values(
                status=OutboxStatus.SENT.value,
                provider_sid=sa.bindparam("sid"),
                provider_status=sa.func.coalesce(table.c.provider_status, sa.bindparam("pstatus")),
                sent_at=now,
                lease_until=None,
                last_error_code=None,
                last_error_reason=None,
                updated_at=now,
            )
        )
        link = (
            sa.update(table)
            .where(
                table.c.id == sa.bindparam("oid"),
                sa.or_(
                    table.c.lease_until.is_not(None),
                    table.c.sent_at.is_(None),
                    table.c.provider_sid.is_(None),
                ),
            )
            .values(
                sent_at=sa.func.coalesce(table.c.sent_at, now),
                provider_sid=sa.func.coalesce(table.c.provider_sid, sa.bindparam("sid")),
                lease_until=None,
            )
        )
        async with self.sessionmaker() as session:
            connection = await session.connection()
            await connection.execute(to_sent, params)
            await connection.execute(link, [{"oid": p["oid"], "sid": p["sid"]} for p in params])
            await session.commit()

    async def _record_failed(self, message: ClaimedMessage, exc: SendError) -> str:
        now = self.clock.now()
        async with self.sessionmaker() as session:
            result = await session.execute(
                sa.update(SmsOutbox)
                .where(self._mine(message.id))
                .values(
                    status=OutboxStatus.FAILED,
                    last_error_code=exc.code,
                    last_error_reason=exc.reason_sv[:300],
                    lease_until=None,
                    final_at=now,
                    updated_at=now,
                )
            )
            if rowcount(result):
                kind = "unreachable" if exc.code in UNREACHABLE_CODES else "failed"
                await self._problem(
                    session, message.id, message.owner_ref, kind, exc.code, exc.reason_sv, now
                )
            await session.commit()
        return "failed"

    async def _record_opted_out(self, message: ClaimedMessage, exc: SendError) -> str:
        now = self.clock.now()
        async with self.sessionmaker() as session:
            result = await session.execute(
                sa.update(SmsOutbox)
                .where(self._mine(message.id))
                .values(
                    status=OutboxStatus.FAILED,
                    last_error_code=exc.code,
                    last_error_reason=exc.reason_sv[:300],
                    lease_until=None,
                    final_at=now,
                    updated_at=now,
                )
            )
            if rowcount(result):
                if not await optout.is_opted_out(session, message.to_index):
                    await optout.record_opt_out(
                        session, message.to_index, source=OptOutSource.TWILIO_21610, at=now
                    )
                    await self.handler.handle_opt_out(session, message.to_index, now)
                await self._problem(
                    session, message.id, message.owner_ref, "opted_out", exc.code, exc.reason_sv, now
                )
            await session.commit()
        return "failed"

    async def _record_retry(self, message: ClaimedMessage, exc: RetryableSendError) -> str:
        now = self.clock.now()
        async with self.sessionmaker() as session:
            if message.attempts >= message.max_attempts:
                result = await session.execute(
                    sa.update(SmsOutbox)
                    .where(self._mine(message.id))
                    .values(
                        status=OutboxStatus.DEAD,
                        last_error_code=exc.code,
                        last_error_reason=f"{REASON_DEAD} {exc.reason_sv}"[:300],
                        lease_until=None,
                        final_at=now,
                        updated_at=now,
                    )
                )
                if rowcount(result):
                    await self._problem(
                        session, message.id, message.owner_ref, "dead", exc.code, REASON_DEAD, now
                    )
                await session.commit()
                return "dead"
            delay = windows.full_jitter_delay(
                message.attempts, self.config.backoff_base_s, self.config.backoff_cap_s, self.rng
            )
            if exc.retry_after_s is not None:
                delay = max(delay, exc.retry_after_s)
            window = await self._window(session, message)
            not_before = windows.next_allowed(now + timedelta(seconds=delay), window)
            await session.execute(
                sa.update(SmsOutbox)
                .where(self._mine(message.id))
                .values(
                    status=OutboxStatus.RETRY,
                    not_before=not_before,
                    last_error_code=exc.code,
                    last_error_reason=exc.reason_sv[:300],
                    lease_until=None,
                    claimed_by=None,
                    updated_at=now,
                )
            )
            await session.commit()
        return "retry"

    async def _record_unknown(
        self, message: ClaimedMessage, code: int | None, reason: str, detail: str
    ) -> str:
        now = self.clock.now()
        log.warning("outcome unknown for outbox %s: %s", message.id, detail)
        async with self.sessionmaker() as session:
            await session.execute(
                sa.update(SmsOutbox)
                .where(self._mine(message.id))
                .values(
                    status=OutboxStatus.UNKNOWN,
                    last_error_code=code,
                    last_error_reason=reason[:300],
                    lease_until=None,
                    updated_at=now,
                )
            )
            await session.commit()
        return "unknown"

    async def _record_poison(self, message: ClaimedMessage, detail: str) -> str:
        """Nothing was sent but the row cannot be sent as it is: retry, then ``dead`` at max attempts."""
        log.error("outbox %s cannot be sent: %s", message.id, detail)
        return await self._record_retry(message, RetryableSendError(None, REASON_INTERNAL, detail=detail))

    async def _window(self, session: AsyncSession, message: ClaimedMessage) -> windows.SendWindow:
        unit_window = await windows.window_for_unit(session, message.unit_id)
        return windows.window_for(message.conversation_exempt, unit_window)

    # -- crash recovery
    async def expire_leases(self) -> int:
        """Rows left ``sending`` past their lease (a worker died) become ``unknown``, never ``queued``."""
        now = self.clock.now()
        async with self.sessionmaker() as session:
            result = await session.execute(
                sa.update(SmsOutbox)
                .where(SmsOutbox.status == OutboxStatus.SENDING, SmsOutbox.lease_until < now)
                .values(
                    status=OutboxStatus.UNKNOWN,
                    last_error_reason=REASON_LEASE_EXPIRED,
                    lease_until=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        count = rowcount(result)
        if count:
            log.warning("%d outbox rows had an expired lease and are now unknown", count)
        return count

    async def reconcile(self, max_rounds: int = 20) -> DispatchStats:
        """Ask the provider about ``unknown`` rows (oldest first, each at most once per interval).

        Works through up to ``max_rounds`` batches of ``reconcile_batch`` rows, so a worker that
        died with a whole batch in flight is resolved in one run, not one batch per minute.
        """
        stats = DispatchStats()
        seen: set[uuid.UUID] = set()
        for _ in range(max_rounds):
            now = self.clock.now()
            checked_before = now - timedelta(seconds=self.config.reconcile_check_interval_s)
            async with self.sessionmaker() as session:
                rows = (
                    await session.execute(
                        sa.select(*_RETURNED, SmsOutbox.attempt_started_at, SmsOutbox.reconcile_checks)
                        .where(
                            SmsOutbox.status == OutboxStatus.UNKNOWN,
                            sa.or_(SmsOutbox.reconcile_checks == 0, SmsOutbox.updated_at <= checked_before),
                        )
                        .order_by(SmsOutbox.updated_at)
                        .limit(self.config.reconcile_batch)
                    )
                ).all()
            fresh = [row for row in rows if row[0] not in seen]
            for row in fresh:
                if self._stopping():
                    return stats
                seen.add(row[0])
                message = ClaimedMessage.from_row(row)
                started_at: datetime = row.attempt_started_at or now
                checks: int = row.reconcile_checks
                try:
                    outcome = await self._reconcile_one(message, started_at, checks)
                except Exception as exc:  # one bad row never blocks the others
                    log.exception("reconcile of outbox %s failed", message.id)
                    outcome = await self._reconcile_undecided(message, checks, type(exc).__name__)
                setattr(stats, outcome, getattr(stats, outcome) + 1)
            if len(rows) < self.config.reconcile_batch or not fresh:
                break
        return stats

    async def _linked_sids(self, message: ClaimedMessage) -> frozenset[str]:
        """Provider ids already linked to other outbox rows for the same number."""
        async with self.sessionmaker() as session:
            sids = await session.scalars(
                sa.select(SmsOutbox.provider_sid).where(
                    SmsOutbox.to_index == message.to_index,
                    SmsOutbox.provider_sid.is_not(None),
                    SmsOutbox.id != message.id,
                )
            )
            return frozenset(sid for sid in sids if sid is not None)

    async def _reconcile_one(self, message: ClaimedMessage, started_at: datetime, checks: int) -> str:
        to_e164 = self.vault.decrypt(message.to_encrypted)
        try:
            found = await self.gateway.find_sent(
                to_e164=to_e164,
                sent_after=started_at - timedelta(minutes=1),
                outbox_id=message.id,
                body=message.body,
                exclude=await self._linked_sids(message),
            )
        except SendError as exc:
            return await self._reconcile_undecided(message, checks, exc.reason_sv)
        now = self.clock.now()
        if found is not None:
            async with self.sessionmaker() as session:
                # Each row is its own transaction: should another process link the same provider
                # id meanwhile, the unique constraint refuses it and the row stays undecided
                # (counted towards needs_review) instead of failing the whole run.
                try:
                    await self._link_found(session, message, found, now)
                    await session.flush()
                except IntegrityError:
                    await session.rollback()
                    return await self._reconcile_undecided(message, checks, "provider id already linked")
                await session.commit()
            return "sent"
        if now - started_at < timedelta(seconds=self.config.reconcile_grace_s):
            # Too early to trust "not found" (the provider's list may lag); look again later.
            async with self.sessionmaker() as session:
                await session.execute(
                    sa.update(SmsOutbox)
                    .where(SmsOutbox.id == message.id, SmsOutbox.status == OutboxStatus.UNKNOWN)
                    .values(reconcile_checks=SmsOutbox.reconcile_checks + 1, updated_at=now)
                )
                await session.commit()
            return "unknown"
        # The provider positively has no such message: it is safe to send it (again).
        async with self.sessionmaker() as session:
            if message.attempts >= message.max_attempts:
                result = await session.execute(
                    sa.update(SmsOutbox)
                    .where(SmsOutbox.id == message.id, SmsOutbox.status == OutboxStatus.UNKNOWN)
                    .values(
                        status=OutboxStatus.DEAD, last_error_reason=REASON_DEAD, final_at=now, updated_at=now
                    )
                )
                if rowcount(result):
                    await self._problem(
                        session, message.id, message.owner_ref, "dead", None, REASON_DEAD, now
                    )
                await session.commit()
                return "dead"
            window = await self._window(session, message)
            await session.execute(
                sa.update(SmsOutbox)
                .where(SmsOutbox.id == message.id, SmsOutbox.status == OutboxStatus.UNKNOWN)
                .values(
                    status=OutboxStatus.RETRY,
                    not_before=windows.next_allowed(now, window),
                    claimed_by=None,
                    reconcile_checks=SmsOutbox.reconcile_checks + 1,
                    updated_at=now,
                )
            )
            await session.commit()
        return "retry"

    async def _link_found(
        self, session: AsyncSession, message: ClaimedMessage, found: SendResult, now: datetime
    ) -> None:
        await session.execute(
            sa.update(SmsOutbox)
            .where(SmsOutbox.id == message.id, SmsOutbox.status == OutboxStatus.UNKNOWN)
            .values(
                status=OutboxStatus.SENT,
                provider_sid=found.provider_sid,
                provider_status=sa.func.coalesce(SmsOutbox.provider_status, found.provider_status),
                sent_at=sa.func.coalesce(SmsOutbox.sent_at, now),
                last_error_reason=None,
                reconcile_checks=SmsOutbox.reconcile_checks + 1,
                updated_at=now,
            )
        )

    async def _reconcile_undecided(self, message: ClaimedMessage, checks: int, reason: str) -> str:
        now = self.clock.now()
        async with self.sessionmaker() as session:
            if checks + 1 >= self.config.reconcile_max_checks:
                result = await session.execute(
                    sa.update(SmsOutbox)
                    .where(SmsOutbox.id == message.id, SmsOutbox.status == OutboxStatus.UNKNOWN)
                    .values(
                        status=OutboxStatus.NEEDS_REVIEW,
                        last_error_reason=REASON_NEEDS_REVIEW,
                        reconcile_checks=SmsOutbox.reconcile_checks + 1,
                        final_at=now,
                        updated_at=now,
                    )
                )
                if rowcount(result):
                    await self._problem(
                        session, message.id, message.owner_ref, "needs_review", None, REASON_NEEDS_REVIEW, now
                    )
                await session.commit()
                return "failed"
            await session.execute(
                sa.update(SmsOutbox)
                .where(SmsOutbox.id == message.id, SmsOutbox.status == OutboxStatus.UNKNOWN)
                .values(reconcile_checks=SmsOutbox.reconcile_checks + 1, updated_at=now)
            )
            await session.commit()
        log.info("reconcile of outbox %s undecided: %s", message.id, reason)
        return "unknown"

    async def run_until_idle(self, max_batches: int = 10_000, deadline: float | None = None) -> DispatchStats:
        """Send batches until nothing is due (tests, benchmark, the worker's dispatch job).

        ``config.lanes`` batches are in progress at once, so one lane claims and records while
        the others' sends are in flight (claims never overlap: SKIP LOCKED on PostgreSQL, the
        write lock on SQLite). ``deadline`` (``time.monotonic()``) stops claiming new batches.
        """
        total = DispatchStats()
        batches = 0

        async def lane() -> None:
            nonlocal batches
            while batches < max_batches and not self._stopping():
                if deadline is not None and time.monotonic() >= deadline:
                    return
                batches += 1
                stats = await self.run_once()
                total.add(stats)
                if stats.claimed == 0 and stats.postponed == 0 and stats.skipped == 0:
                    return

        await asyncio.gather(*(lane() for _ in range(max(1, self.config.lanes))))
        return total
