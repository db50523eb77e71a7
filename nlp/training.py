"""Fitting the theme model's arrays with scikit-learn (training only; scoring never imports it).

Why out-of-fold calibration: with a few dozen positives per theme the raw logistic scores are
over-confident on training data. We fit each theme's classifier K times, collect its decision
values on the held-out folds, fit a Platt sigmoid on those, and choose the threshold that
maximises the (window-smoothed) F1 on the calibrated held-out scores. The final classifier is then
refitted on everything; the stored calibration and threshold come from the held-out view.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from nlp.analysis import analyse
from nlp.codebook import FALLBACK_KEY
from nlp.dataset import LabelledAnswer
from nlp.features import Vocabulary
from nlp.redact import redact
from nlp.seeds import SeedLexicon

C_DEFAULT = 4.0
MIN_POSITIVES = 3
PSEUDO_CONFIDENCE = 0.9
PSEUDO_WEIGHT = 0.3
# Below 0.3 a calibrated score says "more likely not"; such thresholds only game F1 by
# predicting a hard theme almost everywhere, which generalises badly.
_GRID = np.round(np.arange(0.30, 0.801, 0.025), 3)


@dataclass
class FitResult:
    vocab: Vocabulary
    coef: np.ndarray
    intercept: np.ndarray
    cal_a: np.ndarray
    cal_s: np.ndarray
    cal_b: np.ndarray
    thresholds: np.ndarray
    seed_only: np.ndarray
    n_pseudo: dict[str, int] = field(default_factory=dict)


def _classifier(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=1000)


def best_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    """Threshold maximising F1 averaged over neighbouring grid points (robust to tiny folds)."""
    f1 = []
    for t in _GRID:
        pred = probs >= t
        tp = float(np.sum(pred & (y == 1)))
        denom = float(pred.sum() + y.sum())
        f1.append(2 * tp / denom if denom else 0.0)
    f1a = np.array(f1)
    smooth = np.convolve(np.pad(f1a, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    best = np.flatnonzero(smooth >= smooth.max() - 1e-9)
    return float(_GRID[best[np.argmin(np.abs(_GRID[best] - 0.5))]])


def _stack(decision: np.ndarray, seed_feat: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Platt scaling with the theme's own seed hits as a second input (late fusion).

    Learns, per theme, how far to trust the linear model versus the seed lexicon; both weights
    are kept non-negative so neither can flip the meaning of the other.
    """
    cal = LogisticRegression(C=10.0, solver="lbfgs")
    cal.fit(np.column_stack([decision, seed_feat]), y)
    a, s = (float(v) for v in cal.coef_[0])
    if a <= 0 or s < 0:
        a, s = max(a, 0.1), max(s, 0.0)
        b = float(np.log((y.mean() + 1e-3) / (1 - y.mean() + 1e-3)))
        return a, s, b
    return a, s, float(cal.intercept_[0])


def _fit_theme(
    x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, seed_feat: np.ndarray, c: float, folds: int, seed: int
) -> tuple[np.ndarray, float, float, float, float, float]:
    n_pos = int(y.sum())
    k = max(2, min(folds, n_pos, len(y) - n_pos))
    oof = np.zeros(len(y))
    for tr, te in StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        clf = _classifier(c).fit(x[tr], y[tr], sample_weight=w[tr])
        oof[te] = clf.decision_function(x[te])
    a, s, b = _stack(oof, seed_feat, y)
    thr = best_threshold(1.0 / (1.0 + np.exp(-(a * oof + s * seed_feat + b))), y)
    final = _classifier(c).fit(x, y, sample_weight=w)
    return final.coef_.ravel(), float(final.intercept_[0]), a, s, b, thr


def fit_arrays(
    answers: Sequence[LabelledAnswer],
    keys: Sequence[str],
    seeds: SeedLexicon,
    *,
    unlabelled: Sequence[str] = (),
    self_training: bool = False,
    c: float = C_DEFAULT,
    folds: int = 5,
    seed: int = 0,
) -> FitResult:
    docs = [analyse(redact(a.text)) for a in answers]
    extra = [analyse(redact(t)) for t in unlabelled]
    counts = seeds.counts_many(docs)
    vocab = Vocabulary.fit(docs + extra, n_seed=len(keys))
    x = vocab.transform(docs, counts)
    y_all = np.array([[1 if k in a.themes else 0 for k in keys] for a in answers], dtype=int)
    y_all = y_all.reshape(len(answers), len(keys))
    w = np.array([a.weight for a in answers], dtype=float)

    n_feat = x.shape[1]
    coef = np.zeros((n_feat, len(keys)))
    intercept = np.full(len(keys), -10.0)
    cal_a, cal_s, cal_b = np.ones(len(keys)), np.zeros(len(keys)), np.zeros(len(keys))
    seed_feat = np.log1p(counts)
    thresholds = np.full(len(keys), 0.5)
    seed_only = np.zeros(len(keys), dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        for j in range(len(keys)):
            y = y_all[:, j]
            if y.sum() < MIN_POSITIVES or y.sum() > len(y) - 2:
                seed_only[j] = True
                continue
            coef[:, j], intercept[j], cal_a[j], cal_s[j], cal_b[j], thresholds[j] = _fit_theme(
                x, y, w, seed_feat[:, j], c, folds, seed
            )

        n_pseudo: dict[str, int] = {}
        if self_training and extra:
            xe = vocab.transform(extra, seeds.counts_many(extra))
            ce = np.log1p(seeds.counts_many(extra))
            p = 1.0 / (1.0 + np.exp(-(cal_a * (np.asarray(xe @ coef) + intercept) + cal_s * ce + cal_b)))
            p[:, seed_only] = 0.0
            confident = p.max(axis=1) >= PSEUDO_CONFIDENCE
            if confident.any():
                ye = (p[confident] >= np.maximum(thresholds, 0.5)).astype(int)
                x2 = sp.vstack([x, xe[confident]], format="csr")
                w2 = np.concatenate([w, np.full(int(confident.sum()), PSEUDO_WEIGHT)])
                for j in range(len(keys)):
                    n_pseudo[keys[j]] = int(ye[:, j].sum())
                    if seed_only[j]:
                        continue
                    y2 = np.concatenate([y_all[:, j], ye[:, j]])
                    clf = _classifier(c).fit(x2, y2, sample_weight=w2)
                    coef[:, j], intercept[j] = clf.coef_.ravel(), float(clf.intercept_[0])
    n_pseudo.setdefault(FALLBACK_KEY, 0)
    return FitResult(vocab, coef, intercept, cal_a, cal_s, cal_b, thresholds, seed_only, n_pseudo)
