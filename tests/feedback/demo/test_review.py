"""The demo step seeds a panel round, themed reflections and a review once (idempotent)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.settings import Settings
from feedback.demo.accounts import seed_people
from feedback.demo.review import seed_panel_and_review
from feedback.panel.models import PanelRound, PublishedItem, Reflection
from feedback.reports.models import Finding, Review, ReviewAction
from surveys.answers.models import OpenText, ThemingStatus


async def _count(session: AsyncSession, model) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


async def test_demo_step_is_complete_and_idempotent(db_session: AsyncSession, settings: Settings) -> None:
    await seed_people(db_session)
    await db_session.commit()
    lines = await seed_panel_and_review(db_session, settings)
    await db_session.commit()
    assert "publicerad" in lines[-1]
    counts = [
        await _count(db_session, m)
        for m in (PanelRound, Reflection, Review, Finding, ReviewAction, PublishedItem)
    ]
    assert counts == [1, 14, 1, 2, 2, 1]
    # the demo's published action is "klar", so the panel says "Vi gjorde" for it
    assert await db_session.scalar(sa.select(PublishedItem.done)) is True
    # reflections are redacted open text, themed, and never carry a member's name
    texts = list(await db_session.scalars(sa.select(OpenText)))
    assert len(texts) == 14 and all(t.status == ThemingStatus.THEMED for t in texts)
    assert not any("Panelmedlem" in t.text_redacted for t in texts)
    assert await seed_panel_and_review(db_session, settings) == ["Brukarpanel och översyn: finns redan"]
    assert [
        await _count(db_session, m)
        for m in (PanelRound, Reflection, Review, Finding, ReviewAction, PublishedItem)
    ] == counts
