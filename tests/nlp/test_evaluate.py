"""Metrics and the cross-validated comparison with baselines."""

from __future__ import annotations

import pytest

from nlp.dataset import load_dev
from nlp.evaluate import evaluate_cv, paired_delta, score

KEYS = ["a", "b", "annat"]


def test_score_per_theme_and_averages() -> None:
    truth = [("a",), ("a", "b"), ("b",), ()]
    pred = [("a",), ("a",), ("a",), ("annat",)]
    rep = score("x", truth, pred, KEYS, n_boot=200)
    per = {s.key: s for s in rep.per_theme}
    assert per["a"].precision == pytest.approx(2 / 3) and per["a"].recall == 1.0
    assert per["b"].f1 == 0.0 and per["b"].support == 2
    assert per["annat"].f1 == 1.0  # an empty truth counts as annat
    assert rep.macro_f1 == pytest.approx((0.8 + 0.0 + 1.0) / 3)
    assert rep.micro_f1 == pytest.approx(2 * 3 / (2 * 3 + 1 + 2))
    lo, hi = rep.macro_ci
    assert lo <= rep.macro_f1 <= hi


def test_paired_delta_of_identical_predictions_is_zero() -> None:
    truth = [("a",), ("b",), ("a", "b")] * 5
    d, (lo, hi) = paired_delta(truth, truth, truth, KEYS, n_boot=100)
    assert d == 0 and lo == 0 and hi == 0


def test_cross_validation_reports_model_and_baselines() -> None:
    result = evaluate_cv(load_dev(), folds=3, repeats=1, n_boot=100)
    reports = result["reports"]
    assert set(reports) == {"model", "tfidf_lr", "seed_lexicon"}
    for rep in reports.values():
        assert 0.0 < rep.macro_f1 < 1.0 and len(rep.per_theme) == 9
    # the stemmed, seeded model must beat raw-word TF-IDF + LR on the same folds
    assert reports["model"].macro_f1 > reports["tfidf_lr"].macro_f1
