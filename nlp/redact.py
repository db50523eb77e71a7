"""Redact personal data from Swedish free text before anything else sees it.

Runs first on every open answer (SMS reply, phone note, panel reflection, case note); the text
pipeline (nlp.text) drops the placeholders. What is replaced, and by what:

==================  ================  ====================================================
kind                placeholder       how it is found
==================  ================  ====================================================
``personnummer``    ``[PERSONNUMMER]``  10 or 12 digits (``YYMMDD-NNNN``, ``YYYYMMDDNNNN``, ``+``
                                      for 100+, ``_``, ``.``, space or no separator) with a real month and
                                      day (samordningsnummer: day + 60). Luhn-valid numbers
                                      always; Luhn-invalid ones too when the shape leaves no
                                      doubt (a separator, or the century digits) — a mistyped
                                      personnummer is still a personnummer.
``telefon``         ``[TELEFON]``     phonenumbers' matcher (region SE, valid numbers) plus
                                      a pattern for Swedish shapes it may reject
                                      (``070-123 45 67``, ``+46 (0)70…``, ``0046…``), and
                                      6+ digits after a cue ("ring 123 45 67", "tel:")
``e-post``          ``[E-POST]``      ``local@domain.tld``
``adress``          ``[ADRESS]``      street names ending in -gatan/-vägen/-gränd/-torget/-allén …
                                      with a house number (``Storgatan 12B``, ``lgh 1102``), a
                                      capitalised street name without one, and postcodes with
                                      a town (``123 45 Ort``)
``namn``            ``[NAMN]``        first names and surnames from a shipped list
                                      (data/names_sv.txt) and context cues ("min handläggare
                                      X", "heter X", "kontakta X", "hon X", "mvh X", titles),
                                      surname shapes (-sson, -qvist, -ström …) next to a name
``nummer``          ``[NUMMER]``      any other run of 9 or more digits (account, case or
                                      reference numbers carry no theme meaning)
==================  ================  ====================================================

False positives matter too: names that are also everyday words ("Inga", "Klara", "Liv", "Berg",
"Per", "Tom", "Ville"; data/names_ambiguous_sv.txt) are only redacted with evidence
(capitalised inside a sentence, next to another name, or after a cue), and organisations
("Arbetsförmedlingen", "Försäkringskassan", "Socialtjänsten", "Kommunen") and place names are
never names.

Speed: precompiled patterns, frozenset look-ups, and phonenumbers' (slow) matcher only when the
text has at least 6 digits; a typical SMS answer takes well under 0.1 ms (about 0.1–0.2 ms when
it holds a phone number).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import phonenumbers

__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "Redaction",
    "Span",
    "is_personnummer",
    "luhn_ok",
    "redact",
    "redact_spans",
]

_DATA = Path(__file__).with_name("data")

PLACEHOLDERS: dict[str, str] = {
    "personnummer": "[PERSONNUMMER]",
    "telefon": "[TELEFON]",
    "e-post": "[E-POST]",
    "adress": "[ADRESS]",
    "namn": "[NAMN]",
    "nummer": "[NUMMER]",
}
KINDS: tuple[str, ...] = tuple(PLACEHOLDERS)
# When two findings overlap, the one with the lower rank wins.
_RANK = {"e-post": 0, "personnummer": 1, "telefon": 2, "adress": 3, "nummer": 4, "namn": 5}


@dataclass(frozen=True, slots=True)
class Span:
    """One finding: ``text[start:end]`` of the *original* text is personal data of ``kind``."""

    start: int
    end: int
    kind: str

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


@dataclass(frozen=True, slots=True)
class Redaction:
    """The redacted text and what was found (positions refer to the original text)."""

    text: str
    spans: tuple[Span, ...]

    @property
    def counts(self) -> dict[str, int]:
        """Findings per kind, for audit logs (never the values themselves)."""
        return dict(Counter(s.kind for s in self.spans))

    def __str__(self) -> str:
        return self.text


# ------------------------------------------------------------------ word lists
def _read_lines(name: str) -> list[str]:
    out = []
    for line in (_DATA / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


@cache
def _lists() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """(names, surnames, ambiguous names, names that are words in lower case, function words),
    all lower-cased."""
    names: set[str] = set()
    surnames: set[str] = set()
    for line in _read_lines("names_sv.txt"):
        name, _, kinds = line.partition("\t")
        low = name.lower()
        names.add(low)
        if "s" in kinds:
            surnames.add(low)
    ambiguous = {n.lower() for n in _read_lines("names_ambiguous_sv.txt")}
    lower_words = {w.lower() for w in _read_lines("names_lowercase_words_sv.txt")} | ambiguous
    function_words = {w.lower() for w in _read_lines("stopwords_sv.txt")}
    return (
        frozenset(names),
        frozenset(surnames),
        frozenset(ambiguous),
        frozenset(lower_words),
        frozenset(function_words),
    )


# Never names, whatever the context: organisations, services, places and words that follow cues.
_NOT_NAMES = frozenset(
    w.lower()
    for w in """
    Arbetsförmedlingen Arbetsförmedling AF Försäkringskassan Försäkringskassa FK Socialtjänsten
    Socialtjänst Socialen Soc Kommunen Kommun Region Regionen Skatteverket Migrationsverket CSN
    Kronofogden Kronofogdemyndigheten Polisen Vården Vårdcentralen Psykiatrin Beroendevården
    Jobbtorget Jobbtorg Komvux Vuxenutbildningen SFI Samhall Navigator Ungdomsmottagningen
    Försörjningsstöd Försörjningsstödet Ekonomiskt Bistånd Biståndet IFO Socialsekreteraren
    Handläggaren Handläggare Jobbcoachen Coachen Arbetskonsulenten Läkaren Doktorn Tolken
    Chefen Mamma Pappa Mamman Pappan Barnen Sambo Sambon Frun Mannen Killen Tjejen
    Rusta Matcha Lernia Manpower Randstad Adecco Uniflex Jobbspår Nystartsjobb Extratjänst
    Lönebidrag Introduktionsjobb Etableringsprogrammet Etableringen Fas Steg Kom Kvinnojouren
    Stadsmissionen Frälsningsarmén Röda Korset Kyrkan Moskén Budget Skuldrådgivningen
    ICA Coop Lidl Willys Hemköp Systembolaget IKEA Postnord Telia Tele2 Telenor Swish BankID
    Sverige Stockholm Göteborg Malmö Uppsala Västerås Örebro Linköping Helsingborg Jönköping
    Norrköping Lund Umeå Gävle Borås Mölndal Södertälje Eskilstuna Karlstad Halmstad Växjö
    Sundsvall Luleå Trollhättan Östersund Borlänge Falun Kalmar Kristianstad Skövde Uddevalla
    Nyköping Karlskrona Varberg Landskrona Motala Kiruna Visby Gotland Skåne Norrland Rinkeby
    Rosengård Angered Husby Tensta Hammarkullen Biskopsgården Gottsunda Vivalla Navestad
    Somalia Syrien Irak Iran Afghanistan Eritrea Turkiet Polen Finland Norge Danmark
    Måndag Tisdag Onsdag Torsdag Fredag Lördag Söndag Januari Februari Mars April Juni Juli
    Augusti September Oktober November December Jul Påsk Midsommar
    Allihopa Allihop Allesammans Alla Snälla Kära Gode Goda Igen Själv Hälsningar
    Hej Hejsan Tack Mvh Bra Okej OK Ja Nej Vi Ni Du Jag Hon Han Hen De Dom Man Sol Gud Allah
    """.split()
)

# Words after which a capitalised (or listed) word is taken to be a name.
_CUE_WORDS = frozenset(
    """
    handläggare handläggaren handläggarn handläggarna socialsekreterare socialsekreteraren
    socialsekreterarn soc-sekreterare jobbcoach jobbcoachen coach coachen arbetskonsulent
    arbetskonsulenten kontaktperson kontaktpersonen kurator kuratorn läkare läkaren doktor
    doktorn dr sjuksköterskan tolken chef chefen enhetschef enhetschefen mentor mentorn
    handledare handledaren lärare läraren praktikhandledare praktikhandledaren
    heter hette kallas kontakta kontaktade ring ringde ringa ringt mejla maila sms:a fråga
    fru herr hr mvh hälsningar hälsning vänliga tack hej hejsan
    """.split()
)
# Cues that only hold when the next word is capitalised ("hon Anna" vs "hon var").
_WEAK_CUES = frozenset("hon han min träffade".split())
_INTRO = frozenset(("är", "e"))
# Place names share -berg/-stad/-holm/-lund, so those count only next to a first name (pair rule).
_SURNAME_SHAPE = re.compile(r"(?:sson|qvist|kvist|ström|gren|stedt|ius)$")

# ------------------------------------------------------------------ patterns
_HAS_DIGIT = re.compile(r"\d")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
_PNR = re.compile(
    r"(?<![\d+])(?P<c>(?:18|19|20)\d{2}|\d{2})(?P<m>\d{2})(?P<d>\d{2})\s?(?P<sep>[-+–_.])?\s?(?P<s>\d{4})(?!\d)"
)
# Swedish national and international shapes; phonenumbers does the validation where it can.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?46\s?(?:\(0\)\s?)?[1-9]|0[1-9])(?:[\s\-/]?\d){6,9}(?!\d)"
    r"|(?<![\w+])\+\s?[1-9](?:[\s\-]?\d){7,13}(?!\d)"
)
# after a phone cue, any 6+ digits are a number to call ("ring 123 45 67", "tel: 12 34 56")
_PHONE_CUED = re.compile(
    r"(?i:\b(?:ring|ringa|ringer|tel|telefon|telefonnummer|mobil|mobilnummer|nummer|nr|nås\s+på|sms:a)\b)"
    r"[\s:.]*(?:på\s+|till\s+|mig\s+(?:på\s+)?)?(?P<num>\+?\d(?:[\s\-/]?\d){5,})(?!\d)"
)
_LONG_NUMBER = re.compile(r"(?<![\w])\d(?:[\s\-./]?\d){8,}(?!\d)")
_STREET_SUFFIX = (
    r"(?:gatan|gata|vägen|väg|gränd|gränden|allén|allé|alleen|stigen|backe|backen|torget|torg|kajen"
    r"|esplanaden|promenaden|slingan|stråket)"
)
_HOUSE_NO = r"\d{1,4}(?:[A-Za-z]|\s[A-H])?(?![\wåäöÅÄÖ])(?:\s*,?\s*(?:lgh|lägenhet)\.?\s*\d{3,4})?"
_UNIT_AFTER = (
    r"(?!\s*(?:dagar|dag|veckor|vecka|v\b|gånger|ggr|timmar|timme|tim|h\b|år|månader|mån|st\b|kr|kronor"
    r"|personer|pers|%|procent|min|minuter|sek)\b)"
)
_STREET_NUMBERED = re.compile(
    r"(?<![\wåäöÅÄÖ])(?:(?:[Nn]orra|[Ss]ödra|[Öö]stra|[Vv]ästra|[Gg]amla|[Ll]illa|[Ss]tora|[Nn]ya)\s)?"
    r"(?P<street>[A-Za-zÅÄÖåäöéÉ]{2,}"
    + _STREET_SUFFIX
    + r")\s+"
    + _HOUSE_NO
    + _UNIT_AFTER
    + r"(?![\d:.,]\d)",
)
# two words: "Gamla vägen 12", "Ekbackens gränd 3", "Norra Esplanaden 9", "Sergels torg 1"
_STREET_TWO_WORDS = re.compile(
    r"(?<![\wåäöÅÄÖ])(?P<first>[A-ZÅÄÖ][a-zåäöé]+)\s(?:[Vv]ägen|[Vv]äg|[Gg]atan|[Gg]ata|[Gg]ränd|[Tt]org|[Tt]orget"
    r"|[Aa]llé|[Aa]llén|[Bb]acke|[Ee]splanaden|[Pp]lan|[Kk]aj|[Ss]tig|[Pp]romenad|[Pp]ark|[Ss]tråket)\s+"
    + _HOUSE_NO
    + _UNIT_AFTER
    + r"(?![\d:.,]\d)",
)
_STREET_NAMED = re.compile(
    r"(?<![\wåäöÅÄÖ])(?:(?:Norra|Södra|Östra|Västra|Gamla|Lilla|Stora|Nya)\s)?"
    r"(?P<street>[A-ZÅÄÖ][a-zåäöé]{2,}"
    r"(?:gatan|vägen|gränd|gränden|allén|stigen|backe|backen|torget|kajen|esplanaden|promenaden|slingan|stråket))"
    r"(?![\wåäö])"
)
# Every _STREET_NAMED match ends in one of these (a literal alternation: fast to rule out)
_STREET_ENDINGS = (
    *("gatan", "vägen", "gränd", "allén", "stigen", "backe", "torget", "kajen", "esplanaden"),
    *("promenaden", "slingan", "stråket"),
)
_POSTCODE = re.compile(
    r"(?<![\d\w])(?:SE-?\s?)?[1-9]\d{2}\s?\d{2}(?!\d)\s+[A-ZÅÄÖ][a-zåäöé]+(?:[\s-][A-ZÅÄÖ][a-zåäöé]+)?"
)
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]+(?:-[A-Za-zÀ-ÖØ-öø-ÿ]+)*")
_SENTENCE_PUNCT = frozenset('.!?:;\n"”(')
# After a sentence-initial ambiguous name, these verbs show it is a person ("Klara sa att …").
_PERSON_VERBS = frozenset(
    """sa sade ringde ringer hjälpte hjälper lyssnade lyssnar skrev svarade förklarade tyckte
    gav fixade ordnade berättade frågade sms:ade mejlade lovade brydde fattade förstod""".split()
)
_FUNCTION_CAPS = frozenset("hela halva på i till från vi de jag hon han den det en ett samma andra".split())
_NON_STREET_WORDS = frozenset({"backen", "backe"})


# ------------------------------------------------------------------ personnummer
def luhn_ok(digits: str) -> bool:
    """Luhn checksum over a string of digits (the last digit is the check digit)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _date_ok(month: str, day: str) -> bool:
    m, d = int(month), int(day)
    if not 1 <= m <= 12:
        return False
    return 1 <= d <= 31 or 61 <= d <= 91  # samordningsnummer: day + 60


