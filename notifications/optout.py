"""The opt-out register: an append-only ledger, keyword parsing, and the checks everyone uses.

Why a ledger and not a flag: "STOPP" must hold "at once, forever" and be provable later. Each
STOPP/START (or Twilio 21610, or a caseworker's note) appends one ``sms_opt_out_event``; the
newest event for a phone's blind index decides. Nothing is updated or deleted, so the history of
consent changes survives. Our register is the authority — Twilio's own (English-only) keyword
handling is a second line of defence, not the first.

Keywords are matched on the whole message only ("STOPP", "stopp!", " Sluta. "), so an answer
such as "stoppa inte" or "jag vill inte sluta" is never taken as an opt-out. Arabic and
Somali keywords (توقف, JOOJI, ابدأ, BILOW …) count like the Swedish ones.
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

# word → (keyword, the language it is written in; None when it is the same in several).
# Swedish and English are Twilio's defaults plus ours; Arabic and Somali are the words the
# shipped texts tell people to write (توقف, JOOJI) and their common variants.
_KEYWORD_WORDS: dict[str, tuple[Keyword, str | None]] = {
    "stopp": ("stop", "sv"),
    "stop": ("stop", None),
    "avsluta": ("stop", "sv"),
    "sluta": ("stop", "sv"),
    "avregistrera": ("stop", "sv"),
    "stopall": ("stop", "en"),
    "unsubscribe": ("stop", "en"),
    "sluta skicka": ("stop", "sv"),
    "stoppa sms": ("stop", "sv"),
    "توقف": ("stop", "ar"),
    "اوقف": ("stop", "ar"),
    "أوقف": ("stop", "ar"),
    "قف": ("stop", "ar"),
    "jooji": ("stop", "so"),
    "joojiya": ("stop", "so"),
    "joojiyo": ("stop", "so"),
    # Opt back in: only an explicit word, never "any other text".
    "start": ("start", None),
    "starta": ("start", "sv"),
    "ابدأ": ("start", "ar"),
    "ابدا": ("start", "ar"),
    "بدء": ("start", "ar"),
    "bilow": ("start", "so"),
    "bilaw": ("start", "so"),
    # Help.
    "hjälp": ("help", "sv"),
    "hjalp": ("help", "sv"),
    "help": ("help", None),
    "info": ("help", None),
    "مساعدة": ("help", "ar"),
    "مساعده": ("help", "ar"),
    "caawi": ("help", "so"),
    "caawimaad": ("help", "so"),
}
_KEYWORDS: dict[str, Keyword] = {word: keyword for word, (keyword, _) in _KEYWORD_WORDS.items()}
_NOT_WORD = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def _normalise(body: str) -> str:
    text = unicodedata.normalize("NFC", body or "").casefold()
    text = _NOT_WORD.sub(" ", text).replace("_", " ")
    return _SPACES.sub(" ", text).strip()


def parse_keyword(body: str | None) -> Keyword | None:
    """``"stop"``/``"start"``/``"help"`` when the whole message is a keyword, else ``None``."""
    return _KEYWORDS.get(_normalise(body or ""))


def keyword_language(body: str | None) -> str | None:
    """The language a keyword message is written in (``توقف`` → ``ar``), when the word tells."""
    found = _KEYWORD_WORDS.get(_normalise(body or ""))
    return found[1] if found else None


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
