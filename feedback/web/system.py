"""Operational endpoints: health (checks the database) and Prometheus metrics."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Gauge, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from feedback.reports.operations import OperationalFigures, operational_figures
from feedback.web.dependencies import AppClock

Sessionmaker = async_sessionmaker[AsyncSession]

log = logging.getLogger(__name__)

LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


@get("/health", opt={"public": True})
async def health(engine: NamedDependency[AsyncEngine]) -> Response[dict[str, str]]:
    """200 when the database answers, 503 otherwise (load balancers and `make run` poll this)."""
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "not healthy"
        log.warning("health check failed: %s", type(exc).__name__)
        return Response({"status": "unavailable", "database": "down"}, status_code=503)
    return Response({"status": "ok", "database": "ok"}, status_code=200)


def metrics_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Metrics carry no personal data but reveal activity: only scrapers on the same host."""
    client = connection.client.host if connection.client else ""
    if client in LOOPBACK:
        return
    raise PermissionDeniedException("Mätvärden kan bara hämtas lokalt.")


def business_metrics(figures: OperationalFigures, now: datetime) -> bytes:
    """The business gauges in Prometheus text format, from a registry made for this scrape
    (nothing process-global, so several apps in one process never collide)."""
    registry = CollectorRegistry(auto_describe=True)
    outbox = Gauge(
        "uppfoljning_outbox_messages", "SMS in the outbox by status", ["status"], registry=registry
    )
    for status, count in figures.outbox_by_status.items():
        outbox.labels(status=status).set(count)
    Gauge("uppfoljning_outbox_needs_review", "SMS whose sending must be checked by a person",
          registry=registry).set(figures.needs_review)  # fmt: skip
    Gauge("uppfoljning_theming_backlog", "Open answers waiting for themes", registry=registry).set(
        figures.theming_backlog
    )
    Gauge("uppfoljning_cases_open", "Open cases", registry=registry).set(figures.open_cases)
    Gauge("uppfoljning_cases_overdue", "Open cases past their due day", registry=registry).set(
        figures.overdue_cases
    )
    last = figures.worker_last_success
    Gauge("uppfoljning_worker_last_success_timestamp_seconds",
          "When the worker last finished a pass without errors (0 = never)",
          registry=registry).set(last.timestamp() if last else 0)  # fmt: skip
    Gauge("uppfoljning_worker_last_success_age_seconds",
          "Seconds since the worker's last good pass (-1 = never)",
          registry=registry).set((now - last).total_seconds() if last else -1)  # fmt: skip
    return generate_latest(registry)


class MetricsController(PrometheusController):
    path = "/metrics"
    guards = [metrics_guard]  # noqa: RUF012 - Litestar reads the class attribute
    include_in_schema = False

    @get()
    async def get(
        self, sessionmaker: NamedDependency[Sessionmaker], clock: NamedDependency[AppClock]
    ) -> Response:
        """Litestar's HTTP metrics followed by the business gauges (counted per scrape).

        "Overdue" is by the app's clock (the dev clock when time travels); the heartbeat's age is
        by the wall clock the worker writes it with.
        """
        now = datetime.now(UTC)
        async with sessionmaker() as session:
            figures = await operational_figures(session, clock.now())
        body = generate_latest(REGISTRY) + business_metrics(figures, now)
        return Response(body, status_code=200, headers={"Content-Type": CONTENT_TYPE_LATEST})
