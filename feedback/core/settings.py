"""Application settings, read once from the environment by the CLI and passed around as data.

Why a frozen dataclass and not a module-level instance: tests and the worker build settings from
plain dicts, so nothing in the code base ever reads ``os.environ`` at import time.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./feedback.db"

# Development placeholders. ``Settings.from_env`` refuses them outside development so a
# production deployment can never run on keys that are published in this repository.
DEV_SECRET_KEY = "dev-secret-key-not-for-production-0000000000"  # noqa: S105 - refused in production
DEV_DATA_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"uppfoljning-dev-data-key").digest()).decode()
DEV_INDEX_KEY = "dev-index-key-not-for-production-0000000000"
PLACEHOLDER_VALUES = frozenset({DEV_SECRET_KEY, DEV_DATA_KEY, DEV_INDEX_KEY, "", "changeme", "change-me"})

SMS_GATEWAYS = ("console", "twilio", "fake")
ENVIRONMENTS = ("development", "test", "production")
API_RATE_WINDOWS = ("second", "minute", "hour", "day")


class SettingsError(ValueError):
    """Raised when the environment describes an unusable or unsafe configuration."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"not a boolean: {value!r}")


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything the app, worker and CLI need to know about their surroundings."""

    environment: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    # SQLite only: how long a writer waits for the lock, and how often a page's or the worker's
    # transaction is re-run after "database is locked" before the user gets a 503.
    database_busy_timeout_ms: int = 10_000
    database_lock_attempts: int = 3
    # Web app's connection pool: this many connections (and as many again in overflow); a request
    # that waits longer than the timeout for one gets a 503 "busy" page instead of hanging.
    database_pool_size: int = 10
    database_pool_timeout_s: float = 10.0
    secret_key: str = field(default=DEV_SECRET_KEY, repr=False)
    # Fernet keys, newest first: the first encrypts, all decrypt (key rotation).
    data_keys: tuple[str, ...] = field(default=(DEV_DATA_KEY,), repr=False)
    # HMAC key for the blind index of phone numbers; separate from data keys so rotating the
    # encryption key does not invalidate every lookup.
    index_key: str = field(default=DEV_INDEX_KEY, repr=False)
    public_url: str = "http://127.0.0.1:8000"
    sms_gateway: str = "console"
    twilio_account_sid: str = ""
    twilio_auth_token: str = field(default="", repr=False)
    twilio_from: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base_url: str = ""  # only for the bundled fake Twilio (dev/test)
    sms_validity_period_s: int = 14400
    twilio_timeout_s: float = 10.0
    fake_twilio_port: int = 0  # in-process fake Twilio (sms_gateway "fake"); 0 = any free port
    webhook_max_body_bytes: int = 65_536
    bench_bare_endpoint: bool = False  # benchmarks only: adds a bare public endpoint as a baseline
    sms_rate_segments_per_s: float = 0.0  # per sender and worker; 0 = no limit
    sms_reconcile_grace_s: int = 1800  # wait this long before trusting "provider has no record"
    sms_reminder_hours: int = 48  # one reminder this long after an unanswered survey question
    sms_sender_name: str = "Kommunen"  # how survey texts name the sender ("{sender}")
    model_dir: Path = Path("var/models")
    retention_days: int = 365
    contact_min_gap_days: int = 14  # fatigue cap: at most one contact per N days (waves, panel, calls)
    log_level: str = "INFO"
    log_json: bool = False
    session_max_age_s: int = 8 * 3600  # idle: renewed by use
    session_absolute_max_s: int = 12 * 3600  # from sign-in, however active: then sign in again
    # Proxies whose X-Forwarded-For is believed (addresses or networks); empty = none, the peer
    # address is the client. Nothing is trusted for being on loopback.
    trusted_proxies: tuple[str, ...] = ()
    cookie_secure: bool = False
    max_request_body_bytes: int = 1_048_576
    login_max_failures: int = 5  # failed logins per account and per client before a lock
    login_lock_minutes: int = 15
    invitation_ttl_hours: int = 72
    start_worker_in_app: bool = False
    # Integration API: calls per API key and window ("second", "minute", "hour" or "day").
    api_rate_limit: int = 120
    api_rate_window: str = "minute"
    dev_tools: bool = False  # time travel, dev phone page: only with the fake gateway in development
    # Staff sign-in. Local passwords: on for the demo; a real deployment turns them off and uses
    # the municipality's OpenID Connect provider (panel members always use their own password).
    local_passwords: bool = True
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    oidc_scopes: str = "openid email profile"
    oidc_groups_claim: str = "groups"  # the claim the admin's role/unit mapping reads by default

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def is_dev(self) -> bool:
        return self.environment in {"development", "test"}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with some fields changed (tests, CLI options)."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from an environment mapping and refuse unsafe production values."""
        environment = environ.get("FEEDBACK_ENV", "development").strip().lower()
        if environment not in ENVIRONMENTS:
            raise SettingsError(f"FEEDBACK_ENV must be one of {', '.join(ENVIRONMENTS)}")
        is_dev = environment != "production"
        data_keys_raw = environ.get("FEEDBACK_DATA_KEY", "")
        data_keys = tuple(k.strip() for k in data_keys_raw.split(",") if k.strip()) or (DEV_DATA_KEY,)
        gateway = environ.get("FEEDBACK_SMS_GATEWAY", "console").strip().lower()
        if gateway not in SMS_GATEWAYS:
            raise SettingsError(f"FEEDBACK_SMS_GATEWAY must be one of {', '.join(SMS_GATEWAYS)}")
        settings = cls(
            environment=environment,
            database_url=environ.get("FEEDBACK_DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_key=environ.get("FEEDBACK_SECRET_KEY", DEV_SECRET_KEY),
            data_keys=data_keys,
            index_key=environ.get("FEEDBACK_INDEX_KEY", DEV_INDEX_KEY),
            public_url=environ.get("FEEDBACK_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            sms_gateway=gateway,
            twilio_account_sid=environ.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=environ.get("TWILIO_AUTH_TOKEN", ""),
            twilio_from=environ.get("TWILIO_FROM", ""),
            twilio_messaging_service_sid=environ.get("TWILIO_MESSAGING_SERVICE_SID", ""),
            twilio_api_base_url=environ.get("FEEDBACK_TWILIO_API_BASE_URL", ""),
            sms_validity_period_s=_int(environ, "FEEDBACK_SMS_VALIDITY_PERIOD_S", 14400),
            twilio_timeout_s=float(_int(environ, "FEEDBACK_TWILIO_TIMEOUT_S", 10)),
            fake_twilio_port=_int(environ, "FEEDBACK_FAKE_TWILIO_PORT", 0),
            webhook_max_body_bytes=_int(environ, "FEEDBACK_WEBHOOK_MAX_BODY_BYTES", 65_536),
            bench_bare_endpoint=_bool(environ.get("FEEDBACK_BENCH_BARE_ENDPOINT"), False),
            sms_rate_segments_per_s=float(_int(environ, "FEEDBACK_SMS_RATE_SEGMENTS_PER_S", 0)),
            sms_reconcile_grace_s=_int(environ, "FEEDBACK_SMS_RECONCILE_GRACE_S", 1800),
            sms_reminder_hours=_int(environ, "FEEDBACK_SMS_REMINDER_HOURS", 48),
            sms_sender_name=environ.get("FEEDBACK_SMS_SENDER_NAME", "Kommunen").strip() or "Kommunen",
            model_dir=Path(environ.get("FEEDBACK_MODEL_DIR", "var/models")),
            retention_days=_int(environ, "FEEDBACK_RETENTION_DAYS", 365),
            contact_min_gap_days=_int(environ, "FEEDBACK_CONTACT_MIN_GAP_DAYS", 14),
            database_busy_timeout_ms=_int(environ, "FEEDBACK_DATABASE_BUSY_TIMEOUT_MS", 10_000),
            database_lock_attempts=_int(environ, "FEEDBACK_DATABASE_LOCK_ATTEMPTS", 3),
            database_pool_size=_int(environ, "FEEDBACK_DATABASE_POOL_SIZE", 10),
            database_pool_timeout_s=float(_int(environ, "FEEDBACK_DATABASE_POOL_TIMEOUT_S", 10)),
            log_level=environ.get("FEEDBACK_LOG_LEVEL", "INFO").upper(),
            log_json=_bool(environ.get("FEEDBACK_LOG_JSON"), not is_dev),
            session_max_age_s=_int(environ, "FEEDBACK_SESSION_MAX_AGE_S", 8 * 3600),
            session_absolute_max_s=_int(environ, "FEEDBACK_SESSION_ABSOLUTE_MAX_S", 12 * 3600),
            trusted_proxies=tuple(
                p.strip() for p in environ.get("FEEDBACK_TRUSTED_PROXIES", "").split(",") if p.strip()
            ),
            cookie_secure=_bool(environ.get("FEEDBACK_COOKIE_SECURE"), not is_dev),
            max_request_body_bytes=_int(environ, "FEEDBACK_MAX_REQUEST_BODY_BYTES", 1_048_576),
            login_max_failures=_int(environ, "FEEDBACK_LOGIN_MAX_FAILURES", 5),
            login_lock_minutes=_int(environ, "FEEDBACK_LOGIN_LOCK_MINUTES", 15),
            invitation_ttl_hours=_int(environ, "FEEDBACK_INVITATION_TTL_HOURS", 72),
            start_worker_in_app=_bool(environ.get("FEEDBACK_WORKER_IN_APP"), False),
            dev_tools=_bool(environ.get("FEEDBACK_DEV_TOOLS"), False) and is_dev,
            local_passwords=_bool(environ.get("FEEDBACK_LOCAL_PASSWORDS"), True),
            oidc_issuer=environ.get("FEEDBACK_OIDC_ISSUER", "").strip().rstrip("/"),
            oidc_client_id=environ.get("FEEDBACK_OIDC_CLIENT_ID", "").strip(),
            oidc_client_secret=environ.get("FEEDBACK_OIDC_CLIENT_SECRET", ""),
            oidc_scopes=environ.get("FEEDBACK_OIDC_SCOPES", "").strip() or "openid email profile",
            oidc_groups_claim=environ.get("FEEDBACK_OIDC_GROUPS_CLAIM", "").strip() or "groups",
            api_rate_limit=_int(environ, "FEEDBACK_API_RATE_LIMIT", 120),
            api_rate_window=environ.get("FEEDBACK_API_RATE_WINDOW", "minute").strip().lower(),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse placeholder secrets in production and incomplete Twilio configuration."""
        if not self.is_dev:
            if self.secret_key in PLACEHOLDER_VALUES or len(self.secret_key) < 32:
                raise SettingsError("FEEDBACK_SECRET_KEY must be set to a random value of 32+ characters")
            if any(k in PLACEHOLDER_VALUES for k in self.data_keys):
                raise SettingsError(
                    "FEEDBACK_DATA_KEY must be set (Fernet key; comma-separated for rotation)"
                )
            if self.index_key in PLACEHOLDER_VALUES or len(self.index_key) < 32:
                raise SettingsError("FEEDBACK_INDEX_KEY must be set to a random value of 32+ characters")
            if self.sms_gateway == "fake":
                raise SettingsError("the fake SMS gateway is for development only")
        if bool(self.oidc_issuer) != bool(self.oidc_client_id):
            raise SettingsError("FEEDBACK_OIDC_ISSUER and FEEDBACK_OIDC_CLIENT_ID go together")
        if self.oidc_enabled and "openid" not in self.oidc_scopes.split():
            raise SettingsError("FEEDBACK_OIDC_SCOPES must include openid")
        if not self.is_dev and self.oidc_issuer and not self.oidc_issuer.startswith("https://"):
            raise SettingsError("FEEDBACK_OIDC_ISSUER must be an https:// URL in production")
        if not self.local_passwords and not self.oidc_enabled:
            raise SettingsError("FEEDBACK_LOCAL_PASSWORDS=0 needs single sign-on (FEEDBACK_OIDC_ISSUER …)")
        if self.api_rate_window not in API_RATE_WINDOWS or self.api_rate_limit < 1:
            raise SettingsError(
                "FEEDBACK_API_RATE_LIMIT must be 1 or more and FEEDBACK_API_RATE_WINDOW one of "
                + ", ".join(API_RATE_WINDOWS)
            )
        if self.database_pool_size < 1 or self.database_pool_timeout_s <= 0:
            raise SettingsError(
                "FEEDBACK_DATABASE_POOL_SIZE and FEEDBACK_DATABASE_POOL_TIMEOUT_S must be positive"
            )
        if self.sms_gateway == "twilio":
            missing = [
                name
                for name, value in (
                    ("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                    ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
                )
                if not value
            ]
            if not (self.twilio_from or self.twilio_messaging_service_sid):
                missing.append("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")
            if missing:
                raise SettingsError(f"the twilio gateway needs {', '.join(missing)}")
