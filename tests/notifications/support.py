"""Test doubles for the dispatcher: a scripted in-memory gateway, a real-twilio-client gateway
against the local fake Twilio, and an owner handler that records what it is told."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notifications.errors import (
    OptedOutSendError,
    PermanentSendError,
    RetryableSendError,
    SendError,
    UnknownOutcomeError,
)
from notifications.ports import DeliveryProblem, InboundSms, OutboundSms, SendResult

_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


@dataclass
class ScriptedGateway:
    """Each ``send`` takes the next scripted outcome for the number (default: accepted).

    An outcome is ``"ok"``, an exception instance, or ``("accepted_then", exc)``: the provider
    accepts the message but the caller sees ``exc`` (a timeout after the POST).
    """

    script: dict[str, list[Any]] = field(default_factory=dict)
    calls: list[OutboundSms] = field(default_factory=list)
    accepted: dict[uuid.UUID, SendResult] = field(default_factory=dict)
    find_errors: int = 0
    find_calls: int = 0

    async def send(self, message: OutboundSms) -> SendResult:
        self.calls.append(message)
        queue = self.script.get(message.to_e164) or []
        outcome = queue.pop(0) if queue else "ok"
        if isinstance(outcome, tuple) and outcome[0] == "accepted_then":
            self.accepted[message.outbox_id] = SendResult(new_sid(), "queued", 1)
            raise outcome[1]
        if isinstance(outcome, BaseException):
            raise outcome
        result = SendResult(new_sid(), "queued", 1)
        self.accepted[message.outbox_id] = result
        return result

    async def find_sent(
        self,
        *,
        to_e164: str,
        sent_after: datetime,
        outbox_id: uuid.UUID,
        body: str | None = None,
        exclude: Collection[str] = frozenset(),
    ) -> SendResult | None:
        self.find_calls += 1
        if self.find_errors:
            self.find_errors -= 1
            raise RetryableSendError(20500, detail="list failed")
        found = self.accepted.get(outbox_id)
        return None if found is None or found.provider_sid in exclude else found

    def sends_for(self, outbox_id: uuid.UUID) -> int:
        return sum(1 for call in self.calls if call.outbox_id == outbox_id)


@dataclass
class RecordingHandler:
    problems: list[DeliveryProblem] = field(default_factory=list)
    opt_outs: list[str] = field(default_factory=list)
    inbound: list[InboundSms] = field(default_factory=list)

    async def handle_inbound(self, session: Any, sms: InboundSms) -> None:
        self.inbound.append(sms)

    async def handle_delivery_problem(self, session: Any, problem: DeliveryProblem) -> None:
        self.problems.append(problem)

    async def handle_opt_out(self, session: Any, phone_index: str, at: datetime) -> None:
        self.opt_outs.append(phone_index)

    async def keyword_reply(self, session: Any, phone_index: str, keyword: str, wrote_in: str | None) -> None:
        return None  # notifications' own Swedish/English confirmation


class TwilioClientGateway:
    """The real ``twilio`` client pointed at the local fake Twilio (minimal classification).

    Used by the process-level tests until/unless the project's TwilioGateway is wired in; the
    point here is that every send is a real HTTP POST the fake counts.
    """

    def __init__(self, base_url: str, account_sid: str, auth_token: str, from_: str = "+46700000000") -> None:
        from twilio.rest import Client

        from notifications.gateways.twilio_http import LocalTwilioHttpClient

        self.client = Client(account_sid, auth_token, http_client=LocalTwilioHttpClient(base_url, timeout=5))
        self.from_ = from_

    def _send(self, message: OutboundSms) -> SendResult:
        import requests
        from twilio.base.exceptions import TwilioRestException

        try:
            created = self.client.messages.create(
                to=message.to_e164,
                from_=self.from_,
                body=message.body,
                status_callback=message.status_callback_url,
            )
        except TwilioRestException as exc:
            if exc.code == 21610:
                raise OptedOutSendError(detail=str(exc.code)) from exc
            if exc.status == 429 or exc.status >= 500:
                raise RetryableSendError(exc.code, detail=str(exc.status)) from exc
            raise PermanentSendError(exc.code, detail=str(exc.status)) from exc
        except requests.exceptions.ConnectionError as exc:
            raise UnknownOutcomeError(detail="connection") from exc
        except requests.exceptions.Timeout as exc:
            raise UnknownOutcomeError(detail="timeout") from exc
        return SendResult(created.sid, created.status, int(created.num_segments or 1))

    async def send(self, message: OutboundSms) -> SendResult:
        return await asyncio.to_thread(self._send, message)

    def _find(
        self, to_e164: str, sent_after: datetime, body: str | None, exclude: Collection[str]
    ) -> SendResult | None:
        try:
            for item in self.client.messages.list(to=to_e164, date_sent_after=sent_after, limit=200):
                if (body is None or item.body == body) and item.sid not in exclude:
                    return SendResult(item.sid, item.status, None)
        except Exception as exc:
            raise SendError(detail=type(exc).__name__) from exc
        return None

    async def find_sent(
        self,
        *,
        to_e164: str,
        sent_after: datetime,
        outbox_id: uuid.UUID,
        body: str | None = None,
        exclude: Collection[str] = frozenset(),
    ) -> SendResult | None:
        return await asyncio.to_thread(self._find, to_e164, sent_after, body, exclude)
