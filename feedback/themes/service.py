"""Registering open text for theming (called by surveys and the panel in their transaction)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.themes.models import Channel, OpenText, ThemingStatus


def respondent_key(secret: str, kind: str, ident: str | uuid.UUID) -> str:
    """A stable pseudonym for counting distinct respondents without storing who they are."""
    return hmac.new(secret.encode(), f"{kind}:{ident}".encode(), hashlib.sha256).hexdigest()[:40]


def _default_redact(text: str) -> str:
    from nlp.redact import redact

    return redact(text)


async def register_open_text(
    session: AsyncSession,
    *,
    channel: Channel | str,
    source_ref: str,
    unit_id: uuid.UUID,
    respondent_key: str,
    text: str,
    received_at: datetime,
    language: str | None = None,
    wave_days: int | None = None,
    closure_reason: str | None = None,
    question_key: str | None = None,
    quote_consent: bool = False,
    redact: Callable[[str], str] = _default_redact,
) -> OpenText:
    """Redact ``text`` and store it for theming; a second call for the same source updates it.

    The raw text never reaches the database: redaction happens here, before the row exists.
    The worker's theming job picks up rows in status ``pending``.
    """
    redacted = redact(text).strip()
    existing = await session.scalar(sa.select(OpenText).where(OpenText.source_ref == source_ref))
    if existing is not None:
        if existing.text_redacted != redacted:
            existing.text_redacted = redacted
            existing.status = ThemingStatus.PENDING
            existing.attempts = 0
        existing.quote_consent = quote_consent
        await session.flush()
        return existing
    row = OpenText(
        channel=Channel(channel),
        source_ref=source_ref,
        unit_id=unit_id,
        respondent_key=respondent_key,
        text_redacted=redacted,
        received_at=received_at,
        language=language,
        wave_days=wave_days,
        closure_reason=closure_reason,
        question_key=question_key,
        quote_consent=quote_consent,
    )
    session.add(row)
    await session.flush()
    return row
