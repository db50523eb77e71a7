"""Report queries on known data (SQLite and PostgreSQL): counts, shares, suppression, SKR shares."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import Forbidden
from feedback.reports.filters import ReportFilters
from feedback.reports.queries import build_theme_report
from tests.feedback.reports.factories import ReportData
from tests.helpers import make_unit

YEAR = ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
NOW = datetime(2026, 12, 31, 12, tzinfo=UTC)


def at(month: int, day: int = 10) -> datetime:
    return datetime(2026, month, day, 10, tzinfo=UTC)


async def test_theme_counts_shares_trend_and_suppression(db_session: AsyncSession) -> None:
    unit = await make_unit(db_session, name="Norra")
    data = ReportData(db_session)
    # 8 people mention bemötande (6 in March, 2 in April), 6 mention samverkan, 3 mention hälsa.
    people = [f"p{i}" for i in range(12)]
    for i in range(8):
        await data.text(
            unit, {"bemotande": "pos" if i < 6 else "neg"}, person=people[i], at=at(3 if i < 6 else 4)
        )
    for i in range(6):
        await data.text(unit, ["samverkan"], person=people[i + 4], at=at(3), sentiment="neg")
    for i in range(3):
        await data.text(unit, ["halsa"], person=people[i + 9], at=at(5))
    # one person writes twice under the same theme: still one respondent
    await data.text(
        unit, {"bemotande": "pos"}, person=people[0], at=at(3, 20), consent=True, text="Hon lyssnade."
    )
    await db_session.commit()

    report = await build_theme_report(db_session, YEAR, frozenset({unit.id}), now=NOW)
    by_key = {row.key: row for row in report.themes}
    assert report.respondents == 12
    assert by_key["bemotande"].respondents == 8
    assert by_key["bemotande"].share == pytest.approx(8 / 12)
    # hälsa: 3 people → primary suppression, share too; samverkan (6, the next smallest on the
    # themes line) is the complement, so 12 − 8 − 6 cannot reveal the hidden 3
    assert by_key["halsa"].respondents is None and by_key["halsa"].share is None
    assert by_key["samverkan"].respondents is None
    # trend: March has 6 (bemötande) visible, April's 2 hidden with a complement
    march, april = "202603", "202604"
    # April's 2 is primary; March's 6 is the only non-empty complement on the 8-person line
    assert by_key["bemotande"].trend[march] is None
    assert by_key["bemotande"].trend["202605"] == 0
    assert by_key["bemotande"].trend[april] is None
    assert (
        sum(1 for v in by_key["bemotande"].trend.values() if v is None) >= 2
        or by_key["bemotande"].respondents is None
    )
    # sentiment: 6 positive (7 texts, 6 people), 2 negative → hidden with a complement
    assert by_key["bemotande"].sentiment["neg"] is None
    # quotes only from consenting writers, and only for visible themes with >= 5 people
    assert by_key["bemotande"].quotes == ["Hon lyssnade."]
    assert by_key["samverkan"].quotes == []
    assert report.to_dict()["themes"][0]["key"] == "bemotande"


async def test_complementary_suppression_no_cell_derivable(db_session: AsyncSession) -> None:
    """For every line in the theme block, a hidden cell is never alone (the linear check)."""
    unit = await make_unit(db_session)
    data = ReportData(db_session)
    for i in range(20):
        await data.text(unit, ["bemotande"] if i < 17 else ["halsa"], person=f"x{i}", at=at(6))
    await db_session.commit()
    report = await build_theme_report(db_session, YEAR, frozenset({unit.id}), now=NOW)
    rows = {r.key: r for r in report.themes}
    assert rows["halsa"].respondents is None
    # total 20 and bemötande 17 would reveal hälsa = 3: one of them must be hidden
    assert report.respondents is None or rows["bemotande"].respondents is None


async def test_scope_and_filters(db_session: AsyncSession) -> None:
    unit_a = await make_unit(db_session, name="A")
    unit_b = await make_unit(db_session, name="B")
    data = ReportData(db_session)
    for i in range(6):
        await data.text(unit_a, ["bemotande"], person=f"a{i}", channel="sms", language="sv")
        await data.text(unit_b, ["samverkan"], person=f"b{i}", channel="panel", language="ar", wave=None)
    await db_session.commit()
    report_a = await build_theme_report(db_session, YEAR, frozenset({unit_a.id}), now=NOW)
    assert [r.key for r in report_a.themes] == ["bemotande"]
    assert [u["id"] for u in report_a.units] == [str(unit_a.id)]
    with pytest.raises(Forbidden):
        await build_theme_report(
            db_session,
            ReportFilters(date_from=YEAR.date_from, date_to=YEAR.date_to, unit_ids=(unit_b.id,)),
            frozenset({unit_a.id}),
            now=NOW,
        )
    everything = frozenset({unit_a.id, unit_b.id})
    panel = ReportFilters(date_from=YEAR.date_from, date_to=YEAR.date_to, channel="panel")
    assert [r.key for r in (await build_theme_report(db_session, panel, everything, now=NOW)).themes] == [
        "samverkan"
    ]
    arabic = ReportFilters(date_from=YEAR.date_from, date_to=YEAR.date_to, language="ar")
    assert (await build_theme_report(db_session, arabic, everything, now=NOW)).respondents == 6
    wave = ReportFilters(date_from=YEAR.date_from, date_to=YEAR.date_to, wave_days=30)
    assert [r.key for r in (await build_theme_report(db_session, wave, everything, now=NOW)).themes] == [
        "bemotande"
    ]
    spring = ReportFilters(date_from=date(2026, 5, 1), date_to=date(2026, 12, 31))
    assert (await build_theme_report(db_session, spring, everything, now=NOW)).themes == []
    quarterly = ReportFilters(date_from=YEAR.date_from, date_to=YEAR.date_to, granularity="quarter")
    report_q = await build_theme_report(db_session, quarterly, everything, now=NOW)
    assert [p["label"] for p in report_q.periods] == ["2026 kv1", "2026 kv2", "2026 kv3", "2026 kv4"]
    assert report_q.themes[0].trend["20262"] == 6


async def test_skr_positive_share_excludes_dont_know(db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    data = ReportData(db_session)
    # satisfaction: 9 positive (4–5), 6 negative; cooperation: 6 positive, 5 negative, 7 "vet inte"
    for i in range(15):
        closure = await data.closure(unit)
        follow_up = await data.follow_up(closure)
        await data.answer(closure, follow_up, "satisfaction", positive=i < 9)
    for i in range(18):
        closure = await data.closure(unit)
        follow_up = await data.follow_up(closure)
        if i < 7:
            await data.answer(closure, follow_up, "cooperation", dont_know=True)
        else:
            await data.answer(closure, follow_up, "cooperation", positive=i < 13)
    await db_session.commit()
    report = await build_theme_report(db_session, YEAR, frozenset({unit.id}), now=NOW)
    skr = {row["question_key"]: row for row in report.skr}
    assert skr["satisfaction"]["positive"] == 9 and skr["satisfaction"]["base"] == 15
    assert skr["satisfaction"]["share"] == pytest.approx(0.6)
    assert skr["cooperation"]["base"] == 11 and skr["cooperation"]["dont_know"] == 7
    assert skr["cooperation"]["share"] == pytest.approx(6 / 11)


async def test_skr_share_hidden_when_a_category_is_small(db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    data = ReportData(db_session)
    for i in range(12):
        closure = await data.closure(unit)
        await data.answer(closure, await data.follow_up(closure), "influence", positive=i < 9)
    await db_session.commit()
    report = await build_theme_report(db_session, YEAR, frozenset({unit.id}), now=NOW)
    row = report.skr[0]
    # 3 said no: showing 9 of 12 would reveal them
    assert row["positive"] is None and row["share"] is None


async def test_cohort_waves_and_unit_with_three(db_session: AsyncSession) -> None:
    big = await make_unit(db_session, name="Stora")
    mid = await make_unit(db_session, name="Mellan")
    small = await make_unit(db_session, name="Lilla")
    data = ReportData(db_session)
    plan = {big: (20, 12), mid: (10, 7), small: (6, 3)}  # closures, respondents
    for unit, (closures, respondents) in plan.items():
        for i in range(closures):
            closure = await data.closure(unit, language="sv" if i % 2 else "en")
            answered = i < respondents
            follow_up = await data.follow_up(closure, disposition="complete" if answered else "no_response")
            if answered:
                await data.answer(closure, follow_up, "satisfaction", positive=True)
                await data.text(unit, ["bemotande"], person=f"{unit.id}-{i}")
    await db_session.commit()
    scope = frozenset(plan_unit.id for plan_unit in plan)
    report = await build_theme_report(db_session, YEAR, scope, now=NOW)
    units = {row["label"]: row for row in report.cohort["breakdowns"][0]["rows"]}
    assert units["Stora"]["respondents"] == 12 and units["Stora"]["cohort"] == 20
    assert units["Lilla"]["respondents"] is None
    total = report.cohort["total"]
    visible = [r["respondents"] for r in units.values() if r["respondents"] is not None]
    # the hidden 3 cannot be derived: either the total or another unit is hidden too
    assert total["respondents"] is None or len(visible) <= 1
    assert report.cohort["total"]["cohort"] == 36
    # waves: 22 complete, 14 no response → 61 % response rate at 1 month
    wave = report.waves["rows"][0]
    assert wave["cells"]["complete"] == 22 and wave["cells"]["no_response"] == 14
    assert wave["response_rate"] == pytest.approx(22 / 36)
    # "slå ihop enheter" for the small unit
    assert report.merge_suggestions and "Lilla" in report.merge_suggestions[0]["names"]
    assert [u["small"] for u in report.unit_respondents if u["name"] == "Lilla"] == [True]


async def test_sustained_self_sufficiency(db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    data = ReportData(db_session)
    # 10 closed 2025-06-01 to work; 2 returned after 2 months, 6 never → at 12 months 8 of 10...
    for i in range(10):
        returned = date(2025, 8, 1) if i < 2 else (date(2026, 9, 1) if i < 4 else None)
        await data.closure(unit, closed_on=date(2025, 6, 1), returned_on=returned)
    await data.closure(unit, closed_on=date(2025, 6, 1), reason="moved")  # not followed up
    await db_session.commit()
    report = await build_theme_report(db_session, YEAR, frozenset({unit.id}), now=NOW)
    twelve = next(row for row in report.sustained if row["months"] == 12)
    # the 12-month date 2026-06-01 is in 2026: base 10, returned within a year: 2 → hidden (< 5)
    assert twelve["base"] == 10
    assert twelve["sustained"] is None and twelve["returned"] is None
    one = next(row for row in report.sustained if row["months"] == 1)
    assert one["base"] is None or one["base"] == 0  # 1-month date fell in 2025


async def test_bases_count_each_person_once_and_never_asked_is_not_non_response(
    db_session: AsyncSession,
) -> None:
    unit = await make_unit(db_session)
    data = ReportData(db_session)
    # 8 people answered "satisfaction" at 1 and at 3 months: 8 people in the SKR base, not 16
    for _ in range(8):
        closure = await data.closure(unit)
        for wave, positive, month in ((30, False, 4), (90, True, 6)):
            follow_up = await data.follow_up(closure, wave=wave)
            at = datetime(2026, month, 2, 10, tzinfo=UTC)
            await data.answer(closure, follow_up, "satisfaction", positive=positive, at=at)
    # 6 asked who did not answer, 7 never asked (closed to "moved": no follow-up plan)
    for _ in range(6):
        await data.follow_up(await data.closure(unit), disposition="no_response")
    for _ in range(7):
        await data.closure(unit, reason="moved")
    await db_session.commit()
    report = await build_theme_report(db_session, YEAR, frozenset({unit.id}), now=NOW)
    skr = {row["question_key"]: row for row in report.skr}
    assert skr["satisfaction"]["base"] == 8 and skr["satisfaction"]["positive"] == 8  # latest answer
    total = report.cohort["total"]
    assert (total["cohort"], total["asked"], total["respondents"]) == (21, 14, 8)
    assert (total["non_respondents"], total["never_asked"]) == (6, 7)
    assert total["response_rate"] == pytest.approx(8 / 14)
    assert report.bases["cohort"] == "avslutade" and report.bases["skr"] == "svarade"
    assert {d["code"] for d in report.definitions} >= set(report.bases.values())


async def test_moving_fran_by_one_day_changes_nothing(db_session: AsyncSession) -> None:
    # issue 14 item 5: 2026-10-07 → 2026-10-08 dropped one person's four themes
    unit = await make_unit(db_session)
    data = ReportData(db_session)
    await data.text(
        unit, ["bemotande", "halsa", "samverkan", "annat"], at=datetime(2026, 10, 7, 10, tzinfo=UTC)
    )
    for i in range(12):
        await data.text(unit, ["bemotande", "halsa"], at=datetime(2026, 10, 20 + i % 5, 10, tzinfo=UTC))
    await db_session.commit()
    scope = frozenset({unit.id})
    reports = [
        await build_theme_report(
            db_session,
            ReportFilters(date_from=date(2026, 10, day), date_to=date(2026, 11, 30)),
            scope,
            now=NOW,
        )
        for day in (7, 8)
    ]
    assert reports[0].to_dict() | {"generated_at": ""} == reports[1].to_dict() | {"generated_at": ""}
    assert reports[0].filters["date_from"] == "2026-10-01"  # snapped to the whole month


def test_period_bounds_are_local_midnights() -> None:
    """A drill-down into April (or Q2) selects from 00:00 Stockholm time, on every database."""
    from feedback.reports.queries import period_bounds

    assert period_bounds(202604, "month") == (
        datetime(2026, 3, 31, 22, tzinfo=UTC),
        datetime(2026, 4, 30, 22, tzinfo=UTC),
    )
    assert period_bounds(20264, "quarter") == (
        datetime(2026, 9, 30, 22, tzinfo=UTC),
        datetime(2026, 12, 31, 23, tzinfo=UTC),
    )
    assert period_bounds(202612, "month")[1] == datetime(2026, 12, 31, 23, tzinfo=UTC)
