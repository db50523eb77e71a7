"""Parse and validate one reply to one question (pure: no database, no I/O).

Why pure: the same parser serves the SMS conversation, the caseworker's phone form and a web
form, and the state machine that decides "re-prompt or move on" must be testable without a
database. A reply either becomes a ``Parsed`` value or an ``Invalid`` with a Swedish reason
that the conversation uses to choose its re-prompt.

Digits are accepted in any script (Arabic-Indic ``٣``, Eastern Arabic/Persian ``۳``,
full-width ``３``): newcomers reply with the keyboard they have.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field


class QuestionKind(enum.StrEnum):
    CHOICE = "choice"  # numeric keys 1..n mapped to values
    SCALE = "scale"  # 1-5, optionally 0 = vet inte
    YES_NO = "yes_no"  # JA/NEJ and common variants
    FREE_TEXT = "free_text"  # own words (redacted before storage)


SCALE_MIN = 1
SCALE_MAX = 5
DONT_KNOW_KEY = 0

# Arabic letters written in several ways (hamza forms, alef maqsura, taa marbuta) are one
# letter here, and short-vowel marks and the stretching tatweel are dropped: "نَعَم" is "نعم".
_ARABIC_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "\u0640": None})
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670]")


def normalise_letters(text: str) -> str:
    """Arabic spelling variants unified, vowel marks dropped (other scripts unchanged)."""
    return _ARABIC_MARKS.sub("", text.translate(_ARABIC_VARIANTS))


def _words(*groups: str) -> frozenset[str]:
    return frozenset(normalise_letters(w) for group in groups for w in group.split("|"))


# Yes/no/"vet inte" in every offered language: sv and lätt svenska, en, ar (standard and
# common spoken forms), so. Extend here when a language is added (its texts are data files).
YES_WORDS = _words(
    "ja|j|jo|japp|jepp|jajamen|jajjemen|jadå|javisst|absolut",  # sv
    "yes|y|yeah|yep|ok|okej|okay|sure",  # en
    "نعم|ايوه|أيوه|ايوا|اي|اجل|أجل|بلى|طبعا|اكيد|موافق",  # ar
    "haa|haa'|haah|haan|haye|waa haa",  # so
)
NO_WORDS = _words(
    "nej|n|nä|nää|näe|nix|inte|icke",  # sv
    "no|nope|nah",  # en
    "لا|كلا|لأ|ابدا|أبدا",  # ar
    "maya|mayo|maaya|maya'",  # so
)
DONT_KNOW_WORDS = _words(
    "vet inte|vet ej|vetinte|ingen aning|kan inte bedöma|kan inte säga",  # sv
    "dont know|don't know|idk|not sure|no idea",  # en
    "لا اعرف|لا أعرف|ما بعرف|ما اعرف|مش عارف|لست متأكدا|لا ادري|لا أدري",  # ar
    "ma aqaan|ma garanayo|garan maayo|ma hubo|aqoon maayo",  # so
)
# Free-text replies that mean "skip this question" (the SMS text says "Svara 0 om du vill hoppa över").
SKIP_WORDS = _words(
    "0|hoppa över|hoppa|pass|-|inget|ingenting|nej tack",  # sv
    "skip|nothing|no thanks",  # en
    "تخطي|تخطى|تجاوز|لا شيء|لا شي|لا شكرا",  # ar
    "ka bood|iska dhaaf|waxba|maya mahadsanid",  # so
)


@dataclass(frozen=True)
class Choice:
    key: int
    value: str  # language-neutral value stored, e.g. "working"
    label_sv: str = ""


@dataclass(frozen=True)
class QuestionSpec:
    """What the parser needs to know about a question (built from the database row)."""

    key: str
    kind: QuestionKind
    choices: tuple[Choice, ...] = ()
    allow_dont_know: bool = False
    allow_skip: bool = False  # free text: "0" skips
    required: bool = True


@dataclass(frozen=True)
class Parsed:
    """A valid answer. ``value`` is language-neutral ("4", "yes", "working", the text)."""

    value: str | None
    numeric: int | None = None
    dont_know: bool = False
    skipped: bool = False
    # SKR "andel positiva svar": True/False inside the base, None outside it (vet inte, choice, text).
    is_positive: bool | None = None
    text: str | None = None  # free text as written (the caller redacts before storing)
    flags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Invalid:
    """Not understood; ``reason_sv`` is shown to caseworkers and decides the SMS re-prompt."""

    reason_sv: str


ParseResult = Parsed | Invalid


def normalise_digits(text: str) -> str:
    """Turn every Unicode decimal digit (Arabic-Indic, Persian, full-width …) into ASCII 0-9."""
    out = []
    for ch in text:
        if ch.isdecimal() and not ("0" <= ch <= "9"):
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(ch)
    return "".join(out)


def _clean(text: str) -> str:
    text = normalise_letters(unicodedata.normalize("NFC", normalise_digits(text))).strip().lower()
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .!?,;:\"'()،؟")


_LEADING_NUMBER = re.compile(r"^(\d{1,2})(?:\s|$|[.,)!:-])")


def _leading_number(clean: str) -> int | None:
    match = _LEADING_NUMBER.match(clean + " ")
    return int(match.group(1)) if match else None


def is_positive_scale(value: int) -> bool:
    """SKR's top-2-box: 4 and 5 are positive on a 1-5 scale."""
    return value >= 4


