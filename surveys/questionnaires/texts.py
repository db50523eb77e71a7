"""SMS text checks: segment count, encoding and discretion (pure).

Why here: an editor saving a question text must see at once what it costs (segments) and whether
one stray typographic character turns it into UCS-2 (70 characters per segment instead of 160),
and the platform must refuse wording that reveals that the person is a client (phones are
shared; OSL 26 kap.). The GSM-7 tables follow 3GPP TS 23.038 (basic set + extension table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

# Words that must never appear in an SMS: they reveal the relationship to social services.
INDISCREET_PATTERNS = (
    r"socialtj[äa]nst",
    r"f[öo]rs[öo]rjningsst[öo]d",
    r"ekonomiskt\s+bist[åa]nd",
    r"socialbidrag",
    r"socialsekreterare",
    r"socialkontor",
)
_INDISCREET = re.compile("|".join(INDISCREET_PATTERNS), re.IGNORECASE)


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    length: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    ucs2_chars: tuple[str, ...]  # the characters that forced UCS-2, in order of appearance


def segment_info(text: str) -> SegmentInfo:
    """Count SMS segments the way carriers do (concatenated parts carry a 6/7-byte header)."""
    offending = tuple(dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION))
    if not offending:
        septets = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        segments = 1 if septets <= 160 else -(-septets // 153)
        return SegmentInfo("GSM-7", septets, max(segments, 1), ())
    units = len(text.encode("utf-16-le")) // 2
    segments = 1 if units <= 70 else -(-units // 67)
    return SegmentInfo("UCS-2", units, max(segments, 1), offending)


def indiscreet_words(text: str) -> list[str]:
    """Words in ``text`` that must not be sent by SMS (empty list = discreet)."""
    return [m.group(0) for m in _INDISCREET.finditer(text)]


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` placeholders; unknown ones stay visible so a reviewer notices them."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)
