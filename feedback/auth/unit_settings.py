"""A unit's SMS settings: the sender name, the send window and holidays (the admin's page).

Why these rules for the sender name: it must be usable as a Twilio alphanumeric sender id,
which operators accept only with 1–11 characters of ASCII letters, digits and spaces and at least
one letter (å, ä and ö are not delivered). The same name fills ``{kommun}`` in survey texts.
The window is the one ``notifications.windows`` already enforces (``feedback sms-window`` sets it
from the command line). Every change is audited (``unit.settings``, changed field names only).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import services
from feedback.auth.models import Unit
from feedback.core import audit
from feedback.core.errors import InvalidInput
from notifications import windows
from notifications.windows import SendWindow

SENDER_PATTERN = re.compile(r"[A-Za-z0-9 ]{1,11}")
DAY_LABELS_SV = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")


def check_sender_name(raw: str) -> str | None:
    """The cleaned sender name, ``None`` for "use the default", or ``InvalidInput``."""
    value = " ".join(raw.split())
    if not value:
        return None
    if len(value) > 11:
        raise InvalidInput("Avsändarnamnet får vara högst 11 tecken.", field="sender_name")
    if not SENDER_PATTERN.fullmatch(value):
        raise InvalidInput(
            "Avsändarnamnet får bara innehålla a–z, A–Z, siffror och mellanslag (inte å, ä, ö).",
            field="sender_name",
        )
    if not any(ch.isalpha() for ch in value):
        raise InvalidInput("Avsändarnamnet måste innehålla minst en bokstav.", field="sender_name")
    return value


@dataclass(frozen=True)
class UnitSettings:
    unit: Unit
    window: SendWindow


async def load(session: AsyncSession, unit_id: uuid.UUID) -> UnitSettings:
    unit = await services.get_unit(session, unit_id)
    return UnitSettings(unit, await windows.window_for_unit(session, unit_id))


async def save(
    session: AsyncSession,
    unit_id: uuid.UUID,
    *,
    sender_name: str,
    weekdays: frozenset[int],
    start: time,
    end: time,
    skip_holidays: bool,
    actor_id: uuid.UUID,
    now: datetime,
    client_ip: str | None = None,
) -> UnitSettings:
    """Validate and store; the caller commits."""
    current = await load(session, unit_id)
    name = check_sender_name(sender_name)
    if not weekdays:
        raise InvalidInput("Välj minst en dag då sms får skickas.", field="weekdays")
    if start >= end:
        raise InvalidInput("Starttiden måste vara före sluttiden.", field="end")
    window = replace(current.window, weekdays=weekdays, start=start, end=end, skip_holidays=skip_holidays)
    changed = []
    if name != current.unit.sms_sender_name:
        changed.append("sender_name")
        current.unit.sms_sender_name = name
    if window != current.window:
        changed.append("send_window")
        await windows.set_unit_window(session, unit_id, window)
    if changed:
        await audit.record(
            session,
            actor_id=actor_id,
            action="unit.settings",
            subject_type="unit",
            subject_id=unit_id,
            client_ip=client_ip,
            detail={"fields": changed},
            at=now,
        )
    await session.flush()
    return UnitSettings(current.unit, window)
