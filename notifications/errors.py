"""The error contract between SMS gateways (which raise) and the dispatcher (which records).

Why these four classes: for an SMS the only question that matters after a failed call is "may
we send again?". ``PermanentSendError`` – no, the provider refused it for good (bad number,
landline, opted out). ``RetryableSendError`` – yes, the provider positively did not accept it
(429, 5xx before create, connection refused). ``UnknownOutcomeError`` – we do not know (timeout
or dropped connection after the POST): Twilio has no idempotency key, so resending could text
the person twice; the row goes to ``unknown`` and is reconciled, never blindly resent.
"""

from __future__ import annotations

# Plain-Swedish reasons for the codes caseworkers actually meet. Codes and texts from Twilio's
# error dictionary; the text is ours (klarspråk), the code is what we classify on.
REASONS_SV: dict[int, str] = {
    21211: "Numret är inte ett giltigt telefonnummer.",
    21408: "SMS till det här landet är inte tillåtna från vårt konto.",
    21610: "Personen har tackat nej till SMS från oss (STOPP).",
    21612: "Det går inte att skicka SMS från vårt nummer till det här numret.",
    21614: "Numret är inte ett mobilnummer och kan inte ta emot SMS.",
    21617: "Meddelandet är för långt.",
    20429: "För många meddelanden på kort tid. Vi försöker igen senare.",
    30001: "Meddelandet väntade för länge i kön och skickades inte.",
    30002: "Vårt SMS-konto är spärrat.",
    30003: "Telefonen går inte att nå (avstängd eller utan täckning).",
    30004: "Mottagaren har spärrat meddelanden från oss.",
    30005: "Numret finns inte eller är inte längre i bruk.",
    30006: "Numret kan inte ta emot SMS (till exempel en fast telefon).",
    30007: "Operatören stoppade meddelandet som misstänkt skräppost.",
    30008: "Okänt fel hos operatören.",
    30036: "Meddelandet hann inte skickas innan giltighetstiden gick ut.",
}

_FALLBACK_SV = "Meddelandet kunde inte skickas (felkod {code})."
_UNKNOWN_SV = "Meddelandet kunde inte skickas."


def reason_for_code(code: int | None) -> str:
    """A short, plain-Swedish explanation for a Twilio error code (never the provider's text)."""
    if code is None:
        return _UNKNOWN_SV
    return REASONS_SV.get(code, _FALLBACK_SV.format(code=code))


# Codes that mean "this phone cannot be reached" – the owner gets an ``unreachable`` problem.
UNREACHABLE_CODES = frozenset({30003, 30005, 30006})
OPTED_OUT_CODE = 21610


class SendError(Exception):
    """Base class: the gateway could not (or may not have) sent the message."""

    def __init__(self, code: int | None = None, reason_sv: str | None = None, detail: str = "") -> None:
        self.code = code
        self.reason_sv = reason_sv or reason_for_code(code)
        self.detail = detail  # technical text for logs; never shown to users, never contains PII
        super().__init__(f"{type(self).__name__}(code={code}): {detail or self.reason_sv}")


class PermanentSendError(SendError):
    """The provider refused the message; sending it again would fail the same way."""


class OptedOutSendError(PermanentSendError):
    """Twilio 21610: the recipient has opted out at the provider; record it in our ledger too."""

    def __init__(
        self, code: int | None = OPTED_OUT_CODE, reason_sv: str | None = None, detail: str = ""
    ) -> None:
        super().__init__(code, reason_sv, detail)


class RetryableSendError(SendError):
    """The provider positively did not accept the message; it is safe to try again later."""

    def __init__(
        self,
        code: int | None = None,
        reason_sv: str | None = None,
        detail: str = "",
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(code, reason_sv, detail)
        self.retry_after_s = retry_after_s


class UnknownOutcomeError(SendError):
    """The request may have reached the provider (timeout/dropped after POST): never resend blindly."""

    def __init__(self, code: int | None = None, reason_sv: str | None = None, detail: str = "") -> None:
        super().__init__(
            code, reason_sv or "Det är oklart om meddelandet skickades. Vi kontrollerar det.", detail
        )
