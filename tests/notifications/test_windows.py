from __future__ import annotations

import random
from datetime import UTC, datetime, time

import pytest

from notifications.windows import (
    CONVERSATION_WINDOW,
    DEFAULT_WINDOW,
    SendWindow,
    full_jitter_delay,
    is_allowed,
    is_holiday,
    next_allowed,
    set_unit_window,
    window_for_unit,
)
from tests.helpers import make_unit


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_weekday_daytime_is_allowed_evening_is_not() -> None:
    # Tuesday 2026-11-24, Stockholm is UTC+1 in winter.
    assert is_allowed(utc(2026, 11, 24, 8, 0))  # 09:00 local
    assert not is_allowed(utc(2026, 11, 24, 7, 59))  # 08:59 local
    assert not is_allowed(utc(2026, 11, 24, 18, 0))  # 19:00 local: end is exclusive
    assert not is_allowed(utc(2026, 11, 24, 20, 0))  # 21:00 local


def test_21_local_moves_to_next_morning() -> None:
    assert next_allowed(utc(2026, 11, 24, 20, 0)) == utc(2026, 11, 25, 8, 0)


def test_friday_evening_moves_to_monday() -> None:
    assert next_allowed(utc(2026, 11, 27, 19, 0)) == utc(2026, 11, 30, 8, 0)


@pytest.mark.parametrize(
    ("day", "next_day"),
    [
        ((2026, 12, 24), (2026, 12, 28)),  # julafton (de facto), juldagen, annandag, weekend
        ((2026, 5, 1), (2026, 5, 4)),  # första maj is a Friday
        ((2026, 5, 14), (2026, 5, 15)),  # Kristi himmelsfärd
        ((2026, 6, 19), (2026, 6, 22)),  # midsommarafton
        ((2027, 1, 6), (2027, 1, 7)),  # trettondedag jul
    ],
)
def test_swedish_holidays_are_skipped(day: tuple[int, int, int], next_day: tuple[int, int, int]) -> None:
    assert is_holiday(datetime(*day).date())
    at_ten = utc(*day, 10, 0)
    assert not is_allowed(at_ten)
    assert next_allowed(at_ten) == next_allowed(utc(*next_day, 0, 0))
    assert next_allowed(at_ten).date() == datetime(*next_day).date()


def test_dst_spring_forward_window_start_moves_one_hour_in_utc() -> None:
    # Sweden goes to summer time on Sunday 2026-03-29. Friday 19:30 local → Monday 09:00 CEST = 07:00 UTC.
    assert next_allowed(utc(2026, 3, 27, 18, 30)) == utc(2026, 3, 30, 7, 0)
    assert is_allowed(utc(2026, 3, 30, 7, 0))
    assert not is_allowed(utc(2026, 3, 30, 6, 59))
    # The window end follows too: 18:59 CEST allowed, 19:00 CEST not.
    assert is_allowed(utc(2026, 3, 30, 16, 59))
    assert not is_allowed(utc(2026, 3, 30, 17, 0))


def test_dst_fall_back_and_conversation_window_on_the_switch_day() -> None:
    # Back to winter time on Sunday 2026-10-25 (03:00 CEST → 02:00 CET).
    assert next_allowed(utc(2026, 10, 23, 17, 30)) == utc(
        2026, 10, 26, 8, 0
    )  # Fri 19:30 CEST → Mon 09:00 CET
    # Conversation replies on the switch day: 08:00 CET = 07:00 UTC.
    assert not is_allowed(utc(2026, 10, 25, 6, 59), CONVERSATION_WINDOW)
    assert next_allowed(utc(2026, 10, 25, 5, 0), CONVERSATION_WINDOW) == utc(2026, 10, 25, 7, 0)
    # And on spring-forward day 08:00 CEST = 06:00 UTC.
    assert next_allowed(utc(2026, 3, 29, 3, 0), CONVERSATION_WINDOW) == utc(2026, 3, 29, 6, 0)


def test_conversation_window_allows_evenings_and_holidays_but_not_night() -> None:
    christmas_evening = utc(2026, 12, 25, 19, 30)  # 20:30 local on juldagen
    assert not is_allowed(christmas_evening)
    assert is_allowed(christmas_evening, CONVERSATION_WINDOW)
    assert not is_allowed(utc(2026, 12, 25, 20, 0), CONVERSATION_WINDOW)  # 21:00
    assert next_allowed(utc(2026, 12, 25, 22, 0), CONVERSATION_WINDOW) == utc(2026, 12, 26, 7, 0)


def test_next_allowed_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        next_allowed(datetime(2026, 11, 24, 12, 0))


def test_full_jitter_is_bounded_and_grows_with_attempts() -> None:
    rng = random.Random(7)
    samples = [full_jitter_delay(3, base=30, cap=3600, rng=rng) for _ in range(500)]
    assert all(0 <= s <= 240 for s in samples)
    assert max(samples) > 200  # spread over the whole range, not a fixed delay
    capped = [full_jitter_delay(20, base=30, cap=3600, rng=rng) for _ in range(200)]
    assert all(0 <= s <= 3600 for s in capped) and max(capped) > 3000


async def test_unit_window_is_stored_and_used(db_session) -> None:
    unit = await make_unit(db_session)
    assert await window_for_unit(db_session, unit.id) == DEFAULT_WINDOW
    custom = SendWindow(weekdays=frozenset({0, 1, 2, 3, 4, 5}), start=time(10, 0), end=time(16, 30))
    await set_unit_window(db_session, unit.id, custom)
    await db_session.commit()
    loaded = await window_for_unit(db_session, unit.id)
    assert loaded == custom
    saturday_noon = utc(2026, 11, 28, 11, 0)
    assert is_allowed(saturday_noon, loaded) and not is_allowed(saturday_noon)
    assert not is_allowed(utc(2026, 11, 24, 15, 45), loaded)  # 16:45 local
