"""SMS encoding and segment count: GSM-7 (160/153 septets) or UCS-2 (70/67 UTF-16 units).

Why it matters: one character outside GSM 03.38 (an en dash, a curly quote, "…") switches the
whole message to UCS-2 and can double what a survey costs. Swedish letters å ä ö Å Ä Ö are in
GSM-7. ``check_template`` reports the offending characters with a suggested replacement so the
template editor can warn when a text is saved.
"""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 basic character set (one septet each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: escape + character, two septets each.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# Lookalikes that force UCS-2, with the GSM-7 text to use instead.
SUGGESTIONS: dict[str, str] = {
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2212": "-",  # minus sign
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2026": "...",
    "\u00a0": " ",  # no-break space
    "\u2009": " ",
    "\u202f": " ",
    "\u00b4": "'",
    "\u2022": "-",
}


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int

    @property
    def per_segment(self) -> int:
        if self.encoding == "gsm7":
            return GSM7_SINGLE if self.segments <= 1 else GSM7_PART
        return UCS2_SINGLE if self.segments <= 1 else UCS2_PART


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def segment_info(text: str) -> SegmentInfo:
    """How Twilio/operators will encode ``text`` and how many parts it will be billed as."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, part, encoding = GSM7_SINGLE, GSM7_PART, "gsm7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "ucs2"
    segments = 1 if units <= single else -(-units // part)
    return SegmentInfo(encoding, units, segments)


@dataclass(frozen=True)
class Offender:
    char: str
    position: int
    suggestion: str | None

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.char):04X}"


@dataclass(frozen=True)
class TemplateCheck:
    info: SegmentInfo
    offenders: tuple[Offender, ...]
    suggested_text: str | None  # the text with every replaceable character swapped
    suggested_info: SegmentInfo | None

    @property
    def ok(self) -> bool:
        return not self.offenders

    def message_sv(self) -> str:
        """A plain-Swedish explanation for the template editor (empty when all is well)."""
        if self.ok:
            return ""
        chars = ", ".join(f"”{o.char}”" if o.char.strip() else o.codepoint for o in self.offenders[:5])
        text = (
            f"Texten innehåller tecken som gör SMS:et dyrare ({chars}). "
            f"Den blir {self.info.segments} SMS-delar"
        )
        if self.suggested_info is not None and self.suggested_info.encoding == "gsm7":
            text += f" i stället för {self.suggested_info.segments}. Byt ut tecknen mot vanliga tecken"
            text += " (till exempel - i stället för – och ' i stället för ’)."
        else:
            text += ". Vissa tecken (till exempel emoji) kan inte bytas ut automatiskt."
        return text


def check_template(text: str) -> TemplateCheck:
    """Report characters that force UCS-2 and suggest GSM-7 replacements where there are any."""
    offenders = tuple(
        Offender(ch, i, SUGGESTIONS.get(ch))
        for i, ch in enumerate(text)
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION
    )
    info = segment_info(text)
    if not offenders:
        return TemplateCheck(info, (), None, None)
    suggested = "".join(SUGGESTIONS.get(ch, ch) for ch in text)
    return TemplateCheck(info, offenders, suggested, segment_info(suggested))
