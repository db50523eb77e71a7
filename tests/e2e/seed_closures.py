"""Register closures in a live server's database through the closures service (e2e helper).

Used by tests/e2e/test_follow_up_loop.py while the caseworker closure form is not available:
run as ``python -m tests.e2e.seed_closures UNIT_CODE EMAIL REF=PHONE ...`` with the live
server's FEEDBACK_* environment, so the same keys encrypt the numbers. ``closed_on`` is today
(Stockholm) by the app's clock, so moving the clock 30 days makes the first SMS due.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from feedback.auth.models import Unit, User
from feedback.db import create_engine, session_factory
from feedback.settings import Settings
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.service import ClosureInput, register_closure


async def seed(unit_code: str, email: str, pairs: list[tuple[str, str]]) -> list[str]:
    settings = Settings.from_env(os.environ)
    engine = create_engine(settings.database_url)
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Stockholm")).date()
    try:
        async with session_factory(engine)() as session:
            unit_id = await session.scalar(sa.select(Unit.id).where(Unit.code == unit_code))
            user_id = await session.scalar(sa.select(User.id).where(User.email == email))
            assert unit_id is not None and user_id is not None
            ids = []
            for ref, phone in pairs:
                reg = await register_closure(
                    session,
                    unit_id=unit_id,
                    data=ClosureInput(client_ref=ref, closed_on=today, reason="work", phone=phone,
                                      consent_on=today, consent_channel="meeting", consent_given_by="client"),
                    phones=VaultPhoneProtector(settings),
                    actor_id=user_id,
                    now=datetime.now(UTC),
                    min_gap_days=settings.contact_min_gap_days,
                )  # fmt: skip
                ids.append(str(reg.closure.id))
            await session.commit()
            return ids
    finally:
        await engine.dispose()


if __name__ == "__main__":
    unit, who, *rest = sys.argv[1:]
    print(" ".join(asyncio.run(seed(unit, who, [tuple(p.split("=", 1)) for p in rest]))))  # type: ignore[misc]
