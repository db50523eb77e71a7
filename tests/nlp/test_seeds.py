"""Seed lexicon matching on stems: exact, inside compounds, and phrases across stopwords."""

from __future__ import annotations

from nlp.analysis import analyse
from nlp.codebook import Codebook, Theme
from nlp.seeds import SeedLexicon


def _lex() -> SeedLexicon:
    cb = Codebook(
        (
            Theme("stod", "Stöd", seed_terms=("praktik*", "cv"), seed_phrases=("fick jobb",)),
            Theme("vanta", "Väntan", seed_terms=("vänta",), seed_phrases=("tog lång tid",)),
            Theme("annat", "Annat"),
        )
    )
    return SeedLexicon.from_codebook(cb)


def test_star_terms_match_inside_compounds_and_plain_terms_match_inflections() -> None:
    counts, ev = _lex().match(analyse("Sommarpraktiken var bra, nytt CV"))
    assert counts[0] == 2 and ev[0] == ["sommarpraktiken", "cv"]
    counts, _ = _lex().match(analyse("jag väntade och väntar"))
    assert counts[1] == 2


def test_phrases_match_with_stopwords_in_between_and_not_out_of_order() -> None:
    counts, ev = _lex().match(analyse("Det tog så himla lång tid"))
    assert counts[1] == 0  # "himla" breaks the phrase
    counts, ev = _lex().match(analyse("Det tog så lång tid"))
    assert counts[1] == 2 and ev[1] == ["tog lång tid"]
    counts, _ = _lex().match(analyse("jobb fick jag"))
    assert counts[0] == 0


def test_no_hits_for_unrelated_text() -> None:
    counts, ev = _lex().match(analyse("vädret var fint idag"))
    assert counts.sum() == 0 and ev == {}


def test_counts_without_evidence_equal_match_counts() -> None:
    from nlp.codebook import load_codebook
    from nlp.dataset import load_dev

    lex = SeedLexicon.from_codebook(load_codebook())
    docs = [analyse(a.text) for a in load_dev()]
    assert any(sum(lex.counts(d)) for d in docs)
    for d in docs:
        assert lex.counts(d) == list(lex.match(d)[0])
    assert lex.counts_many(docs).tolist() == [list(lex.match(d)[0]) for d in docs]
