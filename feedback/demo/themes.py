"""Demo step: theme every open answer the demo year produced, so the first report has them.

In a running system the worker does this within a minute of each answer's arrival; the demo
does it at once so the review created next freezes a snapshot that holds the year.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.demo.progress import Progress, no_progress
from feedback.themes import retraining, theming


async def theme_all_pending(
    session: AsyncSession, settings: Any, progress: Progress = no_progress
) -> list[str]:
    model = await theming.load_or_train_model(settings.model_dir)
    total = 0
    while count := await theming.theme_pending(session, model, now=datetime.now(UTC)):
        total += count
        await session.commit()
    # the report says which model its counts come from: the demo's is the first one
    await retraining.note_model(session, model_version=model.version, now=datetime.now(UTC))
    await session.commit()
    return [f"Teman: {total} öppna svar temasatta"] if total else []