def is_personnummer(text: str) -> bool:
    """True if ``text`` is a Luhn-valid personnummer or samordningsnummer in any usual format."""
    m = _PNR.fullmatch(text.strip())
    if not m or not _date_ok(m["m"], m["d"]):
        return False
    return luhn_ok(m["c"][-2:] + m["m"] + m["d"] + m["s"])


def _personnummer(text: str, out: list[Span]) -> None:
    for m in _PNR.finditer(text):
        if not _date_ok(m["m"], m["d"]):
            continue
        century = len(m["c"]) == 4
        if luhn_ok(m["c"][-2:] + m["m"] + m["d"] + m["s"]) or m["sep"] or century:
            out.append(Span(m.start(), m.end(), "personnummer"))


# ------------------------------------------------------------------ phone numbers
def _phones(text: str, out: list[Span]) -> None:
    for found in phonenumbers.PhoneNumberMatcher(text, "SE"):
        out.append(Span(found.start, found.end, "telefon"))
    for m in _PHONE.finditer(text):
        out.append(Span(m.start(), m.end(), "telefon"))
    for m in _PHONE_CUED.finditer(text):
        out.append(Span(m.start("num"), m.end("num"), "telefon"))


# ------------------------------------------------------------------ addresses
def _addresses(text: str, out: list[Span]) -> None:
    for m in _STREET_NUMBERED.finditer(text):
        street = m["street"].casefold()
        if street in _NON_STREET_WORDS:
            continue
        out.append(Span(m.start(), m.end(), "adress"))
    for m in _STREET_TWO_WORDS.finditer(text):
        if m["first"].casefold() not in _FUNCTION_CAPS:
            out.append(Span(m.start(), m.end(), "adress"))
    for m in _STREET_NAMED.finditer(text):
        if m["street"].casefold() not in _NOT_NAMES:
            out.append(Span(m.start(), m.end(), "adress"))
    for m in _POSTCODE.finditer(text):
        out.append(Span(m.start(), m.end(), "adress"))


