"""Evaluation of theme assignment: per-theme P/R/F1, micro/macro F1 with bootstrap CIs, baselines.

Why baselines in the same run: a macro-F1 alone means little on ~200 answers (the 95% CI is
about ±0.05). Every report therefore scores, on the same folds, the seed lexicon alone and a plain
TF-IDF + logistic regression, so a model only counts as better when it beats them on the same
resamples (paired bootstrap).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np

from nlp.analysis import analyse
from nlp.codebook import FALLBACK_KEY, Codebook, load_codebook
from nlp.dataset import LabelledAnswer, combine_labels
from nlp.seeds import SeedLexicon

LabelSets = Sequence[Sequence[str]]
TOO_FEW = 10


@dataclass
class ThemeScores:
    key: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    name: str
    per_theme: list[ThemeScores]
    macro_f1: float
    micro_f1: float
    macro_ci: tuple[float, float]
    micro_ci: tuple[float, float]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "macro_f1": round(self.macro_f1, 4),
            "macro_f1_ci95": [round(v, 4) for v in self.macro_ci],
            "micro_f1": round(self.micro_f1, 4),
            "micro_f1_ci95": [round(v, 4) for v in self.micro_ci],
            "per_theme": [
                {
                    "key": s.key,
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "support": s.support,
                    "too_few_to_judge": s.support < TOO_FEW,
                }
                for s in self.per_theme
            ],
            **self.extra,
        }


def _matrix(labels: LabelSets, keys: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(labels), len(keys)), dtype=bool)
    index = {k: i for i, k in enumerate(keys)}
    for r, ls in enumerate(labels):
        ls = [x for x in ls if x in index] or [FALLBACK_KEY]
        for x in ls:
            if x in index:
                out[r, index[x]] = True
    return out


def _f1s(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    tp = (t & p).sum(axis=0).astype(float)
    fp = (~t & p).sum(axis=0).astype(float)
    fn = (t & ~p).sum(axis=0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        rec = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    denom = 2 * tp.sum() + fp.sum() + fn.sum()
    micro = float(2 * tp.sum() / denom) if denom else 0.0
    return prec, rec, f1, micro


def score(
    name: str,
    truth: LabelSets,
    pred: LabelSets,
    keys: Sequence[str],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> Report:
    """Per-theme and averaged scores; macro-F1 averages the themes that occur in ``truth``."""
    t, p = _matrix(truth, keys), _matrix(pred, keys)
    prec, rec, f1, micro = _f1s(t, p)
    support = t.sum(axis=0)
    present = support > 0
    macro = float(f1[present].mean()) if present.any() else 0.0
    rng = np.random.default_rng(seed)
    macros, micros = [], []
    n = len(truth)
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        _, _, bf1, bmicro = _f1s(t[idx], p[idx])
        mask = t[idx].sum(axis=0) > 0
        macros.append(float(bf1[mask].mean()) if mask.any() else 0.0)
        micros.append(bmicro)
    per = [
        ThemeScores(k, float(prec[i]), float(rec[i]), float(f1[i]), int(support[i]))
        for i, k in enumerate(keys)
    ]
    return Report(
        name=name,
        per_theme=per,
        macro_f1=macro,
        micro_f1=micro,
        macro_ci=_ci(macros, macro),
        micro_ci=_ci(micros, micro),
    )


def _ci(values: list[float], point: float) -> tuple[float, float]:
    if not values:
        return point, point
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def paired_delta(
    truth: LabelSets, a: LabelSets, b: LabelSets, keys: Sequence[str], n_boot: int = 1000, seed: int = 0
) -> tuple[float, tuple[float, float]]:
    """Macro-F1(a) − macro-F1(b) with a paired bootstrap 95% CI (same resamples for both)."""
    t, pa, pb = _matrix(truth, keys), _matrix(a, keys), _matrix(b, keys)
    rng = np.random.default_rng(seed)

    def macro(tt: np.ndarray, pp: np.ndarray) -> float:
        f1 = _f1s(tt, pp)[2]
        m = tt.sum(axis=0) > 0
        return float(f1[m].mean()) if m.any() else 0.0

    point = macro(t, pa) - macro(t, pb)
    deltas = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(t), len(t))
        deltas.append(macro(t[idx], pa[idx]) - macro(t[idx], pb[idx]))
    return point, _ci(deltas, point)


# ---------------------------------------------------------------------- predictors
def seed_predict(codebook: Codebook, texts: Sequence[str]) -> list[tuple[str, ...]]:
    """Baseline: every theme with at least one seed-lexicon hit, else annat."""
    keys = codebook.model_keys
    lex = SeedLexicon.from_codebook(codebook, keys)
    out = []
    for text in texts:
        counts, _ = lex.match(analyse(text))
        out.append(tuple(keys[i] for i in np.flatnonzero(counts)) or (FALLBACK_KEY,))
    return out


def plain_tfidf_lr(
    train: Sequence[LabelledAnswer], keys: Sequence[str]
) -> Callable[[Sequence[str]], list[tuple[str, ...]]]:
    """Baseline: scikit-learn TF-IDF of raw words + one-vs-rest LR at threshold 0.5."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(sublinear_tf=True)
    x = vec.fit_transform([a.text for a in train])
    models = {}
    for k in keys:
        y = np.array([k in a.themes for a in train], dtype=int)
        if 0 < y.sum() < len(y):
            models[k] = LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear").fit(x, y)

    def predict(texts: Sequence[str]) -> list[tuple[str, ...]]:
        xt = vec.transform(list(texts))
        probs = {k: m.predict_proba(xt)[:, 1] for k, m in models.items()}
        out = []
        for i in range(len(texts)):
            out.append(tuple(k for k in keys if k in probs and probs[k][i] >= 0.5) or (FALLBACK_KEY,))
        return out

    return predict


