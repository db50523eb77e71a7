"""The fake Twilio speaks the wire format the real ``twilio`` client expects, faults included."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from notifications.gateways.twilio_http import LocalTwilioHttpClient
from notifications.testing.fake_twilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    FakeTwilio,
    Fault,
    Outcome,
    count_segments,
    sign,
)

TO = "+46701234567"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def client_for(fake: FakeTwilio, *, token: str = DEFAULT_AUTH_TOKEN, timeout: float = 5.0) -> Client:
    http = LocalTwilioHttpClient(fake.base_url, timeout=timeout)
    return Client(DEFAULT_ACCOUNT_SID, token, http_client=http)


class _Receiver:
    """A tiny HTTP endpoint standing in for the app: records signed form posts."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, list[tuple[str, str]], dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True)
                receiver.posts.append((self.path, pairs, dict(self.headers)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, n: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.posts) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.posts) >= n, self.posts


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    yield r
    r.close()


def test_create_returns_twilio_shaped_message(fake: FakeTwilio) -> None:
    message = client_for(fake).messages.create(
        to=TO,
        from_="+46700000000",
        body="Hej! En kort fråga från kommunen.",
        status_callback="http://app.local/webhooks/twilio/status?o=42",
        validity_period=14400,
    )
    assert message.sid.startswith("SM") and len(message.sid) == 34
    int(message.sid[2:], 16)
    assert message.status == "queued"
    assert message.num_segments == "1"
    assert message.to == TO
    [request] = fake.create_requests()
    assert request.authorized
    assert request.value("StatusCallback") == "http://app.local/webhooks/twilio/status?o=42"
    assert request.value("ValidityPeriod") == "14400"
    assert fake.sent_to(TO)[0].body.startswith("Hej!")


def test_messaging_service_starts_accepted(fake: FakeTwilio) -> None:
    message = client_for(fake).messages.create(to=TO, messaging_service_sid="MG" + "1" * 32, body="x")
    assert message.status == "accepted"


def test_wrong_auth_token_gets_401_with_code_20003(fake: FakeTwilio) -> None:
    with pytest.raises(TwilioRestException) as info:
        client_for(fake, token="wrong").messages.create(to=TO, from_="+46700000000", body="x")
    assert info.value.status == 401 and info.value.code == 20003
    assert fake.messages == {}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": "0701234567", "from_": "+46700000000", "body": "x"}, 21211),
        ({"to": TO, "body": "x"}, 21603),
        ({"to": TO, "from_": "+46700000000", "body": ""}, 21602),
    ],
)
def test_validation_errors(fake: FakeTwilio, kwargs: dict[str, str], code: int) -> None:
    with pytest.raises(TwilioRestException) as info:
        client_for(fake).messages.create(**kwargs)
    assert info.value.status == 400 and info.value.code == code
    assert fake.messages == {}


@pytest.mark.parametrize(
    ("code", "status"), [(21211, 400), (21614, 400), (21610, 400), (20429, 429), (500, 500)]
)
def test_scripted_error_codes_reach_the_client(fake: FakeTwilio, code: int, status: int) -> None:
    fake.fail_to(TO, Fault.error(code), count=1)
    with pytest.raises(TwilioRestException) as info:
        client_for(fake).messages.create(to=TO, from_="+46700000000", body="x")
    assert (info.value.status, info.value.code) == (status, code)
    assert fake.messages == {}
    # the fault was used up: the next request succeeds, and each attempt was exactly one POST
    client_for(fake).messages.create(to=TO, from_="+46700000000", body="x")
    assert len(fake.create_requests()) == 2


def test_sticky_fault_per_destination_leaves_others_alone(fake: FakeTwilio) -> None:
    fake.fail_to(TO, Fault.error(21610))
    client = client_for(fake)
    for _ in range(2):
        with pytest.raises(TwilioRestException):
            client.messages.create(to=TO, from_="+46700000000", body="x")
    assert client.messages.create(to="+46709999999", from_="+46700000000", body="x").sid


def test_delay_past_client_timeout_is_a_read_timeout_and_the_message_exists(fake: FakeTwilio) -> None:
    fake.fail_next(Fault.delay(1.0))
    with pytest.raises(requests.exceptions.ReadTimeout):
        client_for(fake, timeout=0.3).messages.create(to=TO, from_="+46700000000", body="x")
    assert len(fake.create_requests()) == 1
    assert len(fake.sent_to(TO)) == 1


def test_drop_after_create_is_a_connection_error_and_the_message_exists(fake: FakeTwilio) -> None:
    fake.fail_next(Fault.drop_after_create())
    with pytest.raises(requests.exceptions.ConnectionError):
        client_for(fake).messages.create(to=TO, from_="+46700000000", body="x")
    assert len(fake.create_requests()) == 1
    assert len(fake.sent_to(TO)) == 1


def test_500_after_create_is_not_retried(fake: FakeTwilio) -> None:
    fake.fail_next(Fault.error_after_create())
    with pytest.raises(TwilioRestException) as info:
        client_for(fake).messages.create(to=TO, from_="+46700000000", body="x")
    assert info.value.status == 500
    assert len(fake.create_requests()) == 1 and len(fake.sent_to(TO)) == 1