def parse_answer(spec: QuestionSpec, raw: str) -> ParseResult:
    """Parse ``raw`` as an answer to ``spec``."""
    clean = _clean(raw or "")
    if spec.kind is QuestionKind.FREE_TEXT:
        return _parse_free_text(spec, raw or "", clean)
    if not clean:
        return Invalid("Svaret var tomt.")
    if spec.kind is QuestionKind.CHOICE:
        return _parse_choice(spec, clean)
    if spec.kind is QuestionKind.SCALE:
        return _parse_scale(spec, clean)
    return _parse_yes_no(spec, clean)


def _parse_choice(spec: QuestionSpec, clean: str) -> ParseResult:
    number = _leading_number(clean)
    by_key = {c.key: c for c in spec.choices}
    if number is not None and number in by_key:
        choice = by_key[number]
        return Parsed(value=choice.value, numeric=number)
    for choice in spec.choices:  # a reply spelling out the label ("studerar") is understood too
        if choice.label_sv and clean == choice.label_sv.lower():
            return Parsed(value=choice.value, numeric=choice.key)
    keys = sorted(by_key)
    return Invalid(f"Svara med en siffra {keys[0]}-{keys[-1]}.")


def _parse_scale(spec: QuestionSpec, clean: str) -> ParseResult:
    reason = "Svara med en siffra 1-5" + (" eller 0 = vet inte." if spec.allow_dont_know else ".")
    if spec.allow_dont_know and clean in DONT_KNOW_WORDS:
        return Parsed(value="dont_know", numeric=DONT_KNOW_KEY, dont_know=True)
    number = _leading_number(clean)
    if number is None:
        return Invalid(reason)
    if number == DONT_KNOW_KEY and spec.allow_dont_know:
        return Parsed(value="dont_know", numeric=DONT_KNOW_KEY, dont_know=True)
    if SCALE_MIN <= number <= SCALE_MAX:
        return Parsed(value=str(number), numeric=number, is_positive=is_positive_scale(number))
    return Invalid(reason)


def _parse_yes_no(spec: QuestionSpec, clean: str) -> ParseResult:
    first = re.split(r"[\s,.!?;:،؟]+", clean)[0]
    if clean in DONT_KNOW_WORDS:  # before the first word: "لا أعرف" starts with "لا" (no)
        return (
            Parsed(value="dont_know", dont_know=True)
            if spec.allow_dont_know
            else Invalid("Svara JA eller NEJ.")
        )
    if clean in YES_WORDS or first in YES_WORDS:
        return Parsed(value="yes", is_positive=True)
    if clean in NO_WORDS or first in NO_WORDS:
        return Parsed(value="no", is_positive=False)
    if spec.allow_dont_know and (clean in DONT_KNOW_WORDS or clean == "0"):
        return Parsed(value="dont_know", dont_know=True)
    return Invalid("Svara JA eller NEJ.")


