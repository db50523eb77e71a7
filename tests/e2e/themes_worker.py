"""The worker's theming job for tests/e2e/test_themes.py, run as a subprocess against a live server's
database: ``python -m tests.e2e.themes_worker <database-url> <model-dir> <status>`` runs ticks until
the newest retraining request reaches ``<status>`` (``ready`` or ``done``), or fails after a
generous number of ticks. Playwright's sync API keeps an event loop in the test thread, so the
job cannot run in the test process.
"""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from feedback.core.db import create_engine, session_factory
from feedback.themes import pool, retraining
from feedback.themes.jobs import ThemingJob
from tests.conftest import make_settings

MAX_TICKS = 200


async def main(database_url: str, model_dir: str, status: str) -> int:
    settings = make_settings(database_url, Path(model_dir).parent).with_overrides(model_dir=Path(model_dir))
    engine = create_engine(database_url)
    executor = ThreadPoolExecutor(1)
    pool.init(model_dir)
    job = ThemingJob(settings, session_factory(engine), executor=executor)
    try:
        for _ in range(MAX_TICKS):
            await job.tick()
            async with session_factory(engine)() as session:
                latest = await retraining.latest_request(session)
            if latest is not None and latest.status == status:
                return 0
            if latest is not None and latest.status in ("failed", "cancelled"):
                print(f"request {latest.id} {latest.status}: {latest.error}", file=sys.stderr)
                return 1
        return 1
    finally:
        executor.shutdown()
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:4])))