def _folds(n: int, k: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def cross_validate(
    answers: Sequence[LabelledAnswer],
    codebook: Codebook | None = None,
    *,
    folds: int = 5,
    repeats: int = 1,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, list[list[tuple[str, ...]]]]:
    """Out-of-fold predictions of the candidate and both baselines, one list per repeat."""
    from nlp.themes import train

    codebook = codebook or load_codebook()
    answers = combine_labels(answers, (), codebook)
    keys = codebook.model_keys
    texts = [a.text for a in answers]
    seeds_only = seed_predict(codebook, texts)
    result: dict[str, list[list[tuple[str, ...]]]] = {"model": [], "tfidf_lr": [], "seed_lexicon": []}
    for r in range(repeats):
        model_pred: list[tuple[str, ...]] = [()] * len(answers)
        lr_pred: list[tuple[str, ...]] = [()] * len(answers)
        for test in _folds(len(answers), folds, seed + r):
            test_set = set(test.tolist())
            tr = [a for i, a in enumerate(answers) if i not in test_set]
            model = train(tr, codebook, seed=seed + r)
            test_texts = [texts[i] for i in test]
            for i, themes in zip(test, model.predict_labels(test_texts), strict=True):
                model_pred[i] = themes
            for i, themes in zip(test, plain_tfidf_lr(tr, keys)(test_texts), strict=True):
                lr_pred[i] = themes
            if progress:
                progress(1)
        result["model"].append(model_pred)
        result["tfidf_lr"].append(lr_pred)
        result["seed_lexicon"].append(seeds_only)
    return result


def evaluate_cv(
    answers: Sequence[LabelledAnswer],
    codebook: Codebook | None = None,
    *,
    folds: int = 5,
    repeats: int = 2,
    seed: int = 0,
    n_boot: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Cross-validated reports for model and baselines (first repeat for CIs; mean over repeats)."""
    codebook = codebook or load_codebook()
    answers = combine_labels(answers, (), codebook)
    keys = codebook.keys
    truth = [a.themes for a in answers]
    preds = cross_validate(answers, codebook, folds=folds, repeats=repeats, seed=seed, progress=progress)
    reports = {}
    for name, runs in preds.items():
        rep = score(name, truth, runs[0], keys, n_boot=n_boot, seed=seed)
        rep.extra["macro_f1_mean_over_repeats"] = round(
            float(np.mean([score(name, truth, run, keys, n_boot=0).macro_f1 for run in runs])), 4
        )
        reports[name] = rep
    deltas = {
        f"model_minus_{b}": paired_delta(truth, preds["model"][0], preds[b][0], keys, n_boot, seed)
        for b in ("tfidf_lr", "seed_lexicon")
    }
    return {"reports": reports, "deltas": deltas, "n": len(answers), "folds": folds, "repeats": repeats}


# ---------------------------------------------------------------------- sentiment
_SENTIMENT_GOLD = {"mixed": "mix", "blandad": "mix", "negative": "neg", "positive": "pos", "neutral": "neu"}


class SentimentAccuracy(TypedDict):
    n: int
    accuracy: float
    accuracy_ci95: tuple[float, float]
    majority_label: str
    majority_accuracy: float
    polar_accuracy: float


def sentiment_accuracy(
    rows: Sequence[tuple[str, str]], n_boot: int = 1000, seed: int = 0
) -> SentimentAccuracy:
    """Accuracy of ``nlp.sentiment`` on ``(text, gold label)`` pairs vs the majority baseline.

    Gold labels ``mixed``/``pos``/``neg``/``neu`` (long forms accepted). Reports 4-class accuracy
    with a bootstrap 95% CI, the majority-class baseline in the same run, and accuracy on the
    answers whose gold label is clearly ``pos`` or ``neg``.
    """
    from collections import Counter

    from nlp.sentiment import sentiment

    gold = [_SENTIMENT_GOLD.get(g, g) for _, g in rows]
    pred = [sentiment(t).label for t, _ in rows]
    hit = np.array([p == g for p, g in zip(pred, gold, strict=True)], dtype=float)
    majority_label, majority_n = Counter(gold).most_common(1)[0]
    rng = np.random.default_rng(seed)
    boots = [float(hit[rng.integers(0, len(hit), len(hit))].mean()) for _ in range(n_boot)]
    polar = [p == g for p, g in zip(pred, gold, strict=True) if g in ("pos", "neg")]
    return {
        "n": len(rows),
        "accuracy": float(hit.mean()),
        "accuracy_ci95": _ci(boots, float(hit.mean())),
        "majority_label": majority_label,
        "majority_accuracy": majority_n / len(rows),
        "polar_accuracy": sum(polar) / len(polar) if polar else float("nan"),
    }
