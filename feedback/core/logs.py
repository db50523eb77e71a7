"""Structured logging that never shows a phone number in clear or a secret.

Why a filter on the root handler: log lines come from our code and from libraries (uvicorn,
twilio, httpx); masking at the sink catches them all.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# +46701234512 → +4670*****12 ; also 070-123 45 12 style national numbers.
_PHONE_RE = re.compile(r"(?<![\w])(\+\d{4})[\d\s-]{4,}?(\d{2})(?![\w])")
_NATIONAL_RE = re.compile(r"(?<![\w+])(0\d{2})[\s-]?\d{3}[\s-]?\d{2}[\s-]?(\d{2})(?![\w])")
_PERSONNUMMER_RE = re.compile(r"(?<!\d)(?:\d{2})?\d{6}[-+]?\d{4}(?!\d)")
# Invitation links carry their secret in the path (access logs print paths).
_INVITATION_PATH = re.compile(r"(/invitation/)[A-Za-z0-9_\-]+")
_SECRET_KEYS = re.compile(r"(?i)(auth[_-]?token|password|secret|api[_-]?key|token)=([^&\s]+)")


def mask_phone(value: str) -> str:
    """Mask an E.164 number: keep country+operator prefix and the last two digits."""
    digits = value.strip()
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:5] + "*" * (len(digits) - 7) + digits[-2:]


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    text = _PERSONNUMMER_RE.sub("[PERSONNUMMER]", text)
    text = _PHONE_RE.sub(lambda m: m.group(1) + "*****" + m.group(2), text)
    text = _NATIONAL_RE.sub(lambda m: m.group(1) + "*****" + m.group(2), text)
    text = _SECRET_KEYS.sub(lambda m: m.group(1) + "=***", text)
    text = _INVITATION_PATH.sub(lambda m: m.group(1) + "***", text)
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, "***")
    return text


class ScrubbingFilter(logging.Filter):
    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = scrub(message, self.secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def _scrubbing_record_factory(secrets: tuple[str, ...]) -> Callable[..., logging.LogRecord]:
    """Scrub every record as it is created, before any handler sees it.

    Why not only the filter on our handler: a framework or library may replace the root handlers
    after start-up (Litestar's default logging config once did exactly that, and the access log
    then printed invitation tokens). Records are created by ``Logger.makeRecord`` whatever the
    handlers are, so this holds however logging is reconfigured later.
    """
    base = logging.getLogRecordFactory()
    if getattr(base, "scrubs", False):
        base = base.base  # type: ignore[attr-defined]
    scrubber = ScrubbingFilter(secrets)

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        scrubber.filter(record)
        return record

    factory.scrubs = True  # type: ignore[attr-defined]
    factory.base = base  # type: ignore[attr-defined]
    return factory


def configure_logging(
    level: str = "INFO", *, json_lines: bool = False, secrets: tuple[str, ...] = ()
) -> None:
    logging.setLogRecordFactory(_scrubbing_record_factory(secrets))
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ScrubbingFilter(secrets))
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # twilio's HTTP client logs every request at INFO (URL, query, headers): eight lines per SMS,
    # and the query of a lookup carries the recipient's number. Its warnings still show.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
