"""``feedback sms-window``: a unit's send window is shown, changed and then used by the dispatcher."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time

from click.testing import CliRunner

from feedback.cli.sms import sms_window_command
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from notifications.windows import DEFAULT_WINDOW, is_allowed, window_for_unit
from tests.helpers import make_unit


def _run(settings: Settings, fn):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                result = await fn(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_show_set_and_reject(settings: Settings) -> None:
    unit = _run(settings, make_unit)
    runner = CliRunner()
    shown = runner.invoke(sms_window_command, [unit.code], obj=settings)
    assert shown.exit_code == 0 and "mån, tis, ons, tor, fre 09:00–19:00" in shown.output
    assert "utom helgdagar" in shown.output

    changed = runner.invoke(
        sms_window_command, [unit.code, "--days", "1-6", "--start", "10:00", "--end", "16:30"], obj=settings
    )
    assert changed.exit_code == 0, changed.output
    window = _run(settings, lambda s: window_for_unit(s, unit.id))
    assert window.weekdays == frozenset(range(6)) and window.start == time(10) and window.end == time(16, 30)
    saturday_noon = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
    assert is_allowed(saturday_noon, window) and not is_allowed(saturday_noon, DEFAULT_WINDOW)

    for bad in (["--start", "25:00"], ["--days", "0-5"], ["--start", "18:00", "--end", "09:00"]):
        result = runner.invoke(sms_window_command, [unit.code, *bad], obj=settings)
        assert result.exit_code != 0 and "Traceback" not in result.output
    assert runner.invoke(sms_window_command, ["finns-inte"], obj=settings).exit_code != 0
    assert _run(settings, lambda s: window_for_unit(s, unit.id)) == window  # unchanged by bad input
