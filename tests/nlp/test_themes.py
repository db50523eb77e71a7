"""Theme assignment: training, manager labels, persistence without pickles, the fast scorer."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from nlp.codebook import load_codebook
from nlp.dataset import LabelledAnswer, load_dev
from nlp.themes import Model, load_current, load_model, load_or_train, save_current, train, train_default


@pytest.fixture(scope="module")
def model() -> Model:
    return train_default()


def test_clear_answers_get_their_theme_with_evidence_and_versions(model: Model) -> None:
    cases = {
        "Handläggaren lyssnade inte och var otrevlig": "bemotande",
        "Praktikplatsen ledde till en anställning": "stod_till_arbete",
        "Försörjningsstödet räckte inte till hyran": "ekonomisk_trygghet",
        "Jag mådde psykiskt dåligt och orkade inte": "halsa",
    }
    for text, key in cases.items():
        a = model.assign(text)
        assert key in a.themes, (text, a.themes, a.scores)
        assert a.evidence[key], a
        assert a.model_version == model.version and a.model_version.startswith("m-")
        assert a.codebook_version == load_codebook().version
        assert 0.0 <= a.scores[key] <= 1.0


def test_empty_or_contentless_answers_are_annat(model: Model) -> None:
    for text in ("", "nej", "?"):
        a = model.assign(text)
        assert a.themes == ("annat",) and a.evidence == {}


def test_assign_many_equals_assign(model: Model) -> None:
    texts = [a.text for a in load_dev()[:40]] + ["", "bra"]
    batch = model.assign_many(texts)
    for text, got in zip(texts, batch, strict=True):
        one = model.assign(text)
        assert got.themes == one.themes
        assert all(abs(got.scores[k] - one.scores[k]) < 1e-6 for k in model.keys)
        assert got.evidence == one.evidence


def test_save_load_round_trip_has_no_pickles(model: Model, tmp_path) -> None:
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays.npz", "manifest.json"]
    with np.load(tmp_path / "arrays.npz", allow_pickle=False) as z:  # would raise on object arrays
        assert {"word_terms", "word_idf", "coef", "intercept", "thresholds"} <= set(z.files)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["model_version"] == model.version and manifest["stemmer"]
    loaded = load_model(tmp_path)
    text = "Jag skickades runt mellan Arbetsförmedlingen och kommunen"
    assert loaded.assign(text).scores == model.assign(text).scores
    assert pickle.loads(pickle.dumps(loaded)).assign(text).themes == loaded.assign(text).themes


def test_model_version_is_deterministic(model: Model) -> None:
    assert train_default().version == model.version


def test_manager_labels_teach_the_model_and_win_over_dev_labels() -> None:
    dev = load_dev()
    novel = "blåklocka"  # a word the dev data and seeds never saw
    manager = [
        {"id": f"m{i}", "text": f"{novel} {w}", "themes": ["delaktighet"]}
        for i, w in enumerate(
            ["igen", "hela tiden", "varje vecka", "på mötet", "i planen", "nu", "alltid", "förstås"]
        )
    ]
    base = train(dev)
    taught = train(dev, manager_labels=manager)
    assert taught.version != base.version
    assert taught.manifest["label_counts"]["delaktighet"]["manager"] == 8
    text = f"det var {novel} igen"
    assert taught.assign(text).scores["delaktighet"] > base.assign(text).scores["delaktighet"]
    assert "delaktighet" in taught.assign(text).themes
    # same id: the manager's label replaces the dev label
    target = dev[0]
    relabel = [{"id": target.id, "themes": ["annat"]}]
    relabelled = train(dev, manager_labels=relabel)
    assert relabelled.manifest["label_counts"]["annat"]["manager"] == 1


def test_new_theme_with_few_labels_is_scored_from_its_seeds() -> None:
    cb = load_codebook().apply(
        {
            "kind": "add",
            "payload": {"key": "sprak_och_tolk", "label_sv": "Språk och tolk", "seed_terms": ["tolk*"]},
        }
    )
    m = train(load_dev(), cb)
    a = m.assign("Jag fick ingen tolk på mötet")
    assert "sprak_och_tolk" in a.themes and a.evidence["sprak_och_tolk"] == ["tolk"]
    assert a.codebook_version == cb.version


def test_self_training_uses_unlabelled_answers() -> None:
    dev = load_dev()
    unlabelled = ["praktiken gav mig jobb", "coachen hjälpte med cv", "fick anställning efter praktik"] * 5
    m = train(dev, unlabelled=unlabelled, self_training=True)
    assert m.manifest["self_training"] is True
    assert m.manifest["label_counts"]["stod_till_arbete"]["pseudo"] > 0


def test_current_model_directory(tmp_path) -> None:
    assert load_current(tmp_path) is None
    m = load_or_train(tmp_path)
    assert (tmp_path / "current.json").exists() and (tmp_path / m.version / "manifest.json").exists()
    assert load_current(tmp_path).version == m.version
    save_current(train([LabelledAnswer("x", "praktik", ("stod_till_arbete",)), *load_dev()]), tmp_path)
    assert load_current(tmp_path).version != m.version


def test_assign_iter_streams_the_same_results(model: Model) -> None:
    texts = [a.text for a in load_dev()[:30]]
    it = model.assign_iter(texts)
    assert not isinstance(it, list)
    assert [a.themes for a in it] == [a.themes for a in model.assign_many(texts)]


def test_parallel_workers_give_the_same_results_in_order(model: Model, monkeypatch) -> None:
    import nlp.themes

    monkeypatch.setattr(nlp.themes, "_PARALLEL_BATCH", 7)  # several chunks per worker
    texts = [a.text for a in load_dev()[:40]] + ["ring Anna på 070-123 45 67", "", "Nej."]
    serial = [a.to_dict() | {"text": a.text_redacted} for a in model.assign_iter(texts)]
    done: list[int] = []
    parallel = [
        a.to_dict() | {"text": a.text_redacted} for a in model.assign_iter(texts, done.append, workers=2)
    ]
    assert parallel == serial and sum(done) == len(texts)
    assert "[TELEFON]" in parallel[-3]["text"] and "Anna" not in parallel[-3]["text"]
    assert list(model.triage_iter(texts, workers=2)) == list(model.triage_iter(texts))
    assert [list(t[1]) for t in model.triage_iter(texts)] == [a["themes"] for a in serial]
    assert [t[2] for t in model.triage_iter(texts)] == [
        max((a["scores"][k] for k in a["themes"] if k != "annat"), default=0.0) for a in serial
    ]


def test_each_theme_mention_gets_the_polarity_of_its_clause(model: Model, monkeypatch) -> None:
    def clauses(text: str) -> list[tuple[str, str]]:
        return [("Bra bemötande", "pos"), ("men det tog evigheter att få ett beslut", "neg")]

    monkeypatch.setattr(model, "_clauses", clauses)
    monkeypatch.setattr(model, "_sent", lambda text: "neu")
    a = model.assign("Bra bemötande men det tog evigheter att få ett beslut")
    assert {"bemotande", "handlaggning"} <= set(a.themes), a
    assert a.theme_sentiments["bemotande"] == "pos"
    assert a.theme_sentiments["handlaggning"] == "neg"
    assert a.sentiment == "neu"


def test_label_iter_equals_the_themes_and_sentiment_of_assign_iter(model: Model, monkeypatch) -> None:
    import nlp.themes
    from benchmarks.nlp_corpus import generate

    monkeypatch.setattr(nlp.themes, "_PARALLEL_BATCH", 50)
    texts = [a.text for a in load_dev()] + generate(600, seed=5) + ["ring Anna på 070-123 45 67", "", "😞"]
    full = [(a.themes, a.sentiment) for a in model.assign_iter(texts)]
    assert len({s for _, s in full}) >= 3 and len({t for t, _ in full}) > 20  # a varied sample
    done: list[int] = []
    assert list(model.label_iter(texts, done.append)) == full and sum(done) == len(texts)
    assert list(model.label_iter(texts, workers=2)) == full


def test_label_iter_honours_a_sentiment_hook(model: Model, monkeypatch) -> None:
    monkeypatch.setattr(model, "_sent", lambda text: "neu")
    assert [s for _, s in model.label_iter(["Jättebra bemötande!", "Hemskt dåligt"])] == ["neu", "neu"]
