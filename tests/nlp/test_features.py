"""The hand-rolled TF-IDF: batch and single-document paths must agree."""

from __future__ import annotations

import numpy as np

from nlp.analysis import analyse
from nlp.features import Vocabulary, char_ngrams


def test_char_ngrams_match_scikit_learn_char_wb() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    cv = CountVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=False).fit(["stödet"])
    assert sorted(set(char_ngrams("stödet"))) == sorted(cv.get_feature_names_out())


def test_batch_and_single_document_features_are_identical() -> None:
    docs = [
        analyse(t) for t in ["försörjningsstödet räckte inte", "stödet från coachen", "lång väntan", "hej"]
    ]
    vocab = Vocabulary.fit(docs, n_seed=2)
    seeds = np.array([[1, 0], [0, 2], [0, 0], [0, 0]], dtype=float)
    batch = vocab.transform(docs, seeds).toarray()
    for i, doc in enumerate(docs):
        cols, vals = vocab.transform_one(doc, seeds[i])
        single = np.zeros(vocab.n_features)
        single[cols] = vals
        assert np.allclose(single, batch[i])
    # word and char blocks are each unit length; compounds share char n-grams
    w_end, c_end = vocab.offsets
    assert np.isclose(np.linalg.norm(batch[0, :w_end]), 1.0)
    assert np.isclose(np.linalg.norm(batch[0, w_end:c_end]), vocab.char_weight)
    assert batch[0, w_end:c_end] @ batch[1, w_end:c_end] > 0


def test_fast_compound_head_agrees_with_nlp_text() -> None:
    from nlp import text
    from nlp.analysis import compound_head

    words = [
        "försörjningsstödet",
        "stödet",
        "jobbcoachen",
        "arbetsförmedlingen",
        "plats",
        "praktikplatsen",
        "hej",
    ]
    words += [w + "en" for w in text.COMPOUND_HEADS] + ["xyz" + w for w in text.COMPOUND_HEADS]
    for w in words:
        assert compound_head(w) == text.compound_head(w), w
