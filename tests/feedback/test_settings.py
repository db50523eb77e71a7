from __future__ import annotations

import pytest

from feedback.settings import DEV_SECRET_KEY, Settings, SettingsError

STRONG = "x" * 40


def test_defaults_are_development_and_sqlite() -> None:
    settings = Settings.from_env({})
    assert settings.is_dev
    assert settings.database_url.startswith("sqlite+aiosqlite")
    assert settings.sms_gateway == "console"


def test_production_refuses_placeholder_keys() -> None:
    with pytest.raises(SettingsError, match="FEEDBACK_SECRET_KEY"):
        Settings.from_env({"FEEDBACK_ENV": "production"})
    with pytest.raises(SettingsError, match="FEEDBACK_DATA_KEY"):
        Settings.from_env({"FEEDBACK_ENV": "production", "FEEDBACK_SECRET_KEY": STRONG})


def test_production_accepts_real_keys_and_key_list() -> None:
    from cryptography.fernet import Fernet

    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = Settings.from_env(
        {
            "FEEDBACK_ENV": "production",
            "FEEDBACK_SECRET_KEY": STRONG,
            "FEEDBACK_DATA_KEY": f"{k1},{k2}",
            "FEEDBACK_INDEX_KEY": "y" * 40,
        }
    )
    assert settings.data_keys == (k1, k2)
    assert settings.cookie_secure


def test_secrets_are_not_in_repr() -> None:
    text = repr(Settings.from_env({"TWILIO_AUTH_TOKEN": "supersecret-token-value"}))
    assert DEV_SECRET_KEY not in text
    assert "supersecret-token-value" not in text


def test_twilio_gateway_needs_credentials() -> None:
    with pytest.raises(SettingsError, match="TWILIO_ACCOUNT_SID"):
        Settings.from_env({"FEEDBACK_SMS_GATEWAY": "twilio"})


def test_bad_values_are_reported() -> None:
    with pytest.raises(SettingsError, match="FEEDBACK_RETENTION_DAYS"):
        Settings.from_env({"FEEDBACK_RETENTION_DAYS": "ett år"})
    with pytest.raises(SettingsError, match="FEEDBACK_SMS_GATEWAY"):
        Settings.from_env({"FEEDBACK_SMS_GATEWAY": "pigeon"})
