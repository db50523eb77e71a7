"""Choose the SMS gateway from settings: ``twilio`` | ``fake`` | ``console``.

``fake`` is the real Twilio gateway pointed at the bundled fake Twilio server
(``notifications.testing.fake_twilio``). Unless ``FEEDBACK_TWILIO_API_BASE_URL`` names an
already running fake, the first caller in a process starts one on 127.0.0.1 and every later
caller (app lifespan, worker, dev phone page) shares it. It posts signed status callbacks and
inbound replies to ``FEEDBACK_PUBLIC_URL``, so ``make run`` shows the whole loop offline.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from feedback.core.settings import Settings
from notifications.gateways.console import ConsoleGateway
from notifications.ports import SmsGateway

if TYPE_CHECKING:
    from notifications.testing.fake_twilio import FakeTwilio

FAKE_FROM_NUMBER = "+46700000000"
INBOUND_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"

_fake_lock = threading.Lock()
_fake_server: FakeTwilio | None = None


def twilio_credentials(settings: Settings) -> tuple[str, str]:
    """(account SID, auth token) the gateway uses and webhooks are verified with."""
    if settings.sms_gateway == "fake":
        from notifications.testing.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

        return (
            settings.twilio_account_sid or DEFAULT_ACCOUNT_SID,
            settings.twilio_auth_token or DEFAULT_AUTH_TOKEN,
        )
    return settings.twilio_account_sid, settings.twilio_auth_token


def local_fake(settings: Settings) -> FakeTwilio | None:
    """The fake Twilio running in this process, started on first use (fake mode only)."""
    global _fake_server
    if settings.sms_gateway != "fake" or settings.twilio_api_base_url:
        return None
    with _fake_lock:
        if _fake_server is None:
            from notifications.testing.fake_twilio import FakeTwilio

            account_sid, auth_token = twilio_credentials(settings)
            _fake_server = FakeTwilio(
                account_sid,
                auth_token,
                port=settings.fake_twilio_port,
                inbound_url=settings.public_url + INBOUND_PATH,
                auto_callbacks=True,
                default_from=settings.twilio_from or FAKE_FROM_NUMBER,
            ).start()
        return _fake_server


def stop_local_fake() -> None:
    """Stop the in-process fake (tests; the app's shutdown)."""
    global _fake_server
    with _fake_lock:
        if _fake_server is not None:
            _fake_server.stop()
            _fake_server = None


def fake_base_url(settings: Settings) -> str | None:
    """Where the fake Twilio listens (external or in-process), or None outside fake mode."""
    if settings.sms_gateway != "fake":
        return None
    if settings.twilio_api_base_url:
        return settings.twilio_api_base_url.rstrip("/")
    fake = local_fake(settings)
    return fake.base_url if fake else None


def build_gateway(settings: Settings, sms_gateway: SmsGateway | None = None) -> SmsGateway:
    """The ``SmsGateway`` for these settings; a given ``sms_gateway`` wins (tests)."""
    if sms_gateway is not None:
        return sms_gateway
    if settings.sms_gateway == "console":
        return ConsoleGateway()
    # Imported here: twilio and requests cost ~0.5 s at every process start that never sends.
    from notifications.gateways.twilio import TwilioConfig, TwilioGateway

    account_sid, auth_token = twilio_credentials(settings)
    if settings.sms_gateway == "fake":
        config = TwilioConfig(
            account_sid=account_sid,
            auth_token=auth_token,
            from_number=settings.twilio_from or FAKE_FROM_NUMBER,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            api_base_url=fake_base_url(settings) or "",
            timeout_s=settings.twilio_timeout_s,
        )
        return TwilioGateway(config)
    if settings.sms_gateway == "twilio":
        return TwilioGateway(
            TwilioConfig(
                account_sid=account_sid,
                auth_token=auth_token,
                from_number=settings.twilio_from,
                messaging_service_sid=settings.twilio_messaging_service_sid,
                timeout_s=settings.twilio_timeout_s,
            )
        )
    raise ValueError(f"unknown sms_gateway {settings.sms_gateway!r}")


def status_callback_url(settings: Settings, outbox_id: object) -> str:
    """The StatusCallback URL carrying our outbox id (``?o=``), on the public URL Twilio calls."""
    return f"{settings.public_url}{STATUS_PATH}?o={outbox_id}"
