"""The survey layer's implementation of ``notifications.ports.InboundHandler``.

notifications verifies, stores and de-duplicates inbound texts and handles STOPP itself; it
then hands us the reply (inside the webhook's transaction), delivery problems and opt-outs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from surveys.conversations import service

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from feedback.settings import Settings
    from notifications.ports import DeliveryProblem, InboundSms

# Problems after which the person cannot be reached by SMS for this conversation.
FAILURE_KINDS = frozenset({"failed", "undelivered", "unreachable", "dead", "expired"})


class SurveyInboundHandler:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def handle_inbound(self, session: AsyncSession, sms: InboundSms) -> None:
        await service.handle_reply(
            session, sms.from_index, sms.body, now=sms.received_at, settings=self.settings
        )

    async def handle_delivery_problem(self, session: AsyncSession, problem: DeliveryProblem) -> None:
        ref = problem.owner_ref or ""
        if not ref.startswith("conversation:"):
            return
        try:
            conversation_id = uuid.UUID(ref.split(":", 1)[1])
        except ValueError:
            return
        if problem.kind in FAILURE_KINDS:
            await service.delivery_failed(session, conversation_id, now=problem.at, settings=self.settings)

    async def handle_opt_out(self, session: AsyncSession, phone_index: str, at: datetime) -> None:
        await service.opted_out(session, phone_index, now=at, settings=self.settings)
