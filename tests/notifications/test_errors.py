from __future__ import annotations

from notifications.errors import (
    OptedOutSendError,
    PermanentSendError,
    RetryableSendError,
    SendError,
    UnknownOutcomeError,
    reason_for_code,
)


def test_error_hierarchy_lets_the_dispatcher_tell_classes_apart() -> None:
    opted = OptedOutSendError()
    assert isinstance(opted, PermanentSendError) and isinstance(opted, SendError)
    assert opted.code == 21610
    assert "STOPP" in opted.reason_sv
    retry = RetryableSendError(20429, retry_after_s=3.0)
    assert retry.retry_after_s == 3.0 and not isinstance(retry, PermanentSendError)
    unknown = UnknownOutcomeError(detail="read timeout")
    assert not isinstance(unknown, (PermanentSendError, RetryableSendError))
    assert "oklart" in unknown.reason_sv


def test_reasons_are_plain_swedish_with_a_fallback() -> None:
    assert "mobilnummer" in reason_for_code(21614)
    assert "nå" in reason_for_code(30003)
    assert "99999" in reason_for_code(99999)
    assert reason_for_code(None) == "Meddelandet kunde inte skickas."
    for code in (30003, 30005, 30006, 30007, 21211, 21614, 21610):
        assert reason_for_code(code) != reason_for_code(None)
