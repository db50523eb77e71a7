"""A unit with 3 respondents: hidden per unit, its complement hidden too, and no unit selection can
reveal it by difference (selections are widened to whole clusters). SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.reports.exports import themes_csv
from feedback.reports.filters import ReportFilters
from feedback.reports.queries import build_theme_report
from feedback.reports.suppression import COMPLEMENT_SV, SUPPRESSED_SV
from tests.feedback.reports.factories import ReportData
from tests.helpers import make_unit

YEAR = ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
NOW = datetime(2026, 12, 31, 12, tzinfo=UTC)


async def _three_units(session: AsyncSession) -> dict[str, object]:
    units = {
        "north": await make_unit(session, name="Norra"),
        "south": await make_unit(session, name="Södra"),
        "tiny": await make_unit(session, name="Lilla"),
    }
    data = ReportData(session)
    for name, people in (("north", 9), ("south", 7), ("tiny", 3)):
        for i in range(people):
            await data.text(units[name], ["bemotande"], person=f"{name}{i}")
    await session.commit()
    return units


async def test_small_unit_and_its_complement_are_hidden(db_session: AsyncSession) -> None:
    units = await _three_units(db_session)
    scope = frozenset(u.id for u in units.values())  # type: ignore[attr-defined]
    report = await build_theme_report(db_session, YEAR, scope, now=NOW)
    by_name = {u["name"]: u["respondents"] for u in report.unit_respondents}
    assert by_name["Lilla"] is None
    hidden = [name for name, n in by_name.items() if n is None]
    # total minus the visible units must not give the small unit: a second unit (or the total) is hidden
    assert len(hidden) >= 2 or report.respondents is None
    if report.respondents is not None:
        visible = sum(n for n in by_name.values() if n is not None)
        assert report.respondents - visible != 3 or len(hidden) >= 2
    assert report.respondents == 19
    csv_text = themes_csv(report).decode("utf-8-sig")
    assert f"Lilla;;;{SUPPRESSED_SV};" in csv_text
    # the other hidden unit protects Lilla; it is not small and must not be called "färre än 5"
    assert any(f"{name};;;{COMPLEMENT_SV};" in csv_text for name in hidden if name != "Lilla")
    assert not any(f"{name};;;{SUPPRESSED_SV};" in csv_text for name in hidden if name != "Lilla")
    # "slå ihop enheter" is offered for the small unit
    assert any("Lilla" in s["names"] and s["enough"] for s in report.merge_suggestions)


async def test_no_unit_selection_reveals_the_small_unit_by_difference(db_session: AsyncSession) -> None:
    units = await _three_units(db_session)
    ids = {name: u.id for name, u in units.items()}  # type: ignore[attr-defined]
    scope = frozenset(ids.values())
    totals: dict[frozenset[object], int | None] = {}
    for size in (1, 2, 3):
        for chosen in itertools.combinations(ids.values(), size):
            filters = ReportFilters(date_from=YEAR.date_from, date_to=YEAR.date_to, unit_ids=chosen)
            report = await build_theme_report(db_session, filters, scope, now=NOW)
            effective = frozenset(u["id"] for u in report.units)
            assert {str(u) for u in chosen} <= effective
            if str(ids["tiny"]) in effective:
                assert len(effective) >= 2  # the 3-person unit is never reported alone
            if effective != {str(u) for u in chosen}:
                assert report.merged_units, "a widened selection must say so"
            totals[effective] = report.respondents
    # any two reachable selections differ by more than the small unit
    for a, b in itertools.combinations(totals, 2):
        assert (a ^ b) != {str(ids["tiny"])}, (a, b)
    everything = frozenset(str(u) for u in ids.values())
    without_tiny = everything - {str(ids["tiny"])}
    assert without_tiny not in totals


async def test_scale_answers_make_a_unit_small_too(db_session: AsyncSession) -> None:
    """A unit with many open answers but 2 people answering scale questions is still clustered."""
    big = await make_unit(db_session, name="Stora")
    other = await make_unit(db_session, name="Andra")
    data = ReportData(db_session)
    for unit in (big, other):
        for i in range(6):
            await data.text(unit, ["bemotande"], person=f"{unit.name}{i}")
    for unit, people in ((big, 2), (other, 8)):
        for _ in range(people):
            closure = await data.closure(unit)
            follow_up = await data.follow_up(closure)
            await data.answer(closure, follow_up, "satisfaction", positive=True)
    await db_session.commit()
    filters = ReportFilters(date_from=YEAR.date_from, date_to=YEAR.date_to, unit_ids=(other.id,))
    report = await build_theme_report(db_session, filters, frozenset({big.id, other.id}), now=NOW)
    assert {u["name"] for u in report.units} == {"Stora", "Andra"}
    assert report.merged_units and set(report.merged_units[0]["names"]) == {"Stora", "Andra"}


async def test_few_non_respondents_in_the_cohort_make_a_unit_small(db_session: AsyncSession) -> None:
    """Many answers but 2 closures without an answer: the cohort's non-respondents would show by
    difference, so the unit is clustered as well."""
    first = await make_unit(db_session, name="Första")
    second = await make_unit(db_session, name="Andra")
    data = ReportData(db_session)
    for unit, silent in ((first, 2), (second, 6)):
        for i in range(8 + silent):
            closure = await data.closure(unit)
            follow_up = await data.follow_up(closure, disposition="complete" if i < 8 else "no_response")
            if i < 8:
                await data.answer(closure, follow_up, "satisfaction", positive=True)
        for i in range(6):
            await data.text(unit, ["bemotande"], person=f"{unit.name}{i}")
    await db_session.commit()
    filters = ReportFilters(date_from=YEAR.date_from, date_to=YEAR.date_to, unit_ids=(second.id,))
    report = await build_theme_report(db_session, filters, frozenset({first.id, second.id}), now=NOW)
    assert {u["name"] for u in report.units} == {"Första", "Andra"}
    unit_rows = {r["label"]: r for r in report.cohort["breakdowns"][0]["rows"]}
    assert unit_rows["Första"]["non_respondents"] is None


async def test_no_merge_offer_when_the_report_already_shows_the_whole_group(db_session: AsyncSession) -> None:
    """Two units with many respondents but 1 and 3 non-respondents: together they are still small
    in that one group, yet the report of both already shows them together, so saying they are
    "too few to be reported, even merged" beside 6 + 6 respondents would be wrong."""
    first = await make_unit(db_session, name="Första")
    second = await make_unit(db_session, name="Andra")
    data = ReportData(db_session)
    for unit, silent in ((first, 1), (second, 3)):
        for i in range(8 + silent):
            closure = await data.closure(unit)
            follow_up = await data.follow_up(closure, disposition="complete" if i < 8 else "no_response")
            if i < 8:
                await data.answer(closure, follow_up, "satisfaction", positive=True)
        for i in range(6):
            await data.text(unit, ["bemotande"], person=f"{unit.name}{i}")
    await db_session.commit()
    report = await build_theme_report(db_session, YEAR, frozenset({first.id, second.id}), now=NOW)
    assert report.merge_suggestions == []
    assert {u["name"]: u["respondents"] for u in report.unit_respondents} == {"Första": 6, "Andra": 6}


async def test_skr_and_sustained_hide_a_zero_from_fewer_than_five(db_session: AsyncSession) -> None:
    """3 people answered, all negatively; 3 closures to work, none returned: no 0 is shown."""
    unit = await make_unit(db_session, name="Lilla")
    data = ReportData(db_session)
    for _ in range(3):
        closure = await data.closure(unit, closed_on=date(2026, 2, 1))
        follow_up = await data.follow_up(closure)
        await data.answer(closure, follow_up, "satisfaction", positive=False)
    await db_session.commit()
    report = await build_theme_report(db_session, YEAR, frozenset({unit.id}), now=NOW)
    skr = {row["question_key"]: row for row in report.skr}["satisfaction"]
    assert skr["positive"] is None and skr["base"] is None and skr["share"] is None
    one_month = {row["months"]: row for row in report.sustained}[1]
    assert one_month["returned"] is None and one_month["sustained"] is None and one_month["base"] is None
