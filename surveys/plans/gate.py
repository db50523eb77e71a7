"""The pre-send gate: is it still right to contact this person, today, for this wave?

Checked at due time (not at registration) because flags change: a client may opt out, be given a
protected identity, withdraw consent or return to assistance after the plan was made. Every
refusal becomes the follow-up's ``skip_reason`` and a log line; a fatigue refusal defers the wave
inside its window when it can.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import optout
from surveys.closures.models import Client, Closure
from surveys.plans.models import FollowUp

# Other contact types (panel invitations, ad-hoc calls) register a source here:
# async (session, client_id) -> the time of the newest contact, or None.
ContactSource = Callable[[AsyncSession, uuid.UUID], Awaitable[datetime | None]]
CONTACT_SOURCES: list[ContactSource] = []


@dataclass(frozen=True)
class GateDecision:
    skip_reason: str | None = None
    defer_to: date | None = None

    @property
    def go(self) -> bool:
        return self.skip_reason is None and self.defer_to is None


async def _opted_out(session: AsyncSession, client: Client) -> bool:
    if not client.phone_index:
        return False
    return bool(await optout.is_opted_out(session, client.phone_index))


async def last_contact(session: AsyncSession, client_id: uuid.UUID, *, exclude: uuid.UUID) -> datetime | None:
    """Newest contact with the person across all their closures' waves and registered sources."""
    newest = await session.scalar(
        sa.select(sa.func.max(FollowUp.handed_over_at)).where(
            FollowUp.client_id == client_id, FollowUp.id != exclude
        )
    )
    for source in CONTACT_SOURCES:
        other = await source(session, client_id)
        if other is not None and (newest is None or other > newest):
            newest = other
    return newest


async def check(
    session: AsyncSession,
    follow_up: FollowUp,
    *,
    today: date,
    min_gap_days: int,
    local_date: Callable[[datetime], date],
) -> GateDecision:
    client = await session.get(Client, follow_up.client_id, populate_existing=True)
    closure = await session.get(Closure, follow_up.closure_id, populate_existing=True)
    if client is None or closure is None or client.erased_at is not None:
        return GateDecision("erased")
    if closure.returned_on is not None:
        return GateDecision("case_reopened")
    if client.do_not_contact:
        return GateDecision("do_not_contact")
    if client.protected_identity:
        return GateDecision("protected_identity")
    if client.consent_withdrawn_at is not None:
        return GateDecision("consent_withdrawn")
    if await _opted_out(session, client):
        return GateDecision("opted_out")
    newest = await last_contact(session, client.id, exclude=follow_up.id)
    if newest is not None:
        earliest = local_date(newest) + timedelta(days=max(1, min_gap_days))
        if earliest > today:
            if earliest <= follow_up.window_end:
                return GateDecision(defer_to=earliest)
            return GateDecision("fatigue_cap")
    return GateDecision()
