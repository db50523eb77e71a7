"""``TwilioGateway``: the one place that calls Twilio's Messages API (through the real library).

Why sync client in a thread: the async client ignores its timeout (twilio-python#925) and its
retry option re-POSTs on 5xx, which can text a person twice. The sync client with
``timeout=10`` and no retries sends exactly one POST per attempt.

Every failure is classified (``classify_failure``) into ``notifications.errors``:

* **permanent** – Twilio refused this message for good (bad number, not a mobile, region not
  enabled, body invalid …); 21610 is the recipient's opt-out and becomes ``OptedOutSendError``.
* **retryable** – Twilio certainly did not create the message: the connection could not be
  opened (refused, connect timeout, TLS), 429/20429 rate limits, 503/20503 "service
  unavailable", or our credentials were rejected (a configuration fault someone will fix).
* **unknown outcome** – the POST may have created a message: read timeout, connection dropped
  after the request was sent, or a 500/502/504 (a 500 can come *after* the message was
  accepted). Resending blindly could double-text someone, so the dispatcher parks the row as
  ``unknown`` and the status callback (``?o=<outbox id>``) or the reconciler
  (:meth:`TwilioGateway.find_sent`) tells what happened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
import urllib3.exceptions
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from notifications.errors import (
    OptedOutSendError,
    PermanentSendError,
    RetryableSendError,
    SendError,
    UnknownOutcomeError,
)
from notifications.gateways.twilio_http import build_http_client
from notifications.ports import OutboundSms, SendResult, SmsGateway

log = logging.getLogger(__name__)

OPTED_OUT = 21610
RATE_LIMITED = frozenset({429, 20429})
UNAVAILABLE = frozenset({503, 20503})
AUTH_FAILURES = frozenset({401, 403, 20003})
# How long to wait before trying again after a "certainly not created" failure.
RETRY_AFTER_RATE_LIMIT_S = 60
RETRY_AFTER_UNAVAILABLE_S = 120
RETRY_AFTER_CONFIG_S = 900
RETRY_AFTER_NETWORK_S = 60


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, its chained causes, and urllib3's wrapped ``reason``s."""
    seen: list[BaseException] = []
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        stack.extend(a for a in current.args if isinstance(a, BaseException))
    return seen


def _never_sent(exc: requests.exceptions.RequestException) -> bool:
    """True when the request certainly never reached Twilio (no connection was established)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return True
    if isinstance(exc, requests.exceptions.ProxyError):
        return True
    return any(
        isinstance(
            cause,
            urllib3.exceptions.NewConnectionError
            | urllib3.exceptions.ConnectTimeoutError
            | urllib3.exceptions.NameResolutionError
            | ConnectionRefusedError,
        )
        for cause in _causes(exc)
    )


def classify_failure(exc: BaseException) -> SendError:
    """Map a failure of ``messages.create`` to the error class the dispatcher acts on."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, TwilioRestException) or (
        isinstance(exc, TwilioException) and hasattr(exc, "status") and hasattr(exc, "code")
    ):
        status = int(getattr(exc, "status", 0) or 0)
        code = int(getattr(exc, "code", 0) or status)
        detail = f"Twilio {status}/{code}"
        if code == OPTED_OUT:
            return OptedOutSendError(code=code, detail=detail)
        if status in RATE_LIMITED or code in RATE_LIMITED:
            return RetryableSendError(code=code, detail=detail, retry_after_s=RETRY_AFTER_RATE_LIMIT_S)
        if status in UNAVAILABLE or code in UNAVAILABLE:
            return RetryableSendError(code=code, detail=detail, retry_after_s=RETRY_AFTER_UNAVAILABLE_S)
        if status in AUTH_FAILURES or code in AUTH_FAILURES:
            return RetryableSendError(code=code, detail=detail, retry_after_s=RETRY_AFTER_CONFIG_S)
        if status >= 500:
            return UnknownOutcomeError(code=code, detail=f"{detail}: the message may have been created")
        return PermanentSendError(code=code, detail=detail)
    if isinstance(exc, requests.exceptions.RequestException):
        if _never_sent(exc):
            return RetryableSendError(
                detail=f"no connection to Twilio ({type(exc).__name__})", retry_after_s=RETRY_AFTER_NETWORK_S
            )
        return UnknownOutcomeError(
            detail=f"no answer from Twilio after the request was sent ({type(exc).__name__})"
        )
    return UnknownOutcomeError(detail=f"unexpected failure while sending ({type(exc).__name__})")


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    from_number: str = ""
    messaging_service_sid: str = ""
    api_base_url: str = ""  # empty: the real api.twilio.com; set: a local fake Twilio
    timeout_s: float = 10.0


