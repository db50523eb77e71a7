"""Text → content tokens (surface form, stem, compound head), the theme engine's entry point.

Why a thin adapter over ``nlp.text``: the theme engine needs each content word as a
(surface, stem) pair — surfaces feed char n-grams, evidence and readable discovery labels, stems
feed word features and the seed lexicon — and the stem of a compound's known head
("försörjningsstödet" → "stöd") so a model trained on the head generalises to compounds.
Stopwords are dropped, negations kept (``nlp.text`` decides which is which).
"""

from __future__ import annotations

from itertools import repeat
from typing import NamedTuple

from nlp import text as _text

STEMMER_ID = _text.STEMMER_ID
_SKIP = _text.STOPWORDS | {_text.EMOJI_POS, _text.EMOJI_NEG}


class Token(NamedTuple):
    surface: str
    stem: str
    head: str | None = None  # stem of a known compound head, when the word is a compound


_HEADS = frozenset(_text.COMPOUND_HEADS)
_HEAD_LENGTHS = sorted({len(h) for h in _HEADS}, reverse=True)


def compound_head(word: str) -> str | None:
    """Same answer as ``nlp.text.compound_head`` with one set lookup per head length.

    The theme scorer meets many unseen words per answer; the linear scan over every head costs
    ~100 µs per new word, which alone would break the 1 ms single-answer budget.
    """
    for n in _HEAD_LENGTHS:
        if len(word) - n >= _text._MIN_MODIFIER and word[-n:] in _HEADS:
            return word[-n:]
    return None


def _token(word: str) -> Token:
    head = compound_head(word)
    return Token(word, _text.stem(word), _text.stem(head) if head else None)


_cache: dict[str, Token | None] = {}  # None: a word that is skipped (stopword, one letter)
_MISS = object()


def analyse_normalised(norm: str) -> list[Token]:
    """Content tokens of an answer already passed through ``nlp.text.normalise``.

    One dict look-up per word once the word has been seen: the batch scorer normalises each
    answer once and shares the result with sentiment analysis.
    """
    return analyse_words(_text.tokenise(norm))


def analyse_words(words: list[str]) -> list[Token]:
    """``analyse_normalised`` from the answer's ``nlp.text.tokenise`` words (shared with
    sentiment analysis by the batch scorer)."""
    cache = _cache
    toks = list(map(cache.get, words, repeat(_MISS, len(words))))
    if _MISS in toks:  # words not seen before
        for i, tok in enumerate(toks):
            if tok is _MISS:
                w = words[i]
                if len(cache) > 300_000:
                    cache.clear()
                tok = toks[i] = cache[w] = None if (len(w) < 2 or w in _SKIP) else _token(w)
    return [t for t in toks if isinstance(t, Token)]  # drops skipped words (None); no _MISS is left


def analyse(text: str) -> list[Token]:
    """Content tokens of an (already redacted) answer."""
    return analyse_normalised(_text.normalise(text))


def stem_phrase(phrase: str) -> tuple[str, ...]:
    """A seed phrase through the same pipeline as answers, so seeds and answers meet."""
    return tuple(t.stem for t in analyse(phrase))
