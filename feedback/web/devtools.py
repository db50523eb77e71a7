"""Admin page "Testklocka": move the development app's clock forward (demo time travel).

Mounted only with ``FEEDBACK_DEV_TOOLS=1`` in development. Moving the clock also runs the
follow-up scheduler and the conversation job once, so the newcomer sees the effect at once
(SMS are then sent by the worker: ``make run`` runs it in the web process).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.clock import OffsetClock
from feedback.core.errors import Conflict
from feedback.devtools import clock as devclock
from feedback.web.guards import requires_role

MAX_DAYS = 366
log = logging.getLogger(__name__)


class AdvanceForm(msgspec.Struct):
    days: str = ""


def _clock(request: Request[Any, Any, Any]) -> OffsetClock:
    clock = request.app.state.clock
    if not isinstance(clock, OffsetClock):
        raise Conflict("Klockan går inte att flytta i den här körningen.")
    return clock


def _render(
    request: Request[Any, Any, Any],
    *,
    moved: str = "",
    started: int = 0,
    changed: int = 0,
    error: str | None = None,
    days: str = "",
) -> Template:
    clock = _clock(request)
    return Template(
        "dev/clock.html",
        context={
            "now": clock.now(),
            "offset_days": clock.offset / timedelta(days=1),
            "moved": moved,
            "started": started,
            "changed": changed,
            "error": error,
            "days": days,
            "worker_in_app": request.app.state.settings.start_worker_in_app,
        },
        status_code=400 if error else 200,
        headers={"Cache-Control": "no-store"},
    )


class DevClockController(Controller):
    path = "/dev/clock"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - Litestar's declarative attribute

    @get("/", name="dev-clock")
    async def page(
        self,
        request: Request[Any, Any, Any],
        moved: FromQuery[str] = "",
        started: FromQuery[int] = 0,
        changed: FromQuery[int] = 0,
    ) -> Template:
        return _render(request, moved=moved, started=started, changed=changed)

    async def _move(
        self, request: Request[Any, Any, Any], session: AsyncSession, offset: timedelta, what: str
    ) -> Redirect:
        from surveys.conversations.jobs import run_conversation_tick
        from surveys.plans.scheduler import scheduler_job

        clock = _clock(request)
        offset = devclock.bounded(offset)
        await devclock.save_offset(session, offset)
        await session.commit()
        clock.offset = offset
        settings = request.app.state.settings
        sessionmaker = request.app.state.sessionmaker
        started = changed = 0
        try:  # the worker runs the same jobs; if it holds the database just now, it finishes them
            started = (await scheduler_job(settings, sessionmaker, clock)()).handed_over
            changed = await run_conversation_tick(sessionmaker, settings, clock)
        except Exception:
            log.warning("dev clock: running due jobs now failed; the worker will run them", exc_info=True)
        query = urlencode({"moved": what, "started": started, "changed": changed})
        return Redirect(path=f"/dev/clock/?{query}", status_code=303)

    @post("/advance", status_code=303)
    async def advance(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[AdvanceForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        try:
            days = int(data.days.strip())
            if not 1 <= days <= MAX_DAYS:
                raise ValueError
        except ValueError:
            message = f"Skriv ett antal dagar mellan 1 och {MAX_DAYS}."
            return _render(request, error=message, days=data.days)
        clock = _clock(request)
        return await self._move(request, db_session, clock.offset + timedelta(days=days), f"{days} dagar")

    @post("/workday", status_code=303)
    async def workday(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Redirect:
        clock = _clock(request)
        now = clock.now()
        target = devclock.next_weekday_at(now)
        return await self._move(
            request, db_session, clock.offset + (target - now), "till nästa vardag kl. 10"
        )

    @post("/reset", status_code=303)
    async def reset(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Redirect:
        return await self._move(request, db_session, timedelta(), "tillbaka till verklig tid")
