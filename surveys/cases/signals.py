"""Which replies need a person to act (pure): "ring mig", crisis words, a very low score.

Why a word list and not the theme model: the inner loop must be predictable and explainable to
a caseworker ("opened because the reply said 'vräkning'"), and it must work with the NLP off.
"""

from __future__ import annotations

import re
import unicodedata

from surveys.cases.models import CaseTrigger

CALL_ME = re.compile(
    r"\b(ring(a)? mig|ring upp|kan (ni|du) ringa|vill (bli uppringd|prata med någon)|call me|ring me)\b",
    re.IGNORECASE,
)
CRISIS_TERMS = (
    r"orkar inte",
    r"vräk(ning|t|as|ta)",
    r"hot(ad|ade|as|et|ar|en)?",
    r"våld",
    r"slår mig",
    r"misshandl\w*",
    r"självmord\w*",
    r"ta livet av mig",
    r"vill inte leva",
    r"vill dö",
    r"inget att äta",
    r"ingen mat",
    r"hemlös",
    r"bostadslös",
    r"sover ute",
)
CRISIS = re.compile(r"\b(" + "|".join(CRISIS_TERMS) + r")\b", re.IGNORECASE)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


def crisis_words(text: str) -> list[str]:
    return [m.group(0).lower() for m in CRISIS.finditer(_norm(text))]


def triggers_for_reply(text: str) -> list[tuple[CaseTrigger, str]]:
    """Case triggers found in a raw reply, each with a short Swedish reason."""
    found: list[tuple[CaseTrigger, str]] = []
    if CALL_ME.search(_norm(text)):
        found.append((CaseTrigger.CALL_ME, "Personen bad om att bli uppringd."))
    words = crisis_words(text)
    if words:
        found.append((CaseTrigger.CRISIS, "Svaret innehöll: " + ", ".join(dict.fromkeys(words)) + "."))
    return found
