"""Store what the theme model says about answers; theme answers in-process for the demo data.

The model's output is only a suggestion: it is resolved through the current codebook (a key the
manager merged lands on the merged theme) and then overridden by manager labels. CPU work runs in
a worker thread so the event loop stays free. Retraining is not here: the worker's theming job
does it on request (``feedback.themes.retraining``), in its one process pool.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.themes.decisions import current_codebook, labelled_keys
from feedback.themes.models import OpenTextTheme
from nlp.codebook import FALLBACK_KEY, Codebook
from surveys.answers.models import OpenText, ThemingStatus

BATCH = 500
log = logging.getLogger(__name__)


MAX_ATTEMPTS = 5


async def theme_rows(session: AsyncSession, model: Any, rows: list[OpenText], *, now: datetime) -> int:
    """Assign themes and sentiment to ``rows`` (already redacted text); manager labels win."""
    if not rows:
        return 0
    texts = [r.text_redacted for r in rows]
    assignments = await anyio.to_thread.run_sync(model.assign_many, texts)
    return await store_assignments(session, rows, [a.to_dict() for a in assignments], now=now)


async def store_assignments(
    session: AsyncSession,
    rows: list[OpenText],
    results: list[dict[str, Any]],
    *,
    now: datetime,
    codebook: Codebook | None = None,
) -> int:
    """Store what the model said for each row (``Assignment.to_dict()`` shapes), manager labels first.

    Per row: its ``open_text_theme`` rows (score, per-mention sentiment, evidence terms, origin
    ``model`` or ``manager``), the answer's sentiment and the model and codebook versions. A
    result ``{"error": …}`` leaves the row ``pending`` for a retry (``attempts`` counts tries)
    until ``MAX_ATTEMPTS``, then marks it ``failed``; it never holds up the other rows.
    Returns the number of rows themed.
    """
    if not rows:
        return 0
    codebook = codebook or await current_codebook(session)
    ok = [(r, a) for r, a in zip(rows, results, strict=True) if "error" not in a]
    for row, a in zip(rows, results, strict=True):
        if "error" in a:
            row.attempts += 1
            if row.attempts >= MAX_ATTEMPTS:
                row.status = ThemingStatus.FAILED
            log.warning("theming open_text %s failed (attempt %d): %s", row.id, row.attempts, a["error"])
    labels = await labelled_keys(session, [r.id for r, _ in ok], codebook)
    ids = [r.id for r, _ in ok]
    if ids:
        await session.execute(sa.delete(OpenTextTheme).where(OpenTextTheme.open_text_id.in_(ids)))
    for row, a in ok:
        if row.id in labels:
            keys, origin = labels[row.id], "manager"
        else:
            keys, origin = codebook.resolve_labels(a["themes"]) or [FALLBACK_KEY], "model"
        per_theme = a.get("theme_sentiments") or {}
        for key in keys:
            session.add(
                OpenTextTheme(
                    open_text_id=row.id,
                    theme_key=key,
                    score=float(a["scores"].get(key, 1.0)),
                    sentiment=per_theme.get(key, a.get("sentiment")),
                    evidence=list(a["evidence"].get(key, [])),
                    origin=origin,
                )
            )
        row.sentiment = a.get("sentiment")
        row.model_version = a.get("model_version")
        row.codebook_version = codebook.version
        row.status = ThemingStatus.THEMED
        row.themed_at = now
        row.attempts += 1
    await session.flush()
    return len(ok)


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


def load_model_or_none(model_dir: str | Path) -> Any:
    from nlp.themes import load_current

    return load_current(model_dir)


async def load_or_train_model(model_dir: str | Path) -> Any:
    from nlp.themes import load_or_train

    return await anyio.to_thread.run_sync(load_or_train, Path(model_dir))
