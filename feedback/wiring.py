"""Composition of the messaging layer: which gateway sends, who handles replies, which routes exist.

One place to change when a capability plugs in: replies, delivery problems and opt-outs go
to the survey layer's ``SurveyInboundHandler`` (conversations), in the webhook and the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from feedback.core.settings import Settings
from notifications.gateways.factory import build_gateway, local_fake, stop_local_fake
from notifications.ports import InboundHandler, SmsGateway

if TYPE_CHECKING:
    from feedback.core.clock import Clock
    from surveys.plans.scheduler import FollowUpStarter


@dataclass(frozen=True, kw_only=True)
class Collaborators:
    """Collaborators that replace the default wiring: tests, and the dev worker sharing the web clock.

    Why a typed record and not ``**overrides``: a misspelt keyword used to vanish silently into
    the bag and the test then ran against the real collaborator. ``None`` means "the default".
    Defined here, below both ``feedback.web`` and ``feedback.worker``, so both take the same one.
    """

    clock: Clock | None = None
    sms_gateway: SmsGateway | None = None
    inbound_handler: InboundHandler | None = None
    follow_up_starter: FollowUpStarter | None = None
    redact: Callable[[str], str] | None = None  # panel reflections (tests use a tiny fake)


NO_COLLABORATORS = Collaborators()


def inbound_handler(settings: Settings, collaborators: Collaborators = NO_COLLABORATORS) -> InboundHandler:
    """The registered owner of conversations: the survey layer (tests may replace it).

    A quote withdrawn by SMS ("ta bort mitt citat") is marked in review findings in the same
    transaction: the survey layer cannot import reports, so the hook is passed in here.
    """
    if collaborators.inbound_handler is not None:
        return collaborators.inbound_handler
    from feedback.reports.reviews import mark_withdrawn_quotes
    from surveys.conversations.service import SurveyInboundHandler

    return SurveyInboundHandler(settings, on_quotes_withdrawn=mark_withdrawn_quotes)


def sms_gateway(settings: Settings, collaborators: Collaborators = NO_COLLABORATORS) -> SmsGateway:
    """The gateway the dispatcher sends through (tests pass ``Collaborators(sms_gateway=…)``)."""
    return build_gateway(settings, collaborators.sms_gateway)


def start_messaging(settings: Settings) -> None:
    """App/worker start-up: in fake mode, make sure the local fake Twilio is running."""
    local_fake(settings)


def stop_messaging(settings: Settings) -> None:
    stop_local_fake()
