"""The scheduler hands due follow-ups to their channel, gated, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback.core.clock import FrozenClock
from feedback.core.db import create_engine, session_factory
from feedback.wiring import Collaborators
from feedback.worker import build_jobs
from surveys.closures.models import Client, Closure
from surveys.closures.service import ClosureInput, register_closure
from surveys.plans import scheduler
from surveys.plans.models import FollowUp, FollowUpStatus
from tests.helpers import make_unit

CLOSED = date(2026, 1, 12)
REGISTERED = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
DAY_30 = datetime(2026, 2, 11, 8, 0, tzinfo=UTC)  # 09:00 in Stockholm, 30 days after closing


class RecordingStarter:
    def __init__(self, fail_for: set[str] | None = None) -> None:
        self.sms: list[str] = []
        self.calls: list[tuple[str, str]] = []
        self.fail_for = fail_for or set()

    async def start_sms(self, session, follow_up, *, now):
        client = await session.get(Client, follow_up.client_id)
        if client.client_ref in self.fail_for:
            raise RuntimeError("channel down")
        self.sms.append(client.client_ref)

    async def start_call(self, session, follow_up, *, reason, now):
        client = await session.get(Client, follow_up.client_id)
        self.calls.append((client.client_ref, reason))


async def _closure(session, unit, ref, *, closed_on=CLOSED, now=REGISTERED, **kwargs):
    reg = await register_closure(
        session,
        unit_id=unit.id,
        data=ClosureInput(client_ref=ref, closed_on=closed_on, reason="work", **kwargs),
        phones=None,
        actor_id=None,
        now=now,
        min_gap_days=14,
    )
    await session.commit()
    return reg.closure


async def _wave(session, closure, days) -> FollowUp:
    return await session.scalar(
        sa.select(FollowUp)
        .where(FollowUp.closure_id == closure.id, FollowUp.wave_days == days)
        .execution_options(populate_existing=True)
    )


async def _tick(session, now, starter):
    result = await scheduler.run_due(session, now=now, starter=starter, min_gap_days=14)
    await session.commit()
    return result


async def test_nothing_is_due_before_day_30_and_the_first_sms_goes_out_on_day_30(db_session) -> None:
    unit = await make_unit(db_session)
    closure = await _closure(db_session, unit, "K-1")
    starter = RecordingStarter()
    assert (await _tick(db_session, DAY_30 - timedelta(days=1), starter)).handed_over == 0
    result = await _tick(db_session, DAY_30, starter)
    assert result.handed_over == 1 and starter.sms == ["K-1"]
    first = await _wave(db_session, closure, 30)
    assert first.status == FollowUpStatus.DUE and first.handed_over_at == DAY_30
    assert (await _wave(db_session, closure, 90)).status == FollowUpStatus.SCHEDULED
    # handed over once only
    assert (await _tick(db_session, DAY_30, starter)).handed_over == 0


async def test_phone_wave_goes_to_the_call_queue(db_session) -> None:
    unit = await make_unit(db_session)
    await _closure(db_session, unit, "K-2", closed_on=CLOSED - timedelta(days=180), now=REGISTERED)
    starter = RecordingStarter()
    await _tick(db_session, REGISTERED, starter)
    assert starter.calls == [("K-2", "plan")]


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ({"do_not_contact": True}, "do_not_contact"),
        ({"protected_identity": True}, "protected_identity"),
        ({"consent_withdrawn_at": REGISTERED}, "consent_withdrawn"),
        ({"erased_at": REGISTERED}, "erased"),
    ],
)
async def test_gate_skips_with_a_logged_reason(db_session, flag, reason, caplog) -> None:
    unit = await make_unit(db_session)
    closure = await _closure(db_session, unit, "K-3")
    await db_session.execute(sa.update(Client).where(Client.id == closure.client_id).values(**flag))
    await db_session.commit()
    starter = RecordingStarter()
    with caplog.at_level("INFO", logger="surveys.plans.scheduler"):
        result = await _tick(db_session, DAY_30, starter)
    assert result.skipped == {reason: 1} and starter.sms == []
    wave = await _wave(db_session, closure, 30)
    assert wave.status == FollowUpStatus.SKIPPED and wave.skip_reason == reason
    assert reason in caplog.text


async def test_gate_skips_an_opted_out_number(db_session, settings) -> None:
    from notifications import optout
    from surveys.closures.contact import VaultPhoneProtector

    unit = await make_unit(db_session)
    reg = await register_closure(
        db_session,
        unit_id=unit.id,
        data=ClosureInput(client_ref="K-stop", closed_on=CLOSED, reason="work", phone="0701234567"),
        phones=VaultPhoneProtector(settings),
        actor_id=None,
        now=REGISTERED,
        min_gap_days=14,
    )
    client = await db_session.get(Client, reg.closure.client_id)
    await optout.record_opt_out(db_session, client.phone_index, source="keyword", at=REGISTERED)
    await db_session.commit()
    result = await _tick(db_session, DAY_30, RecordingStarter())
    assert result.skipped == {"opted_out": 1}


async def test_gate_skips_a_reopened_case(db_session) -> None:
    unit = await make_unit(db_session)
    closure = await _closure(db_session, unit, "K-4")
    await db_session.execute(sa.update(Closure).where(Closure.id == closure.id).values(returned_on=CLOSED))
    await db_session.commit()
    result = await _tick(db_session, DAY_30, RecordingStarter())
    assert result.skipped == {"case_reopened": 1}


async def test_a_wave_whose_window_passed_while_the_worker_was_down_is_skipped(db_session) -> None:
    unit = await make_unit(db_session)
    closure = await _closure(db_session, unit, "K-5")
    result = await _tick(db_session, DAY_30 + timedelta(days=8), RecordingStarter())
    assert result.skipped == {"window_passed": 1}
    assert (await _wave(db_session, closure, 30)).skip_reason == "window_passed"


@pytest.mark.parametrize(("days_ago", "deferred_by"), [(10, 4), (5, None)])
async def test_fatigue_cap_defers_or_skips_after_a_recent_contact_with_the_same_person(
    db_session, days_ago, deferred_by
) -> None:
    unit = await make_unit(db_session)
    first = await _closure(db_session, unit, "K-6", closed_on=CLOSED - timedelta(days=400))
    other = await _closure(db_session, unit, "K-6")  # same client, later closure
    assert first.client_id == other.client_id
    # a contact about the earlier closure a few days before; the gap is 14 days
    wave = await _wave(db_session, first, 365)
    wave.status = FollowUpStatus.DONE
    wave.handed_over_at = DAY_30 - timedelta(days=days_ago)
    await db_session.commit()
    result = await _tick(db_session, DAY_30, RecordingStarter())
    current = await _wave(db_session, other, 30)
    if deferred_by is None:  # day 39 would be past the window end (day 37)
        assert result.skipped == {"fatigue_cap": 1} and current.status == FollowUpStatus.SKIPPED
    else:
        assert result.deferred == 1 and current.status == FollowUpStatus.SCHEDULED
        assert current.due_on == date(2026, 2, 11) + timedelta(days=deferred_by)


async def test_a_failing_channel_keeps_its_row_scheduled_and_others_proceed(db_session) -> None:
    unit = await make_unit(db_session)
    bad = await _closure(db_session, unit, "K-7")
    await _closure(db_session, unit, "K-8")
    starter = RecordingStarter(fail_for={"K-7"})
    result = await _tick(db_session, DAY_30, starter)
    assert result.failed == 1 and result.handed_over == 1 and starter.sms == ["K-8"]
    assert (await _wave(db_session, bad, 30)).status == FollowUpStatus.SCHEDULED


async def test_default_starter_hands_a_wave_without_a_phone_to_the_phone_queue(db_session, settings) -> None:
    """The real channels, not a lookup that may find nothing: no number → a call task, not a stall."""
    from surveys.phone.models import CallTask

    unit = await make_unit(db_session)
    closure = await _closure(db_session, unit, "K-9")
    result = await _tick(db_session, DAY_30, scheduler.ChannelStarter(settings))
    assert result.handed_over == 1
    wave = await _wave(db_session, closure, 30)
    tasks = (await db_session.scalars(sa.select(CallTask).where(CallTask.follow_up_id == wave.id))).all()
    assert len(tasks) == 1


async def test_worker_job_uses_the_injected_clock(settings, db_session) -> None:
    unit = await make_unit(db_session)
    closure = await _closure(db_session, unit, "K-10")
    clock = FrozenClock(REGISTERED)
    starter = RecordingStarter()
    engine = create_engine(settings.database_url)
    try:
        jobs = {
            j.name: j
            for j in build_jobs(
                settings, session_factory(engine), Collaborators(clock=clock, follow_up_starter=starter)
            )
        }
        await jobs["surveys-scheduler"].run()
        assert starter.sms == []
        clock.advance(timedelta(days=30))
        await jobs["surveys-scheduler"].run()
        assert starter.sms == ["K-10"]
    finally:
        await engine.dispose()
    assert (await _wave(db_session, closure, 30)).status == FollowUpStatus.DUE
