"""Read-side queries for the theme management pages (scoped to the manager's units)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.themes.models import AnswerLabel, OpenTextTheme
from surveys.answers.models import OpenText

MAX_ANSWERS = 50


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


@dataclass(frozen=True)
class AnswerPage:
    """One page of a theme's answers: ``total`` matches the search, ``page`` counts from 1."""

    answers: list[AnswerRow]
    total: int
    page: int
    pages: int
    search: str
    size: int


def _like(search: str) -> str:
    """A LIKE pattern that treats the manager's % and _ as plain characters."""
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


async def answers_with_theme(
    session: AsyncSession,
    key: str,
    unit_ids: frozenset[uuid.UUID] | None,
    limit: int = MAX_ANSWERS,
    *,
    page: int = 1,
    search: str = "",
) -> AnswerPage:
    """A page of the newest redacted answers carrying ``key`` in the user's units, with all their
    themes; ``search`` keeps the answers whose redacted text contains it (case-insensitive)."""
    search = search.strip()[:200]
    where = [OpenTextTheme.theme_key == key]
    if search:
        where.append(sa.func.lower(OpenText.text_redacted).like(_like(search), escape="\\"))
    base = sa.select(OpenText.id).join(OpenTextTheme, OpenTextTheme.open_text_id == OpenText.id).where(*where)
    total = int(
        await session.scalar(sa.select(sa.func.count()).select_from(_scoped(base, unit_ids).subquery())) or 0
    )
    pages = max(1, -(-total // limit))
    page = min(max(1, page), pages)
    query = (
        sa.select(OpenText)
        .join(OpenTextTheme, OpenTextTheme.open_text_id == OpenText.id)
        .where(*where)
        .order_by(OpenText.received_at.desc(), OpenText.id)
        .offset((page - 1) * limit)
        .limit(limit)
    )
    rows = list(await session.scalars(_scoped(query, unit_ids)))
    labelled = set(
        await session.scalars(
            sa.select(AnswerLabel.open_text_id).where(AnswerLabel.open_text_id.in_([r.id for r in rows]))
        )
    )
    themes: dict[uuid.UUID, list[str]] = {r.id: [] for r in rows}
    for i, k in await session.execute(
        sa.select(OpenTextTheme.open_text_id, OpenTextTheme.theme_key).where(
            OpenTextTheme.open_text_id.in_(list(themes))
        )
    ):
        themes[i].append(k)
    answers = [
        AnswerRow(
            id=r.id,
            text=r.text_redacted,
            received_at=r.received_at,
            channel=str(r.channel),
            themes=sorted(themes[r.id]),
            labelled=r.id in labelled,
        )
        for r in rows
    ]
    return AnswerPage(answers, total, page, pages, search, limit)


async def texts(
    session: AsyncSession, ids: list[uuid.UUID], unit_ids: frozenset[uuid.UUID] | None
) -> dict[uuid.UUID, str]:
    """Redacted texts of the given answers that lie in the user's units (others are left out)."""
    if not ids:
        return {}
    query = sa.select(OpenText.id, OpenText.text_redacted).where(OpenText.id.in_(ids))
    return {i: t for i, t in await session.execute(_scoped(query, unit_ids))}
