"""Send windows: SMS go out on weekdays in daytime, never at night or on Swedish public holidays.

Why computed in local time: the rule is about the person's day ("not after 19:00 in Sweden"), so
the check runs on Europe/Stockholm wall-clock time via ``zoneinfo`` and converts back to UTC.
That keeps it right across the DST switches (last Sunday of March/October), where a fixed UTC
offset would be an hour wrong for half the year.

Conversation replies (``conversation_exempt``): a reply to someone who just wrote to us may go
out 08:00–21:00 local time on any day, holidays included — the person is in the conversation
right now and a reply the next morning would be more confusing than helpful. Nothing is ever
sent between 21:00 and 08:00.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

STOCKHOLM = "Europe/Stockholm"


@dataclass(frozen=True)
class SendWindow:
    """Allowed local weekdays (Monday = 0) and a [start, end) local time range."""

    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: time = time(9, 0)
    end: time = time(19, 0)
    skip_holidays: bool = True
    timezone: str = STOCKHOLM

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


DEFAULT_WINDOW = SendWindow()
# Replies inside an ongoing conversation: every day, 08:00–21:00, holidays allowed.
CONVERSATION_WINDOW = SendWindow(
    weekdays=frozenset(range(7)), start=time(8, 0), end=time(21, 0), skip_holidays=False
)


@lru_cache(maxsize=64)
def _swedish_holidays(year: int) -> frozenset[date]:
    """Public holidays (``holidays``, SE) plus the de facto holidays offices close on.

    ``include_sundays=False``: the package otherwise lists every Sunday; weekdays handle those.
    Midsommarafton, julafton and nyårsafton are not public holidays in law, but nobody wants a
    follow-up SMS from social services on them, so they are added here.
    """
    official = holidays.country_holidays("SE", years=year, include_sundays=False)
    days = set(official.keys())
    for day, name in official.items():
        if name == "Midsummer Day" or "Midsommardagen" in name:
            days.add(day - timedelta(days=1))
    days.update({date(year, 12, 24), date(year, 12, 31)})
    return frozenset(days)


def is_holiday(day: date) -> bool:
    return day in _swedish_holidays(day.year)


def _day_allowed(window: SendWindow, day: date) -> bool:
    if day.weekday() not in window.weekdays:
        return False
    return not (window.skip_holidays and is_holiday(day))


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A wall time that does not exist (spring-forward gap) resolves forwards via fold=0 + UTC trip.
    return datetime.combine(day, at, tzinfo=zone).astimezone(ZoneInfo("UTC")).astimezone(zone)


def is_allowed(when: datetime, window: SendWindow = DEFAULT_WINDOW) -> bool:
    """True when ``when`` (aware) falls inside the window."""
    local = when.astimezone(window.zone)
    if not _day_allowed(window, local.date()):
        return False
    return window.start <= local.time().replace(tzinfo=None) < window.end


def next_allowed(when: datetime, window: SendWindow = DEFAULT_WINDOW) -> datetime:
    """``when`` itself if allowed, else the start of the next window, as an aware UTC datetime."""
    if when.tzinfo is None:
        raise ValueError("next_allowed needs an aware datetime")
    utc = ZoneInfo("UTC")
    if not window.weekdays:
        raise ValueError("a send window needs at least one weekday")
    if is_allowed(when, window):
        return when.astimezone(utc)
    zone = window.zone
    local = when.astimezone(zone)
    day = local.date()
    for _ in range(400):
        if _day_allowed(window, day):
            start = _local(day, window.start, zone)
            end = _local(day, window.end, zone)
            if local < start:
                return start.astimezone(utc)
            if local < end:  # pragma: no cover - would have been allowed above
                return when.astimezone(utc)
        day += timedelta(days=1)
    raise ValueError("no allowed send time within a year; check the window configuration")


def window_for(conversation_exempt: bool, unit_window: SendWindow) -> SendWindow:
    return CONVERSATION_WINDOW if conversation_exempt else unit_window


def full_jitter_delay(
    attempt: int, base: float = 30.0, cap: float = 3600.0, rng: random.Random | None = None
) -> float:
    """AWS "full jitter": uniform in [0, min(cap, base·2^attempt)] seconds."""
    ceiling = min(cap, base * (2 ** max(0, attempt)))
    return (rng or random).uniform(0.0, ceiling)


def window_from_row(row: object) -> SendWindow:
    weekdays = frozenset(int(ch) for ch in row.weekdays if ch.isdigit())  # type: ignore[attr-defined]
    return SendWindow(
        weekdays=weekdays,
        start=time(row.start_minute // 60, row.start_minute % 60),  # type: ignore[attr-defined]
        end=time(min(row.end_minute, 24 * 60 - 1) // 60, min(row.end_minute, 24 * 60 - 1) % 60),  # type: ignore[attr-defined]
        skip_holidays=row.skip_holidays,  # type: ignore[attr-defined]
        timezone=row.timezone,  # type: ignore[attr-defined]
    )


async def window_for_unit(session: AsyncSession, unit_id: uuid.UUID | None) -> SendWindow:
    """The unit's configured window, or the default Mon–Fri 09–19 Europe/Stockholm."""
    if unit_id is None:
        return DEFAULT_WINDOW
    from notifications.models import SmsSendWindow

    row = await session.scalar(sa.select(SmsSendWindow).where(SmsSendWindow.unit_id == unit_id))
    return DEFAULT_WINDOW if row is None else window_from_row(row)


async def set_unit_window(session: AsyncSession, unit_id: uuid.UUID, window: SendWindow) -> None:
    """Create or replace a unit's window (caller commits)."""
    from notifications.models import SmsSendWindow

    row = await session.scalar(sa.select(SmsSendWindow).where(SmsSendWindow.unit_id == unit_id))
    if row is None:
        row = SmsSendWindow(unit_id=unit_id)
        session.add(row)
    row.weekdays = "".join(str(d) for d in sorted(window.weekdays))
    row.start_minute = window.start.hour * 60 + window.start.minute
    row.end_minute = window.end.hour * 60 + window.end.minute
    row.skip_holidays = window.skip_holidays
    row.timezone = window.timezone
    await session.flush()
