"""Closure search: a case-insensitive prefix of the client reference, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from feedback.core.errors import Forbidden
from surveys.closures import queries
from surveys.closures.service import ClosureInput, register_closure
from tests.helpers import make_unit

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
REFS = ("K-100", "k-101", "K-200", "KX1", "K_1", "AB.7", "ab-K-100")


async def _seed(session):
    unit = await make_unit(session)
    other = await make_unit(session)
    for ref in REFS:
        await register_closure(
            session,
            unit_id=unit.id,
            data=ClosureInput(client_ref=ref, closed_on=TODAY, reason="work"),
            phones=None,
            actor_id=None,
            now=NOW,
            min_gap_days=14,
        )
    await register_closure(
        session,
        unit_id=other.id,
        data=ClosureInput(client_ref="K-100", closed_on=TODAY, reason="work"),
        phones=None,
        actor_id=None,
        now=NOW,
        min_gap_days=14,
    )
    await session.commit()
    return unit, other


async def _refs(session, unit_ids, prefix):
    rows, total = await queries.list_closures(session, unit_ids, ref_prefix=prefix)
    assert total == len(rows)
    return sorted(row.client.client_ref for row in rows)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("K-1", ["K-100", "k-101"]),  # prefix, not exact; the stored case is kept
        ("k-1", ["K-100", "k-101"]),  # case-insensitive both ways
        ("K-10", ["K-100", "k-101"]),
        ("K-100", ["K-100"]),
        ("  k-2  ", ["K-200"]),  # surrounding spaces from a paste are ignored
        ("K_", ["K_1"]),  # "_" is a character here, not LIKE's any-one-character
        ("K%", []),  # "%" is not a wildcard either
        ("100", []),  # a prefix, not a substring: "ab-K-100" and "K-100" do not start with 100
        ("ab", ["AB.7", "ab-K-100"]),
        ("Q", []),
    ],
)
async def test_prefix_search_is_case_insensitive_and_literal(db_session, prefix, expected) -> None:
    unit, _ = await _seed(db_session)
    assert await _refs(db_session, [unit.id], prefix) == expected


async def test_search_stays_inside_my_units_and_empty_means_everything(db_session) -> None:
    unit, other = await _seed(db_session)
    assert await _refs(db_session, [other.id], "k") == ["K-100"]
    assert await _refs(db_session, [unit.id], "") == sorted(REFS)
    assert await _refs(db_session, [unit.id, other.id], "k-100") == ["K-100", "K-100"]
    with pytest.raises(Forbidden):
        await queries.list_closures(db_session, [unit.id], unit_id=other.id, ref_prefix="K")


async def test_the_api_filter_stays_an_exact_match(db_session) -> None:
    unit, _ = await _seed(db_session)
    rows, total = await queries.list_closures(db_session, [unit.id], client_ref="K-100")
    assert total == 1 and [r.client.client_ref for r in rows] == ["K-100"]
    rows, total = await queries.list_closures(db_session, [unit.id], client_ref="k-100")
    assert total == 0 and rows == []