class TwilioGateway:
    """``SmsGateway`` over Twilio's Messages API (real service or the bundled fake)."""

    def __init__(self, config: TwilioConfig, client: Client | None = None) -> None:
        if not (config.from_number or config.messaging_service_sid):
            raise ValueError("TwilioGateway needs a From number or a Messaging Service SID")
        self.config = config
        self.client = client or Client(
            config.account_sid,
            config.auth_token,
            http_client=build_http_client(config.api_base_url or None, config.timeout_s),
        )

    def _sender(self) -> dict[str, str]:
        if self.config.messaging_service_sid:
            return {"messaging_service_sid": self.config.messaging_service_sid}
        return {"from_": self.config.from_number}

    def _create(self, message: OutboundSms) -> SendResult:
        params: dict[str, Any] = {"to": message.to_e164, "body": message.body, **self._sender()}
        if message.status_callback_url:
            params["status_callback"] = message.status_callback_url
        if message.validity_period_s:
            params["validity_period"] = message.validity_period_s
        try:
            created = self.client.messages.create(**params)
        except Exception as exc:
            raise classify_failure(exc) from exc
        segments = int(created.num_segments) if created.num_segments not in (None, "") else None
        return SendResult(
            provider_sid=created.sid, provider_status=created.status or "queued", segments=segments
        )

    async def send(self, message: OutboundSms) -> SendResult:
        """One POST to Twilio, run in a worker thread so the event loop keeps serving."""
        return await asyncio.to_thread(self._create, message)

    def _find(
        self,
        to_e164: str,
        sent_after: datetime,
        outbox_id: object,
        body: str | None,
        exclude: Collection[str] = frozenset(),
    ) -> SendResult | None:
        try:
            candidates = self.client.messages.list(
                to=to_e164, date_sent_after=sent_after - timedelta(minutes=1), limit=50
            )
        except Exception as exc:
            raise classify_failure(exc) from exc
        own_sender = self.config.messaging_service_sid or self.config.from_number
        matches = [
            m
            for m in candidates
            if (body is None or m.body == body)
            and m.sid not in exclude
            and own_sender in (m.messaging_service_sid, m.from_, None)
            and (m.direction or "outbound-api").startswith("outbound")
        ]
        if not matches:
            return None
        if len(matches) > 1:
            log.warning(
                "find_sent for outbox %s matched %d messages; using the oldest", outbox_id, len(matches)
            )
        oldest = min(matches, key=lambda m: m.date_created or sent_after)
        segments = int(oldest.num_segments) if oldest.num_segments not in (None, "") else None
        return SendResult(
            provider_sid=oldest.sid, provider_status=oldest.status or "queued", segments=segments
        )

    async def find_sent(
        self,
        *,
        to_e164: str,
        sent_after: datetime,
        outbox_id: object,
        body: str | None = None,
        exclude: Collection[str] = frozenset(),
    ) -> SendResult | None:
        """Ask Twilio whether a message to ``to_e164`` was created after ``sent_after``.

        Used by the reconciler for rows whose outcome is unknown. ``body`` narrows the match
        when several messages went to the same number in that time; messages whose id is in
        ``exclude`` (already linked to another outbox row) are skipped, so two identical texts
        to one number are matched to two different messages, oldest first.
        """
        return await asyncio.to_thread(self._find, to_e164, sent_after, outbox_id, body, exclude)


if TYPE_CHECKING:

    def _conforms(gateway: TwilioGateway) -> SmsGateway:
        """mypy checks the gateway against the port: a drifting signature fails ``make lint``."""
        return gateway
