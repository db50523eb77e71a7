"""Inner-loop case pages: my units only, take ownership, close only with a redacted action note."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from surveys.cases import service
from surveys.cases.models import Case, CaseStatus, CaseTrigger
from tests.helpers import form_post, login, make_user
from tests.surveys.world import NOW, World, make_world


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


async def _case(
    session: AsyncSession, world: World, trigger: CaseTrigger = CaseTrigger.CALL_ME, **kw
) -> Case:
    case = await service.open_case(
        session,
        unit_id=world.unit.id,
        closure_id=world.follow_up.closure_id,
        follow_up_id=world.follow_up.id,
        trigger=trigger,
        source="sms",
        summary="Personen bad om att bli uppringd.",
        now=kw.get("now", NOW),
    )
    await session.commit()
    return case


async def test_list_detail_take_and_close(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    other = await make_world(db_session, settings, ref="K-200", phone="+46709876543")
    case = await _case(db_session, world)
    foreign = await _case(db_session, other, CaseTrigger.CRISIS)
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, user)
    listing = await client.get("/caseworker/cases/")
    assert listing.status_code == 200
    assert f"/caseworker/cases/{case.id}" in listing.text and str(foreign.id) not in listing.text
    assert "Vill bli uppringd" in listing.text and "2026-03-04" in listing.text  # 2 working days after Mon
    assert "Ingen ännu" in listing.text
    assert (await client.get(f"/caseworker/cases/{foreign.id}")).status_code == 404
    detail = await client.get(f"/caseworker/cases/{case.id}")
    assert "Personen bad om att bli uppringd." in detail.text and "K-100" in detail.text
    taken = await form_post(client, f"/caseworker/cases/{case.id}/take", {})
    assert "Du är nu ansvarig för ärendet." in taken.text
    await db_session.refresh(case)
    assert case.owner_id == user.id
    empty = await form_post(client, f"/caseworker/cases/{case.id}/close", {"action_note": " "})
    assert empty.status_code == 400 and "Skriv vad som gjordes" in empty.text
    await db_session.refresh(case)
    assert case.status is CaseStatus.OPEN
    closed = await form_post(
        client, f"/caseworker/cases/{case.id}/close", {"action_note": "Ringde 0701234567, bokade möte."}
    )
    assert closed.status_code == 200 and "Ärendet är stängt." in closed.text
    await db_session.refresh(case)
    assert case.status is CaseStatus.CLOSED and case.closed_by_id == user.id
    assert case.action_note and "0701234567" not in case.action_note and "bokade möte" in case.action_note
    assert str(case.id) not in closed.text  # no longer in the open list
    again = await form_post(client, f"/caseworker/cases/{case.id}/close", {"action_note": "igen igen"})
    assert again.status_code == 409


async def test_open_case_ages_for_managers(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    old = await _case(db_session, world, now=NOW - timedelta(days=10))
    fresh = await _case(db_session, world, CaseTrigger.CRISIS)
    closed = await _case(db_session, world, CaseTrigger.LOW_SCORE)
    await service.close_case(db_session, closed, user_id=None, action_note="Klart nu", now=NOW)  # type: ignore[arg-type]
    await db_session.commit()
    ages = await service.open_case_ages(db_session, [world.unit.id], NOW)
    assert [a.case_id for a in ages] == [old.id, fresh.id]  # oldest first, closed left out
    assert ages[0].age_days == 10 and ages[0].overdue and ages[0].due_on == date(2026, 2, 24)
    assert ages[0].overdue_working_days == 4  # due Tue 24 Feb; late on 25, 26, 27 Feb and Mon 2 Mar
    assert ages[1].age_days == 0 and not ages[1].overdue
    assert await service.open_case_ages(db_session, [], NOW) == []


def test_working_days_between_skips_weekends_and_holidays() -> None:
    assert service.working_days_between(date(2026, 3, 6), date(2026, 3, 9)) == 1  # Fri → Mon
    assert (
        service.working_days_between(date(2026, 12, 23), date(2026, 12, 28)) == 1
    )  # only Mon 28: julafton, juldagen, annandag jul
    assert service.working_days_between(date(2026, 3, 9), date(2026, 3, 6)) == 0


async def test_closed_cases_are_listed_and_filterable(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, world: World
) -> None:
    second = await make_world(db_session, settings, ref="K-300", phone="+46701112233")
    foreign = await make_world(db_session, settings, ref="K-400", phone="+46709998877")
    user = await make_user(db_session, Role.CASEWORKER, [world.unit, second.unit])
    done = await _case(db_session, world, CaseTrigger.CALL_ME)
    still_open = await _case(db_session, second, CaseTrigger.CRISIS)
    closed_foreign = await _case(db_session, foreign, CaseTrigger.CALL_ME)
    for case in (done, closed_foreign):
        await service.close_case(db_session, case, user_id=user.id, action_note="Ringde upp.", now=NOW)
    await db_session.commit()
    still_open.owner_id = user.id
    await db_session.commit()
    await login(client, user)

    default = await client.get("/caseworker/cases/")
    assert ">Du</td>" in default.text  # my own case says so (base.html's `me` no longer shadows it)
    assert str(still_open.id) in default.text and str(done.id) not in default.text
    assert "Öppna ärenden i dina enheter (1)" in default.text

    closed = await client.get("/caseworker/cases/", params={"visa": "stangda"})
    assert closed.status_code == 200
    assert str(done.id) in closed.text and str(still_open.id) not in closed.text
    assert str(closed_foreign.id) not in closed.text  # another unit's closed case stays hidden
    assert "Stängda ärenden i dina enheter (1)" in closed.text and "av dig" in closed.text

    both = await client.get("/caseworker/cases/", params={"visa": "alla"})
    assert str(done.id) in both.text and str(still_open.id) in both.text
    assert both.text.index(str(still_open.id)) < both.text.index(str(done.id))  # open first

    by_unit = await client.get("/caseworker/cases/", params={"visa": "alla", "enhet": str(second.unit.id)})
    assert str(still_open.id) in by_unit.text and str(done.id) not in by_unit.text
    by_reason = await client.get("/caseworker/cases/", params={"visa": "alla", "varfor": "call_me"})
    assert str(done.id) in by_reason.text and str(still_open.id) not in by_reason.text
    none = await client.get("/caseworker/cases/", params={"visa": "stangda", "varfor": "low_score"})
    assert "Inga ärenden matchar ditt val." in none.text

    for params in ({"visa": "x"}, {"varfor": "nope"}, {"enhet": str(foreign.unit.id)}, {"enhet": "abc"}):
        refused = await client.get("/caseworker/cases/", params=params)
        assert refused.status_code == 400, params
    assert str(closed_foreign.id) not in refused.text
