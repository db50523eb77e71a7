"""Twilio webhooks: inbound SMS and delivery status callbacks.

No session, no CSRF: the ``X-Twilio-Signature`` is the authentication (see
``notifications.signature``). Each request is verified, stored once, committed, and answered
fast — well under Twilio's 15 s webhook timeout — and never calls the Twilio API; replies go
through the outbox.

Inbound (``POST /webhooks/twilio/sms``):
  verify → insert ``sms_inbound`` keyed by MessageSid (duplicate → 200, nothing stored twice,
  also for concurrent duplicates: the unique constraint decides) → keyword handling
  (STOPP/STOP/AVSLUTA/SLUTA or Twilio's ``OptOutType=STOP`` → opt-out ledger + one confirmation;
  START → opt back in; HJÄLP/HELP → help text) → otherwise the registered ``InboundHandler``
  in the same transaction → commit → ``200 <Response/>``.

Status (``POST /webhooks/twilio/status?o=<outbox id>``):
  verify → insert ``sms_status_event`` keyed by (MessageSid, status) (duplicate → 204) →
  apply to the outbox row monotonically (``notifications.delivery_status``) → 21610 → opt-out;
  30003/30005/30006 → ``DeliveryProblem("unreachable")``; undelivered/failed →
  ``DeliveryProblem`` → commit → 204.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Protocol, runtime_checkable

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_204_NO_CONTENT,
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.core.clock import Clock
from feedback.core.settings import Settings
from notifications import inbound as inbound_service
from notifications import status_callbacks
from notifications.gateways.factory import INBOUND_PATH, STATUS_PATH, twilio_credentials
from notifications.ports import InboundHandler
from notifications.signature import (
    FORM_CONTENT_TYPE,
    FormPairs,
    MalformedForm,
    is_valid_signature,
    parse_form,
)
from notifications.signature import public_url as build_public_url

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
_SID = re.compile(r"^(SM|MM|SMS?)[0-9a-fA-F]{32}$")


class WebhookRejected(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def _plain(status_code: int, message: str) -> Response[str]:
    return Response(content=message, status_code=status_code, media_type="text/plain; charset=utf-8")


def _twiml() -> Response[str]:
    return Response(content=EMPTY_TWIML, status_code=HTTP_200_OK, media_type="text/xml")


async def verified_form(request: Request[Any, Any, Any], settings: Settings) -> FormPairs:
    """Read, size-check, parse and verify a Twilio webhook body (raises ``WebhookRejected``)."""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        raise WebhookRejected(HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Endast formulärdata tas emot.")
    limit = settings.webhook_max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise WebhookRejected(HTTP_413_REQUEST_ENTITY_TOO_LARGE, "För stort meddelande.")
    body = await request.body()
    if len(body) > limit:
        raise WebhookRejected(HTTP_413_REQUEST_ENTITY_TOO_LARGE, "För stort meddelande.")
    try:
        form = parse_form(body)
    except MalformedForm as exc:
        raise WebhookRejected(HTTP_400_BAD_REQUEST, "Felaktigt formulär.") from exc
    url = build_public_url(settings.public_url, request.scope["path"], request.scope.get("query_string", b""))
    _, auth_token = twilio_credentials(settings)
    if not is_valid_signature(
        auth_token,
        url,
        form,
        request.headers.get("x-twilio-signature"),
        request.headers.get("x-twilio-webhooks-signature-settings"),
    ):
        log.warning(
            "rejected Twilio webhook with a missing or invalid signature on %s", request.scope["path"]
        )
        raise WebhookRejected(HTTP_403_FORBIDDEN, "Ogiltig signatur.")
    return form


@runtime_checkable
class WebhookClock(Clock, Protocol):
    """``Clock`` as a handler parameter: Litestar checks injected values with ``isinstance``."""


@runtime_checkable
class WebhookInboundHandler(InboundHandler, Protocol):
    """``InboundHandler`` as a handler parameter (runtime-checkable, like ``WebhookClock``)."""


Sessionmaker = async_sessionmaker[AsyncSession]


class TwilioWebhookController(Controller):
    """Signature-authenticated machine endpoints (``opt public``: no session, guard test accepts)."""

    path = "/webhooks/twilio"
    opt = {"public": True}  # noqa: RUF012 - Litestar's declarative attribute
    include_in_schema = False

    @post(INBOUND_PATH.removeprefix("/webhooks/twilio"), opt={"public": True}, name="twilio-inbound")
    async def inbound(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        clock: NamedDependency[WebhookClock],
        inbound_handler: NamedDependency[WebhookInboundHandler],
        sessionmaker: NamedDependency[Sessionmaker],
    ) -> Response[str]:
        try:
            form = await verified_form(request, settings)
            fields = inbound_service.InboundFields.from_form(form)
        except WebhookRejected as rejected:
            return _plain(rejected.status_code, rejected.message)
        except ValueError as exc:
            return _plain(HTTP_400_BAD_REQUEST, f"Felaktigt meddelande: {exc}")
        async with sessionmaker() as session:
            await inbound_service.receive(session, settings, inbound_handler, fields, now=clock.now())
            await session.commit()
        return _twiml()

    @post(STATUS_PATH.removeprefix("/webhooks/twilio"), opt={"public": True}, name="twilio-status")
    async def status(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        clock: NamedDependency[WebhookClock],
        inbound_handler: NamedDependency[WebhookInboundHandler],
        sessionmaker: NamedDependency[Sessionmaker],
    ) -> Response[str]:
        try:
            form = await verified_form(request, settings)
            fields = status_callbacks.StatusFields.from_form(form, request.query_params.get("o"))
        except WebhookRejected as rejected:
            return _plain(rejected.status_code, rejected.message)
        except ValueError as exc:
            return _plain(HTTP_400_BAD_REQUEST, f"Felaktig statusrapport: {exc}")
        async with sessionmaker() as session:
            await status_callbacks.apply(session, settings, inbound_handler, fields, now=clock.now())
            await session.commit()
        return Response(content="", status_code=HTTP_204_NO_CONTENT)


@post("/bench/bare", opt={"public": True}, include_in_schema=False, name="bench-bare")
async def bare_benchmark_endpoint(request: Request[Any, Any, Any]) -> Response[str]:
    """Benchmark baseline only (``FEEDBACK_BENCH_BARE_ENDPOINT=1``): read the form, answer TwiML."""
    await request.body()
    return _twiml()


def parse_outbox_id(raw: str | None) -> uuid.UUID | None:
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise ValueError("o är inte ett giltigt id") from exc


def valid_sid(value: str | None) -> bool:
    return bool(value) and bool(_SID.match(value or ""))
