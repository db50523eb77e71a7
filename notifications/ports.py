"""The small interfaces between the messaging layer and the rest of the system.

``notifications`` moves messages; it knows nothing of surveys. The survey layer implements
``InboundHandler`` and is registered in ``create_app`` / ``run_worker``. Gateways implement
``SmsGateway`` (Twilio, the local fake Twilio, console).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class OutboundSms:
    outbox_id: uuid.UUID
    to_e164: str
    body: str
    status_callback_url: str | None
    validity_period_s: int | None = None


@dataclass(frozen=True)
class SendResult:
    provider_sid: str
    provider_status: str
    segments: int | None = None


@dataclass(frozen=True)
class InboundSms:
    """A stored, verified, de-duplicated inbound message, handed to the owner of conversations."""

    inbound_id: uuid.UUID
    message_sid: str
    from_e164: str
    from_index: str  # keyed blind index of the sender's number (see notifications.phone)
    to: str
    body: str
    received_at: datetime


ProblemKind = Literal["failed", "undelivered", "unreachable", "dead", "expired", "needs_review", "opted_out"]


@dataclass(frozen=True)
class DeliveryProblem:
    """A message ended in a ✖/⚑ state: the owner decides what happens next (e.g. a phone task)."""

    outbox_id: uuid.UUID
    owner_ref: str | None  # opaque to notifications, e.g. "conversation:<uuid>"
    kind: ProblemKind
    error_code: int | None
    reason_sv: str
    at: datetime


class SmsGateway(Protocol):
    async def send(self, message: OutboundSms) -> SendResult:
        """Send one message. Raises ``notifications.errors`` classes on failure."""
        ...

    async def find_sent(
        self,
        *,
        to_e164: str,
        sent_after: datetime,
        outbox_id: uuid.UUID,
        body: str | None = None,
        exclude: Collection[str] = frozenset(),
    ) -> SendResult | None:
        """Ask the provider whether ``outbox_id`` was accepted (reconciling an ``unknown`` row).

        Twilio: ``messages.list(to=…, date_sent_after=…)`` and match the outbox id carried in the
        StatusCallback URL (``?o=<outbox id>``); ``body``, when given, narrows the match when
        several messages went to the same number (the dispatcher always passes it); ``exclude``
        holds provider ids already linked to other outbox rows, which must never be returned
        (two identical texts to one number are two messages, never one). Returns
        ``None`` only when the provider positively has no such message; raises
        ``notifications.errors.SendError`` when it cannot tell (then the reconciler tries again
        later).

        Every implementation states its conformance (``def _conforms(gateway: X) -> SmsGateway``
        under ``TYPE_CHECKING``) so that mypy reports a gateway that drifts from this signature.
        """
        ...


class InboundHandler(Protocol):
    async def handle_inbound(self, session: AsyncSession, sms: InboundSms) -> None:
        """Process a reply inside the webhook's transaction; enqueue answers via the outbox only."""
        ...

    async def handle_delivery_problem(self, session: AsyncSession, problem: DeliveryProblem) -> None:
        """React to a message that could not be delivered (turn it into a phone task, …)."""
        ...

    async def handle_opt_out(self, session: AsyncSession, phone_index: str, at: datetime) -> None:
        """The person behind ``phone_index`` wrote STOPP (or Twilio reported 21610)."""
        ...

    async def keyword_reply(
        self, session: AsyncSession, phone_index: str, keyword: str, wrote_in: str | None
    ) -> KeywordReply | None:
        """The confirmation of STOPP/START/HJÄLP in the person's language, or ``None``.

        Why the owner answers: only the survey layer knows the person's registered language and
        the text catalogue. ``wrote_in`` is the keyword's own language (``توقف`` → ``ar``).
        ``None`` means notifications sends its Swedish/English default.
        """
        ...


@dataclass(frozen=True)
class KeywordReply:
    body: str
    language: str


class NullInboundHandler:
    """Used until a survey layer is registered: messages are stored, nothing else happens."""

    async def handle_inbound(self, session: AsyncSession, sms: InboundSms) -> None:
        return None

    async def handle_delivery_problem(self, session: AsyncSession, problem: DeliveryProblem) -> None:
        return None

    async def handle_opt_out(self, session: AsyncSession, phone_index: str, at: datetime) -> None:
        return None

    async def keyword_reply(
        self, session: AsyncSession, phone_index: str, keyword: str, wrote_in: str | None
    ) -> KeywordReply | None:
        return None
