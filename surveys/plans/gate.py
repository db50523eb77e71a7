"""The pre-send gate: is it still right to contact this person, today, for this wave?

Checked at due time (not at registration) because flags change: a client may opt out, be given a
protected identity, withdraw consent or return to assistance after the plan was made. Every
refusal becomes the follow-up's ``skip_reason`` and a log line; a fatigue refusal defers the wave
inside its window when it can.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import optout
from notifications.kinds import CONTACT_KINDS
from notifications.models import OutboxStatus, SmsOutbox
from surveys.closures.models import Client, Closure
from surveys.phone.models import CallAttempt, CallTask
from surveys.plans.models import FollowUp

# An SMS in these states never reached the person, so it is no contact to rest from.
NOT_CONTACTED = (
    OutboxStatus.SKIPPED,
    OutboxStatus.CANCELED,
    OutboxStatus.FAILED,
    OutboxStatus.UNDELIVERED,
    OutboxStatus.DEAD,
)


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


async def last_contact(session: AsyncSession, client: Client, *, exclude: uuid.UUID) -> datetime | None:
    """Newest contact with the person, from every source, except the follow-up being checked.

    Sources, all read from tables this package can see (no registration to forget):

    * survey waves of any of the person's closures (``follow_up.handed_over_at``), not their
      reminders;
    * SMS of a contact kind (``notifications.kinds.CONTACT_KINDS``: "ni sa – vi gjorde",
      panel invitations) to the person's current number that reached, or may still reach, them;
      a queued one counts from when it may be sent;
    * call attempts on any of the person's call tasks (a missed call rang their phone too).
    """
    newest: list[datetime | None] = [
        await session.scalar(
            sa.select(sa.func.max(FollowUp.handed_over_at)).where(
                FollowUp.client_id == client.id, FollowUp.id != exclude
            )
        ),
        await session.scalar(
            sa.select(sa.func.max(CallAttempt.at))
            .join(CallTask, CallAttempt.task_id == CallTask.id)
            .where(CallTask.client_id == client.id, CallTask.follow_up_id != exclude)
        ),
    ]
    if client.phone_index:
        newest.append(
            await session.scalar(
                sa.select(sa.func.max(sa.func.coalesce(SmsOutbox.sent_at, SmsOutbox.not_before))).where(
                    SmsOutbox.to_index == client.phone_index,
                    SmsOutbox.kind.in_(sorted(CONTACT_KINDS)),
                    SmsOutbox.status.not_in(NOT_CONTACTED),
                )
            )
        )
    return max((at for at in newest if at is not None), default=None)


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
    newest = await last_contact(session, client, exclude=follow_up.id)
    if newest is not None:
        earliest = local_date(newest) + timedelta(days=max(1, min_gap_days))
        if earliest > today:
            if earliest <= follow_up.window_end:
                return GateDecision(defer_to=earliest)
            return GateDecision("fatigue_cap")
    return GateDecision()