# ------------------------------------------------------------------ names
# "X var/är …" at the start of a sentence shows a person, unless X is an adjective or determiner
# ("Inga var hemma", "Klara besked", "Frisk var jag inte").
_COPULAS = frozenset(("var", "är", "blev"))
_NOT_WITH_COPULA = frozenset(
    "inga mina dina sanna hans klara rosa stark frisk modig rask flink urban juni maj del max liv bo dag mark hall".split()
)
_GREETING_CUES = frozenset(("tack", "hej", "hejsan", "vänliga", "ring", "ringa", "fråga"))


# Capitalised words (and, conservatively, capitals inside a word): a superset of the
# capitalised words ``_names`` sees, with the same extent.
_CAPITALISED = re.compile(r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ]*(?:-[A-Za-zÀ-ÖØ-öø-ÿ]+)*")


def _may_hold_names(text: str) -> bool:
    """False only when ``_names`` cannot mark anything in ``text`` (a cheap pre-check).

    ``_names`` marks a word only if (a) its lower-case form, or for a capitalised word that form
    without a genitive -s, is a listed name, or (b) it is capitalised, not sentence-initial and
    not an organisation, place or function word (the cue, "jag är X", "hon X" and surname-shape
    rules all need a word that does not start a sentence); every other mark (the same word
    elsewhere, pairs) needs a first mark. Most answers have neither and skip the per-word rules.
    """
    if not text:
        return False
    names, _, _, _, function_words = _lists()
    # words never span whitespace: the listed-name check is cached per whitespace-free chunk
    chunks = text.split()
    hits = list(map(_CHUNK_HOLDS_NAME.get, chunks))
    if None in hits:
        hits = list(map(_chunk_holds_name, chunks))
    if any(hits):
        return True
    for m in _CAPITALISED.finditer(text):
        tok = m.group()
        low = tok.lower()
        if len(low) > 3 and low[-1] == "s" and low[:-1] in names:
            return True
        if len(low) < 2 or low in _NOT_NAMES or tok.isupper() or low in function_words:
            continue
        if not _initial(text, m.start()):
            return True
    return False


