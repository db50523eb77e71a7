"""Async bodies of the account CLI commands (each owns its transaction)."""

from __future__ import annotations

from feedback.auth import services
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings


async def create_user_command(
    settings: Settings, *, email: str, role: str, unit_codes: list[str], name: str, password: str
) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            unit_ids = [(await services.get_unit_by_code(session, code)).id for code in unit_codes]
            await services.create_user(
                session,
                email=email,
                display_name=name or email,
                role=role,
                unit_ids=unit_ids,
                password=password,
            )
            await session.commit()
    finally:
        await engine.dispose()


async def invite_command(
    settings: Settings, *, email: str, role: str, unit_code: str | None, hours: int
) -> str:
    """Create an invitation as the operator and return the one-time link."""
    from datetime import timedelta

    from feedback.auth.invitations import create_invitation

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            unit_id = (await services.get_unit_by_code(session, unit_code)).id if unit_code else None
            _, url = await create_invitation(
                session,
                email=email,
                role=role,
                unit_id=unit_id,
                invited_by=None,
                ttl=timedelta(hours=hours),
                base_url=settings.public_url,
            )
            await session.commit()
            return url
    finally:
        await engine.dispose()
