"""Read-side queries for the theme management pages (scoped to the manager's units)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.themes.models import AnswerLabel, OpenTextTheme
from surveys.answers.models import OpenText

MAX_ANSWERS = 100


@dataclass(frozen=True)
class ThemeCount:
    answers: int
    respondents: int


def _scoped(query: sa.Select, unit_ids: frozenset[uuid.UUID] | None) -> sa.Select:
    return query if unit_ids is None else query.where(OpenText.unit_id.in_(unit_ids))


async def theme_counts(session: AsyncSession, unit_ids: frozenset[uuid.UUID] | None) -> dict[str, ThemeCount]:
    query = (
        sa.select(
            OpenTextTheme.theme_key,
            sa.func.count(OpenText.id),
            sa.func.count(sa.distinct(OpenText.respondent_key)),
        )
        .join(OpenText, OpenText.id == OpenTextTheme.open_text_id)
        .group_by(OpenTextTheme.theme_key)
    )
    rows = await session.execute(_scoped(query, unit_ids))
    return {key: ThemeCount(n, r) for key, n, r in rows}


@dataclass(frozen=True)
class AnswerRow:
    id: uuid.UUID
    text: str
    received_at: object
    channel: str
    themes: list[str]
    labelled: bool


async def answers_with_theme(
    session: AsyncSession, key: str, unit_ids: frozenset[uuid.UUID] | None, limit: int = MAX_ANSWERS
) -> list[AnswerRow]:
    """The newest redacted answers carrying ``key`` in the user's units, with all their themes."""
    query = (
        sa.select(OpenText)
        .join(OpenTextTheme, OpenTextTheme.open_text_id == OpenText.id)
        .where(OpenTextTheme.theme_key == key)
        .order_by(OpenText.received_at.desc())
        .limit(limit)
    )
    rows = list(await session.scalars(_scoped(query, unit_ids)))
    labelled = set(
        await session.scalars(
            sa.select(AnswerLabel.open_text_id).where(AnswerLabel.open_text_id.in_([r.id for r in rows]))
        )
    )
    return [
        AnswerRow(
            id=r.id,
            text=r.text_redacted,
            received_at=r.received_at,
            channel=str(r.channel),
            themes=sorted(t.theme_key for t in r.themes),
            labelled=r.id in labelled,
        )
        for r in rows
    ]
