"""Redact personal data from free text before anything is stored (SMS answers, phone notes, case notes).

All redaction goes through ``nlp.redact`` (personnummer, phone numbers, e-mail, addresses,
names); this module only keeps the name the survey services import, so there is one redactor
for every channel.
"""

from __future__ import annotations

from nlp.redact import redact


def redact_text(text: str) -> str:
    """Return ``text`` with personal identifiers replaced by placeholders such as ``[NAMN]``."""
    return redact(text)
