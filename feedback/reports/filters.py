"""Report filters: parsed once from the query string, validated, and carried as a plain value.

Why a value object: the page, the exports, the drill-down and the review snapshots must ask for
exactly the same numbers, so they all build the report from the same ``ReportFilters``.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from feedback.core.clock import STOCKHOLM
from feedback.core.errors import InvalidInput

CHANNELS = ("sms", "phone", "panel")
CHANNEL_LABELS_SV = {"sms": "SMS", "phone": "Telefon", "panel": "Brukarpanel"}
GRANULARITIES = ("month", "quarter")
WAVES = (30, 90, 180, 365)
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class ReportFilters:
    date_from: date
    date_to: date  # inclusive
    unit_ids: tuple[uuid.UUID, ...] = ()  # empty: every unit in scope
    channel: str | None = None
    closure_reason: str | None = None
    wave_days: int | None = None
    language: str | None = None
    granularity: str = "month"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def replace(self, **changes: Any) -> ReportFilters:
        return replace(self, **changes)

    def snapped(self) -> ReportFilters:
        """The same filters over whole calendar months (see ``feedback/reports/differencing.py``).

        Why: a period that can start or end on any day lets two reports a day apart reveal the
        people who answered on that day. "Från" moves to the first of its month, "Till" to the
        last day of its month.
        """
        start = self.date_from.replace(day=1)
        end = self.date_to.replace(day=calendar.monthrange(self.date_to.year, self.date_to.month)[1])
        if (start, end) == (self.date_from, self.date_to):
            return self
        return replace(self, date_from=start, date_to=end)

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.date_from, time(0), STOCKHOLM).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        """Exclusive upper bound: local midnight after ``date_to``."""
        return datetime.combine(self.date_to + timedelta(days=1), time(0), STOCKHOLM).astimezone(UTC)

    def to_dict(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "unit_ids": [str(u) for u in self.unit_ids],
            "channel": self.channel,
            "closure_reason": self.closure_reason,
            "wave_days": self.wave_days,
            "language": self.language,
            "granularity": self.granularity,
        }

    def query_items(self) -> list[tuple[str, str]]:
        """The filters as query-string pairs (links to exports and drill-downs keep them)."""
        items = [("fran", self.date_from.isoformat()), ("till", self.date_to.isoformat())]
        items += [("enhet", str(u)) for u in self.unit_ids]
        for key, value in (
            ("kanal", self.channel),
            ("orsak", self.closure_reason),
            ("vag", self.wave_days),
            ("sprak", self.language),
        ):
            if value is not None:
                items.append((key, str(value)))
        items.append(("period", self.granularity))
        return items


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def default_filters(today: date) -> ReportFilters:
    """The last twelve months up to today."""
    return ReportFilters(date_from=date(today.year - 1, today.month, 1), date_to=today)


def _one(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value or "").strip()


def _many(params: Mapping[str, Any], key: str) -> list[str]:
    value = params.get(key)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value).strip()] if str(value).strip() else []


def parse_filters(
    params: Mapping[str, Any],
    *,
    today: date,
    reasons: Iterable[str],
    languages: Iterable[str],
) -> ReportFilters:
    """Parse the Swedish query-string names; bad input raises ``InvalidInput`` (a 400 page)."""
    base = default_filters(today)
    try:
        date_from = date.fromisoformat(_one(params, "fran")) if _one(params, "fran") else base.date_from
        date_to = date.fromisoformat(_one(params, "till")) if _one(params, "till") else base.date_to
    except ValueError as exc:
        raise InvalidInput("Skriv datumen som ÅÅÅÅ-MM-DD.", field="fran") from exc
    if date_to < date_from:
        raise InvalidInput("Slutdatumet måste vara samma dag som eller efter startdatumet.", field="till")
    if (date_to - date_from).days > MAX_DAYS:
        raise InvalidInput("Välj en period på högst tre år.", field="fran")
    try:
        unit_ids = tuple(dict.fromkeys(uuid.UUID(u) for u in _many(params, "enhet")))
    except ValueError as exc:
        raise InvalidInput("Välj en enhet i listan.", field="enhet") from exc
    channel = _one(params, "kanal") or None
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput("Välj en kanal i listan.", field="kanal")
    reason = _one(params, "orsak") or None
    if reason is not None and reason not in set(reasons):
        raise InvalidInput("Välj en avslutsorsak i listan.", field="orsak")
    language = _one(params, "sprak") or None
    if language is not None and language not in set(languages):
        raise InvalidInput("Välj ett språk i listan.", field="sprak")
    wave_raw = _one(params, "vag")
    wave: int | None = None
    if wave_raw:
        if not wave_raw.isdigit() or int(wave_raw) not in WAVES:
            raise InvalidInput("Välj en uppföljningsomgång i listan.", field="vag")
        wave = int(wave_raw)
    granularity = _one(params, "period") or "month"
    if granularity not in GRANULARITIES:
        raise InvalidInput("Välj månad eller kvartal.", field="period")
    return ReportFilters(
        date_from=date_from,
        date_to=date_to,
        unit_ids=unit_ids,
        channel=channel,
        closure_reason=reason,
        wave_days=wave,
        language=language,
        granularity=granularity,
    ).snapped()
