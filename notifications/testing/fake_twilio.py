"""A local fake of Twilio's Messages API, for tests and for ``make run`` without Twilio.

Why a real HTTP server and not a mock: the production code path is the real ``twilio`` client
(form encoding, Basic auth, JSON parsing, error mapping, paging, timeouts). Only the origin
changes (``LocalTwilioHttpClient`` in ``notifications.gateways.twilio`` rewrites
``https://api.twilio.com`` to this server), so every failure the client can see on the wire —
Twilio error codes, 5xx, a read timeout, a dropped connection after the message was accepted —
can be produced here on purpose and asserted on.

The fake also plays Twilio towards the app: it POSTs status callbacks to the ``StatusCallback``
URL of each message and inbound messages to the app's SMS webhook, both signed with
``X-Twilio-Signature`` exactly as Twilio does (``twilio.request_validator.RequestValidator``,
keyed with the auth token).

Stdlib only (``http.server`` in a thread); binds to 127.0.0.1 and never contacts anything else
than the URLs it is told to call back.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token-0000000000"  # noqa: S105 - a local fake's token
_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/.]+))?\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Status order used to decide which callbacks make sense; terminal states end a message.
TERMINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "canceled"})

# GSM 03.38 basic character set (plus extension characters, which cost two septets).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = set("^{}\\[~]|€\f")


def count_segments(body: str) -> int:
    """How many SMS parts Twilio would bill for ``body`` (GSM-7 160/153, UCS-2 70/67)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXT for ch in body):
        septets = sum(2 if ch in _GSM_EXT else 1 for ch in body)
        return 1 if septets <= 160 else -(-septets // 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def sign(auth_token: str, url: str, params: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """``X-Twilio-Signature`` for a form POST to ``url`` (HMAC-SHA1, Twilio's algorithm)."""
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    return RequestValidator(auth_token).compute_signature(url, _MultiDict(pairs))


class _MultiDict(dict[str, str]):
    """Dict with ``getall`` so the validator signs every value of a repeated field."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self._pairs = pairs

    def getall(self, name: str) -> list[str]:
        return [v for k, v in self._pairs if k == name]


def twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    """The JSON body Twilio returns for a REST error."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


KNOWN_ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "Invalid 'To' Phone Number"),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    ),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}


@dataclass
class Fault:
    """A scripted misbehaviour for one create request.

    kinds:
      ``error``               answer ``status``/``code`` before creating anything
      ``error_after_create``  create the message, then answer ``status`` (default 500)
      ``delay``               create the message, then wait ``delay_s`` before answering
      ``drop_after_create``   create the message, then close the connection without an answer
      ``drop_before_create``  close the connection without creating anything
      ``non_json``            answer ``status`` (default 502) with an HTML body, nothing created
    """

    kind: str
    code: int | None = None
    status: int | None = None
    delay_s: float = 0.0
    message: str | None = None

    @classmethod
    def error(cls, code: int, status: int | None = None, message: str | None = None) -> Fault:
        default_status, default_message = KNOWN_ERRORS.get(code, (400, f"Error {code}"))
        if code in (429, 500, 502, 503):  # plain HTTP failures, Twilio code mirrors the status
            default_status = code
        return cls("error", code=code, status=status or default_status, message=message or default_message)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls("delay", delay_s=seconds)

    @classmethod
    def drop_after_create(cls) -> Fault:
        return cls("drop_after_create")

    @classmethod
    def drop_before_create(cls) -> Fault:
        return cls("drop_before_create")

    @classmethod
    def error_after_create(cls, status: int = 500) -> Fault:
        return cls("error_after_create", status=status, code=20500)

    @classmethod
    def non_json(cls, status: int = 502) -> Fault:
        return cls("non_json", status=status)


@dataclass
class Outcome:
    """What happens to a message after it is accepted: the statuses its callbacks report."""

    statuses: tuple[str, ...] = ("sent", "delivered")
    error_code: int | None = None


@dataclass
class RecordedRequest:
    """One request the fake received (every POST is kept for "exactly one POST" assertions)."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    authorized: bool
    at: datetime
    outcome: str = ""  # created / rejected:<code> / fault:<kind> / …

    def value(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


@dataclass
class FakeMessage:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    validity_period: str | None
    created_at: datetime
    direction: str = "outbound-api"
    status: str = "queued"
    error_code: int | None = None
    num_segments: int = 1
    callbacks: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        rfc2822 = format_datetime(self.created_at, usegmt=True)
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822,
            "date_sent": rfc2822,
            "date_updated": rfc2822,
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": self.to,
            "uri": uri,
        }


@dataclass
class InboundRecord:
    """A message the fake posted to the app as if a phone had sent it."""

    sid: str
    from_: str
    to: str
    body: str
    at: datetime
    http_status: int | None


def _new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def _parse_when(raw: str) -> datetime | None:
    """Twilio's DateSent filter values: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SSZ``."""
    try:
        if len(raw) == 10:
            return datetime.fromisoformat(raw).replace(tzinfo=UTC)
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