def test_non_json_error_body_falls_back_to_http_status(fake: FakeTwilio) -> None:
    fake.fail_next(Fault.non_json(502))
    with pytest.raises(TwilioRestException) as info:
        client_for(fake).messages.create(to=TO, from_="+46700000000", body="x")
    assert info.value.status == 502 and info.value.code == 502


def test_list_filters_by_to_and_date_and_pages(fake: FakeTwilio) -> None:
    client = client_for(fake)
    for i in range(5):
        client.messages.create(to=TO, from_="+46700000000", body=f"m{i}")
    client.messages.create(to="+46709999999", from_="+46700000000", body="other")
    since = datetime.now(UTC) - timedelta(minutes=1)
    listed = client.messages.list(to=TO, date_sent_after=since, page_size=2)
    assert sorted(m.body for m in listed) == [f"m{i}" for i in range(5)]
    assert client.messages.list(to=TO, date_sent_after=datetime.now(UTC) + timedelta(hours=1)) == []
    gets = [r for r in fake.requests if r.method == "GET"]
    assert len(gets) == 4  # five messages, two per page (3 pages) + the empty list
    assert [g.query.get("Page", ["0"])[0] for g in gets[:3]] == ["0", "1", "2"]
    assert gets[0].query["DateSent>"][0].endswith("Z")


def test_fetch_by_sid(fake: FakeTwilio) -> None:
    client = client_for(fake)
    sid = client.messages.create(to=TO, from_="+46700000000", body="x").sid
    assert client.messages(sid).fetch().body == "x"
    with pytest.raises(TwilioRestException) as info:
        client.messages("SM" + "f" * 32).fetch()
    assert info.value.status == 404


def test_status_callbacks_are_signed_and_follow_the_outcome(fake: FakeTwilio, receiver: _Receiver) -> None:
    fake.auto_callbacks = True
    fake.set_outcome(TO, Outcome(("sent", "undelivered"), error_code=30003))
    url = receiver.url + "/webhooks/twilio/status?o=abc"
    message = client_for(fake).messages.create(to=TO, from_="+46700000000", body="x", status_callback=url)
    receiver.wait_for(2)
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    statuses = []
    for path, pairs, headers in receiver.posts:
        assert path == "/webhooks/twilio/status?o=abc"
        params = dict(pairs)
        assert validator.validate(url, params, headers["X-Twilio-Signature"])
        assert not validator.validate(url.replace("abc", "abd"), params, headers["X-Twilio-Signature"])
        assert params["MessageSid"] == message.sid
        statuses.append((params["MessageStatus"], params.get("ErrorCode")))
    assert statuses == [("sent", None), ("undelivered", "30003")]
    assert client_for(fake).messages(message.sid).fetch().status == "undelivered"


def test_inbound_is_signed_against_the_public_url(receiver: _Receiver) -> None:
    # The app's public URL differs from where it listens (proxy): sign one, send to the other.
    public = "https://uppfoljning.example.se/webhooks/twilio/sms"
    with FakeTwilio(inbound_url=public, callback_base_url=receiver.url) as fake:
        status, _ = fake.send_inbound("+46701112233", "STOPP")
    assert status == 200
    [(path, pairs, headers)] = receiver.posts
    assert path == "/webhooks/twilio/sms"
    params = dict(pairs)
    assert params["Body"] == "STOPP" and params["From"] == "+46701112233"
    assert params["MessageSid"].startswith("SM")
    assert RequestValidator(DEFAULT_AUTH_TOKEN).validate(public, params, headers["X-Twilio-Signature"])
    assert fake.conversation("+46701112233")[0]["direction"] == "in"


def test_sign_covers_repeated_and_blank_fields() -> None:
    pairs = [("A", "1"), ("A", "2"), ("B", "")]
    signature = sign("tok", "https://x.se/h", pairs)
    assert signature == RequestValidator("tok").compute_signature("https://x.se/hA1A2B", {})
    assert signature != sign("tok", "https://x.se/h", [("A", "1"), ("B", "")])


def test_segment_count_matches_gsm_and_ucs2_rules() -> None:
    assert count_segments("Hej åäö ÅÄÖ " * 13) == 1  # 156 GSM-7 characters
    assert count_segments("a" * 161) == 2
    assert count_segments("Svara 1–5") == 1 and count_segments("–" * 71) == 2
    assert count_segments("€" * 80) == 1 and count_segments("€" * 81) == 2


def test_control_endpoints_for_the_dev_phone_page(fake: FakeTwilio, receiver: _Receiver) -> None:
    fake.inbound_url = receiver.url + "/webhooks/twilio/sms"
    client_for(fake).messages.create(to=TO, from_="+46700000000", body="Fråga 1")
    numbers = requests.get(fake.base_url + "/_fake/messages", timeout=5).json()
    assert numbers == {"numbers": [TO]}
    reply = requests.post(fake.base_url + "/_fake/inbound", data={"From": TO, "Body": "4"}, timeout=5)
    assert reply.json() == {"app_status": 200}
    conversation = requests.get(fake.base_url + "/_fake/messages", params={"number": TO}, timeout=5).json()
    assert [(m["direction"], m["body"]) for m in conversation["messages"]] == [
        ("out", "Fråga 1"),
        ("in", "4"),
    ]
    bad = requests.post(fake.base_url + "/_fake/inbound", data={"From": "070", "Body": ""}, timeout=5)
    assert bad.status_code == 400
