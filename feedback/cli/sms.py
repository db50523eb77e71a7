"""``feedback sms-window``: show or set a unit's SMS send window (``notifications.windows``).

Why a CLI and no page yet: the window is an operations decision made once per unit (for
example a unit that also works Saturdays); the default Mon–Fri 09–19 fits most units.
"""

from __future__ import annotations

import asyncio
import re
from datetime import time
from typing import TYPE_CHECKING, TypedDict

import click
import sqlalchemy as sa

from feedback.core.settings import Settings

if TYPE_CHECKING:
    from notifications.windows import SendWindow

_DAYS = "mån tis ons tor fre lör sön".split()


def _parse_time(value: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise click.BadParameter(f"ange tid som TT:MM, inte {value!r}")
    return time(int(match[1]), int(match[2]))


def _parse_days(value: str) -> frozenset[int]:
    """``1-5`` (Monday–Friday) or ``1,2,3,4,5,6``; Monday = 1 as in ISO 8601."""
    days: set[int] = set()
    for part in value.split(","):
        bounds = part.strip().split("-")
        if not all(b.strip().isdigit() for b in bounds) or len(bounds) > 2:
            raise click.BadParameter(f"ange dagar som 1-5 eller 1,2,3 (måndag = 1), inte {value!r}")
        low, high = int(bounds[0]), int(bounds[-1])
        if not 1 <= low <= high <= 7:
            raise click.BadParameter("dagarna ska ligga mellan 1 (måndag) och 7 (söndag)")
        days.update(range(low - 1, high))
    return frozenset(days)


class WindowChange(TypedDict, total=False):
    """The ``SendWindow`` fields the command line sets (only those given)."""

    weekdays: frozenset[int]
    start: time
    end: time
    skip_holidays: bool


def describe(window: SendWindow) -> str:
    days = ", ".join(_DAYS[d] for d in sorted(window.weekdays))
    holidays = "utom helgdagar" if window.skip_holidays else "även helgdagar"
    return f"{days} {window.start:%H:%M}–{window.end:%H:%M} {window.timezone}, {holidays}"


async def _run(settings: Settings, unit_code: str, change: WindowChange | None) -> str:
    from dataclasses import replace

    from feedback.auth.models import Unit
    from feedback.core.db import create_engine, session_factory
    from notifications import windows

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            unit = await session.scalar(sa.select(Unit).where(Unit.code == unit_code))
            if unit is None:
                raise click.ClickException(f"ingen enhet med koden {unit_code!r}")
            window = await windows.window_for_unit(session, unit.id)
            if change:
                window = replace(window, **change)
                if window.start >= window.end:
                    raise click.ClickException("starttiden måste vara före sluttiden")
                await windows.set_unit_window(session, unit.id, window)
                await session.commit()
            return describe(window)
    finally:
        await engine.dispose()


@click.command("sms-window")
@click.argument("unit_code")
@click.option("--days", default=None, help="Veckodagar, t.ex. 1-5 eller 1-6 (måndag = 1).")
@click.option("--start", default=None, help="Första tid för utskick, TT:MM (lokal tid).")
@click.option("--end", default=None, help="Inga utskick från denna tid, TT:MM (lokal tid).")
@click.option("--holidays/--no-holidays", "skip_holidays", default=None, help="Hoppa över helgdagar.")
@click.pass_obj
def sms_window_command(
    settings: Settings,
    unit_code: str,
    days: str | None,
    start: str | None,
    end: str | None,
    skip_holidays: bool | None,
) -> None:
    """Show a unit's SMS send window, or change it with the options (default Mon–Fri 09–19)."""
    change: WindowChange = {}
    if days is not None:
        change["weekdays"] = _parse_days(days)
    if start is not None:
        change["start"] = _parse_time(start)
    if end is not None:
        change["end"] = _parse_time(end)
    if skip_holidays is not None:
        change["skip_holidays"] = skip_holidays
    click.echo(f"{unit_code}: {asyncio.run(_run(settings, unit_code, change or None))}")