def _parse_free_text(spec: QuestionSpec, raw: str, clean: str) -> ParseResult:
    if spec.allow_skip and clean in SKIP_WORDS:
        return Parsed(value=None, skipped=True)
    text = raw.strip()
    if not text:
        return Invalid("Skriv med egna ord, eller svara 0 för att hoppa över.")
    return Parsed(value="text", text=text[:2000])


def reprompt_hint_sv(spec: QuestionSpec) -> str:
    """The short instruction used in a re-prompt for this question type."""
    if spec.kind is QuestionKind.CHOICE:
        keys = sorted(c.key for c in spec.choices)
        return f"Svara med en siffra {keys[0]}-{keys[-1]}."
    if spec.kind is QuestionKind.SCALE:
        return "Svara med en siffra 0-5." if spec.allow_dont_know else "Svara med en siffra 1-5."
    if spec.kind is QuestionKind.YES_NO:
        return "Svara JA eller NEJ."
    return "Skriv med egna ord, eller svara 0 för att hoppa över."


# ---------------------------------------------------------------- quoting consent
# "May we quote what you wrote, without your name?" is asked after an open answer (SMS and
# phone). Why a parser of its own and not ``_parse_yes_no``: the answer is never re-prompted
# (a person who does not answer clearly has not consented, and the survey must go on), and a
# request to withdraw ("ta bort mitt citat") is a clear no here and a withdrawal anywhere else.
QUOTE_WITHDRAWAL_PHRASES = (
    # Swedish (the SMS texts say "skriv TA BORT CITAT")
    "ta bort citat", "ta bort citatet", "ta bort mitt citat", "ta bort mina citat", "radera mitt citat",
    "citera mig inte", "citera inte mig", "citera inte", "inga citat", "inget citat",
    "jag ångrar citatet", "ångrar citatet", "ångra citat",
    # English
    "remove quote", "remove my quote", "delete my quote", "do not quote me", "don't quote me", "dont quote me",
    "no quote", "no quotes",
    # Arabic ("delete my quote", "delete the quote", "do not quote me")
    "احذف اقتباسي", "احذف الاقتباس", "احذفوا اقتباسي", "لا تقتبس", "لا تقتبسوا",
    # Somali ("remove my quote", "remove the quote", "do not quote me")
    "ka saar xigashada", "ka saar xigashadayda", "ha i soo xigan", "ha soo xigan",
)  # fmt: skip


def _phrase_text(raw: str) -> str:
    """Lower case, Arabic letter variants unified, punctuation to spaces, single spaces."""
    text = unicodedata.normalize("NFKC", normalise_digits(raw or "")).casefold()
    text = normalise_letters(text)
    text = text.replace("\u2019", "'")
    text = re.sub(r"[^\w']+", " ", text)
    return " ".join(text.split())


_WITHDRAWAL = re.compile(
    r"(?:^| )(?:" + "|".join(re.escape(_phrase_text(p)) for p in QUOTE_WITHDRAWAL_PHRASES) + r")(?: |$)"
)


def is_quote_withdrawal(raw: str) -> bool:
    """True when the text asks us to stop quoting the person ("ta bort mitt citat", "remove quote")."""
    return bool(_WITHDRAWAL.search(_phrase_text(raw)))


def parse_quote_consent(raw: str) -> bool | None:
    """The reply to the quoting question: True (yes), False (no), None (unclear; counts as no).

    Accepts ja/nej, yes/no, 1/2 (1 = ja, 2 = nej), the offered languages' words (نعم/لا,
    haa/maya) and a yes or no as the first word ("ja gärna", "nej tack"). A withdrawal phrase is a
    clear no. Anything else, or a reply that holds both a yes and a no word, is unclear.
    """
    if is_quote_withdrawal(raw):
        return False
    text = _phrase_text(raw)
    if not text:
        return None
    words = text.split(" ")
    if text in {"1", "2"}:
        return text == "1"
    yes = text in YES_WORDS or words[0] in YES_WORDS
    no = text in NO_WORDS or words[0] in NO_WORDS or text in {"nej tack", "no thanks", "inte ok"}
    if yes and no:
        return None
    if yes:
        # "ja" followed by a "nej"/"inte" later ("ja, eller nej") is not a clear yes
        return None if any(w in NO_WORDS for w in words[1:]) else True
    if no:
        return False
    return None
