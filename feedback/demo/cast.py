"""Who the demo clients are and how they tend to behave.

Phone numbers come from PTS's series reserved for fiction (070-174 06 05 … 070-174 06 99), so
a demo database never holds anyone's real number; there are 95 of them, and each belongs to
one client only (a reply is matched to a conversation by the number). Clients beyond that have
no mobile number: their waves go to the phone queue, as for real clients without one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

FICTIONAL_MOBILES = tuple(f"+4670174{n:04d}" for n in range(605, 700))

# How a client answers an SMS conversation; drawn per conversation from the client's habits.
EAGER = "eager"  # answers the same day
SLOW = "slow"  # answers after the reminder
PARTIAL = "partial"  # answers some questions, then goes quiet
SILENT = "silent"  # never answers (→ phone fallback)
REFUSES = "refuses"  # "Nej tack" before any answer
STOPS = "stops"  # writes STOPP part-way
UNREACHABLE = "unreachable"  # the number cannot be reached for this wave


@dataclass(frozen=True)
class DemoClient:
    ref: str
    unit_code: str
    phone: str | None
    language: str
    reason: str
    closed_on: date
    registered_on: date
    satisfaction: int  # the score this person tends to give (1–5)
    status: str  # working / studying / both / neither at the later waves
    returns_on: date | None  # återaktualisering, if it happens in the demo year
    answers_calls: float  # chance of picking up the phone
    habits: tuple[tuple[str, float], ...]  # SMS behaviour → weight


def _pick(rng: random.Random, weighted: dict[str, float]) -> str:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def _habits(rng: random.Random) -> tuple[tuple[str, float], ...]:
    kind = rng.random()
    if kind < 0.08:  # not interested at all
        return ((SILENT, 0.5), (REFUSES, 0.3), (STOPS, 0.2))
    base = {EAGER: 0.5, SLOW: 0.17, PARTIAL: 0.1, SILENT: 0.13, REFUSES: 0.03, STOPS: 0.03, UNREACHABLE: 0.04}
    if kind > 0.7:  # very willing
        base[EAGER] += 0.3
    return tuple(base.items())


def make_cast(
    today: date, *, sms_clients: int, phone_only: int, days: int, seed: int = 2026
) -> list[DemoClient]:
    """Closures spread over ``days`` before ``today``; deterministic for a given seed."""
    if sms_clients > len(FICTIONAL_MOBILES):
        raise ValueError(f"at most {len(FICTIONAL_MOBILES)} clients can have a fictional mobile number")
    rng = random.Random(seed)
    out: list[DemoClient] = []
    for n in range(sms_clients + phone_only):
        unit = "fsd" if rng.random() < 0.6 else "ame"
        closed_on = today - timedelta(days=rng.randint(5, days))
        registered_on = min(closed_on + timedelta(days=rng.randint(0, 6)), today - timedelta(days=1))
        status = _pick(rng, {"working": 0.55, "studying": 0.2, "both": 0.08, "neither": 0.17})
        reason = {"working": "work", "both": "work", "studying": "studies"}.get(
            status, _pick(rng, {"work": 0.7, "other_income": 0.15, "moved": 0.05, "unknown": 0.1})
        )
        returns_on = None
        if (status == "neither" and rng.random() < 0.55) or rng.random() < 0.04:
            candidate = closed_on + timedelta(days=rng.randint(40, 320))
            returns_on = candidate if candidate < today else None
        out.append(
            DemoClient(
                ref=f"DEMO-{unit.upper()}-{n + 1:03d}",
                unit_code=unit,
                phone=FICTIONAL_MOBILES[n] if n < sms_clients else None,
                language=_pick(rng, {"sv": 0.74, "en": 0.08, "sv-easy": 0.08, "ar": 0.07, "so": 0.03}),
                reason=reason,
                closed_on=closed_on,
                registered_on=registered_on,
                satisfaction=int(_pick(rng, {"1": 0.04, "2": 0.08, "3": 0.2, "4": 0.38, "5": 0.3})),
                status=status,
                returns_on=returns_on,
                answers_calls=rng.uniform(0.35, 0.9),
                habits=_habits(rng),
            )
        )
    return out
