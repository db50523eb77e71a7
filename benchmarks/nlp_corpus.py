"""A generated SMS-like Swedish corpus for the NLP benchmarks (deterministic for a given seed).

Why generated: speed and memory must be measured at 10k/100k/1M answers, far beyond any labelled
data. Token mix after design/themes.md §4.1: real Swedish words from the shipped dev data, a
long tail of inflected and compounded words (to exercise the stemmer cache and grow the
vocabulary like real free text), SMS fillers and emoji, theme words for answers that carry
themes, and a little planted PII (phone numbers, names, e-mail) so redaction does real work.
Lengths are lognormal (median ~11 tokens, capped at 120).
"""

from __future__ import annotations

import json
import re

import numpy as np

from nlp.codebook import load_codebook
from nlp.dataset import DEV_DATA_PATH

_SUFFIXES = [
    "",
    "en",
    "et",
    "erna",
    "arna",
    "ade",
    "ar",
    "er",
    "ning",
    "ningen",
    "s",
    "na",
    "or",
    "orna",
    "t",
]
_FILLERS = [
    "hej",
    "tack",
    "mvh",
    "ok",
    "ja",
    "nej",
    "bra",
    "typ",
    "asså",
    "lixom",
    "🙂",
    "😞",
    "!",
    "?",
    ":)",
    "va",
]
_NAMES = ["Anna", "Erik", "Fatima", "Mohammed", "Sara", "Johan", "Leila", "Per"]


def _dev_words() -> list[str]:
    words: list[str] = []
    with open(DEV_DATA_PATH, encoding="utf-8") as fh:
        for line in fh:
            words.extend(re.findall(r"[^\W\d_]+", json.loads(line)["text"]))
    return words


def generate(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    real = np.array(_dev_words())
    uniq = np.unique(np.char.lower(real))
    # a Zipf-weighted tail of invented inflections and compounds of real words
    n_tail = 60_000
    a = rng.choice(uniq, n_tail)
    b = rng.choice(uniq, n_tail)
    suf = rng.choice(_SUFFIXES, n_tail)
    compound = rng.random(n_tail) < 0.4
    tail = np.where(compound, np.char.add(np.char.add(a, b), suf), np.char.add(a, suf))
    tail_p = 1.0 / np.arange(1, n_tail + 1) ** 1.05
    tail_p /= tail_p.sum()
    cb = load_codebook()
    theme_words = [
        [w.rstrip("*") for w in (*cb.themes[k].seed_terms, *cb.themes[k].seed_phrases)] for k in cb.model_keys
    ]

    lengths = np.clip(rng.lognormal(np.log(11), 0.6, n).astype(int), 1, 120)
    total = int(lengths.sum())
    # Draw exactly what the original draws, in the same order, but keep indices into the word
    # lists (``rng.choice(arr, k)`` is ``arr[rng.choice(len(arr), k)]``) in small integer types
    # instead of fixed-width unicode arrays: at 1M answers those took ~4 GB and dominated the
    # benchmark's peak RSS. The generated corpus is byte-for-byte the same.
    kind = rng.random(total)
    kind_code = np.where(kind < 0.62, 0, np.where(kind < 0.92, 1, 2)).astype(np.int8)
    del kind
    real_idx = rng.choice(len(real), total).astype(np.int32)
    tail_idx = rng.choice(len(tail), total, p=tail_p).astype(np.int32)
    filler_idx = rng.choice(len(_FILLERS), total).astype(np.int8)
    n_themes = rng.choice([0, 1, 2], n, p=[0.07, 0.68, 0.25])
    theme_a = rng.integers(0, len(theme_words), n)
    theme_b = rng.integers(0, len(theme_words), n)
    theme_tok = rng.random(total) < 0.3
    pii = rng.random(n)
    real_words = real.tolist()
    tail_words = tail.tolist()
    docs: list[str] = []
    pos = 0
    block = 50_000
    for start in range(0, n, block):
        stop = min(n, start + block)
        lo, hi = pos, pos + int(lengths[start:stop].sum())
        kinds = kind_code[lo:hi].tolist()
        reals = real_idx[lo:hi].tolist()
        tails = tail_idx[lo:hi].tolist()
        fillers = filler_idx[lo:hi].tolist()
        themed = theme_tok[lo:hi].tolist()
        for i in range(start, stop):
            words = []
            nt = n_themes[i]
            for j in range(pos, pos + lengths[i]):
                r = j - lo
                if nt and themed[r]:
                    pool = theme_words[theme_a[i] if (nt == 1 or j % 2) else theme_b[i]]
                    words.append(pool[j % len(pool)])
                elif kinds[r] == 0:
                    words.append(real_words[reals[r]])
                elif kinds[r] == 1:
                    words.append(tail_words[tails[r]])
                else:
                    words.append(_FILLERS[fillers[r]])
            pos += lengths[i]
            if pii[i] < 0.01:
                words.append(
                    f"ring {_NAMES[i % len(_NAMES)]} på 070-{i % 1000:03d} {i % 100:02d} {i % 97:02d}"
                )
            elif pii[i] < 0.015:
                words.append(f"mejla {_NAMES[i % len(_NAMES)].lower()}{i}@example.se")
            docs.append(" ".join(words))
    return docs
