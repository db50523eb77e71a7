"""Dispatch throughput: the SMS dispatcher sending due outbox rows through the real twilio client.

Per database (SQLite file, then PostgreSQL in its own database, created and dropped here):
1. 10 000 due rows + 10 000 future rows → time the due-row query → ``due_select_ms_10k_future``
2. +90 000 future rows (100 000 in all) → ``due_select_ms_100k_future`` (should not grow: the
   partial index on ``not_before`` only holds claimable rows and the query stops at the batch)
3. Baseline, same run: the same ``TwilioGateway.send`` calls with the same concurrency and no
   database → ``bare_send_msgs_per_s``
4. ``Dispatcher.run_until_idle`` sends the 10 000 due rows (rate limit off) →
   ``dispatch_msgs_per_s``; ``dispatch_overhead_ms_per_msg`` = 1000/dispatch − 1000/bare.

The fake Twilio runs in its own process (``python -m notifications.testing.fake_twilio``), so
it does not share the dispatcher's interpreter. Figure lines: ``name value db=<db>``.
Target: ≥ 500 msg/s; due selection flat from 10k to 100k future rows.
Run with ``nice``; ``--scale 0.1`` for a quick smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.webhook_throughput import POSTGRES_URL, _pg_execute, free_port  # noqa: E402

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Stockholm


def start_fake(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "notifications.testing.fake_twilio",
            "--port",
            str(port),
            "--no-callbacks",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with opener.open(f"http://127.0.0.1:{port}/_fake/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("fake Twilio did not start")


async def time_due_select(sessionmaker: Any, batch: int, repeats: int) -> float:
    from notifications.dispatcher import due_select

    samples = []
    async with sessionmaker() as session:
        for _ in range(repeats):
            started = time.perf_counter()
            rows = (await session.execute(due_select(NOW, batch))).all()
            samples.append((time.perf_counter() - started) * 1000)
            assert len(rows) == batch
    return statistics.median(samples)


async def bench(database_url: str, fake_url: str, args: argparse.Namespace) -> dict[str, float]:
    from feedback.core.clock import FrozenClock
    from feedback.core.db import create_engine, session_factory
    from feedback.core.settings import Settings
    from notifications.dispatcher import DispatchConfig, Dispatcher
    from notifications.gateways.twilio import TwilioConfig, TwilioGateway
    from notifications.phone import PhoneVault
    from notifications.ports import NullInboundHandler, OutboundSms
    from notifications.testing.bulk import insert_rows, outbox_rows
    from notifications.testing.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

    due, future = args.due, args.future
    settings = Settings(environment="test", database_url=database_url)
    vault = PhoneVault.from_settings(settings)
    engine = create_engine(database_url)
    sessionmaker = session_factory(engine)
    figures: dict[str, float] = {}
    config = DispatchConfig(
        public_url="http://127.0.0.1:9", concurrency=args.concurrency, batch_size=args.batch, lanes=args.lanes
    )

    async def add(count: int, prefix: str, not_before: datetime) -> None:
        async with sessionmaker() as session:
            rows = outbox_rows(vault, count, now=NOW, not_before=not_before, prefix=prefix)
            await insert_rows(session, rows)
            await session.commit()

    async def analyze() -> None:
        async with sessionmaker() as session:
            await session.execute(__import__("sqlalchemy").text("ANALYZE"))
            await session.commit()

    await add(due, "due", NOW - timedelta(minutes=5))
    await add(future // 10, "future-a", NOW + timedelta(days=90))
    await analyze()
    figures["due_select_ms_10k_future"] = await time_due_select(sessionmaker, config.batch_size, 50)
    await add(future - future // 10, "future-b", NOW + timedelta(days=180))
    await analyze()
    figures["due_select_ms_100k_future"] = await time_due_select(sessionmaker, config.batch_size, 50)

    gateway = TwilioGateway(
        TwilioConfig(
            account_sid=DEFAULT_ACCOUNT_SID,
            auth_token=DEFAULT_AUTH_TOKEN,
            from_number="+46700000000",
            api_base_url=fake_url,
            timeout_s=10,
        )
    )
    # Baseline: the same sends, same concurrency, no database.
    bare_n = max(200, due // 5)
    queue: list[int] = []

    async def bare_worker() -> None:
        while queue:
            i = queue.pop()
            await gateway.send(
                OutboundSms(
                    outbox_id=uuid.uuid4(),
                    to_e164=f"+4670{2_000_000 + i:07d}",
                    body=f"Hej! Baslinje #{i}.",
                    status_callback_url=f"http://127.0.0.1:9/webhooks/twilio/status?o={uuid.uuid4()}",
                    validity_period_s=14400,
                )
            )

    queue = list(range(bare_n, bare_n + 50))  # warm-up: threads, imports, first connections
    await asyncio.gather(*(bare_worker() for _ in range(config.concurrency * config.lanes)))
    queue = list(range(bare_n))
    started = time.perf_counter()
    await asyncio.gather(*(bare_worker() for _ in range(config.concurrency * config.lanes)))
    figures["bare_send_msgs_per_s"] = bare_n / (time.perf_counter() - started)

    from notifications import windows

    windows.next_allowed(NOW + timedelta(days=200))  # a running worker has the holiday tables loaded
    dispatcher = Dispatcher(
        sessionmaker=sessionmaker,
        gateway=gateway,
        handler=NullInboundHandler(),
        vault=vault,
        config=config,
        clock=FrozenClock(NOW),
    )
    profiler = None
    if os.environ.get("DISPATCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    stats = await dispatcher.run_until_idle()
    elapsed = time.perf_counter() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    if stats.sent != due:
        raise RuntimeError(f"expected {due} sent, got {stats}")
    figures["dispatch_msgs_per_s"] = due / elapsed
    figures["dispatch_overhead_ms_per_msg"] = (
        1000 / figures["dispatch_msgs_per_s"] - 1000 / figures["bare_send_msgs_per_s"]
    )
    await engine.dispose()
    return figures


def run_for(db: str, database_url: str, args: argparse.Namespace) -> None:
    from feedback.core import migrate

    migrate.upgrade(database_url)
    port = free_port()
    fake = start_fake(port)
    try:
        figures = asyncio.run(bench(database_url, f"http://127.0.0.1:{port}", args))
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    for name in (
        "dispatch_msgs_per_s",
        "bare_send_msgs_per_s",
        "dispatch_overhead_ms_per_msg",
        "due_select_ms_10k_future",
        "due_select_ms_100k_future",
    ):
        print(f"{name} {figures[name]:.2f} db={db} due={args.due} future={args.future}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the row counts")
    parser.add_argument("--concurrency", type=int, default=8, help="sends in flight per batch")
    parser.add_argument("--lanes", type=int, default=2, help="batches in progress at once")
    parser.add_argument("--batch", type=int, default=100, help="rows claimed per batch")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    args.due = max(100, int(10_000 * args.scale))
    args.future = max(1000, int(100_000 * args.scale))
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("twilio").setLevel(logging.WARNING)  # the client logs every request at INFO
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="uppf-dispatch-") as tmp:
            run_for("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args)
    if args.db in ("postgresql", "both"):
        from sqlalchemy.engine import make_url

        try:
            _pg_execute("SELECT 1")
        except Exception as exc:
            print(f"# PostgreSQL unreachable ({type(exc).__name__}): skipped", file=sys.stderr)
            return
        name = f"uppf_bench_{uuid.uuid4().hex[:8]}"
        _pg_execute(f'CREATE DATABASE "{name}"')
        try:
            run_for("postgresql", make_url(POSTGRES_URL).set(database=name).render_as_string(False), args)
        finally:
            _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