_CHUNK_HOLDS_NAME: dict[str, bool] = {}


def _chunk_holds_name(chunk: str) -> bool:
    """Is the lower-case form of a word in ``chunk`` (text between whitespace) a listed name?"""
    hit = _CHUNK_HOLDS_NAME.get(chunk)
    if hit is None:
        # Latin-1 text lower-cases letter by letter within _WORD's alphabet, so its words can
        # be found after lower-casing; other text is split first
        words = (
            _WORD.findall(chunk.lower())
            if max(chunk) <= "\xff"
            else list(map(str.lower, _WORD.findall(chunk)))
        )
        hit = not _lists()[0].isdisjoint(words)
        if len(_CHUNK_HOLDS_NAME) >= 300_000:
            _CHUNK_HOLDS_NAME.clear()
        _CHUNK_HOLDS_NAME[chunk] = hit
    return hit


def _names(text: str, out: list[Span]) -> None:
    if not _may_hold_names(text):
        return
    _names_all(text, out)


def _names_all(text: str, out: list[Span]) -> None:
    names, surnames, ambiguous, lower_words, function_words = _lists()
    matches = list(_WORD.finditer(text))
    toks = [m.group() for m in matches]
    lows = [t.lower() for t in toks]
    n = len(toks)
    marked: set[int] = set()

    def cue_before(i: int, cues: frozenset[str]) -> bool:
        return i > 0 and lows[i - 1] in cues and _adjacent(text, matches[i - 1].end(), matches[i].start())

    for i, tok in enumerate(toks):
        low = lows[i]
        if not tok[0].isupper():
            # lower case (common in SMS): a listed name unless it is also an everyday word,
            # which needs a cue ("heter liv")
            if low in names and (
                low not in lower_words or (cue_before(i, _CUE_WORDS) and lows[i - 1] not in _GREETING_CUES)
            ):
                marked.add(i)
            continue
        if low in _NOT_NAMES or (len(tok) > 1 and tok.isupper()):
            continue
        cue = cue_before(i, _CUE_WORDS)
        initial = _initial(text, matches[i].start())
        base = low[:-1] if low[-1] == "s" and len(low) > 3 else ""  # genitive: "Annas"
        if low in names or (base in names and base not in ambiguous):
            nxt = lows[i + 1] if i + 1 < n else ""
            if (
                low not in ambiguous
                or not initial
                or cue
                or nxt in _PERSON_VERBS
                or (nxt in _COPULAS and low not in _NOT_WITH_COPULA)
            ):
                marked.add(i)
            continue
        if low in function_words or len(low) < 2:
            continue
        intro = i > 1 and lows[i - 2] == "jag" and cue_before(i, _INTRO)  # "jag är Svetlana"
        if cue or (not initial and (intro or cue_before(i, _WEAK_CUES))):
            marked.add(i)
        elif not initial and len(low) >= 6 and _SURNAME_SHAPE.search(low):
            marked.add(i)
    if not marked:
        return
    # the same capitalised word elsewhere in the answer is the same person ("Berg … Anna Berg")
    seen = {toks[i] for i in marked if toks[i][0].isupper()}
    marked.update(i for i, tok in enumerate(toks) if tok in seen)
    # pairs: a capitalised word right next to a name ("Anna Xyzberg", "Klara Andersson", "Berg, Anna")
    for _ in range(2):
        for i in range(n):
            if i in marked:
                continue
            tok, low = toks[i], lows[i]
            if not tok[0].isupper() or low in function_words or (len(tok) > 1 and tok.isupper()):
                continue
            if low in _NOT_NAMES and low not in surnames:
                continue
            if i - 1 in marked and _adjacent(text, matches[i - 1].end(), matches[i].start(), low in names):
                marked.add(i)
            elif (
                i + 1 in marked
                and low in names
                and _adjacent(text, matches[i].end(), matches[i + 1].start(), True)
            ):
                marked.add(i)
    for i in sorted(marked):
        out.append(Span(matches[i].start(), matches[i].end(), "namn"))


