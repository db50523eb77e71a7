"""Operational endpoints: health (checks the database) and Prometheus metrics."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController
from sqlalchemy.ext.asyncio import AsyncEngine

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


class MetricsController(PrometheusController):
    path = "/metrics"
    guards = [metrics_guard]  # noqa: RUF012 - Litestar reads the class attribute
    include_in_schema = False
