"""Issue 14, item 7 on the caseworker pages: the phone script's quoting question, and withdrawal.

Through the real app: a caseworker takes a call, works the script (the quoting question after
the open answer, default no), logs it; the quote reaches the manager's report only with a yes.
A person's withdrawal recorded on the call page or the case page takes the quote out of the
report and marks it in the review finding that held it, in the same request (audited).
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, User
from feedback.core.clock import FrozenClock
from feedback.core.models import AuditEvent
from feedback.core.settings import Settings
from feedback.reports import reviews
from feedback.reports.filters import ReportFilters
from feedback.reports.models import Finding
from feedback.reports.queries import build_theme_report
from feedback.themes.models import OpenTextTheme
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from surveys.answers.models import OpenText, ThemingStatus
from surveys.answers.service import register_open_text
from surveys.cases.models import CaseTrigger
from surveys.cases.service import open_case
from surveys.phone import service
from surveys.questionnaires.defaults import PHONE_QUOTE_CONSENT
from tests.helpers import form_post, login, make_user
from tests.surveys.world import NOW, World

THEME = "stod_till_arbete"
REPORT = ReportFilters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


async def _call(
    client: AsyncTestClient[Litestar],
    session: AsyncSession,
    world: World,
    user: User,
    reason: str,
    **form: str,
) -> int:
    task = await service.create_call_task(session, world.follow_up, reason=reason, now=NOW)
    await session.commit()
    await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    response = await form_post(client, f"/caseworker/calls/{task.id}/log", form, follow_redirects=False)
    return int(response.status_code)


async def _theme_everything(session: AsyncSession, unit_id: object, others: int = 5) -> None:
    """Theme the stored answers as the worker would, with enough other people to show the theme."""
    for i in range(others):
        await register_open_text(
            session, channel="phone", source_ref=f"other:{i}", unit_id=unit_id, respondent_key=f"o{i}",  # type: ignore[arg-type]
            text="Praktiken hjälpte", received_at=NOW, language="sv", wave_days=30, closure_reason="work",
            question_key="helped", redact=lambda t: t,
        )  # fmt: skip
    for row in await session.scalars(sa.select(OpenText).where(OpenText.question_key == "helped")):
        row.status = ThemingStatus.THEMED
        session.add(OpenTextTheme(open_text_id=row.id, theme_key=THEME))
    await session.commit()


async def _quotes(session: AsyncSession) -> list[str]:
    report = await build_theme_report(session, REPORT, None, now=NOW)
    [row] = [t for t in report.themes if t.key == THEME]
    return row.quotes


async def _answer(session: AsyncSession) -> OpenText:
    row = await session.scalar(
        sa.select(OpenText)
        .where(OpenText.question_key == "helped", OpenText.source_ref.like("answer:%"))
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


COMPLETED = {
    "outcome": "completed",
    "consent": "ja",
    "answer_status": "1",
    "answer_helped": "Praktiken på lagret",
}


async def test_the_script_asks_to_quote_the_open_answer_and_no_is_the_default(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    unit_id = world.unit.id
    task = await service.create_call_task(db_session, world.follow_up, reason="plan", now=NOW)
    await db_session.commit()
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    await form_post(client, f"/caseworker/calls/{task.id}/claim", {})
    page = await client.get(f"/caseworker/calls/{task.id}")
    assert PHONE_QUOTE_CONSENT in page.text
    assert '<input type="radio" name="quote_helped" value="nej" checked>' in page.text
    assert '<input type="radio" name="quote_helped" value="ja" >' in page.text
    bad = await form_post(client, f"/caseworker/calls/{task.id}/log", {**COMPLETED, "quote_helped": "kanske"})
    assert bad.status_code == 400 and "Välj ja eller nej för citat." in bad.text
    # Logged without touching the question: not quotable.
    done = await form_post(client, f"/caseworker/calls/{task.id}/log", COMPLETED, follow_redirects=False)
    assert done.status_code == 303
    assert (await _answer(db_session)).quote_consent is False
    await _theme_everything(db_session, unit_id)
    assert await _quotes(db_session) == []


async def test_yes_on_the_phone_puts_the_answer_among_the_report_quotes(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    unit_id = world.unit.id
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    status = await _call(client, db_session, world, user, "plan", **COMPLETED, quote_helped="ja")
    assert status == 303
    assert (await _answer(db_session)).quote_consent is True
    await _theme_everything(db_session, unit_id)
    assert await _quotes(db_session) == ["Praktiken på lagret"]


@pytest.mark.parametrize("where", ["call", "case"])
async def test_a_withdrawal_recorded_by_the_caseworker_removes_and_marks_the_quote(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World, where: str
) -> None:
    unit_id, closure_id, follow_up_id = world.unit.id, world.follow_up.closure_id, world.follow_up.id
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [world.unit]))
    await login(client, user)
    assert await _call(client, db_session, world, user, "plan", **COMPLETED, quote_helped="ja") == 303
    await _theme_everything(db_session, unit_id)
    quoted_id = (await _answer(db_session)).id
    review = await reviews.create_review(
        db_session, user=manager, unit_id=unit_id, title="Mars", period_from=date(2026, 3, 1),
        period_to=date(2026, 3, 31), now=NOW,
    )  # fmt: skip
    finding = await reviews.add_finding(
        db_session, user=manager, review_id=review.id, text="Praktik hjälper", theme_keys=[THEME],
        quote_ids=[quoted_id], now=NOW,
    )  # fmt: skip
    finding_id = finding.id
    await db_session.commit()
    assert await _quotes(db_session) == ["Praktiken på lagret"]

    if where == "call":  # a later call: the person says no more quotes, and declines to answer
        assert (
            await _call(client, db_session, world, user, "call_me", outcome="declined", withdraw_quotes="ja")
            == 303
        )
    else:
        case = await open_case(
            db_session, unit_id=unit_id, closure_id=closure_id, follow_up_id=follow_up_id,
            trigger=CaseTrigger.CASEWORKER, source="phone", summary="Uppföljning", now=NOW,
        )  # fmt: skip
        await db_session.commit()
        page = await client.get(f"/caseworker/cases/{case.id}")
        assert "Personen vill inte längre bli citerad" in page.text
        done = await form_post(
            client, f"/caseworker/cases/{case.id}/withdraw-quotes", {}, follow_redirects=False
        )
        assert done.status_code == 303 and "quotes_withdrawn" in done.headers["location"]

    assert (await _answer(db_session)).quote_consent is False
    assert await _quotes(db_session) == []
    marked = await db_session.get(Finding, finding_id, populate_existing=True)
    assert marked is not None and marked.quotes == [
        {"open_text_id": str(quoted_id), "text": reviews.WITHDRAWN_QUOTE_SV, "withdrawn": True}
    ]
    events = list(
        await db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "quote.consent_withdrawn"))
    )
    assert len(events) == 1 and events[0].actor_id == user.id


async def test_the_review_page_never_shows_a_quote_withdrawn_behind_its_back(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    """A withdrawal that skipped the marking (a script, an old path) is caught when the page is read."""
    unit_id = world.unit.id
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    manager_user = await make_user(db_session, Role.MANAGER, [world.unit])
    manager = CurrentUser.from_user(manager_user)
    await login(client, user)
    assert await _call(client, db_session, world, user, "plan", **COMPLETED, quote_helped="ja") == 303
    await _theme_everything(db_session, unit_id)
    quoted_id = (await _answer(db_session)).id
    review = await reviews.create_review(
        db_session, user=manager, unit_id=unit_id, title="Mars", period_from=date(2026, 3, 1),
        period_to=date(2026, 3, 31), now=NOW,
    )  # fmt: skip
    review_id = review.id
    await reviews.add_finding(
        db_session, user=manager, review_id=review_id, text="Praktik hjälper", theme_keys=[THEME],
        quote_ids=[quoted_id], now=NOW,
    )  # fmt: skip
    await db_session.execute(sa.update(OpenText).where(OpenText.id == quoted_id).values(quote_consent=False))
    await db_session.commit()
    await login(client, manager_user)
    page = await client.get(f"/reviews/{review_id}")
    assert page.status_code == 200
    assert "Praktiken på lagret" not in page.text and reviews.WITHDRAWN_QUOTE_SV in page.text
