"""SMS text checks: segment count, encoding and discretion (pure).

Why here: an editor saving a question text must see at once what it costs (segments) and whether
one stray typographic character turns it into UCS-2 (70 characters per segment instead of 160),
and the platform must refuse wording that reveals that the person is a client (phones are
shared; OSL 26 kap.). The GSM-7 tables follow 3GPP TS 23.038 (basic set + extension table).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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


# ---------------------------------------------------------------- replies to signals
# Which help line each crisis kind needs (surveys.cases.signals.CrisisKind values).
HELP_LINE_FOR_KIND = {
    "suicide": "help_suicide",
    "partner_violence": "help_partner_violence",
    "illness": "help_illness",
}


def offered_languages() -> frozenset[str]:
    """Every language of the text catalogue (one data file each: ``surveys/texts/data``)."""
    from surveys.texts.shipped import languages

    return frozenset(languages())


def reply_language(registered: str | None, detected: str | None = None) -> str:
    """The person's registered language when we offer it, else the language they wrote in, else sv."""
    offered = offered_languages()
    for candidate in (registered, detected):
        if candidate and candidate in offered:
            return candidate
    return "sv"


def signal_reply(language: str, key: str) -> str:
    from surveys.questionnaires.defaults import SIGNAL_REPLIES

    return SIGNAL_REPLIES.get(language, SIGNAL_REPLIES["sv"]).get(key) or SIGNAL_REPLIES["sv"][key]


def crisis_keys(kinds: Iterable[str], call: str | None) -> list[str]:
    """Thanks, the help lines the crisis kinds need, 112, and when we call (``today``/``next_day``)."""
    wanted = set(kinds)
    keys = ["crisis_received"]
    keys += [line for kind, line in HELP_LINE_FOR_KIND.items() if kind in wanted]
    keys.append("help_112")
    if call is not None:
        keys.append(f"call_{call}")
    return keys


def crisis_acknowledgement(language: str, kinds: Iterable[str], call: str | None) -> str:
    """The shipped acknowledgement (the conversation uses the catalogue with the admins' edits)."""
    return " ".join(signal_reply(language, key) for key in crisis_keys(kinds, call))
