"""The ``seed-demo`` step for surveys: a year of follow-ups, run once per database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.auth.models import Unit, User
from feedback.demo.cast import make_cast
from feedback.demo.progress import Progress, no_progress
from feedback.demo.simulation import STOCKHOLM, YearSimulation
from surveys.closures.models import Client

CASEWORKERS = {"fsd": "handlaggare@demo.uppfoljning.se", "ame": "handlaggare.ame@demo.uppfoljning.se"}
SMS_CLIENTS = 95
PHONE_ONLY_CLIENTS = 45
DAYS = 400  # closures over 13 months, so the 1-year wave has begun for the oldest


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


async def seed_survey_year(
    session: AsyncSession,
    settings: Any,
    progress: Progress = no_progress,
    *,
    sms_clients: int = SMS_CLIENTS,
    phone_only: int = PHONE_ONLY_CLIENTS,
    days: int = DAYS,
    now: datetime | None = None,
) -> list[str]:
    """Idempotent: a database that already has demo clients is left as it is."""
    if await session.scalar(sa.select(Client.id).where(Client.client_ref.like("DEMO-%")).limit(1)):
        return ["Uppföljningar: demoåret finns redan"]
    units = {u.code: u.id for u in await session.scalars(sa.select(Unit).where(Unit.code.in_(CASEWORKERS)))}
    caseworkers = {
        code: await session.scalar(sa.select(User.id).where(User.email == email))
        for code, email in CASEWORKERS.items()
    }
    if set(units) != set(CASEWORKERS) or None in caseworkers.values():
        return ["Uppföljningar: demoenheterna eller handläggarna saknas, hoppar över"]
    await session.commit()
    today = (now or datetime.now(UTC)).astimezone(STOCKHOLM).date()
    cast = make_cast(today, sms_clients=sms_clients, phone_only=phone_only, days=days)
    engine = session.bind
    simulation = YearSimulation(
        async_sessionmaker(engine, expire_on_commit=False),
        settings,
        cast,
        units=units,
        caseworkers=caseworkers,  # type: ignore[arg-type]
    )
    with _quiet("surveys", "notifications"):  # a year of INFO lines would bury the logins
        tally = await simulation.run(today, progress=lambda done, total: progress("Demoåret", done, total))
    return [
        f"Uppföljningar: {tally.registered} avslut under ett år, {tally.sent} sms skickade, "
        f"{tally.replies} svar, {tally.calls} samtal, {tally.returns} återaktualiseringar, "
        f"{tally.cases_closed} ärenden stängda"
    ]
