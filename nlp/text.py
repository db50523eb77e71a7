"""Swedish text preparation for short open answers: normalise, tokenise, stem.

Why our own module: NLTK's Swedish tokenizers and stopword corpus need ``nltk_data`` downloads,
which we never do; its Snowball stemmer (the *old* Swedish algorithm) works offline but does not
strip the definite ``-et``/``-an`` endings ("stödet", "hälsan"), so the same concept would become
two features. Everything here is pure, deterministic and picklable (module-level functions only),
so scikit-learn vectorisers and process pools can use it.

Pipeline for one (already redacted) answer::

    normalise  NFC, casefold, emoji -> sentiment tokens, SMS artefacts and abbreviations
    tokenise   letters-only words (å, ä, ö, é, ü …); negations kept
    stems      stopwords dropped (negations are NOT stopwords), cached Snowball + overrides

``STEMMER_ID`` names the exact feature space; persist it with every model.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache, reduce
from importlib import resources
from itertools import pairwise
from operator import or_

from nltk.stem.snowball import SwedishStemmer

__all__ = [
    "EMOJI_NEG",
    "EMOJI_POS",
    "NEGATIONS",
    "STEMMER_ID",
    "STOPWORDS",
    "analyse",
    "analyse_bigrams",
    "compound_head",
    "normalise",
    "split_intensifier",
    "stem",
    "stems",
    "tokenise",
    "tokens",
]

STEMMER_ID = "nltk-snowball-swedish+uppfoljning-overrides-v1"

# Sentiment tokens that emoji and emoticons become; letters only, so they survive tokenising.
EMOJI_POS = "emojipositiv"
EMOJI_NEG = "emojinegativ"
_EMOJI_TOKENS = frozenset({EMOJI_POS, EMOJI_NEG})

NEGATIONS = frozenset({"inte", "icke", "ej", "ingen", "inget", "inga", "aldrig", "utan", "knappast"})

_DATA = resources.files("nlp") / "data"


def _load_wordlist(name: str) -> frozenset[str]:
    text = (_DATA / name).read_text(encoding="utf-8")
    words = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return frozenset(unicodedata.normalize("NFC", w).casefold() for w in words if w)


STOPWORDS: frozenset[str] = _load_wordlist("stopwords_sv.txt") - NEGATIONS

# ---------------------------------------------------------------------------------------------
# Normalisation

_POS_EMOJI = (
    "😀😃😄😁😆😊🙂😍🥰😘😗😙😚☺😇🤗🤩😌😎👍👌🙏❤♥💕💖💗💓💞💙💚💛🧡💜🤍💪🎉🥳✅⭐🌟✨👏🙌😻💯🔥🌞☀🌈"
)
_NEG_EMOJI = "😞😟😢😭😡😠🤬👎💔😩😫😤😒🙁☹😕😔😖😣😰😱🤮🤢😓😥😧😨😦😪😿💩🖕😬🙄😑😐🤦❌⛔"
_EMOTICON_POS = re.compile(r"(?:[:;=]-?[)D\]pP]+|<3+|\^_?\^)(?![\w])")
_EMOTICON_NEG = re.compile(r"(?:[:;=]'?-?[(\[/\\|]+|</3)(?![\w])")
_EMOJI_TABLE = {ord(c): f" {EMOJI_POS} " for c in _POS_EMOJI} | {ord(c): f" {EMOJI_NEG} " for c in _NEG_EMOJI}
# Anything else pictographic (flags, hands, objects, modifiers, joiners) is dropped.
_OTHER_SYMBOLS = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\ufe0f\ufe0e\u200d\U000e0000-\U000e007f]"
)
_REPEATED_LETTERS = re.compile(r"([a-zåäöéü])\1{2,}")
_REPEATED_PUNCT = re.compile(r"([!?.,])\1+")
_WHITESPACE = re.compile(r"\s+")

# SMS abbreviations and colloquial spellings -> standard Swedish words (after casefolding).
SMS_ABBREVIATIONS: dict[str, str] = {
    "af": "arbetsförmedlingen",
    "arbf": "arbetsförmedlingen",
    "arbetsförm": "arbetsförmedlingen",
    "fk": "försäkringskassan",
    "fkassan": "försäkringskassan",
    "soc": "socialtjänsten",
    "socialen": "socialtjänsten",
    "soccen": "socialtjänsten",
    "handl": "handläggare",
    "handläggarn": "handläggaren",
    "ngn": "någon",
    "nån": "någon",
    "ngt": "något",
    "nåt": "något",
    "nånting": "någonting",
    "ngnstans": "någonstans",
    "nånstans": "någonstans",
    "nånsin": "någonsin",
    "mkt": "mycket",
    "mkt.": "mycket",
    "jättemkt": "jättemycket",
    "pga": "på grund av",
    "iaf": "i alla fall",
    "ivf": "i varje fall",
    "iofs": "i och för sig",
    "dvs": "det vill säga",
    "bl": "bland",
    "osv": "och så vidare",
    "o": "och",
    "å": "och",
    "nt": "inte",
    "int": "inte",
    "inge": "inget",
    "mej": "mig",
    "dej": "dig",
    "sej": "sig",
    "dom": "de",
    "asså": "alltså",
    "sån": "sådan",
    "såna": "sådana",
    "sånt": "sådant",
    "e": "är",
    "va": "var",
    "ba": "bara",
    "tfn": "telefon",
    "tel": "telefon",
    "tx": "tack",
    "tackar": "tack",
    "okej": "ok",
    "okey": "ok",
    "oki": "ok",
    "sfi:n": "sfi",
    "jobbcoachn": "jobbcoachen",
}
_ABBREV_RE = re.compile(
    r"(?<![\wåäöéü])("
    + "|".join(sorted((re.escape(k) for k in SMS_ABBREVIATIONS), key=len, reverse=True))
    + r")(?![\wåäöéü:])"
)
# Every abbreviation match starts a maximal run of letters equal to the abbreviation's first
# run ("mkt." -> "mkt", "sfi:n" -> "sfi"): answers without such a run skip the costly pattern.
_LETTER_RUNS = re.compile(r"[a-zåäöéü]+")


def _first_run(abbreviation: str) -> str:
    run = _LETTER_RUNS.match(abbreviation)
    if run is None:  # the skip below would then hide the abbreviation: refuse it at import
        raise ValueError(f"SMS abbreviation {abbreviation!r} must start with a letter")
    return run.group()


_ABBREV_FIRST_RUNS = frozenset(map(_first_run, SMS_ABBREVIATIONS))
_PLACEHOLDER = re.compile(r"\[[A-ZÅÄÖ][A-ZÅÄÖ\-]*\]")


def _emoticons(text: str) -> str:
    text = _EMOTICON_POS.sub(f" {EMOJI_POS} ", text)
    return _EMOTICON_NEG.sub(f" {EMOJI_NEG} ", text)


# Cheap pre-checks (one C scan each) that let most answers skip the costlier passes below:
# every mapped emoji and every dropped pictograph lies in these ranges, every emoticon holds
# one of these characters.
_MAYBE_SYMBOL = re.compile("[\u200d\u2300-\u2bff\ufe0e\ufe0f\U0001f000-\U000e007f]")
_MAYBE_EMOTICON = re.compile(r"[:;=<^]")


def normalise(text: str, *, emoji: str = "map", abbreviations: bool = True) -> str:
    """Return a canonical lower-case form of an answer.

    ``emoji="map"`` turns emoji and emoticons into the sentiment tokens ``EMOJI_POS`` /
    ``EMOJI_NEG`` (other pictographs are dropped); ``emoji="drop"`` removes them all.
    Redaction placeholders such as ``[NAMN]`` are removed: they carry no theme meaning and must
    never become vocabulary.
    """
    if emoji not in ("map", "drop"):
        raise ValueError(f"emoji must be 'map' or 'drop', not {emoji!r}")
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if "[" in text:
        text = _PLACEHOLDER.sub(" ", text)
    if _MAYBE_EMOTICON.search(text):
        text = _emoticons(text)
    if _MAYBE_SYMBOL.search(text):
        text = text.translate(_EMOJI_TABLE)
        text = _OTHER_SYMBOLS.sub(" ", text)
    if emoji == "drop" and (EMOJI_POS in text or EMOJI_NEG in text):
        text = text.replace(EMOJI_POS, " ").replace(EMOJI_NEG, " ")
    text = text.casefold()
    # repeats and abbreviation runs never span whitespace: look them up per chunk (cached)
    chunks = text.split()
    flags = list(map(_CHUNK_FLAGS.get, chunks))
    if None in flags:
        flags = list(map(_chunk_flags, chunks))
    found = reduce(or_, flags, 0)
    if found & _HAS_REPEATS:
        text = _REPEATED_LETTERS.sub(r"\1", text)
        text = _REPEATED_PUNCT.sub(r"\1", text)
        found = _HAS_ABBREV_RUN if not _ABBREV_FIRST_RUNS.isdisjoint(_LETTER_RUNS.findall(text)) else 0
    elif not found:
        return " ".join(chunks)
    if abbreviations and found & _HAS_ABBREV_RUN:
        text = _ABBREV_RE.sub(lambda m: SMS_ABBREVIATIONS[m.group(1)], text)
    return " ".join(text.split())  # = collapsing \s+ and stripping (same notion of whitespace)


_HAS_REPEATS, _HAS_ABBREV_RUN = 1, 2
_CHUNK_FLAGS: dict[str, int] = {}  # casefolded text between whitespace -> the bits above


def _chunk_flags(chunk: str) -> int:
    flags = _CHUNK_FLAGS.get(chunk)
    if flags is None:
        flags = _HAS_REPEATS if _REPEATED_LETTERS.search(chunk) or _REPEATED_PUNCT.search(chunk) else 0
        if not _ABBREV_FIRST_RUNS.isdisjoint(_LETTER_RUNS.findall(chunk)):
            flags |= _HAS_ABBREV_RUN
        if len(_CHUNK_FLAGS) >= 300_000:
            _CHUNK_FLAGS.clear()
        _CHUNK_FLAGS[chunk] = flags
    return flags


# ---------------------------------------------------------------------------------------------
# Tokenising

_WORD = re.compile(r"[a-zà-öø-ÿ]+", re.IGNORECASE)


def tokenise(normalised: str) -> list[str]:
    """Letters-only words of an already normalised text (digits and punctuation split words)."""
    return _WORD.findall(normalised)


def tokens(text: str) -> list[str]:
    """Normalise and tokenise; every word kept (stopwords, negations, emoji tokens)."""
    return tokenise(normalise(text))


# ---------------------------------------------------------------------------------------------
# Stemming

_stemmer = SwedishStemmer()
_VOWELS = frozenset("aeiouyåäöé")

# Words whose stem we fix by hand: negations stay whole and collapse to one form; a few -in
# definite forms the rules below cannot tell from -in base words (medicin, maskin).
STEM_OVERRIDES: dict[str, str] = {
    "inte": "inte",
    "icke": "inte",
    "ej": "inte",
    "ingen": "ingen",
    "inget": "ingen",
    "inga": "ingen",
    "aldrig": "aldrig",
    "utan": "utan",
    "mycket": "mycket",
    "ekonomin": "ekonomi",
    "psykiatrin": "psykiatri",
    "terapin": "terapi",
    "energin": "energi",
    "strategin": "strategi",
    "kommunen": "kommun",
    "kommuner": "kommun",
    "kommunerna": "kommun",
    "sverige": "sverige",
    "budget": "budget",
    "budgeten": "budget",
}
_ET_KEEP = frozenset({"budget", "kvalitet", "identitet", "aktivitet", "universitet"})
_AN_KEEP = frozenset({"annan", "mellan", "sedan", "utan", "organ", "roman", "vulkan", "ocean"})


def _strip_definite(stem: str) -> str:
    """The old Snowball keeps the definite ``-et`` and ``-an``; strip them when safe."""
    for _ in range(2):
        if (
            len(stem) >= 5
            and stem.endswith("et")
            and stem[-3] not in _VOWELS
            and stem not in _ET_KEEP
            and not stem.endswith("itet")
        ):
            stem = stem[:-2]
        else:
            break
    if len(stem) >= 6 and stem.endswith("an") and stem[-3] not in _VOWELS and stem not in _AN_KEEP:
        stem = stem[:-2]
    return stem


@lru_cache(maxsize=2**18)
def stem(word: str) -> str:
    """Stem one lower-case word (cached: the pure-Python stemmer costs ~3 µs per call)."""
    override = STEM_OVERRIDES.get(word)
    if override is not None:
        return override
    if word in _EMOJI_TOKENS:
        return word
    return _strip_definite(_stemmer.stem(word))


def stems(text: str) -> list[str]:
    """Content stems of an answer: stopwords, emoji tokens and one-letter words dropped.

    Negations (``inte``, ``aldrig``, ``ingen`` …) are kept as stems.
    """
    return [stem(w) for w in tokens(text) if w not in STOPWORDS and w not in _EMOJI_TOKENS and len(w) > 1]


# ---------------------------------------------------------------------------------------------
# Compounds: Swedish writes "försörjningsstödet", "arbetsträningen", "jobbcoachen" as one word.
# Emitting the known head as an extra feature lets a model trained on "stöd" / "coach" generalise
# to compounds it never saw.

COMPOUND_HEADS: tuple[str, ...] = (
    "förmedlingen",
    "förmedling",
    "kassan",
    "kassa",
    "tjänsten",
    "tjänst",
    "handläggaren",
    "handläggare",
    "handläggarna",
    "handläggning",
    "handläggningen",
    "sekreteraren",
    "sekreterare",
    "coachen",
    "coacher",
    "coach",
    "konsulenten",
    "konsulent",
    "stödet",
    "stöd",
    "bidraget",
    "bidrag",
    "ersättningen",
    "ersättning",
    "träningen",
    "träning",
    "praktiken",
    "praktik",
    "platsen",
    "plats",
    "utbildningen",
    "utbildning",
    "kursen",
    "kurs",
    "beslutet",
    "beslut",
    "ansökan",
    "ansökningar",
    "tiden",
    "tid",
    "mötet",
    "möte",
    "samtalet",
    "samtal",
    "planen",
    "plan",
    "ohälsa",
    "ohälsan",
    "hälsa",
    "hälsan",
    "vården",
    "vård",
    "jobbet",
    "jobb",
    "arbetet",
    "arbete",
    "pengarna",
    "pengar",
    "skulder",
    "skulderna",
    "hyran",
    "hyra",
    "tolken",
    "tolk",
)
_HEADS_BY_LEN = tuple(sorted(COMPOUND_HEADS, key=len, reverse=True))
_MIN_MODIFIER = 3


@lru_cache(maxsize=2**16)
def compound_head(word: str) -> str | None:
    """The known head of a compound word, or None ("försörjningsstödet" -> "stödet").

    The modifier must be at least three letters so short words ("plats", "kurs") are not
    treated as compounds of themselves.
    """
    for head in _HEADS_BY_LEN:
        if len(word) - len(head) >= _MIN_MODIFIER and word.endswith(head):
            return head
    return None


INTENSIFIER_PREFIXES: tuple[str, ...] = ("jätte", "super", "mega", "kanon", "skit", "extra", "toppen")


def split_intensifier(word: str) -> str | None:
    """The word after an intensifying prefix ("jättebra" -> "bra"), or None."""
    for prefix in INTENSIFIER_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            return word[len(prefix) :]
    return None


def analyse(text: str) -> list[str]:
    """Analyzer for scikit-learn vectorisers: content stems plus stems of compound heads.

    Module-level (picklable). Use as ``TfidfVectorizer(analyzer=analyse)``.
    """
    out: list[str] = []
    for w in tokens(text):
        if w in STOPWORDS or w in _EMOJI_TOKENS or len(w) < 2:
            continue
        out.append(stem(w))
        head = compound_head(w) or split_intensifier(w)
        if head is not None:
            out.append(stem(head))
    return out


def analyse_bigrams(text: str) -> list[str]:
    """``analyse`` plus bigrams of adjacent content stems ("inte hjälp", "lång vänt")."""
    content = stems(text)
    return analyse(text) + [f"{a} {b}" for a, b in pairwise(content)]
