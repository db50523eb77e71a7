"""nlp.sentiment: negation, contrast, intensifiers, SMS forms, per-mention polarity, accuracy."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from nlp import sentiment as S
from nlp.dataset import load_dev

HELDOUT = Path(__file__).parent / "data" / "sentiment_heldout.jsonl"
_GOLD = {"mixed": "mix", "neg": "neg", "pos": "pos", "neu": "neu"}


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("bra", "pos"),
        ("inte bra", "neg"),
        ("Det var inte dåligt", "pos"),
        ("aldrig fått hjälp", "neg"),
        ("Fick inget svar", "neg"),
        ("Hon lyssnade inte på mig", "neg"),
        ("Det fungerade inte bra", "neg"),
        ("Jag förstod inte varför", "neg"),
        ("inga problem", "pos"),
        ("ingen ringde tillbaka", "neg"),
        ("utan hjälp", "neg"),
        ("Inte bara bra utan fantastiskt", "pos"),
        ("Jag kände mig som ett nummer", "neg"),
    ],
)
def test_negation(text: str, label: str) -> None:
    assert S.sentiment(text).label == label, S.sentiment(text)


def test_negation_does_not_cross_clauses() -> None:
    s = S.sentiment("Jag fick inte jobbet. Men handläggaren var trevlig")
    assert [c.label for c in s.clauses] == ["neg", "pos"]


def test_contrast_splits_clauses_and_the_part_after_men_weighs_more() -> None:
    s = S.sentiment("bra bemötande men lång väntan")
    assert [c.label for c in s.clauses] == ["pos", "neg"]
    assert s.clauses[1].contrast
    assert s.label == "mix"
    weak = S.sentiment("ganska bra men väldigt lång väntan på beslutet")
    assert weak.score < 0


def test_intensifiers_and_downtoners_scale() -> None:
    plain, strong, weak = (S.sentiment(t).score for t in ("bra", "väldigt bra", "ganska bra"))
    assert strong > plain > weak > 0
    assert S.sentiment("jättebra").score > plain  # intensifier prefix
    assert S.sentiment("skitdåligt").score < S.sentiment("dåligt").score < 0


def test_sms_forms_and_emoji() -> None:
    assert S.sentiment("mkt nöjd").score > S.sentiment("nöjd").score
    assert S.sentiment("AF svarade nt").label == "neg"  # "nt" → inte
    assert S.sentiment("😊").label == "pos"
    assert S.sentiment(":(").label == "neg"
    assert S.sentiment("braaa!!!").label == "pos"
    assert S.sentiment("tack 👍").label == "pos"


@pytest.mark.parametrize(
    "text", ["nej", "vet inte", "inget att tillägga", "Jag är sjukskriven sedan mars", ""]
)
def test_neutral_answers(text: str) -> None:
    assert S.sentiment(text).label == "neu"


def test_mention_sentiments_pick_the_clause_of_the_best_evidence() -> None:
    s = S.sentiment("Bra bemötande men det tog evigheter att få ett beslut")
    per = S.mention_sentiments(
        s.clauses,
        {"bemotande": ["bemötande"], "handlaggning": ["beslut", "tog"], "annat_tema": ["saknas här"]},
        s.label,
    )
    assert per == {"bemotande": "pos", "handlaggning": "neg", "annat_tema": s.label}


def test_mention_sentiments_accept_text_label_pairs() -> None:
    per = S.mention_sentiments([("Bra bemötande", "pos"), ("lång väntan", "neg")], {"x": ["väntan"]}, "neu")
    assert per == {"x": "neg"}


def test_lexicon_rejects_malformed_lines() -> None:
    with pytest.raises(ValueError, match="KIND"):
        S._parse(["Q +1: bra"])
    lex = S._parse(["P -1: problem*", "E: svar", "P +1: fick jobb"])
    assert lex.heads and "svar" in lex.words and lex.phrases


def _accuracy(rows: list[tuple[str, str]]) -> tuple[float, float]:
    gold = [_GOLD[g] for _, g in rows]
    pred = [S.sentiment(t).label for t, _ in rows]
    acc = sum(p == g for p, g in zip(pred, gold, strict=True)) / len(rows)
    majority = collections.Counter(gold).most_common(1)[0][1] / len(rows)
    return acc, majority


def test_beats_the_majority_baseline_on_dev_data() -> None:
    rows = [(a.text, a.sentiment) for a in load_dev() if a.sentiment]
    assert len(rows) > 150
    acc, majority = _accuracy(rows)
    assert acc > majority + 0.05, (acc, majority)


def test_beats_the_majority_baseline_on_the_held_out_set() -> None:
    rows = [(r["text"], r["sentiment"]) for r in map(json.loads, HELDOUT.read_text("utf-8").splitlines())]
    acc, majority = _accuracy(rows)
    assert acc > majority + 0.2, (acc, majority)


def test_model_assignment_carries_answer_and_mention_polarity() -> None:
    from nlp.themes import train_default

    a = train_default().assign("bra bemötande men lång väntan")
    assert a.theme_sentiments.get("bemotande") == "pos"
    assert a.theme_sentiments.get("handlaggning") == "neg"
    assert a.sentiment == "mix"


def test_label_normalised_is_the_label_of_the_full_analysis() -> None:
    from benchmarks.nlp_corpus import generate
    from nlp.text import normalise, tokenise

    texts = [a.text for a in load_dev()] + generate(2000, seed=11) + ["bra men sen dåligt", "fast bra", ""]
    norms = [normalise(t) for t in texts]
    labels = [S.label_normalised(n) for n in norms]
    assert labels == [S.analyse_normalised(n).label for n in norms]
    # with the words handed in (one-clause answers skip the clause split)
    assert [S.label_normalised(n, tokenise(n)) for n in norms] == labels
    assert set(labels) == {"pos", "neg", "neu", "mix"}
