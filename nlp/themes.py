"""Multi-label theme assignment: seed lexicon + one-vs-rest linear model, scored by plain arrays.

Why this shape (design/themes.md §6): the themes are known up front, so a supervised model that
starts from a seed lexicon beats unsupervised topics; scikit-learn *trains*, but assigning uses
only the persisted arrays (vocabulary, idf, coefficients, calibration, thresholds) through a
hand-rolled sparse dot product, which is ~75× faster than scikit-learn's per-call path and needs
no pickles. Per-theme thresholds are tuned on out-of-fold, Platt-calibrated scores, so a score of
0.7 means roughly the same thing for a rare theme as for a common one.
"""

from __future__ import annotations

import gc
import hashlib
import json
import pickle
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from nlp import analysis
from nlp import sentiment as _sentiment
from nlp.analysis import Token, analyse_normalised, analyse_words
from nlp.codebook import FALLBACK_KEY, Codebook, load_codebook
from nlp.dataset import LabelledAnswer, combine_labels, labels_digest, load_dev
from nlp.features import Vocabulary
from nlp.redact import redact
from nlp.seeds import SeedLexicon
from nlp.text import normalise, tokenise
from nlp.training import FitResult, fit_arrays

FORMAT = 1
MAX_EVIDENCE = 5
_BATCH = 20_000


def _label(value: Any) -> str | None:
    """Polarity from whatever a sentiment hook returns (a label, an object with .label, a tuple)."""
    if value is None:
        return None
    if isinstance(value, str):
        v = value
    elif isinstance(value, tuple | list) and value:
        return _label(value[-1]) if not isinstance(value[-1], int | float) else _label(value[0])
    else:
        v = getattr(value, "label", None) or getattr(value, "polarity", None) or str(value)
    v = str(v).lower()
    return {"negative": "neg", "positive": "pos", "neutral": "neu", "mixed": "mix"}.get(v, v[:3])


@dataclass(frozen=True)
class Assignment:
    """Themes for one answer, with the evidence a manager needs to trust or correct them."""

    themes: tuple[str, ...]
    scores: dict[str, float]
    evidence: dict[str, list[str]]
    sentiment: str
    theme_sentiments: dict[str, str]
    model_version: str
    codebook_version: str
    text_redacted: str
    source: str = "model"

    @property
    def top_score(self) -> float:
        return max((self.scores.get(k, 0.0) for k in self.themes if k != FALLBACK_KEY), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "themes": list(self.themes),
            "scores": self.scores,
            "evidence": self.evidence,
            "sentiment": self.sentiment,
            "theme_sentiments": self.theme_sentiments,
            "model_version": self.model_version,
            "codebook_version": self.codebook_version,
        }


