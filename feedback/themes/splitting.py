"""Suggestions for a split: which new theme each answer of the parent is most similar to.

Why suggestions and not a rule: the old split dropped the parent and left both new themes at 0
until a retrain that never put answers there. Now the manager assigns the answers; this module
only pre-selects the likeliest new theme for each answer by similarity to the new theme's name
and words (TF-IDF over stems and character n-grams, cosine). An answer that is not clearly
closer to one new theme is suggested to stay in the parent, so nothing moves by surprise.
"""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from nlp.text import normalise, stems

MIN_SIMILARITY = 0.08
MIN_MARGIN = 0.02


def _doc(text: str) -> str:
    return " ".join([*stems(text), normalise(text)])


def suggest(texts: Sequence[str], parts: Sequence[tuple[str, Sequence[str]]]) -> list[int | None]:
    """For each text, the index of the most similar new theme (``(label, words)``), or None."""
    if not texts or not parts:
        return [None] * len(texts)
    part_docs = [_doc(" ".join([label, *words])) for label, words in parts]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    matrix = vectorizer.fit_transform([*part_docs, *(_doc(t) for t in texts)])
    sims = cosine_similarity(matrix[len(parts) :], matrix[: len(parts)])
    out: list[int | None] = []
    for row in sims:
        order = row.argsort()[::-1]
        best = float(row[order[0]])
        second = float(row[order[1]]) if len(order) > 1 else 0.0
        out.append(int(order[0]) if best >= MIN_SIMILARITY and best - second >= MIN_MARGIN else None)
    return out