def _initial(text: str, start: int) -> bool:
    """Is the word at ``start`` the first of a sentence (or of the text)?"""
    j = start - 1
    while j >= 0 and text[j] in " \t\r":
        j -= 1
    return j < 0 or text[j] in _SENTENCE_PUNCT


def _adjacent(text: str, end: int, start: int, comma: bool = True) -> bool:
    """Only spaces, a hyphen or a slash (and, if ``comma``, a comma) between two words."""
    gap = text[end:start]
    return len(gap) <= 3 and gap.strip(" \t,/-" if comma else " \t/-") == ""


# ------------------------------------------------------------------ driver
def redact_spans(text: str, kinds: Iterable[str] | None = None) -> Redaction:
    """Find personal data in ``text`` and return the redacted text with what was found.

    ``kinds`` limits what is replaced (e.g. ``{"personnummer"}`` for text the writer alone reads);
    by default every kind in ``KINDS`` is.
    """
    if not text:
        return Redaction(text or "", ())
    found: list[Span] = []
    if "@" in text:
        for m in _EMAIL.finditer(text):
            found.append(Span(m.start(), m.end(), "e-post"))
    if _HAS_DIGIT.search(text):
        _personnummer(text, found)
        if sum(ch.isdigit() for ch in text) >= 6:
            _phones(text, found)
            for m in _LONG_NUMBER.finditer(text):
                found.append(Span(m.start(), m.end(), "nummer"))
        _addresses(text, found)
    elif any(ending in text for ending in _STREET_ENDINGS):  # substring scans beat one regex
        for m in _STREET_NAMED.finditer(text):
            if m["street"].casefold() not in _NOT_NAMES:
                found.append(Span(m.start(), m.end(), "adress"))
    _names(text, found)
    if kinds is not None:
        wanted = frozenset(kinds)
        unknown = wanted - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds: {sorted(unknown)}")
        found = [s for s in found if s.kind in wanted]
    if not found:
        return Redaction(text, ())
    # resolve overlaps: higher-priority kinds win, then the longer span
    found.sort(key=lambda s: (_RANK[s.kind], -(s.end - s.start), s.start))
    taken: list[Span] = []
    for s in found:
        if all(s.end <= t.start or s.start >= t.end for t in taken):
            taken.append(s)
    taken.sort(key=lambda s: s.start)
    parts: list[str] = []
    pos = 0
    for s in taken:
        parts.append(text[pos : s.start])
        parts.append(PLACEHOLDERS[s.kind])
        pos = s.end
    parts.append(text[pos:])
    return Redaction("".join(parts), tuple(taken))


def redact(text: str, kinds: Iterable[str] | None = None) -> str:
    """``text`` with personal data replaced by placeholders such as ``[NAMN]`` and ``[TELEFON]``."""
    return redact_spans(text, kinds).text
