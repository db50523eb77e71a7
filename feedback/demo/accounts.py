"""Demo data for `make run`: two units, one user per role, and (from feature packages) content.

Idempotent: running it again changes nothing and prints the same logins.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import services
from feedback.auth.models import Role, Unit, User
from feedback.auth.passwords import hash_password, password_problem
from feedback.core.db import create_engine, session_factory, utcnow
from feedback.core.settings import Settings
from feedback.demo.progress import Progress, no_progress

DEMO_PASSWORD = "Uppfoljning-demo-2026"  # noqa: S105 - printed on purpose; dev only
DEMO_UNITS = (("fsd", "Försörjningsstöd Norra"), ("ame", "Arbetsmarknadsenheten"))
DEMO_USERS = (
    ("admin@demo.uppfoljning.se", "Alva Admin", Role.ADMIN, ()),
    ("chef@demo.uppfoljning.se", "Maria Enhetschef", Role.MANAGER, ("fsd", "ame")),
    ("handlaggare@demo.uppfoljning.se", "Karin Handläggare", Role.CASEWORKER, ("fsd",)),
    ("handlaggare.ame@demo.uppfoljning.se", "Johan Handläggare", Role.CASEWORKER, ("ame",)),
    ("panel@demo.uppfoljning.se", "Omar Panelmedlem", Role.PANEL_MEMBER, ("fsd",)),
)

# Feature packages append steps here: async (session, settings, progress) -> lines to print.
DemoStep = Callable[[AsyncSession, Settings, Progress], Awaitable[list[str]]]


def feature_steps() -> list[tuple[str, DemoStep]]:
    """In order: a year of follow-ups, then theme its open answers, then the panel and a review
    (whose frozen snapshot then holds the year). Each with the label its progress shows."""
    from feedback.demo.review import seed_panel_and_review
    from feedback.demo.seed import seed_survey_year
    from feedback.demo.themes import theme_all_pending

    return [
        ("Demoåret", seed_survey_year),
        ("Teman", theme_all_pending),
        ("Panel och översyn", seed_panel_and_review),
    ]


@functools.cache
def demo_password_hash() -> str:
    """One argon2 hash for every demo account: they share the printed password anyway, and a
    hash per account (a dozen with the panel) cost seconds of CPU of every ``make run``."""
    if problem := password_problem(DEMO_PASSWORD):
        raise RuntimeError(f"the demo password fails the password policy: {problem}")
    return hash_password(DEMO_PASSWORD)


async def create_demo_user(
    session: AsyncSession, *, email: str, display_name: str, role: Role, unit_ids: list[uuid.UUID]
) -> User:
    """``services.create_user`` with the demo password, hashed once per process."""
    user = await services.create_user(
        session, email=email, display_name=display_name, role=role, unit_ids=unit_ids
    )
    user.password_hash = demo_password_hash()
    user.password_changed_at = utcnow()
    await session.flush()
    return user


async def seed_people(session: AsyncSession) -> list[str]:
    units: dict[str, Unit] = {}
    for code, name in DEMO_UNITS:
        unit = await session.scalar(sa.select(Unit).where(Unit.code == code))
        units[code] = unit or await services.create_unit(session, code=code, name=name)
    lines = ["Demo-inloggningar (lösenord för alla: " + DEMO_PASSWORD + "):"]
    for email, name, role, unit_codes in DEMO_USERS:
        if not await session.scalar(sa.select(User.id).where(User.email == email)):
            await create_demo_user(
                session,
                email=email,
                display_name=name,
                role=role,
                unit_ids=[units[c].id for c in unit_codes],
            )
        lines.append(f"  {role.value:<13} {email}")
    return lines


async def seed_demo(settings: Settings, progress: Progress = no_progress) -> list[str]:
    if not settings.is_dev:
        raise RuntimeError("seed-demo is for development databases only")
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            progress("Konton", 0, 1)
            lines = await seed_people(session)
            await session.commit()
            progress("Konton", 1, 1)
            for label, step in feature_steps():
                progress(label, 0, 1)
                lines.extend(await step(session, settings, progress))
                await session.commit()
                progress(label, 1, 1)
            return lines
    finally:
        await engine.dispose()
