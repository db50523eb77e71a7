"""A light database for the account and SSO browser tests: migrated, demo units and people only.

Why not the shared demo template: these tests need the demo admin, caseworkers and units, not a
year of follow-ups, and seeding the year takes minutes on a busy machine. Run as a subprocess
(``python -m tests.e2e.people_seed <sqlite-path>``): Playwright's sync API keeps an event loop in
the test thread.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from feedback.core import migrate
from feedback.core.db import create_engine, import_all_models, session_factory
from feedback.demo.accounts import seed_people


async def seed(database_url: str) -> None:
    import_all_models()
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            await seed_people(session)
            await session.commit()
    finally:
        await engine.dispose()


def main(path: str) -> None:
    url = f"sqlite+aiosqlite:///{Path(path)}"
    migrate.upgrade(url)
    asyncio.run(seed(url))


if __name__ == "__main__":
    main(sys.argv[1])


def prepare_people_database(path: Path) -> Path:
    """Build the light database in a subprocess (for a test module's live server)."""
    import os
    import subprocess

    from tests.e2e.support import BASE_ENV, ROOT

    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.people_seed", str(path)],
        cwd=ROOT,
        env={**os.environ, **BASE_ENV},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"people seed failed:\n{result.stdout}\n{result.stderr}")
    return path
