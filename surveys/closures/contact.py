"""Contact data for clients through notifications' phone helpers (normalise, encrypt, blind index).

Why an adapter: closures, the importer, the API and the purge job need the same three values per
number (ciphertext, blind index, mask) and the same Swedish error; notifications owns the crypto.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from feedback.core.errors import InvalidInput

if TYPE_CHECKING:
    from feedback.core.settings import Settings


@dataclass(frozen=True)
class ProtectedPhone:
    ciphertext: str
    index: str
    masked: str


class PhoneProtector(Protocol):
    def protect(self, raw: str) -> ProtectedPhone: ...

    def reveal(self, ciphertext: str) -> str: ...


class VaultPhoneProtector:
    """Normalise to E.164 (Swedish mobiles), encrypt with the data key, index with the index key."""

    def __init__(self, settings: Settings) -> None:
        from notifications.phone import PhoneVault

        self._vault = PhoneVault.from_settings(settings)

    def protect(self, raw: str) -> ProtectedPhone:
        from notifications.phone import InvalidPhoneNumber, mask, normalise_mobile

        try:
            e164 = normalise_mobile(raw)
        except InvalidPhoneNumber as exc:
            raise InvalidInput(exc.message_sv, field="phone") from exc
        return ProtectedPhone(self._vault.encrypt(e164), self._vault.blind_index(e164), mask(e164))

    def reveal(self, ciphertext: str) -> str:
        return self._vault.decrypt(ciphertext)
