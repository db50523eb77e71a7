"""Signature checking and strict form parsing for Twilio webhooks."""

from __future__ import annotations

import pytest

from notifications.signature import MalformedForm, is_valid_signature, parse_form, public_url
from notifications.testing.fake_twilio import sign

TOKEN = "test-auth-token-0123456789"


def test_twilio_published_example_vector() -> None:
    # From Twilio's security documentation (token 12345, their example URL and params).
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    form = parse_form(
        b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212"
    )
    assert is_valid_signature("12345", url, form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not is_valid_signature("12345", url, form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ")


def test_blank_and_repeated_fields_are_covered() -> None:
    url = "https://x.se/webhooks/twilio/sms"
    form = parse_form(b"Body=&A=1&A=2")
    assert form["Body"] == "" and form.getall("A") == ["1", "2"]
    good = sign(TOKEN, url, form.pairs)
    assert is_valid_signature(TOKEN, url, form, good)
    assert not is_valid_signature(TOKEN, url, parse_form(b"Body=&A=1"), good)


@pytest.mark.parametrize("signature", [None, "", "bm90LWEtc2lnbmF0dXJl"])
def test_missing_or_wrong_signature(signature: str | None) -> None:
    assert not is_valid_signature(TOKEN, "https://x.se/h", parse_form(b"A=1"), signature)


def test_empty_token_never_validates() -> None:
    form = parse_form(b"A=1")
    assert not is_valid_signature("", "https://x.se/h", form, sign("", "https://x.se/h", form.pairs))


def test_public_url_keeps_the_raw_query() -> None:
    assert public_url("https://x.se/", "/webhooks/twilio/status", b"o=a%2Db&x=") == (
        "https://x.se/webhooks/twilio/status?o=a%2Db&x="
    )
    assert (
        public_url("https://x.se/prefix", "/webhooks/twilio/sms", b"")
        == "https://x.se/prefix/webhooks/twilio/sms"
    )


@pytest.mark.parametrize("body", [b"Body=%FF", "Body=å".encode(), b"A=1&&B=2", b"noequals", b"A=%00"])
def test_malformed_forms_are_rejected(body: bytes) -> None:
    with pytest.raises(MalformedForm):
        parse_form(body)


def test_utf8_percent_escapes_decode() -> None:
    assert parse_form(b"Body=Hej+%C3%A5%C3%A4%C3%B6")["Body"] == "Hej åäö"
    assert parse_form(b"") == {}
