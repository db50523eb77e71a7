"""Admin page "Testklocka": move the development app's clock forward (demo time travel).

Mounted only with ``FEEDBACK_DEV_TOOLS=1`` in development. Moving the clock also runs the
follow-up scheduler and the conversation job once, so the newcomer sees the effect at once
(SMS are then sent by the worker: ``make run`` runs it in the web process).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.auth.models import Role
from feedback.core.clock import Clock, OffsetClock
from feedback.core.errors import Conflict, InvalidInput
from feedback.core.settings import Settings
from feedback.devtools import clock as devclock
from feedback.web import forms
from feedback.web.dependencies import AppClock, Sessionmaker
from feedback.web.guards import requires_role

MAX_DAYS = 366
log = logging.getLogger(__name__)


class AdvanceForm(forms.Form):
    days: int
    messages: ClassVar[dict[str, str]] = {"days": f"Skriv ett antal dagar mellan 1 och {MAX_DAYS}."}


def _offset_clock(clock: Clock) -> OffsetClock:
    if not isinstance(clock, OffsetClock):
        raise Conflict("Klockan går inte att flytta i den här körningen.")
    return clock


def _render(
    settings: Settings,
    clock: Clock,
    *,
    moved: str = "",
    started: int = 0,
    changed: int = 0,
    errors: forms.FormErrors | None = None,
    days: str = "",
) -> Template:
    offset_clock = _offset_clock(clock)
    return Template(
        "dev/clock.html",
        context={
            "now": offset_clock.now(),
            "offset_days": offset_clock.offset / timedelta(days=1),
            "moved": moved,
            "started": started,
            "changed": changed,
            **(errors.context() if errors else forms.NO_ERRORS),
            "days": days,
            "worker_in_app": settings.start_worker_in_app,
        },
        status_code=errors.status_code if errors else 200,
        headers={"Cache-Control": "no-store"},
    )


class DevClockController(Controller):
    path = "/dev/clock"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 - Litestar's declarative attribute

    @get("/", name="dev-clock")
    async def page(
        self,
        settings: NamedDependency[Settings],
        clock: NamedDependency[AppClock],
        moved: FromQuery[str] = "",
        started: FromQuery[int] = 0,
        changed: FromQuery[int] = 0,
    ) -> Template:
        return _render(settings, clock, moved=moved, started=started, changed=changed)

    async def _move(
        self,
        session: AsyncSession,
        settings: Settings,
        clock: Clock,
        sessionmaker: async_sessionmaker[AsyncSession],
        offset: timedelta,
        what: str,
    ) -> Redirect:
        from surveys.conversations.jobs import run_conversation_tick
        from surveys.plans.scheduler import scheduler_job

        offset_clock = _offset_clock(clock)
        offset = devclock.bounded(offset)
        await devclock.save_offset(session, offset)
        await session.commit()
        offset_clock.offset = offset
        started = changed = 0
        try:  # the worker runs the same jobs; if it holds the database just now, it finishes them
            started = (await scheduler_job(settings, sessionmaker, offset_clock)()).handed_over
            changed = await run_conversation_tick(sessionmaker, settings, offset_clock)
        except Exception:
            log.warning("dev clock: running due jobs now failed; the worker will run them", exc_info=True)
        # Not a notice key: the page shows what moved and how much happened (data, not a message).
        query = urlencode({"moved": what, "started": started, "changed": changed})
        return Redirect(path=f"/dev/clock/?{query}", status_code=303)

    @post("/advance", status_code=303, name="dev-clock-advance")
    async def advance(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        clock: NamedDependency[AppClock],
        sessionmaker: NamedDependency[Sessionmaker],
        data: URLEncodedBody[forms.RawForm],
    ) -> Response[Any]:
        async def days() -> int:
            form = forms.parse(AdvanceForm, data)
            if not 1 <= form.days <= MAX_DAYS:
                raise InvalidInput(AdvanceForm.messages["days"], field="days")
            return form.days

        async def move(n: int) -> Redirect:
            offset = _offset_clock(clock).offset + timedelta(days=n)
            return await self._move(db_session, settings, clock, sessionmaker, offset, f"{n} dagar")

        async def invalid(errors: forms.FormErrors) -> Template:
            return _render(settings, clock, errors=errors, days=forms.values(data).get("days", ""))

        return await forms.submit(db_session, days, invalid=invalid, done=move)

    @post("/workday", status_code=303, name="dev-clock-workday")
    async def workday(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        clock: NamedDependency[AppClock],
        sessionmaker: NamedDependency[Sessionmaker],
    ) -> Redirect:
        offset_clock = _offset_clock(clock)
        now = offset_clock.now()
        target = devclock.next_weekday_at(now)
        offset = offset_clock.offset + (target - now)
        return await self._move(db_session, settings, clock, sessionmaker, offset, "till nästa vardag kl. 10")

    @post("/reset", status_code=303, name="dev-clock-reset")
    async def reset(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        clock: NamedDependency[AppClock],
        sessionmaker: NamedDependency[Sessionmaker],
    ) -> Redirect:
        return await self._move(
            db_session, settings, clock, sessionmaker, timedelta(), "tillbaka till verklig tid"
        )
