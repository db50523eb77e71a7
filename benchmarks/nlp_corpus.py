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
    kind = rng.random(total)
    real_pick = rng.choice(real, total)
    tail_pick = rng.choice(tail, total, p=tail_p)
    filler_pick = rng.choice(_FILLERS, total)
    n_themes = rng.choice([0, 1, 2], n, p=[0.07, 0.68, 0.25])
    theme_a = rng.integers(0, len(theme_words), n)
    theme_b = rng.integers(0, len(theme_words), n)
    theme_tok = rng.random(total) < 0.3
    pii = rng.random(n)
    docs: list[str] = []
    pos = 0
    for i in range(n):
        words = []
        for j in range(pos, pos + lengths[i]):
            if n_themes[i] and theme_tok[j]:
                pool = theme_words[theme_a[i] if (n_themes[i] == 1 or j % 2) else theme_b[i]]
                words.append(pool[j % len(pool)])
            elif kind[j] < 0.62:
                words.append(real_pick[j])
            elif kind[j] < 0.92:
                words.append(tail_pick[j])
            else:
                words.append(filler_pick[j])
        pos += lengths[i]
        if pii[i] < 0.01:
            words.append(f"ring {_NAMES[i % len(_NAMES)]} på 070-{i % 1000:03d} {i % 100:02d} {i % 97:02d}")
        elif pii[i] < 0.015:
            words.append(f"mejla {_NAMES[i % len(_NAMES)].lower()}{i}@example.se")
        docs.append(" ".join(words))
    return docs
