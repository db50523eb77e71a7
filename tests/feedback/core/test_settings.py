from __future__ import annotations

import pytest

from feedback.core.settings import DEV_SECRET_KEY, Settings, SettingsError

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


def test_login_and_invitation_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            "FEEDBACK_LOGIN_MAX_FAILURES": "3",
            "FEEDBACK_LOGIN_LOCK_MINUTES": "30",
            "FEEDBACK_INVITATION_TTL_HOURS": "24",
        }
    )
    assert (settings.login_max_failures, settings.login_lock_minutes, settings.invitation_ttl_hours) == (
        3,
        30,
        24,
    )
    defaults = Settings.from_env({})
    assert (defaults.login_max_failures, defaults.login_lock_minutes, defaults.invitation_ttl_hours) == (
        5,
        15,
        72,
    )


def test_every_setting_is_documented_in_the_readme() -> None:
    """The README's configuration table lists every FEEDBACK_*/TWILIO_* variable the code reads."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    names = set(
        re.findall(r'"((?:FEEDBACK|TWILIO)_[A-Z0-9_]+)"', (root / "feedback/core/settings.py").read_text())
    )
    readme = (root / "README.md").read_text()
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert names and not missing, f"add these to the README configuration table: {missing}"
