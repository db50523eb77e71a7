"""A panel member who unticks "får citeras" takes the quote out of review findings at once.

Issue 14, item 7: the panel already stores consent per reflection; unticking (on the member's
page, or by saving the reflection without the tick) goes through the one withdrawal function
and the web layer marks the quote in every finding that held it. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.settings import Settings
from feedback.panel import service as panel
from feedback.reports import reviews
from feedback.reports.models import Finding
from feedback.themes.models import OpenTextTheme
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from surveys.answers.models import OpenText, ThemingStatus
from tests.helpers import form_post, login, make_unit, make_user

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TEXT = "Min handläggare ringde alltid tillbaka."


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(redact=lambda t: t, clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.mark.parametrize("how", ["consent_page", "save_without_tick"])
async def test_unticking_marks_the_quote_in_the_finding(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, how: str
) -> None:
    unit = await make_unit(db_session)
    manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [unit]))
    member_user = await make_user(db_session, Role.PANEL_MEMBER, [unit])
    member = CurrentUser.from_user(member_user)
    panel_round = await panel.create_round(
        db_session, user=manager, unit_id=unit.id, title="Hösten", prompts=["Vad hjälpte?"],
        opens_on=date(2026, 11, 1), closes_on=date(2026, 12, 15),
    )  # fmt: skip
    round_id = panel_round.id
    reflection = await panel.save_reflection(
        db_session, user=member, round_id=round_id, prompt_index=0, text=TEXT, importance=4,
        quote_consent=True, now=NOW, pseudonym_key=settings.index_key, redact=lambda t: t,
    )  # fmt: skip
    reflection_id = reflection.id
    text = await db_session.scalar(sa.select(OpenText))
    assert text is not None and text.quote_consent
    text_id = text.id
    text.status = ThemingStatus.THEMED
    db_session.add(OpenTextTheme(open_text_id=text_id, theme_key="handlaggning"))
    review = await reviews.create_review(
        db_session, user=manager, unit_id=unit.id, title="Översyn", period_from=date(2026, 11, 1),
        period_to=date(2026, 11, 30), now=NOW,
    )  # fmt: skip
    finding = await reviews.add_finding(
        db_session, user=manager, review_id=review.id, text="De ringer tillbaka", theme_keys=[],
        quote_ids=[text_id], now=NOW,
    )  # fmt: skip
    finding_id = finding.id
    await db_session.commit()
    assert finding.quotes[0]["text"] == TEXT

    await login(client, member_user)
    if how == "consent_page":
        response = await form_post(
            client, f"/panel/reflections/{reflection_id}/consent", {}, follow_redirects=False
        )
    else:
        response = await form_post(
            client, f"/panel/rounds/{round_id}", {"prompt_index": "0", "text": TEXT, "importance": "4"},
            follow_redirects=False,
        )  # fmt: skip
    assert response.status_code == 303

    row = await db_session.get(OpenText, text_id, populate_existing=True)
    assert row is not None and row.quote_consent is False
    marked = await db_session.get(Finding, finding_id, populate_existing=True)
    assert marked is not None
    assert marked.quotes == [
        {"open_text_id": str(text_id), "text": reviews.WITHDRAWN_QUOTE_SV, "withdrawn": True}
    ]
