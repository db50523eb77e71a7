from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from notifications.phone import InvalidPhoneNumber, PhoneVault, mask, normalise_mobile


@pytest.mark.parametrize(
    "raw",
    ["070-123 45 67", "0701234567", "+46 70 123 45 67", "0046701234567", " +46701234567 "],
)
def test_normalise_mobile_accepts_common_swedish_forms(raw: str) -> None:
    assert normalise_mobile(raw) == "+46701234567"


def test_normalise_mobile_keeps_foreign_mobile_numbers() -> None:
    assert normalise_mobile("+358 40 1234567") == "+358401234567"


@pytest.mark.parametrize(
    ("raw", "expected_word"),
    [
        ("08-123 456 78", "mobilnummer"),  # Stockholm landline
        ("", "mobilnummer"),
        ("hej hej", "läsa"),
        ("070-12", "finns inte"),
    ],
)
def test_normalise_mobile_rejects_with_swedish_message(raw: str, expected_word: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as info:
        normalise_mobile(raw)
    assert isinstance(info.value, ValueError)
    assert expected_word in info.value.message_sv


def test_mask_shows_only_prefix_and_last_two_digits() -> None:
    assert mask("+46701234512") == "+4670*****12"
    assert mask(None) == ""


def test_vault_round_trip_and_ciphertext_hides_number() -> None:
    vault = PhoneVault([Fernet.generate_key().decode()], "index-key-" + "x" * 30)
    token = vault.encrypt("+46701234567")
    assert "46701234567" not in token
    assert vault.decrypt(token) == "+46701234567"
    assert vault.encrypt("+46701234567") != token  # randomised


def test_vault_key_rotation_keeps_old_ciphertext_readable() -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old = PhoneVault([old_key], "i" * 32)
    token = old.encrypt("+46701234567")
    rotated_vault = PhoneVault([new_key, old_key], "i" * 32)
    assert rotated_vault.decrypt(token) == "+46701234567"
    rotated = rotated_vault.rotate(token)
    assert PhoneVault([new_key], "i" * 32).decrypt(rotated) == "+46701234567"
    with pytest.raises(ValueError):
        PhoneVault([new_key], "i" * 32).decrypt(token)


def test_blind_index_is_deterministic_and_keyed() -> None:
    key = Fernet.generate_key().decode()
    a = PhoneVault([key], "first-index-key-0000000000000000")
    b = PhoneVault([key], "other-index-key-0000000000000000")
    assert a.blind_index("+46701234567") == a.blind_index("+46701234567")
    assert a.blind_index("+46701234567") != a.blind_index("+46701234568")
    assert a.blind_index("+46701234567") != b.blind_index("+46701234567")
    assert len(a.blind_index("+46701234567")) == 64
