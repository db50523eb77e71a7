"""A verified inbound SMS: store once, handle opt-out keywords, otherwise hand to the owner.

Runs inside the webhook's transaction; the caller commits before answering Twilio. Nothing
here talks to Twilio: confirmations and help texts are outbox rows, sent by the dispatcher.

Keyword rules (glossary: opt-out is "at once, forever"):
* STOPP/STOP/AVSLUTA/SLUTA (or Twilio's ``OptOutType=STOP``) → an append-only ledger entry and
  exactly one confirmation per received message (the outbox idempotency key is the MessageSid).
* START (or ``OptOutType=START``) → opt back in, confirmed. Nothing else re-subscribes anyone:
  any other text from an opted-out number is stored and handed on, the ledger is untouched.
* HJÄLP/HELP → a short help text. Texts are discreet (no case words) and in the person's
  language: the owner (``InboundHandler.keyword_reply``) picks it from the text catalogue;
  an unknown number gets Swedish and English.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.db import insert_for
from feedback.core.settings import Settings
from notifications import optout, outbox
from notifications.models import OptOutAction, OptOutSource, SmsInbound
from notifications.phone import InvalidPhoneNumber, PhoneVault
from notifications.ports import InboundHandler, InboundSms
from notifications.signature import FormPairs

log = logging.getLogger(__name__)

_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
_PHONE = re.compile(r"^\+?[0-9A-Za-z]{3,20}$")
MAX_BODY_CHARS = 1600

CONFIRM_STOP = (
    "Du får inga fler sms från oss. Skriv START om du vill få sms igen. "
    "/ You will not get more texts from us. Reply START to get texts again."
)
CONFIRM_START = (
    "Du får sms från oss igen. Skriv STOPP om du vill sluta. "
    "/ You will get texts from us again. Reply STOP to stop."
)
HELP_TEXT = (
    "Det här är en kort uppföljning från kommunen. Svara på frågan eller skriv STOPP för att "
    "slippa fler sms. / A short follow-up from the municipality. Reply STOP to stop texts."
)
OPT_OUT_TYPES = {"STOP": "stop", "START": "start", "HELP": "help"}
# Sent when the owner has no text in the person's language (an unknown number): both languages.
DEFAULT_REPLIES = {"stop": CONFIRM_STOP, "start": CONFIRM_START, "help": HELP_TEXT}


@dataclass(frozen=True)
class InboundFields:
    message_sid: str
    from_: str
    to: str
    body: str
    opt_out_type: str | None

    @classmethod
    def from_form(cls, form: FormPairs) -> InboundFields:
        sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
        if not _SID.match(sid):
            raise ValueError("MessageSid saknas eller är ogiltigt")
        from_, to = form.get("From", ""), form.get("To", "")
        if not _PHONE.match(from_) or not _PHONE.match(to):
            raise ValueError("From/To saknas eller är ogiltiga")
        body = form.get("Body", "")
        if len(body) > MAX_BODY_CHARS:
            raise ValueError("för långt meddelande")
        opt_out_type = (form.get("OptOutType") or "").strip().upper() or None
        return cls(sid, from_, to, body, opt_out_type)


def _insert_ignoring_duplicates(session: AsyncSession, values: dict[str, Any]) -> Any:
    """``INSERT … ON CONFLICT (message_sid) DO NOTHING RETURNING id`` on either database."""
    statement = (
        insert_for(session, SmsInbound)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["message_sid"])
    )
    return statement.returning(SmsInbound.id)


def keyword_of(fields: InboundFields) -> str | None:
    """stop / start / help / None: Twilio's OptOutType wins, then our Swedish+English parser."""
    if fields.opt_out_type in OPT_OUT_TYPES:
        return OPT_OUT_TYPES[fields.opt_out_type]
    return optout.parse_keyword(fields.body)


async def receive(
    session: AsyncSession,
    settings: Settings,
    handler: InboundHandler,
    fields: InboundFields,
    *,
    now: datetime | None = None,
) -> str:
    """Store and process one inbound SMS; returns the outcome (``duplicate``, ``stop`` …)."""
    at = now or datetime.now(UTC)
    vault = PhoneVault.from_settings(settings)
    phone_index = vault.blind_index(fields.from_)
    inbound_id = uuid.uuid4()
    keyword = keyword_of(fields)
    outcome = keyword or "handed_on"
    statement = _insert_ignoring_duplicates(
        session,
        {
            "id": inbound_id,
            "message_sid": fields.message_sid,
            "from_index": phone_index,
            "from_encrypted": vault.encrypt(fields.from_),
            "to_number": fields.to,
            "body_encrypted": vault.encrypt(fields.body),
            "opt_out_type": fields.opt_out_type,
            "received_at": at,
            "outcome": outcome,
            # Processing happens in this same transaction: if the handler fails, the row is
            # rolled back with it and Twilio's retry brings the message again.
            "handled": True,
        },
    )
    inserted = (await session.execute(statement)).scalar_one_or_none()
    if inserted is None:
        return "duplicate"
    source = OptOutSource.OPT_OUT_TYPE if fields.opt_out_type in OPT_OUT_TYPES else OptOutSource.KEYWORD
    if keyword is not None:
        own = await handler.keyword_reply(session, phone_index, keyword, optout.keyword_language(fields.body))
        body, language = (own.body, own.language) if own is not None else (DEFAULT_REPLIES[keyword], None)
    if keyword == "stop":
        await optout.record(session, phone_index, action=OptOutAction.OPT_OUT, source=source, at=at)
        await handler.handle_opt_out(session, phone_index, at)
        await _reply(session, settings, fields, body, kind="optout_confirmation", at=at, language=language)
    elif keyword == "start":
        await optout.record(session, phone_index, action=OptOutAction.OPT_IN, source=source, at=at)
        await _reply(session, settings, fields, body, kind="optin_confirmation", at=at, language=language)
    elif keyword == "help":
        await _reply(session, settings, fields, body, kind="help", at=at, language=language)
    else:
        await handler.handle_inbound(
            session,
            InboundSms(
                inbound_id=inbound_id,
                message_sid=fields.message_sid,
                from_e164=fields.from_,
                from_index=phone_index,
                to=fields.to,
                body=fields.body,
                received_at=at,
            ),
        )
    return outcome


async def _reply(
    session: AsyncSession,
    settings: Settings,
    fields: InboundFields,
    body: str,
    *,
    kind: str,
    at: datetime,
    language: str | None = None,
) -> None:
    """One outbox row per received message (key = MessageSid).

    A direct answer to what the person just wrote, so it may go out at once, also outside the
    office window (``conversation_exempt``); the STOPP confirmation is the one message that
    reaches a number that has opted out.
    """
    try:
        await outbox.enqueue(
            session,
            idempotency_key=f"inbound:{fields.message_sid}:{kind}",
            to_e164=fields.from_,
            body=body,
            kind=kind,
            now=at,
            settings=settings,
            conversation_exempt=True,
            ignore_opt_out=kind == "optout_confirmation",
            language=language,
        )
    except InvalidPhoneNumber:
        log.info("no %s sent: the sender's number cannot receive SMS", kind)
