"""Composition root: builds the Litestar app from explicit settings (no import-time side effects)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig
from litestar.security.session_auth import SessionAuth
from litestar.stores.memory import MemoryStore
from litestar.template.config import TemplateConfig
from sqlalchemy.ext.asyncio import AsyncEngine

from feedback.auth import passwords
from feedback.auth.sso.oidc import OidcClient
from feedback.core.clock import Clock, OffsetClock, SystemClock
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.devtools import clock as devclock
from feedback.web.accessibility import AccessibilityReportsController, StatementController
from feedback.web.admin import AdminController
from feedback.web.admin_audit import AuditLogController
from feedback.web.admin_users import AdminSsoController, AdminUserController
from feedback.web.api_auth import ApiKeyOrSessionAuthMiddleware, bearer_components, rate_limit_config
from feedback.web.api_closures import ClosuresApiController
from feedback.web.api_docs import SWAGGER_ASSETS, PublicJsonPlugin, VendoredSwaggerPlugin
from feedback.web.api_tokens import ApiTokensController
from feedback.web.auth import AuthController, InvitationController
from feedback.web.banner import load_akut_banner
from feedback.web.caseworker.cases import CasesController
from feedback.web.caseworker.closures import ClosuresController
from feedback.web.caseworker.inbox import InboxController
from feedback.web.caseworker.phone import PhoneQueueController
from feedback.web.db_session import DatabaseSessionPlugin
from feedback.web.dependencies import app_dependencies
from feedback.web.erasure import ErasureController
from feedback.web.errors import handle_exception
from feedback.web.panel import ROUTES as PANEL_ROUTES
from feedback.web.register_extract import RegisterExtractController
from feedback.web.reports import ROUTES as REPORT_ROUTES
from feedback.web.reports_api import ROUTES as REPORT_API_ROUTES
from feedback.web.reviews import ROUTES as REVIEW_ROUTES
from feedback.web.security_headers import security_headers
from feedback.web.session_backend import RotatingSessionConfig
from feedback.web.session_store import DatabaseStore
from feedback.web.session_user import retrieve_user
from feedback.web.sso import SsoController
from feedback.web.static_files import static_router
from feedback.web.system import MetricsController, health
from feedback.web.texts import TextCatalogueController
from feedback.web.themes import ROUTES as THEME_ROUTES
from feedback.web.unit_settings import UnitSettingsController
from feedback.wiring import NO_COLLABORATORS, Collaborators, inbound_handler, start_messaging, stop_messaging
from notifications.webhooks import TwilioWebhookController, bare_benchmark_endpoint

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

log = logging.getLogger(__name__)

# No web request keeps a transaction open anywhere near this long; PostgreSQL ends one that does.
IDLE_IN_TRANSACTION_TIMEOUT_S = 60


def _template_config() -> TemplateConfig[JinjaTemplateEngine]:
    from feedback.web.templating import configure_environment

    return TemplateConfig(
        directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=configure_environment
    )


def web_engine(settings: Settings) -> AsyncEngine:
    """The web app's engine: a bounded pool that answers 503 instead of queueing without end.

    Every request holds at most one connection at a time (``feedback.web.db_session``), so the
    pool bounds concurrent database work; a request that cannot get a connection within
    ``database_pool_timeout_s`` gets the Swedish "busy" page. On PostgreSQL the server also ends
    any connection left idle inside a transaction, so a bug can never pin one until restart.
    """
    return create_engine(
        settings.database_url,
        busy_timeout_ms=settings.database_busy_timeout_ms,
        pool_size=settings.database_pool_size,
        pool_timeout_s=settings.database_pool_timeout_s,
        idle_in_transaction_timeout_s=IDLE_IN_TRANSACTION_TIMEOUT_S,
    )


def messaging_routes(settings: Settings) -> list[Any]:
    """Webhooks always; the dev phone page only with dev tools and the fake gateway."""
    routes: list[Any] = [TwilioWebhookController]
    if dev_phone_enabled(settings):
        from feedback.web.dev_phone import DevPhoneController  # httpx: only where the page exists

        routes.append(DevPhoneController)
    if settings.bench_bare_endpoint:
        routes.append(bare_benchmark_endpoint)
    return routes


def dev_phone_enabled(settings: Settings) -> bool:
    return settings.dev_tools and settings.is_dev and settings.sms_gateway == "fake"


def create_app(settings: Settings | None = None, collaborators: Collaborators = NO_COLLABORATORS) -> Litestar:
    """Build the web app; ``collaborators`` lets tests replace the clock, the reply handler …"""
    settings = settings or Settings()
    # Dev tools: an OffsetClock the admin can move ("Testklocka"), shared with the in-process worker.
    clock: Clock = collaborators.clock or (OffsetClock() if devclock.enabled(settings) else SystemClock())
    handler = inbound_handler(settings, collaborators)
    engine = web_engine(settings)
    sessionmaker = session_factory(engine)

    session_config = RotatingSessionConfig(
        key="uppf_session",
        max_age=settings.session_max_age_s,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
        store="sessions",
        renew_on_access=True,
        # Machine endpoints never carry a browser session (and /health must work with the DB down).
        exclude=["^/health", "^/metrics", "^/static/", "^/webhooks/", "^/schema"],
    )
    session_auth = SessionAuth[Any, Any](
        retrieve_user_handler=retrieve_user,
        # Also accepts a bearer API key on /api/... (and checks CSRF there itself).
        authentication_middleware_class=ApiKeyOrSessionAuthMiddleware,
        session_backend_config=session_config,
        # Public machine endpoints; /metrics has its own loopback guard, webhooks verify signatures.
        exclude=["^/static/", "^/schema", "^/metrics", "^/health"],
        exclude_opt_key="public",
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        stop = asyncio.Event()
        worker_task: asyncio.Task[None] | None = None
        # The login's dummy hash (unknown addresses), made off the event loop while start-up goes on.
        warm_up = asyncio.create_task(asyncio.to_thread(passwords.prepare), name="password-warm-up")
        if devclock.enabled(settings) and isinstance(clock, OffsetClock):
            await devclock.sync(clock, sessionmaker)  # a restart keeps the travelled time
        start_messaging(settings)
        if settings.start_worker_in_app:
            from feedback.worker import run_worker

            worker_task = asyncio.create_task(
                run_worker(settings, stop, replace(collaborators, clock=clock)), name="dev-worker"
            )
        try:
            yield
        finally:
            stop.set()
            if worker_task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(worker_task, timeout=15)
            stop_messaging(settings)
            await warm_up
            await engine.dispose()

    route_handlers: list[Any] = [
        health,
        MetricsController,
        AuthController,
        InvitationController,
        AdminController,
        AdminUserController,
        AdminSsoController,
        SsoController,
        ErasureController,
        TextCatalogueController,
        AuditLogController,
        ApiTokensController,
        RegisterExtractController,
        UnitSettingsController,
        StatementController,
        AccessibilityReportsController,
        *PANEL_ROUTES,
        *THEME_ROUTES,
        *REPORT_ROUTES,
        *REPORT_API_ROUTES,
        *REVIEW_ROUTES,
        PhoneQueueController,
        CasesController,
        InboxController,
        ClosuresController,
        ClosuresApiController,
        static_router("/static", STATIC_DIR, name="static"),
        static_router("/static/swagger-ui", SWAGGER_ASSETS, name="swagger-assets"),
        *messaging_routes(settings),
    ]
    if devclock.enabled(settings):
        from feedback.web.devtools import DevClockController

        route_handlers.append(DevClockController)

    app = Litestar(
        route_handlers=route_handlers,
        plugins=[DatabaseSessionPlugin(sessionmaker)],
        dependencies=app_dependencies(
            settings=settings,
            clock=clock,
            engine=engine,
            sessionmaker=sessionmaker,
            inbound_handler=handler,
            collaborators=collaborators,
        ),
        middleware=[
            PrometheusConfig(app_name="uppfoljning", prefix="uppfoljning", group_path=True).middleware,
            rate_limit_config(settings).middleware,
        ],
        on_app_init=[session_auth.on_app_init],
        stores={"sessions": DatabaseStore(sessionmaker), "api_rate_limit": MemoryStore()},
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="uppf_csrf",
            cookie_secure=settings.cookie_secure,
            cookie_httponly=True,
            header_name="x-csrftoken",
            exclude=[
                "/webhooks/",
                "/bench/",
                "/api/",
            ],  # signature-authenticated; /bench/ only with the benchmark flag; /api/ checks CSRF
            # for session callers in feedback.web.api_auth (a bearer key needs none)
        ),
        template_config=_template_config(),
        openapi_config=OpenAPIConfig(
            title="Uppföljning API",
            version="1",
            path="/schema",
            render_plugins=[VendoredSwaggerPlugin(), PublicJsonPlugin()],
            components=bearer_components(),
        ),
        exception_handlers={Exception: handle_exception},
        before_request=load_akut_banner,
        before_send=[security_headers(settings)],
        request_max_body_size=settings.max_request_body_bytes,
        lifespan=[lifespan],
        debug=False,
        # Logging is configured once, by the process entry point (feedback.core.logs): Litestar's
        # default config would replace the root handlers and with them the scrubbing filter.
        logging_config=None,
    )
    # Handlers get these as dependencies; the state copies are for code outside a handler (the
    # session-auth user loader, templates) and for tests that move the app's clock.
    app.state.settings = settings
    app.state.sessionmaker = sessionmaker
    app.state.clock = clock
    app.state.oidc = (
        OidcClient(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            scopes=settings.oidc_scopes,
        )
        if settings.oidc_enabled
        else None
    )
    app.state.session_cookie = session_config.key  # the API key middleware leaves it alone
    return app
