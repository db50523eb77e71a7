"""The background worker: runs each periodic job in turn until asked to stop.

Jobs are small async callables that do one bounded batch and return; durable state lives in the
database (outbox rows, follow-ups), never in the worker, so a crash loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.core import heartbeat
from feedback.core.db import create_engine, session_factory
from feedback.core.dblock import is_lock_error
from feedback.core.settings import Settings
from feedback.wiring import NO_COLLABORATORS, Collaborators, inbound_handler

log = logging.getLogger(__name__)

JobFn = Callable[[], Awaitable[Any]]


@dataclass
class Job:
    name: str
    run: JobFn
    interval_s: float
    close: Callable[[], Any] | None = None  # called once when the worker stops
    # asked after each run: True means more work is waiting now, so the job runs again on the
    # next pass instead of after ``interval_s`` (other due jobs still run in between)
    busy: Callable[[], bool] | None = None


def build_jobs(
    settings: Settings,
    sessionmaker: Any,
    collaborators: Collaborators = NO_COLLABORATORS,
    *,
    stop: asyncio.Event | None = None,
) -> list[Job]:
    """The worker's composition: each capability contributes its periodic jobs here."""
    from functools import partial

    from feedback.auth.web_sessions import delete_expired_sessions
    from feedback.core.clock import Clock, OffsetClock, SystemClock
    from feedback.devtools import clock as devclock
    from notifications.jobs import sms_jobs
    from surveys.conversations.jobs import run_conversation_tick
    from surveys.plans.scheduler import scheduler_job

    clock: Clock | None = collaborators.clock
    jobs: list[Job] = []
    if clock is None and devclock.enabled(settings):
        # A separate worker process follows the web app's "Testklocka" through the database.
        offset_clock = OffsetClock()
        jobs.append(Job("dev-clock-sync", partial(devclock.sync, offset_clock, sessionmaker), 2.0))
        clock = offset_clock
    clock = clock or SystemClock()
    jobs += [
        Job("expire-web-sessions", partial(delete_expired_sessions, sessionmaker), 300.0),
        Job("survey-conversations", partial(run_conversation_tick, sessionmaker, settings, clock), 60.0),
        Job(
            "surveys-scheduler",
            scheduler_job(settings, sessionmaker, clock, collaborators.follow_up_starter),
            30.0,
        ),
    ]
    from feedback.themes.jobs import INTERVAL_S, ThemingJob

    theming = ThemingJob(settings, sessionmaker, now=clock.now)
    jobs.append(Job("theme-open-text", theming.tick, INTERVAL_S, theming.close, busy=lambda: theming.more))
    sms = sms_jobs(
        settings,
        sessionmaker,
        sms_gateway=collaborators.sms_gateway,
        inbound_handler=inbound_handler(settings, collaborators),
        clock=clock,
        stop=stop,
    )
    jobs += [Job(t.name, t.run, t.interval_s) for t in sms]
    return jobs


HEARTBEAT_EVERY_S = 30.0


async def _beat(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Note a pass in which every job that ran succeeded (``worker_heartbeat``, read by /metrics)."""
    try:
        async with sessionmaker() as session:
            await heartbeat.record(session, "worker", datetime.now(UTC))
            await session.commit()
    except Exception as exc:  # the heartbeat must never stop the worker; the gauge just ages
        log.warning("worker heartbeat not saved: %s", type(exc).__name__)


async def run_worker(
    settings: Settings, stop: asyncio.Event, collaborators: Collaborators = NO_COLLABORATORS
) -> None:
    engine = create_engine(settings.database_url, busy_timeout_ms=settings.database_busy_timeout_ms)
    sessionmaker = session_factory(engine)
    jobs = build_jobs(settings, sessionmaker, collaborators, stop=stop)
    next_run = dict.fromkeys((job.name for job in jobs), 0.0)
    loop = asyncio.get_running_loop()
    log.info("worker started with jobs: %s", ", ".join(job.name for job in jobs))
    try:
        last_beat = -HEARTBEAT_EVERY_S
        while not stop.is_set():
            ran = failed = False
            for job in jobs:
                if stop.is_set():
                    break
                if loop.time() < next_run[job.name]:
                    continue
                try:
                    await job.run()
                    ran = True
                except Exception as exc:  # one failing job must not stop the others; it is retried
                    failed = True
                    if is_lock_error(exc):  # a busy SQLite is weather, not a bug: no traceback
                        log.warning("worker job %s: database is locked; retried on the next pass", job.name)
                    else:
                        log.exception("worker job %s failed", job.name)
                busy = job.busy is not None and job.busy()
                next_run[job.name] = loop.time() + (0.0 if busy else job.interval_s)
            if ran and not failed and loop.time() - last_beat >= HEARTBEAT_EVERY_S:
                last_beat = loop.time()
                await _beat(sessionmaker)
            wake = min(next_run.values(), default=loop.time() + 1.0) - loop.time()
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(0.05, min(wake, 1.0)))
            except TimeoutError:
                pass
    finally:
        for job in jobs:
            if job.close is not None:
                try:
                    await asyncio.to_thread(job.close)
                except Exception:
                    log.exception("closing worker job %s failed", job.name)
        await engine.dispose()
        log.info("worker stopped")
