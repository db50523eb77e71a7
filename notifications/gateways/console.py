"""``ConsoleGateway``: logs instead of sending (development without any Twilio, and CI smoke runs).

The number is masked in the log line: logs are read by more people than contact data is.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from notifications.ports import OutboundSms, SendResult, SmsGateway

log = logging.getLogger(__name__)


def mask(e164: str) -> str:
    """``+4670*****12``: enough to tell messages apart in a log, not enough to call anyone."""
    return e164[:5] + "*" * max(len(e164) - 7, 0) + e164[-2:] if len(e164) >= 8 else "*" * len(e164)


class ConsoleGateway:
    """Pretends every message was accepted and writes one masked log line per message."""

    def __init__(self) -> None:
        self.sent: dict[object, tuple[OutboundSms, str]] = {}

    async def send(self, message: OutboundSms) -> SendResult:
        sid = "SM" + secrets.token_hex(16)
        self.sent[message.outbox_id] = (message, sid)
        log.info("SMS (console) to %s, %d characters: %s", mask(message.to_e164), len(message.body), sid)
        return SendResult(provider_sid=sid, provider_status="sent", segments=None)

    async def find_sent(
        self,
        *,
        to_e164: str,
        sent_after: datetime,
        outbox_id: object,
        body: str | None = None,
        exclude: Collection[str] = frozenset(),
    ) -> SendResult | None:
        """The console remembers what it "sent" in this process only."""
        found = self.sent.get(outbox_id)
        if found is None or found[0].to_e164 != to_e164 or found[1] in exclude:
            return None
        return SendResult(provider_sid=found[1], provider_status="sent")


if TYPE_CHECKING:

    def _conforms(gateway: ConsoleGateway) -> SmsGateway:
        """mypy checks the gateway against the port: a drifting signature fails ``make lint``."""
        return gateway