@dataclass
class Model:
    codebook: Codebook
    keys: list[str]
    vocab: Vocabulary
    coef: np.ndarray  # (n_features, n_keys)
    intercept: np.ndarray
    cal_a: np.ndarray
    cal_s: np.ndarray  # weight of the theme's own log1p(seed hits) in the calibrated score
    cal_b: np.ndarray
    thresholds: np.ndarray
    seed_only: np.ndarray  # bool per key: too few labels, scored from seed hits alone
    manifest: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.seeds = SeedLexicon.from_codebook(self.codebook, self.keys)
        self._codebook_version = self.codebook.version
        self._redact = redact
        # optional sentiment hooks (redacted text -> label / clauses); None: nlp.sentiment on the
        # already normalised text
        self._sent: Callable[[str], Any] | None = None
        self._clauses: Callable[[str], Any] | None = None
        self._prepare()

    def _prepare(self) -> None:
        """Plain-Python copies of the small arrays the per-answer code reads element by element
        (indexing a numpy array from Python costs more than the arithmetic)."""
        self._thresholds = self.thresholds.astype(np.float64).tolist()
        self._n_word = len(self.vocab.word_terms)
        self._coef_word: list[list[float]] | None = None  # word-block coefficients per key, on first use

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for k in ("_redact", "_coef_word", "_sent", "_clauses"):
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._redact = redact
        self._sent = self._clauses = None
        self._prepare()

    @property
    def version(self) -> str:
        return str(self.manifest.get("model_version", "unsaved"))

    @property
    def codebook_version(self) -> str:
        return self._codebook_version

    # ------------------------------------------------------------------ scoring
    def _probs(self, z: np.ndarray, seed_counts: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-(self.cal_a * z + self.cal_s * np.log1p(seed_counts) + self.cal_b)))
        if self.seed_only.any():
            seed_p = 1.0 - np.power(0.5, seed_counts)
            p = np.where(self.seed_only, seed_p, p)
        return p

    def score_tokens(self, tokens: Sequence[Token]) -> tuple[np.ndarray, dict[int, list[str]], tuple]:
        counts, seed_ev = self.seeds.match(tokens)
        cols, vals = self.vocab.transform_one(tokens, counts)
        z = vals @ self.coef[cols] + self.intercept if len(cols) else self.intercept.copy()
        return self._probs(z, counts), seed_ev, (cols, vals)

    def _decide(self, probs: Sequence[float]) -> list[int]:
        """Themes over their threshold, best first (ties by theme order)."""
        th = self._thresholds
        return sorted((k for k, p in enumerate(probs) if p >= th[k]), key=lambda k: -probs[k])

    def _evidence(
        self, tokens: Sequence[Token], chosen: list[int], seed_ev: dict[int, list[str]], cols, vals
    ) -> dict[str, list[str]]:
        """Matched seed words first, then the word/bigram features that pushed the score up most."""
        out: dict[str, list[str]] = {}
        need = [k for k in chosen if len(set(seed_ev.get(k, ()))) < MAX_EVIDENCE]
        pairs: list[tuple[int, float]] = []
        if need and len(cols):
            if not isinstance(cols, list):
                cols, vals = cols.tolist(), vals.tolist()
            n_word = self._n_word  # char n-grams and seed columns are not readable
            pairs = [(c, v) for c, v in zip(cols, vals, strict=True) if c < n_word]
        coef: list[list[float]] = []  # read only when there are pairs
        if pairs:
            if self._coef_word is None:
                self._coef_word = self.coef[: self._n_word].T.astype(np.float64).tolist()
            coef = self._coef_word
        surface: dict[str, str] | None = None
        for k in chosen:
            terms = list(dict.fromkeys(seed_ev.get(k, ())))
            if pairs and k in need:
                # strongest contribution first, ties by column (so batch == single)
                ck = coef[k]
                ranked = sorted([(-(v * ck[c]), c) for c, v in pairs])[:MAX_EVIDENCE]
                for neg, c in ranked:
                    if neg >= 0 or len(terms) >= MAX_EVIDENCE:
                        break
                    if surface is None:
                        surface = {}
                        for t in tokens:
                            surface.setdefault(t.stem, t.surface)
                    stems = self.vocab.word_terms[c][2:].split(" ")
                    text = " ".join(surface.get(s, s) for s in stems)
                    if text not in terms:
                        terms.append(text)
            out[self.keys[k]] = terms[:MAX_EVIDENCE]
        return out

    def _sentiments(self, redacted: str, norm: str, themes: Sequence[str], evidence: Mapping[str, list[str]]):
        """Answer polarity and, per theme, the polarity of the clauses holding its evidence."""
        clauses: Sequence[Any] | None  # ``nlp.sentiment.Clause``s, or what a clause hook returns
        if self._sent is None and self._clauses is None:
            result = _sentiment.analyse_normalised(norm)
            overall, clauses = result.label, result.clauses
        else:
            result = self._sent(redacted) if self._sent else _sentiment.analyse_normalised(norm)
            overall = _label(result) or "neu"
            clauses = getattr(result, "clauses", None)
            if clauses is None and self._clauses is not None:
                clauses = list(self._clauses(redacted) or ())
        if not any(k != FALLBACK_KEY for k in themes):
            return overall, {k: overall for k in themes}
        per_theme = _sentiment.mention_sentiments(
            clauses or (), {k: evidence.get(k, []) for k in themes}, overall
        )
        return overall, {k: _label(v) or overall for k, v in per_theme.items()}

    def _assemble(self, redacted, norm, tokens, probs, shown, seed_ev, cols, vals) -> Assignment:
        """``probs``: one float per key; ``shown``: the same rounded to 4 decimals (stored)."""
        chosen = self._decide(probs)
        evidence = self._evidence(tokens, chosen, seed_ev, cols, vals) if chosen else {}
        keys = self.keys
        themes = tuple(keys[k] for k in chosen) or (FALLBACK_KEY,)
        scores = dict(zip(keys, shown, strict=True))
        sentiment, per_theme = self._sentiments(redacted, norm, themes, evidence)
        return Assignment(
            themes=themes,
            scores=scores,
            evidence=evidence,
            sentiment=sentiment,
            theme_sentiments=per_theme,
            model_version=self.version,
            codebook_version=self._codebook_version,
            text_redacted=redacted,
        )

    def assign(self, text: str) -> Assignment:
        """Redact, analyse and theme one answer (tens of microseconds; safe to call inline)."""
        redacted = str(self._redact(text))
        norm = normalise(redacted)
        tokens = analyse_normalised(norm)
        probs, seed_ev, (cols, vals) = self.score_tokens(tokens)
        shown = np.round(probs, 4).tolist()
        return self._assemble(redacted, norm, tokens, probs.tolist(), shown, seed_ev, cols, vals)

    def assign_many(
        self, texts: Iterable[str], progress: Callable[[int], None] | None = None
    ) -> list[Assignment]:
        """Theme a batch with one sparse matrix product per chunk (same results as ``assign``)."""
        return list(self.assign_iter(texts, progress))

    def assign_iter(
        self, texts: Iterable[str], progress: Callable[[int], None] | None = None, *, workers: int = 1
    ) -> Iterator[Assignment]:
        """Like ``assign_many`` but yields chunk by chunk, so a million answers need not fit in memory.

        ``workers > 1`` themes chunks in that many forked processes (results keep input order);
        it falls back to this process where forking is unavailable or not allowed (inside a
        daemonic pool worker, such as the app's theming pool).
        """
        yield from self._batched("assign", texts, progress, workers)

    def _parallel(self, kind: str, texts: Iterable[str], workers: int) -> Iterator[tuple[int, list[Any]]]:
        """(chunk size, results) per chunk, in input order, from ``workers`` forked processes."""
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        # the forked workers inherit the model (nothing is pickled on the way in but the texts)
        with ctx.Pool(workers, initializer=_worker_init, initargs=(self,)) as pool:
            jobs = ((kind, chunk) for chunk in _chunks(texts, _PARALLEL_BATCH))
            for n, payload in pool.imap(_worker_run, jobs):
                with _no_gc():
                    # bytes from our own forked worker, never from outside the process tree
                    out = pickle.loads(payload)  # noqa: S301
                yield n, out

    def _chunk_runner(self, kind: str) -> Callable[[Sequence[str]], list[Any]]:
        runners: dict[str, Callable[[Sequence[str]], list[Any]]] = {
            "assign": self._assign_chunk,
            "label": self._label_chunk,
            "triage": self._triage_chunk,
        }
        return runners[kind]

    def _batched(
        self, kind: str, texts: Iterable[str], progress: Callable[[int], None] | None, workers: int
    ) -> Iterator[Any]:
        """One result per answer from ``kind``'s chunk function, chunk by chunk, in this process
        or (``workers > 1`` where forking is allowed) in forked ones; progress per chunk."""
        if workers > 1 and _can_fork():
            chunks: Iterator[tuple[int, list[Any]]] = self._parallel(kind, texts, workers)
        else:
            run = self._chunk_runner(kind)
            chunks = ((len(chunk), run(chunk)) for chunk in _chunks(texts, _BATCH))
        for n, out in chunks:
            yield from out
            if progress:
                progress(n)

    def _score_chunk(self, texts: Sequence[str], evidence: bool = True):
        """Redact, normalise, analyse and score a chunk: the shared first half of batch paths
        (``evidence=False``: seed hits are counted without collecting the matched words)."""
        redact = self._redact
        redacted = [str(redact(t)) for t in texts]
        norms = [normalise(t) for t in redacted]
        docs = [analyse_normalised(t) for t in norms]
        matches, words, probs = self._score_docs(docs, evidence)
        return redacted, norms, docs, matches, words, probs

    def _score_docs(self, docs: Sequence[Sequence[Token]], evidence: bool):
        """(seed matches if ``evidence``, word block, probabilities) of analysed answers."""
        if evidence:
            match = self.seeds.match
            matches = [match(d) for d in docs]
            counts = np.array([m[0] for m in matches]).reshape(len(docs), len(self.keys))
        else:
            matches = []
            counts = self.seeds.counts_many(docs)
        words, chars, seed = self.vocab.transform_blocks(docs, counts)
        c0, c1 = self.vocab.offsets
        z = words @ self.coef[:c0] + chars @ self.coef[c0:c1] + seed @ self.coef[c1:] + self.intercept
        probs = self._probs(np.asarray(z), counts)
        # evidence reads only the word block (char n-grams and seed columns are not readable)
        return matches, words, probs

    def _assign_chunk(self, texts: Sequence[str]) -> list[Assignment]:
        with _no_gc():
            return self._assign_chunk_gc_paused(texts)

    def _assign_chunk_gc_paused(self, texts: Sequence[str]) -> list[Assignment]:
        redacted, norms, docs, matches, x, probs = self._score_chunk(texts)
        out = []
        # plain lists once per chunk: slicing them per answer is cheaper than numpy views
        indptr, indices, data = x.indptr.tolist(), x.indices.tolist(), x.data.tolist()
        assemble = self._assemble
        shown = np.round(probs, 4).tolist()
        for i, (toks, p) in enumerate(zip(docs, probs.tolist(), strict=True)):
            lo, hi = indptr[i], indptr[i + 1]
            out.append(
                assemble(redacted[i], norms[i], toks, p, shown[i], matches[i][1], indices[lo:hi], data[lo:hi])
            )
        return out

    def label_iter(
        self, texts: Iterable[str], progress: Callable[[int], None] | None = None, *, workers: int = 1
    ) -> Iterator[tuple[tuple[str, ...], str]]:
        """(themes, sentiment) per answer, equal to ``assign_iter``'s ``themes`` and ``sentiment``.

        For `feedback themes assign` without ``--details``, which writes nothing else: scores,
        evidence, per-theme sentiment and the redacted text are not built (a quarter of the
        batch cost). Redaction still runs first, so the themes are those of the redacted text.
        """
        yield from self._batched("label", texts, progress, workers)

    def _label_chunk(self, texts: Sequence[str]) -> list[tuple[tuple[str, ...], str]]:
        if self._sent is not None or self._clauses is not None:  # hooks see the full path
            return [(a.themes, a.sentiment) for a in self._assign_chunk(texts)]
        keys, decide, label, redact = self.keys, self._decide, _sentiment.label_normalised, self._redact
        out = []
        with _no_gc():
            norms = [normalise(str(redact(t))) for t in texts]
            words = [tokenise(n) for n in norms]  # shared by themes and sentiment
            _, _, probs = self._score_docs([analyse_words(w) for w in words], evidence=False)
            for norm, ws, p in zip(norms, words, probs.tolist(), strict=True):
                themes = tuple(keys[k] for k in decide(p)) or (FALLBACK_KEY,)
                out.append((themes, label(norm, ws)))
        return out

    def triage_iter(
        self, texts: Iterable[str], *, workers: int = 1
    ) -> Iterator[tuple[str, tuple[str, ...], float]]:
        """(redacted text, themes, top score) per answer: ``assign_iter`` without evidence and
        sentiment, for callers that only need to know what the model covers (discovery)."""
        yield from self._batched("triage", texts, None, workers)

    def _triage_chunk(self, texts: Sequence[str]) -> list[tuple[str, tuple[str, ...], float]]:
        keys = self.keys
        out = []
        with _no_gc():
            redacted, _, _, _, _, probs = self._score_chunk(texts, evidence=False)
            for text, p in zip(redacted, probs.tolist(), strict=True):
                chosen = self._decide(p)
                themes = tuple(keys[k] for k in chosen) or (FALLBACK_KEY,)
                out.append((text, themes, round(max((p[k] for k in chosen), default=0.0), 4)))
        return out

    def predict_labels(self, texts: Iterable[str]) -> list[tuple[str, ...]]:
        return [a.themes for a in self.assign_many(texts)]

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> Path:
        """Write manifest.json + arrays.npz (no pickles); returns the directory."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        arrays = {
            "word_terms": np.array(self.vocab.word_terms, dtype=str),
            "word_idf": self.vocab.word_idf,
            "char_terms": np.array(self.vocab.char_terms, dtype=str),
            "char_idf": self.vocab.char_idf,
            "coef": self.coef.astype(np.float64),
            "intercept": self.intercept,
            "cal_a": self.cal_a,
            "cal_s": self.cal_s,
            "cal_b": self.cal_b,
            "thresholds": self.thresholds,
            "seed_only": self.seed_only,
        }
        # load() refuses pickles, so an object array must fail here, not when the model is loaded
        np.savez_compressed(d / "arrays.npz", allow_pickle=False, **arrays)
        manifest = dict(self.manifest)
        manifest.update(
            format=FORMAT,
            keys=self.keys,
            codebook=self.codebook.to_dict(),
            codebook_version=self.codebook.version,
            char_weight=self.vocab.char_weight,
            stemmer=analysis.STEMMER_ID,
        )
        (d / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", "utf-8")
        return d


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a chunk builds its objects.

    A chunk allocates a few hundred thousand small containers (tokens, dicts, lists), none of
    them in reference cycles; with the collector on, its repeated generation scans cost about a
    quarter of batch time. The previous state is restored before control returns to the caller.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # hand the chunk's survivors straight to the oldest generation (freeze + unfreeze moves
        # them without a scan): re-enabled, the collector would first walk all of them in its
        # youngest generation. Cyclic garbage among them is still found by the next full pass.
        gc.freeze()
        gc.unfreeze()
        if was:
            gc.enable()


_PARALLEL_BATCH = 4_000  # small chunks keep the workers evenly loaded
_worker_model: Model | None = None


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _worker_init(model: Model) -> None:
    global _worker_model
    _worker_model = model


def _worker_run(job: tuple[str, list[str]]) -> tuple[int, bytes]:
    """One chunk in a worker process; the result goes back pickled in one piece (IPC between
    our own processes only; models are never pickled to disk)."""
    kind, texts = job
    assert _worker_model is not None
    out = _worker_model._chunk_runner(kind)(texts)
    with _no_gc():
        return len(texts), pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _model_version(fit: FitResult, codebook: Codebook, keys: Sequence[str]) -> str:
    h = hashlib.sha256()
    for arr in (fit.coef, fit.intercept, fit.cal_a, fit.cal_s, fit.cal_b, fit.thresholds):
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    h.update("\n".join(fit.vocab.word_terms).encode())
    h.update(codebook.version.encode())
    h.update(",".join(keys).encode())
    return "m-" + h.hexdigest()[:12]


def load_model(directory: str | Path) -> Model:
    d = Path(directory)
    manifest = json.loads((d / "manifest.json").read_text("utf-8"))
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{d}: unsupported model format {manifest.get('format')!r}")
    if manifest.get("stemmer") != analysis.STEMMER_ID:
        raise ValueError(
            f"{d}: trained with stemmer {manifest.get('stemmer')!r}, have {analysis.STEMMER_ID!r}"
        )
    with np.load(d / "arrays.npz", allow_pickle=False) as z:
        a = {k: z[k] for k in z.files}
    keys = list(manifest["keys"])
    vocab = Vocabulary(
        word_terms=a["word_terms"].tolist(),
        word_idf=a["word_idf"],
        char_terms=a["char_terms"].tolist(),
        char_idf=a["char_idf"],
        n_seed=len(keys),
        char_weight=float(manifest["char_weight"]),
    )
    return Model(
        codebook=Codebook.from_dict(manifest["codebook"]),
        keys=keys,
        vocab=vocab,
        coef=a["coef"],
        intercept=a["intercept"],
        cal_a=a["cal_a"],
        cal_s=a["cal_s"],
        cal_b=a["cal_b"],
        thresholds=a["thresholds"],
        seed_only=a["seed_only"].astype(bool),
        manifest=manifest,
    )


def train(
    labelled: Iterable[LabelledAnswer | Mapping[str, Any]],
    codebook: Codebook | None = None,
    *,
    manager_labels: Iterable[LabelledAnswer | Mapping[str, Any]] = (),
    unlabelled: Sequence[str] = (),
    self_training: bool = False,
    seed: int = 0,
    clock: Callable[[], datetime] | None = None,
) -> Model:
    """Train a model; manager labels replace dev labels for the same id.

    ``unlabelled`` answers feed optional self-training: confident predictions are added as
    down-weighted pseudo-labels and the model is refitted once (thresholds stay those tuned on
    human labels).
    """
    codebook = codebook or load_codebook()
    manager_labels = list(manager_labels)
    answers = combine_labels(labelled, manager_labels, codebook)
    keys = codebook.model_keys
    seeds = SeedLexicon.from_codebook(codebook, keys)
    fit = fit_arrays(answers, keys, seeds, unlabelled=unlabelled, self_training=self_training, seed=seed)
    now = (clock or (lambda: datetime.now(UTC)))()
    counts = {k: {"dev": 0, "manager": 0, "pseudo": fit.n_pseudo.get(k, 0)} for k in [*keys, FALLBACK_KEY]}
    for a in answers:
        for t in a.themes:
            if t in counts:
                counts[t]["manager" if a.source == "manager" else "dev"] += 1
    manifest = {
        "model_version": _model_version(fit, codebook, keys),
        "created_at": now.isoformat(),
        "n_train": len(answers),
        "label_counts": counts,
        "train_ids_sha256": hashlib.sha256("\n".join(sorted(a.id for a in answers)).encode()).hexdigest(),
        "thresholds": {k: round(float(t), 4) for k, t in zip(keys, fit.thresholds, strict=True)},
        "self_training": bool(self_training and len(unlabelled)),
        "manager_labels_digest": labels_digest(manager_labels),
    }
    return Model(
        codebook=codebook,
        keys=keys,
        vocab=fit.vocab,
        coef=fit.coef,
        intercept=fit.intercept,
        cal_a=fit.cal_a,
        cal_s=fit.cal_s,
        cal_b=fit.cal_b,
        thresholds=fit.thresholds,
        seed_only=fit.seed_only,
        manifest=manifest,
    )


# ---------------------------------------------------------------------- the app's model directory
CURRENT = "current.json"


def default_model_dir() -> Path:
    """Where the CLI and worker keep models when settings say nothing (relative to the cwd)."""
    return Path("var/models")


def train_default(codebook: Codebook | None = None, manager_labels: Iterable[Any] = ()) -> Model:
    """A model from the shipped dev data and codebook (first start, fresh database)."""
    return train(load_dev(), codebook, manager_labels=manager_labels)


def save_current(model: Model, model_dir: str | Path | None = None) -> Path:
    """Save under ``<model_dir>/<version>/`` and point ``current.json`` at it (atomic rename)."""
    root = Path(model_dir or default_model_dir())
    target = model.save(root / model.version)
    tmp = root / (CURRENT + ".tmp")
    tmp.write_text(json.dumps({"model_version": model.version}) + "\n", "utf-8")
    tmp.replace(root / CURRENT)
    return target


def load_current(model_dir: str | Path | None = None) -> Model | None:
    root = Path(model_dir or default_model_dir())
    try:
        version = json.loads((root / CURRENT).read_text("utf-8"))["model_version"]
        return load_model(root / version)
    except (FileNotFoundError, KeyError, ValueError):
        return None


def load_or_train(model_dir: str | Path | None = None) -> Model:
    """The current model; trains one from the shipped data first when none exists."""
    model = load_current(model_dir)
    if model is None:
        model = train_default()
        save_current(model, model_dir)
        model = load_current(model_dir) or model
    return model
