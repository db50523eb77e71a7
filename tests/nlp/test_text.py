"""Behaviour of nlp.text: what the theme features of a short Swedish answer look like."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from nlp import text
from nlp.text import (
    EMOJI_NEG,
    EMOJI_POS,
    STOPWORDS,
    analyse,
    compound_head,
    normalise,
    stem,
    stems,
    tokens,
)


def test_normalise_nfc_casefold_and_whitespace() -> None:
    decomposed = "Ha\u0308lsan  BLEV\tsa\u0308mre"  # a + combining diaeresis
    assert normalise(decomposed) == "hälsan blev sämre"


def test_sms_artefacts_are_collapsed() -> None:
    assert normalise("Jättebraaaa!!!") == "jättebra!"
    assert normalise("tackkkk???") == "tack?"
    # legitimate double letters survive
    assert normalise("tunnare kaffe") == "tunnare kaffe"


def test_sms_abbreviations_are_expanded() -> None:
    assert normalise("fick nt hjälp av af o fk") == (
        "fick inte hjälp av arbetsförmedlingen och försäkringskassan"
    )
    assert normalise("soc e mkt bättre nu") == "socialtjänsten är mycket bättre nu"
    # only whole words: "soc" inside "social" is untouched
    assert normalise("sociala") == "sociala"


def test_emoji_map_to_sentiment_tokens_or_are_dropped() -> None:
    assert tokens("bra 👍🏽 ❤️") == ["bra", EMOJI_POS, EMOJI_POS]
    assert tokens("usch 😡 :(") == ["usch", EMOJI_NEG, EMOJI_NEG]
    assert tokens("klart :)") == ["klart", EMOJI_POS]
    assert normalise("bra 👍 🚌", emoji="drop") == "bra"
    with pytest.raises(ValueError):
        normalise("x", emoji="keep")


def test_placeholders_never_become_tokens() -> None:
    assert tokens("Ring [NAMN] på [TELEFON]") == ["ring", "på"]


def test_tokenise_keeps_swedish_letters_and_splits_on_digits_and_punctuation() -> None:
    assert tokens("Väntade 5 veckor, på SFI-beslut!") == ["väntade", "veckor", "på", "sfi", "beslut"]
    assert tokens("Åsa är ödmjuk") == ["åsa", "är", "ödmjuk"]


def test_stopwords_keep_negations() -> None:
    for neg in ("inte", "aldrig", "ingen", "inget", "inga", "ej"):
        assert neg not in STOPWORDS
    assert {"och", "det", "att", "jag"} <= STOPWORDS
    assert stems("jag fick inte hjälp") == ["fick", "inte", "hjälp"]
    assert stems("ingen ringde, aldrig") == ["ingen", "ring", "aldrig"]


def test_definite_et_and_an_share_a_stem_with_the_base_form() -> None:
    pairs = [
        ("stödet", "stöd"),
        ("samarbetet", "samarbete"),
        ("jobbet", "jobb"),
        ("beslutet", "beslut"),
        ("försörjningsstödet", "försörjningsstöd"),
        ("hälsan", "hälsa"),
        ("ansökan", "ansöka"),
        ("ekonomin", "ekonomi"),
        ("kvinnan", "kvinna"),
        ("paketet", "paket"),
        ("kvaliteten", "kvalitet"),
    ]
    for inflected, base in pairs:
        assert stem(inflected) == stem(base), (inflected, base)


def test_negation_forms_collapse_but_stay_whole() -> None:
    assert stem("inget") == stem("inga") == stem("ingen") == "ingen"
    assert stem("ej") == "inte"


def test_stem_is_cached() -> None:
    stem.cache_clear()
    stem("handläggaren")
    stem("handläggaren")
    info = stem.cache_info()
    assert info.hits == 1 and info.misses == 1


def test_compound_head() -> None:
    assert compound_head("arbetsförmedlingen") == "förmedlingen"
    assert compound_head("försörjningsstödet") == "stödet"
    assert compound_head("jobbcoachen") == "coachen"
    assert compound_head("stödet") is None  # not a compound of itself
    assert compound_head("plats") is None


def test_analyse_adds_compound_heads_and_intensifier_bases() -> None:
    feats = analyse("Försörjningsstödet var jättebra")
    assert stem("stöd") in feats and "försörjningsstöd" in feats
    assert stem("bra") in feats


def test_analyse_is_picklable_and_works_in_sklearn() -> None:
    fn = pickle.loads(pickle.dumps(analyse))
    assert fn is text.analyse
    vec = TfidfVectorizer(analyzer=analyse)
    x = vec.fit_transform(["stödet räckte inte", "stöd från kommunen"])
    assert x.shape[0] == 2
    assert "stöd" in vec.vocabulary_ and "inte" in vec.vocabulary_
    assert pickle.loads(pickle.dumps(vec)).transform(["stödet"]).nnz == 1


_SMS_PARTS = [
    "mkt", "mkttt", "o", "å", "e", "nt", "sfi:n", "pga", "bra", "jaaa", "!!", "?", ".", ",",
    ":", "Tx", "MKT", "soc", "sociala", "Ok", "tack", "ss", "aaa", "mkt.", "bl", "iaf", "ä", "-",
]  # fmt: skip


def _normalise_by_whole_text_scans(s: str, abbreviations: bool = True) -> str:
    """The rules of ``normalise`` after casefolding, applied to the whole text (no chunk cache)."""
    s = text._REPEATED_LETTERS.sub(r"\1", s.casefold())
    s = text._REPEATED_PUNCT.sub(r"\1", s)
    if abbreviations:
        s = text._ABBREV_RE.sub(lambda m: text.SMS_ABBREVIATIONS[m.group(1)], s)
    return " ".join(s.split())


@given(
    st.lists(st.sampled_from(_SMS_PARTS), max_size=12).map(
        lambda parts: "".join(p + (" " if i % 3 else "") for i, p in enumerate(parts))
    ),
    st.booleans(),
)
@settings(max_examples=400, deadline=None)
def test_normalise_per_chunk_lookups_equal_whole_text_scans(s: str, abbreviations: bool) -> None:
    assert normalise(s, abbreviations=abbreviations) == _normalise_by_whole_text_scans(s, abbreviations)
