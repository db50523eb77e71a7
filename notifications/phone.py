"""Phone numbers: normalise to E.164, mask for display, encrypt at rest, blind-index for lookup.

Why three separate operations: a number is needed in clear only at the moment of sending (the
dispatcher) and on the one audited caseworker screen. Everywhere else we keep ciphertext
(``PhoneVault.encrypt``, Fernet with a key list so keys can rotate) and look rows up by a keyed
HMAC "blind index" (``PhoneVault.blind_index``) under a separate key, so rotating the encryption
key never invalidates lookups. Logs and pages show ``mask(e164)`` only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from phonenumbers import NumberParseException, PhoneNumberType

_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


class InvalidPhoneNumber(ValueError):
    """A number we refuse to send SMS to; ``message_sv`` is shown to the person who typed it."""

    def __init__(self, message_sv: str, raw: str | None = None) -> None:
        super().__init__(message_sv)
        self.message_sv = message_sv
        self.raw = raw


def normalise_mobile(raw: str, region: str = "SE") -> str:
    """Return ``raw`` as an E.164 mobile number or raise ``InvalidPhoneNumber``.

    Accepts the ways people type numbers ("070-123 45 67", "+46 70 123 45 67", "0046…").
    Landlines and service numbers are refused: they cannot receive SMS and Twilio would answer
    21614, which we would rather catch while the caseworker is still looking at the form.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("Skriv ett mobilnummer.", raw)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidPhoneNumber(
            "Det går inte att läsa numret. Skriv det till exempel som 070-123 45 67.", raw
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("Numret finns inte. Kontrollera att alla siffror är rätt.", raw)
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidPhoneNumber(
            "Numret är inte ett mobilnummer. SMS kan bara skickas till mobilnummer.", raw
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(e164: str | None) -> str:
    """``+46701234512`` → ``+4670*****12``: enough to recognise, not enough to call."""
    if not e164:
        return ""
    if len(e164) <= 6:
        return "*" * len(e164)
    return e164[:5] + "*" * (len(e164) - 7) + e164[-2:]


class PhoneVault:
    """Encrypts numbers (Fernet, newest key first) and computes the keyed blind index."""

    def __init__(self, data_keys: Sequence[str], index_key: str) -> None:
        if not data_keys:
            raise ValueError("at least one data key is needed")
        if not index_key:
            raise ValueError("an index key is needed")
        self._fernet = MultiFernet(
            [Fernet(key.encode() if isinstance(key, str) else key) for key in data_keys]
        )
        self._index_key = index_key.encode()

    @classmethod
    def from_settings(cls, settings: object) -> PhoneVault:
        return cls(settings.data_keys, settings.index_key)  # type: ignore[attr-defined]

    def encrypt(self, e164: str) -> str:
        return self._fernet.encrypt(e164.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise ValueError("phone number ciphertext cannot be decrypted with the configured keys") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the newest key (run after adding a key to the front)."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")

    def blind_index(self, e164: str) -> str:
        """Deterministic HMAC-SHA256 of the E.164 number: equal numbers → equal index."""
        return hmac.new(self._index_key, e164.encode(), hashlib.sha256).hexdigest()
