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


def _csr(flat: list[int], lengths: list[int], n_cols: int) -> sp.csr_matrix:
    """Rows of column ids (one entry per occurrence) as a count matrix with duplicates summed."""
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.array(flat, dtype=np.int32)
    m = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float64), indices, indptr), shape=(len(lengths), n_cols)
    )
    m.sum_duplicates()
    return m


def _weight(m: sp.csr_matrix, idf: np.ndarray, weight: float = 1.0) -> sp.csr_matrix:
    """Counts (no duplicate entries) → sublinear tf × idf → row L2 norm (× ``weight``)."""
    n_rows = m.shape[0]
    m.data = (1.0 + np.log(m.data)) * idf[m.indices]
    per_row = np.diff(m.indptr)
    sq = np.bincount(np.repeat(np.arange(n_rows), per_row), weights=m.data**2, minlength=n_rows)
    norms = np.sqrt(sq)
    norms[norms == 0] = 1.0
    m.data *= np.repeat(weight / norms, per_row)
    return m


def _block(flat: list[int], lengths: list[int], idf: np.ndarray, weight: float = 1.0) -> sp.csr_matrix:
    """Counts → sublinear tf × idf → row L2 norm, all vectorised over the whole batch."""
    return _weight(_csr(flat, lengths, len(idf)), idf, weight)


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
        self.bigram_index = {
            tuple(t[2:].split(" ", 1)): i for i, t in enumerate(self.word_terms) if t.startswith("b:")
        }
        self._tok_cache: dict[str, tuple[list[int], list[int]]] = {}

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_tok_cache"] = {}
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
    def _token_ids(self, tok: Token) -> tuple[list[int], list[int]]:
        """(unigram + compound-head ids, char n-gram ids) of one word, cached by surface form."""
        hit = self._tok_cache.get(tok.surface)
        if hit is None:
            windex, cindex = self.word_index, self.char_index
            uni = [i for i in (windex.get(f"w:{tok.stem}"),) if i is not None]
            if tok.head and tok.head != tok.stem:
                head = windex.get(f"w:{tok.head}")
                if head is not None:
                    uni.append(head)
            hit = (uni, [cindex[g] for g in char_ngrams(tok.surface) if g in cindex])
            if len(self._tok_cache) > _CACHE_LIMIT:
                self._tok_cache.clear()
            self._tok_cache[tok.surface] = hit
        return hit

    def _doc_ids(self, tokens: Sequence[Token], word: list[int], char: list[int]) -> None:
        """Append the document's word and char ids to ``word`` and ``char``."""
        get_bigram = self.bigram_index.get
        prev = None
        for tok in tokens:
            uni, chars = self._token_ids(tok)
            word.extend(uni)
            char.extend(chars)
            if prev is not None:
                b = get_bigram((prev, tok.stem))
                if b is not None:
                    word.append(b)
            prev = tok.stem

    def word_ids(self, tokens: Sequence[Token]) -> list[int]:
        word: list[int] = []
        self._doc_ids(tokens, word, [])
        return word

    def char_ids(self, tokens: Sequence[Token]) -> list[int]:
        char: list[int] = []
        self._doc_ids(tokens, [], char)
        return char

    # ------------------------------------------------------------------ matrices
    def transform_blocks(
        self, docs: Sequence[Sequence[Token]], seed_counts: np.ndarray
    ) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
        """The three feature blocks of a batch: word (csr), char × weight (csr), seed (dense).

        Each distinct word of the batch is looked up once: documents become counts over the
        batch's word types (D), each type its unigram/head and char n-gram ids (U, C), and the
        blocks are the sparse products D·U (+ bigrams) and D·C. Same counts as ``transform_one``.
        """
        index: dict[str, int] = {}
        types: list[Token] = []
        flat: list[int] = []
        lengths: list[int] = []
        big: list[int] = []
        blen: list[int] = []
        get_bigram = self.bigram_index.get
        for d in docs:
            prev = None
            n_big = len(big)
            for tok in d:
                i = index.get(tok.surface)
                if i is None:
                    i = index[tok.surface] = len(types)
                    types.append(tok)
                flat.append(i)
                if prev is not None:
                    b = get_bigram((prev, tok.stem))
                    if b is not None:
                        big.append(b)
                prev = tok.stem
            lengths.append(len(d))
            blen.append(len(big) - n_big)
        uni: list[int] = []
        ulen: list[int] = []
        chars: list[int] = []
        clen: list[int] = []
        token_ids = self._token_ids
        for tok in types:
            u, c = token_ids(tok)
            uni.extend(u)
            ulen.append(len(u))
            chars.extend(c)
            clen.append(len(c))
        n_types = len(types)
        dmat = _csr(flat, lengths, n_types)
        words = dmat @ _csr(uni, ulen, len(self.word_idf)) + _csr(big, blen, len(self.word_idf))
        cmat = dmat @ _csr(chars, clen, len(self.char_idf))
        wblock = _weight(sp.csr_matrix(words), self.word_idf)
        cblock = _weight(sp.csr_matrix(cmat), self.char_idf, self.char_weight)
        return wblock, cblock, self.seed_scale * np.log1p(seed_counts.astype(np.float64))

    def transform(self, docs: Sequence[Sequence[Token]], seed_counts: np.ndarray) -> sp.csr_matrix:
        """Feature matrix for a batch: [word | char × weight | log1p(seed hits)]."""
        wblock, cblock, seed = self.transform_blocks(docs, seed_counts)
        return sp.hstack([wblock, cblock, sp.csr_matrix(seed)], format="csr")

    def transform_one(
        self, tokens: Sequence[Token], seed_counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(column ids, values) of one document, without building a sparse matrix."""
        word: list[int] = []
        char: list[int] = []
        self._doc_ids(tokens, word, char)
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for ids, idf, weight, offset in (
            (word, self.word_idf, 1.0, 0),
            (char, self.char_idf, self.char_weight, self.offsets[0]),
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
