"""Hand-rolled TF-IDF features shared by training and by the fast scorer.

Why not scikit-learn's vectorisers: the model must persist as plain arrays (no pickles) and one
answer must be scored in microseconds. Using the *same* code path for training and scoring also
guarantees that persisted vocabularies mean exactly what they meant at training time.

Feature blocks (each TF-IDF with sublinear tf and its own L2 norm):
  word  stem unigrams and stem bigrams                     ("w:" / "b:" prefixes)
  char  char_wb 3–5-grams of the unstemmed tokens          (catches compounds:
        "försörjningsstödet" shares "stöd" n-grams with "stödet")
  seed  one column per theme: log1p(seed-lexicon hits)     (see nlp.seeds)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse as sp

from nlp.analysis import Token, analyse

CHAR_NGRAMS = (3, 5)
CHAR_WEIGHT = 0.8
SEED_SCALE = 1.0
_CACHE_LIMIT = 300_000


def char_ngrams(surface: str, lo: int = CHAR_NGRAMS[0], hi: int = CHAR_NGRAMS[1]) -> list[str]:
    """scikit-learn's ``char_wb`` n-grams of one token (padded with a space on each side)."""
    padded = f" {surface} "
    out: list[str] = []
    n_chars = len(padded)
    for n in range(lo, hi + 1):
        if n > n_chars:
            break
        out.extend(padded[i : i + n] for i in range(n_chars - n + 1))
    return out


def word_terms(tokens: Sequence[Token]) -> list[str]:
    stems = [t.stem for t in tokens]
    terms = [f"w:{s}" for s in stems]
    terms.extend(f"w:{t.head}" for t in tokens if t.head and t.head != t.stem)
    terms.extend(f"b:{a} {b}" for a, b in pairwise(stems))
    return terms


def char_terms(tokens: Sequence[Token]) -> list[str]:
    out: list[str] = []
    for t in tokens:
        out.extend(char_ngrams(t.surface))
    return out


def _idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    return (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float64)


def _block(rows: list[list[int]], idf: np.ndarray, weight: float = 1.0) -> sp.csr_matrix:
    """Counts → sublinear tf × idf → row L2 norm, all vectorised over the whole batch."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.fromiter((i for r in rows for i in r), dtype=np.int32, count=int(indptr[-1]))
    data = np.ones(len(indices), dtype=np.float64)
    m = sp.csr_matrix((data, indices, indptr), shape=(len(rows), len(idf)))
    m.sum_duplicates()
    m.data = (1.0 + np.log(m.data)) * idf[m.indices]
    sq = np.asarray(m.multiply(m).sum(axis=1)).ravel()
    norms = np.sqrt(sq)
    norms[norms == 0] = 1.0
    scale = np.repeat(weight / norms, np.diff(m.indptr))
    m.data *= scale
    return m


@dataclass
class Vocabulary:
    """Fitted vocabularies and idf per block; the only state the scorer needs for features."""

    word_terms: list[str]
    word_idf: np.ndarray
    char_terms: list[str]
    char_idf: np.ndarray
    n_seed: int
    char_weight: float = CHAR_WEIGHT
    seed_scale: float = SEED_SCALE

    def __post_init__(self) -> None:
        self.word_index = {t: i for i, t in enumerate(self.word_terms)}
        self.char_index = {t: i for i, t in enumerate(self.char_terms)}
        self._char_cache: dict[str, list[int]] = {}

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_char_cache"] = {}
        return state

    @property
    def n_features(self) -> int:
        return len(self.word_terms) + len(self.char_terms) + self.n_seed

    @property
    def offsets(self) -> tuple[int, int]:
        """Start columns of the char and the seed block."""
        return len(self.word_terms), len(self.word_terms) + len(self.char_terms)

    @classmethod
    def fit(cls, docs: Sequence[Sequence[Token]], n_seed: int, min_df: int = 1) -> Vocabulary:
        n = len(docs)
        wdf: Counter[str] = Counter()
        cdf: Counter[str] = Counter()
        for toks in docs:
            wdf.update(set(word_terms(toks)))
            cdf.update(set(char_terms(toks)))
        wv = sorted(t for t, c in wdf.items() if c >= min_df)
        cv = sorted(t for t, c in cdf.items() if c >= max(min_df, 2))
        return cls(
            word_terms=wv,
            word_idf=_idf(np.array([wdf[t] for t in wv], dtype=np.float64), n),
            char_terms=cv,
            char_idf=_idf(np.array([cdf[t] for t in cv], dtype=np.float64), n),
            n_seed=n_seed,
        )

    # ------------------------------------------------------------------ ids per document
    def _char_ids(self, surface: str) -> list[int]:
        ids = self._char_cache.get(surface)
        if ids is None:
            index = self.char_index
            ids = [index[g] for g in char_ngrams(surface) if g in index]
            if len(self._char_cache) > _CACHE_LIMIT:
                self._char_cache.clear()
            self._char_cache[surface] = ids
        return ids

    def word_ids(self, tokens: Sequence[Token]) -> list[int]:
        index = self.word_index
        return [i for i in (index.get(t) for t in word_terms(tokens)) if i is not None]

    def char_ids(self, tokens: Sequence[Token]) -> list[int]:
        out: list[int] = []
        for t in tokens:
            out.extend(self._char_ids(t.surface))
        return out

    # ------------------------------------------------------------------ matrices
    def transform(self, docs: Sequence[Sequence[Token]], seed_counts: np.ndarray) -> sp.csr_matrix:
        """Feature matrix for a batch: [word | char × weight | log1p(seed hits)]."""
        word = _block([self.word_ids(d) for d in docs], self.word_idf)
        char = _block([self.char_ids(d) for d in docs], self.char_idf, self.char_weight)
        seed = sp.csr_matrix(self.seed_scale * np.log1p(seed_counts.astype(np.float64)))
        return sp.hstack([word, char, seed], format="csr")

    def transform_one(
        self, tokens: Sequence[Token], seed_counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(column ids, values) of one document, without building a sparse matrix."""
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for ids, idf, weight, offset in (
            (self.word_ids(tokens), self.word_idf, 1.0, 0),
            (self.char_ids(tokens), self.char_idf, self.char_weight, self.offsets[0]),
        ):
            if not ids:
                continue
            u, c = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
            v = (1.0 + np.log(c)) * idf[u]
            v *= weight / (np.sqrt(v @ v) or 1.0)
            cols.append(u + offset)
            vals.append(v)
        nz = np.flatnonzero(seed_counts)
        if len(nz):
            cols.append(nz + self.offsets[1])
            vals.append(self.seed_scale * np.log1p(np.asarray(seed_counts, dtype=np.float64)[nz]))
        if not cols:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(cols), np.concatenate(vals)

    def readable(self, col: int) -> str | None:
        """A word/bigram feature as text (char and seed features are not shown as evidence)."""
        if col < len(self.word_terms):
            return self.word_terms[col][2:]
        return None


def analyse_many(texts: Iterable[str]) -> list[list[Token]]:
    return [analyse(t) for t in texts]
