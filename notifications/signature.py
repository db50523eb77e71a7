"""Twilio webhook authentication: the signature is the only credential a webhook has.

Why the configured public URL: Twilio signs the URL *it* called (scheme, host, path and the
query string byte for byte). Behind a TLS-terminating proxy the app sees
``http://127.0.0.1:…``; validating against that would reject every genuine request (or, worse,
tempt someone to switch validation off). So the URL is rebuilt from ``FEEDBACK_PUBLIC_URL`` plus
the path and raw query the app received.

Form parsing is strict and our own: a body that is not ASCII URL-encoding, or whose
percent-escapes are not UTF-8, is malformed (400) rather than guessed at. Every pair is kept,
blanks and repeats included, because the signature covers all of them.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable

from twilio.request_validator import RequestValidator, get_signature_algorithm

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class MalformedForm(ValueError):
    """The body is not a well-formed URL-encoded form."""


class FormPairs(dict[str, str]):
    """First value per name (``form["Body"]``) plus every pair, for the validator's ``getall``."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.pairs = list(pairs)
        super().__init__()
        for name, value in self.pairs:
            self.setdefault(name, value)

    def getall(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]


def parse_form(body: bytes) -> FormPairs:
    """Parse an ``application/x-www-form-urlencoded`` body strictly (raises ``MalformedForm``)."""
    try:
        text = body.decode("ascii")
        pairs = urllib.parse.parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text), encoding="utf-8", errors="strict"
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedForm(str(exc)) from exc
    if any("\x00" in name or "\x00" in value for name, value in pairs):
        raise MalformedForm("NUL byte in form")
    return FormPairs(pairs)


def public_url(public_base: str, path: str, raw_query: bytes | str) -> str:
    """The URL Twilio called: configured public base + path + the raw query string."""
    query = raw_query.decode("latin-1") if isinstance(raw_query, bytes) else raw_query
    return public_base.rstrip("/") + path + (f"?{query}" if query else "")


def is_valid_signature(
    auth_token: str,
    url: str,
    form: FormPairs,
    signature: str | None,
    signature_settings: str | None = None,
) -> bool:
    """Check ``X-Twilio-Signature`` (HMAC-SHA1, or SHA256 when Twilio says so in the settings header)."""
    if not signature or not auth_token:
        return False
    validator = RequestValidator(auth_token)
    try:
        return bool(validator.validate(url, form, signature, get_signature_algorithm(signature_settings)))
    except (ValueError, TypeError):
        return False
