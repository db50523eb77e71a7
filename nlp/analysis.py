"""Text → content tokens (surface form + stem), the single entry point the theme engine uses.

Why a thin adapter: normalising, tokenising, stopwords and stemming belong to ``nlp.text``; the
theme engine needs them as (surface, stem) pairs with stopwords removed but negations kept, and
it records which stemmer produced the features (a different stemmer is a different model).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from nltk.stem.snowball import SnowballStemmer


class Token(NamedTuple):
    surface: str
    stem: str


# --- stand-in until nlp.text lands (replaced by imports from nlp.text) -------------------------
_WORD = re.compile(r"[^\W\d_]{2,}")
_STEMMER = SnowballStemmer("swedish")
_STOP = frozenset(
    "och det att i en jag hon som han på den med var sig för så till är men ett om hade de av "
    "icke mig du henne då sin nu har inte hans honom skulle hennes där min man ej vid kunde något "
    "från ut när efter upp vi dem vara vad över än dig kan sina här ha mot alla under någon eller "
    "allt mycket sedan ju denna själv detta åt utan varit hur ingen mitt ni bli blev oss din dessa "
    "några deras blir mina samma vilken er sådan vår blivit dess inom mellan sådant varför varje "
    "vilka ditt vem vilket sitta sådana vart dina vars vårt våra ert era vilkas".split()
) - {"inte", "ingen", "inga", "icke", "ej", "utan", "mycket", "aldrig", "mellan", "samma"}
STEMMER_ID = "nltk-snowball-swedish@standin"


@lru_cache(maxsize=2**18)
def _stem(word: str) -> str:
    return _STEMMER.stem(word)


def analyse(text: str) -> list[Token]:
    """Content tokens of ``text``: normalised, letters only, stopwords dropped, stemmed."""
    norm = unicodedata.normalize("NFC", text).casefold()
    return [Token(w, _stem(w)) for w in _WORD.findall(norm) if w not in _STOP]


def stem_phrase(phrase: str) -> tuple[str, ...]:
    """A seed phrase through the same pipeline as answers, so seeds and answers meet."""
    return tuple(t.stem for t in analyse(phrase))
