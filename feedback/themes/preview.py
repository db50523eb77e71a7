"""The retraining preview: which stored answers a candidate model would give other themes.

Why before anything changes: a retraining re-themes every answer, and managers saw counts jump
for reasons they could not see. The worker assigns every themed answer with the candidate,
resolves the result exactly as storing it would (the current codebook, manager labels win) and
compares it with what is stored. Only counts and answer ids are kept (``preview`` on the
request); the page shows the redacted texts of examples from the manager's own units.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.themes.decisions import labelled_keys
from feedback.themes.models import OpenTextTheme
from nlp.codebook import FALLBACK_KEY, Codebook
from surveys.answers.models import OpenText, ThemingStatus

MAX_EXAMPLES_PER_UNIT = 20

Assign = Callable[[list[str]], Awaitable[list[dict[str, Any]]]]


def resolved_keys(codebook: Codebook, result: dict[str, Any], label: list[str] | None) -> list[str]:
    """What storing ``result`` would write: the manager's label, else the model resolved."""
    if label is not None:
        return label
    return codebook.resolve_labels(result.get("themes", ())) or [FALLBACK_KEY]


async def compare(session: AsyncSession, codebook: Codebook, assign: Assign, *, batch: int) -> dict[str, Any]:
    """Assign every themed answer with the candidate (``assign``) and count what would change.

    Reads the answers in id order, ``batch`` at a time, so memory stays flat on a big year.
    """
    total = changed = 0
    lost: Counter[str] = Counter()
    gained: Counter[str] = Counter()
    per_unit: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    shown: Counter[str] = Counter()
    last: uuid.UUID | None = None
    while True:
        query = (
            sa.select(OpenText.id, OpenText.text_redacted, OpenText.unit_id)
            .where(OpenText.status == ThemingStatus.THEMED)
            .order_by(OpenText.id)
            .limit(batch)
        )
        if last is not None:
            query = query.where(OpenText.id > last)
        rows = list(await session.execute(query))
        if not rows:
            break
        last = rows[-1][0]
        ids = [r[0] for r in rows]
        results = await assign([r[1] for r in rows])
        labels = await labelled_keys(session, ids, codebook)
        stored: dict[uuid.UUID, set[str]] = {i: set() for i in ids}
        for i, k in await session.execute(
            sa.select(OpenTextTheme.open_text_id, OpenTextTheme.theme_key).where(
                OpenTextTheme.open_text_id.in_(ids)
            )
        ):
            stored[i].add(k)
        for (i, _text, unit_id), result in zip(rows, results, strict=True):
            if "error" in result:
                continue
            total += 1
            after = set(resolved_keys(codebook, result, labels.get(i)))
            before = stored[i]
            if after == before:
                continue
            changed += 1
            unit = str(unit_id)
            per_unit[unit] += 1
            lost.update(before - after)
            gained.update(after - before)
            if shown[unit] < MAX_EXAMPLES_PER_UNIT:
                shown[unit] += 1
                examples.append(
                    {"id": str(i), "unit_id": unit, "before": sorted(before), "after": sorted(after)}
                )
    return {
        "total": total,
        "changed": changed,
        "lost": dict(lost),
        "gained": dict(gained),
        "units": dict(per_unit),
        "examples": examples,
    }
