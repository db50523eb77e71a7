"""build_gateway picks the gateway from settings; fake mode runs the real client against the local fake."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedback.core.settings import Settings
from notifications.gateways.console import ConsoleGateway
from notifications.gateways.factory import (
    build_gateway,
    fake_base_url,
    local_fake,
    status_callback_url,
    stop_local_fake,
    twilio_credentials,
)
from notifications.gateways.twilio import TwilioGateway
from notifications.ports import OutboundSms
from notifications.testing.fake_twilio import DEFAULT_AUTH_TOKEN


@pytest.fixture
def fake_settings(tmp_path: Path) -> Iterator[Settings]:
    yield Settings(
        environment="test", sms_gateway="fake", public_url="http://127.0.0.1:9", model_dir=tmp_path
    )
    stop_local_fake()


def sms(to: str = "+46701234567") -> OutboundSms:
    return OutboundSms(outbox_id=uuid.uuid4(), to_e164=to, body="Hej", status_callback_url=None)


async def test_console_gateway_logs_a_masked_number(caplog: pytest.LogCaptureFixture) -> None:
    gateway = build_gateway(Settings(sms_gateway="console"))
    assert isinstance(gateway, ConsoleGateway)
    message = sms()
    with caplog.at_level(logging.INFO):
        result = await gateway.send(message)
    assert "+46701234567" not in caplog.text and "+4670*****67" in caplog.text
    found = await gateway.find_sent(to_e164=message.to_e164, sent_after=None, outbox_id=message.outbox_id)
    assert found is not None and found.provider_sid == result.provider_sid


async def test_fake_mode_uses_the_real_client_against_one_shared_local_fake(fake_settings: Settings) -> None:
    gateway = build_gateway(fake_settings)
    assert isinstance(gateway, TwilioGateway)
    fake = local_fake(fake_settings)
    assert fake is not None and local_fake(fake_settings) is fake
    assert fake_base_url(fake_settings) == fake.base_url
    assert twilio_credentials(fake_settings)[1] == DEFAULT_AUTH_TOKEN
    result = await gateway.send(sms())
    assert fake.messages[result.provider_sid].to == "+46701234567"
    assert fake.inbound_url == "http://127.0.0.1:9/webhooks/twilio/sms"


def test_external_fake_url_is_used_as_is(tmp_path: Path) -> None:
    settings = Settings(sms_gateway="fake", twilio_api_base_url="http://127.0.0.1:1234/", model_dir=tmp_path)
    assert local_fake(settings) is None
    assert fake_base_url(settings) == "http://127.0.0.1:1234"


def test_twilio_mode_never_uses_a_base_url_override(tmp_path: Path) -> None:
    settings = Settings(
        sms_gateway="twilio",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="t" * 32,
        twilio_from="+46700000001",
        twilio_api_base_url="http://127.0.0.1:1234",
        model_dir=tmp_path,
    )
    gateway = build_gateway(settings)
    assert isinstance(gateway, TwilioGateway) and gateway.config.api_base_url == ""
    assert gateway.config.timeout_s == 10.0


def test_override_wins_and_callback_url_carries_the_outbox_id() -> None:
    marker = object()
    assert build_gateway(Settings(), sms_gateway=marker) is marker
    outbox_id = uuid.uuid4()
    assert status_callback_url(Settings(public_url="https://x.se"), outbox_id) == (
        f"https://x.se/webhooks/twilio/status?o={outbox_id}"
    )
