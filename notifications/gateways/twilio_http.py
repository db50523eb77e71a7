"""The twilio library's own HTTP client, optionally pointed at a local fake Twilio.

twilio-python 9.x has no base-URL setting (``edge``/``region`` only rename hosts under
``twilio.com``). The supported extension point is the ``http_client`` passed to
``twilio.rest.Client``: this subclass swaps the origin ``https://<product>.twilio.com`` for a
configured base URL and lets the library do everything else (form encoding, Basic auth, JSON,
error mapping, paging). With no base URL it is exactly ``TwilioHttpClient``.

Both variants ignore proxy environment variables only when talking to the local fake, and never
retry (``max_retries`` unset: urllib3 does not repeat a POST), so one ``create`` is one POST.
"""

from __future__ import annotations

import re
from typing import Any

from twilio.http.http_client import TwilioHttpClient

_TWILIO_ORIGIN = re.compile(r"^https://[a-z0-9.-]+\.twilio\.com")


class LocalTwilioHttpClient(TwilioHttpClient):
    """``TwilioHttpClient`` that sends every request to ``base_url`` instead of twilio.com."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(timeout=timeout, **kwargs)
        self.base_url = base_url.rstrip("/")
        if self.session is not None:
            self.session.trust_env = False  # never route 127.0.0.1 through an HTTP(S)_PROXY
        self.proxy: dict[str, str] = {}  # as TwilioHttpClient's ``proxy`` (requests' proxies)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(method, _TWILIO_ORIGIN.sub(self.base_url, url), *args, **kwargs)


def build_http_client(base_url: str | None, timeout: float) -> TwilioHttpClient:
    """Production client (no retries, bounded timeout) or the same pointed at a local fake."""
    if base_url:
        return LocalTwilioHttpClient(base_url, timeout=timeout)
    return TwilioHttpClient(timeout=timeout)
