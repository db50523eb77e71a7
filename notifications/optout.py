"""The opt-out register: an append-only ledger, keyword parsing, and the checks everyone uses.

Why a ledger and not a flag: "STOPP" must hold "at once, forever" and be provable later. Each
STOPP/START (or Twilio 21610, or a caseworker's note) appends one ``sms_opt_out_event``; the
newest event for a phone's blind index decides. Nothing is updated or deleted, so the history of
consent changes survives. Our register is the authority — Twilio's own (English-only) keyword
handling is a second line of defence, not the first.

Keywords are matched on the whole message only ("STOPP", "stopp!", " Sluta. "), so an answer
such as "stoppa inte" or "jag vill inte sluta" is never taken as an opt-out.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import OptOutAction, OptOutSource, SmsOptOutEvent

Keyword = Literal["stop", "start", "help"]

_KEYWORDS: dict[str, Keyword] = {
    # Swedish and English opt-out words (Twilio's defaults plus ours).
    "stopp": "stop",
    "stop": "stop",
    "avsluta": "stop",
    "sluta": "stop",
    "avregistrera": "stop",
    "stopall": "stop",
    "unsubscribe": "stop",
    "sluta skicka": "stop",
    "stoppa sms": "stop",
    # Opt back in: only an explicit word, never "any other text".
    "start": "start",
    "starta": "start",
    # Help.
    "hjälp": "help",
    "hjalp": "help",
    "help": "help",
    "info": "help",
}
_NOT_WORD = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def _normalise(body: str) -> str:
    text = unicodedata.normalize("NFC", body or "").casefold()
    text = _NOT_WORD.sub(" ", text).replace("_", " ")
    return _SPACES.sub(" ", text).strip()


def parse_keyword(body: str | None) -> Keyword | None:
    """``"stop"``/``"start"``/``"help"`` when the whole message is a keyword, else ``None``."""
    return _KEYWORDS.get(_normalise(body or ""))


async def latest_action(session: AsyncSession, phone_index: str) -> OptOutAction | None:
    row = await session.scalar(
        sa.select(SmsOptOutEvent.action)
        .where(SmsOptOutEvent.phone_index == phone_index)
        .order_by(SmsOptOutEvent.at.desc(), SmsOptOutEvent.id.desc())
        .limit(1)
    )
    return None if row is None else OptOutAction(row)


async def is_opted_out(session: AsyncSession, phone_index: str) -> bool:
    """True when the newest ledger event for this number is an opt-out."""
    return await latest_action(session, phone_index) == OptOutAction.OPT_OUT


async def record(
    session: AsyncSession,
    phone_index: str,
    *,
    action: OptOutAction | str,
    source: OptOutSource | str,
    at: datetime,
    note: str | None = None,
) -> SmsOptOutEvent:
    """Append one event. An opt-out also skips every pending message to that number.

    The caller commits (same transaction as the inbound message that caused it) and tells the
    owner (``InboundHandler.handle_opt_out``).
    """
    event = SmsOptOutEvent(
        phone_index=phone_index, action=OptOutAction(action), source=OptOutSource(source), at=at, note=note
    )
    session.add(event)
    await session.flush()
    if event.action == OptOutAction.OPT_OUT:
        from notifications.outbox import skip_pending_for_number

        await skip_pending_for_number(session, phone_index, now=at)
    return event


async def record_opt_out(
    session: AsyncSession,
    phone_index: str,
    *,
    source: OptOutSource | str,
    at: datetime,
    note: str | None = None,
) -> SmsOptOutEvent:
    return await record(session, phone_index, action=OptOutAction.OPT_OUT, source=source, at=at, note=note)


async def record_opt_in(
    session: AsyncSession,
    phone_index: str,
    *,
    source: OptOutSource | str,
    at: datetime,
    note: str | None = None,
) -> SmsOptOutEvent:
    return await record(session, phone_index, action=OptOutAction.OPT_IN, source=source, at=at, note=note)


async def history(session: AsyncSession, phone_index: str) -> list[SmsOptOutEvent]:
    result = await session.scalars(
        sa.select(SmsOptOutEvent)
        .where(SmsOptOutEvent.phone_index == phone_index)
        .order_by(SmsOptOutEvent.at, SmsOptOutEvent.id)
    )
    return list(result)
