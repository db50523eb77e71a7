"""Seed for tests/e2e/test_client_page.py: one demo-like client of Försörjningsstöd Norra whose year
has everything the client page must show, built by ``tests/surveys/client_story.py`` through the
real services on top of the demo database of a running live server.

Run as a subprocess (``python -m tests.e2e.client_page_seed <database-url>``) with the live
server's environment (the same data keys): Playwright's sync API keeps an event loop in the test
thread. Prints the closure id.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime

import sqlalchemy as sa

from feedback.auth.models import Unit, User
from feedback.core.db import create_engine, import_all_models, session_factory
from feedback.core.settings import Settings
from tests.surveys.client_story import build_client_story

REF = "E2E-KLIENT"
CASEWORKER = "handlaggare@demo.uppfoljning.se"


async def seed(database_url: str) -> None:
    import_all_models()
    settings = Settings.from_env({**os.environ, "FEEDBACK_DATABASE_URL": database_url})
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            unit_id = await session.scalar(sa.select(Unit.id).where(Unit.code == "fsd"))
            user_id = await session.scalar(sa.select(User.id).where(User.email == CASEWORKER))
            assert unit_id is not None and user_id is not None
            story = await build_client_story(
                session, settings, unit_id=unit_id, caseworker_id=user_id, ref=REF, now=datetime.now(UTC)
            )
            print(story.closure_id)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(seed(sys.argv[1]))
