"""TwilioGateway with the real twilio client against the local fake: one POST, right error class."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from notifications.errors import (
    OptedOutSendError,
    PermanentSendError,
    RetryableSendError,
    SendError,
    UnknownOutcomeError,
)
from notifications.gateways.twilio import TwilioConfig, TwilioGateway
from notifications.ports import OutboundSms
from notifications.testing.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio, Fault

TO = "+46701234567"
FROM = "+46700000000"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def gateway_for(base_url: str, *, timeout: float = 2.0, service: str = "", token: str = DEFAULT_AUTH_TOKEN):
    config = TwilioConfig(
        account_sid=DEFAULT_ACCOUNT_SID,
        auth_token=token,
        from_number="" if service else FROM,
        messaging_service_sid=service,
        api_base_url=base_url,
        timeout_s=timeout,
    )
    return TwilioGateway(config)


def sms(to: str = TO, body: str = "Hej! Hur går det? Svara 1-5.") -> OutboundSms:
    outbox_id = uuid.uuid4()
    return OutboundSms(
        outbox_id=outbox_id,
        to_e164=to,
        body=body,
        status_callback_url=f"https://app.example.se/webhooks/twilio/status?o={outbox_id}",
        validity_period_s=14400,
    )


async def test_send_posts_once_with_callback_validity_and_sender(fake: FakeTwilio) -> None:
    message = sms()
    result = await gateway_for(fake.base_url).send(message)
    assert result.provider_sid.startswith("SM") and result.provider_status == "queued"
    assert result.segments == 1
    [request] = fake.create_requests()
    assert request.value("To") == TO and request.value("From") == FROM
    assert request.value("MessagingServiceSid") is None
    assert request.value("StatusCallback") == message.status_callback_url
    assert request.value("ValidityPeriod") == "14400"
    assert fake.messages[result.provider_sid].body == message.body


async def test_messaging_service_replaces_from(fake: FakeTwilio) -> None:
    service = "MG" + "2" * 32
    await gateway_for(fake.base_url, service=service).send(sms())
    [request] = fake.create_requests()
    assert request.value("MessagingServiceSid") == service and request.value("From") is None


@pytest.mark.parametrize(
    ("fault", "error_class", "code"),
    [
        (Fault.error(21211), PermanentSendError, 21211),
        (Fault.error(21614), PermanentSendError, 21614),
        (Fault.error(21408), PermanentSendError, 21408),
        (Fault.error(21610), OptedOutSendError, 21610),
        (Fault.error(20429), RetryableSendError, 20429),
        (Fault.error(429), RetryableSendError, 429),
        (Fault.error(20503), RetryableSendError, 20503),
        (Fault.error(20003), RetryableSendError, 20003),  # credentials: config fault, not the message
        (Fault.error(500), UnknownOutcomeError, 500),  # a 500 may come after the create
        (Fault.error_after_create(), UnknownOutcomeError, 20500),
        (Fault.non_json(502), UnknownOutcomeError, 502),
    ],
)
async def test_twilio_errors_are_classified_with_exactly_one_post(
    fake: FakeTwilio, fault: Fault, error_class: type[SendError], code: int
) -> None:
    fake.fail_next(fault)
    with pytest.raises(error_class) as info:
        await gateway_for(fake.base_url).send(sms())
    assert type(info.value) is error_class
    assert info.value.code == code
    assert len(fake.create_requests()) == 1


async def test_opted_out_is_a_permanent_error(fake: FakeTwilio) -> None:
    fake.fail_to(TO, Fault.error(21610))
    with pytest.raises(PermanentSendError):
        await gateway_for(fake.base_url).send(sms())


async def test_retryable_errors_carry_a_delay(fake: FakeTwilio) -> None:
    fake.fail_next(Fault.error(20429))
    with pytest.raises(RetryableSendError) as info:
        await gateway_for(fake.base_url).send(sms())
    assert info.value.retry_after_s and info.value.retry_after_s > 0


async def test_read_timeout_after_post_is_unknown_and_not_retried(fake: FakeTwilio) -> None:
    fake.fail_next(Fault.delay(2.0))
    with pytest.raises(UnknownOutcomeError):
        await gateway_for(fake.base_url, timeout=0.3).send(sms())
    assert len(fake.create_requests()) == 1
    assert len(fake.sent_to(TO)) == 1  # Twilio did create it: a resend would double-text


async def test_dropped_connection_after_post_is_unknown(fake: FakeTwilio) -> None:
    fake.fail_next(Fault.drop_after_create())
    with pytest.raises(UnknownOutcomeError):
        await gateway_for(fake.base_url).send(sms())
    assert len(fake.create_requests()) == 1 and len(fake.sent_to(TO)) == 1


async def test_connection_refused_is_retryable_nothing_sent() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetryableSendError):
        await gateway_for(f"http://127.0.0.1:{port}").send(sms())


async def test_connect_timeout_is_retryable() -> None:
    # A listening socket with a full backlog never completes the handshake → connect timeout.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):
                filler = socket.socket()
                filler.setblocking(False)
                try:
                    filler.connect(("127.0.0.1", port))
                except BlockingIOError:
                    pass
                fillers.append(filler)
            with pytest.raises(RetryableSendError, match="ConnectTimeout"):
                await gateway_for(f"http://127.0.0.1:{port}", timeout=0.3).send(sms())
        finally:
            for filler in fillers:
                filler.close()


async def test_find_sent_finds_the_message_of_an_unknown_outcome(fake: FakeTwilio) -> None:
    gateway = gateway_for(fake.base_url)
    started = datetime.now(UTC)
    await gateway.send(sms(body="Annat meddelande"))
    fake.fail_next(Fault.drop_after_create())
    lost = sms()
    with pytest.raises(UnknownOutcomeError):
        await gateway.send(lost)
    found = await gateway.find_sent(to_e164=TO, sent_after=started, outbox_id=lost.outbox_id, body=lost.body)
    assert found is not None
    assert fake.messages[found.provider_sid].body == lost.body
    assert (
        await gateway.find_sent(
            to_e164="+46709999999", sent_after=started, outbox_id=lost.outbox_id, body=lost.body
        )
        is None
    )
    later = datetime.now(UTC) + timedelta(hours=1)
    assert await gateway.find_sent(to_e164=TO, sent_after=later, outbox_id=lost.outbox_id) is None


async def test_find_sent_when_twilio_is_down_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetryableSendError):
        await gateway_for(f"http://127.0.0.1:{port}").find_sent(
            to_e164=TO, sent_after=datetime.now(UTC), outbox_id=uuid.uuid4()
        )


async def test_status_callback_reaches_the_callback_url_signed(fake: FakeTwilio) -> None:
    # find_sent relies on it; here only that the outbox id travels in the callback URL.
    message = sms()
    result = await gateway_for(fake.base_url).send(message)
    assert fake.messages[result.provider_sid].status_callback.endswith(f"?o={message.outbox_id}")


def test_gateway_requires_a_sender() -> None:
    with pytest.raises(ValueError):
        TwilioGateway(TwilioConfig(account_sid="AC", auth_token="x"))