class FakeTwilio:
    """The fake server. Start with :meth:`start` (or use as a context manager)."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        inbound_url: str | None = None,
        callback_base_url: str | None = None,
        auto_callbacks: bool = False,
        callback_delay_s: float = 0.05,
        default_from: str = "+46700000000",
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """``inbound_url``: the app's public SMS webhook URL (what Twilio would call).

        ``callback_base_url``: when set, callbacks and inbound posts are *sent* to this origin
        instead of the one in the signed URL (the app listens elsewhere than its public URL,
        as behind a proxy); the signature always covers the public URL.
        ``auto_callbacks``: after each create, post the message's :class:`Outcome` statuses to
        its ``StatusCallback`` URL in a background thread (what ``make run`` wants).
        """
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self._requested_port = port
        self.inbound_url = inbound_url
        self.callback_base_url = callback_base_url
        self.auto_callbacks = auto_callbacks
        self.callback_delay_s = callback_delay_s
        self.default_from = default_from
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.messages: dict[str, FakeMessage] = {}
        self.requests: list[RecordedRequest] = []
        self.inbound: list[InboundRecord] = []
        self._faults_by_to: dict[str, list[Fault]] = {}
        self._sticky_faults_by_to: dict[str, Fault] = {}
        self._next_faults: list[Fault] = []
        self._outcomes_by_to: dict[str, Outcome] = {}
        self.default_outcome = Outcome()
        self._callback_threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeTwilio:
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._server = _Server((self.host, self._requested_port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-twilio", daemon=True
        )
        self._thread.start()
        log.info("fake Twilio listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in list(self._callback_threads):
            thread.join(timeout=2)
        self._server = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("fake Twilio is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ scripting
    def fail_next(self, fault: Fault, count: int = 1) -> None:
        """The next ``count`` create requests (any destination) get ``fault``."""
        with self._lock:
            self._next_faults.extend([fault] * count)

    def fail_to(self, to: str, fault: Fault, count: int | None = None) -> None:
        """Create requests to ``to`` get ``fault`` (``count`` times, or always when None)."""
        with self._lock:
            if count is None:
                self._sticky_faults_by_to[to] = fault
            else:
                self._faults_by_to.setdefault(to, []).extend([fault] * count)

    def set_outcome(self, to: str, outcome: Outcome) -> None:
        """Which callbacks messages to ``to`` will produce (e.g. undelivered with 30003)."""
        with self._lock:
            self._outcomes_by_to[to] = outcome

    def clear_faults(self) -> None:
        with self._lock:
            self._next_faults.clear()
            self._faults_by_to.clear()
            self._sticky_faults_by_to.clear()

    def _take_fault(self, to: str | None) -> Fault | None:
        with self._lock:
            if self._next_faults:
                return self._next_faults.pop(0)
            if to and self._faults_by_to.get(to):
                return self._faults_by_to[to].pop(0)
            if to:
                return self._sticky_faults_by_to.get(to)
            return None

    # ------------------------------------------------------------------ inspection
    def create_requests(self) -> list[RecordedRequest]:
        """Every POST to the Messages list endpoint, in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")]

    def sent_to(self, to: str) -> list[FakeMessage]:
        with self._lock:
            return [m for m in self.messages.values() if m.to == to]

    def conversation(self, number: str) -> list[dict[str, Any]]:
        """Messages to and from ``number``, oldest first (for the dev phone page)."""
        with self._lock:
            rows: list[dict[str, Any]] = [
                {"direction": "out", "body": m.body, "at": m.created_at, "status": m.status, "sid": m.sid}
                for m in self.messages.values()
                if m.to == number
            ]
            rows += [
                {"direction": "in", "body": i.body, "at": i.at, "status": str(i.http_status), "sid": i.sid}
                for i in self.inbound
                if i.from_ == number
            ]
        return sorted(rows, key=lambda r: r["at"])

    def numbers(self) -> list[str]:
        with self._lock:
            seen = {m.to for m in self.messages.values()} | {i.from_ for i in self.inbound}
        return sorted(seen)

    # ------------------------------------------------------------------ playing Twilio towards the app
    def _transport_url(self, url: str) -> str:
        if not self.callback_base_url:
            return url
        parts = urllib.parse.urlsplit(url)
        base = urllib.parse.urlsplit(self.callback_base_url)
        return urllib.parse.urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))

    def post_signed(
        self, url: str, params: list[tuple[str, str]], *, signature: str | None = None
    ) -> tuple[int, str]:
        """POST a form to ``url`` signed like Twilio; returns (HTTP status, body text)."""
        body = urllib.parse.urlencode(params).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature if signature is not None else sign(self.auth_token, url, params),
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
            "User-Agent": "TwilioProxy/1.1 (fake)",
        }
        target = self._transport_url(url)
        if not target.startswith(("http://", "https://")):
            raise ValueError(f"callback URL must be http(s): {target!r}")
        request = urllib.request.Request(target, data=body, headers=headers, method="POST")  # noqa: S310
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=15) as response:
                return int(response.status), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode("utf-8", "replace")

    def status_params(
        self, message: FakeMessage, status: str, error_code: int | None = None
    ) -> list[tuple[str, str]]:
        params = [
            ("AccountSid", message.account_sid),
            ("ApiVersion", API_VERSION),
            ("From", message.from_ or self.default_from),
            ("MessageSid", message.sid),
            ("MessageStatus", status),
            ("SmsSid", message.sid),
            ("SmsStatus", status),
            ("To", message.to),
        ]
        if message.messaging_service_sid:
            params.append(("MessagingServiceSid", message.messaging_service_sid))
        if error_code is not None:
            params.append(("ErrorCode", str(error_code)))
        return params

    def post_status(self, sid: str, status: str, error_code: int | None = None) -> tuple[int, str]:
        """Post one signed status callback for message ``sid`` to its StatusCallback URL."""
        with self._lock:
            message = self.messages[sid]
            if message.status not in TERMINAL_STATUSES:
                message.status = status
                message.error_code = error_code
        if not message.status_callback:
            raise ValueError(f"message {sid} has no StatusCallback")
        params = self.status_params(message, status, error_code)
        result = self.post_signed(message.status_callback, params)
        with self._lock:
            message.callbacks.append({"status": status, "error_code": error_code, "http_status": result[0]})
        return result

    def play_outcome(self, sid: str) -> list[tuple[int, str]]:
        """Post the whole scripted status sequence for ``sid`` (e.g. sent, delivered)."""
        with self._lock:
            message = self.messages[sid]
            outcome = self._outcomes_by_to.get(message.to, self.default_outcome)
        results = []
        for status in outcome.statuses:
            code = outcome.error_code if status in ("undelivered", "failed") else None
            results.append(self.post_status(sid, status, code))
        return results

    def _auto_play(self, sid: str) -> None:
        if self._stopping.wait(self.callback_delay_s):
            return
        try:
            self.play_outcome(sid)
        except Exception as exc:  # the app may be down; Twilio would give up too
            log.warning("fake Twilio could not deliver status callbacks for %s: %s", sid, exc)

    def send_inbound(
        self,
        from_: str,
        body: str,
        *,
        to: str | None = None,
        url: str | None = None,
        opt_out_type: str | None = None,
        message_sid: str | None = None,
        extra: Iterable[tuple[str, str]] = (),
        signature: str | None = None,
    ) -> tuple[int, str]:
        """Play a phone replying: POST a signed inbound SMS to the app's webhook."""
        target = url or self.inbound_url
        if not target:
            raise ValueError("no inbound_url configured for the fake Twilio")
        sid = message_sid or _new_sid()
        params = self.inbound_params(from_, body, to=to, sid=sid, opt_out_type=opt_out_type)
        params += list(extra)
        status, text = self.post_signed(target, params, signature=signature)
        with self._lock:
            self.inbound.append(InboundRecord(sid, from_, to or self.default_from, body, self._now(), status))
        return status, text

    def inbound_params(
        self, from_: str, body: str, *, to: str | None = None, sid: str, opt_out_type: str | None = None
    ) -> list[tuple[str, str]]:
        params = [
            ("AccountSid", self.account_sid),
            ("ApiVersion", API_VERSION),
            ("Body", body),
            ("From", from_),
            ("FromCountry", "SE"),
            ("MessageSid", sid),
            ("NumMedia", "0"),
            ("NumSegments", str(count_segments(body))),
            ("SmsMessageSid", sid),
            ("SmsSid", sid),
            ("SmsStatus", "received"),
            ("To", to or self.default_from),
            ("ToCountry", "SE"),
        ]
        if opt_out_type:
            params.append(("OptOutType", opt_out_type))
        return params

    # ------------------------------------------------------------------ request handling (server threads)
    def _record(self, request: RecordedRequest) -> RecordedRequest:
        with self._lock:
            self.requests.append(request)
        return request

    def _check_auth(self, header: str | None, account: str) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (
            secrets.compare_digest(user, self.account_sid)
            and secrets.compare_digest(password, self.auth_token)
            and account == self.account_sid
        )

    def _create(self, account: str, form: dict[str, list[str]]) -> FakeMessage | tuple[int, dict[str, Any]]:
        def first(name: str) -> str | None:
            values = form.get(name)
            return values[0] if values else None

        to, body = first("To"), first("Body")
        from_, service = first("From"), first("MessagingServiceSid")
        if not to:
            return 400, twilio_error(400, 21604, KNOWN_ERRORS[21604][1])
        if not _E164.match(to):
            return 400, twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not (from_ or service):
            return 400, twilio_error(400, 21603, KNOWN_ERRORS[21603][1])
        if not body:
            return 400, twilio_error(400, 21602, KNOWN_ERRORS[21602][1])
        if len(body) > 1600:
            return 400, twilio_error(400, 21617, KNOWN_ERRORS[21617][1])
        message = FakeMessage(
            sid=_new_sid(),
            account_sid=account,
            to=to,
            from_=from_,
            messaging_service_sid=service,
            body=body,
            status_callback=first("StatusCallback"),
            validity_period=first("ValidityPeriod"),
            created_at=self._now(),
            status="accepted" if service and not from_ else "queued",
            num_segments=count_segments(body),
        )
        with self._lock:
            self.messages[message.sid] = message
        return message

    def _schedule_callbacks(self, message: FakeMessage) -> None:
        if self.auto_callbacks and message.status_callback and not self._stopping.is_set():
            thread = threading.Thread(target=self._auto_play, args=(message.sid,), daemon=True)
            with self._lock:
                self._callback_threads = [t for t in self._callback_threads if t.is_alive()]
                self._callback_threads.append(thread)
            thread.start()

    def _list(self, account: str, query: dict[str, list[str]]) -> dict[str, Any]:
        def first(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        with self._lock:
            rows = [m for m in self.messages.values() if m.account_sid == account]
        if first("To"):
            rows = [m for m in rows if m.to == first("To")]
        if first("From"):
            rows = [m for m in rows if m.from_ == first("From")]
        for key, keep in (
            ("DateSent>", lambda m, t: m.created_at >= t),
            ("DateSent<", lambda m, t: m.created_at <= t),
        ):
            raw = first(key)
            when = _parse_when(raw) if raw else None
            if when is not None:
                rows = [m for m in rows if keep(m, when)]
        if first("DateSent"):
            day = first("DateSent") or ""
            rows = [m for m in rows if m.created_at.date().isoformat() == day[:10]]
        rows.sort(key=lambda m: m.created_at, reverse=True)  # Twilio lists newest first
        page_size = max(1, min(1000, int(first("PageSize") or 50)))
        page = max(0, int(first("Page") or 0))
        chunk = rows[page * page_size : (page + 1) * page_size]
        base = f"/{API_VERSION}/Accounts/{account}/Messages.json"
        keep_query = {k: v[0] for k, v in query.items() if k not in ("Page", "PageToken")}
        keep_query["PageSize"] = str(page_size)

        def page_uri(n: int) -> str:
            return base + "?" + urllib.parse.urlencode({**keep_query, "Page": str(n)})

        has_next = (page + 1) * page_size < len(rows)
        return {
            "end": page * page_size + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "messages": [m.to_json() for m in chunk],
            "next_page_uri": page_uri(page + 1) if has_next else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": page * page_size,
            "uri": page_uri(page),
        }


class _Server(ThreadingHTTPServer):
    # The stdlib default backlog (5) resets connections when several workers send at once,
    # which a client sees as "dropped after the POST" (unknown outcome) - not what Twilio does.
    request_queue_size = 256


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTwilio
    server_version = "FakeTwilio/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection: no stale keep-alive surprises

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake Twilio: " + format, *args)

    # -------------------------------------------------------------- helpers
    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _read_form(self) -> dict[str, list[str]]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        return urllib.parse.parse_qs(raw, keep_blank_values=True)

    # -------------------------------------------------------------- routes
    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        if parts.path == "/_fake/health":
            self._send_json(200, {"ok": True})
            return
        if parts.path == "/_fake/messages":
            self._control_messages(query)
            return
        match = _MESSAGES_PATH.match(parts.path)
        authorized = bool(match) and self.fake._check_auth(
            self.headers.get("Authorization"), match["account"] if match else ""
        )
        self.fake._record(
            RecordedRequest("GET", parts.path, query, {}, authorized, self.fake._now(), outcome="")
        )
        if not match:
            self._send_json(404, twilio_error(404, 20404, KNOWN_ERRORS[20404][1]))
            return
        if not authorized:
            self._send_json(401, twilio_error(401, 20003, "Authenticate"))
            return
        if match["sid"]:
            with self.fake._lock:
                message = self.fake.messages.get(match["sid"])
            if message is None or message.account_sid != match["account"]:
                self._send_json(404, twilio_error(404, 20404, KNOWN_ERRORS[20404][1]))
            else:
                self._send_json(200, message.to_json())
            return
        try:
            self._send_json(200, self.fake._list(match["account"], query))
        except ValueError:
            self._send_json(400, twilio_error(400, 20001, "Invalid paging parameter"))

    def do_POST(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        form = self._read_form()
        if parts.path == "/_fake/inbound":
            self._control_inbound(form)
            return
        match = _MESSAGES_PATH.match(parts.path)
        authorized = bool(match) and self.fake._check_auth(
            self.headers.get("Authorization"), match["account"] if match else ""
        )
        record = self.fake._record(
            RecordedRequest("POST", parts.path, query, form, authorized, self.fake._now())
        )
        if not match or match["sid"]:
            record.outcome = "not-found"
            self._send_json(404, twilio_error(404, 20404, KNOWN_ERRORS[20404][1]))
            return
        if not authorized:
            record.outcome = "rejected:20003"
            self._send_json(401, twilio_error(401, 20003, "Authenticate"))
            return
        to = form["To"][0] if form.get("To") else None
        fault = self.fake._take_fault(to)
        if fault is not None:
            record.outcome = f"fault:{fault.kind}"
            if fault.kind == "error":
                status = fault.status or 400
                self._send_json(status, twilio_error(status, fault.code or status, fault.message or "Error"))
                return
            if fault.kind == "drop_before_create":
                self._drop()
                return
            if fault.kind == "non_json":
                data = b"<html><body>502 Bad Gateway</body></html>"
                self.send_response(fault.status or 502)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
        created = self.fake._create(match["account"], form)
        if isinstance(created, tuple):
            status, payload = created
            record.outcome = f"rejected:{payload['code']}"
            self._send_json(status, payload)
            return
        if fault is None:
            record.outcome = "created"
        self.fake._schedule_callbacks(created)
        if fault is not None and fault.kind == "drop_after_create":
            self._drop()
            return
        if fault is not None and fault.kind == "error_after_create":
            status = fault.status or 500
            self._send_json(status, twilio_error(status, fault.code or 20500, "Internal Server Error"))
            return
        if fault is not None and fault.kind == "delay":
            if self.fake._stopping.wait(fault.delay_s):
                self._drop()
                return
        try:
            self._send_json(201, created.to_json())
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); the message exists anyway, like at Twilio

    # -------------------------------------------------------------- control endpoints (dev phone page)
    def _control_messages(self, query: dict[str, list[str]]) -> None:
        number = (query.get("number") or [""])[0]
        if number:
            rows = self.fake.conversation(number)
            payload: dict[str, Any] = {
                "number": number,
                "messages": [{**r, "at": r["at"].isoformat()} for r in rows],
            }
        else:
            payload = {"numbers": self.fake.numbers()}
        self._send_json(200, payload)

    def _control_inbound(self, form: dict[str, list[str]]) -> None:
        from_ = (form.get("From") or [""])[0]
        body = (form.get("Body") or [""])[0]
        if not _E164.match(from_) or not body:
            self._send_json(400, {"error": "From (E.164) and Body are required"})
            return
        try:
            status, _ = self.fake.send_inbound(from_, body)
        except (ValueError, OSError) as exc:
            self._send_json(502, {"error": str(exc)})
            return
        self._send_json(200, {"app_status": status})


def parse_rfc2822(value: str) -> datetime:
    """Twilio's date format in message JSON (for tests and reconcilers reading raw JSON)."""
    return parsedate_to_datetime(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the local fake Twilio Messages API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument(
        "--app-url", default="http://127.0.0.1:8000", help="The app's public URL (for inbound messages)."
    )
    parser.add_argument("--no-callbacks", action="store_true", help="Do not post status callbacks.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    fake = FakeTwilio(
        args.account_sid,
        args.auth_token,
        host=args.host,
        port=args.port,
        inbound_url=args.app_url.rstrip("/") + "/webhooks/twilio/sms",
        auto_callbacks=not args.no_callbacks,
    ).start()
    print(f"fake Twilio on {fake.base_url} (account {fake.account_sid})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
