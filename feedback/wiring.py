"""Composition of the messaging layer: which gateway sends, who handles replies, which routes exist.

One place to change when a capability plugs in: replies, delivery problems and opt-outs go
to the survey layer's ``SurveyInboundHandler`` (conversations), in the webhook and the worker.
"""

from __future__ import annotations

from typing import Any

from feedback.core.settings import Settings
from notifications.gateways.factory import build_gateway, local_fake, stop_local_fake
from notifications.ports import InboundHandler, SmsGateway


def inbound_handler(settings: Settings, **overrides: Any) -> InboundHandler:
    """The registered owner of conversations: the survey layer (tests may override)."""
    if overrides.get("inbound_handler") is not None:
        return overrides["inbound_handler"]  # type: ignore[no-any-return]
    from surveys.conversations.service import SurveyInboundHandler

    return SurveyInboundHandler(settings)


def sms_gateway(settings: Settings, **overrides: Any) -> SmsGateway:
    """The gateway the dispatcher sends through (tests pass ``sms_gateway=`` to override)."""
    return build_gateway(settings, **overrides)  # type: ignore[no-any-return]


def start_messaging(settings: Settings) -> None:
    """App/worker start-up: in fake mode, make sure the local fake Twilio is running."""
    local_fake(settings)


def stop_messaging(settings: Settings) -> None:
    stop_local_fake()
