"""Turn a plan's waves into dated slots for one closure: windows, catch-up and the fatigue gap.

Pure (no database) so the rules are unit-tested directly:

* a wave is due on ``closed_on + offset_days`` and may start until ``+ window_days`` after that;
* catch-up: a closure registered late still gets every wave whose window is open — it is due
  *today* instead of on its (past) target day; a wave whose window has closed is skipped;
* two contacts are never closer than ``min_gap_days`` (at least one day, so never two waves on
  the same day); a wave that cannot fit inside its window because of that gap is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

SKIP_WINDOW_PASSED = "window_passed"
SKIP_FATIGUE = "fatigue_cap"


@dataclass(frozen=True)
class StepSpec:
    offset_days: int
    channel: str
    questionnaire_key: str
    window_days: int


@dataclass(frozen=True)
class Slot:
    step: StepSpec
    due_on: date
    window_end: date
    skip_reason: str | None = None  # None: scheduled

    @property
    def scheduled(self) -> bool:
        return self.skip_reason is None


DEFAULT_STEPS: tuple[StepSpec, ...] = (
    StepSpec(30, "sms", "default_followup", 7),
    StepSpec(90, "sms", "default_followup", 14),
    StepSpec(180, "phone", "default_followup", 21),
    StepSpec(365, "status_sms", "status_check", 30),
)


def expand(
    closed_on: date,
    steps: Iterable[StepSpec],
    *,
    today: date,
    min_gap_days: int,
    earlier_contacts: Sequence[date] = (),
) -> list[Slot]:
    """Slots for every step, in offset order. ``earlier_contacts`` are fixed dates already used
    (waves of this closure that have started) that the gap must also respect."""
    gap = timedelta(days=max(1, min_gap_days))
    last = max(earlier_contacts, default=None)
    slots: list[Slot] = []
    for step in sorted(steps, key=lambda s: s.offset_days):
        target = closed_on + timedelta(days=step.offset_days)
        window_end = target + timedelta(days=step.window_days)
        due = max(target, today)
        if due > window_end:
            slots.append(Slot(step, target, window_end, SKIP_WINDOW_PASSED))
            continue
        if last is not None and due < last + gap:
            due = last + gap
        if due > window_end:
            slots.append(Slot(step, target, window_end, SKIP_FATIGUE))
            continue
        slots.append(Slot(step, due, window_end))
        last = due
    return slots
