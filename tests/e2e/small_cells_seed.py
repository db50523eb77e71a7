"""Seed for tests/e2e/test_small_cells.py: a third unit with exactly 3 respondents, through the real
services, on top of the demo database of a running live server.

Run as a subprocess (``python -m tests.e2e.small_cells_seed <database-url>``): Playwright's sync API
keeps an event loop in the test thread. What it adds:

* unit ``Försörjningsstöd Södra`` (code ``sodra``), created like the admin page does;
* a manager ``chef.alla@demo.uppfoljning.se`` for all three demo units (so the demo manager, whom
  other tests use, is unchanged);
* three open answers from three people in Södra, registered and redacted by
  ``register_open_text`` and themed by the manager's own label (``relabel_answer``), 20 days ago.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from feedback.auth import services
from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit
from feedback.core.db import create_engine, session_factory
from feedback.demo.accounts import DEMO_PASSWORD
from feedback.themes.decisions import relabel_answer
from surveys.answers.models import Channel
from surveys.answers.service import register_open_text

SMALL_UNIT = "Försörjningsstöd Södra"
MANAGER_ALL = "chef.alla@demo.uppfoljning.se"
SMALL_TEXTS = (
    "Min handläggare lyssnade på mig och förklarade beslutet noga.",
    "Bra bemötande i receptionen varje gång jag kom dit.",
    "Jag kände mig respekterad när vi gick igenom planen.",
)
THEME = "bemotande"


async def seed(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            small = await services.create_unit(session, code="sodra", name=SMALL_UNIT)
            units = list(await session.scalars(sa.select(Unit.id).where(Unit.code.in_(("fsd", "ame")))))
            manager = await services.create_user(
                session,
                email=MANAGER_ALL,
                display_name="Sara Chef för alla enheter",
                role=Role.MANAGER,
                unit_ids=[*units, small.id],
                password=DEMO_PASSWORD,
            )
            user = CurrentUser(
                id=manager.id,
                email=manager.email,
                display_name=manager.display_name,
                role=Role.MANAGER,
                unit_ids=frozenset([*units, small.id]),
            )
            now = datetime.now(UTC)
            for i, text in enumerate(SMALL_TEXTS):
                row = await register_open_text(
                    session,
                    channel=Channel.SMS,
                    source_ref=f"e2e-small-cells:{i}",
                    unit_id=small.id,
                    respondent_key=f"e2e-small-cells-person-{i}",
                    text=text,
                    received_at=now - timedelta(days=20, hours=i),
                    language="sv",
                    wave_days=30,
                    closure_reason="work",
                )
                await relabel_answer(session, user=user, open_text_id=row.id, theme_keys=[THEME], now=now)
            await session.commit()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(seed(sys.argv[1]))
