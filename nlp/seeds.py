"""The seed lexicon: codebook terms and phrases matched on stems, with evidence.

Why: on day one there are no manager labels, and answers from real clients use words no training
set saw. Seed terms written from each theme's meaning give a transparent first classifier and an
extra feature for the supervised model (one "seed hits" column per theme), so the learned model
can lean on the lexicon where its own vocabulary is thin.

Matching rules (all after the same normalising, stopword removal and stemming as answers):
  "praktik"     stem equality                       praktiken, praktik
  "praktik*"    the stem occurs inside the token    sommarpraktiken, praktikplats
  "tog lång tid" contiguous stems of the phrase      "det tog så lång tid" (stopwords dropped)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nlp.analysis import Token, analyse, stem_phrase
from nlp.codebook import Codebook

_MIN_INFIX = 4
_CACHE_LIMIT = 300_000


@dataclass
class SeedLexicon:
    keys: list[str]
    exact: dict[str, set[int]] = field(default_factory=dict)  # stem → theme ids
    infix: list[tuple[str, int]] = field(default_factory=list)  # (needle, theme id)
    phrases: dict[str, list[tuple[tuple[str, ...], int]]] = field(default_factory=dict)  # first stem → …

    def __post_init__(self) -> None:
        self._token_cache: dict[str, tuple[int, ...]] = {}
        self._index_infix()

    def _index_infix(self) -> None:
        # needles by their first _MIN_INFIX letters: a token is checked at each position with one
        # dict lookup instead of a substring search per needle
        self._infix_by_prefix: dict[str, list[tuple[str, int]]] = {}
        for needle, tid in self.infix:
            self._infix_by_prefix.setdefault(needle[:_MIN_INFIX], []).append((needle, tid))

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_token_cache"] = {}
        return state

    @classmethod
    def from_codebook(cls, codebook: Codebook, keys: Sequence[str] | None = None) -> SeedLexicon:
        keys = list(keys if keys is not None else codebook.model_keys)
        lex = cls(keys=keys)
        themes = codebook.themes
        for tid, key in enumerate(keys):
            theme = themes[key]
            for raw in (*theme.seed_terms, *theme.seed_phrases):
                star = raw.endswith("*")
                stems = stem_phrase(raw.rstrip("*"))
                if not stems:
                    continue
                if len(stems) > 1:
                    lex.phrases.setdefault(stems[0], []).append((stems, tid))
                elif star:
                    toks = analyse(raw.rstrip("*"))
                    needle = stems[0] if len(stems[0]) >= _MIN_INFIX else toks[0].surface
                    if len(needle) >= _MIN_INFIX:
                        lex.infix.append((needle, tid))
                        lex._infix_by_prefix.setdefault(needle[:_MIN_INFIX], []).append((needle, tid))
                    else:
                        lex.exact.setdefault(stems[0], set()).add(tid)
                else:
                    lex.exact.setdefault(stems[0], set()).add(tid)
        return lex

    def token_themes(self, tok: Token) -> tuple[int, ...]:
        hit = self._token_cache.get(tok.surface)
        if hit is None:
            found = set(self.exact.get(tok.stem, ()))
            if tok.head:
                found.update(self.exact.get(tok.head, ()))
            word, by_prefix = tok.surface, self._infix_by_prefix
            for i in range(len(word) - _MIN_INFIX + 1):
                for needle, tid in by_prefix.get(word[i : i + _MIN_INFIX], ()):
                    if word.startswith(needle, i):
                        found.add(tid)
            hit = tuple(sorted(found))
            if len(self._token_cache) > _CACHE_LIMIT:
                self._token_cache.clear()
            self._token_cache[tok.surface] = hit
        return hit

    def match(self, tokens: Sequence[Token]) -> tuple[np.ndarray, dict[int, list[str]]]:
        """Hit counts per theme (phrases count double) and the matched surface words per theme."""
        counts = [0.0] * len(self.keys)
        evidence: dict[int, list[str]] = {}
        phrases, cache = self.phrases, self._token_cache
        stems = None
        for i, tok in enumerate(tokens):
            tids = cache.get(tok.surface)
            for tid in tids if tids is not None else self.token_themes(tok):
                counts[tid] += 1
                evidence.setdefault(tid, []).append(tok.surface)
            candidates = phrases.get(tok.stem)
            if candidates:
                stems = stems or [t.stem for t in tokens]
                for phrase, tid in candidates:
                    n = len(phrase)
                    if tuple(stems[i : i + n]) == phrase:
                        counts[tid] += 2
                        evidence.setdefault(tid, []).append(" ".join(t.surface for t in tokens[i : i + n]))
        return np.array(counts), evidence

    def counts(self, tokens: Sequence[Token]) -> list[float]:
        """Hit counts per theme, as ``match`` counts them, without collecting evidence."""
        counts = [0.0] * len(self.keys)
        phrases, cache = self.phrases, self._token_cache
        stems = None
        for i, tok in enumerate(tokens):
            tids = cache.get(tok.surface)
            for tid in tids if tids is not None else self.token_themes(tok):
                counts[tid] += 1
            candidates = phrases.get(tok.stem)
            if candidates:
                stems = stems or [t.stem for t in tokens]
                for phrase, tid in candidates:
                    if tuple(stems[i : i + len(phrase)]) == phrase:
                        counts[tid] += 2
        return counts

    def counts_many(self, docs: Sequence[Sequence[Token]]) -> np.ndarray:
        counts = self.counts
        return np.array([counts(toks) for toks in docs], dtype=np.float64).reshape(len(docs), len(self.keys))
