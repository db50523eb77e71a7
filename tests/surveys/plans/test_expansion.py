"""Plan expansion rules: target dates, windows, catch-up, the fatigue gap."""

from __future__ import annotations

from datetime import date, timedelta

from surveys.plans.expansion import DEFAULT_STEPS, SKIP_FATIGUE, SKIP_WINDOW_PASSED, StepSpec, expand

CLOSED = date(2026, 1, 15)


def test_on_time_registration_schedules_every_default_wave_on_its_target_day() -> None:
    slots = expand(CLOSED, DEFAULT_STEPS, today=CLOSED, min_gap_days=14)
    assert [s.due_on for s in slots] == [CLOSED + timedelta(days=d) for d in (30, 90, 180, 365)]
    assert [s.window_end for s in slots] == [CLOSED + timedelta(days=d) for d in (37, 104, 201, 395)]
    assert all(s.scheduled for s in slots)
    assert [s.step.channel for s in slots] == ["sms", "sms", "phone", "status_sms"]


def test_late_registration_catches_up_open_waves_and_skips_closed_ones() -> None:
    today = CLOSED + timedelta(days=100)  # wave 30 window closed on day 37; wave 90 open until 104
    slots = expand(CLOSED, DEFAULT_STEPS, today=today, min_gap_days=14)
    assert slots[0].skip_reason == SKIP_WINDOW_PASSED
    assert slots[1].scheduled and slots[1].due_on == today
    assert slots[2].due_on == CLOSED + timedelta(days=180)


def test_two_waves_open_on_the_same_day_are_spread_by_the_gap() -> None:
    steps = [StepSpec(30, "sms", "q", 10), StepSpec(35, "sms", "q", 20)]
    today = CLOSED + timedelta(days=36)  # both windows open today
    slots = expand(CLOSED, steps, today=today, min_gap_days=7)
    assert slots[0].due_on == today
    assert slots[1].due_on == today + timedelta(days=7)
    assert slots[0].due_on != slots[1].due_on


def test_gap_of_zero_still_never_puts_two_waves_on_one_day() -> None:
    steps = [StepSpec(30, "sms", "q", 10), StepSpec(31, "sms", "q", 10)]
    slots = expand(CLOSED, steps, today=CLOSED + timedelta(days=35), min_gap_days=0)
    assert slots[1].due_on - slots[0].due_on == timedelta(days=1)


def test_wave_that_cannot_fit_its_window_after_the_gap_is_skipped_for_fatigue() -> None:
    steps = [StepSpec(30, "sms", "q", 3), StepSpec(33, "sms", "q", 3)]
    slots = expand(CLOSED, steps, today=CLOSED, min_gap_days=14)
    assert slots[0].scheduled
    assert slots[1].skip_reason == SKIP_FATIGUE


def test_earlier_contacts_count_towards_the_gap() -> None:
    steps = [StepSpec(90, "sms", "q", 14)]
    started = CLOSED + timedelta(days=85)
    slots = expand(CLOSED, steps, today=CLOSED, min_gap_days=14, earlier_contacts=[started])
    assert slots[0].due_on == started + timedelta(days=14)
