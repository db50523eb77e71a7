"""Logs never show a secret, a full phone number, a personnummer or an invitation token."""

from __future__ import annotations

import logging

import pytest

from feedback.core.logs import ScrubbingFilter, mask_phone, scrub


def test_phone_numbers_are_masked() -> None:
    assert mask_phone("+46701234512") == "+4670*****12"
    text = scrub("skickar till +46701234512 och 070-123 45 12")
    assert "1234512" not in text and "123 45 12" not in text
    assert "+4670*****12" in text


def test_secrets_and_tokens_are_masked() -> None:
    text = scrub(
        "POST /x?auth_token=abc123&password=hemligt GET /invitation/Zx9_-kq",
        secrets=("a-very-secret-key-value",),
    )
    assert "abc123" not in text and "hemligt" not in text and "Zx9_-kq" not in text
    assert "***" in scrub("key is a-very-secret-key-value", secrets=("a-very-secret-key-value",))


def test_personnummer_is_masked() -> None:
    assert "19850412-1234" not in scrub("klient 19850412-1234 ringde")


def test_filter_scrubs_arguments_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.scrub")
    record = logger.makeRecord(
        "test.scrub", logging.ERROR, __file__, 1, "to %s with %s", ("+46701234512", "token=abc"), None
    )
    ScrubbingFilter(secrets=("super-secret-value",)).filter(record)
    assert record.getMessage() == "to +4670*****12 with token=***"
    try:
        raise ValueError("super-secret-value leaked")
    except ValueError:
        import sys

        failing = logger.makeRecord("test.scrub", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    ScrubbingFilter(secrets=("super-secret-value",)).filter(failing)
    assert failing.exc_text and "super-secret-value" not in failing.exc_text


def test_twilio_request_chatter_is_kept_out_of_the_log() -> None:
    from feedback.core.logs import configure_logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    factory = logging.getLogRecordFactory()
    twilio = logging.getLogger("twilio.http_client")
    try:
        configure_logging("INFO")
        assert not twilio.isEnabledFor(logging.INFO)  # request lines (URL, query, headers)
        assert twilio.isEnabledFor(logging.WARNING)
        assert logging.getLogger("feedback").isEnabledFor(logging.INFO)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        logging.setLogRecordFactory(factory)
        twilio.setLevel(logging.NOTSET)


def test_records_stay_scrubbed_when_someone_replaces_the_handlers() -> None:
    """A framework that swaps the root handlers after start-up must not switch scrubbing off."""
    import io

    from feedback.core.logs import configure_logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    factory = logging.getLogRecordFactory()
    stream = io.StringIO()
    try:
        configure_logging("INFO", secrets=("a-very-secret-key-value",))
        configure_logging("INFO", secrets=("a-very-secret-key-value",))  # twice: no double wrapping
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.addHandler(logging.StreamHandler(stream))  # no filter of ours
        logging.getLogger("uvicorn.access").info(
            '%s - "GET /invitation/%s HTTP/1.1" 200 to %s', "127.0.0.1", "Zx9_-kqAbc", "+46701234512"
        )
        logging.getLogger("test").warning("key a-very-secret-key-value")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        logging.setLogRecordFactory(factory)
    text = stream.getvalue()
    assert "/invitation/***" in text and "+4670*****12" in text
    assert "Zx9_-kqAbc" not in text and "1234512" not in text and "a-very-secret-key-value" not in text
