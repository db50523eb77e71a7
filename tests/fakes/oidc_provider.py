"""A local OpenID provider for tests: ``oidc-provider-mock`` on 127.0.0.1 in a subprocess.

Why a subprocess: the mock (Flask, authlib's server side) emits deprecation warnings that the
test suite turns into errors, and a provider of its own keeps the app's HTTP calls honest (real
sockets, nothing patched). Why a wrapper: tests must also see a *forged* ID token refused, which
a correct provider never issues; ``POST /_test/forge`` makes the next token response carry an ID
token signed by a different key under the provider's key id.

    with OidcProvider.start() as provider:
        provider.set_user("anna", {"email": "anna@kommun.se", "name": "Anna", "groups": ["fs"]})
        settings = settings.with_overrides(oidc_issuer=provider.issuer, oidc_client_id="uppf", ...)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- the provider process
def _forging(app: Any) -> Any:
    """WSGI wrapper: the normal mock, plus ``/_test/forge`` and a forged next ID token."""
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    forge = {"next": ""}
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/_test/forge" and environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            mode = json.loads(environ["wsgi.input"].read(size) or b"{}").get("mode", "")
            with lock:
                forge["next"] = mode
            start_response("204 No Content", [])
            return [b""]
        if path != "/oauth2/token":
            return _offline_html(app, environ, start_response)
        with lock:
            mode, forge["next"] = forge["next"], ""
        if not mode:
            return app(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        body = b"".join(app(environ, capture))
        token = json.loads(body)
        original = jwt.decode(token["id_token"], _public_key_set(app))
        other_key = RSAKey.generate_key(2048)
        header = {"alg": original.header["alg"], "kid": original.header.get("kid", ""), "typ": "JWT"}
        token["id_token"] = jwt.encode(header, original.claims, other_key)
        body = json.dumps(token).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return wrapped


_CDN_LINK = re.compile(rb"<link[^>]*https://[^>]*>", re.DOTALL)


def _offline_html(app: Any, environ: dict[str, Any], start_response: Any) -> Any:
    """The mock's pages link a stylesheet on a CDN: drop it, so a browser test stays offline."""
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, headers
        return lambda _data: None

    body = b"".join(app(environ, capture))
    headers = captured["headers"]
    if any(k.lower() == "content-type" and "text/html" in v for k, v in headers):
        body = _CDN_LINK.sub(b"", body)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
    start_response(captured["status"], headers)
    return [body]


def _public_key_set(app: Any) -> Any:
    from joserfc.jwk import KeySet

    with app.test_client() as client:
        return KeySet.import_key_set(client.get("/jwks").get_json())


def main() -> None:
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)
    import oidc_provider_mock
    import werkzeug.serving

    app = oidc_provider_mock.app(require_nonce=True)
    app.logger.disabled = True
    server = werkzeug.serving.make_server("127.0.0.1", 0, _forging(app), threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


# ---------------------------------------------------------------- the test's handle
@dataclass
class OidcProvider:
    issuer: str
    process: subprocess.Popen[str] = field(repr=False)

    @classmethod
    @contextmanager
    def start(cls) -> Iterator[OidcProvider]:
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.oidc_provider"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            port = int(process.stdout.readline().strip())
            provider = cls(issuer=f"http://127.0.0.1:{port}", process=process)
            provider._wait_ready()
            yield provider
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            if process.stdout is not None:
                process.stdout.close()

    def _wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.issuer}/.well-known/openid-configuration", timeout=5):
                    return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.1)

    def _send(self, method: str, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.issuer}{path}",
            data=json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status in (200, 204), response.status

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        """The claims the provider puts in ``sub``'s next ID token (replaces earlier ones)."""
        self._send("PUT", f"/users/{sub}", claims)

    def forge_next_token(self) -> None:
        """Sign the next ID token with a key that is not the provider's (same key id)."""
        self._send("POST", "/_test/forge", {"mode": "signature"})


if __name__ == "__main__":
    main()
