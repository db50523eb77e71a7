"""The messaging layer's contribution to ``feedback worker``: send due SMS, reconcile unknowns.

Why plain ``PeriodicTask`` records and not ``feedback.worker.Job``: notifications must not
import the application layer (import contract), so the worker wraps these in its own ``Job``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.core.clock import Clock, SystemClock
from notifications.dispatcher import DispatchConfig, Dispatcher, DispatchStats
from notifications.gateways.factory import build_gateway
from notifications.phone import PhoneVault
from notifications.ports import InboundHandler, NullInboundHandler, SmsGateway

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    run: Callable[[], Awaitable[Any]]
    interval_s: float


def default_gateway(settings: Any) -> SmsGateway:
    """The gateway chosen by ``settings.sms_gateway`` (``notifications.gateways``)."""
    return build_gateway(settings)


def build_dispatcher(
    settings: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: SmsGateway,
    handler: InboundHandler | None = None,
    *,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    **config: Any,
) -> Dispatcher:
    return Dispatcher(
        sessionmaker=sessionmaker,
        gateway=gateway,
        handler=handler or NullInboundHandler(),
        vault=PhoneVault.from_settings(settings),
        config=DispatchConfig.from_settings(settings, **config),
        clock=clock or SystemClock(),
        stop=stop,
    )


def sms_jobs(
    settings: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    sms_gateway: SmsGateway | None = None,
    inbound_handler: InboundHandler | None = None,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    dispatch_budget_s: float = 5.0,
) -> list[PeriodicTask]:
    """``sms-dispatch`` every second (batches for up to ``dispatch_budget_s``), reconcile every minute."""
    gateway = sms_gateway or default_gateway(settings)
    dispatcher = build_dispatcher(settings, sessionmaker, gateway, inbound_handler, clock=clock, stop=stop)

    async def dispatch() -> DispatchStats:
        total = await dispatcher.run_until_idle(deadline=time.monotonic() + dispatch_budget_s)
        if total.claimed:
            log.info("sms dispatch: %s", total)
        return total

    return [
        PeriodicTask("sms-dispatch", dispatch, 1.0),
        PeriodicTask("sms-reconcile", dispatcher.reconcile, 60.0),
    ]
