"""Theme stored answers with the current model, and retrain it from the manager's decisions.

The model's output is only a suggestion: it is resolved through the current codebook (a key the
manager merged lands on the merged theme) and then overridden by manager labels. CPU work (scoring,
training) runs in a worker thread so the event loop stays free.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.themes.decisions import current_codebook, labelled_keys, manager_labels, reapply_rules
from feedback.themes.models import OpenText, OpenTextTheme, ThemingStatus
from nlp.codebook import FALLBACK_KEY, Codebook

BATCH = 500


async def theme_rows(session: AsyncSession, model: Any, rows: list[OpenText], *, now: datetime) -> int:
    """Assign themes and sentiment to ``rows`` (already redacted text); manager labels win."""
    if not rows:
        return 0
    codebook = await current_codebook(session)
    texts = [r.text_redacted for r in rows]
    assignments = await anyio.to_thread.run_sync(model.assign_many, texts)
    labels = await labelled_keys(session, [r.id for r in rows], codebook)
    ids = [r.id for r in rows]
    await session.execute(sa.delete(OpenTextTheme).where(OpenTextTheme.open_text_id.in_(ids)))
    for row, a in zip(rows, assignments, strict=True):
        if row.id in labels:
            keys, origin = labels[row.id], "manager"
        else:
            keys, origin = codebook.resolve_labels(a.themes) or [FALLBACK_KEY], "model"
        for key in keys:
            session.add(
                OpenTextTheme(
                    open_text_id=row.id,
                    theme_key=key,
                    score=float(a.scores.get(key, 1.0)),
                    sentiment=a.theme_sentiments.get(key),
                    evidence=list(a.evidence.get(key, [])),
                    origin=origin,
                )
            )
        row.sentiment = a.sentiment
        row.model_version = a.model_version
        row.codebook_version = codebook.version
        row.status = ThemingStatus.THEMED
        row.themed_at = now
        row.attempts += 1
    await session.flush()
    return len(rows)


async def theme_pending(session: AsyncSession, model: Any, *, now: datetime, limit: int = BATCH) -> int:
    rows = list(
        await session.scalars(
            sa.select(OpenText)
            .where(OpenText.status == ThemingStatus.PENDING)
            .order_by(OpenText.received_at)
            .limit(limit)
        )
    )
    return await theme_rows(session, model, rows, now=now)


def _train(codebook: Codebook, labels: list[dict[str, Any]], model_dir: Path) -> Any:
    from nlp.dataset import load_dev
    from nlp.themes import load_model, save_current, train

    model = train(load_dev(), codebook, manager_labels=labels)
    return load_model(save_current(model, model_dir))


async def retrain(session: AsyncSession, *, model_dir: str | Path, now: datetime) -> Any:
    """Train on the shipped data + every manager label under the current codebook, then re-theme.

    Returns the new model. Every stored answer is re-themed with it (in batches) and the rules
    are re-applied, so the manager's edits survive and merged themes stay merged.
    """
    codebook = await current_codebook(session)
    labels = await manager_labels(session)
    model = await anyio.to_thread.run_sync(_train, codebook, labels, Path(model_dir))
    await session.execute(sa.update(OpenText).values(status=ThemingStatus.PENDING, attempts=0))
    while await theme_pending(session, model, now=now):
        pass
    await reapply_rules(session, codebook)
    return model


def load_model_or_none(model_dir: str | Path) -> Any:
    from nlp.themes import load_current

    return load_current(model_dir)


async def load_or_train_model(model_dir: str | Path) -> Any:
    from nlp.themes import load_or_train

    return await anyio.to_thread.run_sync(load_or_train, Path(model_dir))
